"""Build step `notebooks`: one source notebook, written twice (otter-assign style).

Each chapter is written once, by hand, as a jupytext percent-format file
`exercises/source/NN_stem.py`. `transform(source, stem, solution=...)` turns it into the
student notebook (`exercises/NN_stem.ipynb`, solution=False) and the solution notebook
(`solutions/notebooks/NN_stem.ipynb`, solution=True). The flag is the only difference.

Directives, each alone on a line of a code cell:

    # @solution answer_key.layers.affine_forward
        A function or class: solution -> its full source without the BEGIN/END SOLUTION
        marker lines; student -> the same source with every marked region (or, without
        markers, every body after its docstring) replaced by `# YOUR CODE HERE` and
        `raise NotImplementedError`.
        A constant such as answer_key.inline_questions.inline_q1: solution ->
        `inline_q1 = {'A', 'C'}`; student -> `inline_q1 = set()  # YOUR ANSWER HERE`.
    # @solution-body answer_key.walkthrough.tune
        A function whose BODY becomes cell code: solution -> the body after the docstring,
        dedented, without a final `return` (which only serves scripts calling the
        function); student -> the docstring as comments, then the stub lines.
    # @colab-setup
        The Colab setup code (pip-installs the student repository named in _config.yml).

In a markdown cell, a line `@shared NAME` is replaced by the text of `book/shared/NAME.md`,
the explanation the book's chapter includes too (```{include} shared/NAME.md```), so the
two say it in the same words and cannot drift apart.

A cell tagged `solution-only` (jupytext: `# %% [markdown] tags=["solution-only"]`) appears
only in the solution notebook.

Output is deterministic: no outputs, no execution counts, cell ids derived from the stem
and the cell's position, and nbformat's sorted JSON, so a rebuild is byte-identical.
"""
import ast
import importlib
import inspect
import re
import textwrap
from pathlib import Path

import jupytext
import nbformat

from fcnet.chapters import CHAPTERS

SOURCE_DIR = Path("exercises/source")
STUDENT_DIR = Path("exercises")
SOLUTION_DIR = Path("solutions/notebooks")

# The public student repository; _config.yml's repository.url overrides it.
DEFAULT_REPOSITORY_URL = "https://github.com/fcnet-course/fcnet-student"
DEFAULT_BRANCH = "main"

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError")
ANSWER_MARK = "# YOUR ANSWER HERE"
SOLUTION_ONLY_TAG = "solution-only"

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)# @(?P<kind>[\w-]+)(?:[ \t]+(?P<arg>\S+))?[ \t]*$")
_KINDS = ("solution", "solution-body", "colab-setup")

# Explanations written once for a chapter page and its notebook (`@shared NAME`).
SHARED_DIR = Path(__file__).resolve().parents[1] / "book" / "shared"
_SHARED = re.compile(r"^@shared[ \t]+(?P<name>[\w-]+)[ \t]*$")

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}


class DirectiveError(ValueError):
    """A source notebook uses a directive wrongly; the message names the file and cell."""


# ----------------------------------------------------------------------------- configuration

def repository(root):
    """(url, branch) of the public student repository, from _config.yml when it says."""
    path = Path(root) / "_config.yml"
    url, branch = DEFAULT_REPOSITORY_URL, DEFAULT_BRANCH
    if path.is_file():
        import yaml

        config = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        repo = config.get("repository") or {}
        url = str(repo.get("url") or url).rstrip("/")
        branch = str(repo.get("branch") or branch)
    return url, branch


def colab_setup_source(url, branch):
    """The first cell of every chapter: installs the course package on Colab, else nothing."""
    return textwrap.dedent(f'''\
        # Colab setup. On Google Colab this installs the course package `fcnet` (with the
        # tests behind grader.check) and mounts your Google Drive (Colab asks you to allow
        # it). Later chapters and fcnet.submit() find the chapters you saved there with
        # File -> Save a copy in Drive, whatever their names. Anywhere else it does nothing.
        import sys

        if "google.colab" in sys.modules:
            from google.colab import drive

            drive.mount("/content/drive")
            get_ipython().run_line_magic(
                "pip", "install -q git+{url}@{branch}")''')


