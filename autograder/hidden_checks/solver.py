"""Chapter 5, the solver: the hidden checks of the training question (those of sgd, which
the notebook runs too, are in fcnet/questions/sgd.py).

Training runs in the worker (fcnet.questions.training.training_probe) on a CIFAR-10 subset
drawn and scrambled at grading time with the settings of points.TRAINING; the judges of
autograder/training_question.py score the weights it ends with, in the grader.
"""
from functools import partial

from fcnet.checking import Check
from fcnet.questions import training

from ..points import TRAINING_LEARNS, TRAINING_THRESHOLD
from ..training_question import (judge_training_learns, judge_training_loss,
                                 judge_training_threshold, training_case)

# ------------------------------------------------------------------------- checks
# The case (drawn at grading time, inputs scrambled, held-out images kept in the grader)
# and the judges live in autograder/training_question.py.

_check = partial(Check, qid=training.ID, needs=training.GRADES, case_id="training.run",
                 make_case=training_case, probe=training.training_probe)

CHECKS = [
    _check(name="loss_decreases",
           description="training lowers the loss on the training images",
           hint="check that sgd moves against the gradient and that the model's loss "
                "returns fresh gradients on every call",
           judge=judge_training_loss, weight=1),
    _check(name="learns",
           description=f"held-out accuracy of at least {TRAINING_LEARNS:.2f}",
           hint="the trained network should beat chance clearly; check that sgd keeps the "
                "learning rate it is given from step to step",
           judge=judge_training_learns, weight=1),
    _check(name="threshold",
           description=f"held-out accuracy of at least {TRAINING_THRESHOLD:.2f}",
           hint="every step should use the configured learning rate and fresh gradients",
           judge=judge_training_threshold, weight=2),
]
