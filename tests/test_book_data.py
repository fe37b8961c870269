"""What the book's figures are computed from: the real CIFAR-10, or (only when asked for
with --synthetic-data) synthetic stand-in images, and then every page says so.

Fast tests check the data step of `python -m course_build book`: where it looks for
CIFAR-10 (CIFAR10_ARCHIVE, then the download cache, then the official download) and how it
stops when none works; and the marks a synthetic figure carries. The slow tests build the
book twice, as a user would: the real book (shared with tests/test_book.py) must hold no
synthetic figure and no banner; a --synthetic-data build of the whole book, in a copy of
the sources, must carry the banner on every page and the mark in every data figure's
caption.
"""
import hashlib
import io
import os
import shutil
import subprocess
import sys
import tarfile

import pytest
from bs4 import BeautifulSoup

from book_support import (ROOT, built_book, executed_outputs_with_mark, pages_without_banner,
                          synthetic_figures)
from course_build import book as step
from course_build.book import SYNTHETIC_BANNER, SYNTHETIC_CAPTION, SYNTHETIC_MARK
from fcnet import data_utils

UNREACHABLE = "http://127.0.0.1:9/cifar-10-python.tar.gz"  # port 9: nothing listens
# The figures that show images or a trained net: the ones a synthetic build must mark.
DATA_FIGURES = {"fig-learning-rates", "fig-first-run", "fig-first-layer-weights",
                "fig-tuned-run", "fig-sweep", "fig-update-ratio", "fig-augmentation",
                "fig-whitening"}


