"""Build step `notebooks`: one source notebook, written out by one transform (otter-assign style).

Each chapter is written once, by hand, as a jupytext percent-format file
`exercises/source/NN_stem.py`. `transform(source, stem, mode)` turns it into

    mode STUDENT    the student notebook, exercises/NN_stem.ipynb (this step);
    mode SOLUTION   the solution notebook, solutions/notebooks/NN_stem.ipynb (this step);
    mode NBGRADER   the chapter in nbgrader's format (the `nbgrader-course` step): the
                    solution with nbgrader's solution markers, and each `grader.check`
                    cell replaced by a locked test cell with its hidden-test markers.

The mode is the only difference: the three are written by the same code, so they cannot
drift apart.

Directives, each alone on a line of a code cell (course_build.answers writes what they
stand for in each mode):

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
import re
import textwrap
from pathlib import Path

import jupytext
import nbformat

from fcnet.chapters import CHAPTERS

from .answers import (MODES, NBGRADER, SOLUTION, STUDENT, DirectiveError, expand_solution,
                      expand_solution_body)

SOURCE_DIR = Path("exercises/source")
STUDENT_DIR = Path("exercises")
SOLUTION_DIR = Path("solutions/notebooks")

# The public student repository; _config.yml's repository.url overrides it.
DEFAULT_REPOSITORY_URL = "https://github.com/fcnet-course/fcnet-student"
DEFAULT_BRANCH = "main"

SOLUTION_ONLY_TAG = "solution-only"

_DIRECTIVE = re.compile(r"^(?P<indent>[ \t]*)# @(?P<kind>[\w-]+)(?:[ \t]+(?P<arg>\S+))?[ \t]*$")
_KINDS = ("solution", "solution-body", "colab-setup")
_CHECK_LINE = re.compile(r"""^\s*grader\.check\(\s*["'](\w+)["']\s*\)\s*;?\s*$""")

# Explanations written once for a chapter page and its notebook (`@shared NAME`).
SHARED_DIR = Path(__file__).resolve().parents[1] / "book" / "shared"
_SHARED = re.compile(r"^@shared[ \t]+(?P<name>[\w-]+)[ \t]*$")

KERNELSPEC = {"display_name": "Python 3", "language": "python", "name": "python3"}
# What each mode's notebook is called in its metadata, and the build step that writes it.
KIND = {STUDENT: "student", SOLUTION: "solution", NBGRADER: "nbgrader-source"}
STEP = {STUDENT: "notebooks", SOLUTION: "notebooks", NBGRADER: "nbgrader-course"}
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"


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


# ----------------------------------------------------------------------------- code cells

def _replace_lines(text, pattern, replacement, where):
    """`text` with every line that `pattern` matches replaced by replacement(match, where)."""
    out = []
    for number, line in enumerate(text.splitlines(), start=1):
        match = pattern.match(line)
        out.append(replacement(match, f"{where}, line {number}") if match else line)
    return "\n".join(out)


def _directive_code(match, mode, colab_code, where):
    """The code one directive line stands for, at the directive's indent."""
    kind, arg, indent = match["kind"], match["arg"], match["indent"]
    if kind not in _KINDS:
        raise DirectiveError(f"{where}: unknown directive @{kind} "
                             f"(known: {', '.join('@' + k for k in _KINDS)})")
    if (kind == "colab-setup") != (arg is None):
        raise DirectiveError(f"{where}: @{kind} "
                             + ("takes no argument" if arg else "needs a dotted name"))
    try:
        if kind == "colab-setup":
            code = colab_code
        elif kind == "solution":
            code = expand_solution(arg, mode)
        else:
            code = expand_solution_body(arg, mode)
    except (DirectiveError, ImportError, AttributeError, OSError, TypeError) as err:
        raise DirectiveError(f"{where}: {err}") from None
    return "\n".join(indent + line if line else line for line in code.splitlines())


def _shared_text(match, where):
    """The text of book/shared/NAME.md that a markdown line `@shared NAME` stands for."""
    path = SHARED_DIR / f"{match['name']}.md"
    if not path.is_file():
        raise DirectiveError(f"{where}: @shared {match['name']}: "
                             f"no file {path.name} in book/shared/")
    return path.read_text(encoding="utf-8").strip("\n")


def expand_shared(text, where):
    """A markdown cell's text with every `@shared NAME` line replaced by book/shared/NAME.md."""
    return _replace_lines(text, _SHARED, _shared_text, where)


def _has_solution(source):
    """Whether a source code cell holds a @solution or @solution-body directive."""
    return any((m := _DIRECTIVE.match(line)) and m["kind"] in ("solution", "solution-body")
               for line in source.splitlines())


def check_cell_qids(source):
    """The question ids of a cell made only of grader.check(...) lines (and comments), else
    None."""
    lines = [l for l in source.splitlines() if l.strip() and not l.strip().startswith("#")]
    matches = [_CHECK_LINE.match(l) for l in lines]
    if lines and all(matches):
        return [m[1] for m in matches]
    return None


def defined_name(code):
    """The first name a code cell defines (function, class or assigned constant), if any."""
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return None
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)):
            return node.name
        if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name):
            return node.targets[0].id
    return None


