"""The public checks pass the answer key, fail realistic mistakes, and never crash on stubs."""
import numpy as np
import pytest

from answer_key import inline_questions, layer_utils, layers, optim
from answer_key.classifiers.fc_net import TwoLayerNet
from fcnet.checking import Check, plain
from fcnet.public_checks import CHECKS, checks_for


def reference_namespace():
    ns = {**vars(layers), **vars(layer_utils), **vars(inline_questions)}
    ns.update(TwoLayerNet=TwoLayerNet, sgd=optim.sgd)
    return ns


@pytest.mark.parametrize("check", [c for c in CHECKS if c.qid not in ("training", "best_model")],
                         ids=lambda c: f"{c.qid}-{c.name}")
def test_answer_key_passes(check):
    result = check.run(reference_namespace())
    assert result.passed, str(result)


def stub(*args, **kwargs):
    raise NotImplementedError


@pytest.mark.parametrize("check", CHECKS, ids=lambda c: f"{c.qid}-{c.name}")
def test_stubs_report_not_implemented(check):
    ns = {name: stub for name in check.needs}
    ns.update({"inline_q1": set(), "inline_q2": set(), "inline_q3": set(), "solver": None,
               "best_model": None})
    result = check.run(ns)
    assert result.status == "not implemented", str(result)


def test_wrong_affine_backward_fails_with_hint():
    ns = reference_namespace()

    def affine_backward_forgets_reshape(dout, cache):
        x, w, b = cache
        return dout @ w.T, x.reshape(x.shape[0], -1).T @ dout, dout.sum(axis=0)

    ns["affine_backward"] = affine_backward_forgets_reshape
    result = checks_for("affine_backward")[0].run(ns)
    assert result.status == "failed" and "shape" in result.message
    assert "original" in str(result)  # the hint is shown


def test_softmax_without_mean_fails():
    ns = reference_namespace()
    ns["softmax_loss"] = lambda x, y: tuple(v * len(y) for v in layers.softmax_loss(x, y))
    assert checks_for("softmax_loss")[0].run(ns).status == "failed"


def test_forgotten_regularisation_gradient_fails():
    class NoRegGrad(TwoLayerNet):
        def loss(self, X, y=None):
            out = super().loss(X, y)
            if y is None:
                return out
            loss, grads = out
            grads["W1"] = grads["W1"] - self.reg * self.params["W1"]
            return loss, grads

    ns = reference_namespace()
    ns["TwoLayerNet"] = NoRegGrad
    names = {c.name: c for c in checks_for("two_layer_net")}
    assert names["loss"].run(ns).passed
    assert names["gradients"].run(ns).status == "failed"


def test_crash_in_student_code_is_reported_not_raised():
    ns = reference_namespace()
    ns["relu_forward"] = lambda x: 1 / 0
    result = checks_for("relu_forward")[0].run(ns)
    assert result.status == "error" and "ZeroDivisionError" in result.message


def test_inline_question_rejects_unknown_letters():
    result = checks_for("inline_q1")[0].run({"inline_q1": {"A", "Z"}})
    assert result.status == "failed" and "Z" in result.message


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
    check = Check("q", "n", "d", "h", ("absent",), lambda rng: {}, lambda ns, c: {}, lambda c, o: None)
    assert check.run({}).status == "not implemented"


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
def test_an_unstable_softmax_fails_the_public_large_scores_check(loss):
    with np.errstate(all="ignore"):
        result = {c.name: c for c in checks_for("softmax_loss")}["large_scores"].run(
            {"softmax_loss": loss})
    assert result.status == "failed" and "NaN or infinite" in result.message
    assert "largest score" in str(result)


def test_a_stable_softmax_passes_the_public_large_scores_check():
    def per_row_shift(x, y):
        return _softmax_without_shift(x, y, shift=lambda s: s.max(axis=1, keepdims=True))

    assert {c.name: c for c in checks_for("softmax_loss")}["large_scores"].run(
        {"softmax_loss": per_row_shift}).passed


def test_every_hidden_stability_check_has_a_public_one():
    """Nothing is graded that students cannot check themselves: the hidden checks of
    stability at large scores have public counterparts on the same questions."""
    from autograder import hidden_checks

    hidden = {c.qid for c in hidden_checks.CHECKS if "large" in c.make_case.__name__}
    public = {c.qid for c in CHECKS if c.name == "large_scores"}
    assert hidden and hidden <= public
