"""What the nbgrader course calls (autograder/dist/nbgrader/).

Each chapter's autograder test cell ends with a hidden part:

    ### BEGIN HIDDEN TESTS
    from autograder.routes.nbgrader_route import hidden_score
    hidden_score("affine_forward")
    ### END HIDDEN TESTS

`nbgrader autograde` does not run it in a kernel. `autograde_preprocessors()` is
nbgrader's autograde pipeline with its Execute step replaced by `SandboxedGrading`,
which starts no kernel at all: it grades the files the student handed in,
submitted/<student>/<assignment>/, once per student, with the sandboxed engine of
`python -m autograder` (autograder.routes.lms_grading), and writes each test cell's
output itself: the isolation used (first line), the per-check report, and the points as the
cell's result, which nbgrader records as partial credit. So no student code runs in
nbgrader's process or in a kernel next to the answer key; it runs only in sandboxed
workers, with the engine's per-question time limit. The students' own cells (training
runs, sweeps, plots) are not executed, as in the sandboxed grader, so a 30-minute sweep
costs nothing and cannot overwrite best_model.npz.

`hidden_score(qid)` does the same from inside a running notebook (an instructor trying
the source notebook): it grades the notebook's folder through the same engine.
"""
import os
from pathlib import Path

import nbformat

from . import lms_grading

BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
# A question's autograder test cell has the nbgrader grade_id TEST_CELL_PREFIX + its id.
# nbgrader restores a locked cell's metadata from the gradebook before grading, so it is
# the release's, not the student's.
TEST_CELL_PREFIX = "test_"

_graded = {}  # (resolved folder, student) -> lms_grading.grade_submission(...) result


def graded_folder(folder, student=None, announce=print, protected=()):
    """The plain-data grading of the submission in `folder` (graded once per process).
    `protected`: what a worker must not read besides the grader (see
    lms_grading.open_route_sandbox); the course folder, for `nbgrader autograde`."""
    folder = Path(folder).resolve()
    student = student or folder.parent.name or "submission"
    if (folder, student) not in _graded:
        _graded[folder, student] = lms_grading.grade_submission(
            folder, student=student, announce=announce, protected=protected)
    return _graded[folder, student]


def cell_report(graded, qid):
    """(text, points) a test cell shows for question `qid`: the isolation line first."""
    result = graded["results"][qid]
    lines = [graded["sandbox"], lms_grading.report(result)]
    if graded["internal_errors"]:
        lines += [f"grader warning: {e}" for e in graded["internal_errors"]]
    return "\n".join(lines) + "\n", float(result["points"])


def hidden_score(qid, namespace=None, folder="."):
    """Grade the submission in `folder` (the notebook's own by default) through the
    sandboxed engine; print question `qid`'s report, return its points. `namespace` is
    accepted for old notebooks and ignored: points come from the files, never the kernel."""
    text, points = cell_report(graded_folder(folder, announce=lambda line: None), qid)
    print(text, end="")
    return points


# ----------------------------------------------------------------------------- autograde

def name_chapters(notebooks=None, **_):
    """nbgrader pre-convert hook (nbgrader_config.py sets it for `nbgrader autograde`).

    nbgrader knows a student's notebooks by file name only, so `Copy of 01_affine_layer.ipynb`
    or a renamed file would be skipped and its chapter scored 0. For every chapter that
    autograder.submissions finds under another name (fcnet.chapter_files's rules: the
    chapter id in the metadata, then the name), this adds a copy under the course's name
    next to it, with the same bytes and time, and adds it to nbgrader's list `notebooks`.
    The student's own files are left as they are.
    """
    from ..submissions import Submission, read_files

    if not notebooks:
        return
    folder = Path(notebooks[0]).parent
    submission = read_files(Submission(folder.parent.name, folder))
    for name, used in submission.used.items():
        target = folder / name
        if not name.endswith(".ipynb") or used == name or target.exists() \
                or target.is_symlink():  # never write through a link the student made
            continue
        target.write_bytes(submission.files[name])
        original = folder / used
        if original.is_file():
            times = original.stat()
            os.utime(target, (times.st_atime, times.st_mtime))
        notebooks.append(str(target))
    notebooks.sort()


