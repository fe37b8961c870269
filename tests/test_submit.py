"""fcnet.submit() on a student's own machine (Colab: tests/test_colab.py).

It finds the chapters by id whatever their names, checks them, prints a table, writes
two_layer_net_submission.zip with the course's names in one folder, and never changes
or loses a student's file; anything missing or broken is a warning, not a crash.
"""
import io
import sys
import zipfile
from pathlib import Path

import nbformat
import numpy as np
import pytest

import fcnet
from fcnet import handin as submit_module
from fcnet.chapters import CHAPTERS

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions" / "notebooks"
STUDENT = REPO / "exercises"


@pytest.fixture
def folder(tmp_path, monkeypatch):
    """A student's course folder, the working folder of the kernel (as in Jupyter)."""
    work = tmp_path / "course"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("FCNET_DRIVE_ROOT", str(tmp_path / "no-drive"))
    for name in ("FCNET_CHAPTERS_DIR", "JPY_SESSION_NAME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    return work


def model(hidden=8, **changes):
    rng = np.random.default_rng(0)
    params = {"W1": rng.normal(size=(3072, hidden)), "b1": np.zeros(hidden),
              "W2": rng.normal(size=(hidden, 10)), "b2": np.zeros(10)}
    params.update(changes)
    buffer = io.BytesIO()
    np.savez(buffer, **params)
    return buffer.getvalue()


def snapshot(folder):
    return {p.name: p.read_bytes() for p in sorted(folder.iterdir()) if p.is_file()}


def test_everything_found_checked_and_zipped_under_the_course_names(folder, capsys):
    names = {}
    for stem in CHAPTERS:
        names[stem] = f"Copy of {stem}.ipynb" if stem != "03_losses" else "my losses.ipynb"
        (folder / names[stem]).write_bytes((SOLUTIONS / f"{stem}.ipynb").read_bytes())
    (folder / "best_model.npz").write_bytes(model())
    before = snapshot(folder)
    path = fcnet.submit()
    out = capsys.readouterr().out
    assert path == folder / "two_layer_net_submission.zip"
    assert out.splitlines()[0].split() == ["chapter", "file", "used", "public", "checks",
                                           "missing"]
    for stem in ("01_affine_layer", "02_relu", "04_two_layer_net", "05_solver"):
        row = next(line for line in out.splitlines() if line.startswith(stem))
        assert names[stem] in row and "passed" in row and "failed" not in row, row
        assert row.rstrip().endswith("-"), row
    assert "my losses.ipynb" in out and "valid (8 hidden units)" in out
    assert "7 of 7 files" in out and "Warning" not in out
    with zipfile.ZipFile(path) as archive:
        assert sorted(archive.namelist()) == sorted(
            [f"two_layer_net/{s}.ipynb" for s in CHAPTERS] + ["two_layer_net/best_model.npz"])
        assert archive.read("two_layer_net/03_losses.ipynb") == before["my losses.ipynb"]
    after = snapshot(folder)
    after.pop("two_layer_net_submission.zip")
    assert after == before


def test_missing_and_broken_pieces_are_warnings_not_crashes(folder, capsys):
    (folder / "01_affine_layer.ipynb").write_bytes((STUDENT / "01_affine_layer.ipynb").read_bytes())
    (folder / "02_relu.ipynb").write_text("{ this is not a notebook")
    nb = nbformat.read(SOLUTIONS / "03_losses.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell("class Broken(Undefined):\n    pass"))
    nbformat.write(nb, folder / "03_losses.ipynb")
    (folder / "04_two_layer_net.ipynb").write_bytes(
        (SOLUTIONS / "04_two_layer_net.ipynb").read_bytes())   # imports chapters 1 to 3
    (folder / "best_model.npz").write_bytes(model(W2=np.zeros((8, 7))))
    before = snapshot(folder)
    path = fcnet.submit()
    out = capsys.readouterr().out
    rows = {line.split()[0]: line for line in out.splitlines()[2:9]}
    assert "0 passed" in rows["01_affine_layer"]
    assert "affine_forward not done" in rows["01_affine_layer"]
    assert "does not open" in rows["02_relu"]
    assert "definitions do not load" in rows["03_losses"]
    assert "definitions do not load" in rows["04_two_layer_net"]
    assert "02_relu.ipynb is not a readable Jupyter notebook" in out
    assert "notebook not found" in rows["05_solver"] and "notebook not found" in rows["06_tuning"]
    assert "invalid" in rows["best_model.npz"]
    assert "W2 has shape (8, 7), expected (8, 10)" in out
    assert "Could not find your chapter 05_solver notebook" in out
    assert "5 of 7 files" in out
    with zipfile.ZipFile(path) as archive:  # even broken files are handed in, as they are
        assert archive.read("two_layer_net/02_relu.ipynb") == before["02_relu.ipynb"]
        assert "two_layer_net/05_solver.ipynb" not in archive.namelist()
    after = snapshot(folder)
    after.pop("two_layer_net_submission.zip")
    assert after == before


def test_a_failing_public_check_is_named(folder, capsys):
    nb = nbformat.read(SOLUTIONS / "01_affine_layer.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "def affine_forward(x, w, b):\n    return x.reshape(len(x), -1) @ w, (x, w, b)"))
    nbformat.write(nb, folder / "01_affine_layer.ipynb")
    fcnet.submit()
    row = next(line for line in capsys.readouterr().out.splitlines()
               if line.startswith("01_affine_layer"))
    # The three value checks of affine_forward fail; affine_backward, checked on the cache
    # its docstring specifies, is not blamed for the forward pass's bug.
    assert "3 failed" in row and "affine_forward fails" in row, row
    assert "affine_backward" not in row, row


def test_a_function_that_never_returns_cannot_hang_submit(folder, capsys, monkeypatch):
    nb = nbformat.read(SOLUTIONS / "01_affine_layer.ipynb", as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(
        "def affine_forward(x, w, b):\n    while True:\n        pass"))
    nbformat.write(nb, folder / "01_affine_layer.ipynb")
    monkeypatch.setattr(submit_module, "CHECK_SECONDS", 1)
    fcnet.submit()
    out = capsys.readouterr().out
    assert "stopped after 1 s" in out and "never ends" in out


@pytest.mark.parametrize("problem, params", [
    ("not a readable .npz", None),
    ("has no b2", {"W1": np.zeros((3072, 4)), "b1": np.zeros(4), "W2": np.zeros((4, 10))}),
    ("not a finite", {"W1": np.full((3072, 4), np.nan), "b1": np.zeros(4),
                      "W2": np.zeros((4, 10)), "b2": np.zeros(10)}),
])
def test_model_problems_are_named(problem, params):
    if params is None:
        data = b"PK\x03\x04 not really"
    else:
        buffer = io.BytesIO()
        np.savez(buffer, **params)
        data = buffer.getvalue()
    assert problem in submit_module.model_problem(data)
    assert submit_module.model_problem(model()) == ""


def test_an_unwritable_target_is_a_warning(folder, capsys):
    assert fcnet.submit(out=folder / "no" / "such" / "folder" / "x.zip") is None
    assert "could not write" in capsys.readouterr().out


def test_an_unreadable_model_is_a_warning_not_a_crash(folder, monkeypatch, capsys):
    (folder / "best_model.npz").write_bytes(model())
    real_read = Path.read_bytes

    def read_bytes(path):  # root reads any file, so the I/O error is simulated
        if path.name == "best_model.npz" and path.parent == folder:
            raise PermissionError(13, "Permission denied", str(path))
        return real_read(path)

    monkeypatch.setattr(Path, "read_bytes", read_bytes)
    zip_path = fcnet.submit(download=False)
    out = capsys.readouterr().out
    assert "Permission denied" in out and "does not open" in out
    with zipfile.ZipFile(zip_path) as archive:
        assert not any(name.endswith("best_model.npz") for name in archive.namelist())
