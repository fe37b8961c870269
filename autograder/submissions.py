"""Finding and reading submissions: folders or zips, chapter notebooks, best_model.npz.

Everything a student hands in is untrusted data. Files are read into memory with size
limits; symbolic links are never followed (a link could point at another student's work
or at the answer key); zip members are never extracted to disk, and are read with a cap
on the bytes actually decompressed (zip bombs lie about their sizes). A submission may
hold many candidates (copies of a notebook, `best_model (k).npz`): the model is chosen by
its name before anything is read, a notebook is read once to learn its chapter and then
dropped, so only the chosen files stay in memory, and all reads for one student together
stop at MAX_STUDENT_BYTES (`HeldBytes` bounds what a batch holds at once). Which file is
which chapter is decided by fcnet.chapter_files (the chapter id in a notebook's metadata first,
its file name second), the same rules carry-forward uses. Notebooks are parsed as JSON
(autograder/notebook_reading.py) and only their definitions are kept; no student code
runs in the grader. `read_submission` never raises: whatever fails for one student
becomes a note in that student's feedback.
"""
import hashlib
import io
import os
import re
import stat
import struct
import threading
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
MAX_STUDENT_BYTES = 2 ** 30   # read or decompressed for one student, all files together
# What reading one student may hold at once: a repaired zip's copy, the chosen notebooks
# and model, and the one candidate being read. A batch holds at most MAX_BATCH_BYTES.
READING_BYTES = MAX_ZIP_BYTES + 2 * MAX_MODEL_BYTES + len(CHAPTERS) * MAX_NOTEBOOK_BYTES
MAX_BATCH_BYTES = 3 * 2 ** 30

__all__ = ["Chapter", "HeldBytes", "MODEL_FILE", "Submission", "UsageError", "chapters_of",
           "discover", "read_chapter", "read_files", "read_submission"]


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
    found, reads, hashed = [], {}, 0
    for depth, path in sorted(paths)[:MAX_CANDIDATES]:
        rel = path.relative_to(submission.path).as_posix()
        try:
            mtime = path.stat().st_mtime
        except OSError as err:
            submission.notes.append(f"{rel} could not be read ({err.strerror or err}) and "
                                    f"was ignored")
            continue
        candidate = Candidate(rel, mtime, depth)
        reads[id(candidate)] = (lambda cap, path=path, rel=rel:
                                _folder_bytes(submission, path, rel, cap))
        if is_model_name(path.name) and hashed < MAX_STUDENT_BYTES:
            candidate.fingerprint, size = _file_digest(path)
            hashed += size
        found.append(candidate)
    _match(submission, found, len(paths), reads)


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


_OVER = object()  # a read found more bytes than it was allowed


def _folder_bytes(submission, path, rel, cap):
    """At most `cap` bytes of one file of the student's folder, _OVER when it holds more,
    or None (with a note) when it cannot be read."""
    try:
        data = _read_capped(path, cap)
    except OSError as err:  # vanished, permission denied, I/O error, a FIFO...
        submission.notes.append(f"{rel} could not be read ({err.strerror or err}) and "
                                f"was ignored")
        return None
    return _OVER if data is None else data


def _file_digest(path, chunk=2 ** 20):
    """(a hash of a model file's bytes, the bytes read), read a chunk at a time, so that
    identical copies count as one; (None, bytes read) when it is over the model cap or
    cannot be read (the copy then counts as a different one in the notes)."""
    digest, size = hashlib.sha256(), 0
    flags = os.O_RDONLY | getattr(os, "O_NOFOLLOW", 0) | getattr(os, "O_NONBLOCK", 0)
    try:
        with os.fdopen(os.open(path, flags), "rb") as f:
            info = os.fstat(f.fileno())
            if not stat.S_ISREG(info.st_mode) or info.st_size > MAX_MODEL_BYTES:
                return None, 0
            while block := f.read(chunk):
                digest.update(block)
                size += len(block)
    except OSError:
        return None, size
    return digest.hexdigest(), size


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
        found, reads = [], {}
        for depth, name, info in sorted(members, key=lambda m: m[:2])[:MAX_CANDIDATES]:
            candidate = Candidate(name, _zip_time(info), depth - 1)
            if is_model_name(PurePosixPath(name).name):  # as the zip states it: notes only
                candidate.fingerprint = ("crc32", info.CRC, info.file_size)
            reads[id(candidate)] = (lambda cap, name=name, info=info:
                                    _member_bytes(submission, archive, name, info, cap))
            found.append(candidate)
        _match(submission, found, len(members), reads)


