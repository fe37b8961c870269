"""The course on Google Colab, simulated end to end (see tests/colab_support.py).

A student opens each chapter from the book's Colab button and saves a copy in Drive, so
Drive's `Colab Notebooks/` holds `Copy of 01_affine_layer.ipynb` ... The tests:

- run chapter 4's notebook the way Colab does (working folder /content, not Drive): its
  setup cell mounts Drive and installs fcnet (from a student release built from this
  checkout), its carry-forward cells import chapters 1 to 3 from the `Copy of ...` files
  on Drive, and every public check passes;
- run chapter 6's last cell, `fcnet.submit()`, in that Colab: it finds the six chapters
  and best_model.npz, downloads `two_layer_net_submission.zip`, changes nothing; then
  grade that very zip with python -m autograder, `otter run` with the otter bundle and
  `nbgrader autograde` on the nbgrader course: full marks, the same on every route.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder.points import QUESTION_POINTS
from fcnet.chapters import CHAPTERS, QUESTION_IDS

from colab_support import ColabRuntime, outputs_text, student_release, tree_digest

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions" / "notebooks"
OTTER_ZIP = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
NBGRADER_COURSE = REPO / "autograder" / "dist" / "nbgrader"
BIN = Path(sys.executable).parent
TIMEOUT = "20"

pytestmark = pytest.mark.slow


def solution(stem):
    return nbformat.read(SOLUTIONS / f"{stem}.ipynb", as_version=4)


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    return student_release(tmp_path_factory.mktemp("student_release"))


def test_chapter_4_on_colab_imports_chapters_1_to_3_from_drive(tmp_path, monkeypatch, release):
    colab = ColabRuntime(tmp_path, release)
    colab.environment(monkeypatch)
    for stem in ("01_affine_layer", "02_relu", "03_losses", "04_two_layer_net"):
        colab.save_copy(solution(stem), stem)
    before = tree_digest(colab.drive)
    nb = solution("04_two_layer_net")
    nb.cells.append(nbformat.v4.new_code_cell(
        "import fcnet.locate\n"
        "print('FCNET', fcnet.__file__)\n"
        "print('CHAPTER1', fcnet.locate.best('01_affine_layer')[0])"))
    nb = colab.run(nb)

    checks = [c for c in nb.cells if c.cell_type == "code" and "grader.check(" in c.source]
    assert checks
    for cell in checks:
        assert "All test cases passed" in outputs_text(cell), outputs_text(cell)
    last = outputs_text(nb.cells[-1])
    assert f"FCNET {colab.site}" in last, last            # the setup cell's install was used
    assert f"CHAPTER1 {colab.notebooks / 'Copy of 01_affine_layer.ipynb'}" in last
    assert ["drive.mount", "/content/drive"] in colab.calls()
    # nothing written in the working folder (otter keeps its hidden .OTTER_LOG there)
    assert [p.name for p in colab.content.iterdir() if not p.name.startswith(".")] == []
    assert tree_digest(colab.drive) == before             # nor on Drive


def test_chapter_4_on_colab_without_chapter_1_says_what_to_do(tmp_path, monkeypatch, release):
    colab = ColabRuntime(tmp_path, release)
    colab.environment(monkeypatch)
    nb = solution("04_two_layer_net")
    with pytest.raises(Exception) as err:
        colab.run(nb)
    message = str(err.value)
    assert "FileNotFoundError" in message
    assert "Save a copy in Drive" in message and "Colab Notebooks" in message


# ----------------------------------------------------------------------------- submit()

def submit_notebook():
    """Chapter 6 as far as submitting needs: the setup cell, the imports, the last cell."""
    nb = solution("06_tuning")
    code = [c for c in nb.cells if c.cell_type == "code"]
    imports = next(c for c in code if "grader = Notebook" in c.source)
    assert "fcnet.submit()" in code[-1].source, "chapter 6 must end with fcnet.submit()"
    nb.cells = [code[0], imports, code[-1]]
    return nb


def _otter(zip_path, work):
    out = work / "otter_out"
    out.mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FCNET_GRADING_TIMEOUT": TIMEOUT}
    run = subprocess.run([str(BIN / "otter"), "run", "-a", str(OTTER_ZIP), "-o", str(out),
                          "--no-logo", str(zip_path)], env=env, capture_output=True,
                         text=True, timeout=1800)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    results = json.loads((out / "results.json").read_text())
    return {t["name"]: t["score"] for t in results["tests"] if "score" in t}


def _nbgrader(zip_path, work, student="alice"):
    from nbgrader.api import Gradebook

    root = work / "course"
    shutil.copytree(NBGRADER_COURSE, root)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}

    def nbgrader(*args):
        run = subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, env=env,
                             capture_output=True, text=True, timeout=1800)
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]

    nbgrader("generate_assignment", "two_layer_net")
    from fcnet.chapter_files import chapter_in_metadata
    for stem in CHAPTERS:  # nbgrader's release keeps the chapter id
        document = json.loads((root / "release" / "two_layer_net" / f"{stem}.ipynb").read_text())
        assert chapter_in_metadata(document) == stem, stem
    with zipfile.ZipFile(zip_path) as archive:  # the zip's folder is the assignment's
        archive.extractall(root / "submitted" / student)
    nbgrader("autograde", "two_layer_net", "--create")
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission("two_layer_net", student)
        return {g.name.removeprefix("test_"): g.score
                for nb in submission.notebooks for g in nb.grades}


def _autograder(zip_path, work, student="alice"):
    folder = work / "zips"
    folder.mkdir(parents=True)
    shutil.copy(zip_path, folder / f"{student}.zip")
    out = work / "grades"
    # the default per-question limit: on a busy shared machine a sandboxed worker needs it
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(folder), "--out",
                          str(out), "--no-progress"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    grades = json.loads((out / "grades.json").read_text())["grades"][student]
    return {q: grades[q] for q in QUESTION_IDS}, (out / "feedback" / f"{student}.md").read_text()


@pytest.fixture(scope="module")
def submitted(cifar, release, tmp_path_factory, request):
    """Chapter 6's submit cell run in a simulated Colab, and its zip graded three ways."""
    from autograder_support import cached_model
    from lms_submissions import good_model_params

    work = tmp_path_factory.mktemp("colab_submit")
    colab = ColabRuntime(work / "colab", release)
    good = cached_model(request.config.cache.mkdir("autograder-models"), "good",
                        good_model_params)
    with pytest.MonkeyPatch.context() as monkeypatch:
        colab.environment(monkeypatch)
        for stem in CHAPTERS:
            colab.save_copy(solution(stem), stem)
        np.savez(colab.content / "best_model.npz", **good)  # where chapter 6 saves it
        drive_before = tree_digest(colab.drive)
        model_before = (colab.content / "best_model.npz").read_bytes()
        nb = colab.run(submit_notebook())
    zip_path = colab.content / "two_layer_net_submission.zip"
    routes = {"autograder": None, "otter": None, "nbgrader": None}
    routes["autograder"], feedback = _autograder(zip_path, work / "engine")
    routes["otter"] = _otter(zip_path, work)
    routes["nbgrader"] = _nbgrader(zip_path, work)
    return {"colab": colab, "nb": nb, "zip": zip_path, "routes": routes,
            "feedback": feedback, "unchanged": tree_digest(colab.drive) == drive_before
            and (colab.content / "best_model.npz").read_bytes() == model_before}


