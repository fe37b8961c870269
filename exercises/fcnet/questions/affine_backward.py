"""Chapter 1: affine_backward(dout, cache) -> (dx, dw, db), the gradients of the affine
layer, from the cache (x, w, b) of affine_forward."""
import re
from functools import partial

import numpy as np

from ..checking import Check, expect_shape
from ..judging import (AT_SCALE_HINT, array, expected, input_views, judge_gradient,
                       unchanged)
from ..diagnosis import (ErrorMistake, Mistake, View, as_array, close, reshapes_to_expected,
                         scaled, transposed)
from ..gradient_check import eval_numerical_gradient_array
from ..mistakes import examples_in, input_modified_rule
from ..probing import copies, pair, returns, same_shapes, triple
from . import affine_forward as forward_question
from .affine_forward import affine_case_nd

ID = "affine_backward"
CHAPTER = "01_affine_layer"
ORDER = 2  # its place among its chapter's questions
POINTS = 10
GRADES = ("affine_backward",)
LAYER = True
FORWARD = forward_question.GRADES[0]  # retried with the student's own forward


# ------------------------------------------------------------------------- probe

@returns(lambda case: same_shapes(case, dx="x", dw="w", db="b", dout_after="dout",
                                  x_after="x", w_after="w", b_after="b"))
def affine_backward_probe(ns, case):
    """Call affine_backward(dout, (x, w, b)), the cache the docstring specifies.

    A backward written for another cache layout gets a second chance with the cache of
    the student's own affine_forward; the forward's outputs are not graded here.
    """
    x, w, b, dout = copies(case, "x", "w", "b", "dout")
    backward = ns["affine_backward"]
    try:
        dx, dw, db = triple(backward(dout, (x, w, b)), "affine_backward")
        route = 0
    except Exception as first_error:
        forward = ns.get(FORWARD)
        if forward is None:
            raise
        x, w, b, dout = copies(case, "x", "w", "b", "dout")
        try:
            _, cache = pair(forward(x.copy(), w.copy(), b.copy()), FORWARD)
            dx, dw, db = triple(backward(dout, cache), "affine_backward")
        except Exception:
            raise first_error from None
        route = 1
    return {"dx": dx, "dw": dw, "db": db, "dout_after": dout, "x_after": x, "w_after": w,
            "b_after": b, "own_cache": route}


# ------------------------------------------------------------------------- cases

def affine_backward_case(rng):
    case = affine_case_nd(rng)
    case["dout"] = rng.standard_normal((case["x"].shape[0], case["w"].shape[1]))
    return case


def affine_backward_case_at_scale(rng):
    """A wide layer: two examples of 300 x 1000 = 300,000 features each, into 3 outputs.

    Backpropagation takes milliseconds. A numeric gradient needs two forward passes per
    feature for dx and per row of w for dw, even when it perturbs a whole column of the
    batch at once (the examples are independent): over an hour, and feeding the
    perturbations through as one batch of rows is as slow
    (benchmarks/numeric_gradients_at_scale.py). A wide case, rather than a tall one,
    because the number of features is what a numeric gradient pays for.
    """
    return {"x": rng.standard_normal((2, 300, 1000)), "w": rng.standard_normal((300_000, 3)),
            "b": rng.standard_normal(3), "dout": rng.standard_normal((2, 3))}


def _right_gradients(key, case, numeric=True):
    """The analytic dx, dw, db; for a small case also their numeric gradients
    "dx_numeric", "dw_numeric", "db_numeric", which the judges compare with."""
    x, w, b, dout = case["x"], case["w"], case["b"], case["dout"]
    found = dict(zip(("dx", "dw", "db"), key.affine_backward(dout, (x, w, b))))
    if numeric:
        for name, index in (("dx", 0), ("dw", 1), ("db", 2)):
            def f(v, index=index):
                args = [x, w, b]
                args[index] = v
                return key.affine_forward(*args)[0]
            found[name + "_numeric"] = eval_numerical_gradient_array(
                f, [x, w, b][index].copy(), dout)
    return found


REFERENCES = {
    "affine_backward.small": _right_gradients,
    "affine_backward.at_scale": partial(_right_gradients, numeric=False),
}


# ------------------------------------------------------------------------- judges

def judge_shapes(case, out):
    for name, shape in (("dx", case["x"].shape), ("dw", case["w"].shape),
                        ("db", case["b"].shape)):
        expect_shape(name, array(out, name), shape)


def _input_pairs(out):
    """(output, input) of the arrays the call must leave unmodified. After the retry
    with the student's own cache, x, w and b were fresh copies: only dout counts."""
    if int(out.get("own_cache", 0)):
        return (("dout_after", "dout"),)
    return (("dout_after", "dout"), ("x_after", "x"), ("w_after", "w"), ("b_after", "b"))


def judge_unmodified(case, out):
    unchanged(out, case, _input_pairs(out))


def views(case, out):
    context = {k: case[k] for k in ("x", "w", "b", "dout")} | {"N": len(case["x"])}
    right = expected(case)
    return [View(key, key, out.get(key), right[key], context, tol=1e-7)
            for key in ("dx", "dw", "db")] + input_views(case, out, _input_pairs(out))


# ------------------------------------------------------------------------- mistakes

