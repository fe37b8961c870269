"""Chapter 4, the two-layer net: the checks of TwoLayerNet's init, scores, loss, grads.

In grading, the TwoLayerNet runs on the answer key's layers (fcnet.probes.decoupled);
in the notebook on the student's own, and fcnet.public_checks does not blame the net
for a layer that fails its own check.
"""
import numpy as np

from .. import probes
from ..checking import Check, CheckFailed, expect_shape
from ..diagnosis import View
from ..judging import (AT_SCALE_HINT, array, close, dtype_view, expected, input_views,
                      judge_gradient, labels, relative_error, scalar, unchanged)

# ------------------------------------------------------------------------- initialisation

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
        expect_shape(f"params[{key!r}]", array(out, key), shape)


def judge_tln_init_statistics(case, out):
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


def judge_tln_init_float32(case, out):
    wrong = [key for key in probes.PARAM_NAMES
             if not isinstance(out.get(key), np.ndarray) or out[key].dtype != np.float32]
    if wrong:
        raise CheckFailed(f"with dtype=np.float32, params {', '.join(wrong)} are not float32")


# ------------------------------------------------------------------------- scores, loss, grads

def tln_net_case(rng, reg=None):
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


def tln_net_case_no_reg(rng):
    return tln_net_case(rng, reg=0.0)


def tln_net_case_at_scale(rng):
    """A net of realistic size: 500 inputs, 300 hidden units, 10 classes, 200 examples
    (153,310 parameters: hours as numeric gradients, milliseconds by backpropagation)."""
    d, h, c, n = 500, 300, 10, 200
    return {"D": d, "H": h, "C": c, "weight_scale": 1e-3, "reg": 0.1,
            "X": rng.standard_normal((n, d)), "y": labels(rng, n, c),
            "W1": 0.05 * rng.standard_normal((d, h)), "b1": 0.1 * rng.standard_normal(h),
            "W2": 0.05 * rng.standard_normal((h, c)), "b2": 0.1 * rng.standard_normal(c)}


# The expected values: "scores", "loss", "loss_reg", the analytic gradients "dW1" ... and
# (small cases) the numeric ones "dW1_numeric" ... of the loss with the case's reg.

def judge_tln_scores(case, out):
    close("scores", out, expected(case)["scores"], 1e-8)


def judge_tln_unmodified(case, out):
    unchanged(out, case, [("X_after", "X")] + [(k + "_after", k) for k in probes.PARAM_NAMES])


def _judge_tln_loss(key, what):
    def judge(case, out):
        error = relative_error(scalar(out, key), expected(case)[key])
        if not error < 1e-8:
            raise CheckFailed(f"the loss {what} is off: relative error {error:.1e}")
    return judge


# ------------------------------------------------------------------------- views

def tln_init_views(case, out):
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
    return {key: case[key] for key in probes.PARAM_NAMES}


def tln_scores_views(case, out):
    pairs = [("X_after", "X")] + [(key + "_after", key) for key in probes.PARAM_NAMES]
    return [View("scores", "scores", out.get("scores"), expected(case)["scores"],
                 {"net": case}, tol=1e-8), *input_views(case, out, pairs)]


def tln_init_float32_views(case, out):
    return [dtype_view(key, out.get(key), None, np.float32) for key in probes.PARAM_NAMES]


def tln_loss_views(case, out):
    right = expected(case)
    return [View(key, "loss", out.get(key), float(right[key]),
                 {"reg": reg, "params": _params(case), "net": case}, tol=1e-8)
            for key, reg in (("loss", 0.0), ("loss_reg", float(case["reg"])))]


def tln_grads_views(case, out):
    reg, right, views = float(case["reg"]), expected(case), []
    for key in probes.PARAM_NAMES:
        context = {"reg": reg, "param": case[key], "N": len(case["X"])}
        role = "dW" if key.startswith("W") else "db"
        views.append(View("d" + key, role, out.get("d" + key), right["d" + key], context,
                          tol=1e-7))
    return views


# ------------------------------------------------------------------------- checks

_NET = ("TwoLayerNet",)

