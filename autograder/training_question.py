"""The `training` question's case and judges: a real training run, scored on images the
worker never sees.

The case is drawn at grading time (fcnet.graded_training.draw_run, from the case seed):
which CIFAR-10 training images are trained on, validated on and held out, and a secret
scramble of the 3,072 inputs, applied to all of them. The worker receives the scrambled
training and validation images; the held-out images stay in the grader (case keys that
start with "_" never leave it: engine._Jobs._cases_part). The weights the student's
TwoLayerNet ends with must keep the shapes it was built with and classify the scrambled
held-out images, which only learning from the images handed out can achieve.
"""
import numpy as np

from fcnet.checking import CheckFailed
from fcnet.graded_training import draw_run, loss_to_beat, scramble
from fcnet.questions.training import NUM_CLASSES

from . import data
from .points import TRAINING, TRAINING_LEARNS, TRAINING_THRESHOLD

NUM_IMAGES = 50_000     # every CIFAR-10 training image may be drawn


def training_case(rng):
    """The worker's part (scrambled training and validation images, the settings) and,
    under "_X_held_out" / "_y_held_out", the grader's own part."""
    run = draw_run(rng, NUM_IMAGES)
    case = {}
    for part, (x_key, y_key) in (("train", ("X_train", "y_train")),
                                 ("val", ("X_val", "y_val")),
                                 ("held_out", ("_X_held_out", "_y_held_out"))):
        X, y = data.training_images(np.sort(run[part]), dtype=np.float64)
        case[x_key], case[y_key] = scramble(X, run["order"], run["signs"]), y
    return {**case, "D": int(np.prod(case["X_train"].shape[1:])),
            "np_seed": int(rng.integers(2 ** 31)),
            **{key: TRAINING[key] for key in ("hidden_dim", "weight_scale", "reg",
                                             "learning_rate", "lr_decay", "num_epochs",
                                             "batch_size")}}


def _shapes(case):
    d, h = case["D"], case["hidden_dim"]
    return {"W1": (d, h), "b1": (h,), "W2": (h, NUM_CLASSES), "b2": (NUM_CLASSES,)}


def trained_params(case, out, suffix=""):
    """The parameters the worker reported, float64, with the shapes TwoLayerNet was asked
    for (hidden_dim 50): a network of another size is not the one the run built."""
    params = {}
    for key, shape in _shapes(case).items():
        value = out.get(key + suffix)
        if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.number):
            raise CheckFailed(f"params[{key!r}] is not a numeric array after training")
        if value.shape != shape:
            raise CheckFailed(f"params[{key!r}] has shape {value.shape}; the TwoLayerNet built "
                              f"with hidden_dim={case['hidden_dim']} should keep {shape}")
        value = value.astype(np.float64)
        if not np.all(np.isfinite(value)):
            raise CheckFailed(f"after training, params[{key!r}] contains NaN or infinity")
        params[key] = value
    return params


def network_fit(params, X, y):
    """(accuracy, mean softmax loss) of a two-layer net with `params` on X, y."""
    n = len(X)
    hidden = np.maximum(X.reshape(n, -1) @ params["W1"] + params["b1"], 0)
    scores = hidden @ params["W2"] + params["b2"]
    shifted = scores - scores.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    return float(np.mean(np.argmax(scores, axis=1) == y)), \
        float(-log_probs[np.arange(n), y].mean())


def held_out_accuracy(case, out):
    return network_fit(trained_params(case, out), case["_X_held_out"], case["_y_held_out"])[0]


def judge_training_loss(case, out):
    X, y = case["X_train"], case["y_train"]
    _, before = network_fit(trained_params(case, out, "_init"), X, y)
    _, after = network_fit(trained_params(case, out), X, y)
    if not after < loss_to_beat(before, NUM_CLASSES):
        raise CheckFailed(f"training barely changed the training loss ({before:.3f} at the "
                          f"start, {after:.3f} after training; it must end below "
                          f"{loss_to_beat(before, NUM_CLASSES):.3f})")


def judge_training_learns(case, out):
    accuracy = held_out_accuracy(case, out)
    if not accuracy >= TRAINING_LEARNS:
        raise CheckFailed(f"after training, held-out accuracy is {accuracy:.3f}: the network "
                          f"did not learn (at least {TRAINING_LEARNS:.2f} expected)")


def judge_training_threshold(case, out):
    accuracy = held_out_accuracy(case, out)
    if not accuracy >= TRAINING_THRESHOLD:
        raise CheckFailed(f"after training, held-out accuracy is {accuracy:.3f}; "
                          f"at least {TRAINING_THRESHOLD:.2f} expected")
