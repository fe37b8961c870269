"""Grading one submission for the otter and nbgrader routes, through the sandboxed engine.

otter-grader and nbgrader run their test code in a process that also holds the answer key
and the hidden checks. No student definition may run there. So both routes grade the
whole submission once with `autograder.engine.grade`, the engine of `python -m
autograder`: every question's student code runs in a sandboxed worker process, which
cannot read `answer_key`, `autograder` or the hidden checks, and only plain data comes
back; the grading process judges it. The result is kept as plain data (`as_json`), and
each otter test case or nbgrader test cell only reports its question from it:

    graded = grade_submission(folder)            # runs the engine once
    graded["sandbox"]                            # the isolation used (print it first)
    graded["results"]["affine_forward"]          # {"points", "max_points", "checks", "notes"}

The per-question time limit is the engine's: a worker that runs longer is killed (a bare
`except:` around an endless loop included). It is autograder.points.DEFAULT_TIMEOUT, or
the environment variable FCNET_GRADING_TIMEOUT (seconds), the counterpart of
`python -m autograder --timeout`.
"""
import json
import os
import shutil
import stat
import tempfile
from pathlib import Path

from fcnet.chapters import QUESTION_IDS

from ..points import DEFAULT_TIMEOUT
from fcnet.chapter_files import MODEL_FILE, is_model_name

from ..submissions import MAX_DEPTH, MAX_MODEL_BYTES, MAX_NOTEBOOK_BYTES, MAX_STUDENT_BYTES

# Files of a submission the engine can use: notebooks and the model, nothing else.
_STAGED_SUFFIXES = {".ipynb": MAX_NOTEBOOK_BYTES, ".npz": MAX_MODEL_BYTES}


def default_timeout():
    """Seconds per question: $FCNET_GRADING_TIMEOUT, else autograder.points.DEFAULT_TIMEOUT."""
    value = os.environ.get("FCNET_GRADING_TIMEOUT")
    return float(value) if value else float(DEFAULT_TIMEOUT)


# The routes' counterpart of `python -m autograder --no-sandbox` (refused as root).
NO_SANDBOX_ENV = "FCNET_NO_SANDBOX"
# Files a worker's uid may not read are listed up to this many (the course folder's).
MAX_PROTECTED_FILES = 50000


def open_route_sandbox(protected=()):
    """The isolation both routes grade in: the one place that chooses it.

    bubblewrap where it works (the worker sees nothing of the grader's files). Else, as
    root, the unprivileged-user isolation, only once a process of the worker's uid has
    been shown unable to read the answer key, the grader with its hidden checks, the
    solution notebooks and `protected` (the nbgrader course: other students' work and
    the gradebook; the otter bundle's tests). Else only on explicit request
    ($FCNET_NO_SANDBOX=1, never as root): student code as the instructor's own user.
    Otherwise SandboxUnavailable says what to do. Its `.description` is the first line
    of each route's output.
    """
    from ..sandbox import SandboxUnavailable, open_sandbox
    from ..sandbox import INSTALL_HINT

    try:
        return open_sandbox("bubblewrap")
    except SandboxUnavailable as err:
        why = str(err).split(";")[0]
    if os.geteuid() == 0:
        try:
            sandbox = open_sandbox("unprivileged-user")
        except SandboxUnavailable as err:  # say both reasons: the first is the one to fix
            raise SandboxUnavailable(f"{why}; and the fallback without bubblewrap cannot "
                                     f"start either: {err}") from None
        try:
            _refuse_if_readable(sandbox, protected)
        except BaseException:
            sandbox.close()
            raise
        sandbox.description += (f" [no bubblewrap: {why}; checked: the worker's user "
                                f"cannot read the answer key, the grader or the course's "
                                f"files]")
        return sandbox
    if os.environ.get(NO_SANDBOX_ENV) == "1":
        return open_sandbox("process")  # its first line is a WARNING
    raise SandboxUnavailable(
        f"{why}; the otter and nbgrader routes run student code only inside bubblewrap, "
        f"or, as root, as an unprivileged user who cannot read the grader's files. "
        f"{INSTALL_HINT.split(', or pass')[0]}; or grade as root; or set "
        f"{NO_SANDBOX_ENV}=1 to run student code as yourself, without isolation "
        f"(trusted code only)")


