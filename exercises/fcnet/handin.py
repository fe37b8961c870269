"""`fcnet.submit()`: check your work and write the one file you hand in.

    import fcnet
    fcnet.submit()

It finds your six chapter notebooks (by the chapter id in their metadata, whatever their
file names: see fcnet.chapter_files) and best_model.npz, where carry-forward finds them
(fcnet.locate), and checks that each notebook parses, that its definitions load and how
its public checks do, and that the model file is a valid two-layer network. It prints a
table, then writes `two_layer_net_submission.zip`:

    two_layer_net/01_affine_layer.ipynb ... two_layer_net/06_tuning.ipynb
    two_layer_net/best_model.npz

the course's file names inside one folder, which `python -m autograder`, the otter bundle
(Gradescope) and the nbgrader course all accept. On Colab it then offers the zip for
download. Your files are only read, never changed; a missing piece is a warning.
"""
import contextlib
import importlib
import io
import os
import signal
import tempfile
import threading
import zipfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import locate
from .chapter_files import ASSIGNMENT, MODEL_FILE
from .chapters import CHAPTERS

SUBMISSION_ZIP = f"{ASSIGNMENT}_submission.zip"
FOLDER_IN_ZIP = ASSIGNMENT
CHECK_SECONDS = 60          # per chapter: a function that never returns cannot hang submit()
INPUT_DIM, NUM_CLASSES = 3 * 32 * 32, 10


@dataclass
class Row:
    """One line of the table: a chapter (or the model) and what was found."""
    what: str
    file: str = "-"
    checks: str = "-"
    missing: list = field(default_factory=list)
    data: bytes = None


class _TimeUp(BaseException):
    pass


@contextlib.contextmanager
def _time_limit(seconds):
    """Interrupt the block after `seconds` (main thread with SIGALRM only; else no limit)."""
    usable = hasattr(signal, "SIGALRM") and threading.current_thread() is threading.main_thread()
    if not usable:
        yield
        return

    def _stop(signum, frame):
        raise _TimeUp()

    previous = signal.signal(signal.SIGALRM, _stop)
    signal.setitimer(signal.ITIMER_REAL, seconds)
    try:
        yield
    finally:
        signal.setitimer(signal.ITIMER_REAL, 0)
        signal.signal(signal.SIGALRM, previous)


def _public_checks(stem, namespace):
    """(passed, failed, not done) counts and the question ids still to do."""
    from .public_checks import checks_for, run_check
    from .questions import questions_where

    passed, failed, todo = 0, [], []
    # A question judged on CIFAR-10 is checked on what a training run leaves in the
    # notebook, which submit() cannot run (the model file is checked on its own).
    trained = questions_where("needs_cifar")
    for qid in (q for q in CHAPTERS[stem] if q not in trained):
        for check in checks_for(qid):
            result = run_check(check, namespace)
            if result.passed:
                passed += 1
            elif result.status == "not implemented":
                todo.append(qid)
            elif result.status == "blocked":  # another question's code fails first
                continue
            else:
                failed.append(qid)
    return passed, failed, todo


def _find_and_read(row, what, missing_words):
    """Find `what` (a chapter stem or the model file) and read it into `row.data`.

    Returns (path, "") or, when it is missing or cannot be read, (None, a warning); a
    missing piece is a warning in the table, never a crash.
    """
    path, choice = locate.best(what)
    if path is None:
        row.missing.append(missing_words)
        return None, locate.missing_message(what, choice)
    row.file = str(path)
    try:
        row.data = path.read_bytes()
    except OSError as err:  # permission denied, vanished from Drive...
        row.checks = "does not open"
        return None, f"{path}: {err}"
    return path, ""


def check_chapter(stem):
    """The Row of chapter `stem`: which file, does it load, how its public checks do."""
    from .notebook_import import load_definitions, read_notebook

    row = Row(stem)
    path, warning = _find_and_read(row, stem, "notebook not found")
    if path is None:
        return row, warning
    try:
        read_notebook(path)
    except (OSError, ValueError) as err:
        row.checks = "does not open"
        return row, f"{path}: {err}"
    try:
        with _time_limit(CHECK_SECONDS), contextlib.redirect_stdout(io.StringIO()):
            module = load_definitions(path)
            passed, failed, todo = _public_checks(stem, module.__dict__)
    except _TimeUp:
        row.checks = f"stopped after {CHECK_SECONDS} s"
        return row, f"{path.name}: checking took longer than {CHECK_SECONDS} s (a loop " \
                    f"that never ends?)"
    except Exception as err:  # the student's definitions fail to load
        row.checks = "definitions do not load"
        return row, f"{path.name}: its definitions do not load ({type(err).__name__}: {err})"
    row.checks = f"{passed} passed" + (f", {len(failed)} failed" if failed else "")
    row.missing += [f"{q} not done" for q in dict.fromkeys(todo)]
    row.missing += [f"{q} fails" for q in dict.fromkeys(failed)]
    return row, ""


