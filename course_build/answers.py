"""What a `# @solution` or `# @solution-body` directive stands for, in each kind of notebook.

The answer key (solutions/answer_key/) holds every solution once. A chapter source names
an object of it, and this module writes that object's code in one of three modes:

    STUDENT   the stub students fill in: the signature and docstring stay, and every
              marked region (`# BEGIN SOLUTION` ... `# END SOLUTION` in the answer key), or
              without markers every body after its docstring, becomes `# YOUR CODE HERE`
              and `raise NotImplementedError`;
    SOLUTION  the answer key's code, without the marker lines;
    NBGRADER  the solution with each of those regions between nbgrader's
              `### BEGIN SOLUTION` / `### END SOLUTION`, so that nbgrader's ClearSolutions
              (with the same stub, see nbgrader_course.CONFIG) gives the student's code.

Every mode goes through `answer_lines`, the one place that says what a solution region
becomes; so the three notebooks cannot disagree about where the answers are.
"""
import ast
import importlib
import inspect
import textwrap

STUDENT, SOLUTION, NBGRADER = "student", "solution", "nbgrader"
MODES = (STUDENT, SOLUTION, NBGRADER)

BEGIN, END = "# BEGIN SOLUTION", "# END SOLUTION"  # in the answer key
NBGRADER_BEGIN, NBGRADER_END = "### BEGIN SOLUTION", "### END SOLUTION"  # nbgrader's own
STUB_LINES = ("# YOUR CODE HERE", "raise NotImplementedError")
ANSWER_MARK = "# YOUR ANSWER HERE"


class DirectiveError(ValueError):
    """A source notebook uses a directive wrongly; the message names the file and cell."""


def indent_of(line):
    """The leading whitespace of `line`."""
    return line[:len(line) - len(line.lstrip())]


def answer_lines(lines, indent, mode):
    """What the solution lines `lines`, at `indent`, become in a notebook of `mode`."""
    if mode == STUDENT:
        return [indent + text for text in STUB_LINES]
    if mode == NBGRADER:
        return [indent + NBGRADER_BEGIN, *lines, indent + NBGRADER_END]
    if mode == SOLUTION:
        return list(lines)
    raise ValueError(f"unknown mode {mode!r}; expected one of {MODES}")


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


# ----------------------------------------------------------------------------- regions

def marked_regions(lines):
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


def _replace_marked(lines, regions, mode):
    """`lines` with each marked region (marker lines included) replaced for `mode`."""
    lines = list(lines)
    for begin, end in reversed(regions):
        lines[begin:end + 1] = answer_lines(lines[begin + 1:end], indent_of(lines[begin]), mode)
    return lines


def _docstring_node(body):
    first = body[0] if body else None
    if isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) \
            and isinstance(first.value.value, str):
        return first
    return None


def _body_ranges(tree):
    """(first, last, column) of every function body after its docstring: 0-based lines.

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


def definition_source(source, mode):
    """A function's or class's source in `mode`: its marked regions, else its bodies after
    their docstrings, are the solution."""
    lines = source.splitlines()
    regions = marked_regions(lines)
    if regions:
        return "\n".join(_replace_marked(lines, regions, mode))
    ranges = _body_ranges(ast.parse(source))
    if not ranges:
        raise DirectiveError(f"nothing to stub: no function bodies and no {BEGIN}/{END} "
                             "markers")
    for first, last, col in sorted(ranges, reverse=True):
        lines[first:last + 1] = answer_lines(lines[first:last + 1], " " * col, mode)
    return "\n".join(lines)


# ----------------------------------------------------------------------------- directives

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


def expand_solution(dotted, mode):
    """The code a `# @solution dotted` line stands for in a notebook of `mode`."""
    obj = resolve(dotted)
    if inspect.isfunction(obj) or inspect.isclass(obj):
        return definition_source(textwrap.dedent(inspect.getsource(obj)).rstrip("\n"), mode)
    if inspect.ismodule(obj) or callable(obj):
        raise DirectiveError(f"@solution {dotted}: expected a function, class or constant")
    name = dotted.rsplit(".", 1)[-1]
    if mode == STUDENT:  # the student writes the answer on the same line
        return f"{name} = {_empty_answer(obj)}  {ANSWER_MARK}"
    return "\n".join(answer_lines([f"{name} = {_literal(obj)}"], "", mode))


def expand_solution_body(dotted, mode):
    """The code a `# @solution-body dotted` line stands for in a notebook of `mode`.

    The function's body after its docstring, dedented, without a final `return` (which
    only serves scripts calling the function). Students (and nbgrader) also see the
    docstring, as comments above the code: it is the exercise's instruction.
    """
    fn = resolve(dotted)
    if not inspect.isfunction(fn):
        raise DirectiveError(f"@solution-body {dotted}: expected a function")
    source = textwrap.dedent(inspect.getsource(fn))
    node = ast.parse(source).body[0]
    doc = _docstring_node(node.body)
    rest = node.body[1:] if doc else node.body
    if rest and isinstance(rest[-1], ast.Return):
        rest = rest[:-1]
    if not rest:
        raise DirectiveError(f"@solution-body {dotted}: the function has no body to inline")
    lines = source.splitlines()
    body = textwrap.dedent("\n".join(lines[rest[0].lineno - 1:rest[-1].end_lineno])).splitlines()
    regions = marked_regions(body)
    code = _replace_marked(body, regions, mode) if regions else answer_lines(body, "", mode)
    docstring = inspect.cleandoc(doc.value.value) if doc and mode != SOLUTION else ""
    comments = [("# " + line).rstrip() for line in docstring.splitlines()]
    return "\n".join(comments + ([""] if comments else []) + code)
