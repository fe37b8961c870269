"""The catalogue of common mistakes, question by question, with what to tell the student.

Each mistake is recognised from the numbers alone: the student's output next to the right
one (a `View`, see fcnet.diagnosis) and the inputs of the check. A test here never
computes a graded function: it relates arrays (a factor, a difference equal to a known
term, a property such as "rows sum to 1"). A few mistakes need the answer key to be
recognised (an SVM margin other than 1); their test lives in the grader
(autograder/mistakes.py) and is None here, so their words stay in one place.

Explanations say what the numbers show and how to fix it, in words, never in code.
"""

import numpy as np

from .diagnosis import Mistake, as_array, close, differs_by, nonzero, scaled


def _n(view):
    return float(view.context["N"])


def _onehot(view):
    """1 at each example's label, 0 elsewhere, shaped like the scores."""
    y = np.asarray(view.context["y"])
    onehot = np.zeros(np.shape(view.expected))
    onehot[np.arange(len(y)), y] = 1.0
    return onehot




# ----------------------------------------------------------------------------- losses

def _large_scores(view):
    return float(np.max(np.abs(as_array(view.context["x"])))) > 50


def _overflow(view):
    a = as_array(view.got)
    return _large_scores(view) and a is not None and np.any(np.isnan(a))


def _global_max_shift(view):
    """dx right on the rows whose largest score is near the array's largest, and NaN,
    infinite or 0 on the rows far below it: the rows were shifted by the array's maximum,
    and exp() of a row far below it underflows to 0 everywhere."""
    got, expected = as_array(view.got), as_array(view.expected)
    x = as_array(view.context.get("x"))
    if got is None or expected is None or x is None or x.ndim != 2 or \
            not got.shape == expected.shape == x.shape:
        return False
    underflow = 104.0 if getattr(view.got, "dtype", None) == np.float32 else 746.0
    gap = x.max() - x.max(axis=1)
    near, far = gap < 30.0, gap > underflow
    if not near.any() or not far.any():
        return False
    lost = ~np.all(np.isfinite(got[far]), axis=1) | np.all(got[far] == 0, axis=1)
    return bool(np.all(lost)) and close(got[near], expected[near], view.tol)


def _log_of_zero(view):
    a = as_array(view.got)
    return a is not None and np.any(np.isinf(a)) and not np.any(np.isnan(a))


def _missing_one(view):
    return differs_by(view, _onehot(view), 1.0 / _n(view))


def _svm_counts_correct_class(view):
    if view.role == "loss":
        return differs_by(view, 1.0)
    return differs_by(view, _onehot(view), -1.0 / _n(view))


def _svm_margin_ratio(view):
    """Public checks only: for tiny scores the loss is about (C - 1) * margin."""
    if not view.context.get("approximate"):
        return False
    ratio = float(view.got) / float(view.expected)
    return any(abs(ratio - r) < 0.02 * max(r, 0.05) for r in (0.0, 0.5, 2.0, 10.0))


def _svm_correct_row_missing(view):
    expected = as_array(view.expected)
    return nonzero(expected) and close(view.got, expected * (1 - _onehot(view)), view.tol)


# ----------------------------------------------------------------------------- the course's rules

def _came_back(view):
    """An input array came back (changed: diagnose only asks about views that differ)."""
    return as_array(view.got) is not None


def _dtype_changed(view):
    """A numeric array of another dtype than its inputs', with the right values when
    they are known."""
    got = view.got
    if not isinstance(got, np.ndarray) or not np.issubdtype(got.dtype, np.number) or \
            got.dtype == view.context["dtype"]:
        return False
    return view.expected is None or close(got, view.expected, view.tol)


_UNCHANGED = ("The course's functions leave the arrays they are given unchanged (the "
              "grading section of the chapter states this rule): the caller, or another "
              "layer, may still need them.")


def input_modified_rule(qid, role, writes, fix="Compute into a new array (or into a copy "
                                                "you make first)."):
    """The mistake of a function that writes into an array it is given: `writes` says
    which ("Your relu_forward writes into x"), `fix` what to do instead."""
    return Mistake(qid, role, "input_modified",
                   f"{writes}, so the caller's array has changed after the call. "
                   f"{_UNCHANGED} {fix}", _came_back)


def dtype_changed_rule(qid, what, explanation=None):
    """The mistake of a layer `what` that returns float64 for float32 inputs, in the
    words of `explanation` when the question is not a layer."""
    return Mistake(qid, "dtype", "dtype_changed", explanation or (
                   f"Your {what} returns float64 values for float32 inputs: some array in it "
                   f"is made without a dtype (a fresh array of zeros, or a conversion to "
                   f"Python's float), and numpy then computes in float64. The course's layers "
                   f"keep their inputs' dtype (the grading section of the chapter states this "
                   f"rule), because chapter 5 trains in float32. Build the result from the "
                   f"inputs themselves, or give new arrays the inputs' dtype."), _dtype_changed)


