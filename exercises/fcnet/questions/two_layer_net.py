"""Chapter 4: TwoLayerNet, affine - ReLU - affine - softmax, with L2 regularisation.

In grading, the TwoLayerNet runs on the answer key's layers (TRAITS: decoupled); in the
notebook on the student's own, and fcnet.public_checks does not blame the net for a
layer that fails its own check (CALLS).
"""
from functools import partial

import numpy as np

from ..checking import Check, CheckFailed, expect_shape, number_is_off
from ..diagnosis import Mistake, View, as_array, close as near, differs_by
from ..judging import (AT_SCALE_HINT, array, close, dtype_view, expected, input_views,
                       judge_gradient, labels, relative_error, scalar, unchanged)
from ..mistakes import dtype_changed_rule, input_modified_rule
from ..probing import PARAM_NAMES, copies, pair, returns, same_shapes
from . import affine_backward, affine_forward, relu_backward, relu_forward, softmax_loss
from .traits import Traits

ID = "two_layer_net"
CHAPTER = "04_two_layer_net"
ORDER = 1  # its place among its chapter's questions
POINTS = 15
GRADES = ("TwoLayerNet",)
TRAITS = Traits(decoupled=True)
# The layers the student's TwoLayerNet calls in the notebook (chapter 4 reads them from
# chapters 1 to 3): a failure of the net is blamed on one of them when it fails its own
# check (fcnet.public_checks).
CALLS = (*affine_forward.GRADES, *affine_backward.GRADES, *relu_forward.GRADES,
         *relu_backward.GRADES, *softmax_loss.GRADES)


# ------------------------------------------------------------------------- probes

def _new_model(ns, case, reg=0.0, dtype=None):
    kwargs = {"input_dim": int(case["D"]), "hidden_dim": int(case["H"]),
              "num_classes": int(case["C"]), "weight_scale": float(case["weight_scale"]),
              "reg": float(reg)}
    if dtype is not None:
        kwargs["dtype"] = dtype
    return ns["TwoLayerNet"](**kwargs)


def _model_with_params(ns, case, reg=0.0):
    model = _new_model(ns, case, reg)
    for key in PARAM_NAMES:
        model.params[key] = np.array(case[key], copy=True)
    return model


def _params_of(model, suffix=""):
    params = model.params
    return {key + suffix: params[key] for key in PARAM_NAMES if key in params} | \
        {"param_names": " ".join(sorted(str(k) for k in params))}


def param_shapes(case, suffix=""):
    """{W1, b1, W2, b2 (+ suffix): shape} of a net of the case's D, H and C."""
    d, h, c = int(case["D"]), int(case["H"]), int(case["C"])
    shapes = {"W1": (d, h), "b1": (h,), "W2": (h, c), "b2": (c,)}
    return {key + suffix: shapes[key] for key in PARAM_NAMES}


@returns(param_shapes)
def tln_init_probe(ns, case):
    """A fresh TwoLayerNet (np.random seeded by the case): its parameters as created."""
    np.random.seed(int(case["np_seed"]))
    return _params_of(_new_model(ns, case, reg=float(case["reg"])))


@returns(param_shapes)
def tln_init_float32_probe(ns, case):
    np.random.seed(int(case["np_seed"]))
    return _params_of(_new_model(ns, case, dtype=np.float32))


@returns(lambda case: {"scores": (len(case["X"]), int(case["C"])),
                       **same_shapes(case, X_after="X"), **param_shapes(case, "_after")})
def tln_scores_probe(ns, case):
    """Scores for X with the case's parameters; X and the parameters as they are after."""
    model = _model_with_params(ns, case)
    (X,) = copies(case, "X")
    scores = model.loss(X)
    return {"scores": scores, "X_after": X, **_params_of(model, "_after")}


@returns(lambda case: {"loss": (), "loss_reg": ()})
def tln_loss_probe(ns, case):
    """The loss with reg = 0 and with the case's reg, each from a fresh model."""
    out = {}
    for key, reg in (("loss", 0.0), ("loss_reg", float(case["reg"]))):
        model = _model_with_params(ns, case, reg)
        (X,) = copies(case, "X")
        loss, _ = pair(model.loss(X, np.array(case["y"])), "TwoLayerNet.loss(X, y)")
        out[key] = np.asarray(loss, dtype=np.float64)
    return out


