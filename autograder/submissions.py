"""Finding and reading submissions: folders or zips, chapter notebooks, best_model.npz.

Everything a student hands in is untrusted data. Files are read into memory with size
limits; symbolic links are never followed (a link could point at another student's work
or at the answer key); zip members are matched by their base name only, never extracted
to disk, and read with a cap on the bytes actually decompressed (zip bombs lie about
their sizes). Notebooks are parsed as JSON (autograder/notebook_reading.py) and only
their definitions are kept; no student code runs in the grader. `read_submission` never
raises: whatever fails for one student becomes a note in that student's feedback.
"""
import io
import os
import re
import stat
import struct
import zipfile
from dataclasses import dataclass, field
from pathlib import Path, PurePosixPath

from fcnet.chapters import CHAPTERS

from .notebook_reading import Chapter, describe_error, read_chapter

MODEL_FILE = "best_model.npz"
WANTED = {f"{stem}.ipynb": stem for stem in CHAPTERS} | {MODEL_FILE: None}
MAX_NOTEBOOK_BYTES = 20 * 2 ** 20
MAX_MODEL_BYTES = 256 * 2 ** 20
MAX_ZIP_MEMBERS = 10000
MAX_ZIP_BYTES = 2 ** 29         # a zip with a false UTF-8 name is repaired in memory up to this
MAX_DEPTH = 3              # folders below the student's folder searched for files


class UsageError(Exception):
    """The grader was called wrongly (the CLI prints the message and exits 2)."""


@dataclass
class Submission:
    student: str
    path: Path
    files: dict = field(default_factory=dict)   # wanted file name -> bytes
    notes: list = field(default_factory=list)   # messages for the student's feedback


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
    return MAX_MODEL_BYTES if name == MODEL_FILE else MAX_NOTEBOOK_BYTES


def _read_folder(submission):
    """Collect wanted files from the student's folder (shallowest copy wins)."""
    candidates, oddities = {}, {}
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
                _sort_entry(entry, depth, stack, candidates, oddities)
            except OSError as err:  # the entry vanished or cannot be examined
                oddities.setdefault(entry.name, f"could not be examined ({err.strerror})")
    for name, why in sorted(oddities.items()):
        if name in WANTED:
            submission.notes.append(f"{name} {why} and was ignored")
    for name, paths in sorted(candidates.items()):
        depth, path = min(paths)
        if len(paths) > 1:
            submission.notes.append(f"several copies of {name}; graded the one at "
                                    f"{path.relative_to(submission.path)}")
        try:
            data = _read_capped(path, _limit(name))
        except OSError as err:  # vanished, permission denied, I/O error, a FIFO...
            submission.notes.append(f"{name} could not be read ({err.strerror or err}) and "
                                    f"was ignored")
            continue
        if data is None:
            submission.notes.append(f"{name} is larger than {_limit(name) // 2 ** 20} MB "
                                    f"and was ignored")
        else:
            submission.files[name] = data


def _sort_entry(entry, depth, stack, candidates, oddities):
    """File one directory entry: a folder to search, a wanted file, or an oddity."""
    if entry.is_symlink():
        if entry.name in WANTED:
            oddities.setdefault(entry.name, "is a symbolic link")
    elif entry.is_dir(follow_symlinks=False):
        if entry.name in WANTED:
            oddities.setdefault(entry.name, "is a folder, not a file,")
        if depth < MAX_DEPTH and not entry.name.startswith(".") and entry.name != "__MACOSX":
            stack.append((Path(entry.path), depth + 1))
    elif entry.name in WANTED:
        if entry.is_file(follow_symlinks=False):
            candidates.setdefault(entry.name, []).append((depth, Path(entry.path)))
        else:
            oddities.setdefault(entry.name, "is not a regular file")


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


def _zip_candidates(submission, archive):
    """{wanted base name: [(depth, name, -index, ZipInfo)]} of the safe, wanted entries."""
    candidates = {}
    for index, info in enumerate(archive.infolist()):
        if index >= MAX_ZIP_MEMBERS:
            submission.notes.append("the zip has too many entries; the rest were ignored")
            break
        name = info.filename.replace("\\", "/")
        parts = PurePosixPath(name).parts
        if not parts:
            continue
        if parts[-1].lower().endswith(".zip") and not info.is_dir() and "__MACOSX" not in parts:
            submission.notes.append(f"the zip holds another zip ({name}), which was not "
                                    f"opened: hand in one zip of your folder")
            continue
        if parts[-1] not in WANTED:
            continue
        if info.is_dir():
            submission.notes.append(f"{name} in the zip is a folder, not a file")
            continue
        unsafe = name.startswith("/") or ".." in parts or re.match(r"^[A-Za-z]:", name)
        if unsafe or stat.S_ISLNK(info.external_attr >> 16):
            submission.notes.append(f"{name} in the zip was ignored (unsafe path or link)")
            continue
        if "__MACOSX" in parts or any(p.startswith(".") for p in parts[:-1]):
            continue
        if len(parts) - 1 > MAX_DEPTH:
            continue
        candidates.setdefault(parts[-1], []).append((len(parts), name, -index, info))
    return candidates


def _read_zip(submission):
    archive = _open_zip(submission)
    if archive is None:
        return
    with archive:
        for base, entries in sorted(_zip_candidates(submission, archive).items()):
            # The shallowest copy wins; of entries with the same name, the last one (as
            # unzip would leave it on disk).
            _, name, _, info = min(entries, key=lambda e: e[:3])
            if len(entries) > 1:
                submission.notes.append(f"the zip holds {len(entries)} copies of {base}; "
                                        f"graded {name}" + (" (the last one)" if
                                        sum(e[1] == name for e in entries) > 1 else ""))
            if info.flag_bits & 0x1:
                submission.notes.append(f"{name} is encrypted and was ignored")
                continue
            limit = _limit(base)
            try:
                with archive.open(info) as member:
                    data = member.read(limit + 1)  # a zip bomb stops here
            except Exception as err:  # corrupt member, unsupported compression...
                submission.notes.append(f"{name} could not be read from the zip "
                                        f"({describe_error(err)})")
                continue
            if len(data) > limit:
                submission.notes.append(f"{name} is larger than {limit // 2 ** 20} MB and "
                                        f"was ignored")
                continue
            submission.files[base] = data


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
