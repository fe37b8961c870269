"""The public checks behind `grader.check(qid)`: the grader's checks, run on a public case.

For the code questions these are the very checks the grader runs (fcnet.questions: the
same probes, judges and diagnoses), on one fixed case per case id instead of a fresh one. The
case and the right values the judges compare with are data that the build computed from
the answer key (public_cases.npz, written by `python -m course_build public-tests`); no
answer-key code ships with fcnet. Only the at-scale checks, whose cases are too large to
ship, run in grading alone.

Two differences remain, each for a reason:

- In grading, a TwoLayerNet runs on the answer key's layers. In the notebook it runs on
  the student's own, so when one of its checks fails while a layer it calls fails that
  layer's own check, the result is "blocked" and names the layer: a correct net is never
  blamed for a layer's bug.
- The inline questions are graded later; here only their format is checked, and the
  result says so. training and best_model are judged on images the grader keeps; here
  on the notebook's own `data`. Each question module declares these notebook-only
  checks (NOTEBOOK_CHECKS).
"""
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import questions
from .chapters import QUESTION_IDS
from .checking import CheckResult
from .questions import MODULES, affine_backward, affine_forward, relu_backward, relu_forward
from .questions.traits import Traits

PUBLIC_CASES = Path(__file__).with_name("public_cases.npz")


def _callees(module, earlier):
    """The ids of the questions in `earlier` whose code `module`'s code calls: those that
    grade a name it reads (GRADES) or calls (CALLS), and in turn the ones those call."""
    names = {*module.GRADES, *getattr(module, "CALLS", ())}
    found = set()
    for callee in (m for m in earlier if names & set(m.GRADES)):
        found |= {callee.ID, *_callees(callee, earlier[:earlier.index(callee)])}
    return tuple(qid for qid in QUESTION_IDS if qid in found)


# The questions a decoupled question's code calls, by question: their checks decide
# whether a failure of the decoupled question can be blamed on it.
CALLS = {module.ID: _callees(module, MODULES[:index]) for index, module in enumerate(MODULES)
         if getattr(module, "TRAITS", Traits()).decoupled}


@lru_cache(maxsize=1)
def public_cases():
    """{case id: (case, expected values)} read from public_cases.npz."""
    if not PUBLIC_CASES.is_file():
        raise FileNotFoundError(f"{PUBLIC_CASES} is missing: fcnet is installed without its "
                                f"public cases; install it again as the first cell says")
    found = {}
    with np.load(PUBLIC_CASES, allow_pickle=False) as data:
        for key in data.files:
            if key == "__meta__":
                continue
            part, case_id, name = key.split("/")
            value = data[key]
            value = value.item() if value.ndim == 0 else value
            found.setdefault(case_id, ({}, {}))[part == "expected"][name] = value
    return found


# The shared checks run here on their public case; a module's NOTEBOOK_CHECKS are those
# only the notebook runs (on its own data, or an inline answer's format).
CHECKS = [c for c in questions.checks() if c.public] + questions.notebook_checks()


def checks_for(qid):
    """The public checks of question `qid`, in order."""
    found = [c for c in CHECKS if c.qid == qid]
    if not found:
        raise KeyError(f"no public checks for question {qid!r}")
    return found


# ---------------------------------------------------------------- running

def run_check(check, ns):
    """Run one public check on the student's names `ns`; return a CheckResult.

    np.random is seeded for the probe, as in grading, and restored afterwards, so that
    checking never changes the notebook's own random numbers.
    """
    case, expected = public_cases().get(check.case_id, (None, None))
    if case is None:
        case, expected = check.make_case(np.random.default_rng(0)), None
    state = np.random.get_state()
    try:
        np.random.seed(0)
        with np.errstate(all="ignore"):
            result = check.run(ns, case, expected)
    finally:
        np.random.set_state(state)
    if result.status in ("failed", "error") and check.qid in CALLS:
        blocker = _failing_callee(check.qid, ns)
        if blocker is not None:
            return CheckResult(check, "blocked", blocker)
    return result


def _failing_callee(qid, ns):
    """Why `qid`'s code cannot be judged here, in words: a question it calls that fails
    its own public checks, or a forward and backward pass that each pass but do not fit
    together; None when nothing it calls is at fault."""
    verdict = (f"Fix that first; in grading, {qid} runs on correct layers and is judged "
               f"on its own.")
    for callee in CALLS[qid]:
        for check in checks_for(callee):
            if not all(ns.get(name) is not None for name in check.needs):
                continue
            result = run_check(check, ns)
            if not result.passed:
                return (f"not judged yet: your {qid} code calls {callee}, which does not "
                        f"pass its own check {check.name!r} (grader.check(\"{callee}\")). "
                        f"{verdict.replace('that', callee)}")
    for forward, backward, case_id in LAYER_PAIRS:
        if ns.get(forward) is not None and ns.get(backward) is not None and \
                not _fit_together(ns[forward], ns[backward], *public_cases()[case_id]):
            return (f"not judged yet: your {forward} and {backward} each pass their "
                    f"checks, but {backward} does not give the right gradients from the "
                    f"cache your {forward} returns. {verdict}")
    return None


# Forward and backward passes that must fit together: the backward pass reads the cache
# the forward pass returns (the checks call each with the cache the docstrings specify).
LAYER_PAIRS = ((affine_forward.ID, affine_backward.ID, "affine_backward.small"),
               (relu_forward.ID, relu_backward.ID, "relu_backward.small"))


def _fit_together(forward, backward, case, expected):
    inputs = [np.array(case[k], copy=True) for k in ("x", "w", "b") if k in case]
    try:
        with np.errstate(all="ignore"):
            _, cache = forward(*inputs)
            grads = backward(np.array(case["dout"], copy=True), cache)
        grads = grads if isinstance(grads, tuple) else (grads,)
        names = ("dx", "dw", "db")[:len(grads)]
        return all(np.shape(g) == np.shape(expected[n]) and
                   np.allclose(g, expected[n], rtol=1e-6, atol=1e-8)
                   for g, n in zip(grads, names))
    except Exception:
        return False


def run_question(qid, ns, show=False):
    """The results of every public check of `qid` on the student's names `ns`; with
    `show`, print each (the nbgrader test cells do)."""
    results = [run_check(check, ns) for check in checks_for(qid)]
    for result in results if show else ():
        print(result)
    return results


def metadata():
    """What public_cases.npz says about itself (its source and the do-not-edit note)."""
    with np.load(PUBLIC_CASES, allow_pickle=False) as data:
        return json.loads(str(data["__meta__"]))
