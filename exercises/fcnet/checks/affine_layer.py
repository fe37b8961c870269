"""Chapter 1, the affine layer: the checks of affine_forward and affine_backward."""
import numpy as np

from .. import probes
from ..checking import Check, expect_close, expect_shape
from ..diagnosis import View
from ..judging import (AT_SCALE_HINT, array, close, dtype_view, expected, input_views,
                      judge_gradient, unchanged, with_dtype)

# ------------------------------------------------------------------------- cases

def affine_case_2d(rng):
    n, d, m = (int(v) for v in rng.integers((2, 3, 2), (8, 12, 7)))
    return {"x": rng.standard_normal((n, d)), "w": rng.standard_normal((d, m)),
            "b": rng.standard_normal(m)}


def affine_case_nd(rng, dtype=np.float64):
    n, m = int(rng.integers(2, 7)), int(rng.integers(2, 7))
    dims = tuple(int(v) for v in rng.integers(2, 5, size=int(rng.integers(2, 4))))
    d = int(np.prod(dims))
    return {"x": rng.standard_normal((n, *dims)).astype(dtype),
            "w": rng.standard_normal((d, m)).astype(dtype),
            "b": rng.standard_normal(m).astype(dtype)}


def affine_case_float32(rng):
    return affine_case_nd(rng, np.float32)


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


# ------------------------------------------------------------------------- judges
# The expected values (fcnet.checks.judging.expected): "out" for the forward cases; for
# the backward ones the numeric gradients "dx_numeric", "dw_numeric", "db_numeric" of the
# small case, and the analytic "dx", "dw", "db" (the only ones at scale).

def judge_affine_values(case, out):
    close("out", out, expected(case)["out"], 1e-8)


def judge_affine_float32(case, out):
    value = with_dtype("out", out, np.float32)
    expect_close("out", value, np.asarray(expected(case)["out"], dtype=np.float64), 1e-4)


def judge_affine_unmodified(case, out):
    unchanged(out, case, (("x_after", "x"), ("w_after", "w"), ("b_after", "b")))


def judge_affine_shapes(case, out):
    for name, shape in (("dx", case["x"].shape), ("dw", case["w"].shape),
                        ("db", case["b"].shape)):
        expect_shape(name, array(out, name), shape)


def judge_affine_backward_unmodified(case, out):
    if int(out.get("own_cache", 0)):  # the retry with the student's cache: inputs were fresh
        pairs = (("dout_after", "dout"),)
    else:
        pairs = (("dout_after", "dout"), ("x_after", "x"), ("w_after", "w"), ("b_after", "b"))
    unchanged(out, case, pairs)


# ------------------------------------------------------------------------- views
# Each output next to its right value, from which fcnet.diagnosis names a mistake.

def _tol(case, tol64=1e-8):
    """Float32 inputs give float32 results: compare them at float32's precision."""
    return tol64 if case["x"].dtype == np.float64 else 1e-4


def affine_forward_views(case, out):
    context = {k: case[k] for k in ("x", "w", "b")} | {"N": len(case["x"])}
    right = expected(case)["out"]
    return [View("out", "out", out.get("out"), right, context, tol=_tol(case)),
            dtype_view("out", out.get("out"), right, case["x"].dtype),
            *input_views(case, out, (("x_after", "x"), ("w_after", "w"), ("b_after", "b")))]


def affine_backward_views(case, out):
    context = {k: case[k] for k in ("x", "w", "b", "dout")} | {"N": len(case["x"])}
    right = expected(case)
    own_cache = int(out.get("own_cache", 0))  # the cache was the student's: x, w, b are new
    pairs = (("dout_after", "dout"),) + (() if own_cache else
                                         (("x_after", "x"), ("w_after", "w"), ("b_after", "b")))
    return [View(key, key, out.get(key), right[key], context, tol=1e-7)
            for key in ("dx", "dw", "db")] + input_views(case, out, pairs)


# ------------------------------------------------------------------------- checks

_AF, _AB = ("affine_forward",), ("affine_backward",)
_AFFINE_GRADIENTS = ("dx", "dw", "db")
# What shapes and inputs_unmodified count next to: the gradients and their at-scale gates.
_AFFINE_VALUES = _AFFINE_GRADIENTS + tuple(f"{g}_at_scale" for g in _AFFINE_GRADIENTS)

