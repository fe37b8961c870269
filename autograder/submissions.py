"""Finding and reading submissions: folders or zips, chapter notebooks, best_model.npz.

Everything a student hands in is untrusted data. Files are read into memory with size
limits; symbolic links are never followed (a link could point at another student's work
or at the answer key); zip members are matched by their base name only, never extracted
to disk, and read with a cap on the bytes actually decompressed (zip bombs lie about
their sizes). Notebooks are parsed as JSON here and only their definitions are kept; no
student code runs in the grader.
"""
import ast
import json
import os
import re
import stat
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from fcnet.chapters import CHAPTERS
from fcnet.notebook_import import extract_definitions

MODEL_FILE = "best_model.npz"
WANTED = {f"{stem}.ipynb": stem for stem in CHAPTERS} | {MODEL_FILE: None}
MAX_NOTEBOOK_BYTES = 20 * 2 ** 20
MAX_MODEL_BYTES = 256 * 2 ** 20
MAX_ZIP_MEMBERS = 10000
MAX_CELL_CHARS = 2 ** 20
MAX_DEPTH = 3              # folders below the student's folder searched for files


class UsageError(Exception):
    """The grader was called wrongly (the CLI prints the message and exits 2)."""


@dataclass
class Submission:
    student: str
    path: Path
    files: dict = field(default_factory=dict)   # wanted file name -> bytes
    notes: list = field(default_factory=list)   # messages for the student's feedback


@dataclass
class Chapter:
    stem: str
    code: str = ""            # the definitions, ready to execute
    error: str = ""           # why the notebook could not be used ("" when it could)
    notes: list = field(default_factory=list)


def discover(root):
    """Submissions under `root`, sorted by student id (files not read yet: see
    read_files). Raises UsageError on misuse."""
    root = Path(root)
    if not root.exists():
        raise UsageError(f"submissions folder {root} does not exist")
    if not root.is_dir():
        raise UsageError(f"{root} is not a folder (give the folder that holds one folder "
                         f"or .zip per student)")
    found = {}
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name.startswith(".") or name == "__MACOSX":
            continue
        if entry.is_dir() and not entry.is_symlink():
            student = name
        elif entry.is_file() and not entry.is_symlink() and name.lower().endswith(".zip"):
            student = name[:-4]
        else:
            continue  # stray files are not submissions
        if student in found:
            raise UsageError(f"two submissions for student {student!r} "
                             f"({found[student].name} and {name}); keep one")
        found[student] = entry
    return [Submission(student, entry) for student, entry in sorted(found.items())]


def read_files(submission):
    """Read the submission's wanted files into `submission.files` (and its notes).

    Called when the student is graded, not when the folder is listed, so a batch holds
    one student's files in memory per worker, not everybody's.
    """
    submission.files, submission.notes = {}, []
    if submission.path.is_dir():
        _read_folder(submission)
    else:
        _read_zip(submission)
    return submission


def _limit(name):
    return MAX_MODEL_BYTES if name == MODEL_FILE else MAX_NOTEBOOK_BYTES