def protected_paths(extra=()):
    """What a worker must never read: the answer key and the grader (with its hidden
    checks) as imported here, the solution notebooks beside the answer key, and `extra`."""
    import importlib.util

    found = []
    for name in ("answer_key", "autograder"):
        spec = importlib.util.find_spec(name)
        for location in (spec and spec.submodule_search_locations) or ():
            found.append(Path(location))
            if name == "answer_key" and (Path(location).parent / "notebooks").is_dir():
                found.append(Path(location).parent / "notebooks")
    return [*found, *(Path(p) for p in extra)]


def _refuse_if_readable(sandbox, extra):
    """Raise SandboxUnavailable when the worker's uid can read a protected file."""
    from ..sandbox import SandboxUnavailable
    from ..sandbox.host import WORKER_UIDS

    tops = [p for p in protected_paths(extra) if p.exists()]
    readable = sandbox.readable_files(_files_below(tops)[:MAX_PROTECTED_FILES])
    if not readable:
        return
    exposed = sorted({str(t) for t in tops for r in map(Path, readable)
                      if r == t or t in r.parents})
    raise SandboxUnavailable(
        f"bubblewrap is not available, and the unprivileged user that would run student "
        f"code (uid {WORKER_UIDS[0]}) can read {len(readable)} files it must not, e.g. "
        f"{readable[0]}. Make them readable by root only: chmod -R go-rwx "
        f"{' '.join(exposed)} (a worker needs only the Python runtime, numpy, fcnet and "
        f"tqdm); or install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`)")


def _files_below(tops):
    """The regular files in `tops` (files or folders), links not followed."""
    files = []
    for top in tops:
        if not top.is_dir():
            files.append(str(top))
            continue
        for folder, _, names in os.walk(top):
            files += [os.path.join(folder, n) for n in names
                      if not os.path.islink(os.path.join(folder, n))]
            if len(files) > MAX_PROTECTED_FILES:
                return files
    return files


def stage_submission(folder, dest, skip=()):
    """Copy the notebooks and model files below `folder` into `dest` (a fresh folder).

    Only regular files with those suffixes, up to the engine's search depth and size
    limits; symbolic links, hidden folders and the top-level names in `skip` (the
    route's own packages) are left out. The notebooks come first, then the copies of the
    model in the order the engine would choose them (fcnet.chapter_files), until
    MAX_STUDENT_BYTES are staged: sixty copies of a large model are not all copied. The
    engine then reads `dest` as it reads any student's folder. Returns the number of
    files copied.
    """
    folder, dest = Path(folder), Path(dest)
    dest.mkdir(parents=True)
    copied, total = 0, 0
    for source, target, size in _staged_files(folder, dest, skip):
        total += size
        if total > MAX_STUDENT_BYTES:
            break
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target, follow_symlinks=False)
        copied += 1
    return copied


def _staged_files(folder, dest, skip):
    """[(source, target, size)] of the files stage_submission copies, in its order."""
    from fcnet.chapter_files import Candidate, choose, identify

    notebooks, models, rows, stack = [], [], {}, [(folder, dest, 0)]
    while stack:
        source, target, depth = stack.pop()
        try:
            entries = sorted(os.scandir(source), key=lambda e: e.name)
        except OSError:
            continue  # the engine notes what it cannot read; nothing to copy here
        for entry in entries:
            if entry.name.startswith(".") or entry.name == "__MACOSX" or \
                    (depth == 0 and entry.name in skip) or entry.is_symlink():
                continue
            if entry.is_dir(follow_symlinks=False):
                if depth <= MAX_DEPTH:
                    stack.append((Path(entry.path), target / entry.name, depth + 1))
                continue
            limit = _STAGED_SUFFIXES.get(Path(entry.name).suffix.lower())
            info = entry.stat(follow_symlinks=False)
            if limit is None or not stat.S_ISREG(info.st_mode) or info.st_size > limit:
                continue
            row = (entry.path, target / entry.name, info.st_size)
            if is_model_name(entry.name):  # chosen by name, as the engine does, unread
                model = identify(Candidate(Path(entry.path).relative_to(folder).as_posix(),
                                           0, depth, fingerprint=entry.path))
                models.append(model)
                rows[id(model)] = row
            elif entry.name.lower().endswith(".ipynb"):
                notebooks.append(row)
    if models:
        choice = choose(models, by_time=False)[MODEL_FILE]
        models = [rows[id(c)] for c in [choice.chosen, *choice.others]]
    return notebooks + models


