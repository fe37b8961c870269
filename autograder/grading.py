"""Grading one question: probe tasks, judging, and the in-process route.

The sandboxed grader (autograder.engine) and the in-process route below share everything
here: the cases (drawn from the same seeds), the probes, the decoupling, the conversion of
probe outputs to plain data, the judges and the scoring. The only difference is where the
probes run.

The in-process route runs student code in the calling process, next to the answer key:
use it only on trusted code (the tests use it on the answer key). The otter-grader and
nbgrader bundles do not: they grade through the sandboxed engine (autograder.lms_bridge).

    from autograder.grading import grade_in_process
    result = grade_in_process("affine_forward", globals())
    result.points, result.max_points          # the same points `python -m autograder` gives
    for outcome in result.checks: ...          # per-check status, message and hint

`ns` is a namespace of definitions (a module's `__dict__`, a notebook's `globals()`). For
"best_model" pass `best_model_path="best_model.npz"` instead; "training" needs CIFAR-10
(CIFAR10_ARCHIVE) and takes a few seconds.
"""
import hashlib
import inspect
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from . import hidden_checks, probes
from .points import COURSE_SEED
from .scoring import (CRASHED, ERROR, NOT_DONE, failed_outcome, judge_outcome,
                      score_question)
from .submissions import MODEL_FILE
from .worker_runtime import _plain

# Questions whose student code runs on top of the answer key's layers.
DECOUPLED = frozenset({"two_layer_net", "training"})
# Questions graded without running student code (the grader reads data files).
GRADER_SIDE = frozenset({"best_model"})


@dataclass
class ProbeTask:
    key: str          # "<probe>@<case>": checks with the same key share one probe run
    probe: str
    case: str
    needs: tuple
    np_seed: int


@dataclass
class ProbeResult:
    status: str                     # "ok", "missing", "not implemented", "error"
    message: str = ""
    outputs: dict = field(default_factory=dict)


def task_key(check):
    return f"{check.probe.__name__}@{check.make_case.__name__}"


def probe_tasks(qid, course_seed=COURSE_SEED):
    """The distinct probe runs question `qid` needs, in check order."""
    tasks = {}
    for check in hidden_checks.checks_for(qid):
        key = task_key(check)
        if key not in tasks:
            digest = hashlib.sha256(f"{course_seed}:{qid}:{key}".encode()).digest()
            tasks[key] = ProbeTask(key, check.probe.__name__, check.make_case.__name__,
                                   tuple(check.needs), int.from_bytes(digest[:4], "little"))
    return list(tasks.values())


def judge_question(qid, cases, results, fault="", notes=()):
    """Score `qid` from probe results {key: ProbeResult}; `fault` explains missing ones."""
    outcomes = []
    for check in hidden_checks.checks_for(qid):
        result = results.get(task_key(check))
        if result is None:
            why = f"the grading worker was stopped: {fault}" if fault else \
                "the grading worker stopped before this check"
            outcomes.append(failed_outcome(check, CRASHED, why))
        elif result.status == "ok":
            outcomes.append(judge_outcome(check, cases[check.make_case.__name__],
                                          result.outputs))
        elif result.status in ("missing", "not implemented"):
            outcomes.append(failed_outcome(check, NOT_DONE, result.message))
        else:
            outcomes.append(failed_outcome(check, ERROR, result.message))
    return score_question(qid, outcomes, notes)


def not_done(qid, message, notes=()):
    """Every check of `qid` unanswered for one reason (missing notebook, no model file)."""
    outcomes = [failed_outcome(c, NOT_DONE, message) for c in hidden_checks.checks_for(qid)]
    return score_question(qid, outcomes, notes)


# ----------------------------------------------------------------------------- references

def reference_layers():
    """The answer key's layers under the names a TwoLayerNet calls (in-process route)."""
    from answer_key import layer_utils, layers

    found = {}
    for name in probes.REFERENCE_NAMES:
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
    """Run one probe task here, exactly as a worker would; return a ProbeResult."""
    missing = [name for name in task.needs if name not in ns]
    if missing:
        return ProbeResult("missing", f"{', '.join(missing)} is not defined")
    state = np.random.get_state()
    np.random.seed(task.np_seed)
    try:
        probe = getattr(probes, task.probe)
        if reference is not None:
            with probes.decoupled(ns, reference) as view:
                outputs = probe(view, case)
        else:
            outputs = probe(ns, case)
        scalars, arrays = _plain(outputs, np)
    except NotImplementedError as err:
        return ProbeResult("not implemented", str(err) or "still raises NotImplementedError")
    except (Exception, SystemExit) as err:
        return ProbeResult("error", _describe(err))
    finally:
        np.random.set_state(state)
    return ProbeResult("ok", outputs={**scalars, **arrays})


# The note a graded best_model.npz gets: its measured accuracy, for the student and for
# the class report (which reads it back with class_report's pattern).
ACCURACY_NOTE = "test accuracy of best_model.npz: {:.4f} on the 10,000 CIFAR-10 test images"


def grade_model_file(qid, data, cases, course_seed=COURSE_SEED):
    """Grade a grader-side question (best_model) from the bytes of the submitted
    best_model.npz (None when there is none). The file is read as data, never run."""
    from .best_model import InvalidModel, load_params

    if data is None:
        return not_done(qid, f"no {MODEL_FILE} in the submission")
    try:
        ns = {"best_model_params": load_params(data)}
    except InvalidModel as err:
        return not_done(qid, f"{MODEL_FILE} was refused: {err}")
    results = {task.key: run_probe_in_process(task, ns, cases[task.case])
               for task in probe_tasks(qid, course_seed)}
    result = judge_question(qid, cases, results)
    accuracy = [r.outputs["accuracy"] for r in results.values()
                if r.status == "ok" and "accuracy" in r.outputs]
    if accuracy:  # the class report's histogram reads it (class_report.ACCURACY_NOTE)
        result.notes.append(ACCURACY_NOTE.format(float(accuracy[0])))
    return result


def grade_in_process(qid, ns=None, course_seed=COURSE_SEED, best_model_path=None):
    """Grade question `qid` against namespace `ns` in this process; return a QuestionResult.

    Same cases, probes, decoupling, judges and points as `python -m autograder`, without
    the sandbox: for trusted code only (the tests grade the answer key with it).
    """
    cases = hidden_checks.make_cases(qid, course_seed)
    if qid in GRADER_SIDE:
        path = None if best_model_path is None else Path(best_model_path)
        data = path.read_bytes() if path is not None and path.is_file() else None
        return grade_model_file(qid, data, cases, course_seed)
    ns = {} if ns is None else ns
    reference = reference_layers() if qid in DECOUPLED else None
    results = {task.key: run_probe_in_process(task, ns, cases[task.case], reference)
               for task in probe_tasks(qid, course_seed)}
    return judge_question(qid, cases, results)


def _describe(err, limit=500):
    text = " ".join(f"{type(err).__name__}: {err}".split())
    return text if len(text) <= limit else text[:limit] + "..."
