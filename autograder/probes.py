"""The student-side halves of the hidden checks: call the student's code, report what it did.

A probe gets the student's namespace `ns` and a case of plain arrays and numbers drawn by
the grader, calls the student's objects, and returns a dict of arrays and numbers. It
never sees an expected answer: the comparisons (`judge`) happen in the grader's process.

This module travels into the sandboxed worker as source text (it is never on the worker's
disk), so it may import only numpy and fcnet, and every probe is a top-level function:
the worker looks probes up by name. Inputs are copied before each call so that a student
function that writes into its arguments cannot change the case, and the arrays as they
are after the call are reported for the "inputs left unmodified" checks.
"""
import contextlib

import numpy as np

# The layer names a TwoLayerNet calls. When two_layer_net and training are graded, these
# names resolve to the answer key's layers (decoupled grading), wherever the student's
# class looks them up.
REFERENCE_NAMES = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                   "affine_relu_forward", "affine_relu_backward", "softmax_loss", "svm_loss")

PARAM_NAMES = ("W1", "b1", "W2", "b2")
_MISSING = object()


# ------------------------------------------------------------------------- decoupling

def _student_functions(obj):
    """Plain functions that make up `obj` (a function, or a class and its bases)."""
    if isinstance(obj, type):
        found = []
        for klass in obj.__mro__:
            if klass is object or _is_library(klass):
                continue
            for member in vars(klass).values():
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    found.extend(f for f in (member.fget, member.fset) if f is not None)
                elif callable(member) and hasattr(member, "__globals__"):
                    found.append(member)
        return found
    if callable(obj) and hasattr(obj, "__globals__") and not _is_library(obj):
        return [obj]
    return []


def _is_library(obj):
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in ("numpy", "fcnet", "builtins", "answer_key", "autograder")


@contextlib.contextmanager
def decoupled(ns, reference):
    """Within the block, the layer names seen by the student's code are `reference`'s.

    Patches `ns` itself and the globals of every student function and class method in it
    (a TwoLayerNet imported from chapter 4 looks its layers up in chapter 4's globals).
    Everything is put back afterwards.
    """
    targets = {id(ns): ns}
    for value in list(ns.values()):
        for func in _student_functions(value):
            targets.setdefault(id(func.__globals__), func.__globals__)
    saved = []
    for globals_dict in targets.values():
        for name in REFERENCE_NAMES:
            if name in reference:
                saved.append((globals_dict, name, globals_dict.get(name, _MISSING)))
                globals_dict[name] = reference[name]
    try:
        yield
    finally:
        for globals_dict, name, old in reversed(saved):
            if old is _MISSING:
                globals_dict.pop(name, None)
            else:
                globals_dict[name] = old


# ------------------------------------------------------------------------- helpers

def _copies(case, *names):
    return [np.array(case[name], copy=True) for name in names]


