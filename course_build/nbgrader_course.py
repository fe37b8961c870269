"""Build step `nbgrader-course`: a complete nbgrader course folder for JupyterHub instructors.

Writes `autograder/dist/nbgrader/`:

    nbgrader_config.py                  the course's nbgrader settings (see CONFIG below)
    source/two_layer_net/NN_stem.ipynb  the six chapters in nbgrader's format

Each chapter is built from the same single source as the student and solution notebooks:
`course_build.notebooks.transform` writes the chapter twice (student and solution), and
this step lines the two versions up cell by cell. Where they differ, the solution's lines
go between `### BEGIN SOLUTION` / `### END SOLUTION` in a solution cell, so that nbgrader's
own ClearSolutions (with the stub configured below) gives back the student notebook's code.
Every `grader.check("qid")` cell becomes a locked autograder test cell worth the question's
points from `autograder.points.QUESTION_POINTS`: the public checks run visibly (in the
student's own kernel, before submitting), and between `### BEGIN HIDDEN TESTS` /
`### END HIDDEN TESTS` one call names the question. `nbgrader autograde` runs no kernel:
it grades the submitted files through the sandboxed engine of `python -m autograder` and
fills in those cells' outputs (see autograder/nbgrader_bridge.py).
"""
import ast
import difflib
import re
import textwrap
from pathlib import Path

import nbformat

from fcnet.chapters import CHAPTERS

from . import notebooks

COURSE_DIR = Path("autograder/dist/nbgrader")
ASSIGNMENT = "two_layer_net"
SOURCE_DIR = COURSE_DIR / "source" / ASSIGNMENT
CONFIG_PATH = COURSE_DIR / "nbgrader_config.py"

BEGIN_SOLUTION, END_SOLUTION = "### BEGIN SOLUTION", "### END SOLUTION"
BEGIN_HIDDEN, END_HIDDEN = "### BEGIN HIDDEN TESTS", "### END HIDDEN TESTS"
# nbgrader replaces each solution region with this stub (nbgrader_config.py sets it), the
# same two lines the student notebooks carry, so a release matches exercises/*.ipynb.
CODE_STUB = "\n".join(notebooks.STUB_LINES)

_CHECK_LINE = re.compile(r"""^\s*grader\.check\(\s*["'](\w+)["']\s*\)\s*;?\s*$""")


class NbgraderBuildError(ValueError):
    """The student and solution versions of a cell cannot be told apart into regions."""


# ----------------------------------------------------------------------------- solution cells

def _indent_of(line):
    return line[:len(line) - len(line.lstrip())]


def _ends_with_stub(lines):
    stub = list(notebooks.STUB_LINES)
    return len(lines) >= len(stub) and [l.strip() for l in lines[-len(stub):]] == stub


def mark_solution(student, solution, where="cell"):
    """The solution code with every part the student version stubs out marked for nbgrader.

    `student` and `solution` are the two expansions of one source cell. Lines they share
    stay as they are; each run of differing lines must be, on the student side, either the
    stub (`# YOUR CODE HERE` / `raise NotImplementedError`, possibly after comment lines
    such as a @solution-body docstring) or one answer line ending in `# YOUR ANSWER HERE`.
    The solution side of the run goes between BEGIN/END SOLUTION at the stub's indent.
    """
    a, b = student.splitlines(), solution.splitlines()
    matcher = difflib.SequenceMatcher(a=a, b=b, autojunk=False)
    out, pending = [], None  # pending: [a_start, a_end, b_start, b_end] of a differing run

    def flush():
        i1, i2, j1, j2 = pending
        stu, sol = a[i1:i2], b[j1:j2]
        if _ends_with_stub(stu):
            lead = stu[:-len(notebooks.STUB_LINES)]
            if any(l.strip() and not l.strip().startswith("#") for l in lead):
                raise NbgraderBuildError(f"{where}: code before a stub differs from the "
                                         f"solution: {lead!r}")
            indent = _indent_of(stu[-len(notebooks.STUB_LINES)])
            # comment lines (a docstring turned into comments) stay visible to students
            out.extend(lead)
        elif len(stu) == 1 and stu[0].rstrip().endswith(notebooks.ANSWER_MARK):
            indent = _indent_of(stu[0])
        else:
            raise NbgraderBuildError(f"{where}: the student version differs from the "
                                     f"solution by more than a stub: {stu!r}")
        out.append(indent + BEGIN_SOLUTION)
        out.extend(sol)
        out.append(indent + END_SOLUTION)

    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            if pending:
                flush()
                pending = None
            out.extend(b[j1:j2])
        elif pending:
            pending[1], pending[3] = i2, j2
        else:
            pending = [i1, i2, j1, j2]
    if pending:
        flush()
    return "\n".join(out)