# ----------------------------------------------------------------------------- nbgrader cells

def nbgrader_metadata(**fields):
    """A cell's `nbgrader` metadata (schema 3) with `fields`."""
    return {"nbgrader": {"schema_version": 3, **fields}}


def test_cell_metadata(qid, points):
    """The metadata of question `qid`'s locked autograder test cell, `test_<qid>`."""
    from autograder.routes.nbgrader_route import test_cell_id

    return nbgrader_metadata(grade=True, solution=False, locked=True,
                             grade_id=test_cell_id(qid), points=points)


def test_cell_source(qid, points):
    """The autograder test cell of question `qid`: public checks shown, hidden ones marked."""
    return textwrap.dedent(f'''\
        # Autograded: question "{qid}", {points:g} points. The public checks below are the
        # ones grader.check("{qid}") runs. When your notebook is graded, hidden checks on
        # fresh inputs decide the points (the public ones alone earn none).
        from fcnet.public_checks import run_question
        _ = run_question("{qid}", globals(), show=True)
        {BEGIN_HIDDEN}
        from autograder.routes.nbgrader_route import hidden_score
        hidden_score("{qid}")
        {END_HIDDEN}''')


def _check_cells(source, qids, mode):
    """The cells a `grader.check` cell becomes.

    In the student and solution notebooks the cell stays, tagged as nbgrader's test cell
    `test_<qid>`: then a notebook handed in from Colab or a laptop (not an nbgrader
    release) is graded by the nbgrader course too, which finds the test cell by this id
    and puts its own version in its place. Colab and Jupyter ignore the entry. For nbgrader,
    each question gets its locked test cell.
    """
    from autograder.points import QUESTION_POINTS

    if mode != NBGRADER:
        cell = nbformat.v4.new_code_cell(source)
        if len(qids) == 1 and qids[0] in QUESTION_POINTS:
            cell.metadata.update(test_cell_metadata(qids[0], QUESTION_POINTS[qids[0]]))
        return [cell]
    return [nbformat.v4.new_code_cell(test_cell_source(qid, QUESTION_POINTS[qid]),
                                      metadata=test_cell_metadata(qid, QUESTION_POINTS[qid]))
            for qid in qids]


def _solution_cell(code, number, grade_ids):
    """nbgrader's solution cell for `code`, with a grade id unique in the notebook."""
    grade_id = f"answer_{defined_name(code) or f'cell{number:02d}'}"
    while grade_id in grade_ids:
        grade_id += "_"
    grade_ids.add(grade_id)
    return nbformat.v4.new_code_cell(code, metadata=nbgrader_metadata(
        grade=False, solution=True, locked=False, grade_id=grade_id))


def _code_cells(source, mode, context, where):
    """The cells one source code cell becomes in a notebook of `mode`."""
    qids = check_cell_qids(source)
    if qids:
        return _check_cells(source, qids, mode)
    code = _replace_lines(source, _DIRECTIVE, lambda m, at: _directive_code(
        m, mode, context["colab_code"], at), where)
    if mode == NBGRADER and _has_solution(source):
        return [_solution_cell(code, context["number"], context["grade_ids"])]
    return [nbformat.v4.new_code_cell(code)]


# ----------------------------------------------------------------------------- transform

def banner(stem, mode):
    """The note on top of the first markdown cell saying where the notebook comes from.

    The nbgrader version carries the student's: nbgrader releases it to students.
    """
    origin = f"exercises/source/{stem}.py"
    if mode == SOLUTION:
        return (f"> *Solution notebook, generated from `{origin}` by `course_build`: "
                f"edit that file, not this one.*")
    return f"<!-- Generated from {origin} by course_build: edit that file, not this one. -->"


def notebook_metadata(stem, mode):
    """The notebook-level metadata: the kernel, and where the notebook comes from."""
    return {
        "kernelspec": dict(KERNELSPEC),
        "language_info": {"name": "python"},
        "fcnet": {
            "chapter": stem,
            "generated_from": f"exercises/source/{stem}.py",
            "generated_by": f"course_build (python -m course_build {STEP[mode]})",
            "kind": KIND[mode],
            "note": "Generated file: edit the source, not this notebook.",
        },
    }


