"""fcnet.notebook_import: only definitions are taken from a notebook, and a missing chapter says what to do."""
import nbformat
import pytest

from fcnet.notebook_import import extract_definitions, import_notebook


def make_notebook(path, *cells):
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(c) if not c.startswith("MD:")
                else nbformat.v4.new_markdown_cell(c[3:]) for c in cells]
    nbformat.write(nb, path)
    return nb


def test_keeps_definitions_and_skips_runs(tmp_path):
    nb = make_notebook(
        tmp_path / "01_affine_layer.ipynb",
        "import numpy as np\n%matplotlib inline\n!ls\nLIMIT = 3",
        "def affine_forward(x, w, b):\n    return x @ w + b, None",
        "MD:# not code",
        "raise RuntimeError('a training run must not execute')",
        "for i in range(10**9):\n    pass",
        "data = load_everything()",
        "class Net:\n    pass",
        "answer = set()\nbig = set(range(10**9))",
    )
    code = extract_definitions(nb).code
    assert "def affine_forward" in code and "class Net" in code and "LIMIT = 3" in code
    assert "RuntimeError" not in code and "range(10**9)" not in code
    assert "load_everything" not in code and "%matplotlib" not in code
    assert "answer = set()" in code and "range(10**9)" not in code


def test_syntax_error_cell_is_reported_and_others_kept(tmp_path):
    nb = make_notebook(tmp_path / "x.ipynb", "def broken(:\n    pass", "def fine():\n    return 1")
    defs = extract_definitions(nb)
    assert "def fine" in defs.code and "broken" not in defs.code
    assert len(defs.skipped) == 1 and "syntax error" in defs.skipped[0].reason


def test_wiring_calls_are_kept(tmp_path):
    nb = make_notebook(tmp_path / "x.ipynb",
                       "fwd, bwd = make_affine_relu(a, b, c, d)",
                       "affine_forward = import_notebook('01_affine_layer', 'affine_forward')")
    code = extract_definitions(nb).code
    assert "make_affine_relu" in code and "import_notebook" in code


def test_import_notebook_finds_sibling_and_returns_names(tmp_path, monkeypatch):
    make_notebook(tmp_path / "01_affine_layer.ipynb",
                  "def affine_forward(x, w, b):\n    return 'mine', None",
                  "def affine_backward(dout, cache):\n    return 1, 2, 3")
    monkeypatch.chdir(tmp_path)
    forward, backward = import_notebook("01_affine_layer", "affine_forward", "affine_backward")
    assert forward(1, 2, 3) == ("mine", None)
    assert backward(None, None) == (1, 2, 3)
    assert import_notebook("01_affine_layer").affine_forward is not None


def test_missing_chapter_explains_what_to_do(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.delenv("FCNET_CHAPTERS_DIR", raising=False)
    monkeypatch.setenv("FCNET_DRIVE_ROOT", str(tmp_path / "no-drive"))
    with pytest.raises(FileNotFoundError, match="Keep all chapter notebooks in one folder"):
        import_notebook("01_affine_layer")


def test_missing_function_explains_what_to_do(tmp_path, monkeypatch):
    make_notebook(tmp_path / "01_affine_layer.ipynb", "x = 1")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ImportError, match="defines no affine_backward"):
        import_notebook("01_affine_layer", "affine_backward")


def test_chapters_dir_env_and_colab_drive_search(tmp_path, monkeypatch):
    elsewhere = tmp_path / "course"
    elsewhere.mkdir()
    make_notebook(elsewhere / "02_relu.ipynb", "def relu_forward(x):\n    return x, x")
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("FCNET_CHAPTERS_DIR", str(elsewhere))
    assert import_notebook("02_relu", "relu_forward")(5) == (5, 5)
    monkeypatch.delenv("FCNET_CHAPTERS_DIR")
    drive = tmp_path / "drive"
    (drive / "My course" / "a2").mkdir(parents=True)
    make_notebook(drive / "My course" / "a2" / "02_relu.ipynb", "def relu_forward(x):\n    return 0, 0")
    monkeypatch.setenv("FCNET_DRIVE_ROOT", str(drive))
    monkeypatch.chdir(tmp_path / "drive")  # cwd has no chapters; the Drive search must find it
    assert import_notebook("02_relu", "relu_forward")(5) == (0, 0)


def test_unreadable_notebook_has_clear_error(tmp_path, monkeypatch):
    (tmp_path / "01_affine_layer.ipynb").write_text("{ not json")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="not a readable Jupyter notebook"):
        import_notebook("01_affine_layer")


