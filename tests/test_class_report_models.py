"""The class report's measured section on a class that handed in real best_model.npz files.

Models trained with the answer key's recipe (tests/lms_submissions.py), handed in as
students do: one as best_model.npz, one renamed by a browser download ("best_model
(1).npz"), one damaged, one missing. `python -m autograder grade` grades them (the real
command, the real sandbox, CIFAR-10); the report must then show exactly the accuracies
grades.json holds, and grading health must name each file problem from the results'
fields.
"""
import json
import subprocess
import sys

import numpy as np
import pytest

from autograder_support import REPO, cached_model, model_bytes, write_submission
from lms_submissions import good_model_params, model_accuracy, partial_model_params

pytestmark = [pytest.mark.slow]


@pytest.fixture(scope="module")
def graded(cifar, sandbox, tmp_path_factory, request):
    cache = request.config.cache.mkdir("autograder-models") \
        if getattr(request.config, "cache", None) else tmp_path_factory.mktemp("models")
    models = {"good": cached_model(cache, "good", good_model_params),
              "partial": cached_model(cache, "partial", partial_model_params)}
    subs = tmp_path_factory.mktemp("class") / "submissions"
    write_submission(subs, "s_good", model=model_bytes(models["good"]))
    write_submission(subs, "s_partial", model=model_bytes(models["partial"]))
    renamed = write_submission(subs, "s_renamed")
    (renamed / "best_model (1).npz").write_bytes(model_bytes(models["partial"]))
    write_submission(subs, "s_damaged", model=b"PK\x03\x04 this is not a model")
    write_submission(subs, "s_missing")
    out = subs.parent / "out"
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", subs, "--out", out,
                           "--questions", "best_model", "--no-progress"],
                          capture_output=True, text=True, cwd=REPO, timeout=1200)
    assert done.returncode == 0, done.stderr
    return models, out


def _json(out, name):
    return json.loads((out / name).read_text(encoding="utf-8"))


def test_the_accuracy_section_equals_grades_json(graded):
    models, out = graded
    grades, report = _json(out, "grades.json"), _json(out, "report.json")
    measures = {s: e["questions"]["best_model"]["measures"]
                for s, e in grades["students"].items()}
    section = report["measured"]["best_model"]
    assert section["measure"] == "accuracy_test"
    assert section["values"] == {s: m["accuracy_test"] for s, m in measures.items() if m}
    assert set(section["values"]) == {"s_good", "s_partial", "s_renamed"}
    # Every graded view is there, and the test view is what the model really scores.
    assert set(measures["s_good"]) == {"accuracy_test", "accuracy_test_mirrored",
                                       "accuracy_training_sample"}
    for student, name in (("s_good", "good"), ("s_partial", "partial"),
                          ("s_renamed", "partial")):
        assert section["values"][student] == pytest.approx(model_accuracy(models[name]),
                                                           abs=2e-3)
    assert section["mean"] == pytest.approx(np.mean(list(section["values"].values())),
                                            abs=1e-3)
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "3 scored" in page and "No submission of best_model was measured" not in page


def test_grading_health_names_each_model_file_problem_from_fields(graded):
    _, out = graded
    grades, health = _json(out, "grades.json"), _json(out, "report.json")["health"]
    listed = {kind: {row["student"]: row["items"] for row in rows}
              for kind, rows in health.items()}
    assert listed["missing"] == {"s_missing": ["best_model.npz"]}
    assert list(listed["unreadable"]) == ["s_damaged"]
    assert listed["unreadable"]["s_damaged"][0].startswith("best_model.npz: ")
    assert "best_model (1).npz" in listed["renamed"]["s_renamed"][0]
    result = grades["students"]["s_renamed"]["questions"]["best_model"]
    assert result["renamed_from"].endswith("best_model (1).npz")
    assert grades["students"]["s_damaged"]["questions"]["best_model"]["unreadable"]
    assert grades["students"]["s_missing"]["questions"]["best_model"]["missing"] is True
    assert not [c for c in _json(out, "report.json")["mistakes"]
                if {"s_missing", "s_damaged"} & set(c["students"])]


def test_the_feedback_shows_the_measured_accuracy(graded):
    _, out = graded
    value = _json(out, "grades.json")["students"]["s_good"]["questions"]["best_model"][
        "measures"]["accuracy_test"]
    page = (out / "feedback" / "s_good.md").read_text(encoding="utf-8")
    assert f"accuracy on the 10,000 CIFAR-10 test images: {100 * value:.2f}%" in page
