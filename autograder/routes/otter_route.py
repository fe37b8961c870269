"""What the otter-grader bundle's test files call (autograder/dist/otter/*.zip).

otter executes `grade_two_layer_net.py` as the submission; it calls `load_submission`,
which grades the student's chapter notebooks and best_model.npz once, through the
sandboxed engine of `python -m autograder` (autograder.routes.lms_grading): student code
runs only in sandboxed workers, never in otter's kernel. The plain-data result is left in the
global `fcnet_submission`. Each test case of `tests/<qid>.py` is then one call that
reports its check from that result:

    hidden_check(fcnet_submission, "affine_forward", "values_2d")

The first hidden_check of a question sets the otter test file's score to exactly the
points `python -m autograder` gives: otter's test cases are pass/fail, so a check worth a
fraction (an inline answer, best_model's accuracy) and the rounding of the question's
points could not be expressed otherwise. Each case then passes or fails as its check
did, with the check's message and hint.

Only a result `load_submission` made in this process counts: it is sealed with a key drawn
at run time (HMAC-SHA256 of its JSON), and a question's score is clamped to its points. So
an uploaded notebook that otter executes instead of the driver, and that builds its own
GradedSubmission, earns nothing. This is depth only (code in otter's kernel can reach the
key); the defence is that otter never executes an upload: `run_autograder` moves every
upload aside on Gradescope, and `python -m autograder.routes.otter_route run` does the
same before `otter run` (see `stage_upload`).
"""
import hashlib
import hmac
import inspect
import json
import math
import os
import secrets
import stat
import sys
import tempfile
import zipfile
from pathlib import Path, PurePosixPath

from . import lms_grading

# The bundle's own top-level entries in otter's submission folder (not the student's;
# the driver checks that they are the bundle's before importing anything from them).
BUNDLE_ENTRIES = ("fcnet", "answer_key", "autograder", "tests", "__init__.py",
                  "grade_two_layer_net.py", "__pycache__")
# Where the driver moves uploaded modules that could stand in for real ones.
SET_ASIDE = "set_aside_by_grader"
# What must stay unreadable to a worker that runs as an unprivileged user.
PROTECTED = ("answer_key", "autograder", "tests")


# Drawn when the driver first imports this module, in the grading run; never stored.
_RUN_KEY = secrets.token_bytes(32)
# The folder `stage_upload` puts an upload in, inside the submission otter unpacks.
STAGED_FOLDER = "upload"


class GradedSubmission(dict):
    """The plain-data result of grading one submission (see lms_grading.grade_submission)."""


def _seal(graded):
    text = json.dumps(graded, sort_keys=True, default=repr).encode()
    return hmac.new(_RUN_KEY, text, hashlib.sha256).hexdigest()


def protect(folder):
    """As root (Gradescope), make the answer key, the grader and the tests readable by
    root only, so that a worker running as another user cannot read them."""
    if os.geteuid() != 0:
        return
    for name in PROTECTED:
        top = Path(folder) / name
        if not top.exists() or top.is_symlink():
            continue
        for path in [top, *top.rglob("*")]:
            if not path.is_symlink():
                os.chown(path, 0, 0)
                os.chmod(path, path.stat().st_mode & 0o700)


def _protected(folder):
    """The bundle's protected folders, here and in the unpacked bundle (../source)."""
    here = Path(folder).resolve()
    source = here.parent / "source"
    return [*(here / name for name in PROTECTED), source / "files" / "answer_key",
            source / "files" / "autograder", source / "tests"]


