"""Chapter 3, the losses: the checks of softmax_loss and svm_loss."""
import numpy as np

from .. import probes
from ..checking import Check, CheckFailed, expect_close
from ..diagnosis import View
from ..judging import (AT_SCALE_HINT, across_decades, array, expected, input_views,
                       judge_gradient, labels, relative_error, scalar, unchanged)

# ------------------------------------------------------------------------- cases

def loss_case(rng):
    n, c = int(rng.integers(3, 17)), int(rng.integers(3, 12))
    return {"x": 2.0 * rng.standard_normal((n, c)), "y": labels(rng, n, c)}


def loss_case_large(rng):
    """Scores around +-1000, where exp() overflows unless the scores are shifted first.
    Rows of both signs, so that one shift for the whole batch cannot pass either."""
    n, c = int(rng.integers(3, 17)), int(rng.integers(3, 12))
    offsets = rng.permutation(np.where(np.arange(n) % 2 == 0, 1000.0, -1000.0))[:, None]
    return {"x": offsets + 2.0 * rng.standard_normal((n, c)), "y": labels(rng, n, c)}


# The at-scale cases keep CIFAR-10's 10 classes, as the course's data does (np.choose, for
# one, accepts at most 64). With so few classes a numeric gradient that perturbs one class
# of every example at once (the examples are independent) needs only 20 loss evaluations,
# as fast as backpropagation; so these cases stop it by precision instead. Only dx is
# judged on them (benchmarks/numeric_gradients_at_scale.py measures both).

def softmax_case_at_scale(rng):
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


def svm_case_at_scale(rng):
    """40,000 examples of 10 classes whose margins s_j - s_y + 1 have every size from
    1e-12 to 10, either sign. The hinge's kink lies inside any step h larger than the
    smallest margins, and a smaller step loses the derivative to rounding in margins
    of size 10. Counting the positive margins is exact: 1e-12 is hundreds of times the
    rounding of the scores, so every order of the subtraction agrees on each sign."""
    n, c = 40000, 10
    y, correct = labels(rng, n, c), 2.0 * rng.standard_normal(n)
    x = correct[:, None] - 1.0 + across_decades(rng, (n, c), -12, 1)
    x[np.arange(n), y] = correct
    return {"x": x, "y": y}


# ------------------------------------------------------------------------- judges
# The expected values: "loss", the analytic "dx", (small cases) "dx_numeric", and
# "guard_slack": how much a guard of LOG_GUARD in the log can lower the softmax loss.

# A small constant guarding the log is accepted: adding up to LOG_GUARD to a probability
# before its log, or clipping it at LOG_GUARD, lowers the loss by at most
# mean(log(1 + LOG_GUARD / p)) over the correct classes' probabilities p. The cases keep
# every p far above 1e-12 (scores of a row within about 15 of each other), except the
# softmax at-scale case, whose loss is not judged.
LOG_GUARD = 1e-10


def _loss_is_off(loss, right):
    """The relative error of a loss, 0 when a guard in the log explains the difference."""
    value, slack = right["loss"], right.get("guard_slack", 0.0)
    if value - slack - 1e-12 <= loss <= value:
        return 0.0
    return relative_error(loss, value)


def judge_loss_value(case, out):
    loss = scalar(out, "loss")
    if not np.isfinite(loss):
        raise CheckFailed("the loss is not a finite number")
    error = _loss_is_off(loss, expected(case))
    if not error < 1e-8:
        raise CheckFailed(f"the loss is off: relative error {error:.1e}")


def judge_softmax_stable(case, out):
    loss, right = scalar(out, "loss"), expected(case)
    dx = array(out, "dx")
    if not np.isfinite(loss) or not np.all(np.isfinite(dx)):
        raise CheckFailed("with scores around 1000 the loss or dx is NaN or infinite")
    error = _loss_is_off(loss, right)
    if not error < 1e-8:
        raise CheckFailed(f"with scores around 1000 the loss is off: relative error {error:.1e}")
    expect_close("dx", dx, right["dx"], 1e-7)


def judge_loss_unmodified(case, out):
    unchanged(out, case, (("x_after", "x"), ("y_after", "y")))


