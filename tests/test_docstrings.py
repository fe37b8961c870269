"""Docstrings name only code that exists.

A docstring that points a reader at `autograder.seeds.derived_seed` or at
`autograder/sandbox/sessions.py` is a promise: this test keeps each such name (a dotted
name in one of the project's packages, or a path in the repository) resolvable.
"""
import ast
import importlib
import re

import pytest

from autograder_support import REPO

PACKAGE_FOLDERS = ("autograder", "course_build", "exercises/fcnet", "solutions/answer_key")
DOTTED = re.compile(r"(?<![\w./-])((?:autograder|fcnet|course_build|answer_key)"
                    r"(?:\.[A-Za-z_]\w*)+)")
PATH = re.compile(r"(?<![\w./-])((?:autograder|exercises|course_build|solutions|tests|"
                  r"benchmarks|book)/[\w/.-]*\w)")
# Paths written as patterns for a family of files (exercises/NN_stem.ipynb, book/shared/NAME.md).
PLACEHOLDER = re.compile(r"NN_|NAME|[<*]")


def _sources():
    for folder in PACKAGE_FOLDERS:
        for path in sorted((REPO / folder).rglob("*.py")):
            if not {"dist", "public_tests", "__pycache__"} & set(path.parts):
                yield path


def _docstrings(path):
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef)):
            yield ast.get_docstring(node) or ""


def _resolves(dotted):
    parts = dotted.split(".")
    for cut in range(len(parts), 0, -1):
        try:
            obj = importlib.import_module(".".join(parts[:cut]))
        except ImportError:
            continue
        for name in parts[cut:]:
            if not hasattr(obj, name):
                return False
            obj = getattr(obj, name)
        return True
    return False


@pytest.mark.parametrize("path", list(_sources()), ids=lambda p: str(p.relative_to(REPO)))
def test_docstrings_name_only_code_that_exists(path):
    missing = []
    for doc in _docstrings(path):
        missing += [name for name in DOTTED.findall(doc) if not _resolves(name.rstrip("."))]
        missing += [rel for rel in PATH.findall(doc)
                    if not PLACEHOLDER.search(rel) and not (REPO / rel).exists()]
    assert not missing, f"{path.relative_to(REPO)} names what does not exist: {missing}"


def test_the_check_can_fail():
    assert not _resolves("autograder.worker_runtime.split_frames")
    assert not _resolves("course_build.otter_zip")
    assert _resolves("autograder.seeds.derived_seed") and _resolves("fcnet.checking.plain")
