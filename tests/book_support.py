"""Helpers shared by the book and student-release tests (not a test module itself).

- `built_book(edition)`: build the book once per test session with the real build step
  (`python -m course_build book`, from the real CIFAR-10), and return its HTML folder.
- `synthetic_figures(html)`, `pages_without_banner(html)`, `executed_outputs_with_mark(build)`:
  the marks of a --synthetic-data build, found in built HTML and in executed notebooks.
- `answer_key_fragments()` (or `fragments_of(files)`) and `find_fragments(folder)`: detect
  answer-key (or hidden-test) code in any text a reader could get at: HTML (as rendered
  text, so syntax highlighting cannot hide it), notebooks, JavaScript (the search index),
  plain text sources.
"""
import ast
import json
import os
import re
import subprocess
import sys
from functools import lru_cache
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The offline CIFAR-10 beside the repository (as in conftest.py), for a build without
# CIFAR10_ARCHIVE in the environment.
SHARED_CIFAR10 = (ROOT.parent / "shared" / "data" / "cifar-10-python.tar.gz",
                  "f6a5bb329491051f72ffb4c31a1b03bf")
ANSWER_KEY = ROOT / "solutions" / "answer_key"
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
MIN_FRAGMENT = 14  # characters without whitespace; shorter lines are too generic to count

_built = {}


def built_book(edition="student"):
    """Build the book edition with the build step (once per session); return its HTML folder."""
    if edition not in _built:
        env = dict(os.environ)
        env.pop("COURSE_BOOK_DATA", None)  # the real book, never a synthetic preview
        if not env.get("CIFAR10_ARCHIVE") and SHARED_CIFAR10[0].is_file():
            env["CIFAR10_ARCHIVE"], env["CIFAR10_MD5"] = str(SHARED_CIFAR10[0]), SHARED_CIFAR10[1]
        args = [sys.executable, "-m", "course_build", "book"]
        if edition == "instructor":
            args.append("--instructor")
        subprocess.run(args, cwd=ROOT, env=env, check=True)
        html = ROOT / ("_build/html" if edition == "student" else "_build/instructor/html")
        _built[edition] = html
    return _built[edition]


def html_pages(html):
    """Every page of a built book (not the theme's or the sources' files)."""
    skip = {"_static", "_sources", "_images"}
    return sorted(p for p in Path(html).rglob("*.html")
                  if not skip & set(p.relative_to(html).parts)
                  and 'http-equiv="Refresh"' not in p.read_text(encoding="utf-8")[:300])


def synthetic_figures(html):
    """[(page, figure id)] of every figure a --synthetic-data build marked."""
    from bs4 import BeautifulSoup

    from course_build.book import SYNTHETIC_CAPTION
    found = []
    for page in html_pages(html):
        soup = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser")
        for node in soup.select(".synthetic-data, figure"):
            if "synthetic-data" in (node.get("class") or []) or \
                    SYNTHETIC_CAPTION in node.get_text(" "):
                found.append((page.relative_to(html).as_posix(), node.get("id")))
    return sorted(set(found), key=str)


def pages_without_banner(html):
    """The pages of a built book whose announcement banner does not say "synthetic"."""
    from bs4 import BeautifulSoup

    from course_build.book import SYNTHETIC_BANNER
    missing = []
    for page in html_pages(html):
        banner = BeautifulSoup(page.read_text(encoding="utf-8"), "html.parser").select_one(
            ".bd-header-announcement")
        if banner is None or SYNTHETIC_BANNER not in " ".join(banner.get_text().split()):
            missing.append(page.relative_to(html).as_posix())
    return missing


def executed_outputs_with_mark(build):
    """[notebook] executed for the book (build/jupyter_execute) whose outputs hold a
    synthetic figure: what the figure cells really drew, whatever the HTML says."""
    from course_build.book import SYNTHETIC_MARK
    hits = []
    for path in sorted((Path(build) / "jupyter_execute").rglob("*.ipynb")):
        for cell in json.loads(path.read_text(encoding="utf-8")).get("cells", []):
            for output in cell.get("outputs", []):
                text = output.get("data", {}).get("text/plain", "")
                if SYNTHETIC_MARK in ("".join(text) if isinstance(text, list) else text):
                    hits.append(path.name)
    return sorted(set(hits))


def squash(text):
    """Text without any whitespace, so that layout and highlighting cannot hide a match."""
    return re.sub(r"\s+", "", text)


def _solution_lines(path):
    """Code lines of the answer key's function bodies: what a student must write."""
    source = path.read_text(encoding="utf-8")
    lines = source.splitlines()
    found = []
    for node in ast.walk(ast.parse(source)):
        if not isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            continue
        body = node.body
        if body and isinstance(body[0], ast.Expr) and isinstance(
                getattr(body[0], "value", None), ast.Constant) and isinstance(
                body[0].value.value, str):
            body = body[1:]
        if not body:
            continue
        chunk = lines[body[0].lineno - 1: body[-1].end_lineno]
        if any(line.strip() == BEGIN for line in chunk):
            inside, marked = False, []
            for line in chunk:
                if line.strip() == BEGIN:
                    inside = True
                elif line.strip() == END:
                    inside = False
                elif inside:
                    marked.append(line)
            chunk = marked
        found += chunk
    return found


