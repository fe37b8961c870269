"""What the nbgrader course calls (autograder/dist/nbgrader/).

Each chapter's autograder test cell ends with a hidden part:

    ### BEGIN HIDDEN TESTS
    from autograder.nbgrader_bridge import hidden_score
    hidden_score("affine_forward")
    ### END HIDDEN TESTS

`nbgrader autograde` does not run it in a kernel. `autograde_preprocessors()` is
nbgrader's autograde pipeline with its Execute step replaced by `SandboxedGrading`,
which starts no kernel at all: it grades the files the student handed in,
submitted/<student>/<assignment>/, once per student, with the sandboxed engine of
`python -m autograder` (autograder.lms_bridge), and writes each test cell's output
itself: the isolation used (first line), the per-check report, and the points as the
cell's result, which nbgrader records as partial credit. So no student code runs in
nbgrader's process or in a kernel next to the answer key; it runs only in sandboxed
workers, with the engine's per-question time limit. The students' own cells (training
runs, sweeps, plots) are not executed, as in the sandboxed grader, so a 30-minute sweep
costs nothing and cannot overwrite best_model.npz.

`hidden_score(qid)` does the same from inside a running notebook (an instructor trying
the source notebook): it grades the notebook's folder through the same engine.
"""
import os
import re
from pathlib import Path

import nbformat

from . import lms_bridge

BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
_QID = re.compile(r"""hidden_score\(\s*["'](\w+)["']""")

_graded = {}  # resolved folder -> lms_bridge.grade_submission(...) result


def graded_folder(folder, student=None, announce=print):
    """The plain-data grading of the submission in `folder` (graded once per process)."""
    folder = Path(folder).resolve()
    if folder not in _graded:
        _graded[folder] = lms_bridge.grade_submission(
            folder, student=student or folder.parent.name or "submission", announce=announce)
    return _graded[folder]


def cell_report(graded, qid):
    """(text, points) a test cell shows for question `qid`: the isolation line first."""
    result = graded["results"][qid]
    lines = [graded["sandbox"], lms_bridge.report(result)]
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
    from .submissions import Submission, read_files

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


def graded_question(cell):
    """The question id a test cell's hidden part grades, or None."""
    hidden = hidden_part(cell.source)
    match = _QID.search(hidden) if hidden is not None else None
    return match[1] if match else None


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


_classes = {}


def _sandboxed_grading_class():
    if "SandboxedGrading" in _classes:
        return _classes["SandboxedGrading"]
    from nbgrader.preprocessors import Execute

    class SandboxedGrading(Execute):
        """In place of nbgrader's Execute: grade the submitted files through the sandboxed
        engine and fill in the test cells' outputs; no kernel runs."""

        def preprocess(self, nb, resources=None, km=None):
            folder = self._submitted_folder(resources)
            if folder is None:
                raise RuntimeError("nbgrader gave no student and assignment to grade")
            graded = graded_folder(folder, student=resources["nbgrader"]["student"],
                                   announce=self.log.info)
            fill_outputs(nb, graded)
            return nb, resources

        def _submitted_folder(self, resources):
            from nbgrader.coursedir import CourseDirectory

            info = (resources or {}).get("nbgrader", {})
            if not info.get("student") or not info.get("assignment"):
                return None
            coursedir = CourseDirectory(config=self.config)
            path = coursedir.format_path(coursedir.submitted_directory, info["student"],
                                         info["assignment"])
            return str(Path(path).resolve()) if Path(path).is_dir() else None

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
