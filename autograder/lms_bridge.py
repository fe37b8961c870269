"""Grading one submission inside the grading process, for the otter and nbgrader bundles.

`python -m autograder` runs each (student, question) in a sandboxed worker. otter-grader
and nbgrader run student code in their own process instead, so their bundles call this
module, which does what the engine does for one student, with the same pieces:

- the submission is read by `autograder.submissions` (same file search, same limits, same
  definition extraction, inline answers included);
- every question gets a fresh copy of the student's chapter definitions, executed
  statement by statement with `import_notebook` served from the submission, exactly as
  in a worker (autograder.worker_runtime);
- cases, probes, decoupling, judges and points come from `autograder.grading`;
- a question that runs longer than the timeout is stopped: the checks that finished keep
  their result, the others count as crashed, as when the engine stops a worker. The
  timeout is autograder.points.DEFAULT_TIMEOUT, or the environment variable
  FCNET_GRADING_TIMEOUT (seconds), the counterpart of `python -m autograder --timeout`.

Here the student's code shares the grader's process: this route cannot resist cheating
the way the sandboxed one does (see autograder/SECURITY.md).
"""
import os
import signal
import sys
import threading
from contextlib import contextmanager
from pathlib import Path

from fcnet.chapters import CHAPTERS, chapter_of

from . import grading, hidden_checks
from .points import COURSE_SEED, DEFAULT_TIMEOUT
from .submissions import MODEL_FILE, Submission, chapters_of, read_files


def default_timeout():
    """Seconds per question: $FCNET_GRADING_TIMEOUT, else autograder.points.DEFAULT_TIMEOUT."""
    value = os.environ.get("FCNET_GRADING_TIMEOUT")
    return float(value) if value else float(DEFAULT_TIMEOUT)


class QuestionTimeout(BaseException):
    """The question ran out of time. A BaseException, so `except Exception` in student
    code does not swallow it; it is raised again every 0.1 s until grading stops."""


class Loaded:
    """One student's submission as python -m autograder reads it, plus graded questions."""

    def __init__(self, folder, student="submission"):
        self.folder = Path(folder).resolve()
        self.submission = read_files(Submission(student, self.folder))
        self.chapters = chapters_of(self.submission)
        self.results = {}

    def summary(self):
        """A few lines on what was found: chapters, the model file, notes."""
        found = [stem for stem in CHAPTERS if f"{stem}.ipynb" in self.submission.files]
        lines = [f"chapter notebooks found: {', '.join(found) or 'none'}",
                 f"{MODEL_FILE}: {'found' if MODEL_FILE in self.submission.files else 'missing'}"]
        lines += [f"note: {n}" for n in self.submission.notes]
        lines += [f"note: {c.error}" for c in self.chapters.values() if c.error]
        return "\n".join(lines)

    def result(self, qid, timeout=None, course_seed=COURSE_SEED):
        """The QuestionResult of `qid` (graded once, then remembered)."""
        if qid not in self.results:
            self.results[qid] = grade_question(self, qid, timeout, course_seed)
        return self.results[qid]

    def namespace(self, stem, notes):
        """A fresh module of chapter `stem`'s definitions, as a worker builds it."""
        from .worker_runtime import _Chapters

        sources = {s: c.code for s, c in self.chapters.items() if not c.error}
        chapters = _Chapters(sources, notes)
        with _notebook_import_from(chapters):
            return chapters.load(stem).__dict__


@contextmanager
def _notebook_import_from(chapters):
    """Serve import_notebook from the submission (as in a worker), then put fcnet's back."""
    import fcnet

    from .worker_runtime import _install_notebook_import

    saved_module = sys.modules.get("fcnet.notebook_import")
    saved_attr = getattr(fcnet, "notebook_import", None)
    _install_notebook_import(chapters)
    try:
        yield
    finally:
        if saved_module is not None:
            sys.modules["fcnet.notebook_import"] = saved_module
        if saved_attr is not None:
            fcnet.notebook_import = saved_attr