def _read_folder(submission):
    """Collect wanted files from the student's folder (shallowest copy wins)."""
    candidates = {}
    stack = [(submission.path, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            submission.notes.append(f"a folder could not be read ({err.strerror})")
            continue
        for entry in entries:
            if entry.is_symlink():
                if entry.name in WANTED:
                    submission.notes.append(f"{entry.name} is a symbolic link and was ignored")
                continue
            if entry.is_dir(follow_symlinks=False):
                if depth < MAX_DEPTH and not entry.name.startswith(".") \
                        and entry.name != "__MACOSX":
                    stack.append((Path(entry.path), depth + 1))
            elif entry.name in WANTED and entry.is_file(follow_symlinks=False):
                candidates.setdefault(entry.name, []).append((depth, Path(entry.path)))
    for name, paths in sorted(candidates.items()):
        depth, path = min(paths)
        if len(paths) > 1:
            submission.notes.append(f"several copies of {name}; graded the one at "
                                    f"{path.relative_to(submission.path)}")
        data = _read_capped(path, _limit(name))
        if data is None:
            submission.notes.append(f"{name} is larger than {_limit(name) // 2 ** 20} MB "
                                    f"and was ignored")
        else:
            submission.files[name] = data


def _read_capped(path, limit):
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            return None
        data = f.read(limit + 1)
    return None if len(data) > limit else data


def _read_zip(submission):
    try:
        archive = zipfile.ZipFile(submission.path)
    except (zipfile.BadZipFile, OSError) as err:
        submission.notes.append(f"{submission.path.name} is not a readable zip file ({err})")
        return
    with archive:
        candidates = {}
        for count, info in enumerate(archive.infolist()):
            if count >= MAX_ZIP_MEMBERS:
                submission.notes.append("the zip has too many entries; the rest were ignored")
                break
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            unsafe = name.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", name)
            is_link = stat.S_ISLNK(info.external_attr >> 16)
            if info.is_dir() or not parts or parts[-1] not in WANTED:
                continue
            if unsafe or is_link:
                submission.notes.append(f"{name} in the zip was ignored (unsafe path or link)")
                continue
            if "__MACOSX" in parts or any(p.startswith(".") for p in parts[:-1]):
                continue
            if len(parts) - 1 > MAX_DEPTH:
                continue
            candidates.setdefault(parts[-1], []).append((len(parts), name, info))
        for base, entries in sorted(candidates.items()):
            _, name, info = min(entries, key=lambda e: (e[0], e[1]))
            if len(entries) > 1:
                submission.notes.append(f"several copies of {base} in the zip; graded {name}")
            if info.flag_bits & 0x1:
                submission.notes.append(f"{name} is encrypted and was ignored")
                continue
            limit = _limit(base)
            try:
                with archive.open(info) as member:
                    data = member.read(limit + 1)
            except Exception as err:  # corrupt member, unsupported compression...
                submission.notes.append(f"{name} could not be read from the zip ({err})")
                continue
            if len(data) > limit:
                submission.notes.append(f"{name} is larger than {limit // 2 ** 20} MB and "
                                        f"was ignored")
                continue
            submission.files[base] = data


# ----------------------------------------------------------------------------- notebooks

def read_chapter(stem, data):
    """The definitions of chapter `stem` from the bytes of its notebook (a Chapter)."""
    name = f"{stem}.ipynb"
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        return Chapter(stem, error=f"{name} is not a text file (it should be a notebook)")
    except json.JSONDecodeError as err:
        return Chapter(stem, error=f"{name} is not valid JSON (line {err.lineno}: "
                                   f"{err.msg}); it may be damaged: re-download it or restore "
                                   f"it from a checkpoint")
    if not isinstance(document, dict):
        return Chapter(stem, error=f"{name} is not a Jupyter notebook")
    notes = []
    if isinstance(document.get("cells"), list):
        raw_cells = document["cells"]
    elif isinstance(document.get("worksheets"), list):  # nbformat 3: cells in worksheets
        notes.append(f"{name} is in the old notebook format 3; it was read anyway")
        raw_cells = [cell for sheet in document["worksheets"] if isinstance(sheet, dict)
                     for cell in (sheet.get("cells") or []) if isinstance(cell, dict)]
        raw_cells = [{**cell, "source": cell.get("input", cell.get("source", ""))}
                     if cell.get("cell_type") == "code" else cell for cell in raw_cells]
    else:
        return Chapter(stem, error=f"{name} has no cells: it is not a Jupyter notebook")
    cells = []
    for index, cell in enumerate(raw_cells):
        if not isinstance(cell, dict) or cell.get("cell_type") != "code":
            cells.append({"cell_type": "markdown", "source": "", "metadata": {}})
            continue
        source = cell.get("source", "")
        if isinstance(source, list):
            source = "".join(s for s in source if isinstance(s, str))
        if not isinstance(source, str):
            source = ""
        if len(source) > MAX_CELL_CHARS:
            notes.append(f"{name}: cell {index} is larger than 1 MB and was skipped")
            source = ""
        cells.append({"cell_type": "code", "source": source.replace("\0", ""),
                      "metadata": {}, "outputs": [], "execution_count": None})
    try:
        definitions = extract_definitions(nbformat.from_dict({"cells": cells}))
    except (ValueError, RecursionError, MemoryError) as err:
        return Chapter(stem, error=f"{name} could not be read ({type(err).__name__})")
    for skipped in definitions.skipped:
        notes.append(f"{name}: cell {skipped.cell} was skipped ({skipped.reason})")
    code = definitions.code + _inline_answers(stem, cells)
    return Chapter(stem, code=code, notes=notes)


_CONTAINER_CALLS = ("set", "frozenset", "list", "tuple", "sorted")


def _inline_answers(stem, cells):
    """Literal re-statements of the chapter's inline answers written as `set(...)` calls.

    The definition extractor keeps only literal assignments, and the stub itself reads
    `inline_q1 = set()`, so `inline_q1 = set(["A", "C"])` would be lost. The argument is
    evaluated here with ast.literal_eval (data only, nothing runs); the last assignment in
    the notebook wins, as it would when the notebook runs top to bottom.
    """
    names = [q for q in CHAPTERS[stem] if q.startswith("inline_")]
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
                if isinstance(items, str):
                    items = items.replace(",", " ").split()
                answer = sorted({str(item) for item in items}) if items is not None else None
            except (ValueError, TypeError, SyntaxError, RecursionError):
                continue
            found[node.targets[0].id] = answer
    lines = [f"{qid} = {{{', '.join(map(repr, answer))}}}" if answer else f"{qid} = None"
             for qid, answer in found.items()]
    return "\n".join(["", *lines, ""]) if lines else ""


def chapters_of(submission):
    """{stem: Chapter} for every chapter notebook the submission holds."""
    return {stem: read_chapter(stem, submission.files[f"{stem}.ipynb"])
            for stem in CHAPTERS if f"{stem}.ipynb" in submission.files}