def load_submission(folder="."):
    """Grade the submission below `folder` (called once, by the driver otter executes).

    Prints the isolation used as its first line, then what was graded.
    """
    protect(folder)
    staging = upload_report(folder)
    if staging["refused"]:
        graded = lms_grading.refused_submission("submission", staging["refused"])
        _announce(graded["sandbox"])
    else:
        graded = lms_grading.grade_submission(folder, skip=BUNDLE_ENTRIES, announce=_announce,
                                             protected=_protected(folder))
        graded["notes"] += staging["notes"]
    for note in graded["notes"]:
        print(f"note: {note}")
    for problem in graded["internal_errors"]:
        print(f"warning: {problem}")
    print(f"graded: {lms_grading.total(graded):g} points")
    result = GradedSubmission(graded)
    result.seal = _seal(graded)
    return result


def _announce(line):
    """The sandbox line, in the notebook otter executes and on the grading log."""
    print(line, flush=True)
    stream = getattr(sys, "__stdout__", None)
    if stream is not None and stream is not sys.stdout:
        try:
            stream.write(line + "\n")
            stream.flush()
        except (OSError, ValueError):
            pass


def _require(graded):
    if not isinstance(graded, GradedSubmission):
        raise AssertionError("no submission was graded: otter must execute "
                             "grade_two_layer_net.py, which defines fcnet_submission")
    if not hmac.compare_digest(str(getattr(graded, "seal", "")), _seal(dict(graded))):
        raise AssertionError("the result was not made by this grading run's driver "
                             "(grade_two_layer_net.py); nothing is scored")
    return graded


def _clamped(qid, points):
    """`points` within [0, the question's points]; anything not a finite number is 0."""
    from ..points import QUESTION_POINTS

    try:
        points = float(points)
    except (TypeError, ValueError):
        return 0.0
    if not math.isfinite(points):
        return 0.0
    return min(max(points, 0.0), float(QUESTION_POINTS.get(qid, 0.0)))


def _set_question_score(qid, points):
    """Set the score of the otter test file `qid` that is running this call (otter's own
    TestFile.update_score; the file object is the `self` of the frame running the case)."""
    from otter.test_files.abstract_test import TestFile

    frame = inspect.currentframe()
    while frame is not None:
        candidate = frame.f_locals.get("self")
        if isinstance(candidate, TestFile) and candidate.name == qid:
            candidate.update_score(points)
            return True
        frame = frame.f_back
    return False


def hidden_check(graded, qid, name):
    """One hidden check of `qid`: pass, or raise AssertionError saying what went wrong."""
    result = _require(graded)["results"].get(qid)
    if result is None:
        raise AssertionError(f"question {qid} was not graded")
    _set_question_score(qid, _clamped(qid, result["points"]))
    check = next((c for c in result["checks"] if c["name"] == name), None)
    if check is None:
        raise AssertionError(f"question {qid} has no hidden check {name!r}; rebuild the "
                             "otter bundle (python -m course_build otter-zip)")
    if check["status"] == "passed":
        return
    from ..reports.rendering import render

    raise AssertionError(render("check.txt.j2", check=check, notes=result["notes"]).rstrip("\n"))


# ----------------------------------------------------------------------------- otter run

class UploadRefused(Exception):
    """The whole upload cannot be staged (too many entries or bytes, not a zip)."""


# Written by stage_upload at the top of the staged zip (uploads are all below
# STAGED_FOLDER, so no upload can put it there); load_submission reads it.
UPLOAD_REPORT = "fcnet_upload_report.json"


def _kept_name(name):
    """`name` as a safe relative path, or None: top-level hidden entries (otter reads
    `.OTTER_LOG` there) and names that leave the folder are dropped."""
    parts = PurePosixPath(name.replace("\\", "/")).parts
    if not parts or parts[0].startswith((".", "/")) or ".." in parts:
        return None
    return "/".join(parts)


