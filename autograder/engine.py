"""Grading a folder of submissions: one sandboxed worker per (student, question).

`grade(submissions, out, settings)` finds the submissions, draws every question's cases
once, runs a worker per student and question (a pool of `settings.workers` at a time),
judges the results in this process and writes grades and feedback. Nothing a worker does
can stop the batch: a fault costs that worker's question, and the next one starts.
"""
import sys
import threading
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field

import numpy as np

from fcnet.chapters import QUESTION_IDS, chapter_of

from . import grading, hidden_checks, report
from .points import COURSE_SEED, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT
from .sandbox import SANDBOX_LIB, BubblewrapSandbox, Limits, detect_sandbox
from .scoring import CRASHED, failed_outcome, score_question
from .submissions import MODEL_FILE, UsageError, discover, read_submission
from .worker_runtime import decode_frame, encode_frame

# Order of a student's questions (any order works; the long one first).
_ORDER = {"training": 0, "two_layer_net": 1, "best_model": 2}


@dataclass
class Settings:
    workers: int = 2
    timeout: float = DEFAULT_TIMEOUT
    memory_mb: int = DEFAULT_MEMORY_MB
    course_seed: int = COURSE_SEED
    questions: tuple = QUESTION_IDS
    sandbox: object = None          # a Sandbox; detected when None
    progress: bool = True


@dataclass
class Outcome:
    grades: dict = field(default_factory=dict)  # student -> {"results": {...}, "notes": [...]}
    sandbox_line: str = ""
    internal_errors: list = field(default_factory=list)


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
    sandbox = detect_sandbox() if own_sandbox else settings.sandbox
    outcome = Outcome(sandbox_line=sandbox.description)
    announce(sandbox.description)
    try:
        cases = {qid: hidden_checks.make_cases(qid, settings.course_seed)
                 for qid in settings.questions}
        jobs = _Jobs(sandbox, settings, cases)
        for submission in submissions:
            outcome.grades[submission.student] = {"results": {}, "notes": []}
        _run_all(submissions, jobs, outcome, settings)
    finally:
        if own_sandbox:
            sandbox.close()
    # Keep the question order of the registry in every student's results.
    for entry in outcome.grades.values():
        entry["results"] = {q: entry["results"][q] for q in settings.questions}
    report.write_all(out_dir, outcome.grades, outcome.sandbox_line, settings.questions)
    return outcome


def _run_all(submissions, jobs, outcome, settings):
    """Grade the students `settings.workers` at a time, each student's questions in turn
    in one sandbox session (a fresh worker process per question)."""
    lock = threading.Lock()
    bar = _progress(len(submissions) * len(settings.questions), settings.progress)

    def grade_student(submission):
        chapters = read_submission(submission)  # never raises: faults become notes
        with lock:
            notes = outcome.grades[submission.student]["notes"]
            notes.extend(submission.notes)
            notes.extend(ch.error for ch in chapters.values() if ch.error)
        session = jobs.sandbox.session()
        try:
            for qid in sorted(settings.questions, key=lambda q: _ORDER.get(q, 9)):
                try:
                    result = jobs.grade_one(session, submission, chapters, qid)
                except Exception as err:  # a bug in the grader: report it, keep going
                    message = f"internal grader error ({type(err).__name__}: {err})"
                    with lock:
                        outcome.internal_errors.append(f"{submission.student}/{qid}: {message}")
                    result = score_question(qid, [failed_outcome(c, CRASHED, message)
                                                  for c in hidden_checks.checks_for(qid)])
                    session.close()
                with lock:
                    outcome.grades[submission.student]["results"][qid] = result
                    bar.update(1)
        finally:
            session.close()
            submission.files = {}  # free the notebooks and the model

    with ThreadPoolExecutor(max_workers=max(1, settings.workers)) as pool:
        for future in [pool.submit(grade_student, s) for s in submissions]:
            future.result()
    bar.close()


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
        self.lib = SANDBOX_LIB if isinstance(sandbox, BubblewrapSandbox) else \
            str(getattr(sandbox, "lib", SANDBOX_LIB))
        self._case_arrays = {}

    def grade_one(self, session, submission, chapters, qid):
        cases = self.cases[qid]
        if qid in grading.GRADER_SIDE:
            return grading.grade_model_file(qid, submission.files.get(MODEL_FILE), cases,
                                            self.settings.course_seed)
        stem = chapter_of(qid)
        chapter = chapters.get(stem)
        if chapter is None:
            return grading.not_done(qid, f"no {stem}.ipynb in the submission")
        if chapter.error:
            return grading.not_done(qid, chapter.error)
        tasks = grading.probe_tasks(qid, self.settings.course_seed)
        job = self._job(qid, chapters, tasks, cases)
        run = session.run(job, self.limits)
        results, notes, ready = _parse_frames(run.frames)
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
        return grading.judge_question(qid, cases, results, fault, notes)

    def _job(self, qid, chapters, tasks, cases):
        arrays, entries = {}, []
        for task in tasks:
            case = cases[task.case]
            scalars = {k: _json_value(v) for k, v in case.items()
                       if not isinstance(v, np.ndarray)}
            names = sorted(k for k, v in case.items() if isinstance(v, np.ndarray))
            for name in names:
                arrays[f"{task.case}/{name}"] = case[name]
            entries.append({"key": task.key, "probe": task.probe, "case": task.case,
                            "scalars": scalars, "arrays": names, "needs": list(task.needs),
                            "np_seed": task.np_seed})
        header = {
            "lib": self.lib,
            "limits": self.limits.for_worker(),
            "probes": self.probes_source,
            "reference": self.reference_source if qid in grading.DECOUPLED else None,
            "chapters": {stem: ch.code for stem, ch in chapters.items() if not ch.error},
            "target": chapter_of(qid),
            "tasks": entries,
        }
        return encode_frame(header, arrays)[8:]


def _json_value(value):
    if isinstance(value, np.generic):
        return value.item()
    return value


def _parse_frames(frames):
    """({task key: ProbeResult}, notes, whether the worker got ready) from its frames.

    Frames that do not decode are skipped: a student can write to the result channel, but
    only data it could have returned anyway.
    """
    results, notes, ready = {}, [], False
    for body in frames:
        try:
            header, arrays = decode_frame(body)
        except Exception:
            continue  # not a frame the runtime wrote: ignore it
        kind = header.get("kind")
        if kind == "ready":
            ready = True
        elif kind == "notes":
            notes.extend(str(n)[:600] for n in header.get("notes", [])[:50]
                         if isinstance(n, str))
        elif kind == "result" and isinstance(header.get("key"), str):
            key = header["key"]
            if key in results:
                continue  # the first answer counts
            status = header.get("status")
            message = str(header.get("message", ""))[:600]
            if status == "ok":
                scalars = header.get("scalars") or {}
                outputs = {str(k): v for k, v in scalars.items()
                           if v is None or type(v) in (bool, int, float, str)}
                outputs.update(arrays)
                results[key] = grading.ProbeResult("ok", outputs=outputs)
            elif status in ("missing", "not implemented", "error"):
                results[key] = grading.ProbeResult(status, message)
    return results, notes, ready