def _member_bytes(submission, archive, name, info, cap):
    """At most `cap` bytes of one zip member, _OVER when it holds more, or None (with a
    note) when it cannot be used."""
    if info.flag_bits & 0x1:
        submission.notes.append(f"{name} is encrypted and was ignored")
        return None
    try:
        with archive.open(info) as member:
            data = member.read(cap + 1)
    except Exception as err:  # corrupt member, unsupported compression...
        submission.notes.append(f"{name} could not be read from the zip "
                                f"({describe_error(err)})")
        return None
    return _OVER if len(data) > cap else data


def _read_member(submission, archive, name, info):
    """The bytes of one zip member within its file cap, or None (with a note)."""
    limit = _limit(PurePosixPath(name).name)
    data = _member_bytes(submission, archive, name, info, limit)
    if data is _OVER:
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


class _Allowance:
    """What one student's reads may still take: each file its own cap (_limit), all of
    them together MAX_STUDENT_BYTES. Reading a file again (a chosen notebook, read once
    to learn its chapter) is not counted twice."""

    def __init__(self, submission):
        self.submission, self.left, self.sizes = submission, MAX_STUDENT_BYTES, {}

    def read(self, key, path, read):
        """The bytes `read(cap)` gives for the file at `path`, or None (with a note)."""
        limit = _limit(PurePosixPath(path).name)
        if key in self.sizes:
            data = read(self.sizes[key])
            return None if data is _OVER else data  # it changed since: left out
        cap = min(limit, self.left)
        data = read(cap) if cap > 0 else _OVER
        if data is None:
            return None
        self.left -= cap + 1 if data is _OVER else len(data)
        if data is not _OVER:
            self.sizes[key] = len(data)
            return data
        if cap == limit:
            self.submission.notes.append(f"{path} is larger than {limit // 2 ** 20} MB and "
                                         f"was ignored")
        else:
            self.submission.notes.append(f"{path} was not read: the submission's files hold "
                                         f"more than {MAX_STUDENT_BYTES // 2 ** 20} MB in all")
        return None


def _match(submission, found, total, reads):
    """Decide which file is which chapter (fcnet.chapter_files's rules) and keep those.

    `reads` maps id(candidate) to its read(cap). A notebook is read to
    learn its chapter (its metadata), hashed and dropped; a model is chosen by its name
    unread. Only each chosen file is then read and kept; one that cannot be used gives
    way to the next copy. So one candidate at most is in memory besides the chosen ones.
    """
    if total > MAX_CANDIDATES:
        submission.notes.append(f"the submission holds {total} notebooks; only the "
                                f"{MAX_CANDIDATES} nearest the top were looked at")
    allowance = _Allowance(submission)

    def read(candidate):
        return allowance.read(id(candidate), candidate.path, reads[id(candidate)])

    usable = []
    for candidate in found:
        if is_notebook_name(candidate.name) and not is_checkpoint(candidate.path):
            candidate.data = read(candidate)
            if candidate.data is None:
                continue
            identify(candidate)
            candidate.fingerprint = hashlib.sha256(candidate.data).hexdigest()
            candidate.data = None
        else:
            identify(candidate)
        usable.append(candidate)
    choices = _choose_and_read(usable, read)
    submission.used = {}
    for stem in [*CHAPTERS, MODEL_FILE]:
        if stem in choices:
            choice = choices[stem]
            name = stem if stem == MODEL_FILE else f"{stem}.ipynb"
            submission.files[name] = choice.chosen.data
            submission.used[name] = choice.chosen.path
            submission.notes.extend(choice.notes())
    submission.notes.extend(checkpoint_notes(usable, choices))


def _choose_and_read(candidates, read):
    """{stem: Choice} whose chosen files are read; a chosen file that cannot be read is
    left out and the choice made again."""
    while True:
        choices = choose(candidates, by_time=False)  # times do not survive every route
        for choice in choices.values():
            chosen = choice.chosen
            if chosen.data is None:
                chosen.data = read(chosen)
                if chosen.data is None:
                    candidates = [c for c in candidates if c is not chosen]
                    break
        else:
            return choices


class HeldBytes:
    """Submission files held in memory by one batch at once: at most `limit` bytes, or a
    single reservation larger than that when nothing else is held. A student reserves
    READING_BYTES before reading, keeps what the chosen files take while graded, and
    releases it afterwards. Each student reserves once, so none waits holding bytes."""

    def __init__(self, limit=MAX_BATCH_BYTES):
        self.limit, self.held = limit, 0
        self._changed = threading.Condition()

    def reserve(self, size):
        with self._changed:
            self._changed.wait_for(lambda: self.held == 0 or self.held + size <= self.limit)
            self.held += size
        return size

    def release(self, size):
        with self._changed:
            self.held -= size
            self._changed.notify_all()


def held_bytes(submission):
    return sum(len(data) for data in submission.files.values() if data)


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
