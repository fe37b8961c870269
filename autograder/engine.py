"""Grading a folder of submissions: one sandboxed worker per (student, question).

`grade(submissions, out, settings, announce)` finds the submissions, draws every
question's cases once per batch, opens the sandbox (`settings.sandbox`, else
`open_sandbox(settings.isolation)`; its description is announced first), grades
`settings.workers` students at a time, judges the results in this process and writes
grades and feedback. A student's code questions share one sandbox session (a fresh worker
process per question); the decoupled ones get a session of their own, last. Nothing a
worker does can stop the batch: a fault costs that worker's question, and the next one
starts. The engine sees only the sandbox's session interface, never its type.
"""
import dataclasses
import hashlib
import io
import json
import sys
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from fcnet.chapters import QUESTION_IDS, chapter_of

from . import grading, hidden_checks, result_shapes
from .layouts import submitters
from .points import COURSE_SEED, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT
from .reports.results import write_all
from .sandbox import Limits, open_sandbox
from .scoring import CRASHED, failed_outcome, score_question
from fcnet.questions import traits_of
from .submissions import (READING_BYTES, HeldBytes, UsageError, discover, held_bytes,
                          read_submission)
from .worker_runtime import decode_frame
from .worker_text import FixedTexts

# Result text a worker may send per task: each message and note is cut to MAX_MESSAGE
# characters, and all of them together to MAX_TEXT. Everything in a worker's memory is
# within reach of the student's code there, so its text is hostile input: for the
# decoupled questions (whose worker holds the answer key's layers) none of it reaches the
# feedback at all; see worker_text.py.
MAX_MESSAGE, MAX_NOTES, MAX_TEXT = 600, 50, 2_000
# Case arrays larger than this are shared through a read-only file, not sent per job.
SHARED_BYTES = 2 ** 20


@dataclass
class Settings:
    workers: int = 2
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB
    course_seed: int = COURSE_SEED
    questions: tuple = QUESTION_IDS
    sandbox: object = None          # an opened sandbox; else open_sandbox(isolation)
    isolation: str = "bubblewrap"   # see autograder.sandbox.open_sandbox
    progress: bool = True


@dataclass
class Outcome:
    grades: dict = field(default_factory=dict)  # student -> {"results": {...}, "notes": [...]}
    sandbox_line: str = ""
    internal_errors: list = field(default_factory=list)
    seconds: dict = field(default_factory=dict)  # qid -> wall seconds, summed over students


def grade(submissions_dir, out_dir, settings=None, announce=print):
    """Grade every submission in `submissions_dir` and write `out_dir`; return an Outcome.

    `announce` receives the sandbox line first (the CLI prints it as the run's first line).
    Raises UsageError for misuse (missing folder, duplicate students).
    """
    settings = settings or Settings()
    unknown = [q for q in settings.questions if q not in QUESTION_IDS]
    if unknown:
        raise UsageError(f"unknown question id(s) {', '.join(unknown)}; known: "
                         f"{', '.join(QUESTION_IDS)}")
    submissions = discover(submissions_dir)
    own_sandbox = settings.sandbox is None
    sandbox = open_sandbox(settings.isolation, settings.memory_mb) if own_sandbox \
        else settings.sandbox
    outcome = Outcome(sandbox_line=sandbox.description)
    announce(sandbox.description)
    try:
        cases = {qid: hidden_checks.make_cases(qid, settings.course_seed)
                 for qid in settings.questions}
        jobs = _Jobs(sandbox, settings, cases)
        who = submitters(submissions_dir)  # a Gradescope export's sid and email
        for submission in submissions:
            outcome.grades[submission.student] = {
                "results": {}, "notes": [], "submitters": who.get(submission.student, [])}
        _run_all(submissions, jobs, outcome, settings)
    finally:
        if own_sandbox:
            sandbox.close()
    # Keep the question order of the registry in every student's results.
    for entry in outcome.grades.values():
        entry["results"] = {q: entry["results"][q] for q in settings.questions}
    write_all(out_dir, outcome.grades, outcome.sandbox_line, settings.questions)
    return outcome