# ----------------------------------------------------------------------------- deadline

_armed = False


def _on_alarm(signum, frame):
    if _armed:
        raise QuestionTimeout()


@contextmanager
def deadline(seconds):
    """Raise QuestionTimeout in this thread once `seconds` have passed (main thread only;
    elsewhere there is no limit)."""
    global _armed
    usable = threading.current_thread() is threading.main_thread() and seconds
    if not usable:
        yield
        return
    previous = signal.signal(signal.SIGALRM, _on_alarm)
    _armed = True
    signal.setitimer(signal.ITIMER_REAL, float(seconds), 0.1)
    try:
        yield
    finally:
        while True:  # a late alarm may interrupt the clean-up itself: finish it anyway
            try:
                _armed = False
                signal.setitimer(signal.ITIMER_REAL, 0)
                signal.signal(signal.SIGALRM, previous)
                break
            except QuestionTimeout:
                continue


# ----------------------------------------------------------------------------- grading

def grade_question(loaded, qid, timeout=None, course_seed=COURSE_SEED):
    """Grade `qid` of a Loaded submission here; the points python -m autograder gives."""
    timeout = default_timeout() if timeout is None else timeout
    cases = hidden_checks.make_cases(qid, course_seed)
    tasks = grading.probe_tasks(qid, course_seed)
    if qid in grading.GRADER_SIDE:  # best_model: the grader evaluates the file itself
        return grading.grade_model_file(qid, loaded.submission.files.get(MODEL_FILE), cases,
                                        course_seed)

    stem = chapter_of(qid)
    chapter = loaded.chapters.get(stem)
    if chapter is None:
        return grading.not_done(qid, f"no {stem}.ipynb in the submission")
    if chapter.error:
        return grading.not_done(qid, chapter.error)
    reference = grading.reference_layers() if qid in grading.DECOUPLED else None
    results, notes, fault = {}, [], ""
    try:
        with deadline(timeout):
            try:
                ns = loaded.namespace(stem, notes)
            except Exception as err:
                ns = {}
                notes.append(f"{stem}.ipynb could not be loaded ({type(err).__name__}: {err})")
            for task in tasks:
                results[task.key] = grading.run_probe_in_process(task, ns, cases[task.case],
                                                                 reference)
    except QuestionTimeout:
        fault = f"it ran longer than {timeout:g} seconds"
    notes = chapter.notes + notes
    if fault:
        notes.append(f"grading this question was stopped: {fault}")
    return grading.judge_question(qid, cases, results, fault, notes)


def run_public_checks(loaded, qid, timeout=None):
    """The public checks of `qid` on a fresh copy of the chapter's definitions.

    Returns [(Check, CheckResult or None)]; None marks a check stopped by the timeout.
    They earn no points (python -m autograder does not count them either), and their small
    fixed inputs need little time: by default they get a quarter of a question's limit.
    """
    from fcnet.public_checks import checks_for

    timeout = default_timeout() / 4 if timeout is None else timeout
    stem = chapter_of(qid)
    out, notes = [], []
    checks = checks_for(qid)
    try:
        with deadline(timeout):
            ns = loaded.namespace(stem, notes) if stem in loaded.chapters \
                and not loaded.chapters[stem].error else {}
            for check in checks:
                out.append((check, check.run(ns)))
    except QuestionTimeout:
        out += [(check, None) for check in checks[len(out):]]
    return out


def report(result):
    """The lines python -m autograder's feedback gives for one question, as plain text."""
    lines = [f"{result.qid}: {result.points:g} / {result.max_points:g} points"]
    for outcome in result.checks:
        mark = "PASS" if outcome.passed else outcome.status.upper()
        line = f"  [{mark}] {outcome.description}"
        if outcome.message and not outcome.passed:
            line += f": {outcome.message}"
        if outcome.hint and not outcome.passed:
            line += f"\n      hint: {outcome.hint}"
        lines.append(line)
    lines += [f"  note: {n}" for n in result.notes]
    return "\n".join(lines)
