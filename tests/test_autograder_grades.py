"""python -m autograder's grades: full marks, zero, and realistic mistakes that cost only
their own question.

All submissions are built from the generated notebooks: the solution notebooks with one
definition swapped for a wrong one (a mistake students make), and the untouched student
notebooks. They are graded in one batch by the real engine, in the sandbox this machine
offers, then each is checked question by question.
"""

import numpy as np
import pytest

from autograder.points import BEST_MODEL_FULL, BEST_MODEL_ZERO, QUESTION_POINTS
from autograder.sandbox import open_sandbox
from fcnet.chapters import QUESTION_IDS

from autograder_support import (cached_model, checks_of, grade_folder, model_bytes,
                                notebook, replace_assignment, replace_definition,
                                write_submission)
from lms_submissions import good_model_params

pytestmark = [pytest.mark.slow, pytest.mark.cifar]


# ----------------------------------------------------------------------------- models

def _failed_sweep_model():
    """What the seed notebook's sweep kept (lr 5e-3, reg 0.5, 100 hidden units): about 21%."""
    from answer_key.classifiers.fc_net import TwoLayerNet
    from answer_key.optim import sgd
    from autograder import data
    from fcnet.solver import Solver

    (X, y), (X_val, y_val) = (data.training_images(np.arange(start, start + 500),
                                                   dtype=np.float64) for start in (0, 49000))
    split = {"X_train": X, "y_train": y, "X_val": X_val, "y_val": y_val}
    np.random.seed(0)
    model = TwoLayerNet(hidden_dim=100, reg=0.5)
    Solver(model, split, update_rule=sgd, optim_config={"learning_rate": 5e-3},
           num_epochs=5, batch_size=100, verbose=False, seed=0).train()
    return dict(model.params)


def _untuned_model():
    """Chapter 5's required run, untuned, as the answer key trains it (50 hidden units,
    learning rate 1e-3, 10 epochs on 49,000 images): what a student who skips chapter 6's
    search would hand in."""
    from answer_key.classifiers.fc_net import TwoLayerNet
    from answer_key.optim import sgd
    from answer_key.walkthrough import train_baseline
    from fcnet.data_utils import get_CIFAR10_data
    from fcnet.solver import Solver

    data = get_CIFAR10_data(dtype=np.float32, num_test=10)
    model, _ = train_baseline(data, TwoLayerNet, Solver, sgd)
    return dict(model.params)


def _test_accuracy(params):
    from autograder import data

    X, y = data.test_set()
    hidden = np.maximum(X.reshape(len(X), -1) @ params["W1"] + params["b1"], 0)
    return float(np.mean(np.argmax(hidden @ params["W2"] + params["b2"], axis=1) == y))


# ----------------------------------------------------------------------------- mistakes

def _ch(stem, nb):
    return {stem: nb}


def _swap(stem, name, source):
    return lambda: _ch(stem, replace_definition(notebook(stem), name, source))


def _answer(stem, qid, kind):
    """An inline answer that is wrong in one of three ways, derived from the answer key."""
    from answer_key import inline_questions
    from fcnet.questions import options

    right = sorted(getattr(inline_questions, qid))
    wrong = sorted(set(options()[qid]) - set(right))
    answer = {"wrong": wrong[:1], "half": right[:1] if len(right) > 1 else right + wrong[:1],
              "one_too_many": right + wrong[:1]}[kind]
    return lambda: _ch(stem, replace_assignment(notebook(stem), qid, repr(set(answer))))


# A correct TwoLayerNet written the way a student would, so that the mistakes below do
# not depend on the answer key's exact text.
TLN = '''
class TwoLayerNet:
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float64):
        self.params = {}
        self.reg = reg
        self.dtype = dtype
        self.params["W1"] = (weight_scale * np.random.randn(input_dim, hidden_dim)).astype(dtype)
        self.params["b1"] = np.zeros(hidden_dim, dtype=dtype)
        self.params["W2"] = (weight_scale * np.random.randn(hidden_dim, num_classes)).astype(dtype)
        self.params["b2"] = np.zeros(num_classes, dtype=dtype)

    def loss(self, X, y=None):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        hidden, hidden_cache = affine_relu_forward(X, W1, b1)
        scores, scores_cache = affine_forward(hidden, W2, b2)
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2
        return loss, grads
'''


def _tln(old, new):
    assert old in TLN, old
    return _swap("04_two_layer_net", "TwoLayerNet", TLN.replace(old, new))


SGD = '''
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config
'''


