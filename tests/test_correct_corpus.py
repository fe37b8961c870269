"""Correct code never loses points: the corpus of right student code, graded.

Every entry of tests/correct_corpus.py is graded twice: in process (the probes, judges and
scoring of the grader, fast) and by `python -m autograder`'s real engine, each entry one
student's notebooks, in the sandbox. Each earns full marks, or loses exactly the check of
a rule the book states, and that loss carries the rule's own diagnosis.
"""
import re

import numpy as np
import pytest

from autograder import grading
from autograder.scoring import PASSED
from correct_corpus import CORPUS
from test_diagnosis import reference_namespace

# The diagnosis of each rule, and the check that holds it, question by question.
RULE_CHECKS = {
    ("affine_forward", "dtype_changed"): "float32",
    ("relu_forward", "dtype_changed"): "float32",
    ("relu_backward", "relu_dout_in_place"): "inputs_unmodified",
    ("affine_forward", "input_modified"): "inputs_unmodified",
    ("softmax_loss", "input_modified"): "input_unmodified",
    ("two_layer_net", "dtype_changed"): "init_dtype",
    ("sgd", "input_modified"): "dw_unmodified",
}


def namespace(entry):
    ns = reference_namespace()
    ns["np"] = np
    exec(compile(entry.source, f"<right {entry.id}>", "exec"), ns)
    return ns


def lost_checks(result):
    return {c.name: c for c in result.checks if c.status != PASSED}


def assert_graded_as_right(entry, result):
    lost = lost_checks(result)
    if not entry.rule:
        assert result.points == result.max_points, \
            {n: (c.status, c.message) for n, c in lost.items()}
        return
    check = RULE_CHECKS[(entry.qid, entry.rule)]
    assert set(lost) == {check}, {n: (c.status, c.message) for n, c in lost.items()}
    assert lost[check].diagnosis == entry.rule, lost[check]


def test_the_corpus_is_large_and_covers_every_code_question():
    from test_diagnosis import CODE_QUESTIONS

    assert len(CORPUS) >= 40
    assert {e.qid for e in CORPUS} == set(CODE_QUESTIONS)
    assert len({e.id for e in CORPUS}) == len(CORPUS)
    assert all((e.qid, e.rule) in RULE_CHECKS for e in CORPUS if e.rule)


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e.id)
def test_right_code_earns_full_marks_or_loses_only_a_stated_rule(entry):
    with np.errstate(all="ignore"):
        result = grading.grade_in_process(entry.qid, namespace(entry))
    assert_graded_as_right(entry, result)


@pytest.mark.parametrize("entry", [e for e in CORPUS if not e.rule], ids=lambda e: e.id)
def test_right_code_passes_every_public_check_it_meets(entry):
    """grader.check in the notebook agrees: right code passes, with no diagnosis."""
    from test_diagnosis import public_results

    results = public_results(entry, namespace(entry))
    assert results and all(r.passed and r.diagnosis is None for r in results), \
        [str(r) for r in results if not r.passed]


@pytest.mark.slow
def test_the_sandboxed_engine_grades_the_corpus_the_same(sandbox, tmp_path):
    """Each entry is one student's notebooks, graded by `python -m autograder`'s engine,
    one batch per question (the others would only grade the solution again)."""
    from autograder_support import grade_folder, notebook, replace_definition, write_submission
    from fcnet.chapters import chapter_of

    by_question = {}
    for entry in CORPUS:
        by_question.setdefault(entry.qid, []).append(entry)
    measured = {}
    for qid, entries in by_question.items():
        root = tmp_path / qid / "in"
        stem = chapter_of(qid)
        for entry in entries:
            nb = notebook(stem)
            for name in re.findall(r"^(?:def|class) (\w+)", entry.source, re.M):
                if name.startswith("_"):
                    continue
                nb = replace_definition(nb, name, entry.source)
            write_submission(root, entry.id, {stem: nb})
        _, outcome = grade_folder(root, tmp_path / qid / "out", sandbox, questions=(qid,))
        for entry in entries:
            result = outcome.grades[entry.id]["results"][qid]
            measured[entry.id] = (result.points, result.max_points)
            assert_graded_as_right(entry, result)
    full = sum(points == top for points, top in measured.values())
    assert full == sum(not e.rule for e in CORPUS), measured


GUARDED = '''
def softmax_loss(x, y):
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(N), y] + GUARD))
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N
'''


@pytest.mark.parametrize("guard, passes", [(0.0, True), (1e-12, True), (1e-10, True),
                                           (1e-6, False), (1e-3, False)])
def test_a_guard_in_the_log_is_accepted_up_to_1e_10_and_no_further(guard, passes):
    """The one rule for guards: up to LOG_GUARD they cost nothing; a larger constant moves
    the loss of ordinary scores, and the loss checks see it."""
    from fcnet.questions.softmax_loss import LOG_GUARD

    assert LOG_GUARD == 1e-10
    ns = reference_namespace()
    ns["np"] = np
    exec(GUARDED.replace("GUARD", repr(guard)), ns)
    result = grading.grade_in_process("softmax_loss", ns)
    lost = lost_checks(result)
    assert (not lost) == passes, {n: c.message for n, c in lost.items()}
    if not passes:
        assert "loss" in lost


def test_the_guard_tolerance_only_ever_lowers_the_loss():
    """A guard makes the loss smaller, never larger: a loss above the right one by more
    than the usual 1e-8 fails, however small the guard's allowance below it."""
    from autograder import hidden_checks
    from answer_key.layers import softmax_loss

    check = next(c for c in hidden_checks.checks_for("softmax_loss") if c.name == "loss")
    case = hidden_checks.judging_case(
        check, hidden_checks.make_cases("softmax_loss", 0)[check.case_id])
    loss, dx = softmax_loss(case["x"].copy(), case["y"])
    outputs = {"loss": np.float64(loss), "dx": dx, "x_after": case["x"], "y_after": case["y"]}
    check.judge(case, outputs)
    check.judge(case, {**outputs, "loss": np.float64(loss * (1 - 1e-9))})
    with pytest.raises(Exception, match="off"):
        check.judge(case, {**outputs, "loss": np.float64(loss * (1 + 1e-7))})