def tiny_archive(path):
    """A .tar.gz in CIFAR-10's layout (the members exist; their bytes do not matter to
    fetching and unpacking); return its md5."""
    with tarfile.open(path, "w:gz") as tar:
        for name in data_utils.REQUIRED_MEMBERS:
            data = f"stand-in for {name}".encode()
            info = tarfile.TarInfo(f"{data_utils.ARCHIVE_FOLDER}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    return hashlib.md5(path.read_bytes()).hexdigest()


@pytest.fixture
def no_cifar(tmp_path, monkeypatch):
    """No CIFAR10_ARCHIVE, an empty download cache, and no internet."""
    monkeypatch.delenv("CIFAR10_ARCHIVE", raising=False)
    monkeypatch.delenv("CIFAR10_MD5", raising=False)
    monkeypatch.delenv(step.DATA_VARIABLE, raising=False)
    monkeypatch.setenv("FCNET_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setattr(data_utils, "CIFAR10_URL", UNREACHABLE)
    return tmp_path / "cache"


@pytest.fixture
def figures(monkeypatch):
    """book/figures.py, imported as the chapter pages import it."""
    monkeypatch.syspath_prepend(str(ROOT / "book"))
    import figures
    return figures


@pytest.fixture
def course_book_ext(monkeypatch):
    monkeypatch.syspath_prepend(str(ROOT / "book" / "_ext"))
    import course_book
    return course_book


# ------------------------------------------------------------------ fast: the data step

def test_without_any_cifar10_the_build_stops_naming_every_option(tmp_path):
    """The command a newcomer types, on a machine with neither CIFAR-10 nor internet."""
    env = dict(os.environ, CIFAR10_ARCHIVE=UNREACHABLE,
               FCNET_CACHE_DIR=str(tmp_path / "cache"))
    env.pop(step.DATA_VARIABLE, None)
    run = subprocess.run([sys.executable, "-m", "course_build", "book"], cwd=ROOT, env=env,
                         capture_output=True, text=True, timeout=120)
    assert run.returncode != 0
    message = run.stderr
    for option in ("CIFAR10_ARCHIVE=", str(tmp_path / "cache"), data_utils.CIFAR10_URL,
                   "--synthetic-data", "BUILD_FLAGS=--synthetic-data"):
        assert option in message, f"{option!r} missing from:\n{message}"
    assert "Traceback" not in message
    assert "jupyter-book build" not in run.stdout  # stopped before Sphinx


def test_the_download_cache_comes_before_the_download(no_cifar, monkeypatch):
    no_cifar.mkdir()
    md5 = tiny_archive(no_cifar / "cifar-10-python.tar.gz")
    monkeypatch.setenv("CIFAR10_MD5", md5)
    folder = step.ensure_cifar10()
    assert folder == no_cifar / f"{data_utils.ARCHIVE_FOLDER}-{md5}"
    assert (folder / "test_batch").is_file()


def test_cifar10_archive_comes_first(no_cifar, tmp_path, monkeypatch):
    mine = tmp_path / "mine.tar.gz"
    md5 = tiny_archive(mine)
    monkeypatch.setenv("CIFAR10_ARCHIVE", str(mine))
    monkeypatch.setenv("CIFAR10_MD5", md5)
    assert step.ensure_cifar10().name.endswith(md5)


def test_the_official_download_is_checked_and_shows_progress(no_cifar, tmp_path,
                                                             monkeypatch, capsys):
    (tmp_path / "server").mkdir()
    served = tmp_path / "server" / "cifar-10-python.tar.gz"
    md5 = tiny_archive(served)
    monkeypatch.setattr(data_utils, "CIFAR10_URL", served.as_uri())
    monkeypatch.setenv("CIFAR10_MD5", md5)
    step.ensure_cifar10()
    assert "Downloading CIFAR-10" in capsys.readouterr().err  # tqdm's bar
    assert (no_cifar / "cifar-10-python.tar.gz").is_file()
    # A download whose md5 is wrong stops the build, and is not kept.
    monkeypatch.setenv("FCNET_CACHE_DIR", str(tmp_path / "other-cache"))
    monkeypatch.setenv("CIFAR10_MD5", "0" * 32)
    with pytest.raises(SystemExit) as stop:
        step.ensure_cifar10()
    assert "md5" in str(stop.value) and "--synthetic-data" in str(stop.value)
    assert not list((tmp_path / "other-cache").glob("*.tar.gz"))


def test_synthetic_flag_reaches_the_build_and_skips_cifar10(monkeypatch):
    from course_build.__main__ import main
    monkeypatch.delenv(step.DATA_VARIABLE, raising=False)
    called = []
    monkeypatch.setattr(step, "ensure_cifar10", lambda: called.append("cifar"))
    monkeypatch.setattr(step, "refresh_cache", lambda root: False)
    monkeypatch.setattr(step, "build_student", lambda root: root / "_build" / "none")
    assert main(["book", "--synthetic-data"]) == 0
    assert os.environ[step.DATA_VARIABLE] == "synthetic" and not called
    monkeypatch.setenv(step.DATA_VARIABLE, "cifar10")
    main(["book"])
    assert called == ["cifar"]
    monkeypatch.setenv(step.DATA_VARIABLE, "fake")
    with pytest.raises(ValueError, match="synthetic"):
        step.data_mode()


def test_figures_stop_with_the_options_when_cifar10_is_missing(no_cifar, figures):
    """`jupyter-book build .` run directly (no prefetch): the figure cell says what to do."""
    figures.course_runs._load_course_data.cache_clear()
    try:
        with pytest.raises(data_utils.CIFAR10Error, match="--synthetic-data"):
            figures.course_data()
    finally:
        figures.course_runs._load_course_data.cache_clear()


def test_a_synthetic_figure_carries_the_mark(no_cifar, figures, monkeypatch):
    monkeypatch.setenv(step.DATA_VARIABLE, "synthetic")
    figures.course_runs._load_course_data.cache_clear()
    try:
        shown = figures.augmentation_examples(num_images=1, num_copies=1)
        assert repr(shown).startswith(SYNTHETIC_MARK)
        assert shown._repr_png_().startswith(b"\x89PNG")
        # Titles say what the figure was computed from, from the data's own record.
        assert shown.figure._suptitle.get_text().endswith("(synthetic stand-in images)")
        _, source = figures.course_data()
        assert (str(source), source.count(4000)) == (
            "9,000 synthetic stand-in images (not CIFAR-10)", "4,000 synthetic stand-in images")
        assert not repr(figures.loss_comparison()).startswith(SYNTHETIC_MARK)
        # A figure that uses the data without declaring it is refused, not left unmarked.
        sneaky = figures.figure(lambda: (figures.course_data(), figures.plt.figure())[1])
        with pytest.raises(RuntimeError, match="uses_data=True"):
            sneaky()
    finally:
        figures.course_runs._load_course_data.cache_clear()


def test_extension_marks_the_caption_of_a_synthetic_output(course_book_ext):
    from docutils import nodes

    def page(mark):
        output = nodes.container(mime_type="text/plain")
        output += nodes.literal_block("", f"{mark}<Figure size 640x480 with 1 Axes>")
        bundle = nodes.container(nb_element="mime_bundle")
        bundle += output
        figure = nodes.figure()
        figure += bundle
        figure += nodes.caption("", "Training curves.")
        doc = nodes.section()
        doc += figure
        return doc, figure

    doc, figure = page(SYNTHETIC_MARK + " ")
    course_book_ext.mark_synthetic_figures(None, doc)
    assert "synthetic-data" in figure["classes"]
    assert figure.children[-1].astext() == "Training curves. " + SYNTHETIC_CAPTION
    doc, figure = page("")
    course_book_ext.mark_synthetic_figures(None, doc)
    assert figure.children[-1].astext() == "Training curves."


# ------------------------------------------------------------------ slow: two builds

@pytest.fixture(scope="module")
def synthetic_book(tmp_path_factory):
    """`python -m course_build book --synthetic-data` on a copy of the book's sources,
    with no CIFAR-10 anywhere: the whole book, built as a user would."""
    root = tmp_path_factory.mktemp("synthetic-book")
    for name in ("_config.yml", "_toc.yml"):
        shutil.copy(ROOT / name, root / name)
    shutil.copytree(ROOT / "book", root / "book",
                    ignore=shutil.ignore_patterns("__pycache__", ".ipynb_checkpoints"))
    (root / "exercises").mkdir()
    for notebook in (ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"):
        shutil.copy(notebook, root / "exercises" / notebook.name)
    env = dict(os.environ, CIFAR10_ARCHIVE=str(root / "no-such-archive.tar.gz"),
               FCNET_CACHE_DIR=str(root / "empty-cache"))
    env.pop(step.DATA_VARIABLE, None)
    subprocess.run([sys.executable, "-m", "course_build", "book", "--synthetic-data",
                    "--root", str(root)], cwd=ROOT, env=env, check=True)
    return root / "_build" / "html"


@pytest.mark.slow
def test_real_book_has_no_synthetic_figure_and_no_banner(cifar):
    html = built_book("student")
    assert not synthetic_figures(html)
    assert not executed_outputs_with_mark(html.parent)
    banners = [p for p in html.rglob("*.html") if SYNTHETIC_BANNER in p.read_text()]
    assert not banners, banners
    # The data figures are there, so the checks above looked at something.
    found = {f["id"] for p in html.rglob("book/*.html")
             for f in BeautifulSoup(p.read_text(), "html.parser").select("figure[id]")}
    assert DATA_FIGURES <= found, DATA_FIGURES - found


@pytest.mark.slow
def test_synthetic_book_says_so_on_every_page_and_in_every_data_caption(synthetic_book):
    assert not pages_without_banner(synthetic_book)
    marked = {figure_id for _, figure_id in synthetic_figures(synthetic_book)}
    assert marked == DATA_FIGURES
    for page in synthetic_book.rglob("book/*.html"):
        soup = BeautifulSoup(page.read_text(), "html.parser")
        for figure in soup.select("figure.synthetic-data"):
            assert SYNTHETIC_CAPTION in figure.select_one("figcaption").get_text(" ")
    # The detector the real book passes catches this build.
    assert executed_outputs_with_mark(synthetic_book.parent)
