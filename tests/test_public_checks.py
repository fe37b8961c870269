"""The public checks are the hidden checks run on a public case: they pass the answer key,
fail realistic mistakes, never crash on stubs, and read their right values from data."""
import json
import zipfile

import numpy as np
import pytest

from answer_key import inline_questions, layer_utils, layers, optim
from answer_key.classifiers.fc_net import TwoLayerNet
from fcnet import public_checks, questions
from fcnet.checking import Check, plain
from fcnet.public_checks import CHECKS, checks_for, run_check, run_question


def reference_namespace():
    ns = {**vars(layers), **vars(layer_utils), **vars(inline_questions)}
    ns.update(TwoLayerNet=TwoLayerNet, sgd=optim.sgd)
    return ns


@pytest.mark.parametrize("check", [c for c in CHECKS if c.qid not in ("training", "best_model")],
                         ids=lambda c: f"{c.qid}-{c.name}")
def test_answer_key_passes(check):
    result = run_check(check, reference_namespace())
    assert result.passed, str(result)


def stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.qid}-{c.name}")
def test_stubs_report_not_implemented(check):
    ns = {name: stub for name in check.needs}
    ns.update({"inline_q1": set(), "inline_q2": set(), "inline_q3": set(), "solver": None,
               "best_model": None})
    result = run_check(check, ns)
    assert result.status == "not implemented", str(result)


def test_the_public_checks_are_the_graders_checks():
    """Same Check objects (probe, judge, views, words): only the case and where the right
    values come from differ. Only the at-scale checks, too large to ship, are missing, and
    the inline questions' answer checks, whose right letters never ship (the notebook
    checks their format alone)."""
    from autograder import hidden_checks

    inline = set(questions.options())
    assert {c.qid for c in questions.checks() if not c.public} - {
        c.qid for c in questions.checks() if c.public} == inline
    assert [(c.qid, c.name) for c in hidden_checks.CHECKS if c.qid in inline] == \
        [(qid, "answer") for qid in questions.options()]
    code = {c.qid for c in questions.checks() if c.public}
    public = [c for c in CHECKS if c.qid in code]
    hidden = [c for c in hidden_checks.CHECKS if c.qid in code]
    assert public == [c for c in hidden if c.public]
    assert all(a is b for a, b in zip(public, [c for c in hidden if c.public]))
    assert {c.name for c in hidden if not c.public} == \
        {"dx_at_scale", "dw_at_scale", "db_at_scale", "at_scale", "grads_at_scale"}


def test_the_inline_answers_never_ship():
    """An inline question's answer check runs in grading only, where the right letters
    come from the answer key: no public case carries them, and grader.check checks the
    answer's format alone."""
    from fcnet import questions

    inline = questions.options()
    assert list(inline) == ["inline_q1", "inline_q2", "inline_q3"]
    assert not [case_id for case_id in public_checks.public_cases()
                if case_id.split(".")[0] in inline]
    for qid in inline:
        assert not any(c.public for c in questions.QUESTIONS[qid].CHECKS), qid
        assert [c.name for c in checks_for(qid)] == ["format"], qid


def test_the_shipped_values_are_the_answer_keys_on_the_public_cases():
    """public_cases.npz holds, per case id, the case and the answer key's values: those
    the grader would compute on that case. It names its source and says not to edit it."""
    from autograder.hidden_checks.references import expected_values

    cases = public_checks.public_cases()
    assert set(cases) == {c.case_id for c in questions.checks() if c.public}
    for case_id, (case, expected) in cases.items():
        right = expected_values(case_id, case)
        assert set(right) == set(expected), case_id
        for name, value in right.items():
            assert np.allclose(value, expected[name], rtol=1e-12, atol=0), (case_id, name)
    meta = public_checks.metadata()
    assert "do not edit" in meta["note"] and "answer key" in meta["source"]


def test_the_shipped_file_holds_data_only():
    with zipfile.ZipFile(public_checks.PUBLIC_CASES) as archive:
        names = archive.namelist()
    assert all(n.endswith(".npy") for n in names)
    with np.load(public_checks.PUBLIC_CASES, allow_pickle=False) as data:
        assert all(data[k].dtype != object for k in data.files)
        json.loads(str(data["__meta__"]))


def test_a_judge_never_runs_without_right_values():
    check = checks_for("affine_forward")[0]
    case = check.make_case(np.random.default_rng(0))
    with pytest.raises(RuntimeError, match="no expected values"):
        check.run(reference_namespace(), case)  # no expected values given


def test_relu_backward_that_zeroes_dout_in_place_fails_publicly():
    def relu_backward(dout, cache):
        dout[cache <= 0] = 0
        return dout

    results = run_question("relu_backward", {**reference_namespace(),
                                             "relu_backward": relu_backward})
    failed = [r for r in results if not r.passed]
    assert [r.check.name for r in failed] == ["inputs_unmodified"]
    assert failed[0].diagnosis.name == "relu_dout_in_place"


