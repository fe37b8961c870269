"""Chapter 3: softmax_loss(x, y) -> (loss, dx), the cross-entropy of the softmax of the
scores x (N, C) for the labels y (N,), averaged over the N examples."""
from functools import partial

import numpy as np

from ..checking import Check, CheckFailed, expect_close, number_is_off
from ..diagnosis import Mistake, as_array, close, differs_by, scaled
from ..judging import AT_SCALE_HINT, array, expected, judge_gradient, labels, scalar
from ..mistakes import examples_in, input_modified_rule
from ..probing import returns
from ._losses import (judge_loss_unmodified, judge_loss_value, loss_case, loss_is_off,
                      loss_probe, loss_shapes, loss_views, onehot, right_loss)

ID = "softmax_loss"
CHAPTER = "03_losses"
ORDER = 1  # its place among its chapter's questions
POINTS = 10
GRADES = ("softmax_loss",)
LAYER = True

# A small constant guarding the log is accepted: adding up to LOG_GUARD to a probability
# before its log, or clipping it at LOG_GUARD, lowers the loss by at most
# mean(log(1 + LOG_GUARD / p)) over the correct classes' probabilities p. The cases keep
# every p far above 1e-12 (scores of a row within about 15 of each other), except the
# at-scale case, whose loss is not judged.
LOG_GUARD = 1e-10


# ------------------------------------------------------------------------- probe

@returns(loss_shapes)
def softmax_loss_probe(ns, case):
    return loss_probe(ns, case, "softmax_loss")


# ------------------------------------------------------------------------- cases

def case_large(rng):
    """Scores around +-1000, where exp() overflows unless the scores are shifted first.
    Rows of both signs, so that one shift for the whole batch cannot pass either."""
    n, c = int(rng.integers(3, 17)), int(rng.integers(3, 12))
    offsets = rng.permutation(np.where(np.arange(n) % 2 == 0, 1000.0, -1000.0))[:, None]
    return {"x": offsets + 2.0 * rng.standard_normal((n, c)), "y": labels(rng, n, c)}


def case_at_scale(rng):
    """40,000 examples of 10 classes; in half of them the correct class scores between
    1e12 and 1e15 below the others (a confidently wrong classifier). There the loss is
    that large, and a difference of two such losses has rounding errors of about
    1e-4 to 1e-1, which any step of a numeric gradient either keeps or trades for a
    truncation error; the probabilities minus one-hot are exact to rounding."""
    n, c = 40000, 10
    x, y = 2.0 * rng.standard_normal((n, c)), labels(rng, n, c)
    wrong = np.flatnonzero(rng.random(n) < 0.5)
    x[wrong, y[wrong]] = -(10.0 ** rng.uniform(12, 15, size=len(wrong)))
    return {"x": x, "y": y}


def guard_slack(y, dx):
    """How much a guard of LOG_GUARD in the log can lower the loss: the judges accept a
    loss that much below the right one."""
    n = len(y)
    p_correct = np.maximum(n * dx[np.arange(n), y] + 1.0, 1e-12)  # dx = (p - 1) / N there
    return float(np.mean(np.log1p(LOG_GUARD / p_correct)))


def _right(key, case, numeric=True):
    return right_loss(key.softmax_loss, case, numeric, guard_slack)


REFERENCES = {
    "softmax_loss.small": _right,
    "softmax_loss.large": partial(_right, numeric=False),
    "softmax_loss.at_scale": partial(_right, numeric=False),
}


# ------------------------------------------------------------------------- judges

def judge_stable(case, out):
    loss, right = scalar(out, "loss"), expected(case)
    dx = array(out, "dx")
    if not np.isfinite(loss) or not np.all(np.isfinite(dx)):
        raise CheckFailed("with scores around 1000 the loss or dx is NaN or infinite")
    error = loss_is_off(loss, right)
    if not error < 1e-8:
        raise number_is_off("with scores around 1000 the loss", 1e-8)
    expect_close("dx", dx, right["dx"], 1e-7)


# ------------------------------------------------------------------------- mistakes

def _large_scores(view):
    return float(np.max(np.abs(as_array(view.context["x"])))) > 50


def _overflow(view):
    a = as_array(view.got)
    return _large_scores(view) and a is not None and np.any(np.isnan(a))


