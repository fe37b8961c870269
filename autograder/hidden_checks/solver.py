"""Chapter 5, the solver: hidden checks of sgd, and of training with the student's code.

Training runs in the worker (probes.training_probe) on a CIFAR-10 subset with the settings
of points.TRAINING; the judges here score the weights it ends with, in the grader.
"""
import numpy as np

from fcnet.checking import Check, CheckFailed

from .. import data, probes
from ..points import TRAINING, TRAINING_LEARNS, TRAINING_LOSS_RATIO, TRAINING_THRESHOLD
from .judging import array, close, unchanged

# ------------------------------------------------------------------------- sgd

def sgd_case(rng):
    m, n, k = (int(v) for v in rng.integers((2, 2, 2), (6, 7, 9)))
    return {"w_matrix": rng.standard_normal((m, n)), "dw_matrix": rng.standard_normal((m, n)),
            "w_vector": rng.standard_normal(k), "dw_vector": rng.standard_normal(k),
            "learning_rate": float(10 ** rng.uniform(-4, -1.5))}


def judge_sgd_step(case, out):
    for suffix in ("_matrix", "_vector"):
        expected = case["w" + suffix] - case["learning_rate"] * case["dw" + suffix]
        close("next_w" + suffix, out, expected, 1e-10)


def judge_sgd_config(case, out):
    for suffix in ("_matrix", "_vector"):
        if not out.get("config_is_dict" + suffix):
            raise CheckFailed("the second value sgd returns must be the config dict")
        rate = out.get("config_rate" + suffix)
        if not (isinstance(rate, float) and rate == case["learning_rate"]):
            raise CheckFailed("the returned config must keep the learning_rate it was given")


def judge_sgd_default(case, out):
    expected = case["w_matrix"] - 1e-2 * case["dw_matrix"]
    for key, words in (("omitted", "without a config"), ("none", "with config=None"),
                       ("empty", "with an empty config")):
        value = out.get("next_w_" + key)
        if not isinstance(value, np.ndarray) or value.shape != expected.shape \
                or not np.allclose(value, expected, rtol=1e-10, atol=0):
            raise CheckFailed(f"{words}, sgd should step with the default learning rate 1e-2")


def judge_sgd_unmodified(case, out):
    unchanged(out, case, (("dw_after_matrix", "dw_matrix"), ("dw_after_vector", "dw_vector")))


# ------------------------------------------------------------------------- training

def training_case(rng):
    split = data.training_split(TRAINING["num_train"], TRAINING["num_val"])
    return {**split, "D": int(np.prod(split["X_train"].shape[1:])),
            "np_seed": int(rng.integers(2 ** 31)),
            **{key: TRAINING[key] for key in ("hidden_dim", "weight_scale", "reg",
                                             "learning_rate", "lr_decay", "num_epochs",
                                             "batch_size")}}


def _trained_params(out, suffix=""):
    params = {}
    for key in probes.PARAM_NAMES:
        value = array(out, key + suffix).astype(np.float64)
        if not np.all(np.isfinite(value)):
            raise CheckFailed(f"after training, params[{key!r}] contains NaN or infinity")
        params[key] = value
    return params


def _network_fit(params, X, y):
    """(accuracy, mean softmax loss) of a two-layer net with `params` on X, y."""
    n = len(X)
    X = X.reshape(n, -1)
    try:
        hidden = np.maximum(X @ params["W1"] + params["b1"], 0)
        scores = hidden @ params["W2"] + params["b2"]
    except ValueError as err:
        raise CheckFailed(f"the trained parameters do not fit a two-layer net ({err})")
    if scores.shape != (n, 10):
        raise CheckFailed(f"the trained network gives scores of shape {scores.shape}")
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(np.mean(np.argmax(scores, axis=1) == y)), float(-log_probs[np.arange(n), y].mean())


def _held_out_accuracy(out):
    X, y = data.training_eval_set(TRAINING["num_eval"])
    return _network_fit(_trained_params(out), X, y)[0]


def judge_training_learns(case, out):
    accuracy = _held_out_accuracy(out)
    if not accuracy >= TRAINING_LEARNS:
        raise CheckFailed(f"after training, held-out accuracy is {accuracy:.3f}: the network "
                          f"did not learn (at least {TRAINING_LEARNS:.2f} expected)")


def judge_training_threshold(case, out):
    accuracy = _held_out_accuracy(out)
    if not accuracy >= TRAINING_THRESHOLD:
        raise CheckFailed(f"after training, held-out accuracy is {accuracy:.3f}; "
                          f"at least {TRAINING_THRESHOLD:.2f} expected")


def judge_training_loss(case, out):
    X, y = case["X_train"], case["y_train"]
    _, before = _network_fit(_trained_params(out, "_init"), X, y)
    _, after = _network_fit(_trained_params(out), X, y)
    if not after < TRAINING_LOSS_RATIO * before:
        raise CheckFailed(f"training barely changed the training loss ({before:.3f} at the "
                          f"start, {after:.3f} after training)")


# ------------------------------------------------------------------------- checks

_SGD, _TRAINING = ("sgd",), ("TwoLayerNet", "sgd")

CHECKS = [
    Check(qid="sgd", name="step",
          description="one step against the gradient, for a matrix and a vector",
          hint="next_w = w - learning_rate * dw, with learning_rate read from config",
          needs=_SGD, make_case=sgd_case, probe=probes.sgd_step_probe,
          judge=judge_sgd_step, weight=3),
    Check(qid="sgd", name="returns_config",
          description="returns (next_w, config), config keeping its rate",
          hint="return the config dict you were given as the second value",
          needs=_SGD, make_case=sgd_case, probe=probes.sgd_step_probe,
          judge=judge_sgd_config, weight=1, requires=("step",)),
    Check(qid="sgd", name="default_rate",
          description="the default learning rate is 1e-2",
          hint="when config is None (or has no learning_rate), use 1e-2",
          needs=_SGD, make_case=sgd_case, probe=probes.sgd_default_probe,
          judge=judge_sgd_default, weight=1),
    Check(qid="sgd", name="dw_unmodified",
          description="dw is left unmodified",
          hint="scale dw into a new array rather than multiplying it in place",
          needs=_SGD, make_case=sgd_case, probe=probes.sgd_step_probe,
          judge=judge_sgd_unmodified, weight=1, requires=("step",)),
    Check(qid="training", name="loss_decreases",
          description="training lowers the loss on the training images",
          hint="check that sgd moves against the gradient and that the model's loss returns "
               "fresh gradients on every call",
          needs=_TRAINING, make_case=training_case, probe=probes.training_probe,
          judge=judge_training_loss, weight=1),
    Check(qid="training", name="learns",
          description=f"held-out accuracy of at least {TRAINING_LEARNS:.2f}",
          hint="the trained network should beat chance clearly; check that sgd keeps the "
               "learning rate it is given from step to step",
          needs=_TRAINING, make_case=training_case, probe=probes.training_probe,
          judge=judge_training_learns, weight=1),
    Check(qid="training", name="threshold",
          description=f"held-out accuracy of at least {TRAINING_THRESHOLD:.2f}",
          hint="every step should use the configured learning rate and fresh gradients",
          needs=_TRAINING, make_case=training_case, probe=probes.training_probe,
          judge=judge_training_threshold, weight=2),
]
