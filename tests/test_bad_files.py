"""One bad file never costs the batch: every way a student's files can be broken, hostile
or strange becomes a note in that student's feedback and zero for the affected questions,
and the batch still writes grades.csv, grades.json and every feedback page.

The first part reads bad notebooks and bad folders/zips directly (no sandbox, fast). The
second grades one batch of such submissions with the real engine, next to a good one.
"""
import csv
import io
import json
import os
import stat
import struct
import zipfile

import nbformat
import pytest

from autograder import submissions
from autograder.notebook_reading import read_chapter
from autograder.points import QUESTION_POINTS
from autograder.submissions import Submission, read_submission
from fcnet.chapters import CHAPTERS

from autograder_support import grade_folder, notebook, v3_notebook, write_submission

AFFINE = "01_affine_layer"


def _notebook_json(cells):
    return json.dumps({"cells": cells, "metadata": {}, "nbformat": 4,
                       "nbformat_minor": 5}).encode()


def _code(source):
    return {"cell_type": "code", "source": source, "metadata": {}, "outputs": []}


def _solution_bytes(stem=AFFINE):
    return nbformat.writes(notebook(stem)).encode()


# ----------------------------------------------------------------------------- notebooks

# Notebook bytes that cannot be graded: (bytes, words of the chapter's error).
UNREADABLE_NOTEBOOKS = {
    "json_nested_200000_deep": (lambda: b"[" * 200000 + b"]" * 200000, "nested more deeply"),
    "cells_nested_deeply": (lambda: b'{"cells": ' + b"[" * 200000 + b"]" * 200000 + b"}",
                            "nested more deeply"),
    "json_list": (lambda: b"[1, 2, 3]", "not a Jupyter notebook"),
    "json_string": (lambda: b'"hello"', "not a Jupyter notebook"),
    "json_null": (lambda: b"null", "not a Jupyter notebook"),
    "no_cells": (lambda: b'{"metadata": {}}', "has no cells"),
    "cells_not_a_list": (lambda: b'{"cells": "abc", "nbformat": 4}', "has no cells"),
    "binary_garbage": (lambda: bytes(range(256)) * 64, "not a text file"),
    "empty_file": (lambda: b"", "not valid JSON"),
    "truncated": (lambda: _solution_bytes()[:3000], "not valid JSON"),
    "huge_integer": (lambda: b'{"cells": [], "n": ' + b"9" * 100000 + b"}", "not valid notebook"),
    "a_million_empty_objects": (lambda: b'{"cells": [' + b",".join([b"{}"] * 1100000) + b"]}",
                                "more than 1,000,000 JSON objects"),
}


@pytest.mark.parametrize("name", sorted(UNREADABLE_NOTEBOOKS))
def test_an_unreadable_notebook_is_an_error_not_an_exception(name):
    build, words = UNREADABLE_NOTEBOOKS[name]
    chapter = read_chapter(AFFINE, build())
    assert chapter.error.startswith(f"{AFFINE}.ipynb") and words in chapter.error
    assert chapter.code == ""


# Notebooks that are strange but readable: (bytes, a definition kept, words of a note).
STRANGE_NOTEBOOKS = {
    "source_is_a_dict": (lambda: _notebook_json([_code({"a": 1}), _code("def kept():\n  pass")]),
                         "def kept", None),
    "source_list_of_mixed": (lambda: _notebook_json([_code(["def kept():\n", 5, None,
                                                            "  pass\n", ["x"]])]),
                             "def kept", None),
    "cells_that_are_not_objects": (lambda: _notebook_json([1, "two", None, [],
                                                           _code("def kept(): pass")]),
                                   "def kept", None),
    "lone_surrogates": (lambda: _notebook_json([_code("def kept():\n    return '\ud800'\n")]),
                        "def kept", "not valid Unicode"),
    "python_nested_too_deeply": (lambda: _notebook_json([
        _code("def lost():\n    return " + "-" * 10 ** 6 + "1"), _code("def kept(): pass")]),
        "def kept", "nested too deeply"),
    "too_many_parentheses": (lambda: _notebook_json([
        _code("x = " + "(" * 10 ** 5 + ")" * 10 ** 5), _code("def kept(): pass")]),
        "def kept", "too many nested parentheses"),
    "null_bytes": (lambda: _notebook_json([_code("def kept():\x00\n    pass")]),
                   "def kept", None),
    "utf16": (lambda: json.dumps({"cells": [_code("def kept(): pass")]}).encode("utf-16"),
              "def kept", None),
    "utf8_bom": (lambda: b"\xef\xbb\xbf" + _notebook_json([_code("def kept(): pass")]),
                 "def kept", None),
    "nbformat_3_worksheet_cells_not_a_list": (
        lambda: json.dumps({"nbformat": 3, "worksheets": [
            {"cells": 5}, "sheet", {"cells": [_code("x"), {"cell_type": "code",
                                                          "input": "def kept(): pass"}]}]})
        .encode(), "def kept", "format 3"),
    "nbformat_3": (lambda: v3_notebook(notebook(AFFINE)), "def affine_forward", "format 3"),
    "a_cell_over_1_MB": (lambda: _notebook_json([_code("# " + "x" * 2 ** 20),
                                                 _code("def kept(): pass")]),
                         "def kept", "larger than 1 MB"),
}


