"""One question, one home: only its own module names a question's id as a string.

Every other piece of the course (the chapters, the points table, the graders, the
routes, the reports) finds a question through the registry fcnet.questions, never by
writing its id. Renaming or adding a question then touches its module alone (and the
chapter that asks it, and the answer key).
"""
import ast
import subprocess
import sys
from pathlib import Path

import pytest

from fcnet import questions

ROOT = Path(__file__).resolve().parents[1]
# Not course code: the tests, the benchmarks, generated files (each carries a "do not
# edit" banner naming its source), and the chapters' sources, where a question is asked
# (`grader.check("qid")`), as otter's assign keeps a question's prompt in its notebook.
NOT_COURSE_CODE = ("tests/", "benchmarks/", "exercises/source/", "exercises/fcnet/public_tests/")


def course_code():
    # Untracked files too (not ignored ones): a new question is tested before it is added.
    listed = subprocess.run(["git", "ls-files", "--cached", "--others", "--exclude-standard",
                             "*.py"], cwd=ROOT, capture_output=True, text=True,
                            check=True).stdout.split()
    listed = [p for p in dict.fromkeys(listed) if (ROOT / p).is_file()]
    return [p for p in listed if not p.startswith(NOT_COURSE_CODE) and "/dist/" not in p]


def strings_in(path):
    """The string constants of a Python file, docstrings left out."""
    tree = ast.parse((ROOT / path).read_text(encoding="utf-8"))
    docstrings = {id(node.body[0].value) for node in ast.walk(tree)
                  if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef,
                                       ast.AsyncFunctionDef))
                  and node.body and isinstance(node.body[0], ast.Expr)
                  and isinstance(node.body[0].value, ast.Constant)}
    return {node.value for node in ast.walk(tree)
            if isinstance(node, ast.Constant) and isinstance(node.value, str)
            and id(node) not in docstrings}


@pytest.fixture(scope="module")
def naming():
    """{question id: [course files whose code holds the id as a string]}."""
    found = {qid: [] for qid in questions.QUESTIONS}
    for path in course_code():
        strings = strings_in(path)
        for qid in found:
            if qid in strings:
                found[qid].append(path)
    return found


# The same word with another meaning, each with its reason. Nothing here finds a question.
OTHER_MEANINGS = {
    ("two_layer_net", "exercises/fcnet/chapter_files.py"):
        "the assignment's name (nbgrader's assignment, the hand-in zip's folder)",
    ("sgd", "exercises/fcnet/solver.py"): "the Solver's default update rule",
    ("sgd", "book/course_runs.py"): "the update rule of the book's training runs",
}
# The book and the docs show worked examples of particular questions, as a chapter's
# source asks them.
EXAMPLES = ("book/", "docs/")


@pytest.mark.parametrize("qid", list(questions.QUESTIONS))
def test_only_the_questions_module_names_its_id(naming, qid):
    home = f"exercises/fcnet/questions/{qid}.py"
    others = [p for p in naming[qid] if p != home and (qid, p) not in OTHER_MEANINGS
              and not p.startswith(EXAMPLES)]
    assert home in naming[qid] and not others, others


def test_other_meanings_are_still_there(naming):
    """An entry of OTHER_MEANINGS that no longer applies is removed, not kept."""
    stale = [key for key in OTHER_MEANINGS if key[1] not in naming[key[0]]]
    assert not stale, stale


def test_the_scan_can_fail(tmp_path, monkeypatch):
    """The scan sees an id written as a string in code, and not one in a docstring."""
    (tmp_path / "probe.py").write_text('"""Mentions "sgd" in words."""\nTABLE = {"sgd": 5}\n')
    monkeypatch.setattr(sys.modules[__name__], "ROOT", tmp_path)
    assert strings_in("probe.py") == {"sgd"}