def _run_all(submissions, jobs, outcome, settings):
    """Grade the students `settings.workers` at a time. A student's code questions run in
    one sandbox session (a fresh worker process per question); then the decoupled ones,
    which receive the answer key's layers, in a session of their own (started while the
    code questions run, sent its first task after their session closed), closed
    afterwards. The grader-side ones (best_model) run here meanwhile, in a thread."""
    lock, memory = threading.Lock(), HeldBytes()
    bar = _progress(len(submissions) * len(settings.questions), settings.progress)

    def grade_student(submission):
        held = memory.reserve(READING_BYTES)  # the batch's files in memory stay bounded
        try:
            chapters = read_submission(submission)  # never raises: faults become notes
            memory.release(held - held_bytes(submission))
            held = held_bytes(submission)
            grade_chapters(submission, chapters)
        finally:
            submission.files = {}  # free the notebooks and the model
            memory.release(held)

    def grade_chapters(submission, chapters):
        with lock:
            notes = outcome.grades[submission.student]["notes"]
            notes.extend(submission.notes)
            notes.extend(ch.error for ch in chapters.values() if ch.error)
        groups = _question_groups(settings.questions)
        sandboxed = [g for g in groups if g[0] not in grading.GRADER_SIDE]
        sessions = [jobs.sandbox.session() for _ in sandboxed]
        for later in sessions[1:]:
            later.prepare()  # starts while the code questions run; no task before they end
        # The grader-side questions run no student code: they overlap the sandboxed ones.
        beside = threading.Thread(target=lambda: [
            jobs.grade_group(submission, chapters, g, record)
            for g in groups if g[0] in grading.GRADER_SIDE], daemon=True)
        beside.start()
        try:
            for group, session in zip(sandboxed, sessions):
                jobs.grade_group(submission, chapters, group, record, session)
        finally:
            for session in sessions:
                session.close()
            beside.join()

    def record(submission, qid, result, problem, seconds):
        with lock:
            outcome.seconds[qid] = outcome.seconds.get(qid, 0.0) + seconds
            outcome.grades[submission.student].setdefault("seconds", {})[qid] = seconds
            if problem:
                outcome.internal_errors.append(f"{submission.student}/{qid}: {problem}")
            outcome.grades[submission.student]["results"][qid] = result
            bar.update(1)

    with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
        for future in [pool.submit(grade_student, s) for s in submissions]:
            future.result()
    bar.close()


def _question_groups(questions):
    """The questions in the order they run, one list per session: the code questions,
    then the decoupled ones (after every other question of the student, so nothing of
    the reference layers can reach them), then the grader-side ones."""
    code = [q for q in questions if q not in grading.DECOUPLED | grading.GRADER_SIDE]
    decoupled = [q for q in questions if q in grading.DECOUPLED]
    grader_side = [q for q in questions if q in grading.GRADER_SIDE]
    return [group for group in (code, decoupled, grader_side) if group]


def _progress(total, enabled):
    from tqdm.auto import tqdm

    return tqdm(total=total, desc="Grading", unit="question", disable=not enabled,
                file=sys.stderr)


