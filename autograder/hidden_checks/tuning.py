"""Chapter 6, tuning: the hidden check of the student's best_model.npz.

The question is fcnet.questions.best_model; its check is here, in the grader, because its
case is CIFAR-10, which the grader holds. The grader evaluates the saved model on several
views of CIFAR-10 (the question's best_model_probe); autograder/best_model.py counts the
test accuracy at most BEST_MODEL_VIEW_MARGIN above the lowest of the others, and the
share of points falls linearly between the two thresholds of autograder/points.py.
"""
from fcnet.checking import Check
from fcnet.questions import best_model

from ..best_model import best_model_case, judge_best_model
from ..points import BEST_MODEL_FULL


CHECKS = [
    Check(qid=best_model.ID, name="test_accuracy",
          description=f"best_model.npz reaches {BEST_MODEL_FULL:.0%} on the 10,000 test "
                      f"images (counted at most 2 points above its accuracy on their mirror "
                      f"images and on training images)",
          hint="tune the learning rate, hidden size, regularisation and number of epochs on "
               "the validation set, then save the best model's W1, b1, W2, b2",
          needs=best_model.GRADES, case_id="best_model.views",
          make_case=best_model_case,
          probe=best_model.best_model_probe, judge=judge_best_model, weight=1),
]
