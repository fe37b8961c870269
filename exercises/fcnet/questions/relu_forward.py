"""Chapter 2: relu_forward(x) -> (out, cache), the ReLU nonlinearity max(0, x)."""
from functools import partial

import numpy as np

from ..checking import Check, expect_close
from ..judging import away_from_zero, close, dtype_view, expected, unchanged, with_dtype
from ..diagnosis import Mistake, View, as_array, close as near
from ..mistakes import dtype_changed_rule, input_modified_rule
from ..probing import copies, pair, returns, same_shapes

ID = "relu_forward"
CHAPTER = "02_relu"
ORDER = 1  # its place among its chapter's questions
POINTS = 5
GRADES = ("relu_forward",)
LAYER = True


# ------------------------------------------------------------------------- probe

@returns(lambda case: same_shapes(case, out="x", x_after="x"))
def relu_forward_probe(ns, case):
    (x,) = copies(case, "x")
    out, _ = pair(ns["relu_forward"](x), "relu_forward")
    return {"out": out, "x_after": x}


# ------------------------------------------------------------------------- cases

def random_shape(rng):
    """A shape of 1 to 4 axes, each of 2 to 5 entries."""
    return tuple(int(v) for v in rng.integers(2, 6, size=int(rng.integers(1, 5))))


def relu_case(rng, dtype=np.float64):
    return {"x": away_from_zero(rng, random_shape(rng), dtype)}


def relu_case_float32(rng):
    return relu_case(rng, np.float32)


REFERENCES = {
    "relu_forward.values": lambda key, case: {"out": key.relu_forward(case["x"])[0]},
    "relu_forward.float32": lambda key, case: {"out": key.relu_forward(case["x"])[0]},
}


# ------------------------------------------------------------------------- judges

def judge_values(case, out):
    close("out", out, expected(case)["out"], 1e-12)


def judge_float32(case, out):
    value = with_dtype("out", out, np.float32)
    expect_close("out", value, np.asarray(expected(case)["out"], dtype=np.float64), 1e-6)


def judge_unmodified(case, out):
    unchanged(out, case, (("x_after", "x"),))


def views(case, out):
    x = case["x"]
    tol = 1e-6 if x.dtype == np.float64 else 1e-4
    right = expected(case)["out"]
    return [View("out", "out", out.get("out"), right, {"x": x}, tol=tol),
            dtype_view("out", out.get("out"), right, x.dtype),
            View("x_after", "x_after", out.get("x_after"), x, {"x": x}, tol=0)]


# ------------------------------------------------------------------------- mistakes

def _keeps_negatives(view):
    x = as_array(view.context.get("x"))
    return x is not None and near(view.got, x - as_array(view.expected), view.tol)


def _changed_only_negatives_to_zero(view):
    """x_after differs from x exactly where x < 0, and is 0 there."""
    before, after = as_array(view.expected), as_array(view.got)
    if before is None or after is None or before.shape != after.shape:
        return False
    changed = after != before
    return bool(np.any(changed)) and np.all(before[changed] < 0) and \
        np.all(after[changed] == 0)


MISTAKES = (
    Mistake(ID, "out", "relu_keeps_negatives",
            "Your output keeps the negative entries and zeroes the positive ones: the "
            "comparison is the wrong way round. Keep the entries above zero.",
            _keeps_negatives),
    Mistake(ID, "x_after", "relu_in_place",
            "Your relu_forward sets the negative entries of x to zero in place, so the "
            "caller's array (and the cache) change. Build the output as a new array.",
            _changed_only_negatives_to_zero),
    input_modified_rule(ID, "x_after", "Your relu_forward writes into x", "Build the output "
                        "as a new array."),
    dtype_changed_rule(ID, "relu_forward"),
)


# ------------------------------------------------------------------------- checks

_check = partial(Check, qid=ID, needs=GRADES, probe=relu_forward_probe, views=views,
                 mistakes=MISTAKES)

CHECKS = [
    _check(name="values", description="output for inputs of random shapes",
           hint="keep positive entries, replace negative ones by zero, elementwise, for any "
                "shape",
           case_id="relu_forward.values", make_case=relu_case, judge=judge_values, weight=3),
    _check(name="float32", description="float32 inputs give a float32 output",
           hint="np.maximum(x, 0) keeps the dtype; building the output from float64 arrays "
                "does not",
           case_id="relu_forward.float32", make_case=relu_case_float32, judge=judge_float32,
           weight=1),
    _check(name="input_unmodified", description="x is left unmodified",
           hint="setting x's negative entries to zero in place changes the caller's array "
                "(and the cache); compute a new array",
           case_id="relu_forward.values", make_case=relu_case, judge=judge_unmodified,
           weight=1, requires=("values",)),
]