def _upload_members(upload, notes, room=lambda: float("inf")):
    """(name, bytes) of each regular file a zip, a folder or a single file holds, one at
    a time, read with the engine's caps (autograder.submissions: entries per zip, bytes
    per file, decompressed bytes counted as they come); links are never followed. A file
    over its cap is left out with a note in `notes`; raises UploadRefused. Copies of the
    model come last, in the order the engine chooses among them (by name), and one whose
    stated size exceeds `room()` (what the upload may still stage) is left out unread."""
    upload = Path(upload)
    if upload.is_dir():
        found = [(p.relative_to(upload).as_posix(), p) for p in sorted(upload.rglob("*"))
                 if p.is_file() and not p.is_symlink()]
        yield from _files(found, notes, room)
    elif zipfile.is_zipfile(upload):
        yield from _zip_entries(upload, notes, room)
    else:
        yield from _files([(upload.name, upload)], notes, room)


def _models_last(items, name_of):
    """`items` with the copies of the model moved to the end, the engine's choice first."""
    from fcnet.chapter_files import MODEL_FILE, Candidate, choose, identify, is_model_name

    models = {id(item): identify(Candidate(name_of(item), fingerprint=id(item)))
              for item in items if is_model_name(name_of(item))}
    if not models:
        return list(items)
    choice = choose(list(models.values()), by_time=False)[MODEL_FILE]
    order = {c.fingerprint: rank for rank, c in enumerate([choice.chosen, *choice.others])}
    return [i for i in items if id(i) not in models] + \
        sorted((i for i in items if id(i) in models), key=lambda i: order[id(i)])


def _no_room(name, size, room, notes):
    """True (with a note) for a copy of the model that the upload has no room left for."""
    from fcnet.chapter_files import is_model_name

    if is_model_name(name) and size > room():
        if not any(note.startswith(_NO_ROOM) for note in notes):
            notes.append(f"{_NO_ROOM} from {name} on: the copies before them fill what one "
                         f"upload may hold (the first, chosen by name, is graded)")
        return True
    return False


_NO_ROOM = "some copies of the model were not staged"


def _files(found, notes, room):
    from ..submissions import MAX_ZIP_MEMBERS, _limit, _read_capped

    if len(found) > MAX_ZIP_MEMBERS:
        raise UploadRefused(f"the upload holds {len(found)} files, more than "
                            f"{MAX_ZIP_MEMBERS}")
    for name, path in _models_last(found, lambda item: item[0]):
        if _kept_name(name) is None:
            continue
        try:
            if _no_room(name, path.stat().st_size, room, notes):
                continue
        except OSError:
            pass  # reading it says why
        try:
            data = _read_capped(path, _limit(path.name))
        except OSError as err:
            notes.append(f"{name} could not be read ({err.strerror or err}) and was ignored")
            continue
        if data is None:
            notes.append(f"{name} is larger than {_limit(path.name) // 2 ** 20} MB and was "
                         f"ignored")
            continue
        yield _kept_name(name), data


def _zip_entries(upload, notes, room):
    from ..notebook_reading import describe_error
    from ..submissions import MAX_ZIP_MEMBERS, Submission, _read_member

    reader = Submission("upload", upload)  # _read_member's notes go here
    try:
        archive = zipfile.ZipFile(upload)
    except Exception as err:  # a damaged directory, a name that is not valid UTF-8...
        raise UploadRefused(f"the zip could not be read ({describe_error(err)})") from None
    with archive:
        if len(archive.infolist()) > MAX_ZIP_MEMBERS:
            raise UploadRefused(f"the zip holds {len(archive.infolist())} entries, more "
                                f"than {MAX_ZIP_MEMBERS}")
        for info in _models_last(archive.infolist(), lambda item: item.filename):
            name = _kept_name(info.filename)
            if name is None or info.is_dir() or stat.S_ISLNK(info.external_attr >> 16):
                continue
            if _no_room(name, info.file_size, room, notes):
                continue
            data = _read_member(reader, archive, name, info)
            notes.extend(reader.notes)
            reader.notes.clear()
            if data is not None:
                yield name, data


