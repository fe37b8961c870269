"""The public checks behind `grader.check(qid)`: the grader's checks, run on a public case.

For the code questions these are the very checks the grader runs (fcnet.checks: the same
probes, judges and diagnoses), on one fixed case per case id instead of a fresh one. The
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
  on the notebook's own `data`.
"""
import json
from functools import lru_cache
from pathlib import Path

import numpy as np

from . import checks, questions
from .chapters import QUESTION_IDS
from .checking import Check, CheckFailed, CheckResult, NotAnswered
from .graded_training import (GRADED_TRAINING, TRAINING_THRESHOLD, graded_run_judge,
                              graded_run_probe)
from .questions import (MODULES, affine_backward, affine_forward, best_model, relu_backward,
                        relu_forward, training)
from .questions._inline import inline_probe
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


# ---------------------------------------------------------------- not in fcnet.checks

# The letters each multiple-choice question offers (its module's OPTIONS).
INLINE_OPTIONS = questions.options()


def _inline_format_judge(case, out):
    qid = str(case["qid"])
    if not out.get("answered"):
        raise NotAnswered(f"{qid} is still empty: put the letters you choose in the set")
    bad = set(out["letters"]) - set(INLINE_OPTIONS[qid])
    if bad:
        raise CheckFailed(f"{qid} may only contain the letters "
                          f"{', '.join(INLINE_OPTIONS[qid])}; got {', '.join(sorted(bad))}")


def _inline_format_check(qid):
    return Check(qid, "format", f"{qid} is a set of option letters (only its format is "
                 "checked here; whether the letters are right is graded later)",
                 "answer with a set of capital letters, such as {\"B\"}", (qid,),
                 f"{qid}.format", lambda rng: {"qid": qid}, inline_probe,
                 _inline_format_judge)


INLINE_FORMAT_NOTE = ("Only the format was checked: a set of option letters. Whether "
                      "they are the right ones is graded when you hand in.")

# Chapter 5's own run (all 49,000 images, ten epochs) should reach this; the graded run is
# smaller, with lower thresholds (autograder/points.py).
PUBLIC_TRAINING_ACCURACY = 0.36


def _training_probe(ns, case):
    solver = ns["solver"]
    if solver is None:
        raise NotAnswered("train a Solver and keep it in the variable `solver`")
    return {"best_val_acc": float(solver.best_val_acc)}


def _training_judge(case, out):
    if not out["best_val_acc"] >= PUBLIC_TRAINING_ACCURACY:
        raise CheckFailed(f"the best validation accuracy is {out['best_val_acc']:.3f}; "
                          f"aim for at least {PUBLIC_TRAINING_ACCURACY}")


# ---------------------------------------------------------------- chapter 6: the tuned model

# best_model's scale, as autograder/points.py grades it (tests/test_grading_disclosed.py
# keeps the two in step): full points from BEST_MODEL_FULL, none below BEST_MODEL_ZERO,
# and an accuracy counts at most BEST_MODEL_VIEW_MARGIN above the other views'.
BEST_MODEL_FULL = 0.53
BEST_MODEL_ZERO = 0.47
BEST_MODEL_VIEW_MARGIN = 0.02


def _best_model_probe(ns, case):
    """Like the grader (autograder/best_model.py), on the notebook's images: the
    validation accuracy, and the accuracy on their mirror images and on 1,000 training
    images, which it may exceed by at most BEST_MODEL_VIEW_MARGIN."""
    model, data = ns["best_model"], ns["data"]
    if model is None:
        raise NotAnswered("keep your best trained network in the variable `best_model`")

    def accuracy(X, y):
        return float(np.mean(np.argmax(model.loss(X), axis=1) == y))

    return {"val_acc": accuracy(data["X_val"], data["y_val"]),
            "mirrored_val_acc": accuracy(data["X_val"][..., ::-1], data["y_val"]),
            "train_acc": accuracy(data["X_train"][:1000], data["y_train"][:1000])}


def _best_model_judge(case, out):
    others = min(out["mirrored_val_acc"], out["train_acc"])
    counted = min(out["val_acc"], others + BEST_MODEL_VIEW_MARGIN)
    if not counted >= BEST_MODEL_FULL:
        share = min(max((counted - BEST_MODEL_ZERO) / (BEST_MODEL_FULL - BEST_MODEL_ZERO),
                        0.0), 1.0)
        raise CheckFailed(f"best_model counts {counted:.3f}: {out['val_acc']:.3f} on the "
                          f"validation images, at most {BEST_MODEL_VIEW_MARGIN:.2f} above "
                          f"{out['mirrored_val_acc']:.3f} on their mirror images and "
                          f"{out['train_acc']:.3f} on 1,000 training images. On the "
                          f"grader's scale that is {share:.0%} of the points: all from "
                          f"{BEST_MODEL_FULL:.2f}, none below {BEST_MODEL_ZERO:.2f}")


def _no_case(rng):
    return {}


NOTEBOOK_CHECKS = [
    Check(training.ID, "val_accuracy", "the trained solver reaches 36% validation accuracy",
          "check the learning rate, the number of epochs and that update_rule is your sgd",
          ("solver",), f"{training.ID}.solver", _no_case, _training_probe, _training_judge),
    Check(training.ID, "graded_run", "the graded run: your TwoLayerNet and sgd trained on "
          f"{GRADED_TRAINING['num_train']:,} images reach {TRAINING_THRESHOLD:.0%} on "
          f"{GRADED_TRAINING['num_eval']:,} held-out ones",
          "check that sgd keeps the learning rate it is given from step to step, and that "
          "loss returns fresh gradients on every call",
          (*training.GRADES, "data"), f"{training.ID}.graded_run", _no_case, graded_run_probe,
          graded_run_judge),
    Check(best_model.ID, "val_accuracy", f"best_model reaches {BEST_MODEL_FULL:.0%} on the "
          f"validation images, counted at most {BEST_MODEL_VIEW_MARGIN * 100:.0f} points above "
          "its accuracy on their mirror images and on 1,000 training images",
          "tune the learning rate, hidden size, regularisation and number of epochs on the "
          "validation set",
          ("best_model", "data"), f"{best_model.ID}.validation", _no_case, _best_model_probe,
          _best_model_judge),
    *[_inline_format_check(qid) for qid in INLINE_OPTIONS],
]

CHECKS = [c for c in checks.CHECKS if c.public] + NOTEBOOK_CHECKS


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
