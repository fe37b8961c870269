"""The hidden checks: fresh inputs at grading time, judged against the answer key.

Each check follows fcnet's Check protocol. `make_case(rng)` draws the inputs (shapes and
values) in the grader; the probe (autograder/probes.py) runs the student's code on them,
in a sandboxed worker; `judge(case, outputs)` compares in the grader with references
computed there from `answer_key`, including numeric gradients. Checks of a question that
share a make_case function share one case (and, with the same probe, one probe run).

Weights are shares of the question's points (autograder/points.py). Hints name the likely
mistake in words; messages never quote an expected value or any answer-key code.
"""
import hashlib
import threading

import numpy as np

from answer_key import inline_questions
from answer_key.classifiers.fc_net import TwoLayerNet as ReferenceNet
from answer_key.layers import (affine_forward, relu_forward, softmax_loss, svm_loss)
from fcnet.checking import Check, CheckFailed, expect_close, expect_shape
from fcnet.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from fcnet.public_checks import INLINE_OPTIONS

from . import probes
from .best_model import best_model_case, judge_best_model
from .points import BEST_MODEL_FULL, TRAINING_LEARNS, TRAINING_THRESHOLD
from .scoring import PartialCredit
from .training_question import (judge_training_learns, judge_training_loss,
                                judge_training_threshold, training_case)

# ------------------------------------------------------------------------- judge helpers

_memo = {}
_memo_lock = threading.Lock()


def _fingerprint(case):
    digest = hashlib.sha1()
    for key in sorted(case):
        value = case[key]
        digest.update(key.encode())
        if isinstance(value, np.ndarray):
            digest.update(str((value.dtype, value.shape)).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def _reference(case, what, compute):
    """compute() once per case and `what`: cases are shared by every student of a run."""
    key = (_fingerprint(case), what)
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    value = compute()
    with _memo_lock:
        if len(_memo) > 512:
            _memo.clear()
        return _memo.setdefault(key, value)


def _array(outputs, name):
    value = outputs.get(name)
    if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.number):
        raise CheckFailed(f"{name} is not a numeric array (got {_kind(value)})")
    return value


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype}"
    return "nothing" if value is None else type(value).__name__


def _close(name, outputs, expected, tol):
    value = _array(outputs, name)
    expect_close(name, value, expected, tol)


def _scalar(outputs, name):
    value = outputs.get(name)
    if isinstance(value, np.ndarray) and value.size == 1 and \
            np.issubdtype(value.dtype, np.number):
        value = float(value.reshape(()))
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, float):
        shape = np.shape(value) if isinstance(value, np.ndarray) else None
        raise CheckFailed(f"{name} must be a single number" +
                          (f", got an array of shape {shape}" if shape is not None else ""))
    return value


def _unchanged(outputs, case, pairs):
    """Fail when an input array came back changed from the student's function."""
    changed = []
    for after, before in pairs:
        value = outputs.get(after)
        if not isinstance(value, np.ndarray) or value.shape != case[before].shape \
                or not np.array_equal(value, case[before]):
            changed.append(before)
    if changed:
        raise CheckFailed(f"the input {', '.join(changed)} was modified by the call "
                          f"(it must stay as the caller passed it)")


def _with_dtype(name, outputs, dtype):
    value = _array(outputs, name)
    if value.dtype != dtype:
        raise CheckFailed(f"{name} has dtype {value.dtype} for {np.dtype(dtype)} inputs; "
                          f"it should keep the inputs' dtype")
    return value


def _away_from_zero(rng, shape, dtype=np.float64):
    """Values at least 0.05 from 0, so a ReLU's kink is never within a numeric step."""
    magnitude = 0.05 + np.abs(rng.standard_normal(shape))
    return (rng.choice([-1.0, 1.0], size=shape) * magnitude).astype(dtype)


def _labels(rng, n, c):
    return rng.integers(0, c, size=n).astype(np.int64)


# ------------------------------------------------------------------------- affine layer

