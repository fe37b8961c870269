"""What the otter-grader bundle's test files call (autograder/dist/otter/*.zip).

otter executes `grade_two_layer_net.py` as the submission; it calls `load_submission`,
which reads the student's chapter notebooks and best_model.npz the way
`python -m autograder` does and leaves them in the global `fcnet_submission`. Each test
case of `tests/<qid>.py` is then one call:

    hidden_check(fcnet_submission, "affine_forward", "values_2d")
    public_check(fcnet_submission, "affine_forward", "seed_values")

The first hidden_check of a question grades the whole question with autograder.lms_bridge
(same checks, cases, decoupling, timeout and points as the sandboxed grader) and sets the
otter test file's score to exactly those points: otter's test cases are pass/fail, so a
check worth a fraction (an inline answer, best_model's accuracy) and the rounding of the
question's points could not be expressed otherwise. Each case then passes or fails as its
check did, with the check's message and hint.
"""
import inspect

from . import lms_bridge
from .scoring import PASSED


def load_submission(folder="."):
    """Read the submission below `folder` (called once, by the driver otter executes)."""
    return lms_bridge.Loaded(folder)


def _require(loaded):
    if not isinstance(loaded, lms_bridge.Loaded):
        raise AssertionError("no submission was loaded: otter must execute "
                             "grade_two_layer_net.py, which defines fcnet_submission")
    return loaded


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


def hidden_check(loaded, qid, name):
    """One hidden check of `qid`: pass, or raise AssertionError saying what went wrong."""
    result = _require(loaded).result(qid)
    _set_question_score(qid, result.points)
    outcome = next((o for o in result.checks if o.name == name), None)
    if outcome is None:
        raise AssertionError(f"question {qid} has no hidden check {name!r}; rebuild the "
                             "otter bundle (python -m course_build otter-zip)")
    if outcome.status == PASSED:
        return
    text = f"{outcome.status}: {outcome.message}" if outcome.message else outcome.status
    if outcome.status == "partial":
        text += f" ({outcome.fraction:.0%} of this check's points)"
    if outcome.hint:
        text += f"\nHint: {outcome.hint}"
    if result.notes:
        text += "\n" + "\n".join(f"Note: {n}" for n in result.notes)
    raise AssertionError(text)


def public_check(loaded, qid, name):
    """One public check of `qid` (worth nothing): the one grader.check runs in the notebook."""
    loaded = _require(loaded)
    key = ("public", qid)
    if key not in loaded.results:
        loaded.results[key] = lms_bridge.run_public_checks(loaded, qid)
    for check, result in loaded.results[key]:
        if check.name == name:
            if result is None:
                raise AssertionError(f"stopped: it ran longer than the time limit")
            if not result.passed:
                raise AssertionError(str(result))
            return
    raise AssertionError(f"question {qid} has no public check {name!r}")