def _sgd(old, new):
    assert old in SGD, old
    return _swap("05_solver", "sgd", SGD.replace(old, new))


SOFTMAX = '''
def softmax_loss(x, y):
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= np.sum(probs, axis=1, keepdims=True)
    n = x.shape[0]
    loss = -np.mean(np.log(probs[np.arange(n), y]))
    dx = probs.copy()
    dx[np.arange(n), y] -= 1
    dx /= n
    return loss, dx
'''

SVM = '''
def svm_loss(x, y):
    n = x.shape[0]
    correct = x[np.arange(n), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(n), y] = 0
    loss = np.sum(margins) / n
    counts = (margins > 0).astype(x.dtype)
    counts[np.arange(n), y] = -np.sum(counts, axis=1)
    dx = counts / n
    return loss, dx
'''


def _text(template, name, stem, old, new):
    assert old in template, old
    return _swap(stem, name, template.replace(old, new))


MISTAKES = {
    "affine_forward": {
        "no_bias": _swap("01_affine_layer", "affine_forward", '''
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w
    return out, (x, w, b)'''),
        "rows_grouped_wrongly": _swap("01_affine_layer", "affine_forward", '''
def affine_forward(x, w, b):
    out = x.reshape(w.shape[0], -1).T @ w + b
    return out, (x, w, b)'''),
        "reshapes_caller_array": _swap("01_affine_layer", "affine_forward", '''
def affine_forward(x, w, b):
    x.shape = (x.shape[0], -1)
    out = x @ w + b
    return out, (x, w, b)'''),
        "hard_coded_shape": _swap("01_affine_layer", "affine_forward", '''
def affine_forward(x, w, b):
    out = x.reshape(2, 120) @ w + b
    return out, (x, w, b)'''),
    },
    "affine_backward": {
        "db_averaged": _swap("01_affine_layer", "affine_backward", '''
def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.mean(axis=0)
    return dx, dw, db'''),
        "dx_not_reshaped": _swap("01_affine_layer", "affine_backward", '''
def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout @ w.T
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db'''),
        "dw_transposed": _swap("01_affine_layer", "affine_backward", '''
def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x.reshape(x.shape[0], -1)
    db = dout.sum(axis=0)
    return dx, dw, db'''),
    },
    "relu_forward": {
        "in_place": _swap("02_relu", "relu_forward", '''
def relu_forward(x):
    x[x < 0] = 0
    return x, x'''),
        "leaky": _swap("02_relu", "relu_forward", '''
def relu_forward(x):
    return np.where(x > 0, x, 0.01 * x), x'''),
        "np_max_instead_of_maximum": _swap("02_relu", "relu_forward", '''
def relu_forward(x):
    return np.max(x, 0), x'''),
    },
    "relu_backward": {
        "ignores_dout": _swap("02_relu", "relu_backward", '''
def relu_backward(dout, cache):
    return (cache > 0).astype(dout.dtype)'''),
        "zeroes_dout_in_place": _swap("02_relu", "relu_backward", '''
def relu_backward(dout, cache):
    dout[cache <= 0] = 0
    return dout'''),
        "flipped_mask": _swap("02_relu", "relu_backward", '''
def relu_backward(dout, cache):
    return dout * (cache < 0)'''),
    },
    "inline_q1": {
        "wrong": _answer("02_relu", "inline_q1", "wrong"),
        "half": _answer("02_relu", "inline_q1", "half"),
        "one_too_many": _answer("02_relu", "inline_q1", "one_too_many"),
    },
    "softmax_loss": {
        "no_shift": _text(SOFTMAX, "softmax_loss", "03_losses",
                          "shifted = x - np.max(x, axis=1, keepdims=True)", "shifted = x"),
        "sum_not_mean": _text(SOFTMAX, "softmax_loss", "03_losses",
                              "loss = -np.mean(np.log(probs[np.arange(n), y]))\n"
                              "    dx = probs.copy()\n    dx[np.arange(n), y] -= 1\n"
                              "    dx /= n",
                              "loss = -np.sum(np.log(probs[np.arange(n), y]))\n"
                              "    dx = probs.copy()\n    dx[np.arange(n), y] -= 1"),
        "shifts_in_place": _text(SOFTMAX, "softmax_loss", "03_losses",
                                 "shifted = x - np.max(x, axis=1, keepdims=True)",
                                 "x -= np.max(x, axis=1, keepdims=True)\n    shifted = x"),
        "forgets_minus_one": _text(SOFTMAX, "softmax_loss", "03_losses",
                                   "dx[np.arange(n), y] -= 1\n", ""),
    },
    "svm_loss": {
        "counts_correct_class": _text(SVM, "svm_loss", "03_losses",
                                      "margins[np.arange(n), y] = 0\n", ""),
        "no_average": _text(SVM, "svm_loss", "03_losses",
                            "loss = np.sum(margins) / n", "loss = np.sum(margins)"),
        "correct_class_minus_one": _text(SVM, "svm_loss", "03_losses",
                                         "counts[np.arange(n), y] = -np.sum(counts, axis=1)",
                                         "counts[np.arange(n), y] = -1"),
    },
    "two_layer_net": {
        "reg_without_half": _tln("loss += 0.5 * self.reg *", "loss += self.reg *"),
        "no_reg_in_gradients": _tln('        grads["W1"] += self.reg * W1\n'
                                    '        grads["W2"] += self.reg * W2\n', ""),
        "ignores_weight_scale": _tln("(weight_scale * np.random.randn(input_dim, hidden_dim))",
                                     "(0.01 * np.random.randn(input_dim, hidden_dim))"),
        "returns_probabilities": _tln(
            "        if y is None:\n            return scores\n",
            "        if y is None:\n            e = np.exp(scores - scores.max(axis=1, keepdims=True))\n"
            "            return e / e.sum(axis=1, keepdims=True)\n"),
    },
    "sgd": {
        "crashes_without_config": _sgd("    if config is None:\n        config = {}\n", ""),
        "no_default_rate": _sgd('    config.setdefault("learning_rate", 1e-2)\n', ""),
        "scales_dw_in_place": _sgd('    next_w = w - config["learning_rate"] * dw\n',
                                   '    dw *= config["learning_rate"]\n    next_w = w - dw\n'),
    },
    "training": {
        # Each passes every sgd / two_layer_net check (one call) and fails in a real run.
        "sgd_one_over_t_decay": _sgd(
            '    next_w = w - config["learning_rate"] * dw\n',
            '    config["t"] = config.get("t", 0) + 1\n'
            '    next_w = w - config["learning_rate"] / config["t"] * dw\n'),
        "sgd_velocity_never_decays": _sgd(
            '    next_w = w - config["learning_rate"] * dw\n',
            '    config["velocity"] = config.get("velocity", 0) + dw\n'
            '    next_w = w - config["learning_rate"] * config["velocity"]\n'),
        "net_accumulates_gradients": _tln(
            '        grads = {}\n'
            '        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)\n'
            '        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)\n',
            '        if not hasattr(self, "grad_sums"):\n'
            '            self.grad_sums = {k: np.zeros_like(v) for k, v in self.params.items()}\n'
            '        grads = self.grad_sums\n'
            '        dhidden, dW2, db2 = affine_backward(dscores, scores_cache)\n'
            '        _, dW1, db1 = affine_relu_backward(dhidden, hidden_cache)\n'
            '        for k, g in (("W1", dW1), ("b1", db1), ("W2", dW2), ("b2", db2)):\n'
            '            grads[k] += g\n'),
    },
    "inline_q2": {
        "wrong": _answer("06_tuning", "inline_q2", "wrong"),
        "half": _answer("06_tuning", "inline_q2", "half"),
        "one_too_many": _answer("06_tuning", "inline_q2", "one_too_many"),
    },
    "inline_q3": {
        "wrong": _answer("06_tuning", "inline_q3", "wrong"),
        "half": _answer("06_tuning", "inline_q3", "half"),
        "one_too_many": _answer("06_tuning", "inline_q3", "one_too_many"),
    },
}