_INIT_CHECKS = [
    Check(qid="two_layer_net", name="init_shapes",
          description="parameters have the right names and shapes",
          hint="W1 is (input_dim, hidden_dim), b1 (hidden_dim,), W2 (hidden_dim, "
               "num_classes), b2 (num_classes,)",
          needs=_NET, case_id="two_layer_net.init", make_case=tln_init_case,
          probe=probes.tln_init_probe, views=tln_init_views,
          judge=judge_tln_init_shapes, weight=1, requires=("init_statistics",)),
    Check(qid="two_layer_net", name="init_statistics",
          description="weights ~ N(0, weight_scale^2), biases zero",
          hint="scale standard-normal weights by weight_scale (the argument, not a "
               "constant) and start biases at zero",
          needs=_NET, case_id="two_layer_net.init", make_case=tln_init_case,
          probe=probes.tln_init_probe, views=tln_init_views,
          judge=judge_tln_init_statistics, weight=2),
    Check(qid="two_layer_net", name="init_dtype",
          description="dtype=np.float32 gives float32 parameters",
          hint="convert every parameter to the dtype argument",
          needs=_NET, case_id="two_layer_net.init", make_case=tln_init_case,
          probe=probes.tln_init_float32_probe, views=tln_init_float32_views,
          judge=judge_tln_init_float32, weight=1, requires=("init_statistics",)),
]

_FORWARD_CHECKS = [
    Check(qid="two_layer_net", name="scores",
          description="loss(X) returns the class scores",
          hint="affine - relu - affine, and return the raw scores (no softmax) when y is "
               "None",
          needs=_NET, case_id="two_layer_net.net", make_case=tln_net_case,
          probe=probes.tln_scores_probe, views=tln_scores_views,
          judge=judge_tln_scores, weight=2),
    Check(qid="two_layer_net", name="inputs_unmodified",
          description="loss(X) leaves X and params unmodified",
          hint="never write into X or the parameter arrays inside loss",
          needs=_NET, case_id="two_layer_net.net", make_case=tln_net_case,
          probe=probes.tln_scores_probe, views=tln_scores_views,
          judge=judge_tln_unmodified, weight=1, requires=("scores",)),
    Check(qid="two_layer_net", name="loss",
          description="loss(X, y) without regularisation",
          hint="the data loss is softmax_loss of the scores",
          needs=_NET, case_id="two_layer_net.net", make_case=tln_net_case,
          probe=probes.tln_loss_probe, views=tln_loss_views,
          judge=_judge_tln_loss("loss", "without regularisation"), weight=2),
    Check(qid="two_layer_net", name="loss_reg",
          description="loss(X, y) with regularisation",
          hint="add 0.5 * reg * (sum of W1 squared + sum of W2 squared), using self.reg",
          needs=_NET, case_id="two_layer_net.net", make_case=tln_net_case,
          probe=probes.tln_loss_probe, views=tln_loss_views,
          judge=_judge_tln_loss("loss_reg", "with regularisation"), weight=2),
]

_GRADIENT_CHECKS = [
    *[Check(qid="two_layer_net", name=f"grad_{key}",
            description=f"grads[{key!r}] agrees with a numeric gradient",
            hint="backpropagate through affine - relu - affine with the backward layers, in "
                 "reverse order",
            needs=_NET, case_id="two_layer_net.net_no_reg", make_case=tln_net_case_no_reg,
            probe=probes.tln_grads_probe, judge=judge_gradient("d" + key), weight=1,
            requires=("grads_at_scale",), views=tln_grads_views)
      for key in probes.PARAM_NAMES],
    Check(qid="two_layer_net", name="grads_reg",
          description="weight gradients include the regularisation",
          hint="add reg * W to the gradient of each weight matrix (not to the biases)",
          needs=_NET, case_id="two_layer_net.net", make_case=tln_net_case,
          probe=probes.tln_grads_probe, judge=judge_gradient("dW1", "db1", "dW2", "db2"),
          weight=2, requires=("grads_at_scale",), views=tln_grads_views),
    Check(qid="two_layer_net", name="grads_at_scale",
          description="all four gradients for 500 inputs, 300 hidden units and 200 examples",
          hint=AT_SCALE_HINT,
          needs=_NET, case_id="two_layer_net.at_scale", make_case=tln_net_case_at_scale,
          probe=probes.tln_grads_probe, judge=judge_gradient("dW1", "db1", "dW2", "db2"),
          weight=1, public=False, views=tln_grads_views),
]

CHECKS = _INIT_CHECKS + _FORWARD_CHECKS + _GRADIENT_CHECKS
