"""`python -m course_build publish --to <git url>`: the student release to the public
repository's main branch, the student book to its gh-pages branch, nothing private in either.

The public repository here is a local bare repository. The release is the real one (built by
its step); the book is a small stand-in folder shaped like _build/html (the real book build
takes minutes and is tested in test_book.py), with pages, `_sources/` and a notebook.
"""
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from book_support import ROOT, find_fragments, fragments_of
from course_build import student_release
from course_build.book import STUDENT_HTML
from course_build.notebooks import DEFAULT_REPOSITORY_URL
from course_build.publish import PublishError, placeholder_warning, publish

BOOK_PAGES = {
    "index.html": "<html><body><h1>Fully connected nets from scratch</h1></body></html>",
    "book/01_affine_layer.html": "<html><body><p>The affine layer.</p></body></html>",
    "_sources/book/01_affine_layer.md": "# The affine layer\n\nA problem, without its answer.\n",
    "_sources/exercises/01_affine_layer.ipynb": (ROOT / "exercises" / "01_affine_layer.ipynb")
    .read_text(encoding="utf-8"),
}


@pytest.fixture(scope="module")
def release():
    student_release.build(ROOT, ROOT)
    return ROOT / student_release.RELEASE_DIR


@pytest.fixture
def course(tmp_path, release):
    """A course root holding what `make all` leaves for publishing."""
    root = tmp_path / "course"
    shutil.copytree(release, root / student_release.RELEASE_DIR)
    for rel, text in BOOK_PAGES.items():
        page = root / STUDENT_HTML / rel
        page.parent.mkdir(parents=True, exist_ok=True)
        page.write_text(text, encoding="utf-8")
    shutil.copyfile(ROOT / "_config.yml", root / "_config.yml")
    return root


@pytest.fixture
def public(tmp_path):
    bare = tmp_path / "public.git"
    subprocess.run(["git", "init", "--quiet", "--bare", str(bare)], check=True)
    return bare


def git(bare, *args):
    return subprocess.run(["git", "--git-dir", str(bare), *args], check=True,
                          capture_output=True, text=True).stdout


def checkout(bare, branch, dest):
    """The branch's files, as a clone would have them."""
    subprocess.run(["git", "clone", "--quiet", "--branch", branch, str(bare), str(dest)],
                   check=True)
    shutil.rmtree(dest / ".git")
    return dest


def listing(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def assert_nothing_private(folder):
    assert not find_fragments(folder), "answer-key code published"
    hidden = fragments_of(sorted((ROOT / "autograder").rglob("*.py")))
    assert not find_fragments(folder, hidden), "hidden-test code published"
    for path in folder.rglob("*"):
        if path.is_file():
            text = path.read_text(encoding="utf-8", errors="replace")
            assert "{solution}" not in text, path
            assert "hidden_checks" not in text and "BEGIN HIDDEN TESTS" not in text, path


def test_publish_puts_the_release_on_main_and_the_book_on_gh_pages(course, public, tmp_path):
    publish(course, str(public), log=lambda message: None)
    assert set(git(public, "for-each-ref", "--format=%(refname)").split()) == \
        {"refs/heads/main", "refs/heads/gh-pages"}
    main = checkout(public, "main", tmp_path / "main")
    assert listing(main) == listing(course / student_release.RELEASE_DIR)
    pages = checkout(public, "gh-pages", tmp_path / "pages")
    assert listing(pages) == sorted([*BOOK_PAGES, ".nojekyll"])  # .nojekyll: serve _static/
    for folder in (main, pages):
        assert_nothing_private(folder)


def test_publishing_again_adds_a_commit_and_keeps_the_history(course, public):
    publish(course, str(public), log=lambda message: None)
    first = git(public, "rev-parse", "main").strip()
    (course / student_release.RELEASE_DIR / "README.md").write_text("# changed\n")
    publish(course, str(public), log=lambda message: None)
    assert git(public, "rev-parse", "main^").strip() == first
    assert git(public, "show", "main:README.md") == "# changed\n"
    assert int(git(public, "rev-list", "--count", "gh-pages")) == 2


@pytest.mark.parametrize("leak", ["```{solution} prob-1\nThe answer is 3.\n```\n",
                                  "### BEGIN HIDDEN TESTS\nassert x\n",
                                  "from answer_key.layers import affine_forward\n"])
def test_a_private_line_in_the_book_stops_the_publish_before_any_push(course, public, leak):
    (course / STUDENT_HTML / "_sources" / "book" / "01_affine_layer.md").write_text(leak)
    with pytest.raises(PublishError, match="01_affine_layer.md"):
        publish(course, str(public), log=lambda message: None)
    assert git(public, "for-each-ref") == ""


def test_a_synthetic_preview_is_not_published(course, public):
    from course_build.book import SYNTHETIC_CAPTION

    (course / STUDENT_HTML / "index.html").write_text(f"<p>{SYNTHETIC_CAPTION}</p>")
    with pytest.raises(PublishError, match="synthetic"):
        publish(course, str(public), log=lambda message: None)


def test_the_command_as_documented(course, public):
    """docs/adopting.md's command, with --root pointing at the course built here."""
    run = subprocess.run([sys.executable, "-m", "course_build", "publish", "--to", str(public),
                          "--root", str(course)], capture_output=True, text=True, cwd=ROOT)
    assert run.returncode == 0, run.stderr
    assert "gh-pages" in run.stdout
    missing = subprocess.run([sys.executable, "-m", "course_build", "publish", "--to",
                              str(public), "--root", str(course / "nowhere")],
                             capture_output=True, text=True, cwd=ROOT)
    assert missing.returncode == 2 and "make all" in missing.stderr


def test_the_placeholder_repository_is_warned_about(tmp_path):
    config = (ROOT / "_config.yml").read_text()
    assert DEFAULT_REPOSITORY_URL in config  # the course ships with the placeholder
    (tmp_path / "_config.yml").write_text(config)
    assert "repository.url" in placeholder_warning(tmp_path)
    (tmp_path / "_config.yml").write_text(
        re.sub(r"url: \S+", "url: https://github.com/our-university/nn-course", config, count=1))
    assert placeholder_warning(tmp_path) is None