# best_model mistakes are files, built in the fixture: (name, params or bytes)
MODEL_MISTAKES = ("failed_sweep", "untuned", "missing", "transposed_W1",
                  "pickled_object_array")


@pytest.fixture(scope="module")
def graded(cifar, tmp_path_factory, request):
    """Grade all submissions of this module in one batch."""
    cache = request.config.cache.mkdir("autograder-models") \
        if getattr(request.config, "cache", None) else tmp_path_factory.mktemp("models")
    good = cached_model(cache, "good", good_model_params)
    sweep = cached_model(cache, "failed-sweep", _failed_sweep_model)
    untuned = cached_model(cache, "untuned", _untuned_model)
    good_bytes = model_bytes(good)
    root = tmp_path_factory.mktemp("submissions")
    write_submission(root, "solution", model=good_bytes)
    write_submission(root, "untouched", kind="student")
    for qid, mistakes in MISTAKES.items():
        for name, build in mistakes.items():
            write_submission(root, f"{qid}--{name}", build(), model=good_bytes)
    transposed = {**good, "W1": good["W1"].T.copy()}
    import io
    pickled = io.BytesIO()
    np.savez(pickled, W1=np.array([object()] * 3, dtype=object), b1=good["b1"],
             W2=good["W2"], b2=good["b2"])
    models = {"failed_sweep": model_bytes(sweep), "untuned": model_bytes(untuned),
              "missing": None,
              "transposed_W1": model_bytes(transposed),
              "pickled_object_array": pickled.getvalue()}
    for name in MODEL_MISTAKES:
        write_submission(root, f"best_model--{name}", model=models[name])
    sandbox = open_sandbox("best")
    try:
        points, outcome = grade_folder(root, tmp_path_factory.mktemp("out"), sandbox,
                                       timeout=60)
    finally:
        sandbox.close()
    return points, outcome, {"good": _test_accuracy(good), "sweep": _test_accuracy(sweep),
                             "untuned": _test_accuracy(untuned)}


