"""autograder.routes.lms_grading: how the otter and nbgrader routes hand a submission to the
engine.

Fast checks of the pieces (the full routes run in test_otter_bundle and
test_nbgrader_course): which files reach the engine, that the result is plain data with
the isolation line first, that a missing CIFAR-10 costs only the two questions that need
it, and that nbgrader's hidden_score prints the isolation first.
"""
import json

import pytest

from autograder.routes import lms_grading
from autograder.points import QUESTION_POINTS

from autograder_support import write_submission

QUESTIONS = ("affine_forward", "relu_forward", "training")


def test_only_notebooks_and_models_are_staged(tmp_path):
    upload = tmp_path / "upload"
    (upload / "two_layer_net" / "deeper").mkdir(parents=True)
    (upload / "two_layer_net" / "01_affine_layer.ipynb").write_text("{}")
    (upload / "two_layer_net" / "best_model.npz").write_bytes(b"npz")
    (upload / "two_layer_net" / "deeper" / "02_relu.ipynb").write_text("{}")
    (upload / "two_layer_net" / "notes.py").write_text("import os")
    (upload / ".hidden").mkdir()
    (upload / ".hidden" / "03_losses.ipynb").write_text("{}")
    (upload / "answer_key").mkdir()
    (upload / "answer_key" / "04_two_layer_net.ipynb").write_text("{}")
    (upload / "linked.ipynb").symlink_to(upload / "two_layer_net" / "01_affine_layer.ipynb")
    dest = tmp_path / "staged"
    assert lms_grading.stage_submission(upload, dest, skip=("answer_key",)) == 3
    staged = sorted(str(p.relative_to(dest)) for p in dest.rglob("*") if p.is_file())
    assert staged == ["two_layer_net/01_affine_layer.ipynb", "two_layer_net/best_model.npz",
                      "two_layer_net/deeper/02_relu.ipynb"]


@pytest.fixture
def no_cifar(monkeypatch):
    """CIFAR-10 unavailable to the grader (and no time spent on it)."""
    from autograder import data

    def unavailable():
        raise data.DataUnavailable("no archive here")

    monkeypatch.setattr(data, "ensure_available", unavailable)


def test_the_engine_grades_and_only_plain_data_comes_back(tmp_path, no_cifar):
    folder = write_submission(tmp_path, "alice")
    announced = []
    graded = lms_grading.grade_submission(folder, timeout=20, questions=QUESTIONS,
                                         announce=announced.append)
    assert json.loads(json.dumps(graded)) == graded
    assert announced == [graded["sandbox"]] and graded["sandbox"]
    assert list(graded["results"]) == list(QUESTIONS)
    for qid in ("affine_forward", "relu_forward"):
        assert graded["results"][qid]["points"] == QUESTION_POINTS[qid]
    training = graded["results"]["training"]
    assert training["points"] == 0 and "could not load CIFAR-10" in training["notes"][0]
    assert any("training" in e for e in graded["internal_errors"])
    text = lms_grading.report(graded["results"]["affine_forward"])
    assert text.startswith("affine_forward: 10 / 10 points")


def test_hidden_score_prints_the_isolation_first(tmp_path, capsys, monkeypatch, no_cifar):
    from autograder.routes import nbgrader_route

    folder = write_submission(tmp_path, "bob")
    monkeypatch.setenv("FCNET_GRADING_TIMEOUT", "20")
    points = nbgrader_route.hidden_score("sgd", folder=folder)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == nbgrader_route.graded_folder(folder)["sandbox"]
    assert lines[1].startswith("sgd: 5 / 5 points") and points == 5.0
