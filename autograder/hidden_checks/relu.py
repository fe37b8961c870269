"""Chapter 2, the ReLU layer: hidden checks of relu_forward and relu_backward.

(The chapter's inline question is checked in inline_questions.py, with the other two.)
"""
import numpy as np

from answer_key.layers import relu_backward, relu_forward
from fcnet.checking import Check, expect_close
from fcnet.gradient_check import eval_numerical_gradient_array

from .. import probes
from .judging import (AT_SCALE_HINT, away_from_zero, close, judge_at_scale, judge_gradient,
                      reference, unchanged, with_dtype)

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
    """500,000 entries: a numeric gradient takes a million forward passes."""
    x = away_from_zero(rng, (500, 1000))
    return {"x": x, "dout": rng.standard_normal(x.shape)}


# ------------------------------------------------------------------------- judges

def judge_relu_values(case, out):
    close("out", out, relu_forward(case["x"])[0], 1e-12)


def judge_relu_float32(case, out):
    value = with_dtype("out", out, np.float32)
    expect_close("out", value, relu_forward(case["x"])[0].astype(np.float64), 1e-6)


def judge_relu_unmodified(case, out):
    unchanged(out, case, (("x_after", "x"),))


def _relu_numeric(case):
    return reference(case, "relu_numeric", lambda: {
        "dx": eval_numerical_gradient_array(lambda v: relu_forward(v)[0], case["x"].copy(),
                                            case["dout"])})


def _relu_analytic(case):
    return reference(case, "relu_analytic",
                     lambda: {"dx": relu_backward(case["dout"], case["x"])})


def judge_relu_backward_unmodified(case, out):
    pairs = (("dout_after", "dout"),) if int(out.get("own_cache", 0)) else \
        (("dout_after", "dout"), ("x_after", "x"))
    unchanged(out, case, pairs)


# ------------------------------------------------------------------------- checks

_RF, _RB = ("relu_forward",), ("relu_backward",)

CHECKS = [
    Check(qid="relu_forward", name="values",
          description="output for inputs of fresh random shapes",
          hint="keep positive entries, replace negative ones by zero, elementwise, for any "
               "shape",
          needs=_RF, make_case=relu_case, probe=probes.relu_forward_probe,
          judge=judge_relu_values, weight=3),
    Check(qid="relu_forward", name="float32",
          description="float32 inputs give a float32 output",
          hint="np.maximum(x, 0) keeps the dtype; building the output from float64 arrays "
               "does not",
          needs=_RF, make_case=relu_case_float32, probe=probes.relu_forward_probe,
          judge=judge_relu_float32, weight=1),
    Check(qid="relu_forward", name="input_unmodified",
          description="x is left unmodified",
          hint="setting x's negative entries to zero in place changes the caller's array "
               "(and the cache); compute a new array",
          needs=_RF, make_case=relu_case, probe=probes.relu_forward_probe,
          judge=judge_relu_unmodified, weight=1, requires=("values",)),
    Check(qid="relu_backward", name="dx",
          description="dx agrees with a numeric gradient",
          hint="pass dout through exactly where the forward input was positive, zero "
               "elsewhere",
          needs=_RB, make_case=relu_backward_case, probe=probes.relu_backward_probe,
          judge=judge_gradient("dx", _relu_numeric), weight=3, requires=("at_scale",)),
    Check(qid="relu_backward", name="inputs_unmodified",
          description="dout and the cache are left unmodified",
          hint="zeroing entries of dout in place changes the caller's array; build dx as a "
               "new array",
          needs=_RB, make_case=relu_backward_case, probe=probes.relu_backward_probe,
          judge=judge_relu_backward_unmodified, weight=1, requires=("dx", "at_scale")),
    Check(qid="relu_backward", name="at_scale",
          description="dx for an input of 500 x 1000 entries",
          hint=AT_SCALE_HINT,
          needs=_RB, make_case=relu_backward_case_at_scale, probe=probes.relu_backward_probe,
          judge=judge_at_scale(("dx",), _relu_analytic), weight=1),
]