def affine_case_2d(rng):
    n, d, m = (int(v) for v in rng.integers((2, 3, 2), (8, 12, 7)))
    return {"x": rng.standard_normal((n, d)), "w": rng.standard_normal((d, m)),
            "b": rng.standard_normal(m)}


def affine_case_nd(rng, dtype=np.float64):
    n, m = int(rng.integers(2, 7)), int(rng.integers(2, 7))
    dims = tuple(int(v) for v in rng.integers(2, 5, size=int(rng.integers(2, 4))))
    d = int(np.prod(dims))
    return {"x": rng.standard_normal((n, *dims)).astype(dtype),
            "w": rng.standard_normal((d, m)).astype(dtype),
            "b": rng.standard_normal(m).astype(dtype)}


def affine_case_float32(rng):
    return affine_case_nd(rng, np.float32)


def _affine_out(case):
    return _reference(case, "affine_out",
                      lambda: affine_forward(case["x"], case["w"], case["b"])[0])


def judge_affine_values(case, out):
    _close("out", out, _affine_out(case), 1e-8)


def judge_affine_float32(case, out):
    value = _with_dtype("out", out, np.float32)
    expect_close("out", value, _affine_out(case).astype(np.float64), 1e-4)


def judge_affine_unmodified(case, out):
    _unchanged(out, case, (("x_after", "x"), ("w_after", "w"), ("b_after", "b")))


def affine_backward_case(rng):
    case = affine_case_nd(rng)
    case["dout"] = rng.standard_normal((case["x"].shape[0], case["w"].shape[1]))
    return case


def _affine_numeric(case):
    def compute():
        x, w, b, dout = case["x"], case["w"], case["b"], case["dout"]
        return {
            "dx": eval_numerical_gradient_array(lambda v: affine_forward(v, w, b)[0],
                                                x.copy(), dout),
            "dw": eval_numerical_gradient_array(lambda v: affine_forward(x, v, b)[0],
                                                w.copy(), dout),
            "db": eval_numerical_gradient_array(lambda v: affine_forward(x, w, v)[0],
                                                b.copy(), dout),
        }
    return _reference(case, "affine_numeric", compute)


def _close_to_numeric(name, outputs, numeric, tol=1e-6):
    """Compare a gradient with a numeric one, relative to the gradient's scale.

    Elementwise relative errors blow up on entries that are nearly zero (where the numeric
    estimate has only absolute accuracy), so the error is measured against the largest
    entry: max |value - numeric| / max |numeric|.
    """
    value = _array(outputs, name)
    expect_shape(name, value, np.shape(numeric))
    if not np.all(np.isfinite(value)):
        raise CheckFailed(f"{name} contains NaN or infinity")
    scale = max(float(np.max(np.abs(numeric), initial=0.0)), 1e-8)
    error = float(np.max(np.abs(value - numeric), initial=0.0)) / scale
    if not error < tol:
        raise CheckFailed(f"{name} is off: error {error:.2e} relative to its largest entry, "
                          f"expected below {tol:.0e}")


def _judge_gradient(name, numeric, tol=1e-6):
    def judge(case, out):
        _close_to_numeric(name, out, numeric(case)[name], tol)
    judge.__name__ = f"judge_{name}"
    return judge


def judge_affine_shapes(case, out):
    for name, shape in (("dx", case["x"].shape), ("dw", case["w"].shape),
                        ("db", case["b"].shape)):
        expect_shape(name, _array(out, name), shape)


def judge_affine_backward_unmodified(case, out):
    if int(out.get("own_cache", 0)):  # the retry with the student's cache: inputs were fresh
        pairs = (("dout_after", "dout"),)
    else:
        pairs = (("dout_after", "dout"), ("x_after", "x"), ("w_after", "w"), ("b_after", "b"))
    _unchanged(out, case, pairs)


# ------------------------------------------------------------------------- ReLU

def _random_shape(rng):
    return tuple(int(v) for v in rng.integers(2, 6, size=int(rng.integers(1, 5))))


def relu_case(rng, dtype=np.float64):
    return {"x": _away_from_zero(rng, _random_shape(rng), dtype)}