@lru_cache(maxsize=1)
def public_text():
    """Everything students are given anyway, squashed: fcnet and the student notebooks."""
    parts = [path.read_text(encoding="utf-8")
             for path in sorted((ROOT / "exercises" / "fcnet").rglob("*.py"))]
    for path in sorted((ROOT / "exercises").glob("[0-9][0-9]_*.ipynb")):
        parts += ["".join(cell["source"])
                  for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]]
    return squash("\n".join(parts))


def fragments_of(paths):
    """{squashed code line: "file: line"} of the function bodies in `paths` that students
    are not given: lines long enough to be specific that appear nowhere in what students
    get anyway (fcnet, the student notebooks)."""
    fragments = {}
    for path in paths:
        for line in _solution_lines(path):
            code = line.split("#", 1)[0] if not line.lstrip().startswith(("'", '"')) else line
            key = squash(code)
            if len(key) >= MIN_FRAGMENT and key not in public_text():
                fragments[key] = f"{path.relative_to(ROOT)}: {line.strip()}"
    return fragments


@lru_cache(maxsize=1)
def answer_key_fragments():
    """The answer key's code a student must write (see fragments_of)."""
    return fragments_of(sorted(ANSWER_KEY.rglob("*.py")))


def readable_text(path):
    """What a reader of `path` can see, for HTML as rendered text."""
    raw = path.read_text(encoding="utf-8", errors="replace")
    if path.suffix == ".html":
        from bs4 import BeautifulSoup
        return BeautifulSoup(raw, "html.parser").get_text()
    if path.suffix == ".ipynb":
        try:
            nb = json.loads(raw)
            return "\n".join("".join(c.get("source", "")) for c in nb.get("cells", []))
        except ValueError:
            return raw
    return raw


TEXT_SUFFIXES = {".html", ".ipynb", ".js", ".txt", ".md", ".py", ".json", ".toml", ".cfg",
                 ".yml", ".yaml"}


def find_fragments(folder, fragments=None):
    """[(file, fragment)] for every answer-key fragment found in a text file under folder."""
    fragments = answer_key_fragments() if fragments is None else fragments
    hits = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES:
            continue
        if "mathjax" in path.parts:  # MathJax's own library, 10 MB of unrelated code
            continue
        text = squash(readable_text(path))
        hits += [(path, origin) for key, origin in fragments.items() if key in text]
    return hits


# ------------------------------------------------------------------ answers in prose

MIN_PROSE = 30  # letters and digits; shorter lines ("$dx = 0$.") are too generic to count


def letters(text):
    """Only the letters and digits of `text`: markup, math delimiters and layout vanish, so
    a line of MyST source is found in the page's rendered text and in any copy of it."""
    return re.sub(r"[^0-9A-Za-z]+", "", text)


def _prose_fragments(lines, origin):
    found = {}
    for number, line in lines:
        key = letters(line)
        if len(key) >= MIN_PROSE:
            found[key] = f"{origin}:{number}: {line.strip()[:60]}"
    return found


@lru_cache(maxsize=1)
def answer_prose():
    """{letters of a line: "file:line: text"} for every answer written in prose: the body
    of each chapter's {solution} blocks, the answer key's inline-question lines, and the
    exercise sources' `solution-only` cells (the inline questions' explanations)."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from course_book import solution_blocks
    found = {}
    for page in sorted((ROOT / "book").glob("*.md")):
        text = page.read_text(encoding="utf-8")
        lines = text.splitlines()
        for start, end in solution_blocks(text):
            body = [(n + 1, lines[n]) for n in range(start + 1, end - 1)
                    if not lines[n].lstrip().startswith((":", "```"))]
            found.update(_prose_fragments(body, page.relative_to(ROOT)))
    key = ANSWER_KEY / "inline_questions.py"
    for number, line in enumerate(key.read_text(encoding="utf-8").splitlines(), 1):
        if re.match(r"inline_q\d+\s*=", line):
            found[letters(line)] = f"{key.relative_to(ROOT)}:{number}: {line.strip()}"
    for source in sorted((ROOT / "exercises" / "source").glob("*.py")):
        cells = re.split(r"^# %%", source.read_text(encoding="utf-8"), flags=re.M)
        for cell in cells:
            if cell.startswith(' [markdown] tags=["solution-only"]'):
                lines = [line.lstrip("# ") for line in cell.splitlines()[1:]]
                found.update(_prose_fragments(enumerate(lines, 1), source.relative_to(ROOT)))
    return found


def find_answer_prose(folder):
    """[(file, origin)] for every line of answer_prose() found in a file under folder."""
    fragments = answer_prose()
    hits = []
    for path in sorted(Path(folder).rglob("*")):
        if not path.is_file() or path.suffix not in TEXT_SUFFIXES or "mathjax" in path.parts:
            continue
        text = letters(readable_text(path))
        hits += [(path, origin) for key, origin in fragments.items() if key in text]
    return hits