# ----------------------------------------------------------------------------- file names
# What real students have: Colab's "Copy of", a second download, Jupyter's checkpoints, a
# renamed file. fcnet.chapter_files holds the rules; these tests hold carry-forward to them.

import os
import sys
import types

from fcnet import chapter_files, locate


def chapter_notebook(path, stem, body, metadata=True, mtime=None):
    """A notebook defining `body`, carrying chapter id `stem` in its metadata (as every
    notebook the course hands out does) unless metadata=False."""
    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(body)]
    if metadata:
        nb.metadata["fcnet"] = {"chapter": stem}
    path.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, path)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def affine(tag):
    return f"def affine_forward(x, w, b):\n    return {tag!r}, None"


@pytest.fixture
def drive(tmp_path, monkeypatch):
    """A folder standing in for My Drive; the working folder is elsewhere and empty; the
    kernel is on Colab (google.colab imported), so the notebook's own folder is unknown."""
    root = tmp_path / "MyDrive"
    (root / "Colab Notebooks").mkdir(parents=True)
    work = tmp_path / "content"
    work.mkdir()
    monkeypatch.chdir(work)
    monkeypatch.setenv("FCNET_DRIVE_ROOT", str(root))
    monkeypatch.delenv("FCNET_CHAPTERS_DIR", raising=False)
    monkeypatch.delenv("JPY_SESSION_NAME", raising=False)
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    return root


@pytest.mark.parametrize("name", ["Copy of 01_affine_layer.ipynb", "01_affine_layer (1).ipynb",
                                  "alice_ch1.ipynb", "Copy of 01_affine_layer (2).ipynb"])
def test_carry_forward_finds_colab_and_download_names(drive, name):
    chapter_notebook(drive / "Colab Notebooks" / name, "01_affine_layer", affine(name))
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == name


def test_a_renamed_file_without_metadata_is_not_guessed(drive):
    chapter_notebook(drive / "Colab Notebooks" / "alice_ch1.ipynb", "x", affine("x"),
                     metadata=False)
    with pytest.raises(FileNotFoundError):
        import_notebook("01_affine_layer")


def test_copy_names_without_metadata_are_found_by_name(drive):
    chapter_notebook(drive / "Colab Notebooks" / "Copy of 01_affine_layer (1).ipynb", "x",
                     affine("by name"), metadata=False)
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == "by name"


def test_metadata_beats_the_file_name(drive):
    # chapter 2's notebook saved under chapter 1's name is chapter 2, not chapter 1
    chapter_notebook(drive / "Colab Notebooks" / "01_affine_layer.ipynb", "02_relu",
                     affine("wrong"), mtime=2_000_000_000)
    chapter_notebook(drive / "Colab Notebooks" / "Copy of 01_affine_layer.ipynb",
                     "01_affine_layer", affine("right"), mtime=1_000_000_000)
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == "right"


def test_the_newest_copy_is_used_and_named(drive, capsys):
    folder = drive / "Colab Notebooks"
    chapter_notebook(folder / "Copy of 01_affine_layer.ipynb", "01_affine_layer",
                     affine("old"), mtime=1_000_000_000)
    chapter_notebook(folder / "Copy of 01_affine_layer (1).ipynb", "01_affine_layer",
                     affine("new"), mtime=1_000_000_500)
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == "new"
    out = capsys.readouterr().out
    assert "used Copy of 01_affine_layer (1).ipynb (modified" in out and "the newest" in out
    assert "ignored Copy of 01_affine_layer.ipynb" in out


def test_a_checkpoint_is_never_used(drive):
    folder = drive / "Colab Notebooks"
    chapter_notebook(folder / "01_affine_layer.ipynb", "01_affine_layer", affine("saved"),
                     mtime=1_000_000_000)
    chapter_notebook(folder / ".ipynb_checkpoints" / "01_affine_layer-checkpoint.ipynb",
                     "01_affine_layer", affine("checkpoint"), mtime=1_900_000_000)
    chapter_notebook(folder / "01_affine_layer-checkpoint.ipynb", "01_affine_layer",
                     affine("dragged out"), mtime=1_900_000_000)
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == "saved"


def test_only_a_checkpoint_is_missing(drive):
    chapter_notebook(drive / "Colab Notebooks" / ".ipynb_checkpoints" /
                     "01_affine_layer-checkpoint.ipynb", "01_affine_layer", affine("c"))
    with pytest.raises(FileNotFoundError):
        import_notebook("01_affine_layer")