def model_problem(data):
    """Why `data` is not a valid best_model.npz ("" when it is)."""
    try:
        with np.load(io.BytesIO(data), allow_pickle=False) as npz:
            params = {k: npz[k] for k in npz.files}
    except Exception as err:  # not a zip, truncated, pickled objects...
        return f"it is not a readable .npz file ({type(err).__name__})"
    missing = [k for k in ("W1", "b1", "W2", "b2") if k not in params]
    if missing:
        return f"it has no {', '.join(missing)} (save it with np.savez(W1=..., b1=..., ...))"
    W1, b1, W2, b2 = (params[k] for k in ("W1", "b1", "W2", "b2"))
    hidden = W1.shape[1] if W1.ndim == 2 else -1
    expected = {"W1": (INPUT_DIM, hidden), "b1": (hidden,), "W2": (hidden, NUM_CLASSES),
                "b2": (NUM_CLASSES,)}
    for key, shape in expected.items():
        if params[key].shape != shape or hidden < 1:
            return f"{key} has shape {params[key].shape}, expected {shape}"
        if not np.issubdtype(params[key].dtype, np.floating) or \
                not np.all(np.isfinite(params[key])):
            return f"{key} is not a finite floating-point array"
    return ""


def check_model():
    row = Row(MODEL_FILE)
    path, warning = _find_and_read(row, MODEL_FILE, "not found")
    if path is None:
        return row, warning
    problem = model_problem(row.data)
    if problem:
        row.checks = "invalid"
        return row, f"{path}: {problem}"
    with np.load(io.BytesIO(row.data)) as npz:
        row.checks = f"valid ({npz['W1'].shape[1]} hidden units)"
    return row, ""


def table(rows):
    """The rows as a plain-text table."""
    head = ("chapter", "file used", "public checks", "missing")
    cells = [head] + [(r.what, r.file, r.checks, ", ".join(r.missing) or "-") for r in rows]
    widths = [max(len(c[i]) for c in cells) for i in range(3)]
    lines = ["  ".join(c[i].ljust(widths[i]) for i in range(3)) + "  " + c[3] for c in cells]
    lines.insert(1, "-" * max(len(line) for line in lines))
    return "\n".join(lines)


def write_zip(rows, target):
    """Write the found files under FOLDER_IN_ZIP with the course's names, atomically."""
    target = Path(target)
    handle, tmp = tempfile.mkstemp(prefix=".submission-", suffix=".zip", dir=target.parent)
    os.close(handle)
    try:
        with zipfile.ZipFile(tmp, "w", zipfile.ZIP_DEFLATED) as archive:
            for row in rows:
                if row.data is not None:
                    name = row.what if row.what == MODEL_FILE else f"{row.what}.ipynb"
                    archive.writestr(f"{FOLDER_IN_ZIP}/{name}", row.data)
        os.replace(tmp, target)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)
    return target


def submit(out=None, download=True):
    """Check your chapters and best_model.npz, print a table, write the submission zip.

    `out`: where to write it (default: `two_layer_net_submission.zip` in the working
    folder). `download`: on Colab, offer the zip for download (default True). Returns the
    zip's path, or None when it could not be written. Save your notebooks first (Ctrl+S):
    the saved files are what is checked and handed in.
    """
    rows, warnings = [], []
    for stem in CHAPTERS:
        row, warning = check_chapter(stem)
        rows.append(row)
        warnings += [warning] if warning else []
    row, warning = check_model()
    rows.append(row)
    warnings += [warning] if warning else []
    print(table(rows))
    for warning in warnings:
        print(f"\nWarning: {warning}")
    target = Path(out) if out else Path.cwd() / SUBMISSION_ZIP
    try:
        write_zip(rows, target)
    except OSError as err:
        print(f"\nWarning: could not write {target} ({err.strerror}); nothing was handed in.")
        return None
    count = sum(r.data is not None for r in rows)
    print(f"\nWrote {target}: {count} of {len(rows)} files. Hand in this one file.")
    if download and locate.on_colab():
        # Colab's own module, present only there (imported by name: no install needs it)
        files = importlib.import_module("google.colab.files")
        files.download(str(target))
        print("Your browser is downloading it (allow the download if it asks).")
    return target
