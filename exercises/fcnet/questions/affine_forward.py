"""Chapter 1: affine_forward(x, w, b) -> (out, cache), the affine layer x w + b, with each
example of x flattened to one row."""
import re
from functools import partial

import numpy as np

from ..checking import Check, expect_close
from ..judging import close, dtype_view, expected, input_views, unchanged, with_dtype
from ..diagnosis import ErrorMistake, Mistake, View, differs_by
from ..mistakes import dtype_changed_rule, input_modified_rule
from ..probing import copies, pair, returns, same_shapes

ID = "affine_forward"
CHAPTER = "01_affine_layer"
ORDER = 1  # its place among its chapter's questions
POINTS = 10
GRADES = ("affine_forward",)
LAYER = True


# ------------------------------------------------------------------------- probe

@returns(lambda case: {"out": (len(case["x"]), np.shape(case["w"])[1]),
                       **same_shapes(case, x_after="x", w_after="w", b_after="b")})
def affine_forward_probe(ns, case):
    """Call affine_forward(x, w, b); report out and the inputs as they are afterwards."""
    x, w, b = copies(case, "x", "w", "b")
    out, _ = pair(ns["affine_forward"](x, w, b), "affine_forward")
    return {"out": out, "x_after": x, "w_after": w, "b_after": b}


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


def _right_out(key, case):
    return {"out": key.affine_forward(case["x"], case["w"], case["b"])[0]}


REFERENCES = {
    "affine_forward.2d": _right_out,
    "affine_forward.nd": _right_out,
    "affine_forward.float32": _right_out,
}


# ------------------------------------------------------------------------- judges

def judge_values(case, out):
    close("out", out, expected(case)["out"], 1e-8)


def judge_float32(case, out):
    value = with_dtype("out", out, np.float32)
    expect_close("out", value, np.asarray(expected(case)["out"], dtype=np.float64), 1e-4)


def judge_unmodified(case, out):
    unchanged(out, case, (("x_after", "x"), ("w_after", "w"), ("b_after", "b")))


def views(case, out):
    """out next to its right value, at float32's precision for float32 inputs."""
    context = {k: case[k] for k in ("x", "w", "b")} | {"N": len(case["x"])}
    right = expected(case)["out"]
    tol = 1e-8 if case["x"].dtype == np.float64 else 1e-4
    return [View("out", "out", out.get("out"), right, context, tol=tol),
            dtype_view("out", out.get("out"), right, case["x"].dtype),
            *input_views(case, out, (("x_after", "x"), ("w_after", "w"), ("b_after", "b")))]


# ------------------------------------------------------------------------- mistakes

_FLAT = ("flatten each example to one row of D values, in the order numpy's reshape "
         "keeps them (row-major, the default)")


def _unflattened_product(message):
    """The error of x (N, d_1, ..., d_k) times w (D, M): numpy names D next to d_k, where
    D is a multiple of d_k. (A product that fails for another reason, such as w
    transposed, names other sizes.)"""
    sizes = re.search(r"size (\d+) is different from (\d+)", message)
    if sizes:
        d, last = int(sizes.group(1)), int(sizes.group(2))
        return "matmul" in message and d > last > 0 and d % last == 0
    shapes = re.search(r"shapes \(([\d, ]+)\) and \((\d+),", message)
    if shapes and "not aligned" in message:
        x_shape = [int(v) for v in shapes.group(1).split(",") if v.strip()]
        return len(x_shape) > 2 and int(np.prod(x_shape[1:])) == int(shapes.group(2))
    return False


MISTAKES = (
    Mistake(ID, "out", "no_bias",
            "Your output is exactly the right one minus b: the bias is never added. Add b "
            "to every row of the product.", lambda v: differs_by(v, v.context["b"], -1.0)),
    # Only the answer key can recognise it: its test is in the grader (autograder.mistakes).
    Mistake(ID, "out", "flattened_in_wrong_order",
            f"Your output matches a layer that flattens the inputs in another order. "
            f"{_FLAT[0].upper() + _FLAT[1:]}; do not transpose x or ask reshape for "
            f"Fortran order.", None),
    ErrorMistake(ID, "not_flattened",
                 "Your layer multiplies x by w without flattening it, which fails for "
                 f"examples of more than one dimension: {_FLAT}.",
                 _unflattened_product),
    input_modified_rule(ID, "input", "Your affine_forward writes into an array it is given "
                        "(x, w or b)"),
    dtype_changed_rule(ID, "affine_forward"),
)


# ------------------------------------------------------------------------- checks

_check = partial(Check, qid=ID, needs=GRADES, probe=affine_forward_probe, views=views,
                 mistakes=MISTAKES)

CHECKS = [
    _check(name="values_2d", description="output for a 2-D input of random shape",
           hint="multiply the (N, D) input by w and add b to every row",
           case_id="affine_forward.2d", make_case=affine_case_2d, judge=judge_values,
           weight=2),
    _check(name="values_nd", description="output for a multi-dimensional input",
           hint="flatten each example to one row with x.reshape(N, -1), keeping the N "
                "examples apart; do not hard-code the shape",
           case_id="affine_forward.nd", make_case=affine_case_nd, judge=judge_values,
           weight=2),
    _check(name="float32", description="float32 inputs give a float32 output",
           hint="avoid creating float64 arrays (np.zeros without a dtype, astype(float))",
           case_id="affine_forward.float32", make_case=affine_case_float32,
           judge=judge_float32, weight=1),
    _check(name="inputs_unmodified", description="x, w and b are left unmodified",
           hint="reshape into a new variable instead of assigning to x.shape or writing "
                "into x",
           case_id="affine_forward.nd", make_case=affine_case_nd, judge=judge_unmodified,
           weight=1, requires=("values_nd",)),
]