def clear_solutions(source):
    """What nbgrader's ClearSolutions makes of `source` with our stub (for self-checks)."""
    lines, out, indent = source.splitlines(), [], None
    for line in lines:
        if line.strip() == BEGIN_SOLUTION:
            indent = _indent_of(line)
            out.extend(indent + s for s in CODE_STUB.splitlines())
        elif line.strip() == END_SOLUTION:
            indent = None
        elif indent is None:
            out.append(line)
    return "\n".join(out)


def _defined_name(code):
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


# ----------------------------------------------------------------------------- test cells

def test_cell_source(qid, points):
    """The autograder test cell of question `qid`: public checks shown, hidden ones marked."""
    return textwrap.dedent(f'''\
        # Autograded: question "{qid}", {points:g} points. The public checks below are the
        # ones grader.check("{qid}") runs. When your notebook is graded, hidden checks on
        # fresh inputs decide the points (the public ones alone earn none).
        from fcnet.checking import run_checks
        from fcnet.public_checks import checks_for
        _ = run_checks(checks_for("{qid}"), globals())
        {BEGIN_HIDDEN}
        from autograder.nbgrader_bridge import hidden_score
        hidden_score("{qid}")
        {END_HIDDEN}''')


def _check_cell_qids(code):
    """The question ids of a cell made only of grader.check(...) lines, else None."""
    lines = [l for l in code.splitlines() if l.strip() and not l.strip().startswith("#")]
    matches = [_CHECK_LINE.match(l) for l in lines]
    if lines and all(matches):
        return [m[1] for m in matches]
    return None


def _meta(cell, **fields):
    cell.metadata["nbgrader"] = {"schema_version": 3, **fields}
    return cell


# ----------------------------------------------------------------------------- notebooks

def nbgrader_notebook(source_nb, stem, points, repository_url, branch):
    """The nbgrader source version of chapter `stem`, from its source notebook."""
    # Solution-only cells would leak answers into the release: nbgrader sees only the cells
    # the student notebook has, so both versions line up one to one.
    kept = nbformat.from_dict(dict(source_nb))
    kept.cells = [c for c in source_nb.cells
                  if notebooks.SOLUTION_ONLY_TAG not in c.get("metadata", {}).get("tags", [])]
    student = notebooks.transform(kept, stem, False, repository_url, branch)
    solution = notebooks.transform(kept, stem, True, repository_url, branch)

    cells, used_ids, asked = [], set(), []
    for index, (stu, sol) in enumerate(zip(student.cells, solution.cells)):
        where = f"{stem}, cell {index + 1}"
        if stu.cell_type != "code":
            cell = nbformat.v4.new_markdown_cell(stu.source) if stu.cell_type == "markdown" \
                else nbformat.v4.new_raw_cell(stu.source)
            cells.append(cell)
            continue
        qids = _check_cell_qids(stu.source)
        if qids:
            for qid in qids:
                if qid not in CHAPTERS[stem]:
                    raise NbgraderBuildError(f"{where}: checks {qid!r}, not a question of "
                                             f"chapter {stem}")
                cells.append(_meta(nbformat.v4.new_code_cell(test_cell_source(qid, points[qid])),
                                   grade=True, solution=False, locked=True,
                                   grade_id=f"test_{qid}", points=points[qid]))
                asked.append(qid)
            continue
        if stu.source == sol.source:
            cells.append(nbformat.v4.new_code_cell(stu.source))
            continue
        marked = mark_solution(stu.source, sol.source, where)
        if clear_solutions(marked) != stu.source and not notebooks.ANSWER_MARK in stu.source:
            raise NbgraderBuildError(f"{where}: clearing the marked solution does not give "
                                     "the student's cell back")
        name = _defined_name(sol.source) or f"cell{index:02d}"
        grade_id = f"answer_{name}"
        while grade_id in used_ids:
            grade_id += "_"
        used_ids.add(grade_id)
        cells.append(_meta(nbformat.v4.new_code_cell(marked), grade=False, solution=True,
                           locked=False, grade_id=grade_id))
    if sorted(asked) != sorted(CHAPTERS[stem]):
        raise NbgraderBuildError(f"{stem}: test cells for {sorted(asked)}, but the chapter "
                                 f"asks {sorted(CHAPTERS[stem])}")
    for number, cell in enumerate(cells):
        cell.id = f"{stem}-nbg-{number:02d}"  # stable ids: rebuilds are byte-identical
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata = {
        "kernelspec": dict(notebooks.KERNELSPEC),
        "language_info": {"name": "python"},
        "fcnet": {
            "chapter": stem,
            "generated_from": f"exercises/source/{stem}.py",
            "generated_by": "course_build (python -m course_build nbgrader-course)",
            "kind": "nbgrader-source",
            "note": "Generated file: edit the source, not this notebook.",
        },
    }
    nbformat.validate(nb)
    return nb


