"""What the otter-grader bundle's test files call (autograder/dist/otter/*.zip).

otter executes `grade_two_layer_net.py` as the submission; it calls `load_submission`,
which grades the student's chapter notebooks and best_model.npz once, through the
sandboxed engine of `python -m autograder` (autograder.lms_bridge): student code runs
only in sandboxed workers, never in otter's kernel. The plain-data result is left in the
global `fcnet_submission`. Each test case of `tests/<qid>.py` is then one call that
reports its check from that result:

    hidden_check(fcnet_submission, "affine_forward", "values_2d")

The first hidden_check of a question sets the otter test file's score to exactly the
points `python -m autograder` gives: otter's test cases are pass/fail, so a check worth a
fraction (an inline answer, best_model's accuracy) and the rounding of the question's
points could not be expressed otherwise. Each case then passes or fails as its check
did, with the check's message and hint.
"""
import inspect
import os
import sys
from pathlib import Path

from . import lms_bridge

# The bundle's own top-level entries in otter's submission folder (not the student's;
# the driver checks that they are the bundle's before importing anything from them).
BUNDLE_ENTRIES = ("fcnet", "answer_key", "autograder", "tests", "__init__.py",
                  "grade_two_layer_net.py", "__pycache__")
# Where the driver moves uploaded modules that could stand in for real ones.
SET_ASIDE = "set_aside_by_grader"
# What must stay unreadable to a worker that runs as an unprivileged user.
PROTECTED = ("answer_key", "autograder", "tests")


class GradedSubmission(dict):
    """The plain-data result of grading one submission (see lms_bridge.grade_submission)."""


def protect(folder):
    """As root (Gradescope), make the answer key, the grader and the tests readable by
    root only, so that a worker running as another user cannot read them."""
    if os.geteuid() != 0:
        return
    for name in PROTECTED:
        top = Path(folder) / name
        if not top.exists() or top.is_symlink():
            continue
        for path in [top, *top.rglob("*")]:
            if not path.is_symlink():
                os.chown(path, 0, 0)
                os.chmod(path, path.stat().st_mode & 0o700)


def load_submission(folder="."):
    """Grade the submission below `folder` (called once, by the driver otter executes).

    Prints the isolation used as its first line, then what was graded.
    """
    protect(folder)
    graded = lms_bridge.grade_submission(folder, skip=BUNDLE_ENTRIES, announce=_announce)
    for note in graded["notes"]:
        print(f"note: {note}")
    for problem in graded["internal_errors"]:
        print(f"warning: {problem}")
    print(f"graded: {lms_bridge.total(graded):g} points")
    return GradedSubmission(graded)


def _announce(line):
    """The sandbox line, in the notebook otter executes and on the grading log."""
    print(line, flush=True)
    stream = getattr(sys, "__stdout__", None)
    if stream is not None and stream is not sys.stdout:
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass


def _require(graded):
    if not isinstance(graded, GradedSubmission):
        raise AssertionError("no submission was graded: otter must execute "
                             "grade_two_layer_net.py, which defines fcnet_submission")
    return graded


def _set_question_score(qid, points):
    """Set the score of the otter test file `qid` that is running this call (otter's own
    TestFile.update_score; the file object is the `self` of the frame running the case)."""
    from otter.test_files.abstract_test import TestFile

    frame = inspect.currentframe()
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, TestFile) and candidate.name == qid:
            candidate.update_score(points)
            return True
        frame = frame.f_back
    return False


def hidden_check(graded, qid, name):
    """One hidden check of `qid`: pass, or raise AssertionError saying what went wrong."""
    result = _require(graded)["results"].get(qid)
    if result is None:
        raise AssertionError(f"question {qid} was not graded")
    _set_question_score(qid, result["points"])
    check = next((c for c in result["checks"] if c["name"] == name), None)
    if check is None:
        raise AssertionError(f"question {qid} has no hidden check {name!r}; rebuild the "
                             "otter bundle (python -m course_build otter-zip)")
    if check["status"] == "passed":
        return
    text = f"{check['status']}: {check['message']}" if check["message"] else check["status"]
    if check["status"] == "partial":
        text += f" ({check['fraction']:.0%} of this check's points)"
    if check["hint"]:
        text += f"\nHint: {check['hint']}"
    if result["notes"]:
        text += "\n" + "\n".join(f"Note: {n}" for n in result["notes"])
    raise AssertionError(text)
