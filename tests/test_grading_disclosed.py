"""Students know how they are graded: the numbers the notebooks state, the numbers the
public checks use and the numbers the grader uses are the same numbers.

Each test reads the student-facing text (the chapter sources the notebooks are built
from) and the grader's own constants (autograder/points.py), and compares them.
"""
import inspect
import re

import numpy as np
import pytest

from autograder import data, points
from fcnet import public_checks
from fcnet.questions import training
from fcnet.data_utils import get_CIFAR10_data
from fcnet.graded_training import draw_run

from autograder_support import REPO

SOURCES = REPO / "exercises" / "source"
SHARED = REPO / "book" / "shared"


def _paragraph(stem, opening):
    """The markdown paragraph of chapter source `stem` that starts with `opening`, as one
    line of plain text."""
    lines = (SOURCES / f"{stem}.py").read_text(encoding="utf-8").splitlines()
    return _joined(lines, opening, f"{stem}.py", prefix="#")


def _shared_paragraph(name, opening):
    """The paragraph of book/shared/`name`.md (text the chapter and its notebook both
    include) that starts with `opening`, as one line of plain text."""
    lines = (SHARED / f"{name}.md").read_text(encoding="utf-8").splitlines()
    return _joined(lines, opening, f"book/shared/{name}.md")


def _joined(lines, opening, where, prefix=""):
    start = next((i for i, line in enumerate(lines) if opening in line), None)
    assert start is not None, f"{where} no longer says {opening!r}"
    text = []
    for line in lines[start:]:
        if not line.startswith(prefix) or line[len(prefix):].strip() == "":
            break
        text.append(line[len(prefix):].strip())
    return " ".join(text)


def _percentages(text):
    return {int(p) for p in re.findall(r"(\d+)%", text)}


def _percent(fraction):
    return round(100 * fraction)


def test_the_training_thresholds_stated_to_students_are_the_graded_ones():
    text = _shared_paragraph("grading_sgd_training", "`training` (")
    assert _percentages(text) == {_percent(1 - points.TRAINING_LOSS_RATIO),
                                  _percent(points.TRAINING_LEARNS),
                                  _percent(points.TRAINING_THRESHOLD),
                                  _percent(training.PUBLIC_TRAINING_ACCURACY)}
    assert f"at least {_percent(1 - points.TRAINING_LOSS_RATIO)}%" in text
    assert f"reach {_percent(points.TRAINING_LEARNS)}%" in text
    assert f"and {_percent(points.TRAINING_THRESHOLD)}%" in text
    settings = points.TRAINING
    for words in (f"`training` ({points.QUESTION_POINTS['training']} points)",
                  f"{settings['hidden_dim']} hidden units",
                  "learning rate $2 \\cdot 10^{-3}$", f"`lr_decay` {settings['lr_decay']:g}",
                  "four epochs", f"minibatches of {settings['batch_size']}",
                  f"{settings['num_train']:,} CIFAR-10 training images",
                  f"{settings['num_val']:,} validation images",
                  f"accuracy on {settings['num_eval']:,} further training images"):
        assert words in text, words
    assert (settings["learning_rate"], settings["num_epochs"]) == (2e-3, 4)
    assert settings["reg"] == 0 and settings["weight_scale"] == 1e-3  # the notebook's defaults


def test_the_shares_stated_to_students_are_the_check_weights():
    from autograder import hidden_checks

    weights = {c.name: c.weight for c in hidden_checks.checks_for("training")}
    total = sum(weights.values())
    assert {name: w / total for name, w in weights.items()} == {
        "loss_decreases": 0.25, "learns": 0.25, "threshold": 0.5}
    text = _shared_paragraph("grading_sgd_training", "`training` (")
    assert "by at least 5% (a quarter of the points)" in text
    assert "(a quarter) and 22% (the remaining half)" in text


def test_the_public_graded_run_is_the_graders_run():
    """grader.check("training") trains with the grader's settings on the grader's images."""
    from fcnet import graded_training

    g = graded_training.GRADED_TRAINING
    assert points.TRAINING is g  # one home: the grader reads the published settings
    # The student's data = get_CIFAR10_data(): its images are centred with the mean of
    # training images [0, 49000), as the grader centres the images it draws.
    defaults = inspect.signature(get_CIFAR10_data).parameters
    assert data.NUM_MEAN == defaults["num_training"].default
    # Both draw disjoint training, validation and held-out images the same way.
    run = draw_run(np.random.default_rng(1), 5000)
    parts = [set(run[k].tolist()) for k in ("train", "val", "held_out")]
    assert [len(p) for p in parts] == [g["num_train"], g["num_val"], g["num_eval"]]
    assert len(set.union(*parts)) == sum(len(p) for p in parts)


