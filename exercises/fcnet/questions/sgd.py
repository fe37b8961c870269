"""Chapter 5: sgd(w, dw, config=None) -> (next_w, config), one step of gradient descent.

sgd's right step needs no answer key: the judges and views compute it from the case.
"""
import re
from functools import partial

import numpy as np

from ..checking import Check, CheckFailed
from ..diagnosis import ErrorMistake, Mistake, View, as_array, close as near
from ..judging import close, input_views, unchanged
from ..mistakes import input_modified_rule
from ..probing import copies, pair, returns, same_shapes

ID = "sgd"
CHAPTER = "05_solver"
ORDER = 1  # its place among its chapter's questions
POINTS = 5
GRADES = ("sgd",)


# ------------------------------------------------------------------------- probes

def _sgd_call(ns, w, dw, *config):
    return pair(ns["sgd"](w, dw, *config), "sgd")


@returns(lambda case: same_shapes(case, next_w_matrix="w_matrix", next_w_vector="w_vector",
                                  dw_after_matrix="w_matrix", dw_after_vector="w_vector"))
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


@returns(lambda case: same_shapes(case, next_w_omitted="w_matrix", next_w_none="w_matrix",
                                  next_w_empty="w_matrix"))
def sgd_default_probe(ns, case):
    """Steps without a learning rate: config omitted, None and {} (default 1e-2)."""
    out = {}
    for key, config in (("omitted", ()), ("none", (None,)), ("empty", ({},))):
        w, dw = copies(case, "w_matrix", "dw_matrix")
        next_w, _ = _sgd_call(ns, w, dw, *config)
        out["next_w_" + key] = next_w
    return out


# ------------------------------------------------------------------------- cases

def step_case(rng):
    m, n, k = (int(v) for v in rng.integers((2, 2, 2), (6, 7, 9)))
    return {"w_matrix": rng.standard_normal((m, n)), "dw_matrix": rng.standard_normal((m, n)),
            "w_vector": rng.standard_normal(k), "dw_vector": rng.standard_normal(k),
            "learning_rate": float(10 ** rng.uniform(-4, -1.5))}


# ------------------------------------------------------------------------- judges

def judge_step(case, out):
    for suffix in ("_matrix", "_vector"):
        right = case["w" + suffix] - case["learning_rate"] * case["dw" + suffix]
        close("next_w" + suffix, out, right, 1e-10)


def judge_config(case, out):
    for suffix in ("_matrix", "_vector"):
        if not out.get("config_is_dict" + suffix):
            raise CheckFailed("the second value sgd returns must be the config dict")
        rate = out.get("config_rate" + suffix)
        if not (isinstance(rate, float) and rate == case["learning_rate"]):
            raise CheckFailed("the returned config must keep the learning_rate it was given")


def judge_default(case, out):
    right = case["w_matrix"] - 1e-2 * case["dw_matrix"]
    for key, words in (("omitted", "without a config"), ("none", "with config=None"),
                       ("empty", "with an empty config")):
        value = out.get("next_w_" + key)
        if not isinstance(value, np.ndarray) or value.shape != right.shape \
                or not np.allclose(value, right, rtol=1e-10, atol=0):
            raise CheckFailed(f"{words}, sgd should step with the default learning rate 1e-2")


def judge_unmodified(case, out):
    unchanged(out, case, (("dw_after_matrix", "dw_matrix"), ("dw_after_vector", "dw_vector")))


# ------------------------------------------------------------------------- views

def step_views(case, out):
    views = []
    for suffix in ("_matrix", "_vector"):
        w, dw, lr = case["w" + suffix], case["dw" + suffix], case["learning_rate"]
        views.append(View("next_w" + suffix, "next_w", out.get("next_w" + suffix),
                          w - lr * dw, {"w": w, "dw": dw, "lr": lr}, tol=1e-10))
    return views + input_views(case, out, (("dw_after_matrix", "dw_matrix"),
                                           ("dw_after_vector", "dw_vector")))


def default_views(case, out):
    w, dw = case["w_matrix"], case["dw_matrix"]
    return [View("next_w_" + key, "next_w_default", out.get("next_w_" + key), w - 1e-2 * dw,
                 {"w": w, "dw": dw, "lr": 1e-2}, tol=1e-10)
            for key in ("omitted", "none", "empty")]


# ------------------------------------------------------------------------- mistakes

def _rate(view):
    """The k for which got = w - k * dw, or None when got is not of that form."""
    got, w, dw = (as_array(v) for v in (view.got, view.context["w"], view.context["dw"]))
    if got is None or got.shape != w.shape or not np.all(np.isfinite(got)):
        return None
    k = float(np.vdot(w - got, dw) / max(np.vdot(dw, dw), 1e-300))
    return k if near(got, w - k * dw, 1e-9) else None


def _rate_is(test):
    def match(view):
        k = _rate(view)
        return k is not None and test(k, float(view.context["lr"]))
    return match


def _returned_old_weights(view):
    return view.got is None or near(view.got, view.context["w"], 1e-12)


MISTAKES = (
    Mistake(ID, "next_w", "sgd_sign_flipped",
            "Your step goes up the gradient: the new weights are w + learning_rate * dw. "
            "Gradient descent subtracts the step.", _rate_is(lambda k, lr: near(k, -lr, 1e-9))),
    Mistake(ID, "next_w", "sgd_weights_not_returned",
            "sgd does not return the new weights: it returns the old ones (or None). Return "
            "the updated weights as the first value.", _returned_old_weights),
    Mistake(ID, "next_w", "sgd_rate_not_from_config",
            "Your step uses another learning rate than the one in config. Read the "
            "learning_rate entry of config on every call.",
            _rate_is(lambda k, lr: k > 0 and not near(k, lr, 1e-9))),
    Mistake(ID, "next_w_default", "sgd_wrong_default_rate",
            "Without a learning rate in config, sgd must step with the default 1e-2.",
            _rate_is(lambda k, lr: k > 0 and not near(k, lr, 1e-9))),
    input_modified_rule(ID, "input", "Your sgd writes into an array it is given (dw)"),
    ErrorMistake(ID, "sgd_no_default_config",
                 "sgd fails when config is None or has no learning_rate. Start from an empty "
                 "dict when config is None and use the default 1e-2 when the rate is missing.",
                 re.compile(r"NoneType|KeyError: '?learning_rate|"
                            r"missing 1 required positional argument: 'config'").search),
)


# ------------------------------------------------------------------------- checks

_check = partial(Check, qid=ID, needs=GRADES, case_id="sgd.step", make_case=step_case,
                 mistakes=MISTAKES)
_step = partial(_check, probe=sgd_step_probe, views=step_views)

CHECKS = [
    _step(name="step",
          description="one step against the gradient, for a matrix and a vector",
          hint="next_w = w - learning_rate * dw, with learning_rate read from config",
          judge=judge_step, weight=3),
    _step(name="returns_config",
          description="returns (next_w, config), config keeping its rate",
          hint="return the config dict you were given as the second value",
          judge=judge_config, weight=1, requires=("step",)),
    _check(name="default_rate", description="the default learning rate is 1e-2",
           hint="when config is None (or has no learning_rate), use 1e-2",
           probe=sgd_default_probe, judge=judge_default, weight=1, views=default_views),
    _step(name="dw_unmodified", description="dw is left unmodified",
          hint="scale dw into a new array rather than multiplying it in place",
          judge=judge_unmodified, weight=1, requires=("step",)),
]
