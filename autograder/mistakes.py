"""The grader's side of the diagnosis: hidden-check outputs next to the answer key's.

fcnet.diagnosis names the mistake behind a failed check from `View`s: each output of a
probe next to its right value. The public checks build theirs from fixed values; here
they come from the answer key, computed on the case in the grader's process, never in
the student's sandbox. Views are chosen by the probe that produced the outputs (the
outputs' names are the probe's), so they follow the checks wherever those are declared.

A few mistakes can only be recognised by running the answer key on changed inputs
(flattening in the wrong order, an SVM margin other than 1): their tests are here, in
GRADER_TESTS, and their words in fcnet.mistakes with every other mistake's.
"""
import numpy as np

from answer_key import layers
from answer_key.classifiers.fc_net import TwoLayerNet as ReferenceNet
from fcnet.diagnosis import View, close, diagnose, diagnose_error

PARAM_NAMES = ("W1", "b1", "W2", "b2")


def _n(case, key="x"):
    return len(case[key])


# ----------------------------------------------------------------------------- views

def _tol(case, key="x", tol64=1e-8):
    """Float32 inputs give float32 results: compare them at float32's precision."""
    return tol64 if case[key].dtype == np.float64 else 1e-4


def _inputs(case, out, pairs):
    """Each input array as the call left it, next to the array the call was given: the
    course's functions leave their inputs unchanged (each chapter's grading section)."""
    return [View(after, "input", out.get(after), case[before], tol=0) for after, before in pairs]


def _dtype(key, value, expected, dtype):
    """outputs[key], which must keep its inputs' dtype, with the conversion as repair."""
    ok = isinstance(value, np.ndarray) and value.dtype == dtype
    fix = value.astype(dtype) if isinstance(value, np.ndarray) and not ok else expected
    return View(key, "dtype", value, expected, {"dtype": np.dtype(dtype)}, tol=1e-4, ok=ok,
                fix=fix)


def _affine_forward(case, out):
    expected = layers.affine_forward(case["x"], case["w"], case["b"])[0]
    return [View("out", "out", out.get("out"), expected, dict(case, N=_n(case)),
                 tol=_tol(case)),
            _dtype("out", out.get("out"), expected, case["x"].dtype),
            *_inputs(case, out, (("x_after", "x"), ("w_after", "w"), ("b_after", "b")))]


def _affine_backward(case, out):
    x, w, b, dout = case["x"], case["w"], case["b"], case["dout"]
    dx, dw, db = layers.affine_backward(dout, (x, w, b))
    context = dict(case, N=_n(case))
    views = [View(key, key, out.get(key), value, context, tol=1e-7)
             for key, value in (("dx", dx), ("dw", dw), ("db", db))]
    own_cache = int(out.get("own_cache", 0))  # the cache was the student's: x, w, b are new
    pairs = (("dout_after", "dout"),) + (() if own_cache else
                                         (("x_after", "x"), ("w_after", "w"), ("b_after", "b")))
    return views + _inputs(case, out, pairs)


def _relu_forward(case, out):
    x = case["x"]
    expected = layers.relu_forward(x)[0]
    return [View("out", "out", out.get("out"), expected, {"x": x},
                 tol=_tol(case, tol64=1e-6)),
            _dtype("out", out.get("out"), expected, x.dtype),
            View("x_after", "x_after", out.get("x_after"), x, {"x": x}, tol=0)]


def _relu_backward(case, out):
    x, dout = case["x"], case["dout"]
    dx = layers.relu_backward(dout, x)
    context = {"x": x, "dout": dout, "dx": dx}
    own_cache = int(out.get("own_cache", 0))
    return [View("dx", "dx", out.get("dx"), dx, context),
            View("dout_after", "dout_after", out.get("dout_after"), dout, context, tol=0),
            *_inputs(case, out, () if own_cache else (("x_after", "x"),))]


def _loss_views(fn):
    def views(case, out):
        x, y = case["x"], case["y"]
        loss, dx = fn(x.copy(), y)
        context = {"x": x, "y": y, "N": len(y)}
        return [View("loss", "loss", out.get("loss"), float(loss), context, tol=1e-8),
                View("dx", "dx", out.get("dx"), dx, context, tol=1e-6),
                *_inputs(case, out, (("x_after", "x"), ("y_after", "y")))]
    return views


def _tln_init(case, out):
    scale, views = case["weight_scale"], []
    for key in ("W1", "W2"):
        value = np.asarray(out.get(key), dtype=np.float64)
        ok = value.size > 1 and abs(value.std() - scale) < 0.1 * scale
        fix = scale * np.random.RandomState(0).standard_normal(value.shape)
        views.append(View(key, "W", value, None, {"weight_scale": scale}, ok=ok, fix=fix))
    for key in ("b1", "b2"):
        views.append(View(key, "b", out.get(key), np.zeros(np.shape(out.get(key)))))
    return views


def _reference_net(case, reg):
    model = ReferenceNet(input_dim=case["D"], hidden_dim=case["H"], num_classes=case["C"],
                         reg=reg)
    model.params = {key: np.array(case[key], copy=True) for key in PARAM_NAMES}
    return model


def _params(case):
    return {key: case[key] for key in PARAM_NAMES}


def _tln_init_float32(case, out):
    return [_dtype(key, out.get(key), None, np.float32) for key in PARAM_NAMES]