def _pair(result, what):
    """Unpack a (first, second) result, with a clear error when it is something else."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"{what} must return a tuple of two values, "
                        f"got {type(result).__name__}")
    return result


def _triple(result, what):
    if not isinstance(result, tuple) or len(result) != 3:
        raise TypeError(f"{what} must return a tuple (dx, dw, db), got {type(result).__name__}")
    return result


# ------------------------------------------------------------------------- layers

def affine_forward_probe(ns, case):
    """Call affine_forward(x, w, b); report out and the inputs as they are afterwards."""
    x, w, b = _copies(case, "x", "w", "b")
    out, _ = _pair(ns["affine_forward"](x, w, b), "affine_forward")
    return {"out": out, "x_after": x, "w_after": w, "b_after": b}


def affine_backward_probe(ns, case):
    """Call affine_backward(dout, (x, w, b)), the cache the docstring specifies.

    A backward written for another cache layout gets a second chance with the cache of
    the student's own affine_forward; the forward's outputs are not graded here.
    """
    x, w, b, dout = _copies(case, "x", "w", "b", "dout")
    backward = ns["affine_backward"]
    try:
        dx, dw, db = _triple(backward(dout, (x, w, b)), "affine_backward")
        route = 0
    except Exception as first_error:
        forward = ns.get("affine_forward")
        if forward is None:
            raise
        x, w, b, dout = _copies(case, "x", "w", "b", "dout")
        try:
            _, cache = _pair(forward(x.copy(), w.copy(), b.copy()), "affine_forward")
            dx, dw, db = _triple(backward(dout, cache), "affine_backward")
        except Exception:
            raise first_error from None
        route = 1
    return {"dx": dx, "dw": dw, "db": db, "dout_after": dout, "x_after": x, "w_after": w,
            "b_after": b, "own_cache": route}


def relu_forward_probe(ns, case):
    (x,) = _copies(case, "x")
    out, _ = _pair(ns["relu_forward"](x), "relu_forward")
    return {"out": out, "x_after": x}


def relu_backward_probe(ns, case):
    """Call relu_backward(dout, x) (the cache is the forward input), as relu_backward_probe
    for affine: another cache layout is retried with the student's own forward."""
    x, dout = _copies(case, "x", "dout")
    backward = ns["relu_backward"]
    try:
        dx = backward(dout, x)
        route = 0
    except Exception as first_error:
        forward = ns.get("relu_forward")
        if forward is None:
            raise
        x, dout = _copies(case, "x", "dout")
        try:
            _, cache = _pair(forward(x.copy()), "relu_forward")
            dx = backward(dout, cache)
        except Exception:
            raise first_error from None
        route = 1
    return {"dx": dx, "dout_after": dout, "x_after": x, "own_cache": route}


def _loss_probe(ns, case, name):
    x, y = _copies(case, "x", "y")
    loss, dx = _pair(ns[name](x, y), name)
    return {"loss": np.asarray(loss, dtype=np.float64), "dx": dx, "x_after": x, "y_after": y}


def softmax_loss_probe(ns, case):
    return _loss_probe(ns, case, "softmax_loss")


def svm_loss_probe(ns, case):
    return _loss_probe(ns, case, "svm_loss")


# ------------------------------------------------------------------------- two-layer net

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


def tln_init_probe(ns, case):
    """A fresh TwoLayerNet (np.random seeded by the case): its parameters as created."""
    np.random.seed(int(case["np_seed"]))
    return _params_of(_new_model(ns, case, reg=float(case["reg"])))


def tln_init_float32_probe(ns, case):
    np.random.seed(int(case["np_seed"]))
    return _params_of(_new_model(ns, case, dtype=np.float32))


def tln_scores_probe(ns, case):
    """Scores for X with the case's parameters; X and the parameters as they are after."""
    model = _model_with_params(ns, case)
    (X,) = _copies(case, "X")
    scores = model.loss(X)
    return {"scores": scores, "X_after": X, **_params_of(model, "_after")}


def tln_loss_probe(ns, case):
    """The loss with reg = 0 and with the case's reg, each from a fresh model."""
    out = {}
    for key, reg in (("loss", 0.0), ("loss_reg", float(case["reg"]))):
        model = _model_with_params(ns, case, reg)
        (X,) = _copies(case, "X")
        loss, _ = _pair(model.loss(X, np.array(case["y"])), "TwoLayerNet.loss(X, y)")
        out[key] = np.asarray(loss, dtype=np.float64)
    return out


def tln_grads_probe(ns, case):
    """The gradients of one loss(X, y) call on a fresh model, with the case's reg."""
    model = _model_with_params(ns, case, float(case["reg"]))
    (X,) = _copies(case, "X")
    _, grads = _pair(model.loss(X, np.array(case["y"])), "TwoLayerNet.loss(X, y)")
    if not isinstance(grads, dict):
        raise TypeError(f"grads must be a dict, got {type(grads).__name__}")
    missing = [k for k in PARAM_NAMES if k not in grads]
    if missing:
        raise KeyError(f"grads has no entry {', '.join(missing)}")
    return {"d" + key: grads[key] for key in PARAM_NAMES}


