"""Chapter 2: relu_backward(dout, cache) -> dx, the gradient of the ReLU."""
from functools import partial

import numpy as np

from ..checking import Check
from ..judging import (AT_SCALE_HINT, across_decades, away_from_zero, expected,
                       input_views, judge_gradient, unchanged)
from ..diagnosis import Mistake, View, as_array, close
from ..gradient_check import eval_numerical_gradient_array
from ..mistakes import input_modified_rule
from ..probing import copies, pair, returns, same_shapes
from . import relu_forward as forward_question
from .relu_forward import random_shape

ID = "relu_backward"
CHAPTER = "02_relu"
ORDER = 2  # its place among its chapter's questions
POINTS = 5
GRADES = ("relu_backward",)
LAYER = True
FORWARD = forward_question.GRADES[0]  # retried with the student's own forward


# ------------------------------------------------------------------------- probe

@returns(lambda case: same_shapes(case, dx="x", dout_after="dout", x_after="x"))
def relu_backward_probe(ns, case):
    """Call relu_backward(dout, x) (the cache is the forward input). A backward written
    for another cache layout gets a second chance with the cache of the student's own
    relu_forward; the forward's outputs are not graded here."""
    x, dout = copies(case, "x", "dout")
    backward = ns["relu_backward"]
    try:
        dx = backward(dout, x)
        route = 0
    except Exception as first_error:
        forward = ns.get(FORWARD)
        if forward is None:
            raise
        x, dout = copies(case, "x", "dout")
        try:
            _, cache = pair(forward(x.copy()), FORWARD)
            dx = backward(dout, cache)
        except Exception:
            raise first_error from None
        route = 1
    return {"dx": dx, "dout_after": dout, "x_after": x, "own_cache": route}


# ------------------------------------------------------------------------- cases

def small_case(rng):
    x = away_from_zero(rng, random_shape(rng))
    return {"x": x, "dout": rng.standard_normal(x.shape)}


def case_at_scale(rng):
    """500,000 entries of every size from 1e-300 to 100, either sign. Entry by entry a
    numeric gradient takes a million forward passes; all entries at once it takes two,
    but then one step h serves every entry, and it is wrong for those smaller than h
    (the kink lies inside the step) or far larger (x + h rounds to x). The mask x > 0 is
    exact for all of them."""
    x = across_decades(rng, (500, 1000), -300, 2)
    return {"x": x, "dout": rng.standard_normal(x.shape)}


def _right_dx(key, case, numeric=True):
    found = {"dx": key.relu_backward(case["dout"], case["x"])}
    if numeric:
        found["dx_numeric"] = eval_numerical_gradient_array(
            lambda v: key.relu_forward(v)[0], case["x"].copy(), case["dout"])
    return found


REFERENCES = {
    "relu_backward.small": _right_dx,
    "relu_backward.at_scale": partial(_right_dx, numeric=False),
}


# ------------------------------------------------------------------------- judges

def judge_unmodified(case, out):
    pairs = (("dout_after", "dout"),) if int(out.get("own_cache", 0)) else \
        (("dout_after", "dout"), ("x_after", "x"))
    unchanged(out, case, pairs)


def views(case, out):
    x, dout, dx = case["x"], case["dout"], expected(case)["dx"]
    context = {"x": x, "dout": dout, "dx": dx}
    own_cache = int(out.get("own_cache", 0))
    return [View("dx", "dx", out.get("dx"), dx, context),
            View("dout_after", "dout_after", out.get("dout_after"), dout, context, tol=0),
            *input_views(case, out, () if own_cache else (("x_after", "x"),))]


# ------------------------------------------------------------------------- mistakes

def _gradient_everywhere(view):
    dout = view.context.get("dout")
    return dout is not None and close(view.got, dout, view.tol)


def _mask_inverted(view):
    dout = view.context.get("dout")
    return dout is not None and close(view.got, as_array(dout) - as_array(view.expected),
                                      view.tol)


def _mask_only(view):
    """dx is 1 where the gradient flows and 0 elsewhere: the mask without dout."""
    right = as_array(view.expected)
    return right is not None and close(view.got, (right != 0).astype(float), view.tol)


def _dout_zeroed_in_place(view):
    dx = view.context.get("dx")
    return dx is not None and not close(view.got, view.expected, 0) and \
        close(view.got, dx, view.tol)


MISTAKES = (
    Mistake(ID, "dx", "relu_gradient_everywhere",
            "Your dx is dout unchanged: the gradient also flows where the input was "
            "negative. Let it through only where the forward input x was positive. (Taking "
            "the mask from the forward output is fine, since out > 0 exactly where x > 0; "
            "but out >= 0 is true everywhere.)", _gradient_everywhere),
    Mistake(ID, "dx", "relu_mask_inverted",
            "Your dx lets the gradient through where the input was negative and blocks it "
            "where it was positive: the mask is inverted.", _mask_inverted),
    Mistake(ID, "dx", "relu_dout_ignored",
            "Your dx is 1 where the input was positive and 0 elsewhere: that is the "
            "derivative of the ReLU alone. Multiply it by the upstream gradient dout "
            "(the chain rule).", _mask_only),
    Mistake(ID, "dout_after", "relu_dout_in_place",
            "Your relu_backward zeroes entries of dout in place and returns it, so the "
            "caller's dout changes. Build dx as a new array.", _dout_zeroed_in_place),
    input_modified_rule(ID, "input", "Your relu_backward writes into an array it is given "
                        "(the cached x)"),
    input_modified_rule(ID, "dout_after", "Your relu_backward writes into dout",
                        "Build dx as a new array."),
)


# ------------------------------------------------------------------------- checks

_check = partial(Check, qid=ID, needs=GRADES, probe=relu_backward_probe, views=views,
                 mistakes=MISTAKES)

CHECKS = [
    _check(name="dx", description="dx agrees with a numeric gradient",
           hint="pass dout through exactly where the forward input was positive, zero "
                "elsewhere",
           case_id="relu_backward.small", make_case=small_case, judge=judge_gradient("dx"),
           weight=3, requires=("at_scale",)),
    _check(name="inputs_unmodified", description="dout and the cache are left unmodified",
           hint="zeroing entries of dout in place changes the caller's array; build dx as a "
                "new array",
           case_id="relu_backward.small", make_case=small_case, judge=judge_unmodified,
           weight=1, requires=("dx", "at_scale")),
    _check(name="at_scale",
           description="dx for 500 x 1000 inputs of every size from 1e-300 to 100",
           hint=AT_SCALE_HINT, case_id="relu_backward.at_scale", make_case=case_at_scale,
           judge=judge_gradient("dx"), weight=1, public=False),
]
