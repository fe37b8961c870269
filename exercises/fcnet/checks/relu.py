"""Chapter 2, the ReLU layer: the checks of relu_forward and relu_backward.

(The chapter's inline question is checked in inline_questions.py, with the other two.)
"""
import numpy as np

from .. import probes
from ..checking import Check, expect_close
from ..diagnosis import View
from .judging import (AT_SCALE_HINT, across_decades, away_from_zero, close, dtype_view,
                      expected, input_views, judge_gradient, unchanged, with_dtype)

# ------------------------------------------------------------------------- cases

def _random_shape(rng):
    return tuple(int(v) for v in rng.integers(2, 6, size=int(rng.integers(1, 5))))


def relu_case(rng, dtype=np.float64):
    return {"x": away_from_zero(rng, _random_shape(rng), dtype)}


def relu_case_float32(rng):
    return relu_case(rng, np.float32)


def relu_backward_case(rng):
    x = away_from_zero(rng, _random_shape(rng))
    return {"x": x, "dout": rng.standard_normal(x.shape)}


def relu_backward_case_at_scale(rng):
    """500,000 entries of every size from 1e-300 to 100, either sign. Entry by entry a
    numeric gradient takes a million forward passes; all entries at once it takes two,
    but then one step h serves every entry, and it is wrong for those smaller than h
    (the kink lies inside the step) or far larger (x + h rounds to x). The mask x > 0 is
    exact for all of them."""
    x = across_decades(rng, (500, 1000), -300, 2)
    return {"x": x, "dout": rng.standard_normal(x.shape)}


# ------------------------------------------------------------------------- judges
# The expected values: "out" for the forward cases; "dx_numeric" (small case) and the
# analytic "dx" for the backward ones.

def judge_relu_values(case, out):
    close("out", out, expected(case)["out"], 1e-12)


def judge_relu_float32(case, out):
    value = with_dtype("out", out, np.float32)
    expect_close("out", value, np.asarray(expected(case)["out"], dtype=np.float64), 1e-6)


def judge_relu_unmodified(case, out):
    unchanged(out, case, (("x_after", "x"),))


def judge_relu_backward_unmodified(case, out):
    pairs = (("dout_after", "dout"),) if int(out.get("own_cache", 0)) else \
        (("dout_after", "dout"), ("x_after", "x"))
    unchanged(out, case, pairs)


# ------------------------------------------------------------------------- views

def relu_forward_views(case, out):
    x = case["x"]
    tol = 1e-6 if x.dtype == np.float64 else 1e-4
    right = expected(case)["out"]
    return [View("out", "out", out.get("out"), right, {"x": x}, tol=tol),
            dtype_view("out", out.get("out"), right, x.dtype),
            View("x_after", "x_after", out.get("x_after"), x, {"x": x}, tol=0)]


def relu_backward_views(case, out):
    x, dout, dx = case["x"], case["dout"], expected(case)["dx"]
    context = {"x": x, "dout": dout, "dx": dx}
    own_cache = int(out.get("own_cache", 0))
    return [View("dx", "dx", out.get("dx"), dx, context),
            View("dout_after", "dout_after", out.get("dout_after"), dout, context, tol=0),
            *input_views(case, out, () if own_cache else (("x_after", "x"),))]


# ------------------------------------------------------------------------- checks

_RF, _RB = ("relu_forward",), ("relu_backward",)

CHECKS = [
    Check(qid="relu_forward", name="values",
          description="output for inputs of random shapes",
          hint="keep positive entries, replace negative ones by zero, elementwise, for any "
               "shape",
          needs=_RF, case_id="relu_forward.values", make_case=relu_case,
          probe=probes.relu_forward_probe, judge=judge_relu_values, weight=3,
          views=relu_forward_views),
    Check(qid="relu_forward", name="float32",
          description="float32 inputs give a float32 output",
          hint="np.maximum(x, 0) keeps the dtype; building the output from float64 arrays "
               "does not",
          needs=_RF, case_id="relu_forward.float32", make_case=relu_case_float32,
          probe=probes.relu_forward_probe, judge=judge_relu_float32, weight=1,
          views=relu_forward_views),
    Check(qid="relu_forward", name="input_unmodified",
          description="x is left unmodified",
          hint="setting x's negative entries to zero in place changes the caller's array "
               "(and the cache); compute a new array",
          needs=_RF, case_id="relu_forward.values", make_case=relu_case,
          probe=probes.relu_forward_probe, judge=judge_relu_unmodified, weight=1,
          requires=("values",), views=relu_forward_views),
    Check(qid="relu_backward", name="dx",
          description="dx agrees with a numeric gradient",
          hint="pass dout through exactly where the forward input was positive, zero "
               "elsewhere",
          needs=_RB, case_id="relu_backward.small", make_case=relu_backward_case,
          probe=probes.relu_backward_probe, judge=judge_gradient("dx"), weight=3,
          requires=("at_scale",), views=relu_backward_views),
    Check(qid="relu_backward", name="inputs_unmodified",
          description="dout and the cache are left unmodified",
          hint="zeroing entries of dout in place changes the caller's array; build dx as a "
               "new array",
          needs=_RB, case_id="relu_backward.small", make_case=relu_backward_case,
          probe=probes.relu_backward_probe, judge=judge_relu_backward_unmodified, weight=1,
          requires=("dx", "at_scale"), views=relu_backward_views),
    Check(qid="relu_backward", name="at_scale",
          description="dx for 500 x 1000 inputs of every size from 1e-300 to 100",
          hint=AT_SCALE_HINT,
          needs=_RB, case_id="relu_backward.at_scale", make_case=relu_backward_case_at_scale,
          probe=probes.relu_backward_probe, judge=judge_gradient("dx"), weight=1,
          public=False, views=relu_backward_views),
]
