"""Chapter 5, the solver: hidden checks of sgd, and of training with the student's code.

Training runs in the worker (probes.training_probe) on a CIFAR-10 subset drawn and
scrambled at grading time with the settings of points.TRAINING; the judges of
autograder/training_question.py score the weights it ends with, in the grader.
"""
import numpy as np

from fcnet.checking import Check, CheckFailed

from .. import probes
from ..points import TRAINING_LEARNS, TRAINING_THRESHOLD
from ..training_question import (judge_training_learns, judge_training_loss,
                                 judge_training_threshold, training_case)
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
# The case (drawn at grading time, inputs scrambled, held-out images kept in the grader)
# and the judges live in autograder/training_question.py.


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