CONFIG = '''\
"""nbgrader settings of the fcnet course (generated by course_build: edit
course_build/nbgrader_course.py, not this file).

Run nbgrader from this folder, with the course's Python environment (the one that has
fcnet, answer_key and autograder installed) first on PATH:

    nbgrader generate_assignment two_layer_net
    nbgrader autograde two_layer_net
    nbgrader generate_feedback two_layer_net
    nbgrader export
"""
c = get_config()  # noqa: F821 (nbgrader provides get_config)

c.CourseDirectory.course_id = "fcnet"

# The stub that replaces every solution region: the same two lines as the student notebooks.
c.ClearSolutions.code_stub = {{"python": {stub!r}}}

# Autograding starts no kernel and runs none of the notebooks' cells. It grades each
# student's submitted files once, through the sandboxed engine of `python -m autograder`
# (student code runs only in sandboxed workers, which cannot read the answer key or the
# hidden checks), and writes every test cell's output: the isolation used on the first
# line, each check's result and hint, and the points, which nbgrader records.
# (nbgrader would skip this whole file on an error and run with its defaults: stop instead.)
try:
    from autograder.nbgrader_bridge import autograde_preprocessors
except ImportError as err:
    raise SystemExit(f"nbgrader_config.py: {{err}}. Run nbgrader with the course's Python "
                     "environment (pip install -e . in the course repository).")
c.Autograde.autograde_preprocessors = autograde_preprocessors()
# nbgrader finds notebooks by file name; this also grades `Copy of 01_affine_layer.ipynb`,
# `01_affine_layer (1).ipynb` or a renamed chapter (found by the chapter id in its metadata).
c.Autograde.pre_convert_hook = "autograder.nbgrader_bridge.name_chapters"

'''


def config_source():
    return CONFIG.format(stub=CODE_STUB)


def build(root, out):
    """Write the nbgrader course under `out`; return the relative paths written."""
    from autograder.points import QUESTION_POINTS

    root, out = Path(root), Path(out)
    url, branch = notebooks.repository(root)
    sources = {p.stem: p for p in sorted((root / notebooks.SOURCE_DIR).glob("[0-9][0-9]_*.py"))}
    missing = [stem for stem in CHAPTERS if stem not in sources]
    if missing:
        raise NbgraderBuildError(f"no source for chapter(s) {', '.join(missing)}")
    (out / SOURCE_DIR).mkdir(parents=True, exist_ok=True)
    written = []
    for stem in CHAPTERS:
        nb = nbgrader_notebook(notebooks.read_source(sources[stem]), stem, QUESTION_POINTS,
                               url, branch)
        rel = SOURCE_DIR / f"{stem}.ipynb"
        (out / rel).write_text(notebooks.render(nb), encoding="utf-8")
        written.append(rel)
    (out / CONFIG_PATH).write_text(config_source(), encoding="utf-8")
    written.append(CONFIG_PATH)
    return written
