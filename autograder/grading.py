"""Grading one question: probe tasks, judging, and the in-process route.

The sandboxed grader (autograder.engine) and the in-process route below share all but the
place where the probes run: the probe tasks (`probe_tasks`) and the cases
(hidden_checks.make_cases), both seeded by autograder.seeds; the probe runner
(worker_runtime.run_probe, which makes outputs plain data with fcnet.checking.plain) and
the decoupling (probes.decoupled); the judging (`judge_question`) and the scoring
(autograder.scoring).

The in-process route runs student code in the calling process, next to the answer key:
use it only on trusted code (the tests use it on the answer key). The otter-grader and
nbgrader bundles do not: they grade through the sandboxed engine (autograder.routes.lms_grading).

    from autograder.grading import grade_in_process
    result = grade_in_process("affine_forward", globals())
    result.points, result.max_points          # the same points `python -m autograder` gives
    for outcome in result.checks: ...          # per-check status, message and hint

`ns` is a namespace of definitions (a module's `__dict__`, a notebook's `globals()`). For
best_model (graded from a file) pass `best_model_path="best_model.npz"` instead; a
question with the trait needs_cifar (the training run) needs CIFAR-10 (CIFAR10_ARCHIVE)
and takes a few seconds.
"""
import inspect
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from fcnet import probes

from . import hidden_checks
from .points import COURSE_SEED
from .scoring import (CRASHED, ERROR, NOT_DONE, failed_outcome, judge_outcome,
                      score_question)
from fcnet.questions import questions_where, traits_of
from .seeds import derived_seed
from .worker_runtime import run_probe

# Questions whose student code runs on top of the answer key's layers.
DECOUPLED = frozenset(questions_where("decoupled"))
# Questions graded without running student code (the grader reads data files).
GRADER_SIDE = frozenset(questions_where("data_file"))


@dataclass
class ProbeTask:
    key: str          # "<probe>@<case id>": checks with the same key share one probe run
    probe: str        # the probe's name in fcnet.probes (the worker looks it up)
    case: str         # the case id
    needs: tuple
    np_seed: int


@dataclass
class ProbeResult:
    status: str                     # "ok", "missing", "not implemented", "error"
    message: str = ""
    outputs: dict = field(default_factory=dict)
    error: str = ""                 # "error": the exception's type name
    shown: str = None               # "error": its message as feedback may show it
                                    # (None: `message`; "" where it is withheld)


def task_key(check):
    return f"{check.probe.__name__}@{check.case_id}"


def probe_tasks(qid, course_seed=COURSE_SEED):
    """The distinct probe runs question `qid` needs, in check order. np.random is seeded
    by the case id (never by a function's name), the same for each probe of a case."""
    tasks = {}
    for check in hidden_checks.checks_for(qid):
        key = task_key(check)
        if key not in tasks:
            seed = derived_seed(course_seed, qid, f"np.random:{check.case_id}", 4)
            tasks[key] = ProbeTask(key, check.probe.__name__, check.case_id,
                                   tuple(check.needs), seed)
    return list(tasks.values())


def judge_question(qid, cases, results, fault="", notes=(), **facts):
    """Score `qid` from probe results {key: ProbeResult}; `fault` explains missing ones;
    `facts` are the QuestionResult's data fields (scoring.score_question)."""
    outcomes = []
    for check in hidden_checks.checks_for(qid):
        result = results.get(task_key(check))
        if result is None:
            why = f"the grading worker was stopped: {fault}" if fault else \
                "the grading worker stopped before this check"
            outcomes.append(failed_outcome(check, CRASHED, why))
        elif result.status == "ok":
            case = hidden_checks.judging_case(check, cases[check.case_id])
            outcomes.append(judge_outcome(check, case, result.outputs))
        elif result.status in ("missing", "not implemented"):
            outcomes.append(failed_outcome(check, NOT_DONE, result.message))
        else:
            outcomes.append(failed_outcome(check, ERROR, result.message, result.error,
                                           result.shown))
    return score_question(qid, outcomes, notes, **facts)


