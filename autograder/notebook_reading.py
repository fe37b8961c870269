"""Reading one chapter notebook's definitions from its bytes, as untrusted data.

The notebook is parsed as JSON here (never with student code running) in small steps;
each turns what it cannot use into an error (the chapter cannot be graded) or a note (a
cell skipped). Only definitions are kept (fcnet.notebook_import's extractor), plus the
inline answers written as literal `set(...)` calls.
"""
import ast
import json
import re
from dataclasses import dataclass, field

import nbformat

from fcnet.chapters import CHAPTERS
from fcnet.inline_answers import chosen_letters
from fcnet.notebook_import import extract_definitions
from fcnet.questions import options

from .worker_runtime import describe_error

OPTIONS = options()  # {id: option letters} of the inline (multiple-choice) questions

MAX_CELL_CHARS = 2 ** 20
MAX_JSON_CONTAINERS = 10 ** 6   # objects and arrays in one notebook (each costs ~100 bytes)


@dataclass
class Chapter:
    stem: str
    code: str = ""            # the definitions, ready to execute
    error: str = ""           # why the notebook could not be used ("" when it could)
    notes: list = field(default_factory=list)


def read_chapter(stem, data):
    """The definitions of chapter `stem` from the bytes of its notebook (a Chapter).

    The notebook is untrusted data: it is parsed in small steps, each of which turns what
    it cannot use into an error (the chapter cannot be graded) or a note (a cell skipped).
    """
    name = f"{stem}.ipynb"
    document, error = _parse_json(name, data)
    if error:
        return Chapter(stem, error=error)
    notes = []
    raw_cells, error = _raw_cells(name, document, notes)
    if error:
        return Chapter(stem, error=error)
    cells = [_code_cell(name, index, cell, notes) for index, cell in enumerate(raw_cells)]
    try:
        definitions = extract_definitions(nbformat.from_dict({"cells": cells}))
    except Exception as err:
        return Chapter(stem, error=f"{name} could not be read ({type(err).__name__})")
    for skipped in definitions.skipped:
        notes.append(f"{name}: cell {skipped.cell} was skipped ({skipped.reason})")
    code = definitions.code + _inline_answers(stem, cells)
    return Chapter(stem, code=code, notes=notes)


_DAMAGED = "it may be damaged: re-download it or restore it from a checkpoint"


