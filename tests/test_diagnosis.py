"""Feedback that names the mistake: the corpus of wrong student code, on both sides.

Every entry of tests/diagnosis_corpus.py runs through the notebook's public checks
(Check.run, in process) and through the grader's hidden checks (the probes and
scoring.judge_outcome, in process; a handful also through the real sandboxed engine).
"""
import re

import numpy as np
import pytest

from answer_key import inline_questions, layer_utils, layers, optim
from answer_key.classifiers.fc_net import TwoLayerNet
from autograder import grading, hidden_checks
from autograder import mistakes as grader_mistakes
from autograder.scoring import PASSED
from diagnosis_corpus import CORPUS, EQUIVALENT
from fcnet import mistakes, public_checks
from fcnet.diagnosis import Diagnosis

CODE_QUESTIONS = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                  "softmax_loss", "svm_loss", "two_layer_net", "sgd")


def reference_namespace():
    ns = {**vars(layers), **vars(layer_utils), **vars(inline_questions)}
    ns.update(TwoLayerNet=TwoLayerNet, sgd=optim.sgd)
    return ns


def student_namespace(entry):
    """The answer key's names, with the entry's definitions written by the student."""
    ns = reference_namespace()
    ns["np"] = np
    exec(compile(entry.source, f"<student {entry.id}>", "exec"), ns)
    return ns


def _defined(entry):
    return set(re.findall(r"^(?:def|class) (\w+)", entry.source, re.M))


def public_results(entry, ns):
    """Results of the public checks that call anything the entry defines."""
    names = _defined(entry)
    checks = [c for c in public_checks.CHECKS
              if c.qid in CODE_QUESTIONS and names & set(c.needs)]
    with np.errstate(all="ignore"):
        return [c.run(ns) for c in checks]


def hidden_outcomes(entry, ns):
    with np.errstate(all="ignore"):
        return grading.grade_in_process(entry.qid, ns).checks


def _run(entry):
    ns = student_namespace(entry)
    public = public_results(entry, ns)
    hidden = hidden_outcomes(entry, ns)
    return {"public": {r.diagnosis.name for r in public if r.diagnosis},
            "hidden": {o.diagnosis for o in hidden if o.diagnosis}}, public, hidden


@pytest.fixture(scope="module")
def corpus_runs():
    return {entry.id: _run(entry) for entry in CORPUS}


def test_the_corpus_covers_every_code_question_with_at_least_40_mistakes():
    assert len(CORPUS) >= 40
    assert {e.qid for e in CORPUS} == set(CODE_QUESTIONS)
    assert len({e.id for e in CORPUS}) == len(CORPUS)
    known = {m.name for m in mistakes.MISTAKES} | {m.name for m in mistakes.ERROR_MISTAKES}
    for entry in CORPUS:
        assert entry.expect is None or set(entry.expect) <= known, entry.id


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e.id)
def test_each_mistake_gets_its_diagnosis_and_no_other(entry, corpus_runs):
    found, public, hidden = corpus_runs[entry.id]
    accepted = set(entry.expect or ())
    for side in ("public", "hidden"):
        assert found[side] <= accepted, f"{side}: {found[side]} for {entry.id}"
        if entry.expect and side in entry.sides:
            assert found[side], f"{side}: no diagnosis for {entry.id}"
    # the mistake is real: it fails a check on every side where it shows
    for side, failed in (("public", [r for r in public if not r.passed]),
                         ("hidden", [o for o in hidden if o.status != PASSED])):
        if side in entry.sides:
            assert failed, f"{entry.id} passes every {side} check"


