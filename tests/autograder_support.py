"""Building submissions for the autograder tests from the generated notebooks.

A submission starts from the solution notebooks (solutions/notebooks/*.ipynb) or the
untouched student notebooks (exercises/*.ipynb) and changes one thing: a function
replaced by a realistic wrong version, a cheat, a fault. `grade_folder` runs the real
engine (the sandbox the machine offers) on a folder of such submissions.
"""
import ast
import copy
import hashlib
import inspect
import json
from pathlib import Path

import nbformat
import numpy as np
import pytest

from fcnet.chapters import CHAPTERS, QUESTION_IDS

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions" / "notebooks"
STUDENT = REPO / "exercises"


def notebook(stem, kind="solution"):
    """A fresh copy of the solution (or student) notebook of chapter `stem`."""
    path = (SOLUTIONS if kind == "solution" else STUDENT) / f"{stem}.ipynb"
    if not path.is_file():
        pytest.skip(f"{path.relative_to(REPO)} is not built yet (run make all)")
    return nbformat.read(path, as_version=4)


def _code_cells(nb):
    return [c for c in nb.cells if c.cell_type == "code"]


def replace_text(nb, old, new):
    """`nb` with the one code cell containing `old` changed to contain `new` instead."""
    nb = copy.deepcopy(nb)
    hits = [c for c in _code_cells(nb) if old in c.source]
    assert len(hits) == 1, f"{old!r} occurs in {len(hits)} cells"
    assert hits[0].source.count(old) == 1, f"{old!r} occurs more than once"
    hits[0].source = hits[0].source.replace(old, new)
    return nb


def _top_level_statements(nb):
    """(cell, node) for each top-level statement of each code cell that parses."""
    for cell in _code_cells(nb):
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:
            continue
        for node in tree.body:
            yield cell, node


def replace_definition(nb, name, source):
    """`nb` with the top-level def/class `name` replaced by `source` (or removed if None)."""
    nb = copy.deepcopy(nb)
    for cell, node in _top_level_statements(nb):
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            lines = cell.source.splitlines()
            start = (node.decorator_list[0].lineno if node.decorator_list else node.lineno)
            new = [] if source is None else source.strip("\n").splitlines()
            cell.source = "\n".join(lines[:start - 1] + new + lines[node.end_lineno:])
            return nb
    raise AssertionError(f"no top-level definition {name!r}")


def replace_assignment(nb, name, value):
    """`nb` with the top-level assignment `name = ...` changed to `name = value`."""
    nb = copy.deepcopy(nb)
    for cell, node in _top_level_statements(nb):
        if isinstance(node, ast.Assign) and [getattr(t, "id", None)
                                             for t in node.targets] == [name]:
            lines = cell.source.splitlines()
            cell.source = "\n".join(lines[:node.lineno - 1] + [f"{name} = {value}"]
                                    + lines[node.end_lineno:])
            return nb
    raise AssertionError(f"no top-level assignment to {name!r}")


def append_cell(nb, source):
    nb = copy.deepcopy(nb)
    nb.cells.append(nbformat.v4.new_code_cell(source))
    return nb


def definition_source(stem, name):
    """The source of top-level def/class `name` in the solution notebook of `stem`."""
    for cell in _code_cells(notebook(stem)):
        tree = ast.parse(cell.source)
        for node in tree.body:
            if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
                return ast.get_source_segment(cell.source, node)
    raise AssertionError(f"no {name} in {stem}")


def write_submission(root, student, notebooks=None, model=None, kind="solution"):
    """Write folder root/student: every chapter from `kind`, overridden by `notebooks`
    ({stem: NotebookNode, or bytes written as they are, or None to leave it out}), and
    best_model.npz when `model` (bytes) is given."""
    folder = Path(root) / student
    folder.mkdir(parents=True)
    notebooks = notebooks or {}
    for stem in CHAPTERS:
        nb = notebooks.get(stem, "default")
        if nb is None:
            continue
        if isinstance(nb, str) and nb == "default":
            nb = notebook(stem, kind)
        path = folder / f"{stem}.ipynb"
        if isinstance(nb, bytes):
            path.write_bytes(nb)
        else:
            nbformat.write(nb, path)
    if model is not None:
        (folder / "best_model.npz").write_bytes(model)
    return folder


def grade_folder(root, out, sandbox, questions=QUESTION_IDS, timeout=30, workers=2):
    """Grade every submission in `root` with the real engine; return (points, outcome)
    where points[student][qid] is a float."""
    from autograder import engine

    settings = engine.Settings(workers=workers, timeout=timeout, questions=tuple(questions),
                               sandbox=sandbox, progress=False)
    outcome = engine.grade(root, out, settings, announce=lambda line: None)
    points = {student: {qid: r.points for qid, r in entry["results"].items()}
              for student, entry in outcome.grades.items()}
    return points, outcome


def checks_of(outcome, student, qid):
    """{check name: CheckOutcome} of one graded question."""
    return {c.name: c for c in outcome.grades[student]["results"][qid].checks}


def model_bytes(params):
    import io

    buffer = io.BytesIO()
    np.savez(buffer, **params)
    return buffer.getvalue()


def cached_model(cache_dir, name, build):
    """params of a trained model, cached under `cache_dir` by name and a hash of the
    answer key and of `build`'s source (a changed recipe is trained again)."""
    digest = hashlib.sha1(inspect.getsource(build).encode())
    for path in sorted((REPO / "solutions" / "answer_key").rglob("*.py")):
        digest.update(path.read_bytes())
    path = Path(cache_dir) / f"{name}-{digest.hexdigest()[:12]}.npz"
    if not path.is_file():
        params = build()
        path.parent.mkdir(parents=True, exist_ok=True)
        np.savez(path, **params)
    with np.load(path) as npz:
        return {k: npz[k] for k in npz.files}


def v3_notebook(nb):
    """The same notebook in the old nbformat 3 layout (cells inside a worksheet)."""
    cells = []
    for cell in nb.cells:
        if cell.cell_type == "code":
            cells.append({"cell_type": "code", "input": cell.source, "language": "python",
                          "metadata": {}, "outputs": [], "collapsed": False})
        else:
            cells.append({"cell_type": "markdown", "source": cell.source, "metadata": {}})
    document = {"metadata": {"name": ""}, "nbformat": 3, "nbformat_minor": 0,
                "worksheets": [{"cells": cells, "metadata": {}}]}
    return json.dumps(document).encode()
