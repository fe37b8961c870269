"""What the nbgrader course calls (autograder/dist/nbgrader/).

Each chapter's autograder test cell ends with a hidden part:

    ### BEGIN HIDDEN TESTS
    from autograder.nbgrader_bridge import hidden_score
    hidden_score("affine_forward", globals())
    ### END HIDDEN TESTS

`hidden_score` grades the question from the files the student handed in,
submitted/<student>/<assignment>/ (GradingExecute names that folder to the kernel in
FCNET_SUBMISSION_DIR; elsewhere, the notebook's own folder), with autograder.lms_bridge:
the same file search, definitions, checks, decoupling, timeout and points as
`python -m autograder` on that folder. It prints the per-check report and returns the
points; nbgrader takes a test cell's numeric result as partial credit.

`autograde_preprocessors()` is nbgrader's autograde pipeline with its Execute step
replaced by `GradingExecute`, which runs only the hidden parts of the test cells. The
student's own cells (training runs, sweeps, plots, anything at top level) are not
executed: like the sandboxed grader, grading reads definitions from the notebook files,
so a 30-minute sweep costs nothing and cannot overwrite best_model.npz. The cells are
put back unchanged before nbgrader saves the graded notebook.
"""
import contextlib
import io
import os
import sys
import warnings
from pathlib import Path

from . import lms_bridge

BEGIN_HIDDEN, END_HIDDEN = "BEGIN HIDDEN TESTS", "END HIDDEN TESTS"
SUBMISSION_ENV = "FCNET_SUBMISSION_DIR"

_loaded = {}


def _submission(folder):
    folder = Path(folder).resolve()
    if folder not in _loaded:
        _loaded[folder] = lms_bridge.Loaded(folder, student=folder.parent.name)
    return _loaded[folder]


@contextlib.contextmanager
def _no_stderr():
    """nbgrader scores a test cell 0 when it writes to stderr; the sandboxed grader ignores
    what student code prints. Send stderr (Python's and the file descriptor) to stdout."""
    sys.stdout.flush()
    saved_fd = None
    try:
        saved_fd = os.dup(2)
        os.dup2(1, 2)
    except OSError:
        saved_fd = None
    try:
        with contextlib.redirect_stderr(sys.stdout), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            yield
    finally:
        sys.stdout.flush()
        if saved_fd is not None:
            os.dup2(saved_fd, 2)
            os.close(saved_fd)


def hidden_score(qid, namespace=None, folder=None):
    """Grade question `qid` from the files in `folder`; print the report, return the points.

    `folder` defaults to $FCNET_SUBMISSION_DIR, else the current folder. `namespace` (the
    cell's globals()) is not used for grading: the points come from the notebook files, as
    in `python -m autograder`, not from whatever state the kernel has.
    """
    folder = folder or os.environ.get(SUBMISSION_ENV) or "."
    captured = io.StringIO()
    with _no_stderr(), contextlib.redirect_stdout(captured):
        result = _submission(folder).result(qid)
    print(lms_bridge.report(result))
    return float(result.points)


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


_classes = {}


def _grading_execute_class():
    if "GradingExecute" in _classes:
        return _classes["GradingExecute"]
    from nbgrader import utils
    from nbgrader.preprocessors import Execute

    class GradingExecute(Execute):
        """nbgrader's Execute, running only the hidden parts of the autograder test cells.

        Every other code cell is blanked while the kernel runs and put back afterwards; a
        test cell without hidden part runs as it is.
        """

        def preprocess(self, nb, resources=None, km=None):
            # The kernel starts in autograded/<student>/<assignment>/, where nbgrader writes
            # the notebooks one at a time; grade what the student handed in instead.
            folder = self._submitted_folder(resources)
            previous = os.environ.get(SUBMISSION_ENV)
            if folder:
                os.environ[SUBMISSION_ENV] = folder
            try:
                return self._execute_hidden_parts(nb, resources, km)
            finally:
                if previous is None:
                    os.environ.pop(SUBMISSION_ENV, None)
                else:
                    os.environ[SUBMISSION_ENV] = previous

        def _submitted_folder(self, resources):
            from nbgrader.coursedir import CourseDirectory

            info = (resources or {}).get("nbgrader", {})
            if not info.get("student") or not info.get("assignment"):
                return None
            coursedir = CourseDirectory(config=self.config)
            path = coursedir.format_path(coursedir.submitted_directory, info["student"],
                                         info["assignment"])
            return str(Path(path).resolve()) if Path(path).is_dir() else None

        def _execute_hidden_parts(self, nb, resources, km):
            saved = []
            for cell in nb.cells:
                if cell.cell_type != "code":
                    continue
                saved.append((cell, cell.source))
                if utils.is_grade(cell):
                    hidden = hidden_part(cell.source)
                    if hidden is not None:
                        cell.source = hidden
                else:
                    cell.source = ""
            try:
                return super().preprocess(nb, resources, km)
            finally:
                for cell, source in saved:
                    cell.source = source

    return _classes.setdefault("GradingExecute", GradingExecute)


def autograde_preprocessors():
    """nbgrader 0.9's autograde preprocessors with Execute replaced by GradingExecute."""
    from nbgrader.converters.autograde import Autograde
    from nbgrader.preprocessors import Execute

    default = Autograde.class_traits()["autograde_preprocessors"].default()
    if Execute not in default:
        raise RuntimeError("this nbgrader has no Execute step to replace; the fcnet course "
                           "is built for nbgrader 0.9")
    grading_execute = _grading_execute_class()
    return [grading_execute if step is Execute else step for step in default]