def _not_flattened_in_dw(view):
    """dw built from the unflattened x: x.T has its example axis last, so the product
    with dout comes out with x's feature axes reversed in front."""
    got, right = as_array(view.got), as_array(view.expected)
    x = view.context.get("x")
    if got is None or x is None or np.ndim(x) < 3 or got.ndim != np.ndim(x):
        return False
    back = np.transpose(got, tuple(range(got.ndim - 2, -1, -1)) + (got.ndim - 1,))
    return back.size == right.size and close(back.reshape(right.shape), right, view.tol)


def _db_not_summed(view):
    dout = view.context.get("dout")
    return dout is not None and close(view.got, dout, view.tol)


# What Python says when a cache of another layout is taken apart.
_unpacking_failed = re.compile(r"unpack|not subscriptable|not iterable|tuple index").search


MISTAKES = (
    Mistake(ID, "db", "db_averaged",
            "Your db is exactly 1/N of the right value: you averaged dout over the N "
            "examples instead of summing. Every example adds its own share to the bias "
            "gradient, so sum over the examples (axis 0).", lambda v: scaled(v, 1 / examples_in(v))),
    Mistake(ID, "db", "db_not_summed",
            "Your db is dout itself, one row per example. Sum dout over the examples "
            "(axis 0) to get one value per output unit.", _db_not_summed),
    Mistake(ID, "dw", "dw_averaged",
            "Your dw is exactly 1/N of the right value: it is divided by the number of "
            "examples. The layer's gradient is a sum over the examples; any averaging "
            "belongs to the loss, not to the layer.", lambda v: scaled(v, 1 / examples_in(v))),
    Mistake(ID, "dw", "dw_times_N",
            "Your dw is exactly N times the right value: something multiplies it by the "
            "number of examples. The upstream dout already carries every factor needed.",
            lambda v: scaled(v, examples_in(v))),
    Mistake(ID, "dw", "dw_transposed",
            "Your dw is the right matrix transposed: it has shape (M, D) instead of "
            "(D, M). Put the flattened inputs, transposed, on the left of dout.",
            transposed),
    Mistake(ID, "dw", "x_not_flattened_in_dw",
            "Your dw is built from the unflattened x, so its axes come out in the wrong "
            "order. Flatten x to shape (N, D) first, exactly as the forward pass does.",
            _not_flattened_in_dw),
    Mistake(ID, "dx", "dx_not_reshaped",
            "Your dx holds the right numbers but has the flattened shape (N, D). Reshape it "
            "back to the original shape of x, which the cache gives you.",
            reshapes_to_expected),
    Mistake(ID, "dx", "dx_averaged",
            "Your dx is exactly 1/N of the right value: it is divided by the number of "
            "examples. Each example's dx depends on its own row of dout only.",
            lambda v: scaled(v, 1 / examples_in(v))),
    ErrorMistake(ID, "cache_unusable",
                 "affine_backward cannot unpack the cache: affine_forward must return "
                 "(x, w, b) as its cache, and affine_backward must take it apart in the "
                 "same order.", _unpacking_failed),
    input_modified_rule(ID, "input", "Your affine_backward writes into an array it is given "
                        "(dout or the cached x, w, b)"),
)


# ------------------------------------------------------------------------- checks

_check = partial(Check, qid=ID, needs=GRADES, probe=affine_backward_probe, views=views,
                 mistakes=MISTAKES)
_GRADIENTS = ("dx", "dw", "db")
# What shapes and inputs_unmodified count next to: the gradients and their at-scale gates.
_VALUES = _GRADIENTS + tuple(f"{g}_at_scale" for g in _GRADIENTS)

CHECKS = [
    _check(name="dx", description="dx agrees with a numeric gradient",
           hint="dx is dout times w transposed, reshaped back to the original shape of x",
           case_id="affine_backward.small", make_case=affine_backward_case,
           judge=judge_gradient("dx"), weight=2, requires=("dx_at_scale",)),
    _check(name="dw", description="dw agrees with a numeric gradient",
           hint="dw pairs the flattened inputs (transposed) with dout",
           case_id="affine_backward.small", make_case=affine_backward_case,
           judge=judge_gradient("dw"), weight=2, requires=("dw_at_scale",)),
    _check(name="db", description="db agrees with a numeric gradient",
           hint="db sums dout over the examples (axis 0); it is not an average",
           case_id="affine_backward.small", make_case=affine_backward_case,
           judge=judge_gradient("db"), weight=1, requires=("db_at_scale",)),
    _check(name="shapes", description="dx, dw and db have the shapes of x, w and b",
           hint="each gradient has exactly the shape of the array it is the gradient of",
           case_id="affine_backward.small", make_case=affine_backward_case,
           judge=judge_shapes, weight=1, requires=_VALUES),
    _check(name="inputs_unmodified", description="dout and the cache are left unmodified",
           hint="compute new arrays instead of writing into dout or the cached arrays",
           case_id="affine_backward.small", make_case=affine_backward_case,
           judge=judge_unmodified, weight=1, requires=_VALUES),
    # One at-scale check per gradient, so that one wrong gradient costs only its own points.
    *[_check(name=f"{name}_at_scale",
             description=f"{name} for 2 inputs of 300 x 1000 features and 3 outputs",
             hint=AT_SCALE_HINT, case_id="affine_backward.at_scale",
             make_case=affine_backward_case_at_scale, judge=judge_gradient(name),
             weight=1 / 3, public=False)
      for name in _GRADIENTS],
]
