"""What the otter-grader bundle's test files call (autograder/dist/otter/*.zip).

otter executes `grade_two_layer_net.py` as the submission; it calls `load_submission`,
which grades the student's chapter notebooks and best_model.npz once, through the
sandboxed engine of `python -m autograder` (autograder.lms_bridge): student code runs
only in sandboxed workers, never in otter's kernel. The plain-data result is left in the
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
upload aside on Gradescope, and `python -m autograder.otter_bridge run` does the same
before `otter run` (see `stage_upload`).
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

from . import lms_bridge

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
    """The plain-data result of grading one submission (see lms_bridge.grade_submission)."""


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
    graded = lms_bridge.grade_submission(folder, skip=BUNDLE_ENTRIES, announce=_announce,
                                         protected=_protected(folder))
    for note in graded["notes"]:
        print(f"note: {note}")
    for problem in graded["internal_errors"]:
        print(f"warning: {problem}")
    print(f"graded: {lms_bridge.total(graded):g} points")
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
    from .points import QUESTION_POINTS

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
    text = f"{check['status']}: {check['message']}" if check["message"] else check["status"]
    if check["status"] == "partial":
        text += f" ({check['fraction']:.0%} of this check's points)"
    if check["hint"]:
        text += f"\nHint: {check['hint']}"
    if result["notes"]:
        text += "\n" + "\n".join(f"Note: {n}" for n in result["notes"])
    raise AssertionError(text)


# ----------------------------------------------------------------------------- otter run

def _upload_members(upload):
    """(name in the upload, bytes) of every regular file a zip, a folder or a single file
    holds, without top-level hidden entries (otter reads `.OTTER_LOG` there), links, or
    names that leave the folder."""
    upload = Path(upload)
    if upload.is_dir():
        found = [(p.relative_to(upload).as_posix(), p) for p in sorted(upload.rglob("*"))
                 if p.is_file() and not p.is_symlink()]
        items = [(name, path.read_bytes) for name, path in found]
    elif zipfile.is_zipfile(upload):
        with zipfile.ZipFile(upload) as archive:
            wanted = [info for info in archive.infolist() if not info.is_dir()
                      and not stat.S_ISLNK(info.external_attr >> 16)]
            data = {info.filename: archive.read(info) for info in wanted}
        items = [(name, lambda name=name: data[name]) for name in data]
    else:
        items = [(upload.name, upload.read_bytes)]
    for name, read in items:
        parts = PurePosixPath(name.replace("\\", "/")).parts
        if not parts or parts[0].startswith((".", "/")) or ".." in parts:
            continue
        yield "/".join(parts), read()


def stage_upload(upload, target):
    """Write the zip `otter run` should grade for `upload`: its files inside one folder
    (STAGED_FOLDER), top-level hidden files dropped. otter then finds only the bundle's
    driver at the top of the submission folder and no `.OTTER_LOG` to unpickle."""
    with zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED) as staged:
        for name, data in _upload_members(upload):
            staged.writestr(f"{STAGED_FOLDER}/{name}", data)
    return target


def run(upload, bundle, out):
    """`otter run` on `upload`, staged first; writes `out`/results.json."""
    from otter.run import main as otter_run

    Path(out).mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="fcnet_otter_") as tmp:
        staged = stage_upload(upload, Path(tmp) / "submission.zip")
        otter_run(str(staged), autograder=str(bundle), output_dir=str(out), no_logo=True)


def main(argv=None):
    import argparse

    parser = argparse.ArgumentParser(
        prog="python -m autograder.otter_bridge",
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
