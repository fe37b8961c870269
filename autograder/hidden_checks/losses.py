"""Chapter 3, the losses: hidden checks of softmax_loss and svm_loss."""
import numpy as np

from answer_key.layers import softmax_loss, svm_loss
from fcnet.checking import Check, CheckFailed, expect_close
from fcnet.gradient_check import eval_numerical_gradient

from .. import probes
from .judging import (AT_SCALE_HINT, array, close_to_numeric, judge_at_scale, labels,
                      reference, relative_error, scalar, unchanged)

# ------------------------------------------------------------------------- cases

def loss_case(rng):
    n, c = int(rng.integers(3, 17)), int(rng.integers(3, 12))
    return {"x": 2.0 * rng.standard_normal((n, c)), "y": labels(rng, n, c)}


def loss_case_large(rng):
    """Scores around +-1000, where exp() overflows unless the scores are shifted first."""
    n, c = int(rng.integers(3, 17)), int(rng.integers(3, 12))
    offsets = rng.choice([-1000.0, 1000.0], size=(n, 1))
    return {"x": offsets + 2.0 * rng.standard_normal((n, c)), "y": labels(rng, n, c)}


def loss_case_at_scale(rng):
    """40,000 examples of 10 classes, CIFAR-10's: a numeric gradient takes 800,000 loss
    evaluations. (The course's data never has more than 10 classes, so neither does this
    case: np.choose, for one, accepts at most 64.)"""
    return {"x": 2.0 * rng.standard_normal((40000, 10)), "y": labels(rng, 40000, 10)}


# ------------------------------------------------------------------------- judges

# A small constant guarding the log is accepted: adding up to LOG_GUARD to a probability
# before its log, or clipping it at LOG_GUARD, lowers the loss by at most
# mean(log(1 + LOG_GUARD / p)) over the correct classes' probabilities p. The cases keep
# every p far above 1e-12 (scores of a row within about 15 of each other).
LOG_GUARD = 1e-10


def _guard_slack(key, y, dx):
    """How much a guard of LOG_GUARD can lower the softmax loss (0 for the SVM)."""
    if key != "softmax":
        return 0.0
    n = len(y)
    p_correct = np.maximum(n * dx[np.arange(n), y] + 1.0, 1e-12)  # dx = (p - 1) / N there
    return float(np.mean(np.log1p(LOG_GUARD / p_correct)))


def _loss_is_off(loss, expected):
    """The relative error of a loss, 0 when a guard in the log explains the difference."""
    value, slack = expected["loss"], expected["guard_slack"]
    if value - slack - 1e-12 <= loss <= value:
        return 0.0
    return relative_error(loss, value)


def _loss_reference(fn, key):
    def loss_reference(case):
        def compute():
            x, y = case["x"], case["y"]
            loss, dx = fn(x.copy(), y)
            numeric = eval_numerical_gradient(lambda v: fn(v, y)[0], x.copy(), verbose=False)
            return {"loss": float(loss), "dx": dx, "dx_numeric": numeric,
                    "guard_slack": _guard_slack(key, y, dx)}
        return reference(case, key, compute)
    return loss_reference


_softmax_ref = _loss_reference(softmax_loss, "softmax")
_svm_ref = _loss_reference(svm_loss, "svm")


def _analytic(fn, key):
    """The answer key's own dx (the case is too large for a numeric one)."""
    def analytic(case):
        return reference(case, key, lambda: {"dx": fn(case["x"].copy(), case["y"])[1]})
    return analytic


def _judge_loss_value(loss_reference):
    def judge(case, out):
        loss, expected = scalar(out, "loss"), loss_reference(case)
        if not np.isfinite(loss):
            raise CheckFailed("the loss is not a finite number")
        error = _loss_is_off(loss, expected)
        if not error < 1e-8:
            raise CheckFailed(f"the loss is off: relative error {error:.1e}")
    return judge


def _judge_loss_gradient(loss_reference, tol=1e-6):
    def judge(case, out):
        close_to_numeric("dx", out, loss_reference(case)["dx_numeric"], tol)
    return judge