def test_colab_notebooks_first_then_the_rest_of_drive(drive):
    chapter_notebook(drive / "old" / "01_affine_layer.ipynb", "01_affine_layer",
                     affine("elsewhere"), mtime=1_900_000_000)
    chapter_notebook(drive / "Colab Notebooks" / "Copy of 01_affine_layer.ipynb",
                     "01_affine_layer", affine("colab notebooks"), mtime=1_000_000_000)
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == \
        "colab notebooks"
    (drive / "Colab Notebooks" / "Copy of 01_affine_layer.ipynb").unlink()
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == "elsewhere"


def test_the_drive_search_is_bounded_in_depth(drive):
    deep = drive.joinpath(*[f"d{i}" for i in range(locate.DRIVE_DEPTH + 1)])
    chapter_notebook(deep / "01_affine_layer.ipynb", "01_affine_layer", affine("deep"))
    with pytest.raises(FileNotFoundError):
        import_notebook("01_affine_layer")
    chapter_notebook(deep.parent / "01_affine_layer.ipynb", "01_affine_layer", affine("ok"))
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == "ok"


def test_the_drive_search_is_bounded_in_time(drive, monkeypatch):
    chapter_notebook(drive / "a" / "01_affine_layer.ipynb", "01_affine_layer", affine("a"))
    monkeypatch.setattr(locate, "DRIVE_SECONDS", 0.0)
    result = locate.search("01_affine_layer", seconds=0.0)
    assert not result.found and "stopped after 0 seconds" in result.stopped
    assert "stopped after" in locate.missing_message("01_affine_layer", result)


def test_the_notebooks_folder_comes_before_drive(drive, tmp_path, monkeypatch):
    chapter_notebook(drive / "Colab Notebooks" / "01_affine_layer.ipynb", "01_affine_layer",
                     affine("drive"))
    here = tmp_path / "jupyter"
    chapter_notebook(here / "Copy of 01_affine_layer.ipynb", "01_affine_layer", affine("here"))
    (here / "04_two_layer_net.ipynb").write_text("{}")
    monkeypatch.setenv("JPY_SESSION_NAME", str(here / "04_two_layer_net.ipynb"))
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == "here"


def test_missing_chapter_on_colab_says_what_to_do(drive):
    with pytest.raises(FileNotFoundError) as err:
        import_notebook("02_relu")
    message = str(err.value)
    assert "Save a copy in Drive" in message and "Colab Notebooks" in message
    assert "Copy of 02_relu.ipynb" in message and "FCNET_CHAPTERS_DIR" in message
    assert str(drive) in message


def test_drive_not_mounted_on_colab_says_so(drive, monkeypatch, tmp_path):
    monkeypatch.setenv("FCNET_DRIVE_ROOT", str(tmp_path / "not-mounted"))
    with pytest.raises(FileNotFoundError, match="Google Drive is not mounted: run the first"):
        import_notebook("02_relu")


@pytest.mark.parametrize("name, stem", [
    ("Copy of 01_affine_layer.ipynb", "01_affine_layer"),
    ("01_affine_layer (1).ipynb", "01_affine_layer"),
    ("Copy of Copy of 02_relu (3).ipynb", "02_relu"),
    ("03_losses - Copy.ipynb", "03_losses"),
    ("04_two_layer_net copy.ipynb", "04_two_layer_net"),
    ("05_solver 2.ipynb", "05_solver"),
    ("alice_ch1.ipynb", None),
    ("01_affine_layer.py", None),
    ("01_affine_layer-checkpoint.ipynb", None),
])
def test_chapter_in_name(name, stem):
    assert chapter_files.chapter_in_name(name) == stem


def test_every_generated_notebook_names_its_chapter():
    from pathlib import Path

    import json

    from fcnet.chapters import CHAPTERS

    root = Path(__file__).resolve().parents[1]
    for folder in ("exercises", "solutions/notebooks", "autograder/dist/nbgrader/source/two_layer_net"):
        for stem in CHAPTERS:
            document = json.loads((root / folder / f"{stem}.ipynb").read_text())
            assert chapter_files.chapter_in_metadata(document) == stem, (folder, stem)


def test_a_saved_change_is_seen_at_the_next_import(drive):
    path = drive / "Colab Notebooks" / "Copy of 01_affine_layer.ipynb"
    chapter_notebook(path, "01_affine_layer", affine("first"), mtime=1_000_000_000)
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == "first"
    chapter_notebook(path, "01_affine_layer", affine("second save"), mtime=1_000_000_100)
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == "second save"
    # renaming it in Drive keeps it found (by its id)
    path.rename(path.with_name("my chapter one.ipynb"))
    assert import_notebook("01_affine_layer", "affine_forward")(1, 2, 3)[0] == "second save"