def stage_upload(upload, target):
    """Write the zip `otter run` should grade for `upload`: its files inside one folder
    (STAGED_FOLDER), top-level hidden files dropped, and UPLOAD_REPORT at the top. otter
    then finds only the bundle's driver at the top of the submission folder and no
    `.OTTER_LOG` to unpickle. Files are read and written one at a time, within the
    engine's caps; copies of the model come last, the engine's choice first, and those
    that no longer fit are left out with a note; any other upload over the caps is
    refused as a whole: nothing of it is staged, and the report says why (the student
    then scores zero, with that note). Returns {"refused": why or None, "notes": [...]}."""
    from fcnet.chapter_files import is_model_name

    from ..submissions import MAX_ZIP_BYTES

    report, total = {"refused": None, "notes": []}, 0
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as staged:
        try:
            for name, data in _upload_members(upload, report["notes"],
                                              lambda: MAX_ZIP_BYTES - total):
                if is_model_name(name) and _no_room(name, len(data),
                                                    lambda: MAX_ZIP_BYTES - total,
                                                    report["notes"]):
                    continue  # its stated size was false
                total += len(data)
                if total > MAX_ZIP_BYTES:
                    raise UploadRefused(f"its files hold more than "
                                        f"{MAX_ZIP_BYTES // 2 ** 20} MB in all")
                staged.writestr(f"{STAGED_FOLDER}/{name}", data)
        except UploadRefused as err:
            report["refused"] = f"the upload was not graded: {err}"
    if report["refused"]:  # start again: nothing of a refused upload is staged
        with zipfile.ZipFile(target, "w") as staged:
            staged.writestr(UPLOAD_REPORT, json.dumps(report))
    else:
        with zipfile.ZipFile(target, "a") as staged:
            staged.writestr(UPLOAD_REPORT, json.dumps(report))
    return report


def upload_report(folder):
    """What stage_upload said about the upload in `folder` ({"refused", "notes"})."""
    path = Path(folder) / UPLOAD_REPORT
    empty = {"refused": None, "notes": []}
    if path.is_symlink() or not path.is_file() or path.stat().st_size > 2 ** 20:
        return empty
    try:
        report = json.loads(path.read_text(encoding="utf-8"))
        return {"refused": report.get("refused") and str(report["refused"]),
                "notes": [str(n) for n in report.get("notes") or []][:50]}
    except (OSError, ValueError, AttributeError, TypeError):
        return empty


def run(upload, bundle, out):
    """`otter run` on `upload`, staged first; writes `out`/results.json."""
    from otter.run import main as otter_run

    Path(out).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fcnet_otter_") as tmp:
        staged = Path(tmp) / "submission.zip"
        report = stage_upload(upload, staged)
        for note in [report["refused"], *report["notes"]]:
            if note:
                print(f"upload: {note}")
        otter_run(str(staged), autograder=str(bundle), output_dir=str(out), no_logo=True)


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m autograder.routes.otter_route",
        description="Grade one upload with the otter bundle, safely: the upload is put "
                    "in a folder of its own (hidden top-level files dropped) before otter "
                    "sees it, as run_autograder does on Gradescope.")
    sub = parser.add_subparsers(dest="command", required=True)
    grade = sub.add_parser("run", help="otter run on one upload (zip, folder or file)")
    grade.add_argument("upload", type=Path)
    grade.add_argument("-a", "--autograder", type=Path, required=True,
                       help="the bundle (autograder/dist/otter/two_layer_net-autograder.zip)")
    grade.add_argument("-o", "--output-dir", type=Path, default=Path("."),
                       help="where results.json goes (default: here)")
    args = parser.parse_args(argv)
    if not args.upload.exists():
        parser.error(f"{args.upload}: no such file or folder")
    if not zipfile.is_zipfile(args.autograder):
        parser.error(f"{args.autograder}: not an otter bundle (zip)")
    run(args.upload, args.autograder, args.output_dir)
    print(f"results: {args.output_dir / 'results.json'}")


if __name__ == "__main__":
    main()