def judge_softmax_stable(case, out):
    loss, expected = scalar(out, "loss"), _softmax_ref(case)
    dx = array(out, "dx")
    if not np.isfinite(loss) or not np.all(np.isfinite(dx)):
        raise CheckFailed("with scores around 1000 the loss or dx is NaN or infinite")
    error = _loss_is_off(loss, expected)
    if not error < 1e-8:
        raise CheckFailed(f"with scores around 1000 the loss is off: relative error {error:.1e}")
    expect_close("dx", dx, expected["dx"], 1e-7)


def judge_loss_unmodified(case, out):
    unchanged(out, case, (("x_after", "x"), ("y_after", "y")))


# ------------------------------------------------------------------------- checks

_SOFTMAX, _SVM = ("softmax_loss",), ("svm_loss",)

CHECKS = [
    Check(qid="softmax_loss", name="loss",
          description="loss for fresh random scores and labels",
          hint="average -log(probability of the correct class) over the N examples",
          needs=_SOFTMAX, make_case=loss_case, probe=probes.softmax_loss_probe,
          judge=_judge_loss_value(_softmax_ref), weight=2),
    Check(qid="softmax_loss", name="gradient",
          description="dx agrees with a numeric gradient",
          hint="dx is the probabilities minus 1 at each correct class, divided by N",
          needs=_SOFTMAX, make_case=loss_case, probe=probes.softmax_loss_probe,
          judge=_judge_loss_gradient(_softmax_ref), weight=2, requires=("at_scale",)),
    Check(qid="softmax_loss", name="stable",
          description="stays finite and correct for scores around 1000",
          hint="subtract each row's largest score before exponentiating",
          needs=_SOFTMAX, make_case=loss_case_large, probe=probes.softmax_loss_probe,
          judge=judge_softmax_stable, weight=2, requires=("at_scale",)),
    Check(qid="softmax_loss", name="input_unmodified",
          description="x and y are left unmodified",
          hint="shift the scores into a new array (x - max) instead of subtracting in place",
          needs=_SOFTMAX, make_case=loss_case, probe=probes.softmax_loss_probe,
          judge=judge_loss_unmodified, weight=1,
          requires=("loss", "gradient", "at_scale")),
    Check(qid="softmax_loss", name="at_scale",
          description="dx for 40000 examples of 10 classes",
          hint=AT_SCALE_HINT,
          needs=_SOFTMAX, make_case=loss_case_at_scale, probe=probes.softmax_loss_probe,
          judge=judge_at_scale(("dx",), _analytic(softmax_loss, "softmax_analytic")),
          weight=1),
    Check(qid="svm_loss", name="loss",
          description="loss for fresh random scores and labels",
          hint="sum the margins max(0, s_j - s_y + 1) over the wrong classes only, then "
               "average over the N examples",
          needs=_SVM, make_case=loss_case, probe=probes.svm_loss_probe,
          judge=_judge_loss_value(_svm_ref), weight=2),
    Check(qid="svm_loss", name="gradient",
          description="dx agrees with a numeric gradient",
          hint="each positive margin adds 1 to its class and subtracts 1 from the correct "
               "class; divide by N",
          needs=_SVM, make_case=loss_case, probe=probes.svm_loss_probe,
          judge=_judge_loss_gradient(_svm_ref), weight=2, requires=("at_scale",)),
    Check(qid="svm_loss", name="input_unmodified",
          description="x and y are left unmodified",
          hint="compute margins in a new array instead of writing into x",
          needs=_SVM, make_case=loss_case, probe=probes.svm_loss_probe,
          judge=judge_loss_unmodified, weight=1,
          requires=("loss", "gradient", "at_scale")),
    Check(qid="svm_loss", name="at_scale",
          description="dx for 40000 examples of 10 classes",
          hint=AT_SCALE_HINT,
          needs=_SVM, make_case=loss_case_at_scale, probe=probes.svm_loss_probe,
          judge=judge_at_scale(("dx",), _analytic(svm_loss, "svm_analytic")), weight=1),
]