@returns(lambda case: {"d" + key: shape for key, shape in param_shapes(case).items()})
def tln_grads_probe(ns, case):
    """The gradients of one loss(X, y) call on a fresh model, with the case's reg."""
    model = _model_with_params(ns, case, float(case["reg"]))
    (X,) = copies(case, "X")
    _, grads = pair(model.loss(X, np.array(case["y"])), "TwoLayerNet.loss(X, y)")
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict, got {type(grads).__name__}")
    missing = [k for k in PARAM_NAMES if k not in grads]
    if missing:
        raise KeyError(f"grads has no entry {', '.join(missing)}")
    return {"d" + key: grads[key] for key in PARAM_NAMES}


# ------------------------------------------------------------------------- cases

def init_case(rng):
    d, h, c = int(rng.integers(60, 101)), int(rng.integers(40, 81)), int(rng.integers(5, 11))
    return {"D": d, "H": h, "C": c, "weight_scale": float(10 ** rng.uniform(-3, -1)),
            "reg": float(rng.uniform(0.1, 1.0)), "np_seed": int(rng.integers(2 ** 31))}


def net_case(rng, reg=None):
    n = int(rng.integers(3, 8))
    dims = (int(rng.integers(2, 4)), int(rng.integers(2, 4)))
    d, h, c = dims[0] * dims[1], int(rng.integers(5, 13)), int(rng.integers(3, 8))
    return {
        "D": d, "H": h, "C": c, "weight_scale": 1e-3,
        "reg": float(rng.uniform(0.2, 1.5)) if reg is None else reg,
        "X": rng.standard_normal((n, *dims)),
        "y": labels(rng, n, c),
        "W1": 0.5 * rng.standard_normal((d, h)), "b1": 0.1 * rng.standard_normal(h),
        "W2": 0.5 * rng.standard_normal((h, c)), "b2": 0.1 * rng.standard_normal(c),
    }


def net_case_no_reg(rng):
    return net_case(rng, reg=0.0)


def net_case_at_scale(rng):
    """A net of realistic size: 500 inputs, 300 hidden units, 10 classes, 200 examples
    (153,310 parameters: hours as numeric gradients, milliseconds by backpropagation)."""
    d, h, c, n = 500, 300, 10, 200
    return {"D": d, "H": h, "C": c, "weight_scale": 1e-3, "reg": 0.1,
            "X": rng.standard_normal((n, d)), "y": labels(rng, n, c),
            "W1": 0.05 * rng.standard_normal((d, h)), "b1": 0.1 * rng.standard_normal(h),
            "W2": 0.05 * rng.standard_normal((h, c)), "b2": 0.1 * rng.standard_normal(c)}


def _reference_net(key, case, reg):
    model = key.TwoLayerNet(input_dim=case["D"], hidden_dim=case["H"], num_classes=case["C"],
                            reg=reg)
    model.params = {name: np.array(case[name], copy=True) for name in PARAM_NAMES}
    return model


def _right_values(key, case, numeric=True):
    """The analytic gradients "dW1" ... of the loss with the case's reg; with `numeric`
    (small cases) also "scores", "loss", "loss_reg" and the numeric gradients
    "dW1_numeric" ..."""
    from ..gradient_check import eval_numerical_gradient

    X, y, reg = case["X"], case["y"], float(case["reg"])
    loss_reg, grads = _reference_net(key, case, reg).loss(X, y)
    found = {"d" + name: grads[name] for name in PARAM_NAMES}
    if numeric:
        plain = _reference_net(key, case, 0.0)
        found.update(scores=plain.loss(X), loss=float(plain.loss(X, y)[0]),
                     loss_reg=float(loss_reg))
        model = _reference_net(key, case, reg)
        for name in PARAM_NAMES:
            found[f"d{name}_numeric"] = eval_numerical_gradient(
                lambda _: model.loss(X, y)[0], model.params[name], verbose=False)
    return found


REFERENCES = {
    "two_layer_net.net": _right_values,
    "two_layer_net.net_no_reg": _right_values,
    "two_layer_net.at_scale": partial(_right_values, numeric=False),
}


# ------------------------------------------------------------------------- judges