def test_at_least_85_percent_of_the_corpus_is_named(corpus_runs):
    named = [e for e in CORPUS
             if e.expect and all(corpus_runs[e.id][0][side] for side in e.sides)]
    assert len(named) / len(CORPUS) >= 0.85, f"{len(named)} of {len(CORPUS)}"


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e.id)
def test_an_undiagnosed_failure_keeps_the_general_hint(entry, corpus_runs):
    _, public, hidden = corpus_runs[entry.id]
    for result in public:
        if result.status in ("failed", "error"):
            text = str(result)
            if result.diagnosis is None:
                assert f"Hint: {result.check.hint}" in text and "Diagnosis:" not in text
            else:
                assert f"Diagnosis: {result.diagnosis.explanation}" in text
                assert result.check.hint not in text
    checks = {c.name: c for c in hidden_checks.checks_for(entry.qid)}
    for outcome in hidden:
        if outcome.status in ("failed", "error") and not outcome.diagnosis:
            assert outcome.hint == checks[outcome.name].hint
        elif outcome.diagnosis:
            explanation = {m.name: m.explanation for m in
                           (*mistakes.MISTAKES, *mistakes.ERROR_MISTAKES)}
            assert outcome.hint != checks[outcome.name].hint
            assert outcome.hint in {m.explanation for m in
                                    (*mistakes.MISTAKES, *mistakes.ERROR_MISTAKES)
                                    if m.name == outcome.diagnosis}, explanation


@pytest.mark.parametrize("entry", EQUIVALENT, ids=lambda e: e.id)
def test_right_code_written_differently_passes_without_a_diagnosis(entry):
    found, public, hidden = _run(entry)
    assert all(r.passed and r.diagnosis is None for r in public), [str(r) for r in public]
    assert all(o.status == PASSED and not o.diagnosis for o in hidden)


@pytest.mark.parametrize("qid", CODE_QUESTIONS)
def test_the_answer_key_never_gets_a_diagnosis(qid):
    """Not as a side effect of passing: the diagnosis itself, asked on the answer key's
    outputs for every check, finds nothing."""
    ns = reference_namespace()
    for check in public_checks.checks_for(qid):
        case = check.make_case(np.random.default_rng(0))
        outputs = check.probe(ns, case)
        assert check.run(ns).passed and check.diagnose(case, outputs) is None, check.name
    cases = hidden_checks.make_cases(qid, 0)
    reference = grading.reference_layers() if qid in grading.DECOUPLED else None
    for task in grading.probe_tasks(qid):
        result = grading.run_probe_in_process(task, ns, cases[task.case], reference)
        assert result.status == "ok", result.message
        for check in hidden_checks.checks_for(qid):
            if grading.task_key(check) == task.key:
                assert grader_mistakes.diagnosis_of(check, cases[task.case],
                                                    result.outputs) is None, check.name
    assert all(o.status == PASSED and not o.diagnosis
               for o in grading.grade_in_process(qid, ns).checks)


def test_a_diagnosis_is_never_given_when_the_repair_does_not_pass():
    """Two mistakes in one output: neither explains it alone, so the hint stays general."""
    entry = next(e for e in CORPUS if e.id == "ab_db_mean")
    source = entry.source.replace("db = np.mean(dout, axis=0)",
                                  "db = -np.mean(dout, axis=0)")
    ns = reference_namespace()
    exec(source, ns)
    results = public_results(entry, ns)
    assert results and all(r.diagnosis is None for r in results)


def test_malformed_outputs_never_break_a_check():
    ns = reference_namespace()
    ns["affine_backward"] = lambda dout, cache: ("a", None, {"x": 1})
    result = public_checks.checks_for("affine_backward")[0].run(ns)
    assert result.status in ("failed", "error") and result.diagnosis is None
    outcomes = grading.grade_in_process("affine_backward", ns).checks
    assert all(not o.diagnosis for o in outcomes)


def test_diagnosis_is_plain_data_in_the_grades():
    ns = student_namespace(next(e for e in CORPUS if e.id == "ab_db_mean"))
    result = grading.grade_in_process("affine_backward", ns)
    row = {c["name"]: c for c in result.as_dict()["checks"]}
    assert row["db"]["diagnosis"] == "db_averaged" and row["dx"]["diagnosis"] == ""
    assert isinstance(Diagnosis("a", "b").name, str)