def _parse_json(name, data):
    """(document, "") from a notebook's bytes, or (None, why it is not a notebook)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        try:  # JSON may also be UTF-16 or UTF-32
            text = data.decode(json.detect_encoding(data))
        except (UnicodeDecodeError, LookupError):
            return None, f"{name} is not a text file (it should be a notebook)"
    if _count_containers(text) > MAX_JSON_CONTAINERS:
        return None, (f"{name} holds more than {MAX_JSON_CONTAINERS:,} JSON objects and "
                      f"lists, far more than a notebook has; it was not read")
    try:
        return json.loads(text), ""
    except json.JSONDecodeError as err:
        return None, f"{name} is not valid JSON ({_json_error(err)}); {_DAMAGED}"
    except RecursionError:
        return None, f"{name} is nested more deeply than any notebook; {_DAMAGED}"
    except ValueError as err:  # e.g. a number with more digits than Python converts
        return None, f"{name} is not valid notebook JSON ({describe_error(err)}); {_DAMAGED}"


def _json_error(err):
    """json's error as a whole phrase: its `msg` ("Unterminated string starting at")
    leaves out the place, which is given apart."""
    where = f"line {err.lineno}, column {err.colno}"
    return f"{err.msg} {where}" if err.msg.endswith(" at") else f"{err.msg} at {where}"


def _count_containers(text):
    """How many JSON objects and arrays `text` holds (brackets inside strings excluded
    when the quick upper bound is too high)."""
    quick = text.count("{") + text.count("[")
    if quick <= MAX_JSON_CONTAINERS:
        return quick
    bare = re.sub(r'"(?:[^"\\]|\\.)*"', "", text)
    return bare.count("{") + bare.count("[")


def _raw_cells(name, document, notes):
    """(the notebook's list of cells, "") or (None, why it has none)."""
    if not isinstance(document, dict):
        return None, f"{name} is not a Jupyter notebook"
    if isinstance(document.get("cells"), list):
        return document["cells"], ""
    if not isinstance(document.get("worksheets"), list):
        return None, f"{name} has no cells: it is not a Jupyter notebook"
    notes.append(f"{name} is in the old notebook format 3; it was read anyway")
    cells = []
    for sheet in document["worksheets"]:  # nbformat 3: cells in worksheets, code in "input"
        sheet_cells = sheet.get("cells") if isinstance(sheet, dict) else None
        if isinstance(sheet_cells, list):
            cells += [cell for cell in sheet_cells if isinstance(cell, dict)]
    return [{**cell, "source": cell.get("input", cell.get("source", ""))}
            if cell.get("cell_type") == "code" else cell for cell in cells], ""


_BLANK = {"cell_type": "markdown", "source": "", "metadata": {}}


def _code_cell(name, index, cell, notes):
    """A clean nbformat-4 code cell from raw cell `index` (or a blank markdown cell)."""
    if not isinstance(cell, dict) or cell.get("cell_type") != "code":
        return dict(_BLANK)
    source = cell.get("source", "")
    if isinstance(source, list):
        source = "".join(s for s in source if isinstance(s, str))
    if not isinstance(source, str):
        source = ""
    if len(source) > MAX_CELL_CHARS:
        notes.append(f"{name}: cell {index} is larger than 1 MB and was skipped")
        source = ""
    source = source.replace("\0", "")
    if re.search("[\ud800-\udfff]", source):  # lone surrogates: JSON allows, Python not
        notes.append(f"{name}: cell {index} holds characters that are not valid Unicode; "
                     f"they were replaced")
        source = re.sub("[\ud800-\udfff]", "\ufffd", source)
    try:
        ast.parse(source)
    except (RecursionError, MemoryError):
        notes.append(f"{name}: cell {index} is nested too deeply to read and was skipped")
        source = ""
    except (SyntaxError, ValueError):
        pass  # reported by the definition extractor, which also knows about magics
    return {"cell_type": "code", "source": source, "metadata": {}, "outputs": [],
            "execution_count": None}


_CONTAINER_CALLS = ("set", "frozenset", "list", "tuple", "sorted")


def _inline_answers(stem, cells):
    """Literal re-statements of the chapter's inline answers written as `set(...)` calls.

    The definition extractor keeps only literal assignments, and the stub itself reads
    `inline_q1 = set()`, so `inline_q1 = set(["A", "C"])` would be lost. The argument is
    evaluated here with ast.literal_eval (data only, nothing runs); the last assignment in
    the notebook wins, as it would when the notebook runs top to bottom.
    """
    names = [q for q in CHAPTERS[stem] if q in OPTIONS]  # the multiple-choice ones
    found = {}
    for cell in cells:
        if cell["cell_type"] != "code" or not any(n in cell["source"] for n in names):
            continue
        try:
            tree = ast.parse(cell["source"])
        except (SyntaxError, ValueError, RecursionError, MemoryError):
            continue
        for node in tree.body:
            if not (isinstance(node, ast.Assign) and len(node.targets) == 1
                    and isinstance(node.targets[0], ast.Name)
                    and node.targets[0].id in names):
                continue
            value = node.value
            try:
                if isinstance(value, ast.Call) and isinstance(value.func, ast.Name) \
                        and value.func.id in _CONTAINER_CALLS and not value.keywords \
                        and len(value.args) <= 1:
                    items = ast.literal_eval(value.args[0]) if value.args else ()
                else:
                    items = ast.literal_eval(value)
                answer = chosen_letters(items) or None
            except (ValueError, TypeError, SyntaxError, RecursionError):
                continue
            found[node.targets[0].id] = answer
    lines = [f"{qid} = {{{', '.join(map(repr, answer))}}}" if answer else f"{qid} = None"
             for qid, answer in found.items()]
    return "\n".join(["", *lines, ""]) if lines else ""
