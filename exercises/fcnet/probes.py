"""Every probe under its name, and decoupling with the layer names: the module a probe
task names its probe in. The grader's worker runs this module's text, so it may import
only numpy and fcnet.

(The probes of the questions not yet moved to fcnet/questions/ are still defined here.)
"""
import numpy as np

from fcnet import probing, questions
from fcnet.inline_answers import chosen_letters
from fcnet.probing import PARAM_NAMES, copies, pair, triple  # noqa: F401

# The affine-ReLU sandwich a TwoLayerNet calls (fcnet.layer_utils builds it from the
# affine and ReLU layers): not a question, so no question module declares it.
SANDWICH_NAMES = ("affine_relu_forward", "affine_relu_backward")
LAYER_NAMES = questions.layer_names() + SANDWICH_NAMES + ("softmax_loss", "svm_loss")
globals().update(questions.probes())


def decoupled(ns, reference):
    """fcnet.probing.decoupled with the layers a TwoLayerNet calls."""
    return probing.decoupled(ns, reference, LAYER_NAMES)


# ------------------------------------------------------------------------- losses

def _loss_probe(ns, case, name):
    x, y = copies(case, "x", "y")
    loss, dx = pair(ns[name](x, y), name)
    return {"loss": np.asarray(loss, dtype=np.float64), "dx": dx, "x_after": x, "y_after": y}


def softmax_loss_probe(ns, case):
    return _loss_probe(ns, case, "softmax_loss")


def svm_loss_probe(ns, case):
    return _loss_probe(ns, case, "svm_loss")


# ------------------------------------------------------------------------- inline questions

def inline_probe(ns, case):
    """The chosen option letters, as one sorted string ("" when the answer is empty)."""
    letters = chosen_letters(ns[str(case["qid"])])
    return {"letters": "".join(letters)[:64], "answered": bool(letters)}


# ------------------------------------------------------------------------- best model

def best_model_probe(ns, case):
    """Accuracy per graded view of the submitted parameters (no student code runs:
    `ns["best_model_params"]` holds the four arrays read from best_model.npz). Runs in
    the grader only: case["_views"] are autograder/best_model.py's views, built there."""
    # float32 halves the time of 10,000 images; the accuracy does not notice.
    params = {k: np.asarray(v, dtype=np.float32) for k, v in ns["best_model_params"].items()}
    return {f"accuracy_{name}": view.accuracy(params) for name, view in case["_views"].items()}
