"""Red-team findings, round 5 (newest changes: the notebook-only checks in the question
modules, best_model's scale and the graded run's settings declared in fcnet, which
autograder/points.py imports; traits asked of fcnet.questions). Each test replays an
attack on every route it applies to. A test that asserts the safe behaviour and passes
guards a defence; a strict xfail is an attack that still works (its reason says how).

The routes: `python -m autograder` (engine.grade), and the otter and nbgrader routes,
which both grade through autograder.routes.lms_grading.grade_submission and then report
the question's points (otter_route._clamped, nbgrader_route.cell_report).
"""
import subprocess
import sys

import pytest

from autograder_support import (REPO, append_cell, grade_folder, notebook,
                                write_submission)


def _student_only(stem_notebooks):
    """Every chapter a blank student stub, except those given."""
    from fcnet.chapters import CHAPTERS

    chosen = {stem: notebook(stem, "student") for stem in CHAPTERS}
    chosen.update(stem_notebooks)
    return chosen


def _points_on_every_route(root, student, sandbox, tmp_path, questions, timeout=60):
    """{route: {qid: points}} for the submission root/student on the three routes."""
    from autograder.routes import lms_grading
    from autograder.routes.nbgrader_route import cell_report
    from autograder.routes.otter_route import _clamped

    engine_points, _ = grade_folder(root, tmp_path / "out", sandbox, questions=questions,
                                    timeout=timeout, workers=1)
    graded = lms_grading.grade_submission(root / student, student=student, sandbox=sandbox,
                                          timeout=timeout, questions=questions,
                                          announce=lambda line: None)
    return {"python -m autograder": engine_points[student],
            "otter": {q: _clamped(q, graded["results"][q]["points"]) for q in questions},
            "nbgrader": {q: cell_report(graded, q)[1] for q in questions}}


# ----------------------------------------------------------------------------------------
# 1. training's loss_decreases check (1 of the question's 4 weights: 1.25 points) compares
#    the training loss of the parameters the constructor made with that of the parameters
#    training left. Both come from the student's code, and the judge does not ask whether
#    the start is the one TwoLayerNet was asked for (weight_scale=1e-3). A constructor that
#    ignores weight_scale (W2 scaled by 1,000: a loss in the hundreds) and an sgd that
#    returns zeros (a loss of ln 10 afterwards) "lower the loss" with no network, no
#    gradient and no training at all.

NO_TRAINING = '''import numpy as np


def sgd(w, dw, config=None):
    return np.zeros_like(w), ({} if config is None else config)


class TwoLayerNet:
    def __init__(self, input_dim=3072, hidden_dim=50, num_classes=10, weight_scale=1e-3,
                 reg=0.0, dtype=np.float64):
        self.params = {"W1": np.random.randn(input_dim, hidden_dim),
                       "b1": np.ones(hidden_dim),
                       "W2": 1000.0 * np.random.randn(hidden_dim, num_classes),
                       "b2": np.zeros(num_classes)}

    def loss(self, X, y=None):
        if y is None:
            return np.zeros((len(X), 10))
        return 0.0, {k: np.zeros_like(v) for k, v in self.params.items()}
'''


@pytest.mark.cifar
@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason="training's loss_decreases check trusts the student's "
                   "own starting weights: a constructor that ignores weight_scale and an sgd "
                   "returning zeros earn 1.25 of the 5 points with no training, on every route")
def test_training_loss_check_needs_a_start_the_constructor_was_asked_for(
        cifar10_archive, sandbox, tmp_path):
    nb = append_cell(notebook("05_solver", "student"), NO_TRAINING)
    write_submission(tmp_path / "subs", "mallory", _student_only({"05_solver": nb}))
    points = _points_on_every_route(tmp_path / "subs", "mallory", sandbox, tmp_path,
                                    ("training",))
    assert points == {route: {"training": 0} for route in points}, points