CHECKS = [
    Check(qid="affine_forward", name="values_2d",
          description="output for a 2-D input of random shape",
          hint="multiply the (N, D) input by w and add b to every row",
          needs=_AF, case_id="affine_forward.2d", make_case=affine_case_2d,
          probe=probes.affine_forward_probe, judge=judge_affine_values, weight=2, views=affine_forward_views),
    Check(qid="affine_forward", name="values_nd",
          description="output for a multi-dimensional input",
          hint="flatten each example to one row with x.reshape(N, -1), keeping the N "
               "examples apart; do not hard-code the shape",
          needs=_AF, case_id="affine_forward.nd", make_case=affine_case_nd,
          probe=probes.affine_forward_probe, judge=judge_affine_values, weight=2,
          views=affine_forward_views),
    Check(qid="affine_forward", name="float32",
          description="float32 inputs give a float32 output",
          hint="avoid creating float64 arrays (np.zeros without a dtype, astype(float))",
          needs=_AF, case_id="affine_forward.float32", make_case=affine_case_float32,
          probe=probes.affine_forward_probe, judge=judge_affine_float32, weight=1,
          views=affine_forward_views),
    Check(qid="affine_forward", name="inputs_unmodified",
          description="x, w and b are left unmodified",
          hint="reshape into a new variable instead of assigning to x.shape or writing "
               "into x",
          needs=_AF, case_id="affine_forward.nd", make_case=affine_case_nd,
          probe=probes.affine_forward_probe, judge=judge_affine_unmodified, weight=1,
          requires=("values_nd",), views=affine_forward_views),
    Check(qid="affine_backward", name="dx",
          description="dx agrees with a numeric gradient",
          hint="dx is dout times w transposed, reshaped back to the original shape of x",
          needs=_AB, case_id="affine_backward.small", make_case=affine_backward_case,
          probe=probes.affine_backward_probe, judge=judge_gradient("dx"),
          views=affine_backward_views, weight=2,
          requires=("dx_at_scale",)),
    Check(qid="affine_backward", name="dw",
          description="dw agrees with a numeric gradient",
          hint="dw pairs the flattened inputs (transposed) with dout",
          needs=_AB, case_id="affine_backward.small", make_case=affine_backward_case,
          probe=probes.affine_backward_probe, judge=judge_gradient("dw"),
          views=affine_backward_views, weight=2,
          requires=("dw_at_scale",)),
    Check(qid="affine_backward", name="db",
          description="db agrees with a numeric gradient",
          hint="db sums dout over the examples (axis 0); it is not an average",
          needs=_AB, case_id="affine_backward.small", make_case=affine_backward_case,
          probe=probes.affine_backward_probe, judge=judge_gradient("db"),
          views=affine_backward_views, weight=1,
          requires=("db_at_scale",)),
    Check(qid="affine_backward", name="shapes",
          description="dx, dw and db have the shapes of x, w and b",
          hint="each gradient has exactly the shape of the array it is the gradient of",
          needs=_AB, case_id="affine_backward.small", make_case=affine_backward_case,
          probe=probes.affine_backward_probe,
          judge=judge_affine_shapes, weight=1, requires=_AFFINE_VALUES,
          views=affine_backward_views),
    Check(qid="affine_backward", name="inputs_unmodified",
          description="dout and the cache are left unmodified",
          hint="compute new arrays instead of writing into dout or the cached arrays",
          needs=_AB, case_id="affine_backward.small", make_case=affine_backward_case,
          probe=probes.affine_backward_probe,
          judge=judge_affine_backward_unmodified, weight=1, requires=_AFFINE_VALUES,
          views=affine_backward_views),
    # One at-scale check per gradient, so that one wrong gradient costs only its own points.
    *[Check(qid="affine_backward", name=f"{name}_at_scale",
            description=f"{name} for 2 inputs of 300 x 1000 features and 3 outputs",
            hint=AT_SCALE_HINT,
            needs=_AB, case_id="affine_backward.at_scale",
            make_case=affine_backward_case_at_scale, probe=probes.affine_backward_probe,
            judge=judge_gradient(name), weight=1 / 3, public=False,
            views=affine_backward_views)
      for name in _AFFINE_GRADIENTS],
]