def handed_out_forms(source, grade_id):
    """The sources a locked test cell legitimately has in what students hand in.

    nbgrader keeps each locked cell's source, hidden tests included, in its gradebook, and
    its autograde (OverwriteCells) warns "Attribute 'checksum' for cell ... has changed!"
    for any handed-in cell that differs. Two forms differ by design: the released notebook's
    cell (nbgrader's own ClearHiddenTests took the hidden tests out) and the course's student
    notebook's cell, used on Colab or a laptop (`grader.check("qid")`).
    """
    from nbgrader.preprocessors import ClearHiddenTests

    cell = nbformat.v4.new_code_cell(source, metadata={"nbgrader": {"grade": True}})
    released, _ = ClearHiddenTests().preprocess_cell(cell, {}, 0)
    forms = {released.source.strip()}
    qid = graded_question(nbformat.v4.new_code_cell(
        source, metadata={"nbgrader": {"grade_id": grade_id}}))
    if qid is not None:
        forms.add(f'grader.check("{qid}")')
    return forms


def _restore_handed_out_cells_class():
    if "RestoreHandedOutCells" in _classes:
        return _classes["RestoreHandedOutCells"]
    from nbgrader.api import MissingEntry
    from nbgrader.preprocessors import OverwriteCells

    class RestoreHandedOutCells(OverwriteCells):
        """nbgrader's OverwriteCells, quiet about the two forms a locked test cell has by
        design (handed_out_forms): such a cell gets its source back without a warning.
        Any other change to a locked cell is restored and warned about, as nbgrader does."""

        def preprocess_cell(self, cell, resources, cell_index):
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if grade_id is not None and cell.cell_type == "code":
                try:
                    source_cell = self.gradebook.find_source_cell(
                        grade_id, self.notebook_id, self.assignment_id)
                except MissingEntry:
                    source_cell = None
                if source_cell is not None and source_cell.locked and \
                        cell.source.strip() in handed_out_forms(source_cell.source, grade_id):
                    cell.source = source_cell.source
            return super().preprocess_cell(cell, resources, cell_index)

    return _classes.setdefault("RestoreHandedOutCells", RestoreHandedOutCells)


def sanitize_preprocessors():
    """nbgrader 0.9's sanitize preprocessors with OverwriteCells made quiet about the
    handed-out forms of the test cells (RestoreHandedOutCells)."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import OverwriteCells

    default = Autograde.class_traits()["sanitize_preprocessors"].default()
    if OverwriteCells not in default:
        raise RuntimeError("this nbgrader has no OverwriteCells step to replace; the fcnet "
                           "course is built for nbgrader 0.9")
    restore = _restore_handed_out_cells_class()
    return [restore if step is OverwriteCells else step for step in default]


def hidden_part(source):
    """The lines of a test cell between the hidden-test markers, or None without markers."""
    lines, inside, found = [], False, False
    for line in source.splitlines():
        if BEGIN_HIDDEN in line:
            inside, found = True, True
        elif END_HIDDEN in line:
            inside = False
        elif inside:
            lines.append(line)
    return "\n".join(lines) if found else None


def test_cell_id(qid):
    """The nbgrader grade_id of question `qid`'s test cell."""
    return TEST_CELL_PREFIX + qid


def graded_question(cell):
    """The question id a test cell grades (from its nbgrader grade_id), or None."""
    from fcnet.chapters import QUESTION_IDS

    grade_id = str(cell.get("metadata", {}).get("nbgrader", {}).get("grade_id", ""))
    qid = grade_id[len(TEST_CELL_PREFIX):] if grade_id.startswith(TEST_CELL_PREFIX) else ""
    return qid if qid in QUESTION_IDS else None


def fill_outputs(nb, graded):
    """Give every graded test cell its report and points as outputs; return the count."""
    from nbgrader import utils

    filled = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or not utils.is_grade(cell):
            continue
        qid = graded_question(cell)
        if qid is None or qid not in graded["results"]:
            continue
        text, points = cell_report(graded, qid)
        cell.outputs = [
            nbformat.v4.new_output("stream", name="stdout", text=text),
            nbformat.v4.new_output("execute_result", data={"text/plain": repr(points)},
                                   execution_count=1)]
        cell.execution_count = 1
        filled += 1
    return filled