def test_grader_check_uses_the_graded_best_model_scale():
    """grader.check("best_model") passes where the grader gives full points, and its
    message puts the accuracy on the same scale, with the same view margin."""
    from autograder.best_model import points as share
    from fcnet.checking import CheckFailed

    judge = {(c.qid, c.name): c.judge for c in public_checks.CHECKS}[("best_model",
                                                                       "val_accuracy")]
    full = points.BEST_MODEL_FULL
    judge({}, {"val_acc": full, "mirrored_val_acc": full, "train_acc": full})
    middle = (points.BEST_MODEL_FULL + points.BEST_MODEL_ZERO) / 2
    with pytest.raises(CheckFailed, match=f"that is {share(middle):.0%} of the points"):
        judge({}, {"val_acc": middle, "mirrored_val_acc": middle, "train_acc": middle})
    # Capped like the grader: far above the mirrored images, the validation accuracy
    # counts only the margin above them.
    capped = full - points.BEST_MODEL_VIEW_MARGIN - 0.01
    with pytest.raises(CheckFailed, match=f"counts {full - 0.01:.3f}"):
        judge({}, {"val_acc": 0.9, "mirrored_val_acc": capped, "train_acc": 0.9})


def test_the_best_model_scale_stated_to_students_is_the_graded_one():
    text = _paragraph("06_tuning", "Submit this file with your notebooks")
    assert _percentages(text) == {_percent(points.BEST_MODEL_FULL),
                                  _percent(points.BEST_MODEL_ZERO)}
    assert f"{_percent(points.BEST_MODEL_FULL)}% or more earns all the points" in text
    assert f"to none at {_percent(points.BEST_MODEL_ZERO)}%" in text
    assert "10,000 test images" in text
    # The views that cap the test accuracy (autograder/best_model.py), named.
    from autograder.best_model import GRADED_VIEWS, VIEW_SIZE

    assert GRADED_VIEWS == ("test", "test_mirrored", "training_sample") and VIEW_SIZE == 10000
    margin = round(100 * points.BEST_MODEL_VIEW_MARGIN)
    assert f"up to {margin} points above the accuracy on their mirror images and on " \
        f"{VIEW_SIZE:,} training images" in text
    shared = _shared_paragraph("grading_best_model", "**How it is graded")
    assert "mirrored left to right" in shared and f"{VIEW_SIZE:,} of the training images" \
        in shared and f"more than {margin} percentage points below the test accuracy" in shared


@pytest.fixture(scope="module")
def student_data(cifar):
    return get_CIFAR10_data(dtype=np.float32)  # what chapter 5's notebook loads


@pytest.mark.cifar
def test_the_public_graded_run_agrees_with_the_hidden_checks(student_data):
    """The answer key passes both; an sgd that decays its own rate fails both."""
    from answer_key.classifiers.fc_net import TwoLayerNet
    from answer_key.optim import sgd
    from autograder import grading

    def decaying_sgd(w, dw, config=None):
        config = {} if config is None else config
        config["t"] = config.get("t", 0) + 1
        return w - config.get("learning_rate", 1e-2) / config["t"] * dw, config

    check = {c.name: c for c in public_checks.checks_for("training")}["graded_run"]
    for update, passes in ((sgd, True), (decaying_sgd, False)):
        ns = {"TwoLayerNet": TwoLayerNet, "sgd": update, "data": student_data}
        assert public_checks.run_check(check, ns).passed == passes
        hidden = grading.grade_in_process("training", ns)
        assert (hidden.points == points.QUESTION_POINTS["training"]) == passes


def test_the_recorded_bad_run_shows_what_the_inline_q3_key_says():
    """Chapter 6's inline question 3 (key {C, F}): its figure is fcnet's recorded run."""
    from fcnet.recorded_runs import BAD_RUN

    loss = np.array(BAD_RUN.loss_history)
    train, val = BAD_RUN.train_acc_history, BAD_RUN.val_acc_history
    epochs = [chunk.mean() for chunk in np.array_split(loss, len(train) - 1)]
    # A (wrong): the loss moves far from where it started, about ln 10 = 2.3.
    assert epochs[-1] < 0.5 * epochs[0]
    # B (wrong): the loss never climbs: no epoch's mean is above the one before by much.
    assert np.all(np.diff(epochs) < 0.05) and loss.max() <= loss[0] + 0.05
    # C and F (right), D (wrong): training accuracy ends far above validation accuracy,
    # and high: the gap, not a lack of capacity.
    assert train[-1] - val[-1] > 0.4 and train[-1] > 0.85
    # The explanation's numbers: validation accuracy stalls near 34% from epoch 11 on.
    assert max(val) < 0.35 and min(val[11:]) > 0.33
    # E (wrong): far above chance.
    assert min(train[-1], val[-1]) > 0.2
    text = (SOURCES / "06_tuning.py").read_text(encoding="utf-8")
    assert "from fcnet.recorded_runs import BAD_RUN" in text
    assert "plot_solver_history(BAD_RUN)" in text