def grade_submission(folder, student="submission", sandbox=None, timeout=None,
                     questions=QUESTION_IDS, skip=(), announce=print, protected=()):
    """Grade the submission below `folder` with the sandboxed engine; return plain data.

    `sandbox`: an open sandbox to use (the caller closes it), else one is opened with
    `open_route_sandbox(protected)` and closed here. `announce` gets its description first.
    Returns `as_json` of the engine's outcome for this one student.
    """
    from .. import engine

    timeout = default_timeout() if timeout is None else float(timeout)
    questions, no_data = _with_data(questions)
    own = sandbox is None
    sandbox = open_route_sandbox(protected) if own else sandbox
    try:
        with tempfile.TemporaryDirectory(prefix="fcnet-route-") as work:
            submissions = Path(work) / "submissions"
            submissions.mkdir()
            stage_submission(folder, submissions / student, skip)
            settings = engine.Settings(workers=1, timeout=timeout, questions=tuple(questions),
                                       sandbox=sandbox, progress=False)
            outcome = engine.grade(submissions, Path(work) / "out", settings,
                                   announce=announce)
    finally:
        if own:
            sandbox.close()
    graded = as_json(outcome, student)
    for qid, result in no_data.items():
        graded["results"][qid] = result
        graded["internal_errors"].append(f"{qid}: {result['notes'][0]}")
    graded["results"] = {q: graded["results"][q] for q in QUESTION_IDS if q in graded["results"]}
    return graded


def refused_submission(student, why, questions=QUESTION_IDS):
    """The plain data of a submission that is not graded at all (`why` says so): every
    question zero, with `why` as its note; the same shape as grade_submission's."""
    results = {q: _not_graded(q, why, "refused") for q in QUESTION_IDS if q in questions}
    return {"sandbox": "isolation: none: this submission was refused before grading",
            "student": student, "notes": [why], "internal_errors": [], "results": results}


def _not_graded(qid, why, cause="machine"):
    """Zero for every check of `qid`: the machine failed (crashed), or the submission was
    refused (not answered: nothing that could be graded was handed in)."""
    from ..hidden_checks import checks_for
    from ..scoring import CRASHED, NOT_DONE, failed_outcome, score_question

    status, message = (NOT_DONE, "not graded (see the note)") if cause == "refused" \
        else (CRASHED, why)
    return score_question(qid, [failed_outcome(c, status, message) for c in checks_for(qid)],
                          [why]).as_dict()


def _with_data(questions):
    """(the questions that can be graded here, {qid: result} for those that cannot).

    training and best_model need CIFAR-10; without it they are reported as not graded (a
    problem of the grading machine, said so), and every other question is still graded.
    """
    from .. import data

    from fcnet.questions import questions_where

    needing = questions_where("needs_cifar", questions)
    if not needing:
        return tuple(questions), {}
    try:
        data.ensure_available()
        return tuple(questions), {}
    except data.DataUnavailable as err:
        why = f"not graded: the grading machine could not load CIFAR-10 ({err})"
    results = {q: _not_graded(q, why) for q in needing}
    return tuple(q for q in questions if q not in needing), results


def as_json(outcome, student):
    """One student's engine outcome as JSON-ready data (no object of the grader)."""
    entry = outcome.grades[student]
    data = {"sandbox": outcome.sandbox_line, "student": student,
            "notes": [str(n) for n in entry["notes"]],
            "internal_errors": list(outcome.internal_errors),
            "results": {qid: result.as_dict() for qid, result in entry["results"].items()}}
    return json.loads(json.dumps(data))  # proves it is plain data


def total(graded):
    return round(sum(r["points"] for r in graded["results"].values()), 2)


def report(result):
    """The lines python -m autograder's feedback gives for one question, as plain text.

    `result` is one entry of `grade_submission(...)["results"]`. Rendered from
    autograder/reports/templates/question.txt.j2.
    """
    from ..reports.rendering import render
    from ..reports.results import question_page

    return render("question.txt.j2", q=question_page(result, result.get("notes", []))
                  ).rstrip("\n")
