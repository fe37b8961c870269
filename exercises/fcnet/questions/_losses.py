"""What chapter 3's two losses share: softmax_loss and svm_loss both take scores x (N, C)
and labels y (N,) and return (loss, dx), so they are called, drawn, judged and shown the
same way. Each question's own module (softmax_loss.py, svm_loss.py) adds what is its
alone. This module is not a question: it is not in MODULES.
"""
import numpy as np

from ..checking import CheckFailed, number_is_off
from ..diagnosis import View
from ..gradient_check import eval_numerical_gradient
from ..judging import expected, input_views, labels, relative_error, scalar, unchanged
from ..probing import copies, pair, same_shapes

# ------------------------------------------------------------------------- probe

def loss_probe(ns, case, name):
    """Call ns[name](x, y); report the loss, dx and the inputs as they are afterwards."""
    x, y = copies(case, "x", "y")
    loss, dx = pair(ns[name](x, y), name)
    return {"loss": np.asarray(loss, dtype=np.float64), "dx": dx, "x_after": x, "y_after": y}


def loss_shapes(case):
    return {"loss": (), **same_shapes(case, dx="x", x_after="x", y_after="y")}


# ------------------------------------------------------------------------- cases

def loss_case(rng):
    n, c = int(rng.integers(3, 17)), int(rng.integers(3, 12))
    return {"x": 2.0 * rng.standard_normal((n, c)), "y": labels(rng, n, c)}


# The at-scale cases (each loss's own case_at_scale) keep CIFAR-10's 10 classes, as the
# course's data does (np.choose, for one, accepts at most 64). With so few classes a
# numeric gradient that perturbs one class of every example at once (the examples are
# independent) needs only 20 loss evaluations, as fast as backpropagation; so these cases
# stop it by precision instead. Only dx is judged on them
# (benchmarks/numeric_gradients_at_scale.py measures both).

def right_loss(loss_fn, case, numeric=True, guard_slack=None):
    """The answer key's `loss_fn` on a case: "loss", the analytic "dx", "guard_slack"
    (how much lower a loss the judges accept: `guard_slack(y, dx)`, or 0) and, with
    `numeric`, "dx_numeric"."""
    x, y = case["x"], case["y"]
    loss, dx = loss_fn(x.copy(), y)
    found = {"loss": float(loss), "dx": dx,
             "guard_slack": 0.0 if guard_slack is None else guard_slack(y, dx)}
    if numeric:
        found["dx_numeric"] = eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x.copy(),
                                                      verbose=False)
    return found


# ------------------------------------------------------------------------- judges
# The expected values: "loss", the analytic "dx", (small cases) "dx_numeric", and
# "guard_slack": how much a guard in the log can lower the loss (softmax_loss.LOG_GUARD).

def loss_is_off(loss, right):
    """The relative error of a loss, 0 when a guard in the log explains the difference."""
    value, slack = right["loss"], right.get("guard_slack", 0.0)
    if value - slack - 1e-12 <= loss <= value:
        return 0.0
    return relative_error(loss, value)


def judge_loss_value(case, out):
    loss = scalar(out, "loss")
    if not np.isfinite(loss):
        raise CheckFailed("the loss is not a finite number")
    error = loss_is_off(loss, expected(case))
    if not error < 1e-8:
        raise number_is_off("the loss", 1e-8)


def judge_loss_unmodified(case, out):
    unchanged(out, case, (("x_after", "x"), ("y_after", "y")))


def loss_views(case, out):
    """The loss and dx next to the answer key's."""
    x, y, right = case["x"], case["y"], expected(case)
    context = {"x": x, "y": y, "N": len(y)}
    return [View("loss", "loss", out.get("loss"), float(right["loss"]), context, tol=1e-8),
            View("dx", "dx", out.get("dx"), right["dx"], context, tol=1e-6),
            *input_views(case, out, (("x_after", "x"), ("y_after", "y")))]


# ------------------------------------------------------------------------- mistakes

def onehot(view):
    """1 at each example's label, 0 elsewhere, shaped like the scores."""
    y = np.asarray(view.context["y"])
    found = np.zeros(np.shape(view.expected))
    found[np.arange(len(y)), y] = 1.0
    return found