@pytest.mark.cifar
def test_submit_finds_everything_downloads_the_zip_and_changes_nothing(submitted):
    colab, zip_path = submitted["colab"], submitted["zip"]
    printed = outputs_text(submitted["nb"].cells[-1])
    assert ["files.download", str(zip_path)] in colab.calls(), printed
    for stem in CHAPTERS:
        assert f"Copy of {stem}.ipynb" in printed, printed
    assert "7 of 7 files" in printed and "Warning" not in printed, printed
    assert "valid (" in printed and "not done" not in printed and "fails" not in printed
    with zipfile.ZipFile(zip_path) as archive:
        assert sorted(archive.namelist()) == sorted(
            [f"two_layer_net/{s}.ipynb" for s in CHAPTERS] + ["two_layer_net/best_model.npz"])
    assert submitted["unchanged"]


@pytest.mark.cifar
@pytest.mark.parametrize("route", ["autograder", "otter", "nbgrader"])
def test_the_submission_zip_gets_full_marks_on_every_route(submitted, route):
    points = submitted["routes"][route]
    assert {q: points[q] for q in QUESTION_IDS} == \
        {q: pytest.approx(QUESTION_POINTS[q], abs=1e-9) for q in QUESTION_IDS}, points


@pytest.mark.cifar
def test_every_route_gives_the_same_points(submitted):
    routes = submitted["routes"]
    reference = routes["autograder"]
    for route in ("otter", "nbgrader"):
        assert {q: routes[route][q] for q in QUESTION_IDS} == \
            {q: pytest.approx(reference[q], abs=1e-9) for q in QUESTION_IDS}, route
