"""Finding and reading submissions: folders or zips, chapter notebooks, best_model.npz.

Everything a student hands in is untrusted data. Files are read into memory with size
limits; symbolic links are never followed (a link could point at another student's work
or at the answer key); zip members are never extracted to disk, and are read with a cap
on the bytes actually decompressed (zip bombs lie about their sizes). Which file is which
chapter is decided by fcnet.chapter_files (the chapter id in a notebook's metadata first,
its file name second), the same rules carry-forward uses. Notebooks are parsed as JSON
(autograder/notebook_reading.py) and only their definitions are kept; no student code
runs in the grader. `read_submission` never raises: whatever fails for one student
becomes a note in that student's feedback.
"""
import io
import os
import re
import stat
import struct
import time
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from fcnet.chapter_files import (CHECKPOINT_FOLDER, MODEL_FILE, Candidate, checkpoint_notes,
                                 choose, identify, is_checkpoint, is_model_name,
                                 is_notebook_name)
from fcnet.chapters import CHAPTERS

from .layouts import LayoutError, find_submissions
from .notebook_reading import Chapter, read_chapter
from .worker_runtime import describe_error

MAX_NOTEBOOK_BYTES = 20 * 2 ** 20
MAX_MODEL_BYTES = 256 * 2 ** 20
MAX_ZIP_MEMBERS = 10000
MAX_ZIP_BYTES = 2 ** 29         # a zip with a false UTF-8 name is repaired in memory up to this
MAX_DEPTH = 3              # folders below the student's folder searched for files
MAX_CANDIDATES = 60        # notebook and model files considered per submission

__all__ = ["Chapter", "MODEL_FILE", "Submission", "UsageError", "chapters_of", "discover",
           "read_chapter", "read_files", "read_submission"]


class UsageError(Exception):
    """The grader was called wrongly (the CLI prints the message and exits 2)."""


@dataclass
class Submission:
    student: str
    path: Path
    files: dict = field(default_factory=dict)   # course file name -> bytes
    notes: list = field(default_factory=list)   # messages for the student's feedback
    used: dict = field(default_factory=dict)    # course file name -> the file used


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
    if submission.path.is_symlink():  # never graded through a link (autograder.layouts)
        submission.notes.append(f"{submission.path.name} is a symbolic link, which is never "
                                f"followed (it could point at another student's work); "
                                f"nothing was graded")
    elif submission.path.is_dir():
        _read_folder(submission)
    else:
        _read_zip(submission)
    return submission


def read_submission(submission):
    """Read the submission's files and chapters; return {stem: Chapter}. Never raises.

    Whatever goes wrong with one student's files (a damaged zip, a file that vanishes or
    cannot be read, a notebook that defeats the parser) becomes a note in that student's
    feedback (`submission.notes`) or a chapter error, which costs that chapter's
    questions; the rest of the batch is never affected.
    """
    try:
        read_files(submission)
    except Exception as err:  # an unforeseen failure: keep what was read, say what failed
        submission.notes.append(f"the submission could not be read completely "
                                f"({describe_error(err)}); some files may be missing")
    return chapters_of(submission)


def _limit(name):
    return MAX_MODEL_BYTES if is_model_name(name) else MAX_NOTEBOOK_BYTES


def _read_folder(submission):
    """Collect notebooks and model files from the student's folder, then match them."""
    paths, oddities = [], {}
    stack = [(submission.path, 0)]
    while stack:
        folder, depth = stack.pop()
        try:
            entries = sorted(os.scandir(folder), key=lambda e: e.name)
        except OSError as err:
            submission.notes.append(f"a folder could not be read ({err.strerror})")
            continue
        for entry in entries:
            try:
                _sort_entry(entry, depth, stack, paths, oddities)
            except OSError as err:  # the entry vanished or cannot be examined
                oddities.setdefault(entry.name, f"could not be examined ({err.strerror})")
    for name, why in sorted(oddities.items()):
        submission.notes.append(f"{name} {why} and was ignored")
    found = []
    for depth, path in sorted(paths)[:MAX_CANDIDATES]:
        candidate = _folder_candidate(submission, depth, path)
        if candidate is not None:
            found.append(candidate)
    _match(submission, found, len(paths))


def _sort_entry(entry, depth, stack, paths, oddities):
    """File one directory entry: a folder to search, a wanted file, or an oddity."""
    if entry.is_symlink():
        if _wanted(entry.name):
            oddities.setdefault(entry.name, "is a symbolic link")
    elif entry.is_dir(follow_symlinks=False):
        if _wanted(entry.name):
            oddities.setdefault(entry.name, "is a folder, not a file,")
        if depth < MAX_DEPTH and _searched_folder(entry.name):
            stack.append((Path(entry.path), depth + 1))
    elif _wanted(entry.name):
        if entry.is_file(follow_symlinks=False):
            paths.append((depth, Path(entry.path)))
        else:
            oddities.setdefault(entry.name, "is not a regular file")