# ----------------------------------------------------------------------------- answer key

def resolve(dotted):
    """Import the object named by a dotted path such as answer_key.layers.affine_forward."""
    parts = dotted.split(".")
    for split in range(len(parts) - 1, 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:split]))
        except ModuleNotFoundError:
            continue
        for attr in parts[split:]:
            obj = getattr(obj, attr)
        return obj
    raise ImportError(f"cannot import {dotted!r}")


def _strip_markers(lines):
    return [line for line in lines if line.strip() not in (BEGIN, END)]


def _marked_regions(lines):
    """[(begin index, end index)] of BEGIN/END SOLUTION pairs; an error if they do not pair."""
    regions, start = [], None
    for i, line in enumerate(lines):
        text = line.strip()
        if text == BEGIN:
            if start is not None:
                raise DirectiveError(f"nested {BEGIN} at line {i + 1}")
            start = i
        elif text == END:
            if start is None:
                raise DirectiveError(f"{END} without {BEGIN} at line {i + 1}")
            regions.append((start, i))
            start = None
    if start is not None:
        raise DirectiveError(f"{BEGIN} at line {start + 1} is never closed")
    return regions


def _indent_of(line):
    return line[:len(line) - len(line.lstrip())]


def _stub(indent):
    return [indent + text for text in STUB_LINES]


def _docstring_node(body):
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return first
    return None