class _Jobs:
    """Builds the job of one (student, question), runs it, judges it."""

    def __init__(self, sandbox, settings, cases):
        self.sandbox = sandbox
        self.settings = settings
        self.cases = cases
        self.limits = Limits(timeout=settings.timeout, memory_mb=settings.memory_mb)
        self.probes_source = grading.probes_source()
        self.reference_source = grading.reference_source()
        self.lib = sandbox.lib
        self._case_parts = {}
        self._lock = threading.Lock()

    def grade_group(self, submission, chapters, questions, record, session=None):
        """Grade `questions` of one student in one session (`session`, else a new one),
        closed at the end; a grader bug costs only its question (an internal error for the
        instructor) and a fresh session."""
        session = session or self.sandbox.session()
        try:
            for qid in questions:
                started = time.monotonic()
                try:
                    result = self.grade_one(session, submission, chapters, qid)
                    problem = None
                except Exception as err:  # a bug in the grader: report it, keep going
                    problem = f"internal grader error ({type(err).__name__}: {err})"
                    result = score_question(qid, [failed_outcome(c, CRASHED, problem)
                                                  for c in hidden_checks.checks_for(qid)])
                    session.close()
                record(submission, qid, result, problem, time.monotonic() - started)
        finally:
            session.close()

    def grade_one(self, session, submission, chapters, qid):
        cases = self.cases[qid]
        data_file = traits_of(qid).data_file
        if data_file:
            return grading.grade_model_file(qid, submission.files.get(data_file), cases,
                                            self.settings.course_seed,
                                            _renamed_from(submission, data_file))
        stem = chapter_of(qid)
        name = f"{stem}.ipynb"
        facts = {"file": name, "renamed_from": _renamed_from(submission, name)}
        chapter = chapters.get(stem)
        if chapter is None:
            return grading.not_done(qid, f"no {name} in the submission", missing=True,
                                    **facts)
        if chapter.error:
            return grading.not_done(qid, chapter.error, unreadable=chapter.error, **facts)
        tasks = grading.probe_tasks(qid, self.settings.course_seed)
        job = self._job(qid, chapters, tasks, cases)
        limits = dataclasses.replace(self.limits, frames=len(tasks) + 3)
        run = session.run(job, limits)
        fixed = FixedTexts(stem, chapters, tasks) if qid in grading.DECOUPLED else None
        results, notes, ready = _parse_frames(run.frames, fixed,
                                              _refuse_unexpected(tasks, cases))
        if not ready:
            # The worker died before any student code ran: the grader's problem, not the
            # student's. Reported to the instructor as an internal error.
            tail = run.prints.decode("utf-8", "replace").strip().splitlines()[-3:]
            raise RuntimeError(f"the worker failed before running student code "
                               f"({run.fault}): {' | '.join(tail)}")
        fault = run.fault
        notes = chapter.notes + notes
        if fault:
            notes.append(f"the grading worker for this question was stopped: {fault}")
        # A stopped worker that used its whole wall-clock allowance ran out of time (the
        # CPU limit is a second above it, so the wall clock stops a busy loop first).
        timed_out = bool(fault) and run.seconds >= self.limits.timeout
        # No measures from a worker: its outputs are the student's to forge.
        return grading.judge_question(qid, cases, results, fault, notes, timed_out=timed_out,
                                      **facts)

    def _job(self, qid, chapters, tasks, cases):
        entries, blob = self._cases_part(qid, tasks, cases)
        header = {
            "lib": self.lib,
            "limits": self.limits.for_worker(),
            "probes": self.probes_source,
            "reference": self.reference_source if qid in grading.DECOUPLED else None,
            "chapters": {stem: ch.code for stem, ch in chapters.items() if not ch.error},
            "target": chapter_of(qid),
            "tasks": entries,
        }
        text = json.dumps(header).encode("utf-8")
        return len(text).to_bytes(8, "little") + text + blob  # a frame body (worker_runtime)

    def _cases_part(self, qid, tasks, cases):
        """(task entries, .npz bytes of the case arrays) of `qid`: the same for every
        student, so packed once per batch. Case keys that start with "_" never leave the
        grader. Arrays above SHARED_BYTES (the training data,
        60 MB) go to the sandbox's shared folder instead, which workers memory-map."""
        with self._lock:
            if qid not in self._case_parts:
                arrays, entries = {}, []
                for task in tasks:
                    # Keys starting with "_" are the grader's own (held-out images, say).
                    case = {k: v for k, v in cases[task.case].items() if not k.startswith("_")}
                    scalars = {k: _json_value(v) for k, v in case.items()
                               if not isinstance(v, np.ndarray)}
                    names = sorted(k for k, v in case.items() if isinstance(v, np.ndarray))
                    shared = {n: self.sandbox.shared.add(_shared_name(qid, task.case, n, case[n]),
                                                         case[n])
                              for n in names if case[n].nbytes > SHARED_BYTES}
                    for name in names:
                        if name not in shared:
                            arrays[f"{task.case}/{name}"] = case[name]
                    entries.append({"key": task.key, "probe": task.probe, "case": task.case,
                                    "scalars": scalars, "shared": shared,
                                    "arrays": [n for n in names if n not in shared],
                                    "needs": list(task.needs), "np_seed": task.np_seed})
                blob = io.BytesIO()
                if arrays:
                    np.savez(blob, **arrays)
                self._case_parts[qid] = (entries, blob.getvalue())
            return self._case_parts[qid]


def _renamed_from(submission, name):
    """The path of the file used as `name` when it had another name, else ""."""
    used = str(submission.used.get(name, "") or "")
    return used if used and used.replace("\\", "/").rsplit("/", 1)[-1] != name else ""