def not_done(qid, message, notes=(), **facts):
    """Every check of `qid` unanswered for one reason (missing notebook, no model file)."""
    outcomes = [failed_outcome(c, NOT_DONE, message) for c in hidden_checks.checks_for(qid)]
    return score_question(qid, outcomes, notes, **facts)


# ----------------------------------------------------------------------------- references

def reference_layers():
    """The answer key's layers under the names a TwoLayerNet calls (in-process route)."""
    from answer_key import layer_utils, layers

    found = {}
    for name in probes.LAYER_NAMES:
        found[name] = getattr(layers, name, None) or getattr(layer_utils, name)
    return found


def reference_source():
    """Source text that defines the same reference layers inside a worker."""
    from answer_key import layers

    return (inspect.getsource(layers) + "\n\n"
            "from fcnet.layer_utils import make_affine_relu as _make_affine_relu\n"
            "affine_relu_forward, affine_relu_backward = _make_affine_relu(\n"
            "    affine_forward, affine_backward, relu_forward, relu_backward)\n")


def probes_source():
    return Path(probes.__file__).read_text(encoding="utf-8")


# ----------------------------------------------------------------------------- in process

def run_probe_in_process(task, ns, case, reference=None):
    """Run one probe task here with the workers' own runner; return a ProbeResult."""
    state = np.random.get_state()
    try:
        fields, arrays = run_probe(probes, vars(task), ns, case, reference,
                                   errors=(Exception, SystemExit))
    finally:
        np.random.set_state(state)
    return ProbeResult(fields["status"], fields.get("message", ""),
                       {**fields.get("scalars", {}), **arrays}, fields.get("error", ""))


def measures_of(results):
    """The numbers the grader's own probe runs measured ({"accuracy_test": 0.49, ...}):
    every scalar output named accuracy_* of the runs that finished. Only for probes run
    here, on data files: a worker's outputs are the student's to forge."""
    return {key: float(value) for r in results.values() if r.status == "ok"
            for key, value in r.outputs.items()
            if key.startswith("accuracy_") and isinstance(value, (int, float))}


def grade_model_file(qid, data, cases, course_seed=COURSE_SEED, renamed_from=""):
    """Grade a grader-side question (best_model) from the bytes of the submitted data
    file (None when there is none). The file is read as data, never run."""
    from .best_model import InvalidModel, load_params

    name = traits_of(qid).data_file
    facts = {"file": name, "renamed_from": renamed_from}
    if data is None:
        return not_done(qid, f"no {name} in the submission", missing=True, **facts)
    try:
        ns = {"best_model_params": load_params(data)}
    except InvalidModel as err:
        return not_done(qid, f"{name} was refused: {err}", unreadable=str(err), **facts)
    results = {task.key: run_probe_in_process(task, ns, cases[task.case])
               for task in probe_tasks(qid, course_seed)}
    return judge_question(qid, cases, results, measures=measures_of(results), **facts)


def grade_in_process(qid, ns=None, course_seed=COURSE_SEED, best_model_path=None):
    """Grade question `qid` against namespace `ns` in this process; return a QuestionResult.

    Same cases, probes, decoupling, judges and points as `python -m autograder`, without
    the sandbox: for trusted code only (the tests grade the answer key with it).
    """
    cases = hidden_checks.make_cases(qid, course_seed)
    if qid in GRADER_SIDE:  # best_model_path: the question's data file
        path = None if best_model_path is None else Path(best_model_path)
        data = path.read_bytes() if path is not None and path.is_file() else None
        return grade_model_file(qid, data, cases, course_seed)
    ns = {} if ns is None else ns
    reference = reference_layers() if qid in DECOUPLED else None
    results = {task.key: run_probe_in_process(task, ns, cases[task.case], reference)
               for task in probe_tasks(qid, course_seed)}
    return judge_question(qid, cases, results)