def test_solution_with_a_good_model_gets_full_marks(graded):
    points, outcome, accuracy = graded
    assert accuracy["good"] >= BEST_MODEL_FULL
    failed = {qid: [f"{c.name}: {c.status} {c.message}" for c in r.checks if not c.passed]
              for qid, r in outcome.grades["solution"]["results"].items()
              if r.points != r.max_points}
    assert failed == {}
    assert sum(points["solution"].values()) == sum(QUESTION_POINTS.values())


def test_untouched_student_notebooks_get_zero(graded):
    points, _, _ = graded
    assert points["untouched"] == {qid: 0 for qid in QUESTION_IDS}


CASES = [(qid, name) for qid, mistakes in MISTAKES.items() for name in mistakes]
CASES += [("best_model", name) for name in MODEL_MISTAKES]


@pytest.mark.parametrize("qid, mistake", CASES, ids=[f"{q}--{m}" for q, m in CASES])
def test_a_mistake_costs_its_own_question_only(graded, qid, mistake):
    points, outcome, _ = graded
    got = points[f"{qid}--{mistake}"]
    assert got[qid] < QUESTION_POINTS[qid], f"{mistake} was not caught"
    others = {q: p for q, p in got.items() if q != qid and p != QUESTION_POINTS[q]}
    assert others == {}, f"{mistake} also cost {others}"


def test_every_question_has_three_mistakes():
    for qid in QUESTION_IDS:
        count = len(MISTAKES.get(qid, {})) + (len(MODEL_MISTAKES) if qid == "best_model" else 0)
        assert count >= 3, qid


def test_the_seeds_failed_sweep_loses_the_best_model_points(graded):
    points, outcome, accuracy = graded
    assert 0.17 <= accuracy["sweep"] <= 0.26  # the kind of model the seed's sweep kept
    assert points["best_model--failed_sweep"]["best_model"] == 0
    check = checks_of(outcome, "best_model--failed_sweep", "best_model")["test_accuracy"]
    assert "test accuracy 0." in check.message and f"none below {BEST_MODEL_ZERO:.2f}" in check.message


def test_chapter_5s_untuned_run_earns_at_most_half_the_best_model_points(graded):
    """The scale rewards tuning (benchmarks/best_model_baseline.py measures eight seeds)."""
    points, outcome, accuracy = graded
    assert BEST_MODEL_ZERO <= accuracy["untuned"] < BEST_MODEL_FULL
    earned = points["best_model--untuned"]["best_model"]
    assert 0 < earned <= QUESTION_POINTS["best_model"] / 2
    check = checks_of(outcome, "best_model--untuned", "best_model")["test_accuracy"]
    assert f"full points from {BEST_MODEL_FULL:.2f}" in check.message


def test_mistakes_are_explained_with_hints(graded):
    _, outcome, _ = graded
    checks = checks_of(outcome, "softmax_loss--no_shift", "softmax_loss")
    assert checks["stable"].status == "failed"
    assert checks["stable"].diagnosis == "softmax_no_max_shift"  # named, with its fix:
    assert "Subtract each row's own largest score" in checks["stable"].hint
    assert checks["loss"].passed and checks["gradient"].passed
    inplace = checks_of(outcome, "relu_forward--in_place", "relu_forward")
    assert inplace["input_unmodified"].status == "failed" and inplace["values"].passed
    refused = outcome.grades["best_model--pickled_object_array"]["results"]["best_model"]
    assert "refused" in refused.checks[0].message