def relu_case_float32(rng):
    return relu_case(rng, np.float32)


def judge_relu_values(case, out):
    _close("out", out, relu_forward(case["x"])[0], 1e-12)


def judge_relu_float32(case, out):
    value = _with_dtype("out", out, np.float32)
    expect_close("out", value, relu_forward(case["x"])[0].astype(np.float64), 1e-6)


def judge_relu_unmodified(case, out):
    _unchanged(out, case, (("x_after", "x"),))


def relu_backward_case(rng):
    x = _away_from_zero(rng, _random_shape(rng))
    return {"x": x, "dout": rng.standard_normal(x.shape)}


def _relu_numeric(case):
    return _reference(case, "relu_numeric", lambda: {
        "dx": eval_numerical_gradient_array(lambda v: relu_forward(v)[0], case["x"].copy(),
                                            case["dout"])})


def judge_relu_backward_unmodified(case, out):
    pairs = (("dout_after", "dout"),) if int(out.get("own_cache", 0)) else \
        (("dout_after", "dout"), ("x_after", "x"))
    _unchanged(out, case, pairs)


# ------------------------------------------------------------------------- losses

def loss_case(rng):
    n, c = int(rng.integers(3, 17)), int(rng.integers(3, 12))
    return {"x": 2.0 * rng.standard_normal((n, c)), "y": _labels(rng, n, c)}


def loss_case_large(rng):
    """Scores around +-1000, where exp() overflows unless the scores are shifted first."""
    n, c = int(rng.integers(3, 17)), int(rng.integers(3, 12))
    offsets = rng.choice([-1000.0, 1000.0], size=(n, 1))
    return {"x": offsets + 5.0 * rng.standard_normal((n, c)), "y": _labels(rng, n, c)}


def _loss_reference(fn, key):
    def reference(case):
        def compute():
            x, y = case["x"], case["y"]
            loss, dx = fn(x.copy(), y)
            numeric = eval_numerical_gradient(lambda v: fn(v, y)[0], x.copy(), verbose=False)
            return {"loss": float(loss), "dx": dx, "dx_numeric": numeric}
        return _reference(case, key, compute)
    return reference


_softmax_ref = _loss_reference(softmax_loss, "softmax")
_svm_ref = _loss_reference(svm_loss, "svm")


def _judge_loss_value(reference):
    def judge(case, out):
        loss, expected = _scalar(out, "loss"), reference(case)["loss"]
        if not np.isfinite(loss):
            raise CheckFailed("the loss is not a finite number")
        error = abs(loss - expected) / max(1e-8, abs(loss) + abs(expected))
        if not error < 1e-8:
            raise CheckFailed(f"the loss is off: relative error {error:.1e}")
    return judge


def _judge_loss_gradient(reference, tol=1e-6):
    def judge(case, out):
        _close_to_numeric("dx", out, reference(case)["dx_numeric"], tol)
    return judge


def judge_softmax_stable(case, out):
    loss, reference = _scalar(out, "loss"), _softmax_ref(case)
    dx = _array(out, "dx")
    if not np.isfinite(loss) or not np.all(np.isfinite(dx)):
        raise CheckFailed("with scores around 1000 the loss or dx is NaN or infinite")
    error = abs(loss - reference["loss"]) / max(1e-8, abs(loss) + abs(reference["loss"]))
    if not error < 1e-8:
        raise CheckFailed(f"with scores around 1000 the loss is off: relative error {error:.1e}")
    expect_close("dx", dx, reference["dx"], 1e-7)


def judge_loss_unmodified(case, out):
    _unchanged(out, case, (("x_after", "x"), ("y_after", "y")))


# ------------------------------------------------------------------------- two-layer net

def tln_init_case(rng):
    d, h, c = int(rng.integers(60, 101)), int(rng.integers(40, 81)), int(rng.integers(5, 11))
    return {"D": d, "H": h, "C": c, "weight_scale": float(10 ** rng.uniform(-3, -1)),
            "reg": float(rng.uniform(0.1, 1.0)), "np_seed": int(rng.integers(2 ** 31))}


