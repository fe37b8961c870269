"""Chapter 5, the solver: the checks of sgd."""
import numpy as np

from .. import probes
from ..checking import Check, CheckFailed
from ..diagnosis import View
from ..judging import close, input_views, unchanged

# ------------------------------------------------------------------------- sgd

def sgd_case(rng):
    m, n, k = (int(v) for v in rng.integers((2, 2, 2), (6, 7, 9)))
    return {"w_matrix": rng.standard_normal((m, n)), "dw_matrix": rng.standard_normal((m, n)),
            "w_vector": rng.standard_normal(k), "dw_vector": rng.standard_normal(k),
            "learning_rate": float(10 ** rng.uniform(-4, -1.5))}


def judge_sgd_step(case, out):
    for suffix in ("_matrix", "_vector"):
        expected = case["w" + suffix] - case["learning_rate"] * case["dw" + suffix]
        close("next_w" + suffix, out, expected, 1e-10)


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
    unchanged(out, case, (("dw_after_matrix", "dw_matrix"), ("dw_after_vector", "dw_vector")))


# ------------------------------------------------------------------------- views
# sgd's right step needs no answer key: the views and judges compute it from the case.

def sgd_step_views(case, out):
    views = []
    for suffix in ("_matrix", "_vector"):
        w, dw, lr = case["w" + suffix], case["dw" + suffix], case["learning_rate"]
        views.append(View("next_w" + suffix, "next_w", out.get("next_w" + suffix),
                          w - lr * dw, {"w": w, "dw": dw, "lr": lr}, tol=1e-10))
    return views + input_views(case, out, (("dw_after_matrix", "dw_matrix"),
                                           ("dw_after_vector", "dw_vector")))


def sgd_default_views(case, out):
    w, dw = case["w_matrix"], case["dw_matrix"]
    return [View("next_w_" + key, "next_w_default", out.get("next_w_" + key), w - 1e-2 * dw,
                 {"w": w, "dw": dw, "lr": 1e-2}, tol=1e-10)
            for key in ("omitted", "none", "empty")]


# ------------------------------------------------------------------------- checks

_SGD = ("sgd",)

CHECKS = [
    Check(qid="sgd", name="step",
          description="one step against the gradient, for a matrix and a vector",
          hint="next_w = w - learning_rate * dw, with learning_rate read from config",
          needs=_SGD, case_id="sgd.step", make_case=sgd_case, probe=probes.sgd_step_probe,
          judge=judge_sgd_step, weight=3, views=sgd_step_views),
    Check(qid="sgd", name="returns_config",
          description="returns (next_w, config), config keeping its rate",
          hint="return the config dict you were given as the second value",
          needs=_SGD, case_id="sgd.step", make_case=sgd_case, probe=probes.sgd_step_probe,
          judge=judge_sgd_config, weight=1, requires=("step",), views=sgd_step_views),
    Check(qid="sgd", name="default_rate",
          description="the default learning rate is 1e-2",
          hint="when config is None (or has no learning_rate), use 1e-2",
          needs=_SGD, case_id="sgd.step", make_case=sgd_case, probe=probes.sgd_default_probe,
          judge=judge_sgd_default, weight=1, views=sgd_default_views),
    Check(qid="sgd", name="dw_unmodified",
          description="dw is left unmodified",
          hint="scale dw into a new array rather than multiplying it in place",
          needs=_SGD, case_id="sgd.step", make_case=sgd_case, probe=probes.sgd_step_probe,
          judge=judge_sgd_unmodified, weight=1, requires=("step",),
          views=sgd_step_views),
]