# ------------------------------------------------------------------------- sgd

def _sgd_call(ns, w, dw, *config):
    return _pair(ns["sgd"](w, dw, *config), "sgd")


def sgd_step_probe(ns, case):
    """One step with config {"learning_rate": lr} on a matrix and on a vector."""
    out = {}
    for suffix in ("_matrix", "_vector"):
        w, dw = _copies(case, "w" + suffix, "dw" + suffix)
        config = {"learning_rate": float(case["learning_rate"])}
        next_w, config_out = _sgd_call(ns, w, dw, config)
        out["next_w" + suffix] = next_w
        out["dw_after" + suffix] = dw
        out["config_is_dict" + suffix] = isinstance(config_out, dict)
        rate = config_out.get("learning_rate") if isinstance(config_out, dict) else None
        out["config_rate" + suffix] = float(rate) if isinstance(rate, (int, float)) else np.nan
    return out


def sgd_default_probe(ns, case):
    """Steps without a learning rate: config omitted, None and {} (default 1e-2)."""
    out = {}
    for key, config in (("omitted", ()), ("none", (None,)), ("empty", ({},))):
        w, dw = _copies(case, "w_matrix", "dw_matrix")
        next_w, _ = _sgd_call(ns, w, dw, *config)
        out["next_w_" + key] = next_w
    return out


# ------------------------------------------------------------------------- training

def training_probe(ns, case):
    """Train the student's TwoLayerNet with the student's sgd by fcnet's Solver.

    Returns the parameters right after construction and the ones the Solver leaves in
    the model (the best on validation); the grader scores both on data it keeps.
    """
    from fcnet.solver import Solver

    np.random.seed(int(case["np_seed"]))
    model = ns["TwoLayerNet"](input_dim=int(case["D"]), hidden_dim=int(case["hidden_dim"]),
                              num_classes=10, weight_scale=float(case["weight_scale"]),
                              reg=float(case["reg"]))
    start = {key + "_init": np.array(model.params[key], copy=True) for key in PARAM_NAMES}
    data = {key: np.array(case[key], copy=True)
            for key in ("X_train", "y_train", "X_val", "y_val")}
    solver = Solver(model, data, update_rule=ns["sgd"],
                    optim_config={"learning_rate": float(case["learning_rate"])},
                    lr_decay=float(case["lr_decay"]), num_epochs=int(case["num_epochs"]),
                    batch_size=int(case["batch_size"]), num_train_samples=200,
                    verbose=False, seed=int(case["np_seed"]))
    solver.train()
    end = {key: model.params[key] for key in PARAM_NAMES}
    return {**start, **end, "iterations": len(solver.loss_history)}


# ------------------------------------------------------------------------- inline questions

def inline_probe(ns, case):
    """The chosen option letters, as one sorted string ("" when the answer is empty)."""
    qid = str(case["qid"])
    answer = ns[qid]
    if answer is None:
        return {"letters": "", "answered": False}
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    letters = sorted({str(a).strip().upper() for a in answer})
    return {"letters": "".join(letters)[:64], "answered": bool(letters)}


# ------------------------------------------------------------------------- best model

def best_model_probe(ns, case):
    """Classify the grader's images with the submitted parameters (no student code runs:
    `ns["best_model_params"]` holds the four arrays read from best_model.npz)."""
    # float32 halves the time of 10,000 images; the accuracy does not notice.
    params = {k: np.asarray(v, dtype=np.float32) for k, v in ns["best_model_params"].items()}
    X = np.asarray(case["X"], dtype=np.float32).reshape(len(case["X"]), -1)
    correct = 0
    for start in range(0, len(X), 1000):  # bounded memory for wide hidden layers
        hidden = np.maximum(X[start:start + 1000] @ params["W1"] + params["b1"], 0)
        scores = hidden @ params["W2"] + params["b2"]
        correct += int(np.sum(np.argmax(scores, axis=1) == case["y"][start:start + 1000]))
    return {"accuracy": correct / len(X)}
