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
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

import nbformat

from fcnet.chapter_files import (CHECKPOINT_FOLDER, MODEL_FILE, Candidate, checkpoint_notes,
                                 choose, identify, is_checkpoint, is_model_name,
                                 is_notebook_name)
from fcnet.chapters import CHAPTERS
from fcnet.notebook_import import extract_definitions

from .layouts import LayoutError, find_submissions
MAX_NOTEBOOK_BYTES = 20 * 2 ** 20
MAX_MODEL_BYTES = 256 * 2 ** 20
MAX_ZIP_MEMBERS = 10000
MAX_CELL_CHARS = 2 ** 20
MAX_DEPTH = 3              # folders below the student's folder searched for files
MAX_CANDIDATES = 60        # notebook and model files considered per submission


class UsageError(Exception):
    """The grader was called wrongly (the CLI prints the message and exits 2)."""


@dataclass
class Submission:
    student: str
    path: Path
    files: dict = field(default_factory=dict)   # course file name -> bytes
    notes: list = field(default_factory=list)   # messages for the student's feedback
    used: dict = field(default_factory=dict)    # course file name -> the file used


@dataclass
class Chapter:
    stem: str
    code: str = ""            # the definitions, ready to execute
    error: str = ""           # why the notebook could not be used ("" when it could)
    notes: list = field(default_factory=list)


def discover(root):
    """Submissions under `root`, sorted by student id (files not read yet: see
    read_files). The layouts it understands are in autograder.layouts: a folder with one
    folder or .zip per student, an nbgrader course or its submitted/ folder, a Gradescope
    export. Raises UsageError on misuse."""
    try:
        found = find_submissions(root)
    except LayoutError as err:
        raise UsageError(str(err)) from None
    return [Submission(student, path) for student, path in found]


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
    return MAX_MODEL_BYTES if is_model_name(name) else MAX_NOTEBOOK_BYTES


def _read_folder(submission):
    """Collect notebooks and model files from the student's folder, then match them."""
    paths = []
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
                if _wanted(entry.name):
                    submission.notes.append(f"{entry.name} is a symbolic link and was ignored")
                continue
            if entry.is_dir(follow_symlinks=False):
                if depth < MAX_DEPTH and _searched_folder(entry.name):
                    stack.append((Path(entry.path), depth + 1))
            elif _wanted(entry.name) and entry.is_file(follow_symlinks=False):
                paths.append((depth, Path(entry.path)))
    found = []
    for depth, path in sorted(paths)[:MAX_CANDIDATES]:
        rel = path.relative_to(submission.path).as_posix()
        candidate = Candidate(rel, path.stat().st_mtime, depth)
        if not is_checkpoint(rel):
            candidate.data = _read_capped(path, _limit(path.name))
            if candidate.data is None:
                submission.notes.append(f"{rel} is larger than "
                                        f"{_limit(path.name) // 2 ** 20} MB and was ignored")
                continue
        found.append(candidate)
    _match(submission, found, len(paths))


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
        members = []
        for count, info in enumerate(archive.infolist()):
            if count >= MAX_ZIP_MEMBERS:
                submission.notes.append("the zip has too many entries; the rest were ignored")
                break
            name = info.filename.replace("\\", "/")
            parts = PurePosixPath(name).parts
            unsafe = name.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", name)
            is_link = stat.S_ISLNK(info.external_attr >> 16)
            if info.is_dir() or not parts or not _wanted(parts[-1]):
                continue
            if unsafe or is_link:
                submission.notes.append(f"{name} in the zip was ignored (unsafe path or link)")
                continue
            if not all(_searched_folder(p) for p in parts[:-1]):
                continue
            if len(parts) - 1 > MAX_DEPTH:
                continue
            members.append((len(parts), name, info))
        found = []
        for depth, name, info in sorted(members, key=lambda m: m[:2])[:MAX_CANDIDATES]:
            candidate = Candidate(name, _zip_time(info), depth - 1)
            if not is_checkpoint(name):
                candidate.data = _read_member(submission, archive, name, info)
                if candidate.data is None:
                    continue
            found.append(candidate)
        _match(submission, found, len(members))


def _read_member(submission, archive, name, info):
    """The bytes of one zip member, or None (with a note) when it cannot be used."""
    if info.flag_bits & 0x1:
        submission.notes.append(f"{name} is encrypted and was ignored")
        return None
    limit = _limit(PurePosixPath(name).name)
    try:
        with archive.open(info) as member:
            data = member.read(limit + 1)
    except Exception as err:  # corrupt member, unsupported compression...
        submission.notes.append(f"{name} could not be read from the zip ({err})")
        return None
    if len(data) > limit:
        submission.notes.append(f"{name} is larger than {limit // 2 ** 20} MB and was ignored")
        return None
    return data


def _zip_time(info):
    try:
        return time.mktime(info.date_time + (0, 0, -1))
    except (OverflowError, ValueError):
        return 0.0


# ----------------------------------------------------------------------------- matching

def _wanted(name):
    """A file that may be a chapter notebook or the model (fcnet.chapter_files decides)."""
    return is_notebook_name(name) or is_model_name(name)


def _searched_folder(name):
    """Hidden folders and macOS's __MACOSX are not searched; Jupyter's checkpoint folder
    is, only so that feedback can say that a checkpoint is never graded."""
    return name == CHECKPOINT_FOLDER or not (name.startswith(".") or name == "__MACOSX")


def _match(submission, found, total):
    """Decide which file is which chapter (fcnet.chapter_files's rules) and keep those."""
    if total > MAX_CANDIDATES:
        submission.notes.append(f"the submission holds {total} notebooks; only the "
                                f"{MAX_CANDIDATES} nearest the top were looked at")
    for candidate in found:
        identify(candidate)
    choices = choose(found, by_time=False)  # times do not survive every route
    submission.used = {}
    for stem in [*CHAPTERS, MODEL_FILE]:
        if stem in choices:
            choice = choices[stem]
            name = stem if stem == MODEL_FILE else f"{stem}.ipynb"
            submission.files[name] = choice.chosen.data
            submission.used[name] = choice.chosen.path
            submission.notes.extend(choice.notes())
    submission.notes.extend(checkpoint_notes(found, choices))


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