def judge_init_shapes(case, out):
    d, h, c = case["D"], case["H"], case["C"]
    names = set(str(out.get("param_names", "")).split())
    if names != set(PARAM_NAMES):
        raise CheckFailed(f"model.params should have exactly the keys W1, b1, W2, b2; "
                          f"it has {', '.join(sorted(names)) or 'none'}")
    for key, shape in (("W1", (d, h)), ("b1", (h,)), ("W2", (h, c)), ("b2", (c,))):
        expect_shape(f"params[{key!r}]", array(out, key), shape)


def judge_init_statistics(case, out):
    scale = case["weight_scale"]
    for key in ("W1", "W2"):
        w = array(out, key).astype(np.float64)
        if w.size < 2 or not np.all(np.isfinite(w)):
            raise CheckFailed(f"params[{key!r}] is empty or not finite")
        if not abs(w.std() - scale) < 0.1 * scale:
            raise CheckFailed(f"params[{key!r}] has standard deviation {w.std():.2e} for "
                              f"weight_scale={scale:.2e}")
        if not abs(w.mean()) < 5 * scale / np.sqrt(w.size):
            raise CheckFailed(f"params[{key!r}] is not centred on zero")
    for key in ("b1", "b2"):
        if not np.all(array(out, key) == 0):
            raise CheckFailed(f"params[{key!r}] should start at zero")


def judge_init_float32(case, out):
    wrong = [key for key in PARAM_NAMES
             if not isinstance(out.get(key), np.ndarray) or out[key].dtype != np.float32]
    if wrong:
        raise CheckFailed(f"with dtype=np.float32, params {', '.join(wrong)} are not float32")


def judge_scores(case, out):
    close("scores", out, expected(case)["scores"], 1e-8)


def judge_unmodified(case, out):
    unchanged(out, case, [("X_after", "X")] + [(k + "_after", k) for k in PARAM_NAMES])


def _judge_loss(key, what):
    def judge(case, out):
        error = relative_error(scalar(out, key), expected(case)[key])
        if not error < 1e-8:
            raise number_is_off(f"the loss {what}", 1e-8)
    return judge


# ------------------------------------------------------------------------- views

def init_views(case, out):
    """Weights next to the standard deviation they should have; biases next to 0."""
    scale, views = case["weight_scale"], []
    for key in ("W1", "W2"):
        value = np.asarray(out.get(key), dtype=np.float64)
        ok = value.size > 1 and abs(value.std() - scale) < 0.1 * scale
        fix = scale * np.random.RandomState(0).standard_normal(value.shape)
        views.append(View(key, "W", value, None, {"weight_scale": scale}, ok=ok, fix=fix))
    for key in ("b1", "b2"):
        views.append(View(key, "b", out.get(key), np.zeros(np.shape(out.get(key)))))
    return views


def _params(case):
    return {key: case[key] for key in PARAM_NAMES}


def scores_views(case, out):
    pairs = [("X_after", "X")] + [(key + "_after", key) for key in PARAM_NAMES]
    return [View("scores", "scores", out.get("scores"), expected(case)["scores"],
                 {"net": case}, tol=1e-8), *input_views(case, out, pairs)]


def init_float32_views(case, out):
    return [dtype_view(key, out.get(key), None, np.float32) for key in PARAM_NAMES]


def loss_views(case, out):
    right = expected(case)
    return [View(key, "loss", out.get(key), float(right[key]),
                 {"reg": reg, "params": _params(case), "net": case}, tol=1e-8)
            for key, reg in (("loss", 0.0), ("loss_reg", float(case["reg"])))]


def grads_views(case, out):
    reg, right, views = float(case["reg"]), expected(case), []
    for key in PARAM_NAMES:
        context = {"reg": reg, "param": case[key], "N": len(case["X"])}
        role = "dW" if key.startswith("W") else "db"
        views.append(View("d" + key, role, out.get("d" + key), right["d" + key], context,
                          tol=1e-7))
    return views


# ------------------------------------------------------------------------- mistakes

def _penalty(view, names):
    """The sum of squares of the parameters `names` (context "params")."""
    params = view.context["params"]
    return sum(float(np.sum(np.square(np.asarray(params[k], dtype=np.float64))))
               for k in names)


def _reg_term(view, names, factor):
    return differs_by(view, 0.5 * view.context["reg"] * _penalty(view, names), factor)