def submitted_folder(course_root, path):
    """(the folder to grade, None) or (path, why it is refused) for nbgrader's
    submitted/<student>/<assignment> path `path`, or (None, None) when it is missing.

    Everything below the step folder (`submitted/`) must be a real folder: a student
    controls what their zip unpacks to, and a link named like the assignment
    (`two_layer_net -> ../../source/two_layer_net`, `-> ../bob/two_layer_net`) would
    have the solution notebooks or a classmate's work graded as theirs. nbgrader itself
    follows such a link, so it is refused here, with a note, and scores zero.
    """
    root, path = Path(os.path.abspath(course_root)), Path(os.path.abspath(path))
    below = path.relative_to(root).parts if path.is_relative_to(root) else ()
    if len(below) >= 2:  # submitted/ is the instructor's folder, and may be a link
        step, below = root / below[0], below[1:]
    else:  # a directory_structure outside the course: <step>/<student>/<assignment>
        step, below = path.parent.parent, path.parts[-2:]
    linked = [part for part in _prefixes(step, below) if part.is_symlink()]
    if linked:
        where = linked[0].relative_to(step.parent).as_posix()
        return str(path), (f"{where} is a symbolic link (to {os.readlink(linked[0])}); "
                           f"links are never followed, since one could point at the "
                           f"solutions or at another student's work. Hand in the "
                           f"notebooks and best_model.npz themselves (the zip "
                           f"fcnet.submit() writes holds them)")
    if not path.is_dir():
        return None, None
    resolved = path.resolve()
    if not resolved.is_relative_to(step.resolve()):
        return str(path), f"{path} resolves outside {step}, and is not graded"
    return str(resolved), None


def _prefixes(top, parts):
    path = top
    for part in parts:
        path = path / part
        yield path


_classes = {}


def _sandboxed_grading_class():
    if "SandboxedGrading" in _classes:
        return _classes["SandboxedGrading"]
    from nbgrader.preprocessors import Execute

    class SandboxedGrading(Execute):
        """In place of nbgrader's Execute: grade the submitted files through the sandboxed
        engine and fill in the test cells' outputs; no kernel runs."""

        def preprocess(self, nb, resources=None, km=None):
            from nbgrader.coursedir import CourseDirectory

            from ..sandbox import SandboxUnavailable

            folder, refusal = self._submitted_folder(resources)
            if folder is None:
                raise RuntimeError("nbgrader gave no student and assignment to grade")
            student = resources["nbgrader"]["student"]
            if refusal:
                self.log.warning("%s: not graded: %s", student, refusal)
                graded = lms_grading.refused_submission(student, refusal)
            else:  # the course folder holds the sources, other students' work, the gradebook
                course = CourseDirectory(config=self.config).root
                try:
                    graded = graded_folder(folder, student=student, announce=self.log.info,
                                           protected=[course])
                except SandboxUnavailable as err:  # the machine, not the student: say how
                    self.log.error("not grading: %s", err)
                    raise
            fill_outputs(nb, graded)
            return nb, resources

        def _submitted_folder(self, resources):
            """(submitted/<student>/<assignment>, None), or (that path, why it is refused),
            or (None, None) when nbgrader names no submission."""
            from nbgrader.coursedir import CourseDirectory

            info = (resources or {}).get("nbgrader", {})
            if not info.get("student") or not info.get("assignment"):
                return None, None
            coursedir = CourseDirectory(config=self.config)
            path = coursedir.format_path(coursedir.submitted_directory, info["student"],
                                         info["assignment"])
            return submitted_folder(coursedir.root, path)

    return _classes.setdefault("SandboxedGrading", SandboxedGrading)


def autograde_preprocessors():
    """nbgrader 0.9's autograde preprocessors with Execute replaced by SandboxedGrading."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    if Execute not in default:
        raise RuntimeError("this nbgrader has no Execute step to replace; the fcnet course "
                           "is built for nbgrader 0.9")
    grading = _sandboxed_grading_class()
    return [grading if step is Execute else step for step in default]