@pytest.mark.parametrize("name", sorted(STRANGE_NOTEBOOKS))
def test_a_strange_notebook_keeps_its_definitions(name):
    build, kept, words = STRANGE_NOTEBOOKS[name]
    chapter = read_chapter(AFFINE, build())
    assert chapter.error == "" and kept in chapter.code
    compile(chapter.code, "<chapter>", "exec")  # what the worker receives is valid Python
    if words:
        assert any(words in note for note in chapter.notes), chapter.notes


# ----------------------------------------------------------------------------- zips

def _zip(members):
    """Zip bytes from [(name, data)] or [(ZipInfo, data)]."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members:
            archive.writestr(name, data)
    return buffer.getvalue()


def _chapters(folder="work/"):
    return [(f"{folder}{stem}.ipynb", _solution_bytes(stem)) for stem in (AFFINE, "02_relu")]


def _with_bad_utf8_name():
    """A zip whose extra entry claims a UTF-8 name that is not valid UTF-8."""
    data = bytearray(_zip(_chapters() + [("work/notes-XX.txt", b"hello")]))
    index = data.index(b"notes-XX")  # the local header's copy of the name
    data[index + 6:index + 8] = b"\xff\xfe"
    index = data.index(b"notes-XX")  # the central directory's copy
    data[index + 6:index + 8] = b"\xff\xfe"
    for signature, flag_at in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
        position = -1
        while (position := data.find(signature, position + 1)) >= 0:
            flags, = struct.unpack_from("<H", data, position + flag_at)
            struct.pack_into("<H", data, position + flag_at, flags | 0x800)
    return bytes(data)


def _symlink_entry(name, target):
    info = zipfile.ZipInfo(name)
    info.external_attr = (stat.S_IFLNK | 0o777) << 16
    return info, target


def _encrypted():
    """A zip whose chapter-1 entry says it is encrypted (zipfile cannot write one)."""
    data = bytearray(_zip(_chapters()))
    name = f"work/{AFFINE}.ipynb".encode()
    end = data.rfind(b"PK\x05\x06")
    position, = struct.unpack_from("<I", data, end + 16)  # the central directory's 1st entry
    assert data[position + 46:position + 46 + len(name)] == name
    flags, = struct.unpack_from("<H", data, position + 8)
    struct.pack_into("<H", data, position + 8, flags | 0x1)
    return bytes(data)


def _corrupt_member():
    data = bytearray(_zip(_chapters()))
    position = data.index(b"PK\x03\x04") + 30 + len(f"work/{AFFINE}.ipynb") + 100
    data[position:position + 50] = bytes(50)
    return bytes(data)


def _duplicates():
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"work/{AFFINE}.ipynb", b"not the one")
        with pytest.warns(UserWarning, match="Duplicate name"):
            archive.writestr(f"work/{AFFINE}.ipynb", _solution_bytes())
        archive.writestr("work/02_relu.ipynb", _solution_bytes("02_relu"))
    return buffer.getvalue()


# name: (zip bytes, chapters that must be read, words of a note or None)
ZIPS = {
    "invalid_utf8_entry_name": (_with_bad_utf8_name, {AFFINE, "02_relu"}, None),
    "zip_bomb": (lambda: _zip([(f"w/{AFFINE}.ipynb", b" " * (21 * 2 ** 20)),
                               *_chapters()[1:]]), {"02_relu"}, "larger than 20 MB"),
    "symlink_entry": (lambda: _zip([_symlink_entry(f"w/{AFFINE}.ipynb", b"/etc/passwd"),
                                    *_chapters()[1:]]), {"02_relu"}, "unsafe path or link"),
    "path_traversal": (lambda: _zip([(f"../../{AFFINE}.ipynb", _solution_bytes()),
                                     *_chapters()[1:]]), {"02_relu"}, "unsafe path or link"),
    "absolute_path": (lambda: _zip([(f"/tmp/{AFFINE}.ipynb", _solution_bytes()),
                                    *_chapters()[1:]]), {"02_relu"}, "unsafe path or link"),
    "zip_inside_the_zip": (lambda: _zip([("work/two_layer_net.zip", _zip(_chapters()))]),
                           set(), "holds another zip"),
    "duplicate_names": (_duplicates, {AFFINE, "02_relu"}, "the last one"),
    "folder_named_like_a_notebook": (lambda: _zip([(f"w/{AFFINE}.ipynb/", b""),
                                                   *_chapters()[1:]]),
                                     {"02_relu"}, "is a folder"),
    "encrypted_entry": (_encrypted, {"02_relu"}, "encrypted"),
    "corrupt_member": (_corrupt_member, {"02_relu"}, "could not be read from the zip"),
    "not_a_zip": (lambda: b"PK\x03\x04 this is not really a zip", set(),
                  "not a readable zip"),
    "empty_file": (lambda: b"", set(), "not a readable zip"),
}


@pytest.mark.parametrize("name", sorted(ZIPS))
def test_a_bad_zip_loses_only_what_is_bad(name, tmp_path):
    build, readable, words = ZIPS[name]
    path = tmp_path / "student.zip"
    path.write_bytes(build())
    submission = Submission("student", path)
    chapters = read_submission(submission)
    assert {stem for stem, ch in chapters.items() if not ch.error} == readable
    assert all("def " in chapters[stem].code for stem in readable)
    if words:
        assert any(words in note for note in submission.notes), submission.notes


# ----------------------------------------------------------------------------- folders

def _folder_with(tmp_path, change):
    folder = tmp_path / "student"
    folder.mkdir()
    for stem in (AFFINE, "02_relu"):
        (folder / f"{stem}.ipynb").write_bytes(_solution_bytes(stem))
    change(folder / f"{AFFINE}.ipynb")
    return folder


def _fifo(path):
    path.unlink()
    os.mkfifo(path)


def _symlink(path):
    # The target lies outside the student's folder (a file inside it would be found by
    # its chapter id as a renamed copy, which is right).
    outside = path.parent.parent / f"outside-{path.parent.name}.ipynb"
    path.rename(outside)
    path.symlink_to(outside)


def _directory(path):
    path.unlink()
    path.mkdir()


# name: (change to the chapter-1 file, words of the note)
FOLDERS = {
    "fifo_named_like_a_notebook": (_fifo, "is not a regular file"),
    "symlink": (_symlink, "symbolic link"),
    "folder_named_like_a_notebook": (_directory, "is a folder"),
    "too_large": (lambda p: p.write_bytes(b" " * (20 * 2 ** 20 + 1)), "larger than 20 MB"),
}


@pytest.mark.parametrize("name", sorted(FOLDERS))
def test_a_bad_file_in_a_folder_loses_only_itself(name, tmp_path):
    change, words = FOLDERS[name]
    submission = Submission("student", _folder_with(tmp_path, change))
    chapters = read_submission(submission)
    assert set(chapters) == {"02_relu"} and not chapters["02_relu"].error
    assert any(words in note for note in submission.notes), submission.notes


def _vanishing_read(real):
    def read(path, limit):
        if path.name == f"{AFFINE}.ipynb":
            path.unlink()  # gone between listing the folder and reading it
        return real(path, limit)
    return read


def _denied(real):
    def read(path, limit):
        if path.name == f"{AFFINE}.ipynb":
            raise PermissionError(13, "Permission denied")  # root ignores chmod 000
        return real(path, limit)
    return read


@pytest.mark.parametrize("patch, words", [(_vanishing_read, "No such file"),
                                          (_denied, "Permission denied")])
def test_a_file_that_cannot_be_read_is_a_note(patch, words, tmp_path, monkeypatch):
    monkeypatch.setattr(submissions, "_read_capped", patch(submissions._read_capped))
    submission = Submission("student", _folder_with(tmp_path, lambda p: None))
    chapters = read_submission(submission)
    assert set(chapters) == {"02_relu"}
    assert any(f"{AFFINE}.ipynb could not be read ({words}" in n for n in submission.notes)


def test_an_unforeseen_failure_is_a_note(tmp_path, monkeypatch):
    def explode(*args):
        raise RuntimeError("something nobody thought of")
    monkeypatch.setattr(submissions, "_read_folder", explode)
    submission = Submission("student", _folder_with(tmp_path, lambda p: None))
    assert read_submission(submission) == {}
    assert any("something nobody thought of" in n for n in submission.notes)
    monkeypatch.setattr(submissions, "read_chapter", explode)
    submission = Submission("student", tmp_path / "student")
    submission.files = {f"{AFFINE}.ipynb": b"{}"}
    chapters = submissions.chapters_of(submission)
    assert "could not be read (RuntimeError" in chapters[AFFINE].error


# ----------------------------------------------------------------------------- one batch

QUESTIONS = ("affine_forward", "relu_forward")
FULL = {q: QUESTION_POINTS[q] for q in QUESTIONS}
ONLY_RELU = {"affine_forward": 0, "relu_forward": QUESTION_POINTS["relu_forward"]}
NOTHING = {q: 0 for q in QUESTIONS}
# Student ids a spreadsheet would run as formulas.
FORMULA_IDS = ("=HYPERLINK(\"evil.example\",\"click\")", "+1+2", "-3+4", "@SUM(A1)")


def _bad_batch(root):
    """Write the batch; return {student: expected points}."""
    expected = {}
    only = {stem: None for stem in CHAPTERS if stem not in (AFFINE, "02_relu")}
    write_submission(root, "good", only)
    expected["good"] = FULL
    for name, (build, _) in UNREADABLE_NOTEBOOKS.items():
        write_submission(root, f"notebook--{name}", {**only, AFFINE: build()})
        expected[f"notebook--{name}"] = ONLY_RELU
    for name, (build, readable, _) in ZIPS.items():
        (root / f"zip--{name}.zip").write_bytes(build())
        expected[f"zip--{name}"] = {"affine_forward": FULL["affine_forward"] * (AFFINE in readable),
                                    "relu_forward": FULL["relu_forward"] * ("02_relu" in readable)}
    for name, (change, _) in FOLDERS.items():
        folder = write_submission(root, f"folder--{name}", only)
        change(folder / f"{AFFINE}.ipynb")
        expected[f"folder--{name}"] = ONLY_RELU
    for name in ("vanishes", "denied", "explodes"):
        write_submission(root, f"file--{name}", only)
        expected[f"file--{name}"] = NOTHING if name == "explodes" else ONLY_RELU
    for student in FORMULA_IDS:
        write_submission(root, student, only)
        expected[student] = FULL
    undecodable = os.fsdecode(b"student-\xff\xfe")
    write_submission(root, undecodable, only)
    expected[undecodable] = FULL
    return expected


@pytest.fixture(scope="module")
def batch(sandbox, tmp_path_factory):
    root, out = tmp_path_factory.mktemp("bad-files"), tmp_path_factory.mktemp("out")
    expected = _bad_batch(root)
    real_read, real_folder = submissions._read_capped, submissions._read_folder

    def read(path, limit):
        if path.parent.name == "file--vanishes" and path.name == f"{AFFINE}.ipynb":
            path.unlink()
        if path.parent.name == "file--denied" and path.name == f"{AFFINE}.ipynb":
            raise PermissionError(13, "Permission denied")
        return real_read(path, limit)

    def read_folder(submission):
        if submission.student == "file--explodes":
            raise RecursionError("maximum recursion depth exceeded")
        return real_folder(submission)

    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(submissions, "_read_capped", read)
        patch.setattr(submissions, "_read_folder", read_folder)
        points, outcome = grade_folder(root, out, sandbox, questions=QUESTIONS, timeout=20)
    return expected, points, outcome, out


def test_every_student_gets_the_points_the_readable_files_earn(batch):
    expected, points, _, _ = batch
    assert {s: points.get(s) for s in expected if points.get(s) != expected[s]} == {}
    assert set(points) == set(expected)


def test_every_student_gets_a_row_and_a_feedback_page(batch):
    expected, _, _, out = batch
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student", *QUESTIONS, "total"] and len(rows) == len(expected) + 1
    document = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    assert set(document["grades"]) == set(expected)
    from autograder.reports.results import feedback_names

    names = feedback_names(expected)  # a formula or odd id gets a plain file name
    assert len(set(names.values())) == len(expected)
    for student, name in names.items():
        for suffix in (".md", ".html"):
            assert (out / "feedback" / (name + suffix)).is_file(), student


def test_every_fault_is_explained_in_the_feedback(batch):
    _, _, outcome, out = batch

    def notes(student):
        return " ".join(outcome.grades[student]["notes"])

    for name, (_, words) in UNREADABLE_NOTEBOOKS.items():
        assert words in notes(f"notebook--{name}"), name
    for name, (_, _, words) in ZIPS.items():
        assert words is None or words in notes(f"zip--{name}"), name
    for name, (_, words) in FOLDERS.items():
        assert words in notes(f"folder--{name}"), name
    assert "No such file" in notes("file--vanishes")
    assert "Permission denied" in notes("file--denied")
    assert "RecursionError" in notes("file--explodes")
    page = (out / "feedback" / "notebook--json_nested_200000_deep.md").read_text()
    assert "nested more deeply" in page


def test_student_ids_never_become_spreadsheet_formulas(batch):
    _, _, _, out = batch
    with open(out / "grades.csv", encoding="utf-8", newline="") as f:
        ids = [row[0] for row in csv.reader(f)][1:]
    for student in FORMULA_IDS:
        assert "'" + student in ids
    assert not any(cell.startswith(("=", "+", "-", "@")) for cell in ids)
    # grades.json is data, not a spreadsheet: it keeps the ids as they are
    document = json.loads((out / "grades.json").read_text(encoding="utf-8"))
    assert set(FORMULA_IDS) <= set(document["grades"])