def _grad_term(view, factor):
    return differs_by(view, view.context["reg"] * as_array(view.context["param"]), factor)


def _std_is_not_scale(view):
    scale = view.context["weight_scale"]
    got = as_array(view.got)
    return got is not None and got.size > 1 and abs(got.std() - scale) > 0.1 * scale and \
        abs(got.mean()) < 5 * got.std() / np.sqrt(got.size)


def _not_centred(view):
    got = as_array(view.got)
    return got is not None and got.size > 1 and \
        abs(got.mean()) > 5 * max(got.std(), 1e-12) / np.sqrt(got.size)


def _relu_on_scores(view):
    right = as_array(view.expected)
    return right is not None and bool(np.any(right < 0)) and \
        near(view.got, np.maximum(right, 0), view.tol)


def _probabilities(view):
    """Rows of positive numbers that sum to 1, ordered as the right scores are."""
    got, right = as_array(view.got), as_array(view.expected)
    if got is None or right is None or got.shape != right.shape or got.ndim != 2:
        return False
    return bool(np.all(got > 0) and np.allclose(got.sum(axis=1), 1.0) and
                np.array_equal(np.argsort(got, axis=1), np.argsort(right, axis=1)))


MISTAKES = (
    Mistake(ID, "W", "wrong_weight_scale",
            "Your initial weights do not have standard deviation weight_scale. Multiply "
            "standard-normal draws by weight_scale itself (the argument: not 1, not its "
            "square or square root, not a constant of your own).", _std_is_not_scale),
    Mistake(ID, "W", "weights_not_centred",
            "Your initial weights are not centred on zero: draw them from a normal "
            "distribution (standard-normal draws), not a uniform one on [0, 1).", _not_centred),
    Mistake(ID, "b", "biases_not_zero",
            "Your biases do not start at zero. Only the weights are random; start b1 and "
            "b2 at zero.", lambda v: True),
    Mistake(ID, "scores", "scores_after_softmax",
            "loss(X) returns probabilities (rows that sum to 1), not scores: the softmax "
            "belongs to the loss. When y is None, return the raw class scores.",
            _probabilities),
    Mistake(ID, "scores", "relu_on_scores",
            "Your scores are the right ones with every negative score replaced by 0: a ReLU "
            "is applied after the second affine layer. The ReLU belongs between the two "
            "layers only; the class scores come straight from the last affine layer and "
            "may be negative.", _relu_on_scores),
    # Recognised by the grader only (autograder/mistakes.py runs the answer key's layers).
    Mistake(ID, "scores", "relu_missing",
            "Your scores match a network with no ReLU between the two affine layers: the "
            "hidden layer must be affine, then ReLU (the affine-ReLU sandwich), before the "
            "second affine layer.", None),
    Mistake(ID, "loss", "relu_missing",
            "Your loss matches a network with no ReLU between the two affine layers: the "
            "hidden layer must be affine, then ReLU (the affine-ReLU sandwich), before the "
            "second affine layer.", None),
    Mistake(ID, "loss", "reg_missing_in_loss",
            "Your loss lacks the regularisation term: add 0.5 * reg times the sum of the "
            "squares of W1 and W2, using self.reg.",
            lambda v: _reg_term(v, ("W1", "W2"), -1.0)),
    Mistake(ID, "loss", "reg_factor",
            "Your regularisation term has the wrong factor: it should be 0.5 * reg times the "
            "sum of the squares of W1 and W2 (the 0.5 makes its gradient reg * W).",
            lambda v: _reg_term(v, ("W1", "W2"), 1.0) or _reg_term(v, ("W1", "W2"), -0.5)),
    Mistake(ID, "loss", "biases_regularised",
            "Your loss also penalises the biases. Regularise the weights W1 and W2 only.",
            lambda v: _reg_term(v, ("b1", "b2"), 1.0) or _reg_term(v, ("b1", "b2"), 2.0)),
    Mistake(ID, "dW", "reg_missing_in_gradient",
            "Your weight gradient lacks the regularisation: add reg * W to the gradient of "
            "each weight matrix.", lambda v: _grad_term(v, -1.0)),
    Mistake(ID, "dW", "reg_factor",
            "Your weight gradient's regularisation has the wrong factor: the derivative of "
            "0.5 * reg * W**2 is reg * W.", lambda v: _grad_term(v, 1.0) or _grad_term(v, -0.5)),
    Mistake(ID, "db", "biases_regularised",
            "Your bias gradient includes a regularisation term. Regularise the weights W1 "
            "and W2 only.", lambda v: _grad_term(v, 1.0) or _grad_term(v, 2.0)),
    input_modified_rule(ID, "input", "Your loss writes into an array it is given (X or a "
                        "parameter array)"),
    dtype_changed_rule(ID, "TwoLayerNet", explanation=(
        "With dtype=np.float32 some of your parameters are not float32. Convert every "
        "parameter, the biases too, to the dtype argument (chapter 5 trains in float32).")),
)