def _markdown_cell(source, stem, mode, where, first):
    text = expand_shared(source, where)
    if first:
        text = banner(stem, mode) + "\n\n" + text
    return nbformat.v4.new_markdown_cell(text)


def _cell_id(stem, mode, number):
    # stable ids: rebuilds are byte-identical
    return f"{stem}-nbg-{number:02d}" if mode == NBGRADER else f"{stem}-{number:02d}"


def transform(source_nb, stem, mode, repository_url=DEFAULT_REPOSITORY_URL,
              branch=DEFAULT_BRANCH):
    """The notebook of `mode` (STUDENT, SOLUTION or NBGRADER) of a source notebook.

    `source_nb` is the nbformat notebook read from `exercises/source/<stem>.py`; it is not
    changed. Returns a new nbformat v4 notebook without outputs.
    """
    if mode not in MODES:
        raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")
    context = {"colab_code": colab_setup_source(repository_url, branch), "grade_ids": set()}
    kept = [(index, c) for index, c in enumerate(source_nb.cells) if mode == SOLUTION
            or SOLUTION_ONLY_TAG not in c.get("metadata", {}).get("tags", [])]
    cells, banner_done = [], False
    for number, (index, cell) in enumerate(kept):
        where = f"exercises/source/{stem}.py, cell {index + 1}"
        if cell.cell_type == "code":
            context["number"] = number
            new = _code_cells(cell.source, mode, context, where)
        elif cell.cell_type == "markdown":
            new = [_markdown_cell(cell.source, stem, mode, where, not banner_done)]
            banner_done = True
        else:
            new = [nbformat.v4.new_raw_cell(cell.source)]
        tags = [t for t in cell.get("metadata", {}).get("tags", []) if t != SOLUTION_ONLY_TAG]
        for made in new:
            if tags:
                made.metadata["tags"] = tags
            made.id = _cell_id(stem, mode, len(cells))
            cells.append(made)
    if not banner_done:
        raise DirectiveError(f"exercises/source/{stem}.py has no markdown cell for the banner")
    nb = nbformat.v4.new_notebook(cells=cells, metadata=notebook_metadata(stem, mode))
    nbformat.validate(nb)
    return nb


def read_source(path):
    """Read a jupytext percent-format source as an nbformat notebook."""
    return jupytext.read(Path(path), fmt="py:percent")


def render(nb):
    """The notebook as deterministic JSON text (sorted keys, one trailing newline)."""
    return nbformat.writes(nb).rstrip("\n") + "\n"


def check_chapter_source(stem, source_nb):
    """Fail unless the source asks exactly its chapter's questions, each in a cell of
    grader.check calls (which become nbgrader's test cells)."""
    if stem not in CHAPTERS:
        raise DirectiveError(f"exercises/source/{stem}.py is not a chapter of "
                             f"fcnet.chapters.CHAPTERS ({', '.join(CHAPTERS)})")
    checked = [qid for c in source_nb.cells if c.cell_type == "code"
               for qid in check_cell_qids(c.source) or ()]
    expected = list(CHAPTERS[stem])
    if sorted(checked) != sorted(expected):
        raise DirectiveError(f"exercises/source/{stem}.py checks {sorted(checked)} in cells "
                             f"of grader.check calls, but its chapter's questions are "
                             f"{expected}, each to be checked once")


def read_chapters(root):
    """{stem: source notebook} of every chapter, checked; a DirectiveError names what is wrong."""
    root = Path(root)
    sources = {p.stem: p for p in sorted((root / SOURCE_DIR).glob("[0-9][0-9]_*.py"))}
    missing = [stem for stem in CHAPTERS if stem not in sources]
    if missing:
        raise DirectiveError(f"no source for chapter(s) {', '.join(missing)} in {SOURCE_DIR}")
    chapters = {}
    for stem, path in sources.items():
        chapters[stem] = read_source(path)
        check_chapter_source(stem, chapters[stem])
    return chapters


def build(root, out):
    """Write every chapter's student and solution notebook under `out`; return their paths."""
    root, out = Path(root), Path(out)
    url, branch = repository(root)
    written = []
    for stem, source_nb in read_chapters(root).items():
        for mode, folder in ((STUDENT, STUDENT_DIR), (SOLUTION, SOLUTION_DIR)):
            rel = folder / f"{stem}.ipynb"
            (out / folder).mkdir(parents=True, exist_ok=True)
            text = render(transform(source_nb, stem, mode, url, branch))
            (out / rel).write_text(text, encoding="utf-8")
            written.append(rel)
    return written