def judge_tln_init_shapes(case, out):
    d, h, c = case["D"], case["H"], case["C"]
    names = set(str(out.get("param_names", "")).split())
    if names != set(probes.PARAM_NAMES):
        raise CheckFailed(f"model.params should have exactly the keys W1, b1, W2, b2; "
                          f"it has {', '.join(sorted(names)) or 'none'}")
    for key, shape in (("W1", (d, h)), ("b1", (h,)), ("W2", (h, c)), ("b2", (c,))):
        expect_shape(f"params[{key!r}]", _array(out, key), shape)


def judge_tln_init_statistics(case, out):
    scale = case["weight_scale"]
    for key in ("W1", "W2"):
        w = _array(out, key).astype(np.float64)
        if w.size < 2 or not np.all(np.isfinite(w)):
            raise CheckFailed(f"params[{key!r}] is empty or not finite")
        if not abs(w.std() - scale) < 0.1 * scale:
            raise CheckFailed(f"params[{key!r}] has standard deviation {w.std():.2e} for "
                              f"weight_scale={scale:.2e}")
        if not abs(w.mean()) < 5 * scale / np.sqrt(w.size):
            raise CheckFailed(f"params[{key!r}] is not centred on zero")
    for key in ("b1", "b2"):
        if not np.all(_array(out, key) == 0):
            raise CheckFailed(f"params[{key!r}] should start at zero")


def judge_tln_init_float32(case, out):
    wrong = [key for key in probes.PARAM_NAMES
             if not isinstance(out.get(key), np.ndarray) or out[key].dtype != np.float32]
    if wrong:
        raise CheckFailed(f"with dtype=np.float32, params {', '.join(wrong)} are not float32")


def tln_net_case(rng, reg=None):
    n = int(rng.integers(3, 8))
    dims = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
    d, h, c = dims[0] * dims[1], int(rng.integers(5, 13)), int(rng.integers(3, 8))
    return {
        "D": d, "H": h, "C": c, "weight_scale": 1e-3,
        "reg": float(rng.uniform(0.2, 1.5)) if reg is None else reg,
        "X": rng.standard_normal((n, *dims)),
        "y": _labels(rng, n, c),
        "W1": 0.5 * rng.standard_normal((d, h)), "b1": 0.1 * rng.standard_normal(h),
        "W2": 0.5 * rng.standard_normal((h, c)), "b2": 0.1 * rng.standard_normal(c),
    }


def tln_net_case_no_reg(rng):
    return tln_net_case(rng, reg=0.0)


def _reference_net(case, reg):
    model = ReferenceNet(input_dim=case["D"], hidden_dim=case["H"], num_classes=case["C"],
                         reg=reg)
    model.params = {key: case[key].copy() for key in probes.PARAM_NAMES}
    return model


def _tln_reference(case):
    def compute():
        X, y, reg = case["X"], case["y"], case["reg"]
        plain, with_reg = _reference_net(case, 0.0), _reference_net(case, reg)
        grads_model = _reference_net(case, reg)
        numeric = {}
        for key in probes.PARAM_NAMES:
            numeric["d" + key] = eval_numerical_gradient(
                lambda _: grads_model.loss(X, y)[0], grads_model.params[key], verbose=False)
        return {"scores": plain.loss(X), "loss": float(plain.loss(X, y)[0]),
                "loss_reg": float(with_reg.loss(X, y)[0]), **numeric}
    return _reference(case, "two_layer_net", compute)


def judge_tln_scores(case, out):
    _close("scores", out, _tln_reference(case)["scores"], 1e-8)


def judge_tln_unmodified(case, out):
    _unchanged(out, case, [("X_after", "X")] + [(k + "_after", k) for k in probes.PARAM_NAMES])


def _judge_tln_loss(key, what):
    def judge(case, out):
        loss, expected = _scalar(out, key), _tln_reference(case)[key]
        error = abs(loss - expected) / max(1e-8, abs(loss) + abs(expected))
        if not error < 1e-8:
            raise CheckFailed(f"the loss {what} is off: relative error {error:.1e}")
    return judge