# ------------------------------------------------------------------------- checks

_check = partial(Check, qid=ID, needs=GRADES, mistakes=MISTAKES)
_init = partial(_check, case_id="two_layer_net.init", make_case=init_case)
_net = partial(_check, case_id="two_layer_net.net", make_case=net_case)
_grads = partial(_check, probe=tln_grads_probe, views=grads_views)

_INIT_CHECKS = [
    _init(name="init_shapes", description="parameters have the right names and shapes",
          hint="W1 is (input_dim, hidden_dim), b1 (hidden_dim,), W2 (hidden_dim, "
               "num_classes), b2 (num_classes,)",
          probe=tln_init_probe, views=init_views, judge=judge_init_shapes, weight=1,
          requires=("init_statistics",)),
    _init(name="init_statistics", description="weights ~ N(0, weight_scale^2), biases zero",
          hint="scale standard-normal weights by weight_scale (the argument, not a "
               "constant) and start biases at zero",
          probe=tln_init_probe, views=init_views, judge=judge_init_statistics, weight=2),
    _init(name="init_dtype", description="dtype=np.float32 gives float32 parameters",
          hint="convert every parameter to the dtype argument",
          probe=tln_init_float32_probe, views=init_float32_views, judge=judge_init_float32,
          weight=1, requires=("init_statistics",)),
]

_FORWARD_CHECKS = [
    _net(name="scores", description="loss(X) returns the class scores",
         hint="affine - relu - affine, and return the raw scores (no softmax) when y is "
              "None",
         probe=tln_scores_probe, views=scores_views, judge=judge_scores, weight=2),
    _net(name="inputs_unmodified", description="loss(X) leaves X and params unmodified",
         hint="never write into X or the parameter arrays inside loss",
         probe=tln_scores_probe, views=scores_views, judge=judge_unmodified, weight=1,
         requires=("scores",)),
    _net(name="loss", description="loss(X, y) without regularisation",
         hint="the data loss is softmax_loss of the scores",
         probe=tln_loss_probe, views=loss_views,
         judge=_judge_loss("loss", "without regularisation"), weight=2),
    _net(name="loss_reg", description="loss(X, y) with regularisation",
         hint="add 0.5 * reg * (sum of W1 squared + sum of W2 squared), using self.reg",
         probe=tln_loss_probe, views=loss_views,
         judge=_judge_loss("loss_reg", "with regularisation"), weight=2),
]

_GRADIENT_CHECKS = [
    *[_grads(name=f"grad_{key}", description=f"grads[{key!r}] agrees with a numeric gradient",
             hint="backpropagate through affine - relu - affine with the backward layers, in "
                  "reverse order",
             case_id="two_layer_net.net_no_reg", make_case=net_case_no_reg,
             judge=judge_gradient("d" + key), weight=1, requires=("grads_at_scale",))
      for key in PARAM_NAMES],
    _grads(name="grads_reg", description="weight gradients include the regularisation",
           hint="add reg * W to the gradient of each weight matrix (not to the biases)",
           case_id="two_layer_net.net", make_case=net_case,
           judge=judge_gradient("dW1", "db1", "dW2", "db2"), weight=2,
           requires=("grads_at_scale",)),
    _grads(name="grads_at_scale",
           description="all four gradients for 500 inputs, 300 hidden units and 200 examples",
           hint=AT_SCALE_HINT, case_id="two_layer_net.at_scale", make_case=net_case_at_scale,
           judge=judge_gradient("dW1", "db1", "dW2", "db2"), weight=1, public=False),
]

CHECKS = _INIT_CHECKS + _FORWARD_CHECKS + _GRADIENT_CHECKS
