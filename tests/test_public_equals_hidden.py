"""Issue 19's proof that the public checks are the hidden checks on a public case.

Every realistic mistake we know (tests/diagnosis_corpus.py, the two mistakes of issue 19,
and one per diagnosis of fcnet.mistakes) is graded by the grader and checked by the
notebook's public checks, in process:

(a) a mistake that loses points in grading fails at least one public check, except the
    few that only fresh shapes can reveal (FRESH_SHAPES_ONLY, each with its reason);
(b) a correct function never fails a public check because of another function's bug:
    each correct function is checked next to every wrong version of the others, and its
    checks pass or say "blocked" (naming the function to fix first).
"""
import functools
import re

import numpy as np
import pytest

from answer_key import inline_questions, layer_utils, layers, optim
from answer_key.classifiers.fc_net import TwoLayerNet
from autograder import grading
from diagnosis_corpus import CORPUS, Wrong, _tln
from fcnet import public_checks, questions
from fcnet.layer_utils import make_affine_relu

CODE_QUESTIONS = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                  "softmax_loss", "svm_loss", "two_layer_net", "sgd")

# The two mistakes issue 19 found passing every public check, and one mistake for each
# diagnosis of the catalogue that tests/diagnosis_corpus.py does not show.
EXTRA = [
    Wrong("issue19_relu_backward_zeroes_dout", "relu_backward", """
def relu_backward(dout, cache):
    x = cache
    dout[x <= 0] = 0
    return dout
""", ("relu_dout_in_place",)),
    Wrong("issue19_relu_on_scores", "two_layer_net", _tln().replace(
        "        if y is None:\n            return scores",
        "        if y is None:\n            return np.maximum(scores, 0)"), None),
    Wrong("ab_dw_times_n", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    dx = (dout @ w.T).reshape(x.shape)
    dw = N * x.reshape(N, -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
""", ("dw_times_N",)),
    Wrong("sm_log_of_probabilities", "softmax_loss", """
def softmax_loss(x, y):
    N = x.shape[0]
    s = x - x.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).mean()
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N
""", ("softmax_log_of_zero",)),
    Wrong("af_float64_output", "affine_forward", """
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).astype(float) @ w + b
    return out, (x, w, b)
""", ("dtype_changed",)),
]
ALL = CORPUS + EXTRA

# Mistakes that lose points in grading but that no public case can show, with the reason.
FRESH_SHAPES_ONLY = {}


def reference_namespace():
    ns = {**vars(layers), **vars(layer_utils), **vars(inline_questions), "np": np}
    ns.update(TwoLayerNet=TwoLayerNet, sgd=optim.sgd, __name__="student_chapter")
    return ns


def student_namespace(entry, with_correct_net=False):
    """The answer key's names with the entry's definitions written by the student, and
    the sandwich layers made from the student's layers, as chapter 4's notebook does;
    with `with_correct_net`, a right TwoLayerNet that calls those layers by name."""
    ns = reference_namespace()
    exec(compile(entry.source, f"<student {entry.id}>", "exec"), ns)
    ns["affine_relu_forward"], ns["affine_relu_backward"] = make_affine_relu(
        ns["affine_forward"], ns["affine_backward"], ns["relu_forward"], ns["relu_backward"])
    if with_correct_net and "TwoLayerNet" not in defined(entry):
        exec(CORRECT_NET.source, ns)
    return ns


def defined(entry):
    return set(re.findall(r"^(?:def|class) (\w+)", entry.source, re.M))


@functools.lru_cache(maxsize=None)
def graded(entry_id):
    """The grader's result for a corpus entry (grading is seeded: the same every time)."""
    entry = next(e for e in ALL if e.id == entry_id)
    with np.errstate(all="ignore"):
        return grading.grade_in_process(entry.qid, student_namespace(entry))


@functools.lru_cache(maxsize=None)
def reference_points(qid):
    return grading.grade_in_process(qid, reference_namespace()).points


def public_results(qid, ns):
    with np.errstate(all="ignore"):
        return public_checks.run_question(qid, ns)


def test_every_diagnosis_of_the_catalogue_has_a_mistake_here():
    named = {n for e in ALL for n in (e.expect or ())}
    catalogue = {m.name for m in questions.catalogue()}
    assert catalogue <= named, sorted(catalogue - named)
    assert {e.qid for e in ALL} == set(CODE_QUESTIONS)


@pytest.mark.parametrize("entry", ALL, ids=lambda e: e.id)
def test_a_mistake_that_loses_points_fails_a_public_check(entry):
    ns = student_namespace(entry)
    result = graded(entry.id)
    public = public_results(entry.qid, ns)
    if result.points == result.max_points:
        return  # nothing to reveal
    if entry.id in FRESH_SHAPES_ONLY:
        assert all(r.passed for r in public), f"{entry.id} now fails publicly: drop it"
        return
    failing = [r for r in public if r.status in ("failed", "error")]
    assert failing, (f"{entry.id} loses {result.max_points - result.points:g} points in "
                     f"grading but passes every public check")


def test_most_mistakes_lose_points_so_the_test_above_has_work():
    losing = [e for e in ALL if e.qid != "two_layer_net" and
              graded(e.id).points < reference_points(e.qid)]
    assert len(losing) >= 40, len(losing)


def test_the_two_mistakes_of_issue_19_lose_points_and_fail_publicly():
    for entry in EXTRA[:2]:
        assert graded(entry.id).points < reference_points(entry.qid)
        assert any(not r.passed for r in public_results(entry.qid, student_namespace(entry)))


# The correct functions, written as the notebooks define them: the answer key's layers,
# losses and sgd, and a TwoLayerNet that calls the notebook's layers by name.
CORRECT_NET = Wrong("correct_net", "two_layer_net", _tln())


@pytest.mark.parametrize("qid", CODE_QUESTIONS)
def test_a_correct_function_never_fails_because_of_another_ones_bug(qid):
    blamed = []
    for entry in ALL:
        if entry.qid == qid or qid in defined(entry) or \
                (qid == "two_layer_net" and "TwoLayerNet" in defined(entry)):
            continue
        ns = student_namespace(entry, with_correct_net=True)
        for result in public_results(qid, ns):
            if result.status in ("failed", "error"):
                blamed.append(f"{entry.id}: {result.check.name}: {result.message}")
    assert not blamed, "\n".join(blamed)


def test_a_correct_net_next_to_a_wrong_layer_is_blocked_and_names_the_layer():
    entry = next(e for e in CORPUS if e.id == "af_no_bias")
    results = public_results("two_layer_net", student_namespace(entry, with_correct_net=True))
    blocked = [r for r in results if r.status == "blocked"]
    assert blocked and all(r.passed or r.status == "blocked" for r in results)
    assert all("affine_forward" in r.message for r in blocked)