def _body_ranges(tree):
    """(first, last) 0-based line ranges of every function body after its docstring.

    Top-level functions, and the methods of top-level classes. A body that is only a
    docstring gets an empty range just after it.
    """
    functions = []
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            functions.append(node)
        elif isinstance(node, ast.ClassDef):
            functions += [n for n in node.body
                          if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
    ranges = []
    for fn in functions:
        doc = _docstring_node(fn.body)
        rest = fn.body[1:] if doc else fn.body
        first = doc.end_lineno if doc else fn.body[0].lineno - 1
        last = rest[-1].end_lineno - 1 if rest else first - 1
        ranges.append((first, last, fn.body[0].col_offset))
    return ranges


def student_source(source):
    """Stub a function's or class's source: marked regions, else bodies after docstrings."""
    lines = source.splitlines()
    regions = _marked_regions(lines)
    if regions:
        for begin, end in reversed(regions):
            lines[begin:end + 1] = _stub(_indent_of(lines[begin]))
        return "\n".join(lines)
    ranges = _body_ranges(ast.parse(source))
    if not ranges:
        raise DirectiveError("nothing to stub: no function bodies and no "
                             f"{BEGIN}/{END} markers")
    for first, last, col in sorted(ranges, reverse=True):
        lines[first:last + 1] = _stub(" " * col)
    return "\n".join(lines)


def _literal(value):
    """A stable Python literal for an answer constant (sets are written sorted)."""
    if isinstance(value, (set, frozenset)):
        if not value:
            return "set()"
        return "{" + ", ".join(repr(v) for v in sorted(value)) + "}"
    return repr(value)


def _empty_answer(value):
    if isinstance(value, (set, frozenset)):
        return "set()"
    if isinstance(value, (list, tuple, dict, str)):
        return repr(type(value)())
    return "None"


def expand_solution(dotted, solution):
    """The code a `# @solution dotted` line stands for."""
    obj = resolve(dotted)
    if inspect.isfunction(obj) or inspect.isclass(obj):
        source = textwrap.dedent(inspect.getsource(obj)).rstrip("\n")
        if solution:
            return "\n".join(_strip_markers(source.splitlines()))
        return student_source(source)
    if inspect.ismodule(obj) or callable(obj):
        raise DirectiveError(f"@solution {dotted}: expected a function, class or constant")
    name = dotted.rsplit(".", 1)[-1]
    if solution:
        return f"{name} = {_literal(obj)}"
    return f"{name} = {_empty_answer(obj)}  {ANSWER_MARK}"


def expand_solution_body(dotted, solution):
    """The code a `# @solution-body dotted` line stands for."""
    fn = resolve(dotted)
    if not inspect.isfunction(fn):
        raise DirectiveError(f"@solution-body {dotted}: expected a function")
    source = textwrap.dedent(inspect.getsource(fn))
    node = ast.parse(source).body[0]
    lines = source.splitlines()
    doc = _docstring_node(node.body)
    rest = node.body[1:] if doc else node.body
    if rest and isinstance(rest[-1], ast.Return):
        rest = rest[:-1]  # the return only serves scripts that call the function
    if not rest:
        raise DirectiveError(f"@solution-body {dotted}: the function has no body to inline")
    body = textwrap.dedent("\n".join(lines[rest[0].lineno - 1:rest[-1].end_lineno]))
    if solution:
        return "\n".join(_strip_markers(body.splitlines()))
    docstring = inspect.cleandoc(doc.value.value) if doc else ""
    comments = [("# " + line).rstrip() for line in docstring.splitlines()]
    body_lines = body.splitlines()
    regions = _marked_regions(body_lines)
    if regions:
        for begin, end in reversed(regions):
            body_lines[begin:end + 1] = _stub(_indent_of(body_lines[begin]))
        code = body_lines
    else:
        code = list(STUB_LINES)
    return "\n".join(comments + ([""] if comments else []) + code)


# ----------------------------------------------------------------------------- transform

def _expand_cell(source, solution, colab_code, where):
    out = []
    for number, line in enumerate(source.splitlines(), start=1):
        match = _DIRECTIVE.match(line)
        if not match:
            out.append(line)
            continue
        kind, arg, indent = match["kind"], match["arg"], match["indent"]
        if kind not in _KINDS:
            raise DirectiveError(f"{where}, line {number}: unknown directive @{kind} "
                                 f"(known: {', '.join('@' + k for k in _KINDS)})")
        if (kind == "colab-setup") != (arg is None):
            raise DirectiveError(f"{where}, line {number}: @{kind} "
                                 + ("takes no argument" if arg else "needs a dotted name"))
        try:
            if kind == "colab-setup":
                code = colab_code
            elif kind == "solution":
                code = expand_solution(arg, solution)
            else:
                code = expand_solution_body(arg, solution)
        except (DirectiveError, ImportError, AttributeError, OSError, TypeError) as err:
            raise DirectiveError(f"{where}, line {number}: {err}") from None
        out += [indent + l if l else l for l in code.splitlines()]
    return "\n".join(out)


def _expand_shared(text, where):
    """A markdown cell's text with every `@shared NAME` line replaced by book/shared/NAME.md."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = _SHARED.match(line)
        if not match:
            out.append(line)
            continue
        path = SHARED_DIR / f"{match['name']}.md"
        if not path.is_file():
            raise DirectiveError(f"{where}, line {number}: @shared {match['name']}: "
                                 f"no file {path.name} in book/shared/")
        out.append(path.read_text(encoding="utf-8").strip("\n"))
    return "\n".join(out)


_CHECK_CELL = re.compile(r"""^\s*grader\.check\(\s*["'](\w+)["']\s*\)\s*;?\s*$""")


def _mark_check_cell(cell):
    """Tag a `grader.check("qid")` cell as nbgrader's test cell `test_<qid>`.

    Then a student notebook handed in from Colab or a laptop (not an nbgrader release)
    is graded by the nbgrader course too: nbgrader finds the test cell by this id and puts
    the course's version, hidden part included, in its place. Colab and Jupyter keep cell
    metadata and ignore this entry.
    """
    from autograder.points import QUESTION_POINTS

    match = _CHECK_CELL.match(cell.source)
    if match and match[1] in QUESTION_POINTS:
        cell.metadata["nbgrader"] = {"schema_version": 3, "grade": True, "solution": False,
                                     "locked": True, "grade_id": f"test_{match[1]}",
                                     "points": QUESTION_POINTS[match[1]]}


def banner(stem, solution):
    """The note on top of the first markdown cell saying where the notebook comes from."""
    origin = f"exercises/source/{stem}.py"
    if solution:
        return (f"> *Solution notebook, generated from `{origin}` by `course_build`: "
                f"edit that file, not this one.*")
    return f"<!-- Generated from {origin} by course_build: edit that file, not this one. -->"


def transform(source_nb, stem, solution, repository_url=DEFAULT_REPOSITORY_URL,
              branch=DEFAULT_BRANCH):
    """The student (solution=False) or solution (solution=True) notebook of a source notebook.

    `source_nb` is the nbformat notebook read from `exercises/source/<stem>.py`; it is not
    changed. Returns a new nbformat v4 notebook without outputs.
    """
    colab_code = colab_setup_source(repository_url, branch)
    cells, banner_done = [], False
    for index, cell in enumerate(source_nb.cells):
        tags = cell.get("metadata", {}).get("tags", [])
        if SOLUTION_ONLY_TAG in tags and not solution:
            continue
        where = f"exercises/source/{stem}.py, cell {index + 1}"
        if cell.cell_type == "code":
            new = nbformat.v4.new_code_cell(
                _expand_cell(cell.source, solution, colab_code, where))
            _mark_check_cell(new)
        elif cell.cell_type == "markdown":
            text = _expand_shared(cell.source, where)
            if not banner_done:
                text = banner(stem, solution) + "\n\n" + text
                banner_done = True
            new = nbformat.v4.new_markdown_cell(text)
        else:
            new = nbformat.v4.new_raw_cell(cell.source)
        kept_tags = [t for t in tags if t != SOLUTION_ONLY_TAG]
        if kept_tags:
            new.metadata["tags"] = kept_tags
        new.id = f"{stem}-{len(cells):02d}"  # stable ids: rebuilds are byte-identical
        cells.append(new)
    if not banner_done:
        raise DirectiveError(f"exercises/source/{stem}.py has no markdown cell for the banner")
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "fcnet": {
            "chapter": stem,
            "generated_from": f"exercises/source/{stem}.py",
            "generated_by": "course_build (python -m course_build notebooks)",
            "kind": "solution" if solution else "student",
            "note": "Generated file: edit the source, not this notebook.",
        },
    }
    nbformat.validate(nb)
    return nb


def read_source(path):
    """Read a jupytext percent-format source as an nbformat notebook."""
    return jupytext.read(Path(path), fmt="py:percent")


def render(nb):
    """The notebook as deterministic JSON text (sorted keys, one trailing newline)."""
    return nbformat.writes(nb).rstrip("\n") + "\n"


def check_chapter_source(stem, source_nb):
    """Fail unless the source asks exactly its chapter's questions via grader.check."""
    if stem not in CHAPTERS:
        raise DirectiveError(f"exercises/source/{stem}.py is not a chapter of "
                             f"fcnet.chapters.CHAPTERS ({', '.join(CHAPTERS)})")
    code = "\n".join(c.source for c in source_nb.cells if c.cell_type == "code")
    checked = re.findall(r"""grader\.check\(\s*["']([\w]+)["']\s*\)""", code)
    expected = list(CHAPTERS[stem])
    if sorted(set(checked)) != sorted(expected):
        raise DirectiveError(f"exercises/source/{stem}.py checks {sorted(set(checked))}, "
                             f"but its chapter's questions are {expected}")


def build(root, out):
    """Write every chapter's student and solution notebook under `out`; return their paths."""
    root, out = Path(root), Path(out)
    url, branch = repository(root)
    sources = {p.stem: p for p in sorted((root / SOURCE_DIR).glob("[0-9][0-9]_*.py"))}
    missing = [stem for stem in CHAPTERS if stem not in sources]
    if missing:
        raise DirectiveError(f"no source for chapter(s) {', '.join(missing)} in {SOURCE_DIR}")
    written = []
    for stem, path in sources.items():
        source_nb = read_source(path)
        check_chapter_source(stem, source_nb)
        for solution, folder in ((False, STUDENT_DIR), (True, SOLUTION_DIR)):
            rel = folder / f"{stem}.ipynb"
            (out / folder).mkdir(parents=True, exist_ok=True)
            text = render(transform(source_nb, stem, solution, url, branch))
            (out / rel).write_text(text, encoding="utf-8")
            written.append(rel)
    return written
