"""Chapter 6: best_model.npz, the tuned network's W1, b1, W2, b2, scored on CIFAR-10.

No student code runs: the grader reads the four arrays from the submitted file as data
(autograder/best_model.py) and measures their accuracy on views of CIFAR-10 that it
holds. Its check is therefore the grader's own; its
points fall on the scale of autograder/points.py (BEST_MODEL_ZERO to BEST_MODEL_FULL).
In the notebook, `grader.check` runs the same measurement on the notebook's own
validation images (fcnet.public_checks).
"""
import numpy as np

from ..chapter_files import MODEL_FILE
from ..probing import returns
from .traits import Traits

ID = "best_model"
CHAPTER = "06_tuning"
ORDER = 1  # its place among its chapter's questions
POINTS = 10
# Not a notebook name: the name under which the grader passes the four arrays it read
# from MODEL_FILE to the probe.
GRADES = ("best_model_params",)
TRAITS = Traits(data_file=MODEL_FILE, needs_cifar=True, measure="accuracy_test",
                measure_label="test accuracy of best_model.npz",
                scale=("BEST_MODEL_ZERO", "BEST_MODEL_FULL"))

MISTAKES = ()
CHECKS = []  # the grader declares its check (its case is CIFAR-10)


@returns(lambda case: {})
def best_model_probe(ns, case):
    """Accuracy per graded view of the submitted parameters (no student code runs:
    `ns["best_model_params"]` holds the four arrays read from best_model.npz). Runs in
    the grader only: case["_views"] are autograder/best_model.py's views, built there."""
    # float32 halves the time of 10,000 images; the accuracy does not notice.
    params = {k: np.asarray(v, dtype=np.float32) for k, v in ns[GRADES[0]].items()}
    return {f"accuracy_{name}": view.accuracy(params) for name, view in case["_views"].items()}