def _tln_scores(case, out):
    pairs = [("X_after", "X")] + [(key + "_after", key) for key in PARAM_NAMES]
    return [View("scores", "scores", out.get("scores"), _reference_net(case, 0.0).loss(case["X"]),
                 {"net": case}, tol=1e-8), *_inputs(case, out, pairs)]


def _tln_loss(case, out):
    views = []
    for key, reg in (("loss", 0.0), ("loss_reg", float(case["reg"]))):
        loss = float(_reference_net(case, reg).loss(case["X"], case["y"])[0])
        views.append(View(key, "loss", out.get(key), loss,
                          {"reg": reg, "params": _params(case), "net": case}, tol=1e-8))
    return views


def _tln_grads(case, out):
    reg = float(case["reg"])
    _, grads = _reference_net(case, reg).loss(case["X"], case["y"])
    views = []
    for key in PARAM_NAMES:
        context = {"reg": reg, "param": case[key], "N": len(case["X"])}
        role = "dW" if key.startswith("W") else "db"
        views.append(View("d" + key, role, out.get("d" + key), grads[key], context, tol=1e-7))
    return views


def _sgd_step(case, out):
    views = []
    for suffix in ("_matrix", "_vector"):
        w, dw, lr = case["w" + suffix], case["dw" + suffix], case["learning_rate"]
        views.append(View("next_w" + suffix, "next_w", out.get("next_w" + suffix),
                          w - lr * dw, {"w": w, "dw": dw, "lr": lr}, tol=1e-10))
    return views + _inputs(case, out, (("dw_after_matrix", "dw_matrix"),
                                       ("dw_after_vector", "dw_vector")))


def _sgd_default(case, out):
    w, dw = case["w_matrix"], case["dw_matrix"]
    return [View("next_w_" + key, "next_w_default", out.get("next_w_" + key), w - 1e-2 * dw,
                 {"w": w, "dw": dw, "lr": 1e-2}, tol=1e-10)
            for key in ("omitted", "none", "empty")]


VIEWS = {
    "affine_forward_probe": _affine_forward,
    "affine_backward_probe": _affine_backward,
    "relu_forward_probe": _relu_forward,
    "relu_backward_probe": _relu_backward,
    "softmax_loss_probe": _loss_views(layers.softmax_loss),
    "svm_loss_probe": _loss_views(layers.svm_loss),
    "tln_init_probe": _tln_init,
    "tln_init_float32_probe": _tln_init_float32,
    "tln_scores_probe": _tln_scores,
    "tln_loss_probe": _tln_loss,
    "tln_grads_probe": _tln_grads,
    "sgd_step_probe": _sgd_step,
    "sgd_default_probe": _sgd_default,
}


# ----------------------------------------------------------------------------- grader-only tests

def _flattened_in_wrong_order(view):
    x, w, b = (view.context[k] for k in ("x", "w", "b"))
    if np.ndim(x) < 3:
        return False
    n = len(x)
    orders = (np.reshape(x, (n, -1), order="F"), np.reshape(x, (-1, n)).T,
              np.reshape(np.transpose(x), (n, -1)))
    return any(close(view.got, layers.affine_forward(flat, w, b)[0], view.tol)
               for flat in orders)


_MARGINS = (0.0, 0.5, 2.0, 10.0)


def _svm_with_margin(x, y, margin):
    """The hinge loss and gradient with margin `margin`: margin * L(x / margin) with L of
    margin 1, whose gradient is L'(x / margin) (a tiny margin stands in for 0)."""
    margin = max(margin, 1e-9)
    loss, dx = layers.svm_loss(x / margin, y)
    return margin * loss, dx


def _svm_wrong_margin(view):
    x, y = view.context["x"], view.context["y"]
    index = 0 if view.role == "loss" else 1
    return any(close(view.got, _svm_with_margin(x, y, m)[index], max(view.tol, 1e-7))
               for m in _MARGINS)


def _linear_scores(case):
    """The scores of the net with no ReLU between its two affine layers."""
    hidden = layers.affine_forward(case["X"], case["W1"], case["b1"])[0]
    return layers.affine_forward(hidden, case["W2"], case["b2"])[0]


def _relu_missing(view):
    case = view.context["net"]
    scores = _linear_scores(case)
    if view.role == "scores":
        return close(view.got, scores, view.tol)
    loss = float(layers.softmax_loss(scores, case["y"])[0])
    reg = view.context["reg"]
    loss += 0.5 * reg * sum(float(np.sum(case[k] ** 2)) for k in ("W1", "W2"))
    return close(view.got, loss, view.tol)


GRADER_TESTS = {
    "relu_missing": _relu_missing,
    "flattened_in_wrong_order": _flattened_in_wrong_order,
    "svm_wrong_margin": _svm_wrong_margin,
}


# ----------------------------------------------------------------------------- entry points

def diagnosis_of(check, case, outputs):
    """fcnet.diagnosis.Diagnosis of a failed hidden check, or None."""
    views = VIEWS.get(getattr(check.probe, "__name__", ""))
    if views is None:
        return None
    try:
        found = views(case, outputs)
    except Exception:  # outputs too malformed to compare: the general hint stays
        return None
    return diagnose(check, case, outputs, found, GRADER_TESTS)


def error_diagnosis(check, message):
    """Diagnosis of a hidden check whose probe raised `message`, or None."""
    return diagnose_error(check.qid, message)
