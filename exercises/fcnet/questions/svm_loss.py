"""Chapter 3: svm_loss(x, y) -> (loss, dx), the multiclass hinge loss of the scores x (N, C)
for the labels y (N,) with margin 1, averaged over the N examples."""
from functools import partial

import numpy as np

from ..checking import Check
from ..diagnosis import Mistake, as_array, close, differs_by, nonzero, scaled
from ..judging import AT_SCALE_HINT, across_decades, judge_gradient, labels
from ..mistakes import examples_in, input_modified_rule
from ..probing import returns
from ._losses import (judge_loss_unmodified, judge_loss_value, loss_case, loss_probe,
                      loss_shapes, loss_views, onehot, right_loss)

ID = "svm_loss"
CHAPTER = "03_losses"
ORDER = 2  # its place among its chapter's questions
POINTS = 10
GRADES = ("svm_loss",)
LAYER = True


# ------------------------------------------------------------------------- probe

@returns(loss_shapes)
def svm_loss_probe(ns, case):
    return loss_probe(ns, case, "svm_loss")


# ------------------------------------------------------------------------- cases

def case_at_scale(rng):
    """40,000 examples of 10 classes whose margins s_j - s_y + 1 have every size from
    1e-12 to 10, either sign. The hinge's kink lies inside any step h larger than the
    smallest margins, and a smaller step loses the derivative to rounding in margins
    of size 10. Counting the positive margins is exact: 1e-12 is hundreds of times the
    rounding of the scores, so every order of the subtraction agrees on each sign."""
    n, c = 40000, 10
    y, correct = labels(rng, n, c), 2.0 * rng.standard_normal(n)
    x = correct[:, None] - 1.0 + across_decades(rng, (n, c), -12, 1)
    x[np.arange(n), y] = correct
    return {"x": x, "y": y}


def _right(key, case, numeric=True):
    return right_loss(key.svm_loss, case, numeric)


REFERENCES = {
    "svm_loss.small": _right,
    "svm_loss.at_scale": partial(_right, numeric=False),
}


# ------------------------------------------------------------------------- mistakes
# svm_wrong_margin on dx has no test here: only the answer key can recognise it, and the
# grader does (autograder/mistakes.py, GRADER_TESTS).

def _counts_correct_class(view):
    if view.role == "loss":
        return differs_by(view, 1.0)
    return differs_by(view, onehot(view), -1.0 / examples_in(view))


def _margin_ratio(view):
    """Public checks only: for tiny scores the loss is about (C - 1) * margin."""
    if not view.context.get("approximate"):
        return False
    ratio = float(view.got) / float(view.expected)
    return any(abs(ratio - r) < 0.02 * max(r, 0.05) for r in (0.0, 0.5, 2.0, 10.0))


def _correct_row_missing(view):
    right = as_array(view.expected)
    return nonzero(right) and close(view.got, right * (1 - onehot(view)), view.tol)


MISTAKES = (
    Mistake(ID, "loss", "svm_counts_correct_class",
            "Your loss is exactly 1 more than the right value: the correct class's own "
            "margin (always 1) is counted. Leave the correct class out of the sum.",
            _counts_correct_class),
    Mistake(ID, "dx", "svm_counts_correct_class",
            "Your dx counts the correct class's own margin as a positive margin. Leave the "
            "correct class out before counting the positive margins.",
            _counts_correct_class),
    Mistake(ID, "loss", "svm_wrong_margin",
            "Your loss matches a hinge with a margin other than 1. The course's SVM asks "
            "each wrong class to score at least 1 below the correct one.", _margin_ratio),
    Mistake(ID, "dx", "svm_wrong_margin",
            "Your dx matches a hinge with a margin other than 1. The course's SVM asks each "
            "wrong class to score at least 1 below the correct one.", None),
    Mistake(ID, "dx", "svm_correct_row_missing",
            "Your dx is right for the wrong classes but 0 at the correct class. The correct "
            "class gets minus the number of positive margins of its example (over N).",
            _correct_row_missing),
    Mistake(ID, "loss", "svm_loss_not_averaged",
            "Your loss is exactly N times the right value: it is summed over the examples "
            "but not divided by N.", lambda v: scaled(v, examples_in(v))),
    Mistake(ID, "dx", "svm_gradient_not_divided",
            "Your dx is exactly N times the right value: divide the gradient by N, as the "
            "loss is.", lambda v: scaled(v, examples_in(v))),
    input_modified_rule(ID, "input", "Your svm_loss writes into an array it is given "
                        "(the scores x or the labels y)"),
)


# ------------------------------------------------------------------------- checks

_check = partial(Check, qid=ID, needs=GRADES, probe=svm_loss_probe, views=loss_views,
                 mistakes=MISTAKES)

CHECKS = [
    _check(name="loss", description="loss for random scores and labels",
           hint="sum the margins max(0, s_j - s_y + 1) over the wrong classes only, then "
                "average over the N examples",
           case_id="svm_loss.small", make_case=loss_case, judge=judge_loss_value, weight=2),
    _check(name="gradient", description="dx agrees with a numeric gradient",
           hint="each positive margin adds 1 to its class and subtracts 1 from the correct "
                "class; divide by N",
           case_id="svm_loss.small", make_case=loss_case, judge=judge_gradient("dx"),
           weight=2, requires=("at_scale",)),
    _check(name="input_unmodified", description="x and y are left unmodified",
           hint="compute margins in a new array instead of writing into x",
           case_id="svm_loss.small", make_case=loss_case, judge=judge_loss_unmodified,
           weight=1, requires=("loss", "gradient", "at_scale")),
    _check(name="at_scale",
           description="dx for 40000 examples of 10 classes, with margins of every size "
                       "from 1e-12 to 10",
           hint=AT_SCALE_HINT, case_id="svm_loss.at_scale", make_case=case_at_scale,
           judge=judge_gradient("dx"), weight=1, public=False),
]
