"""The public checks' fixed right answers, and the views the diagnosis reads them through.

fcnet.diagnosis names the mistake behind a failed check from `View`s: each output of a
probe next to its right value. In the notebook the right values are the fixed numbers of
the public checks (below) or the numeric gradients of the student's own forward pass or
loss; the checks in fcnet.public_checks use both the numbers and these views.
"""
import numpy as np

from .diagnosis import View, close


AFFINE_FORWARD_OUT = np.array([[1.49834967, 1.70660132, 1.91485297],
                                [3.25553199, 3.51413270, 3.77273342]])


def affine_forward_views(case, out):
    """The output next to the fixed right one (N = 2 examples)."""
    return [View("out", "out", out["out"], AFFINE_FORWARD_OUT, dict(case, N=2), tol=1e-7)]


def forward_ok(forward, make_case, expected):
    """1.0 when the student's forward gives the expected output of its own public check.
    The backward checks compare with numeric gradients of the student's own forward, so a
    mistake is only named in the backward pass when the forward is right."""
    try:
        got = forward(*make_case(None).values())[0]
        return float(close(got, expected, 1e-6))
    except Exception:
        return 0.0


def numeric_views(names, context_keys):
    """Each gradient next to the numeric gradient of the student's own forward."""
    def views(case, out):
        if not out["forward_ok"]:
            return []
        context = {k: case[k] for k in context_keys}
        context["N"] = len(case["x"])
        return [View(name, name, out[name], out[name + "_num"], context, tol=1e-6)
                for name in names]
    return views


RELU_FORWARD_OUT = np.array([[0., 0., 0., 0.],
                              [0., 0., 0.04545455, 0.13636364],
                              [0.22727273, 0.31818182, 0.40909091, 0.5]])


def relu_forward_views(case, out):
    """The output next to the fixed right one."""
    return [View("out", "out", out["out"], RELU_FORWARD_OUT, dict(case), tol=1e-7)]


def loss_views(expected_loss, tol_loss):
    """The loss next to its value for tiny scores (about right, within tol_loss), and dx
    next to the numeric gradient of the student's own loss."""
    def views(case, out):
        context = {"x": case["x"], "y": case["y"], "N": len(case["y"]), "approximate": True}
        loss = View("loss", "loss", out["loss"], expected_loss, context,
                    tol=tol_loss / expected_loss)
        return [loss, View("dx", "dx", out["dx"], out["dx_num"], context, tol=1e-6)]
    return views


def large_scores_views(large):
    """With scores moved by +-shift (`large`: (label, dtype, shift) triples), the loss and
    dx must be those of the same scores near 0."""
    def views(case, out):
        found = []
        signs = np.where(np.arange(len(case["x"])) % 2 == 0, 1.0, -1.0)[:, None]
        for label, _, shift in large:
            context = {"x": case["x"] + signs * shift, "y": case["y"], "N": len(case["y"])}
            tol = 1e-6 if label == "float64" else 1e-3
            found += [View(f"loss_{label}", "loss", out[f"loss_{label}"], out["loss"],
                           context, tol=tol),
                      View(f"dx_{label}", "dx", out[f"dx_{label}"], out["dx"], context,
                           tol=tol)]
        return found
    return views


def tln_init_views(std):
    """Weights next to the standard deviation `std` they should have; biases next to 0."""
    def views(case, out):
        found = []
        for key in ("W1", "W2"):
            value = np.asarray(out[key], dtype=np.float64)
            ok = value.size > 1 and abs(value.std() - std) < std / 10
            fix = std * np.random.RandomState(0).randn(*value.shape)
            found.append(View(key, "W", value, None, {"weight_scale": std}, ok=ok, fix=fix))
        for key in ("b1", "b2"):
            found.append(View(key, "b", out[key], np.zeros(np.shape(out[key]))))
        return found
    return views


TLN_SCORES = np.array([
    [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
    [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
    [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319]])


def tln_scores_views(case, out):
    """The scores next to the fixed right ones."""
    return [View("scores", "scores", out["scores"], TLN_SCORES, {}, tol=1e-7)]


TLN_LOSSES = {"loss_reg0": (0.0, 3.4702243556), "loss_reg1": (1.0, 26.5948426952)}


def tln_params(case):
    """The network's four parameters of a two-layer-net case."""
    return {k: case[k] for k in ("W1", "b1", "W2", "b2")}


def tln_loss_views(case, out):
    """Each loss next to its fixed right value, with the reg it was computed with."""
    return [View(key, "loss", out[key], expected, {"reg": reg, "params": tln_params(case)},
                 tol=1e-10) for key, (reg, expected) in TLN_LOSSES.items()]


def tln_grad_views(case, out):
    """Each gradient next to the numeric one of the student's own loss, when that loss is
    right (else there is nothing trustworthy to compare with)."""
    views = []
    if not out["loss_ok"]:
        return views
    for key in sorted(k for k in out if not k.endswith("_num") and "_reg" in k):
        name, reg = key.split("_reg")
        context = {"reg": float(reg), "param": case[name], "N": len(case["X"])}
        role = "dW" if name.startswith("W") else "db"
        views.append(View(key, role, out[key], out[key + "_num"], context, tol=1e-6))
    return views


def sgd_views(case, out):
    """The new weights next to the step the check asks for."""
    context = {"w": case["w"], "dw": case["dw"], "lr": case["learning_rate"]}
    expected = case["w"] - case["learning_rate"] * case["dw"]
    return [View("next_w", "next_w", out["next_w"], expected, context, tol=1e-8)]
