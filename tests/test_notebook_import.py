"""fcnet.notebook_import: only definitions are taken from a notebook, and a missing chapter says what to do."""
import nbformat
import pytest

from fcnet import notebook_import
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
    monkeypatch.setattr(notebook_import, "COLAB_DRIVE", tmp_path / "no-drive")
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
    monkeypatch.setattr(notebook_import, "COLAB_DRIVE", drive)
    monkeypatch.chdir(tmp_path / "drive")  # cwd has no chapters; the Drive search must find it
    assert import_notebook("02_relu", "relu_forward")(5) == (0, 0)


def test_unreadable_notebook_has_clear_error(tmp_path, monkeypatch):
    (tmp_path / "01_affine_layer.ipynb").write_text("{ not json")
    monkeypatch.chdir(tmp_path)
    with pytest.raises(ValueError, match="not a readable Jupyter notebook"):
        import_notebook("01_affine_layer")
