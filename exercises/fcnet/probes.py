"""How each question calls the student's code: one probe per way of calling, used by the
grader's hidden checks and by `grader.check` in the notebook alike (fcnet.checks).

A probe gets the student's namespace `ns` and a case of plain arrays and numbers, calls
the student's objects, and returns a dict of arrays and numbers. It never sees an
expected answer: the comparisons (`judge`) happen outside, in the grader's process or,
in the notebook, after the probe returns.

This module travels into the grader's sandboxed worker as source text (it is never on
the worker's disk), so it may import only numpy and fcnet, and every probe is a
top-level function: the worker looks probes up by name. Inputs are copied before each call so that a student
function that writes into its arguments cannot change the case, and the arrays as they
are after the call are reported for the "inputs left unmodified" checks.
"""
import contextlib
import types

import numpy as np

from fcnet.inline_answers import chosen_letters

# Questions whose student code runs on top of the layers: in grading on the answer key's
# (decoupled grading), in the notebook on the student's own (fcnet.public_checks does
# not blame them for a layer that fails its own check).
DECOUPLED = frozenset({"two_layer_net", "training"})
# The layer names a TwoLayerNet calls. When two_layer_net and training are graded, these
# names resolve to the answer key's layers, wherever the student's class looks them up.
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
    """Within the block: a view of `ns` in which the student's code sees `reference`'s
    layers under the layer names. Use the namespace it yields.

    The student's own namespaces are never changed, so the reference layers are never
    reachable from the student's own globals: every student function reachable from
    `ns` (through globals, closures, classes and their bases) is copied with globals that
    are a copy of its module's globals, in which the layer names are the reference's and
    the student's other functions and classes are copies too (a TwoLayerNet imported
    from chapter 4 looks its layers up in chapter 4's globals, a helper in its own).
    """
    yield _Rebinder(reference).namespace(ns)


class _Rebinder:
    def __init__(self, reference):
        self.layers = {n: reference[n] for n in REFERENCE_NAMES if n in reference}
        self.globals, self.copies, self.pending = {}, {}, []

    def namespace(self, ns):
        view = {name: self.copy(value) for name, value in ns.items()}
        view.update(self.layers)
        while self.pending:  # filled after the copies exist, so cycles end
            overlay = self.pending.pop()
            for name, value in list(overlay.items()):
                if name not in self.layers:
                    overlay[name] = self.copy(value)
        return view

    def copy(self, obj):
        if id(obj) in self.copies:
            return self.copies[id(obj)]
        if isinstance(obj, type) and _student_functions(obj) and not _is_library(obj):
            return self._copy_class(obj)
        if isinstance(obj, types.FunctionType) and not _is_library(obj):
            return self._copy_function(obj)
        return obj

    def _overlay(self, module_globals):
        key = id(module_globals)
        if key not in self.globals:
            overlay = {**module_globals, **self.layers}
            self.globals[key] = overlay
            self.pending.append(overlay)
        return self.globals[key]

    def _copy_function(self, func, class_cell=None):
        cells = None
        if func.__closure__:
            cells = tuple(class_cell if name == "__class__" and class_cell is not None
                          else types.CellType(self._cell_copy(cell))
                          for name, cell in zip(func.__code__.co_freevars, func.__closure__))
        clone = types.FunctionType(func.__code__, self._overlay(func.__globals__),
                                   func.__name__, func.__defaults__, cells)
        clone.__kwdefaults__ = func.__kwdefaults__
        clone.__dict__.update(func.__dict__)
        clone.__qualname__, clone.__module__ = func.__qualname__, func.__module__
        self.copies[id(func)] = clone
        return clone

    def _cell_copy(self, cell):
        try:
            return self.copy(cell.cell_contents)
        except ValueError:  # an empty cell
            return None

    def _copy_class(self, cls):
        self.copies[id(cls)] = cls  # while in progress (a class in its own closure)
        class_cell = types.CellType()
        slots = getattr(cls, "__slots__", ())
        slots = {slots} if isinstance(slots, str) else set(slots or ())
        body = {}
        for name, member in vars(cls).items():
            if name in ("__dict__", "__weakref__") or name in slots:
                continue
            body[name] = self._copy_member(member, class_cell)
        bases = tuple(self.copy(base) for base in cls.__bases__)
        clone = type(cls)(cls.__name__, bases, body)
        class_cell.cell_contents = clone
        self.copies[id(cls)] = clone
        return clone

    def _copy_member(self, member, class_cell):
        if isinstance(member, staticmethod):
            return staticmethod(self._copy_member(member.__func__, class_cell))
        if isinstance(member, classmethod):
            return classmethod(self._copy_member(member.__func__, class_cell))
        if isinstance(member, property):
            parts = [member.fget, member.fset, member.fdel]
            return property(*[p and self._copy_member(p, class_cell) for p in parts],
                            member.__doc__)
        if isinstance(member, types.FunctionType) and not _is_library(member):
            if id(member) in self.copies:
                return self.copies[id(member)]
            return self._copy_function(member, class_cell)
        return member


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
    letters = chosen_letters(ns[str(case["qid"])])
    return {"letters": "".join(letters)[:64], "answered": bool(letters)}


# ------------------------------------------------------------------------- best model

def best_model_probe(ns, case):
    """Accuracy per graded view of the submitted parameters (no student code runs:
    `ns["best_model_params"]` holds the four arrays read from best_model.npz). Runs in
    the grader only: case["_views"] are autograder/best_model.py's views, built there."""
    # float32 halves the time of 10,000 images; the accuracy does not notice.
    params = {k: np.asarray(v, dtype=np.float32) for k, v in ns["best_model_params"].items()}
    return {f"accuracy_{name}": view.accuracy(params) for name, view in case["_views"].items()}