def _global_max_shift(view):
    """dx right on the rows whose largest score is near the array's largest, and NaN,
    infinite or 0 on the rows far below it: the rows were shifted by the array's maximum,
    and exp() of a row far below it underflows to 0 everywhere."""
    got, right = as_array(view.got), as_array(view.expected)
    x = as_array(view.context.get("x"))
    if got is None or right is None or x is None or x.ndim != 2 or \
            not got.shape == right.shape == x.shape:
        return False
    underflow = 104.0 if getattr(view.got, "dtype", None) == np.float32 else 746.0
    gap = x.max() - x.max(axis=1)
    near, far = gap < 30.0, gap > underflow
    if not near.any() or not far.any():
        return False
    lost = ~np.all(np.isfinite(got[far]), axis=1) | np.all(got[far] == 0, axis=1)
    return bool(np.all(lost)) and close(got[near], right[near], view.tol)


def _log_of_zero(view):
    a = as_array(view.got)
    return a is not None and np.any(np.isinf(a)) and not np.any(np.isnan(a))


def _missing_one(view):
    return differs_by(view, onehot(view), 1.0 / examples_in(view))


MISTAKES = (
    Mistake(ID, "dx", "softmax_global_max_shift",
            "With large scores your dx is right on the rows that hold the largest scores "
            "and NaN (or 0) on the others: you subtract the largest score of the whole "
            "array, so a row far below it has every exponential underflow to 0. Subtract "
            "each row's own largest score from that row.", _global_max_shift),
    Mistake(ID, "loss", "softmax_no_max_shift",
            "With large scores your loss is NaN: exp() overflows to infinity (or every "
            "term underflows to 0). Subtract each row's own largest score from the row "
            "before exponentiating; it leaves the softmax unchanged.", _overflow),
    Mistake(ID, "dx", "softmax_no_max_shift",
            "With large scores your dx is NaN: exp() overflows to infinity (or every term "
            "underflows to 0). Subtract each row's own largest score from the row before "
            "exponentiating; it leaves the softmax unchanged.", _overflow),
    Mistake(ID, "loss", "softmax_log_of_zero",
            "Your loss is infinite: a probability rounded to exactly 0 and you took its "
            "log. Compute the log-probabilities directly from the shifted scores (the "
            "shifted score minus the log of the row's sum of exponentials).", _log_of_zero),
    Mistake(ID, "loss", "softmax_loss_not_averaged",
            "Your loss is exactly N times the right value: it is summed over the N examples "
            "but not divided by N. The loss is the mean over the examples.",
            lambda v: scaled(v, examples_in(v))),
    Mistake(ID, "dx", "softmax_gradient_not_divided",
            "Your dx is exactly N times the right value: the loss is a mean over N "
            "examples, so its gradient must be divided by N too.", lambda v: scaled(v, examples_in(v))),
    Mistake(ID, "dx", "softmax_one_not_subtracted",
            "Your dx is the right one plus 1/N at each correct class: the 1 of the correct "
            "class is not subtracted from its probability.", _missing_one),
    input_modified_rule(ID, "input", "Your softmax_loss writes into an array it is given "
                        "(the scores x or the labels y)"),
)


# ------------------------------------------------------------------------- checks

_check = partial(Check, qid=ID, needs=GRADES, probe=softmax_loss_probe, views=loss_views,
                 mistakes=MISTAKES)

CHECKS = [
    _check(name="loss", description="loss for random scores and labels",
           hint="average -log(probability of the correct class) over the N examples",
           case_id="softmax_loss.small", make_case=loss_case, judge=judge_loss_value,
           weight=2),
    _check(name="gradient", description="dx agrees with a numeric gradient",
           hint="dx is the probabilities minus 1 at each correct class, divided by N",
           case_id="softmax_loss.small", make_case=loss_case, judge=judge_gradient("dx"),
           weight=2, requires=("at_scale",)),
    _check(name="stable", description="stays finite and correct for scores around 1000",
           hint="subtract each row's largest score before exponentiating",
           case_id="softmax_loss.large", make_case=case_large, judge=judge_stable,
           weight=2, requires=("at_scale",)),
    _check(name="input_unmodified", description="x and y are left unmodified",
           hint="shift the scores into a new array (x - max) instead of subtracting in place",
           case_id="softmax_loss.small", make_case=loss_case, judge=judge_loss_unmodified,
           weight=1, requires=("loss", "gradient", "at_scale")),
    _check(name="at_scale",
           description="dx for 40000 examples of 10 classes, half of them with the correct "
                       "class scored 1e12 or more below the others",
           hint=AT_SCALE_HINT, case_id="softmax_loss.at_scale", make_case=case_at_scale,
           judge=judge_gradient("dx"), weight=1, public=False),
]
