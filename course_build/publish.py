"""`python -m course_build publish --to <git url>`: put the course online in one step.

It pushes what `make all` built for students to the public student repository:

    _build/student-release/  ->  its `main` branch   (what Colab and students clone)
    _build/html/             ->  its `gh-pages` branch (the student book, for GitHub Pages)

Both branches are written with ghp-import, the tool Jupyter Book's own documentation uses
to publish to GitHub Pages. Each push adds one commit on top of the branch's history, so
students' clones and forks keep working. Before anything is pushed, both folders are
searched for what must never be public (RELEASE_LEAKS); a hit stops the publish.
The instructor edition (`_build/instructor/`) is never published.
"""
import os
import subprocess
import tempfile
from contextlib import contextmanager
from pathlib import Path

from .book import STUDENT_HTML, SYNTHETIC_CAPTION
from .notebooks import BEGIN_HIDDEN, DEFAULT_REPOSITORY_URL, repository
from .student_release import RELEASE_DIR

# Text that no public file may hold: a solution block of the book's problems, nbgrader's
# solution and hidden-test markers, and an import of the answer key or the grader.
RELEASE_LEAKS = ("{solution}", "### BEGIN SOLUTION", BEGIN_HIDDEN,
                 "import answer_key", "from answer_key", "from autograder", "import autograder")
TEXT_SUFFIXES = {".md", ".ipynb", ".py", ".txt", ".html", ".js", ".json", ".toml", ".yml"}


class PublishError(RuntimeError):
    """Nothing was pushed; the message says why and what to do."""


def leaks(folder):
    """[(relative path, marker)] for every text file under `folder` holding a RELEASE_LEAKS marker."""
    folder = Path(folder)
    hits = []
    for path in sorted(folder.rglob("*")):
        if path.is_file() and path.suffix in TEXT_SUFFIXES:
            text = path.read_text(encoding="utf-8", errors="replace")
            hits += [(path.relative_to(folder).as_posix(), m) for m in RELEASE_LEAKS if m in text]
    return hits


def check_publishable(release, book):
    """Raise PublishError unless both folders exist and are fit to be public."""
    for folder, how in ((release, "python -m course_build student-release"),
                        (book, "python -m course_build book")):
        if not (folder / ("README.md" if folder == release else "index.html")).is_file():
            raise PublishError(f"{folder} is missing or incomplete: run `make all` (or `{how}`) "
                               "first")
    if any(SYNTHETIC_CAPTION in p.read_text(encoding="utf-8", errors="replace")
           for p in book.rglob("*.html")):
        raise PublishError(f"{book} is a --synthetic-data preview: build the book from "
                           "CIFAR-10 (`make all`) before publishing it")
    found = [(folder, rel, marker) for folder in (release, book) for rel, marker in leaks(folder)]
    if found:
        listing = "\n".join(f"  {folder / rel}: {marker!r}" for folder, rel, marker in found[:20])
        raise PublishError(f"refusing to publish: {len(found)} file(s) hold text that must stay "
                           f"private:\n{listing}")


@contextmanager
def _working_directory(path):
    """ghp-import runs git in the current directory."""
    before = os.getcwd()
    os.chdir(path)
    try:
        yield
    finally:
        os.chdir(before)


def _git(*args, cwd):
    return subprocess.run(["git", *args], cwd=cwd, check=True, capture_output=True, text=True)


def publish(root, url, log=print):
    """Push the student release to `url`'s main branch and the student book to gh-pages."""
    from ghp_import import GhpError, ghp_import

    root = Path(root)
    release, book = root / RELEASE_DIR, root / STUDENT_HTML
    check_publishable(release, book)
    _, branch = repository(root)
    with tempfile.TemporaryDirectory(prefix="course_publish_") as scratch:
        _git("init", "--quiet", cwd=scratch)
        # ghp-import commits with git's identity; a fresh CI machine may have none.
        for key, value in (("user.name", "fcnet course build"),
                           ("user.email", "course-build@localhost")):
            if subprocess.run(["git", "config", key], cwd=scratch,
                              capture_output=True).returncode:
                _git("config", key, value, cwd=scratch)
        _git("remote", "add", "public", url, cwd=scratch)
        try:
            _git("fetch", "--quiet", "public", cwd=scratch)  # an empty repository has nothing
        except subprocess.CalledProcessError as error:
            raise PublishError(f"cannot read {url}: {error.stderr.strip()}") from None
        with _working_directory(scratch):
            try:
                ghp_import(str(release), remote="public", branch=branch, push=True,
                           mesg="Student release, built by python -m course_build")
                ghp_import(str(book), remote="public", branch="gh-pages", push=True,
                           nojekyll=True, mesg="Student book, built by python -m course_build")
            except (GhpError, subprocess.CalledProcessError) as error:
                raise PublishError(f"pushing to {url} failed: {getattr(error, 'message', error)}"
                                   ) from None
    log(f"published the student release to {url} ({branch}) and the book to its gh-pages "
        "branch; turn on GitHub Pages for gh-pages in the repository's settings once")


def placeholder_warning(root):
    """A warning while _config.yml still names the course's placeholder repository, else None."""
    url, _ = repository(root)
    if url != DEFAULT_REPOSITORY_URL:
        return None
    return (f"warning: _config.yml's repository.url is still the placeholder {url}. Every "
            "notebook's Colab setup cell installs fcnet from that address, so on Colab it "
            "fails until you set repository.url to your public student repository and run "
            "`make all` again (see docs/adopting.md).")
