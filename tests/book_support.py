"""Helpers shared by the book and student-release tests (not a test module itself).

- `built_book(edition)`: build the book once per test session with the real build step
  (`python -m course_build book`), and return its HTML folder.
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
ANSWER_KEY = ROOT / "solutions" / "answer_key"
BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
MIN_FRAGMENT = 14  # characters without whitespace; shorter lines are too generic to count

_built = {}


def built_book(edition="student"):
    """Build the book edition with the build step (once per session); return its HTML folder."""
    if edition not in _built:
        env = dict(os.environ)
        args = [sys.executable, "-m", "course_build", "book"]
        if edition == "instructor":
            args.append("--instructor")
        subprocess.run(args, cwd=ROOT, env=env, check=True)
        html = ROOT / ("_build/html" if edition == "student" else "_build/instructor/html")
        _built[edition] = html
    return _built[edition]


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
