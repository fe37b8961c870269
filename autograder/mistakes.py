"""The grader's side of the diagnosis: the tests only the answer key can run.

fcnet.diagnosis names the mistake behind a failed check from the check's views (each
output next to its right value, declared with the check in its question's module): the same in
the notebook and in the grader. A few mistakes can only be recognised by running the
answer key on changed inputs (flattening in the wrong order, an SVM margin other than
1): their tests are here, in GRADER_TESTS, and their words with their question's other
mistakes (in its module in fcnet/questions/, or in fcnet.mistakes until it moves there).
"""
import numpy as np

from answer_key import layers
from fcnet.diagnosis import close, diagnose_error

# ----------------------------------------------------------------------------- grader-only tests

def _flattened_in_wrong_order(view):
    x, w, b = (view.context[k] for k in ("x", "w", "b"))
    if np.ndim(x) < 3:
        return False
    n = len(x)
    orders = (np.reshape(x, (n, -1), order="F"), np.reshape(x, (-1, n)).T,
              np.reshape(np.transpose(x), (n, -1)))
    return any(close(view.got, layers.affine_forward(flat, w, b)[0], view.tol)
               for flat in orders)


_MARGINS = (0.0, 0.5, 2.0, 10.0)


def _svm_with_margin(x, y, margin):
    """The hinge loss and gradient with margin `margin`: margin * L(x / margin) with L of
    margin 1, whose gradient is L'(x / margin) (a tiny margin stands in for 0)."""
    margin = max(margin, 1e-9)
    loss, dx = layers.svm_loss(x / margin, y)
    return margin * loss, dx


def _svm_wrong_margin(view):
    x, y = view.context["x"], view.context["y"]
    index = 0 if view.role == "loss" else 1
    return any(close(view.got, _svm_with_margin(x, y, m)[index], max(view.tol, 1e-7))
               for m in _MARGINS)


def _linear_scores(case):
    """The scores of the net with no ReLU between its two affine layers."""
    hidden = layers.affine_forward(case["X"], case["W1"], case["b1"])[0]
    return layers.affine_forward(hidden, case["W2"], case["b2"])[0]


def _relu_missing(view):
    case = view.context["net"]
    scores = _linear_scores(case)
    if view.role == "scores":
        return close(view.got, scores, view.tol)
    loss = float(layers.softmax_loss(scores, case["y"])[0])
    reg = view.context["reg"]
    loss += 0.5 * reg * sum(float(np.sum(case[k] ** 2)) for k in ("W1", "W2"))
    return close(view.got, loss, view.tol)


GRADER_TESTS = {
    "relu_missing": _relu_missing,
    "flattened_in_wrong_order": _flattened_in_wrong_order,
    "svm_wrong_margin": _svm_wrong_margin,
}


# ----------------------------------------------------------------------------- entry points

def diagnosis_of(check, case, outputs):
    """fcnet.diagnosis.Diagnosis of a failed hidden check (`case` with its expected
    values, as judged), or None."""
    return check.diagnose(case, outputs, GRADER_TESTS)


def error_diagnosis(check, message):
    """Diagnosis of a hidden check whose probe raised `message`, or None."""
    return diagnose_error(check, message)
