"""Chapter 6, tuning: the hidden check of the student's best_model.npz.

The worker evaluates the saved model on the CIFAR-10 test set (probes.best_model_probe)
and reports its accuracy; the share of points falls linearly between the two thresholds
of autograder/points.py.
"""
from fcnet.checking import Check

from .. import data, probes
from ..points import BEST_MODEL_FULL, BEST_MODEL_ZERO
from ..scoring import PartialCredit
from .judging import scalar


def best_model_case(rng):
    X, y = data.test_set()  # float32 already: evaluated as it is, never copied
    return {"X": X, "y": y}


def judge_best_model(case, out):
    accuracy = scalar(out, "accuracy")
    if accuracy >= BEST_MODEL_FULL:
        return
    fraction = (accuracy - BEST_MODEL_ZERO) / (BEST_MODEL_FULL - BEST_MODEL_ZERO)
    raise PartialCredit(fraction, f"test accuracy {accuracy:.4f}: full points from "
                                  f"{BEST_MODEL_FULL:.2f}, none below {BEST_MODEL_ZERO:.2f}")


CHECKS = [
    Check(qid="best_model", name="test_accuracy",
          description=f"best_model.npz reaches {BEST_MODEL_FULL:.0%} on the 10,000 test "
                      f"images",
          hint="tune the learning rate, hidden size, regularisation and number of epochs on "
               "the validation set, then save the best model's W1, b1, W2, b2",
          needs=("best_model_params",), make_case=best_model_case,
          probe=probes.best_model_probe, judge=judge_best_model, weight=1),
]