def _folder_candidate(submission, depth, path):
    """A Candidate for one file of the student's folder, or None (with a note)."""
    rel = path.relative_to(submission.path).as_posix()
    try:
        candidate = Candidate(rel, path.stat().st_mtime, depth)
        if not is_checkpoint(rel):
            candidate.data = _read_capped(path, _limit(path.name))
    except OSError as err:  # vanished, permission denied, I/O error, a FIFO...
        submission.notes.append(f"{rel} could not be read ({err.strerror or err}) and "
                                f"was ignored")
        return None
    if not is_checkpoint(rel) and candidate.data is None:
        submission.notes.append(f"{rel} is larger than {_limit(path.name) // 2 ** 20} MB "
                                f"and was ignored")
        return None
    return candidate


def _read_capped(path, limit):
    """The bytes of regular file `path`, or None when it is larger than `limit`.
    Raises OSError when it cannot be read (never waits on a FIFO or a device)."""
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    fd = os.open(path, flags)
    with os.fdopen(fd, "rb") as f:
        if not stat.S_ISREG(os.fstat(f.fileno()).st_mode):
            raise OSError(0, "not a regular file")
        data = f.read(limit + 1)
    return None if len(data) > limit else data


def _open_zip(submission):
    """A ZipFile of the submission, or None with a note saying why it cannot be read."""
    name = submission.path.name
    try:
        return zipfile.ZipFile(submission.path)
    except UnicodeDecodeError:
        # An entry claims a UTF-8 name but is not valid UTF-8: zipfile refuses the whole
        # archive. Retry with that claim removed, so the other entries can still be read.
        try:
            return _zip_without_false_utf8_names(submission.path)
        except Exception as err:
            submission.notes.append(f"{name} has an entry whose name is not valid UTF-8 "
                                    f"and could not be read ({describe_error(err)})")
    except Exception as err:  # BadZipFile, OSError, and whatever a damaged header raises
        submission.notes.append(f"{name} is not a readable zip file ({describe_error(err)})")
    return None


def _zip_without_false_utf8_names(path):
    """A ZipFile over an in-memory copy of `path` in which central-directory entries whose
    names are not valid UTF-8 no longer claim to be (they are then read as cp437)."""
    if path.stat().st_size > MAX_ZIP_BYTES:
        raise ValueError(f"the zip is larger than {MAX_ZIP_BYTES // 2 ** 20} MB")
    data = bytearray(path.read_bytes())
    end = data.rfind(b"PK\x05\x06")
    if end < 0 or end + 22 > len(data):
        raise zipfile.BadZipFile("no end of central directory")
    count, size, offset = struct.unpack_from("<HII", data, end + 10)
    position = offset
    for _ in range(count):
        if data[position:position + 4] != b"PK\x01\x02":
            raise zipfile.BadZipFile("damaged central directory")
        flags, = struct.unpack_from("<H", data, position + 8)
        name_length, extra_length, comment_length = struct.unpack_from("<HHH", data,
                                                                       position + 28)
        name = bytes(data[position + 46:position + 46 + name_length])
        try:
            name.decode("utf-8")
        except UnicodeDecodeError:
            struct.pack_into("<H", data, position + 8, flags & ~0x800)
        position += 46 + name_length + extra_length + comment_length
    return zipfile.ZipFile(io.BytesIO(bytes(data)))


def _zip_members(submission, archive):
    """[(depth, name, ZipInfo)] of the safe zip entries that may be chapters or the model."""
    members = []
    for index, info in enumerate(archive.infolist()):
        if index >= MAX_ZIP_MEMBERS:
            submission.notes.append("the zip has too many entries; the rest were ignored")
            break
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if not parts or "__MACOSX" in parts:
            continue
        if parts[-1].lower().endswith(".zip") and not info.is_dir():
            submission.notes.append(f"the zip holds another zip ({name}), which was not "
                                    f"opened: hand in one zip of your folder")
            continue
        if not _wanted(parts[-1]):
            continue
        if info.is_dir():
            submission.notes.append(f"{name} in the zip is a folder, not a file")
            continue
        unsafe = name.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", name)
        if unsafe or stat.S_ISLNK(info.external_attr >> 16):
            submission.notes.append(f"{name} in the zip was ignored (unsafe path or link)")
            continue
        if all(_searched_folder(p) for p in parts[:-1]) and len(parts) - 1 <= MAX_DEPTH:
            members.append((len(parts), name, info))
    return members


def _read_zip(submission):
    archive = _open_zip(submission)
    if archive is None:
        return
    with archive:
        members = _zip_members(submission, archive)
        names = [name for _, name, _ in members]
        for name in sorted({n for n in names if names.count(n) > 1}):
            submission.notes.append(f"the zip holds {names.count(name)} entries named {name} "
                                    f"(unzip would keep the last one); each was considered "
                                    f"as a copy of its chapter")
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
        submission.notes.append(f"{name} could not be read from the zip "
                                f"({describe_error(err)})")
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


def chapters_of(submission):
    """{stem: Chapter} for every chapter notebook the submission holds. Never raises."""
    chapters = {}
    for stem in CHAPTERS:
        data = submission.files.get(f"{stem}.ipynb")
        if data is None:
            continue
        try:
            chapters[stem] = read_chapter(stem, data)
        except Exception as err:  # a parser failure not foreseen in read_chapter
            chapters[stem] = Chapter(stem, error=f"{stem}.ipynb could not be read "
                                                 f"({describe_error(err)})")
    return chapters
