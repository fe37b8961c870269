"""Chapter 5, the solver: the hidden checks of training with the student's code (those of
sgd, which the notebook runs too, are in fcnet.checks.sgd).

Training runs in the worker (probes.training_probe) on a CIFAR-10 subset drawn and
scrambled at grading time with the settings of points.TRAINING; the judges of
autograder/training_question.py score the weights it ends with, in the grader.
"""
from fcnet import probes
from fcnet.checking import Check

from ..points import TRAINING_LEARNS, TRAINING_THRESHOLD
from ..training_question import (judge_training_learns, judge_training_loss,
                                 judge_training_threshold, training_case)

# ------------------------------------------------------------------------- training
# The case (drawn at grading time, inputs scrambled, held-out images kept in the grader)
# and the judges live in autograder/training_question.py.


# ------------------------------------------------------------------------- checks

_TRAINING = ("TwoLayerNet", "sgd")

CHECKS = [
    Check(qid="training", name="loss_decreases",
          description="training lowers the loss on the training images",
          hint="check that sgd moves against the gradient and that the model's loss returns "
               "fresh gradients on every call",
          needs=_TRAINING, case_id="training.run", make_case=training_case,
          probe=probes.training_probe,
          judge=judge_training_loss, weight=1),
    Check(qid="training", name="learns",
          description=f"held-out accuracy of at least {TRAINING_LEARNS:.2f}",
          hint="the trained network should beat chance clearly; check that sgd keeps the "
               "learning rate it is given from step to step",
          needs=_TRAINING, case_id="training.run", make_case=training_case,
          probe=probes.training_probe,
          judge=judge_training_learns, weight=1),
    Check(qid="training", name="threshold",
          description=f"held-out accuracy of at least {TRAINING_THRESHOLD:.2f}",
          hint="every step should use the configured learning rate and fresh gradients",
          needs=_TRAINING, case_id="training.run", make_case=training_case,
          probe=probes.training_probe,
          judge=judge_training_threshold, weight=2),
]