def _judge_tln_grad(keys):
    def judge(case, out):
        reference = _tln_reference(case)
        for key in keys:
            _close_to_numeric(key, out, reference[key], 1e-6)
    return judge


# ------------------------------------------------------------------------- sgd

def sgd_case(rng):
    m, n, k = (int(v) for v in rng.integers((2, 2, 2), (6, 7, 9)))
    return {"w_matrix": rng.standard_normal((m, n)), "dw_matrix": rng.standard_normal((m, n)),
            "w_vector": rng.standard_normal(k), "dw_vector": rng.standard_normal(k),
            "learning_rate": float(10 ** rng.uniform(-4, -1.5))}


def judge_sgd_step(case, out):
    for suffix in ("_matrix", "_vector"):
        expected = case["w" + suffix] - case["learning_rate"] * case["dw" + suffix]
        _close("next_w" + suffix, out, expected, 1e-10)


def judge_sgd_config(case, out):
    for suffix in ("_matrix", "_vector"):
        if not out.get("config_is_dict" + suffix):
            raise CheckFailed("the second value sgd returns must be the config dict")
        rate = out.get("config_rate" + suffix)
        if not (isinstance(rate, float) and rate == case["learning_rate"]):
            raise CheckFailed("the returned config must keep the learning_rate it was given")


def judge_sgd_default(case, out):
    expected = case["w_matrix"] - 1e-2 * case["dw_matrix"]
    for key, words in (("omitted", "without a config"), ("none", "with config=None"),
                       ("empty", "with an empty config")):
        value = out.get("next_w_" + key)
        if not isinstance(value, np.ndarray) or value.shape != expected.shape \
                or not np.allclose(value, expected, rtol=1e-10, atol=0):
            raise CheckFailed(f"{words}, sgd should step with the default learning rate 1e-2")


def judge_sgd_unmodified(case, out):
    _unchanged(out, case, (("dw_after_matrix", "dw_matrix"), ("dw_after_vector", "dw_vector")))


# ------------------------------------------------------------------------- training
# The case (drawn at grading time, inputs scrambled, held-out images kept here) and the
# judges live in training_question.py.

# ------------------------------------------------------------------------- best model
# Scored on several views of CIFAR-10, the lowest accuracy counting: best_model.py.

# ------------------------------------------------------------------------- inline questions

def _inline_case(qid):
    def make_case(rng):
        return {"qid": qid}
    make_case.__name__ = f"{qid}_case"
    return make_case


def judge_inline(case, out):
    """Credit for each right letter, minus one for each wrong one, never below zero."""
    qid = case["qid"]
    if not out.get("answered"):
        raise CheckFailed(f"{qid} is not answered yet")
    chosen = set(str(out.get("letters", "")))
    correct = set(getattr(inline_questions, qid))
    options = set(INLINE_OPTIONS[qid])
    wrong = chosen - correct
    fraction = max(0, len(chosen & correct) - len(wrong)) / len(correct)
    if fraction < 1:
        unknown = chosen - options
        extra = f" ({', '.join(sorted(unknown))} is not an option)" if unknown else ""
        raise PartialCredit(fraction, f"not every option is chosen correctly{extra}")


# ------------------------------------------------------------------------- the registry

def _check(qid, name, description, hint, needs, make_case, probe, judge, weight,
           requires=()):
    """A hidden check. `requires` names the value checks of the same case that must pass
    for this one to earn points (see scoring.apply_requirements): a stub returning zeros
    leaves its inputs unmodified and has the right shape and dtype, and earns nothing."""
    return Check(qid, name, description, hint, tuple(needs), make_case, probe, judge, weight,
                 tuple(requires))


_AF, _AB = ("affine_forward",), ("affine_backward",)
_AFFINE_GRADIENTS = ("dx", "dw", "db")
_affine_grad = lambda name: _judge_gradient(name, _affine_numeric)  # noqa: E731