def loss_views(case, out):
    """The loss and dx next to the answer key's."""
    x, y, right = case["x"], case["y"], expected(case)
    context = {"x": x, "y": y, "N": len(y)}
    return [View("loss", "loss", out.get("loss"), float(right["loss"]), context, tol=1e-8),
            View("dx", "dx", out.get("dx"), right["dx"], context, tol=1e-6),
            *input_views(case, out, (("x_after", "x"), ("y_after", "y")))]


# ------------------------------------------------------------------------- checks

_SOFTMAX, _SVM = ("softmax_loss",), ("svm_loss",)

CHECKS = [
    Check(qid="softmax_loss", name="loss",
          description="loss for random scores and labels",
          hint="average -log(probability of the correct class) over the N examples",
          needs=_SOFTMAX, case_id="softmax_loss.small", make_case=loss_case,
          probe=probes.softmax_loss_probe,
          judge=judge_loss_value, weight=2, views=loss_views),
    Check(qid="softmax_loss", name="gradient",
          description="dx agrees with a numeric gradient",
          hint="dx is the probabilities minus 1 at each correct class, divided by N",
          needs=_SOFTMAX, case_id="softmax_loss.small", make_case=loss_case,
          probe=probes.softmax_loss_probe,
          judge=judge_gradient("dx"), weight=2, requires=("at_scale",),
          views=loss_views),
    Check(qid="softmax_loss", name="stable",
          description="stays finite and correct for scores around 1000",
          hint="subtract each row's largest score before exponentiating",
          needs=_SOFTMAX, case_id="softmax_loss.large", make_case=loss_case_large,
          probe=probes.softmax_loss_probe,
          judge=judge_softmax_stable, weight=2, requires=("at_scale",),
          views=loss_views),
    Check(qid="softmax_loss", name="input_unmodified",
          description="x and y are left unmodified",
          hint="shift the scores into a new array (x - max) instead of subtracting in place",
          needs=_SOFTMAX, case_id="softmax_loss.small", make_case=loss_case,
          probe=probes.softmax_loss_probe,
          judge=judge_loss_unmodified, weight=1,
          requires=("loss", "gradient", "at_scale"), views=loss_views),
    Check(qid="softmax_loss", name="at_scale",
          description="dx for 40000 examples of 10 classes, half of them with the correct "
                      "class scored 1e12 or more below the others",
          hint=AT_SCALE_HINT,
          needs=_SOFTMAX, case_id="softmax_loss.at_scale", make_case=softmax_case_at_scale,
          probe=probes.softmax_loss_probe,
          judge=judge_gradient("dx"), weight=1, public=False, views=loss_views),
    Check(qid="svm_loss", name="loss",
          description="loss for random scores and labels",
          hint="sum the margins max(0, s_j - s_y + 1) over the wrong classes only, then "
               "average over the N examples",
          needs=_SVM, case_id="svm_loss.small", make_case=loss_case, probe=probes.svm_loss_probe,
          judge=judge_loss_value, weight=2, views=loss_views),
    Check(qid="svm_loss", name="gradient",
          description="dx agrees with a numeric gradient",
          hint="each positive margin adds 1 to its class and subtracts 1 from the correct "
               "class; divide by N",
          needs=_SVM, case_id="svm_loss.small", make_case=loss_case, probe=probes.svm_loss_probe,
          judge=judge_gradient("dx"), weight=2, requires=("at_scale",),
          views=loss_views),
    Check(qid="svm_loss", name="input_unmodified",
          description="x and y are left unmodified",
          hint="compute margins in a new array instead of writing into x",
          needs=_SVM, case_id="svm_loss.small", make_case=loss_case, probe=probes.svm_loss_probe,
          judge=judge_loss_unmodified, weight=1,
          requires=("loss", "gradient", "at_scale"), views=loss_views),
    Check(qid="svm_loss", name="at_scale",
          description="dx for 40000 examples of 10 classes, with margins of every size "
                      "from 1e-12 to 10",
          hint=AT_SCALE_HINT,
          needs=_SVM, case_id="svm_loss.at_scale", make_case=svm_case_at_scale,
          probe=probes.svm_loss_probe,
          judge=judge_gradient("dx"), weight=1, public=False, views=loss_views),
]