def test_relu_on_the_scores_fails_publicly():
    class ReluScores(TwoLayerNet):
        def loss(self, X, y=None):
            return np.maximum(super().loss(X), 0) if y is None else super().loss(X, y)

    case, expected = public_checks.public_cases()["two_layer_net.net"]
    assert np.any(expected["scores"] < 0)  # the case can show the mistake
    results = run_question("two_layer_net", {**reference_namespace(),
                                             "TwoLayerNet": ReluScores})
    assert [r.check.name for r in results if not r.passed] == ["scores"]


def test_a_wrong_affine_forward_does_not_blame_affine_backward():
    def affine_forward(x, w, b):
        return x.reshape(len(x), -1) @ w, (x, w, b)  # forgets b

    ns = {**reference_namespace(), "affine_forward": affine_forward}
    assert all(r.passed for r in run_question("affine_backward", ns))
    assert not all(r.passed for r in run_question("affine_forward", ns))


def test_a_correct_net_on_a_wrong_layer_is_blocked_not_failed():
    """A right TwoLayerNet that calls a wrong affine_forward: in grading it runs on the
    answer key's layers and earns its points; in the notebook its checks that fail say
    which layer to fix first, and never call the net wrong."""
    from diagnosis_corpus import _tln
    from autograder import grading

    ns = {**reference_namespace(), "np": np, "__name__": "student_chapter"}
    exec(_tln(), ns)

    def affine_forward(x, w, b):
        return x.reshape(len(x), -1) @ w, (x, w, b)  # forgets b

    ns["affine_forward"] = affine_forward
    results = run_question("two_layer_net", ns)
    blocked = [r for r in results if not r.passed]
    assert blocked and all(r.status == "blocked" for r in blocked)
    assert "Fix affine_forward first" in " ".join(str(blocked[0]).split())
    assert grading.grade_in_process("two_layer_net", ns).points == 15


def test_a_decoupled_question_is_blamed_on_the_questions_its_code_calls():
    """CALLS comes from the question modules: the net's layers (two_layer_net's CALLS),
    and for training the questions grading the names it reads, with theirs in turn."""
    layers = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
              "softmax_loss")
    assert public_checks.CALLS == {"two_layer_net": layers,
                                   "training": layers + ("two_layer_net", "sgd")}


def test_crash_in_student_code_is_reported_not_raised():
    ns = reference_namespace()
    ns["relu_forward"] = lambda x: 1 / 0
    result = run_check(checks_for("relu_forward")[0], ns)
    assert result.status == "error" and "ZeroDivisionError" in result.message


def test_inline_question_rejects_unknown_letters():
    result = run_check(checks_for("inline_q1")[0], {"inline_q1": {"A", "Z"}})
    assert result.status == "failed" and "Z" in result.message


def test_inline_check_says_it_checks_the_format_only():
    from course_build.public_tests import render_test_file

    check = checks_for("inline_q1")[0]
    assert run_check(check, {"inline_q1": {"A"}}).passed
    assert "only its format" in check.description
    text = render_test_file("inline_q1", [check])
    assert "graded when you hand in" in text and "success_message" in text


def test_plain_strips_subclasses_and_rejects_objects():
    class Liar(np.ndarray):
        def __eq__(self, other):
            return True

    class FakeFloat(float):
        def __lt__(self, other):
            return True

    out = plain({"a": np.zeros(3).view(Liar), "f": FakeFloat(5.0)})
    assert type(out["a"]) is np.ndarray and type(out["f"]) is float
    with pytest.raises(TypeError):
        plain({"bad": object()})


def test_missing_name_is_not_implemented():
    check = Check("q", "n", "d", "h", ("absent",), "q.n", lambda rng: {},
                  lambda ns, c: {}, lambda c, o: None)
    assert check.run({}, {}).status == "not implemented"


def _softmax_without_shift(x, y, shift=None):
    scores = x if shift is None else x - shift(x)
    probs = np.exp(scores)
    probs /= probs.sum(axis=1, keepdims=True)
    n = len(x)
    dx = probs.copy()
    dx[np.arange(n), y] -= 1
    return -np.mean(np.log(probs[np.arange(n), y])), dx / n


@pytest.mark.parametrize("loss", [
    _softmax_without_shift,
    lambda x, y: _softmax_without_shift(x, y, shift=np.max),  # one shift for the whole batch
], ids=["no_shift", "global_shift"])
def test_an_unstable_softmax_fails_the_public_stability_check(loss):
    result = run_check({c.name: c for c in checks_for("softmax_loss")}["stable"],
                       {"softmax_loss": loss})
    assert result.status == "failed" and "NaN or infinite" in result.message


def test_a_stable_softmax_passes_the_public_stability_check():
    def per_row_shift(x, y):
        return _softmax_without_shift(x, y, shift=lambda s: s.max(axis=1, keepdims=True))

    assert run_check({c.name: c for c in checks_for("softmax_loss")}["stable"],
                     {"softmax_loss": per_row_shift}).passed


def test_checking_leaves_the_notebooks_random_numbers_alone():
    np.random.seed(5)
    expected = np.random.rand(3)
    np.random.seed(5)
    run_question("two_layer_net", reference_namespace())
    assert np.array_equal(np.random.rand(3), expected)