CHECKS = [
    # affine_forward
    _check("affine_forward", "values_2d", "output for a 2-D input of fresh random shape",
           "multiply the (N, D) input by w and add b to every row", _AF,
           affine_case_2d, probes.affine_forward_probe, judge_affine_values, 2),
    _check("affine_forward", "values_nd", "output for a multi-dimensional input",
           "flatten each example to one row with x.reshape(N, -1), keeping the N examples "
           "apart; do not hard-code the shape", _AF,
           affine_case_nd, probes.affine_forward_probe, judge_affine_values, 2),
    _check("affine_forward", "float32", "float32 inputs give a float32 output",
           "avoid creating float64 arrays (np.zeros without a dtype, astype(float))", _AF,
           affine_case_float32, probes.affine_forward_probe, judge_affine_float32, 1),
    _check("affine_forward", "inputs_unmodified", "x, w and b are left unmodified",
           "reshape into a new variable instead of assigning to x.shape or writing into x",
           _AF, affine_case_nd, probes.affine_forward_probe, judge_affine_unmodified, 1,
           requires=("values_nd",)),
    # affine_backward
    _check("affine_backward", "dx", "dx agrees with a numeric gradient",
           "dx is dout times w transposed, reshaped back to the original shape of x", _AB,
           affine_backward_case, probes.affine_backward_probe, _affine_grad("dx"), 2),
    _check("affine_backward", "dw", "dw agrees with a numeric gradient",
           "dw pairs the flattened inputs (transposed) with dout", _AB,
           affine_backward_case, probes.affine_backward_probe, _affine_grad("dw"), 2),
    _check("affine_backward", "db", "db agrees with a numeric gradient",
           "db sums dout over the examples (axis 0); it is not an average", _AB,
           affine_backward_case, probes.affine_backward_probe, _affine_grad("db"), 1),
    _check("affine_backward", "shapes", "dx, dw and db have the shapes of x, w and b",
           "each gradient has exactly the shape of the array it is the gradient of", _AB,
           affine_backward_case, probes.affine_backward_probe, judge_affine_shapes, 1,
           requires=_AFFINE_GRADIENTS),
    _check("affine_backward", "inputs_unmodified", "dout and the cache are left unmodified",
           "compute new arrays instead of writing into dout or the cached arrays", _AB,
           affine_backward_case, probes.affine_backward_probe,
           judge_affine_backward_unmodified, 1, requires=_AFFINE_GRADIENTS),
    # relu_forward
    _check("relu_forward", "values", "output for inputs of fresh random shapes",
           "keep positive entries, replace negative ones by zero, elementwise, for any shape",
           ("relu_forward",), relu_case, probes.relu_forward_probe, judge_relu_values, 3),
    _check("relu_forward", "float32", "float32 inputs give a float32 output",
           "np.maximum(x, 0) keeps the dtype; building the output from float64 arrays does not",
           ("relu_forward",), relu_case_float32, probes.relu_forward_probe,
           judge_relu_float32, 1),
    _check("relu_forward", "input_unmodified", "x is left unmodified",
           "setting x's negative entries to zero in place changes the caller's array (and "
           "the cache); compute a new array", ("relu_forward",), relu_case,
           probes.relu_forward_probe, judge_relu_unmodified, 1, requires=("values",)),
    # relu_backward
    _check("relu_backward", "dx", "dx agrees with a numeric gradient",
           "pass dout through exactly where the forward input was positive, zero elsewhere",
           ("relu_backward",), relu_backward_case, probes.relu_backward_probe,
           _judge_gradient("dx", _relu_numeric), 3),
    _check("relu_backward", "inputs_unmodified", "dout and the cache are left unmodified",
           "zeroing entries of dout in place changes the caller's array; build dx as a new "
           "array", ("relu_backward",), relu_backward_case, probes.relu_backward_probe,
           judge_relu_backward_unmodified, 1, requires=("dx",)),
    # softmax_loss
    _check("softmax_loss", "loss", "loss for fresh random scores and labels",
           "average -log(probability of the correct class) over the N examples",
           ("softmax_loss",), loss_case, probes.softmax_loss_probe,
           _judge_loss_value(_softmax_ref), 2),
    _check("softmax_loss", "gradient", "dx agrees with a numeric gradient",
           "dx is the probabilities minus 1 at each correct class, divided by N",
           ("softmax_loss",), loss_case, probes.softmax_loss_probe,
           _judge_loss_gradient(_softmax_ref), 2),
    _check("softmax_loss", "stable", "stays finite and correct for scores around 1000",
           "subtract each row's largest score before exponentiating", ("softmax_loss",),
           loss_case_large, probes.softmax_loss_probe, judge_softmax_stable, 2),
    _check("softmax_loss", "input_unmodified", "x and y are left unmodified",
           "shift the scores into a new array (x - max) instead of subtracting in place",
           ("softmax_loss",), loss_case, probes.softmax_loss_probe, judge_loss_unmodified, 1,
           requires=("loss", "gradient")),
    # svm_loss
    _check("svm_loss", "loss", "loss for fresh random scores and labels",
           "sum the margins max(0, s_j - s_y + 1) over the wrong classes only, then average "
           "over the N examples", ("svm_loss",), loss_case, probes.svm_loss_probe,
           _judge_loss_value(_svm_ref), 2),
    _check("svm_loss", "gradient", "dx agrees with a numeric gradient",
           "each positive margin adds 1 to its class and subtracts 1 from the correct class; "
           "divide by N", ("svm_loss",), loss_case, probes.svm_loss_probe,
           _judge_loss_gradient(_svm_ref), 2),
    _check("svm_loss", "input_unmodified", "x and y are left unmodified",
           "compute margins in a new array instead of writing into x", ("svm_loss",),
           loss_case, probes.svm_loss_probe, judge_loss_unmodified, 1,
           requires=("loss", "gradient")),
    # two_layer_net
    _check("two_layer_net", "init_shapes", "parameters have the right names and shapes",
           "W1 is (input_dim, hidden_dim), b1 (hidden_dim,), W2 (hidden_dim, num_classes), "
           "b2 (num_classes,)", ("TwoLayerNet",), tln_init_case, probes.tln_init_probe,
           judge_tln_init_shapes, 1, requires=("init_statistics",)),
    _check("two_layer_net", "init_statistics", "weights ~ N(0, weight_scale^2), biases zero",
           "scale standard-normal weights by weight_scale (the argument, not a constant) and "
           "start biases at zero", ("TwoLayerNet",), tln_init_case, probes.tln_init_probe,
           judge_tln_init_statistics, 2),
    _check("two_layer_net", "init_dtype", "dtype=np.float32 gives float32 parameters",
           "convert every parameter to the dtype argument", ("TwoLayerNet",), tln_init_case,
           probes.tln_init_float32_probe, judge_tln_init_float32, 1,
           requires=("init_statistics",)),
    _check("two_layer_net", "scores", "loss(X) returns the class scores",
           "affine - relu - affine, and return the raw scores (no softmax) when y is None",
           ("TwoLayerNet",), tln_net_case, probes.tln_scores_probe, judge_tln_scores, 2),
    _check("two_layer_net", "inputs_unmodified", "loss(X) leaves X and params unmodified",
           "never write into X or the parameter arrays inside loss", ("TwoLayerNet",),
           tln_net_case, probes.tln_scores_probe, judge_tln_unmodified, 1,
           requires=("scores",)),
    _check("two_layer_net", "loss", "loss(X, y) without regularisation",
           "the data loss is softmax_loss of the scores", ("TwoLayerNet",), tln_net_case,
           probes.tln_loss_probe, _judge_tln_loss("loss", "without regularisation"), 2),
    _check("two_layer_net", "loss_reg", "loss(X, y) with regularisation",
           "add 0.5 * reg * (sum of W1 squared + sum of W2 squared), using self.reg",
           ("TwoLayerNet",), tln_net_case, probes.tln_loss_probe,
           _judge_tln_loss("loss_reg", "with regularisation"), 2),
    *[_check("two_layer_net", f"grad_{key}", f"grads[{key!r}] agrees with a numeric gradient",
             "backpropagate through affine - relu - affine with the backward layers, in "
             "reverse order", ("TwoLayerNet",), tln_net_case_no_reg, probes.tln_grads_probe,
             _judge_tln_grad(("d" + key,)), 1) for key in probes.PARAM_NAMES],
    _check("two_layer_net", "grads_reg", "weight gradients include the regularisation",
           "add reg * W to the gradient of each weight matrix (not to the biases)",
           ("TwoLayerNet",), tln_net_case, probes.tln_grads_probe,
           _judge_tln_grad(("dW1", "db1", "dW2", "db2")), 2),
    # sgd
    _check("sgd", "step", "one step against the gradient, for a matrix and a vector",
           "next_w = w - learning_rate * dw, with learning_rate read from config", ("sgd",),
           sgd_case, probes.sgd_step_probe, judge_sgd_step, 3),
    _check("sgd", "returns_config", "returns (next_w, config), config keeping its rate",
           "return the config dict you were given as the second value", ("sgd",), sgd_case,
           probes.sgd_step_probe, judge_sgd_config, 1, requires=("step",)),
    _check("sgd", "default_rate", "the default learning rate is 1e-2",
           "when config is None (or has no learning_rate), use 1e-2", ("sgd",), sgd_case,
           probes.sgd_default_probe, judge_sgd_default, 1),
    _check("sgd", "dw_unmodified", "dw is left unmodified",
           "scale dw into a new array rather than multiplying it in place", ("sgd",),
           sgd_case, probes.sgd_step_probe, judge_sgd_unmodified, 1, requires=("step",)),
    # training
    _check("training", "loss_decreases", "training lowers the loss on the training images",
           "check that sgd moves against the gradient and that the model's loss returns "
           "fresh gradients on every call", ("TwoLayerNet", "sgd"), training_case,
           probes.training_probe, judge_training_loss, 1),
    _check("training", "learns", f"held-out accuracy of at least {TRAINING_LEARNS:.2f}",
           "the trained network should beat chance clearly; check that sgd keeps the "
           "learning rate it is given from step to step", ("TwoLayerNet", "sgd"),
           training_case, probes.training_probe, judge_training_learns, 1),
    _check("training", "threshold", f"held-out accuracy of at least {TRAINING_THRESHOLD:.2f}",
           "every step should use the configured learning rate and fresh gradients",
           ("TwoLayerNet", "sgd"), training_case, probes.training_probe,
           judge_training_threshold, 2),
    # best_model
    _check("best_model", "test_accuracy",
           f"best_model.npz reaches {BEST_MODEL_FULL:.0%} on the 10,000 test images (counted "
           f"at most 2 points above its accuracy on their mirror images and on training images)",
           "tune the learning rate, hidden size, regularisation and number of epochs on the "
           "validation set, then save the best model's W1, b1, W2, b2",
           ("best_model_params",), best_model_case, probes.best_model_probe,
           judge_best_model, 1),
    # inline questions
    *[_check(qid, "answer", "the options chosen", "reread the question: each wrong choice "
             "cancels a right one", (qid,), _inline_case(qid), probes.inline_probe,
             judge_inline, 1) for qid in ("inline_q1", "inline_q2", "inline_q3")],
]


def checks_for(qid):
    """The hidden checks of question `qid`, in order."""
    found = [c for c in CHECKS if c.qid == qid]
    if not found:
        raise KeyError(f"no hidden checks for question {qid!r}")
    return found


def case_seed(course_seed, qid, make_case):
    """The seed of a case: same course seed, question and case function -> same case."""
    text = f"{course_seed}:{qid}:{make_case.__name__}"
    return int.from_bytes(hashlib.sha256(text.encode()).digest()[:8], "little")


def make_cases(qid, course_seed):
    """{make_case name: case} for every case function of `qid`'s checks."""
    cases = {}
    for check in checks_for(qid):
        name = check.make_case.__name__
        if name not in cases:
            rng = np.random.default_rng(case_seed(course_seed, qid, check.make_case))
            cases[name] = check.make_case(rng)
    return cases
