"""Every probe under its name, and decoupling with the layer names: the module a probe
task names its probe in. The grader's worker runs this module's text, so it may import
only numpy and fcnet.

(The probes of the questions not yet moved to fcnet/questions/ are still defined here.)
"""
import numpy as np

from fcnet import probing, questions
from fcnet.probing import PARAM_NAMES, copies, pair, triple  # noqa: F401
# A grader-side check's probe (autograder/hidden_checks/tuning.py), which the registry
# does not list: its question's CHECKS are empty.
from fcnet.questions.best_model import best_model_probe  # noqa: F401

LAYER_NAMES = questions.layer_names() + (
    "affine_relu_forward", "affine_relu_backward")
globals().update(questions.probes())


def decoupled(ns, reference):
    """fcnet.probing.decoupled with the layers a TwoLayerNet calls."""
    return probing.decoupled(ns, reference, LAYER_NAMES)


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
    (X,) = copies(case, "X")
    scores = model.loss(X)
    return {"scores": scores, "X_after": X, **_params_of(model, "_after")}


def tln_loss_probe(ns, case):
    """The loss with reg = 0 and with the case's reg, each from a fresh model."""
    out = {}
    for key, reg in (("loss", 0.0), ("loss_reg", float(case["reg"]))):
        model = _model_with_params(ns, case, reg)
        (X,) = copies(case, "X")
        loss, _ = pair(model.loss(X, np.array(case["y"])), "TwoLayerNet.loss(X, y)")
        out[key] = np.asarray(loss, dtype=np.float64)
    return out


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


# ------------------------------------------------------------------------- sgd

def _sgd_call(ns, w, dw, *config):
    return pair(ns["sgd"](w, dw, *config), "sgd")


def sgd_step_probe(ns, case):
    """One step with config {"learning_rate": lr} on a matrix and on a vector."""
    out = {}
    for suffix in ("_matrix", "_vector"):
        w, dw = copies(case, "w" + suffix, "dw" + suffix)
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
        w, dw = copies(case, "w_matrix", "dw_matrix")
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