def _shared_name(qid, case_name, key, array):
    """A shared file's name: one per content, so a sandbox reused for another batch (or
    another --seed, which draws other training images) never serves a stale file."""
    digest = hashlib.blake2b(np.ascontiguousarray(array).data, digest_size=8).hexdigest()
    return f"{qid}.{case_name}.{key}.{digest}"


def _json_value(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _refuse_unexpected(tasks, cases):
    """decode_frame's `refuse` for one question: an array is decoded only when its
    task's probe returns it, as a real number type, of about the size its case needs
    (autograder/result_shapes.py), so one result costs the grader what the case does."""
    expected = {t.key: result_shapes.expected_shapes(t.probe, cases[t.case]) for t in tasks}

    def refuse(header, name, shape, dtype):
        wanted = expected.get(header.get("key")) if header.get("kind") == "result" else None
        if wanted is not None and result_shapes.admits(wanted, name, shape, dtype):
            return None
        return result_shapes.Refused(name, shape, dtype, (wanted or {}).get(name))

    return refuse


def _parse_frames(frames, fixed=None, refuse=None):
    """({task key: ProbeResult}, notes, whether the worker got ready) from its frames.

    Frames that do not decode are skipped: a student can write to the result channel, but
    only data it could have returned anyway. The first result frame of a task counts, and
    the first notes frame; every text is cut to MAX_MESSAGE characters, the notes together
    to half of MAX_TEXT and the results' texts to the other half, so a worker cannot fill
    the feedback. With `fixed` (a worker_text.FixedTexts, for the decoupled questions) no
    text of the worker is kept: the grader writes every message and note from categories.
    """
    results, notes, ready = {}, None, False
    notes_budget, budget = _TextBudget(MAX_TEXT // 2), _TextBudget(MAX_TEXT // 2)
    for body in frames:
        try:
            header, arrays = decode_frame(body, refuse=refuse)
        except Exception:
            continue  # not a frame the runtime wrote: ignore it
        kind = header.get("kind")
        if kind == "ready":
            ready = True
        elif kind == "notes" and notes is None and fixed is not None:
            notes = fixed.notes(header.get("failures"))[:MAX_NOTES]
        elif kind == "notes" and notes is None:
            raw = header.get("notes")
            notes = [notes_budget.take(n) for n in (raw if isinstance(raw, list) else [])[:MAX_NOTES]
                     if isinstance(n, str)]
        elif kind == "result" and isinstance(header.get("key"), str):
            key = header["key"]
            if key not in results:
                results[key] = _probe_result(header, arrays, budget, fixed)
    results = {k: v for k, v in results.items() if v is not None}
    return results, [n for n in notes or [] if n], ready


class _TextBudget:
    """Cuts texts to MAX_MESSAGE characters each and `left` in all."""

    def __init__(self, left):
        self.left = left

    def take(self, text):
        text = str(text)[:min(MAX_MESSAGE, max(self.left, 0))]
        self.left -= len(text)
        return text


def _probe_result(header, arrays, budget, fixed=None):
    status = header.get("status")
    if status == "ok":
        scalars = header.get("scalars") or {}
        if not isinstance(scalars, dict):
            return None
        text = fixed.words if fixed is not None else budget.take
        outputs = {str(k)[:100]: (text(v) if isinstance(v, str) else v)
                   for k, v in scalars.items() if v is None or type(v) in (bool, int, float, str)}
        refused = [a for a in arrays.values() if isinstance(a, result_shapes.Refused)]
        if refused:
            return grading.ProbeResult("error", fixed.IMPLAUSIBLE if fixed is not None
                                       else budget.take(refused[0].message()))
        outputs.update(arrays)
        if fixed is not None and not fixed.plausible(arrays):
            return grading.ProbeResult("error", fixed.IMPLAUSIBLE)
        return grading.ProbeResult("ok", outputs=outputs)
    if status not in ("missing", "not implemented", "error"):
        return None
    if fixed is not None:
        return grading.ProbeResult(status, fixed.message(header),
                                   error=fixed.error_name(header.get("error")),
                                   shown=fixed.shown_message(header))
    message = budget.take(header.get("message", ""))
    error = str(header.get("error") or "")[:100] if status == "error" else ""
    if not message and status == "error":  # the budget is spent: name the exception only
        message = FixedTexts.error_name(header.get("error"))
    return grading.ProbeResult(status, message, error=error)
