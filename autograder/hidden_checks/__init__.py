"""The hidden checks: fresh inputs at grading time, judged against the answer key.

Each check is an fcnet.checking.Check, declared by keyword. `make_case(rng)` draws the
inputs (shapes and values) in the grader; the probe (autograder/probes.py) runs the
student's code on them, in a sandboxed worker; `judge(case, outputs)` compares in the
grader with references computed there from `answer_key`, including numeric gradients.
Checks of a question that share a make_case function share one case (and, with the same
probe, one probe run): the case is seeded by the make_case function's name (case_seed).

Weights are shares of the question's points (autograder/points.py). `requires` names the
value checks of the same case that must pass for a check to earn points (see
scoring.apply_requirements): a stub returning zeros leaves its inputs unmodified and has
the right shape and dtype, and earns nothing. Hints name the likely mistake in words;
messages never quote an expected value or any answer-key code.

One module per chapter declares its checks in a CHECKS list, which this package joins in
the order of the course:

    judging.py            what the judges share (reading outputs, comparing, memoising)
    affine_layer.py       chapter 1: affine_forward, affine_backward
    relu.py               chapter 2: relu_forward, relu_backward
    losses.py             chapter 3: softmax_loss, svm_loss
    two_layer_net.py      chapter 4: TwoLayerNet
    solver.py             chapter 5: sgd, training
    tuning.py             chapter 6: best_model
    inline_questions.py   inline_q1 (chapter 2), inline_q2 and inline_q3 (chapter 6)
"""
import hashlib

import numpy as np

from . import affine_layer, inline_questions, losses, relu, solver, tuning, two_layer_net
from .inline_questions import judge_inline

__all__ = ["CHECKS", "checks_for", "case_seed", "make_cases", "judge_inline"]

CHECKS = [
    *affine_layer.CHECKS,
    *relu.CHECKS,
    *losses.CHECKS,
    *two_layer_net.CHECKS,
    *solver.CHECKS,
    *tuning.CHECKS,
    *inline_questions.CHECKS,
]


def checks_for(qid):
    """The hidden checks of question `qid`, in order."""
    found = [c for c in CHECKS if c.qid == qid]
    if not found:
        raise KeyError(f"no hidden checks for question {qid!r}")
    return found


def case_seed(course_seed, qid, make_case):
    """The seed of a case: same course seed, question and case function -> same case."""
    text = f"{course_seed}:{qid}:{make_case.__name__}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def make_cases(qid, course_seed):
    """{make_case name: case} for every case function of `qid`'s checks."""
    cases = {}
    for check in checks_for(qid):
        name = check.make_case.__name__
        if name not in cases:
            rng = np.random.default_rng(case_seed(course_seed, qid, check.make_case))
            cases[name] = check.make_case(rng)
    return cases