# One rule per (question, role of the view that shows it): an input written into, a dtype
# not kept. Its own name, so that points lost to a rule always say which rule.
_RULES = (
    *[Mistake(qid, "input", "input_modified",
              f"Your {what} writes into an array it is given ({inputs}), so the caller's "
              f"array has changed after the call. {_UNCHANGED} Compute into a new array "
              f"(or into a copy you make first).", _came_back)
      for qid, what, inputs in (
          ("softmax_loss", "softmax_loss", "the scores x or the labels y"),
          ("svm_loss", "svm_loss", "the scores x or the labels y"))],
)

# ----------------------------------------------------------------------------- catalogue

MISTAKES = (
    # softmax_loss
    Mistake("softmax_loss", "dx", "softmax_global_max_shift",
            "With large scores your dx is right on the rows that hold the largest scores "
            "and NaN (or 0) on the others: you subtract the largest score of the whole "
            "array, so a row far below it has every exponential underflow to 0. Subtract "
            "each row's own largest score from that row.", _global_max_shift),
    Mistake("softmax_loss", "loss", "softmax_no_max_shift",
            "With large scores your loss is NaN: exp() overflows to infinity (or every "
            "term underflows to 0). Subtract each row's own largest score from the row "
            "before exponentiating; it leaves the softmax unchanged.", _overflow),
    Mistake("softmax_loss", "dx", "softmax_no_max_shift",
            "With large scores your dx is NaN: exp() overflows to infinity (or every term "
            "underflows to 0). Subtract each row's own largest score from the row before "
            "exponentiating; it leaves the softmax unchanged.", _overflow),
    Mistake("softmax_loss", "loss", "softmax_log_of_zero",
            "Your loss is infinite: a probability rounded to exactly 0 and you took its "
            "log. Compute the log-probabilities directly from the shifted scores (the "
            "shifted score minus the log of the row's sum of exponentials).", _log_of_zero),
    Mistake("softmax_loss", "loss", "softmax_loss_not_averaged",
            "Your loss is exactly N times the right value: it is summed over the N examples "
            "but not divided by N. The loss is the mean over the examples.",
            lambda v: scaled(v, _n(v))),
    Mistake("softmax_loss", "dx", "softmax_gradient_not_divided",
            "Your dx is exactly N times the right value: the loss is a mean over N "
            "examples, so its gradient must be divided by N too.", lambda v: scaled(v, _n(v))),
    Mistake("softmax_loss", "dx", "softmax_one_not_subtracted",
            "Your dx is the right one plus 1/N at each correct class: the 1 of the correct "
            "class is not subtracted from its probability.", _missing_one),
    # svm_loss
    Mistake("svm_loss", "loss", "svm_counts_correct_class",
            "Your loss is exactly 1 more than the right value: the correct class's own "
            "margin (always 1) is counted. Leave the correct class out of the sum.",
            _svm_counts_correct_class),
    Mistake("svm_loss", "dx", "svm_counts_correct_class",
            "Your dx counts the correct class's own margin as a positive margin. Leave the "
            "correct class out before counting the positive margins.",
            _svm_counts_correct_class),
    Mistake("svm_loss", "loss", "svm_wrong_margin",
            "Your loss matches a hinge with a margin other than 1. The course's SVM asks "
            "each wrong class to score at least 1 below the correct one.", _svm_margin_ratio),
    Mistake("svm_loss", "dx", "svm_wrong_margin",
            "Your dx matches a hinge with a margin other than 1. The course's SVM asks each "
            "wrong class to score at least 1 below the correct one.", None),
    Mistake("svm_loss", "dx", "svm_correct_row_missing",
            "Your dx is right for the wrong classes but 0 at the correct class. The correct "
            "class gets minus the number of positive margins of its example (over N).",
            _svm_correct_row_missing),
    Mistake("svm_loss", "loss", "svm_loss_not_averaged",
            "Your loss is exactly N times the right value: it is summed over the examples "
            "but not divided by N.", lambda v: scaled(v, _n(v))),
    Mistake("svm_loss", "dx", "svm_gradient_not_divided",
            "Your dx is exactly N times the right value: divide the gradient by N, as the "
            "loss is.", lambda v: scaled(v, _n(v))),
    *_RULES,
)

ERROR_MISTAKES = ()
