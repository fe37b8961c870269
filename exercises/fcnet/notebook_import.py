"""Use the functions you wrote in an earlier chapter notebook from a later one.

    from fcnet.notebook_import import import_notebook
    affine_forward, affine_backward = import_notebook(
        "01_affine_layer", "affine_forward", "affine_backward")

Only *definitions* are taken from a notebook: imports, functions, classes and assignments
built from literals and names (plus the course's two wiring helpers). Training runs, sweeps,
plots and shell commands are skipped, so importing a chapter is instant. The same extractor
is what the graders use.
"""
import ast
import re
import sys
import types
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from . import locate

# Calls allowed on the right-hand side of a kept assignment: the course's wiring helpers,
# and the built-in constructors of constants such as `inline_q1 = set()`.
WIRING_CALLS = {"import_notebook", "make_affine_relu", "set", "frozenset", "dict", "list", "tuple"}


@dataclass
class Skipped:
    """A code cell (or part of one) left out of the definitions, and why."""
    cell: int
    reason: str


@dataclass
class DefinitionSource:
    """The definitions of one notebook as Python source, with what was left out."""
    code: str
    skipped: list = field(default_factory=list)


def _drop_ipython_lines(source):
    """Blank out IPython-only lines (magics, shell escapes) that plain Python cannot parse."""
    kept = []
    for line in source.splitlines():
        stripped = line.lstrip()
        if stripped.startswith(("%", "!")):
            kept.append("")  # keep line numbers stable for error messages
        else:
            kept.append(line)
    return "\n".join(kept)


def _is_definition_value(node):
    """True for a value built from literals, names, attributes, containers and wiring calls."""
    for sub in ast.walk(node):
        if isinstance(sub, ast.Call):
            func = sub.func
            name = func.id if isinstance(func, ast.Name) else getattr(func, "attr", None)
            if name not in WIRING_CALLS:
                return False
        elif isinstance(sub, (ast.Lambda, ast.NamedExpr, ast.Await, ast.Yield, ast.YieldFrom,
                              ast.ListComp, ast.SetComp, ast.DictComp, ast.GeneratorExp,
                              ast.Subscript)):
            return False
    return True


def _is_definition(node):
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef)):
        return True
    if isinstance(node, ast.Assign):
        targets_ok = all(isinstance(t, (ast.Name, ast.Tuple)) for t in node.targets)
        return targets_ok and _is_definition_value(node.value)
    if isinstance(node, ast.AnnAssign):
        return isinstance(node.target, ast.Name) and node.value is not None \
            and _is_definition_value(node.value)
    return False


def extract_definitions(nb):
    """Return the definitions of notebook `nb` (an nbformat v4 node) as a DefinitionSource.

    A cell with a syntax error is skipped whole and reported, so one broken cell does not
    hide the definitions in the others.
    """
    pieces, skipped = [], []
    for index, cell in enumerate(nb.cells):
        if cell.cell_type != "code":
            continue
        source = cell.source
        if source.lstrip().startswith("%%"):
            skipped.append(Skipped(index, "cell magic"))
            continue
        source = _drop_ipython_lines(source)
        try:
            tree = ast.parse(source)
        except SyntaxError as err:
            skipped.append(Skipped(index, f"syntax error on line {err.lineno}: {err.msg}"))
            continue
        lines = source.splitlines()
        for node in tree.body:
            if _is_definition(node):
                start = node.decorator_list[0].lineno if getattr(node, "decorator_list", None) \
                    else node.lineno
                pieces.append("\n".join(lines[start - 1:node.end_lineno]))
    return DefinitionSource("\n\n".join(pieces) + "\n", skipped)


def read_notebook(path):
    """Read a notebook file as nbformat v4, with a clear error when it is not one."""
    path = Path(path)
    try:
        nb = nbformat.read(path, as_version=4)
    except Exception as err:  # nbformat raises several types for unreadable files
        raise ValueError(f"{path} is not a readable Jupyter notebook ({type(err).__name__}: "
                         f"{err}). Re-download it or restore it from a checkpoint.") from None
    return nb


def find_chapter(stem):
    """The file of chapter `stem` to import from (see fcnet.locate for where it looks and
    fcnet.chapter_files for which copy wins); FileNotFoundError says what to do."""
    path, choice = locate.best(stem)
    if path is None:
        raise FileNotFoundError(locate.missing_message(stem, choice))
    if choice.others:
        print(f"Note: {choice.copies_note()}.")
    return path


def load_definitions(path, module_name=None):
    """Execute the definitions of the notebook at `path` in a fresh module and return it."""
    path = Path(path)
    nb = read_notebook(path)
    defs = extract_definitions(nb)
    name = module_name or "fcnet_notebook_" + re.sub(r"\W", "_", path.stem)
    module = types.ModuleType(name)
    module.__file__ = str(path)
    module.__skipped__ = defs.skipped
    # Registered while it runs so that classes defined in it can be pickled and inspected.
    sys.modules[name] = module
    exec(compile(defs.code, str(path), "exec"), module.__dict__)
    return module


def import_notebook(stem, *names):
    """Import your definitions from chapter notebook `stem` (for example "01_affine_layer").

    With no `names`, return the module of all its definitions. With names, return those
    objects: one object for one name, a tuple for several. The notebook is read from disk
    each time, so save it (Ctrl+S) after changing it.
    """
    path = find_chapter(stem)
    module = load_definitions(path)
    for skipped in module.__skipped__:
        if skipped.reason.startswith("syntax error"):
            print(f"Note: cell {skipped.cell} of {path.name} was skipped ({skipped.reason}).")
    missing = [n for n in names if not hasattr(module, n)]
    if missing:
        raise ImportError(
            f"{path.name} defines no {', '.join(missing)}. Finish that part of chapter "
            f"{stem}, run its cells, save the notebook, then run this cell again.")
    if not names:
        return module
    objects = tuple(getattr(module, n) for n in names)
    return objects[0] if len(objects) == 1 else objects
