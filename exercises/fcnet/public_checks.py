"""The public checks behind `grader.check(qid)`: the numbers the chapter notebooks print.

They use fixed inputs, so a student can reproduce each one by hand. The instructor's hidden
checks ask the same questions on inputs drawn fresh at grading time.
"""
import numpy as np

from .checking import Check, CheckFailed, NotAnswered, expect_close, expect_shape
from .gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from .graded_training import (GRADED_TRAINING, TRAINING_LEARNS,  # noqa: F401 (re-exported)
                              TRAINING_LOSS_RATIO, TRAINING_THRESHOLD, graded_run_judge,
                              graded_run_probe)
from .inline_answers import chosen_letters
from .public_views import (AFFINE_FORWARD_OUT, RELU_FORWARD_OUT, TLN_LOSSES, TLN_SCORES,
                           affine_forward_views, forward_ok, large_scores_views, loss_views,
                           numeric_views, relu_forward_views, sgd_views, tln_grad_views,
                           tln_init_views, tln_loss_views, tln_scores_views)


def _seeded(seed):
    """A legacy RandomState, so that the inputs match the notebooks' np.random.seed(231)."""
    return np.random.RandomState(seed)


# ---------------------------------------------------------------- chapter 1: affine layer

def _affine_forward_case(rng):
    num_inputs, input_shape, output_dim = 2, (4, 5, 6), 3
    d = int(np.prod(input_shape))
    return {
        "x": np.linspace(-0.1, 0.5, num=num_inputs * d).reshape(num_inputs, *input_shape),
        "w": np.linspace(-0.2, 0.3, num=output_dim * d).reshape(d, output_dim),
        "b": np.linspace(-0.3, 0.1, num=output_dim),
    }


def _affine_forward_judge(case, out):
    expect_close("out", out["out"], AFFINE_FORWARD_OUT, 1e-8)


def _affine_backward_case(rng):
    r = _seeded(231)
    return {"x": r.randn(10, 2, 3), "w": r.randn(6, 5), "b": r.randn(5), "dout": r.randn(10, 5)}


def _affine_backward_probe(ns, case):
    forward, backward = ns["affine_forward"], ns["affine_backward"]
    x, w, b, dout = case["x"], case["w"], case["b"], case["dout"]
    _, cache = forward(x.copy(), w.copy(), b.copy())
    dx, dw, db = backward(dout.copy(), cache)
    return {
        "dx": dx, "dw": dw, "db": db,
        "dx_num": eval_numerical_gradient_array(lambda v: forward(v, w, b)[0], x.copy(), dout),
        "dw_num": eval_numerical_gradient_array(lambda v: forward(x, v, b)[0], w.copy(), dout),
        "db_num": eval_numerical_gradient_array(lambda v: forward(x, w, v)[0], b.copy(), dout),
        "forward_ok": forward_ok(forward, _affine_forward_case, AFFINE_FORWARD_OUT),
    }


def _numeric_judge(names, tol):
    def judge(case, out):
        for name in names:
            expect_close(name, out[name], out[name + "_num"], tol)
    return judge


# ---------------------------------------------------------------- chapter 2: ReLU

def _relu_forward_case(rng):
    return {"x": np.linspace(-0.5, 0.5, num=12).reshape(3, 4)}


def _relu_forward_judge(case, out):
    expect_close("out", out["out"], RELU_FORWARD_OUT, 1e-7)


def _relu_backward_case(rng):
    r = _seeded(231)
    x = r.randn(10, 10)
    return {"x": x, "dout": r.randn(*x.shape)}


def _relu_backward_probe(ns, case):
    forward, backward = ns["relu_forward"], ns["relu_backward"]
    x, dout = case["x"], case["dout"]
    _, cache = forward(x.copy())
    return {"dx": backward(dout.copy(), cache),
            "dx_num": eval_numerical_gradient_array(lambda v: forward(v)[0], x.copy(), dout),
            "forward_ok": forward_ok(forward, _relu_forward_case, RELU_FORWARD_OUT)}


# ---------------------------------------------------------------- inline questions

INLINE_OPTIONS = {"inline_q1": "ABCDE", "inline_q2": "ABCD", "inline_q3": "ABCDEF"}


def _inline_probe(qid):
    def probe(ns, case):
        answer = ns[qid]
        if answer is None or (hasattr(answer, "__len__") and len(answer) == 0):
            raise NotAnswered(f"{qid} is still empty: put the letters you choose in the set")
        return {"letters": "".join(chosen_letters(answer))}
    return probe


def _inline_judge(qid):
    def judge(case, out):
        bad = set(out["letters"]) - set(INLINE_OPTIONS[qid])
        if bad:
            raise CheckFailed(f"{qid} may only contain the letters "
                              f"{', '.join(INLINE_OPTIONS[qid])}; got {', '.join(sorted(bad))}")
    return judge


# ---------------------------------------------------------------- chapter 3: losses

def _loss_case(rng):
    r = _seeded(231)
    num_classes, num_inputs = 10, 50
    return {"x": 0.001 * r.randn(num_inputs, num_classes),
            "y": r.randint(num_classes, size=num_inputs)}


def _loss_probe(fname):
    def probe(ns, case):
        loss_fn = ns[fname]
        x, y = case["x"], case["y"]
        loss, dx = loss_fn(x.copy(), y)
        dx_num = eval_numerical_gradient(lambda v: loss_fn(v, y)[0], x.copy(), verbose=False)
        return {"loss": float(loss), "dx": dx, "dx_num": dx_num}
    return probe


def _loss_judge(expected_loss, tol_loss, tol_grad):
    def judge(case, out):
        if not abs(out["loss"] - expected_loss) < tol_loss:
            raise CheckFailed(f"loss is {out['loss']:.6f}; for tiny random scores it should be "
                              f"close to {expected_loss:.4f}")
        expect_close("dx", out["dx"], out["dx_num"], tol_grad)
    return judge


def _large_scores_case(rng):
    r = _seeded(231)
    num_classes, num_inputs = 10, 20
    return {"x": r.randn(num_inputs, num_classes), "y": r.randint(num_classes, size=num_inputs)}


# Every row of scores is moved by +-shift: far enough that exp() overflows (float64 above
# about 709, float32 above about 88) or underflows to 0 unless the scores are shifted first.
_LARGE = (("float64", np.float64, 1000.0), ("float32", np.float32, 100.0))


def _large_scores_probe(fname):
    def probe(ns, case):
        loss_fn, x, y = ns[fname], case["x"], case["y"]
        loss, dx = loss_fn(x.copy(), y)
        out = {"loss": float(loss), "dx": dx}
        signs = np.where(np.arange(len(x)) % 2 == 0, 1.0, -1.0)[:, None]
        for label, dtype, shift in _LARGE:
            loss, dx = loss_fn((x + signs * shift).astype(dtype), y)
            out[f"loss_{label}"], out[f"dx_{label}"] = float(loss), dx
        return out
    return probe


def _large_scores_judge(case, out):
    """Adding a constant to every score of a row changes neither loss: so with large
    scores the loss and dx must be finite and agree with those of the same scores near 0."""
    for label, _, shift in _LARGE:
        loss, dx = out[f"loss_{label}"], np.asarray(out[f"dx_{label}"], dtype=np.float64)
        where = f"with {label} scores around +-{shift:g}"
        if not np.isfinite(loss) or not np.all(np.isfinite(dx)):
            raise CheckFailed(f"{where} the loss or dx is NaN or infinite")
        tol = 1e-6 if label == "float64" else 1e-3
        if not abs(loss - out["loss"]) <= tol * max(1.0, abs(out["loss"])):
            raise CheckFailed(f"{where} the loss is {loss:.6g}, but moving a row's scores "
                              f"together should not change it ({out['loss']:.6g} near 0)")
        expect_close(f"dx ({label} scores around +-{shift:g})", dx, out["dx"], tol)


# ---------------------------------------------------------------- chapter 4: two-layer net

_TLN = {"N": 3, "D": 5, "H": 50, "C": 7, "std": 1e-3}


def _tln_case(rng):
    n, d, h, c = _TLN["N"], _TLN["D"], _TLN["H"], _TLN["C"]
    return {
        "W1": np.linspace(-0.7, 0.3, num=d * h).reshape(d, h),
        "b1": np.linspace(-0.1, 0.9, num=h),
        "W2": np.linspace(-0.3, 0.4, num=h * c).reshape(h, c),
        "b2": np.linspace(-0.9, 0.1, num=c),
        "X": np.linspace(-5.5, 4.5, num=n * d).reshape(d, n).T,
        "y": np.array([0, 5, 1]),
    }


def _tln_model(ns, case, reg=0.0):
    model = ns["TwoLayerNet"](input_dim=_TLN["D"], hidden_dim=_TLN["H"],
                              num_classes=_TLN["C"], weight_scale=_TLN["std"], reg=reg)
    for key in ("W1", "b1", "W2", "b2"):
        model.params[key] = case[key].copy()
    return model


def _tln_init_probe(ns, case):
    np.random.seed(231)
    model = ns["TwoLayerNet"](input_dim=_TLN["D"], hidden_dim=_TLN["H"],
                              num_classes=_TLN["C"], weight_scale=_TLN["std"])
    return {k: model.params[k] for k in ("W1", "b1", "W2", "b2")}


def _tln_init_judge(case, out):
    d, h, c, std = _TLN["D"], _TLN["H"], _TLN["C"], _TLN["std"]
    for key, shape in (("W1", (d, h)), ("b1", (h,)), ("W2", (h, c)), ("b2", (c,))):
        expect_shape(key, out[key], shape)
    for key in ("W1", "W2"):
        if not abs(out[key].std() - std) < std / 10:
            raise CheckFailed(f"{key} has standard deviation {out[key].std():.2e}, "
                              f"expected about weight_scale = {std:.0e}")
    for key in ("b1", "b2"):
        if not np.all(out[key] == 0):
            raise CheckFailed(f"{key} should start at zero")


def _tln_scores_probe(ns, case):
    return {"scores": _tln_model(ns, case).loss(case["X"])}


def _tln_scores_judge(case, out):
    expect_shape("scores", out["scores"], TLN_SCORES.shape)
    diff = float(np.abs(out["scores"] - TLN_SCORES).sum())
    if not diff < 1e-6:
        raise CheckFailed(f"scores differ from the expected ones by {diff:.2e} in total")


def _tln_loss_probe(ns, case):
    out = {}
    for reg in (0.0, 1.0):
        loss, _ = _tln_model(ns, case, reg=reg).loss(case["X"], case["y"])
        out[f"loss_reg{reg:g}"] = float(loss)
    return out


def _tln_loss_judge(case, out):
    for key, (_, expected) in TLN_LOSSES.items():
        if not abs(out[key] - expected) < 1e-10:
            raise CheckFailed(f"with reg={key[-1]} the loss is {out[key]:.10f}, "
                              f"expected {expected:.10f}")


def _tln_grad_probe(ns, case):
    # As for the layers: a mistake in the gradients is only named when the loss is right
    # (the numeric gradients are those of the student's own loss).
    losses = _tln_loss_probe(ns, case)
    right = all(abs(losses[key] - value) < 1e-10 for key, (_, value) in TLN_LOSSES.items())
    out = {"loss_ok": float(right)}
    for reg in (0.0, 0.7):
        model = _tln_model(ns, case, reg=reg)
        _, grads = model.loss(case["X"], case["y"])
        for name in ("W1", "b1", "W2", "b2"):
            num = eval_numerical_gradient(lambda _: model.loss(case["X"], case["y"])[0],
                                          model.params[name], verbose=False)
            out[f"{name}_reg{reg:g}"] = grads[name]
            out[f"{name}_reg{reg:g}_num"] = num
    return out


def _tln_grad_judge(case, out):
    for key in sorted(k for k in out if not k.endswith("_num") and "_reg" in k):
        expect_close(f"grads[{key.split('_')[0]!r}] (reg={key.split('reg')[1]})",
                     out[key], out[key + "_num"], 1e-6)


# ---------------------------------------------------------------- chapter 5: SGD and training

def _sgd_case(rng):
    n, d = 4, 5
    return {"w": np.linspace(-0.4, 0.6, num=n * d).reshape(n, d),
            "dw": np.linspace(-0.6, 0.4, num=n * d).reshape(n, d),
            "learning_rate": 1e-3}


def _sgd_probe(ns, case):
    next_w, config = ns["sgd"](case["w"].copy(), case["dw"].copy(),
                               {"learning_rate": case["learning_rate"]})
    if not isinstance(config, dict):
        raise CheckFailed("sgd must return the config dict as its second value")
    return {"next_w": next_w}


def _sgd_judge(case, out):
    expect_close("next_w", out["next_w"], case["w"] - case["learning_rate"] * case["dw"], 1e-8)


# Chapter 5's own run (all 49,000 images, ten epochs) should reach this; the graded run is
# smaller, with lower thresholds (autograder/points.py).
PUBLIC_TRAINING_ACCURACY = 0.36


def _training_probe(ns, case):
    solver = ns["solver"]
    if solver is None:
        raise NotAnswered("train a Solver and keep it in the variable `solver`")
    return {"best_val_acc": float(solver.best_val_acc)}


def _training_judge(case, out):
    if not out["best_val_acc"] >= PUBLIC_TRAINING_ACCURACY:
        raise CheckFailed(f"the best validation accuracy is {out['best_val_acc']:.3f}; "
                          f"aim for at least {PUBLIC_TRAINING_ACCURACY}")


# ---------------------------------------------------------------- chapter 6: the tuned model

def _best_model_probe(ns, case):
    """Like the grader (autograder/best_model.py), on the notebook's images: the
    validation accuracy, and the accuracy on their mirror images and on 1,000 training
    images, which it may exceed by at most 2 points."""
    model, data = ns["best_model"], ns["data"]
    if model is None:
        raise NotAnswered("keep your best trained network in the variable `best_model`")

    def accuracy(X, y):
        return float(np.mean(np.argmax(model.loss(X), axis=1) == y))

    return {"val_acc": accuracy(data["X_val"], data["y_val"]),
            "mirrored_val_acc": accuracy(data["X_val"][..., ::-1], data["y_val"]),
            "train_acc": accuracy(data["X_train"][:1000], data["y_train"][:1000])}


def _best_model_judge(case, out):
    counted = min(out["val_acc"], min(out["mirrored_val_acc"], out["train_acc"]) + 0.02)
    if not counted >= 0.48:
        raise CheckFailed(f"best_model counts {counted:.3f}: {out['val_acc']:.3f} on the "
                          f"validation images, at most 0.02 above {out['mirrored_val_acc']:.3f} "
                          f"on their mirror images and {out['train_acc']:.3f} on 1,000 training "
                          f"images; aim for at least 0.48")


def _no_case(rng):
    return {}


CHECKS = [
    Check("affine_forward", "seed_values", "affine_forward matches the expected output",
          "flatten each example to a row with x.reshape(N, -1) before multiplying by w, "
          "then add b to every row",
          ("affine_forward",), _affine_forward_case,
          lambda ns, c: {"out": ns["affine_forward"](c["x"], c["w"], c["b"])[0]},
          _affine_forward_judge, views=affine_forward_views),
    Check("affine_backward", "numeric_gradient", "affine_backward agrees with numeric gradients",
          "dx must have x's original (unflattened) shape, dw pairs the flattened inputs with "
          "dout, and db sums dout over the examples",
          ("affine_forward", "affine_backward"), _affine_backward_case,
          _affine_backward_probe, _numeric_judge(("dx", "dw", "db"), 1e-8),
          views=numeric_views(("dx", "dw", "db"), ("x", "w", "b", "dout"))),
    Check("relu_forward", "seed_values", "relu_forward matches the expected output",
          "keep positive values and replace negative ones by zero, elementwise",
          ("relu_forward",), _relu_forward_case,
          lambda ns, c: {"out": ns["relu_forward"](c["x"].copy())[0]}, _relu_forward_judge,
          views=relu_forward_views),
    Check("relu_backward", "numeric_gradient", "relu_backward agrees with numeric gradients",
          "pass dout through only where the forward input was positive",
          ("relu_forward", "relu_backward"), _relu_backward_case, _relu_backward_probe,
          _numeric_judge(("dx",), 1e-8), views=numeric_views(("dx",), ("x", "dout"))),
    Check("inline_q1", "format", "inline_q1 is a set of option letters",
          "answer with a set of capital letters, such as {\"B\"}",
          ("inline_q1",), _no_case, _inline_probe("inline_q1"), _inline_judge("inline_q1")),
    Check("softmax_loss", "seed_values", "softmax_loss is about log(10) with a correct gradient",
          "average the loss and the gradient over the N examples, and subtract the "
          "correct-class probability's 1 only at the label",
          ("softmax_loss",), _loss_case, _loss_probe("softmax_loss"),
          _loss_judge(np.log(10.0), 0.01, 1e-7), views=loss_views(np.log(10.0), 0.01)),
    Check("softmax_loss", "large_scores", "softmax_loss stays finite and unchanged for "
          "scores around +-1000 (float64) and +-100 (float32)",
          "subtract each row's largest score from the row before exponentiating",
          ("softmax_loss",), _large_scores_case, _large_scores_probe("softmax_loss"),
          _large_scores_judge, views=large_scores_views(_LARGE)),
    Check("svm_loss", "seed_values", "svm_loss is about 9 with a correct gradient",
          "skip the correct class in the sum of margins, and give the correct class "
          "minus the number of positive margins in the gradient",
          ("svm_loss",), _loss_case, _loss_probe("svm_loss"), _loss_judge(9.0, 0.02, 1e-7),
          views=loss_views(9.0, 0.02)),
    Check("svm_loss", "large_scores", "svm_loss stays finite and unchanged for "
          "scores around +-1000 (float64) and +-100 (float32)",
          "build the margins from differences of scores (s_j - s_y + 1), in the scores' "
          "own array, with no exponentials",
          ("svm_loss",), _large_scores_case, _large_scores_probe("svm_loss"),
          _large_scores_judge, views=large_scores_views(_LARGE)),
    Check("two_layer_net", "initialisation", "TwoLayerNet initialises weights and biases",
          "draw weights from a normal distribution scaled by weight_scale and start biases at 0",
          ("TwoLayerNet",), _no_case, _tln_init_probe, _tln_init_judge,
          views=tln_init_views(_TLN["std"])),
    Check("two_layer_net", "scores", "TwoLayerNet.loss(X) returns the expected scores",
          "compute affine - relu - affine and return the scores when y is None",
          ("TwoLayerNet",), _tln_case, _tln_scores_probe, _tln_scores_judge,
          views=tln_scores_views),
    Check("two_layer_net", "loss", "TwoLayerNet.loss(X, y) returns the expected losses",
          "the loss is the softmax data loss plus 0.5 * reg * (sum of W1**2 + sum of W2**2)",
          ("TwoLayerNet",), _tln_case, _tln_loss_probe, _tln_loss_judge,
          views=tln_loss_views),
    Check("two_layer_net", "gradients", "TwoLayerNet's gradients agree with numeric ones",
          "backpropagate through both layers and add reg * W to each weight gradient",
          ("TwoLayerNet",), _tln_case, _tln_grad_probe, _tln_grad_judge,
          views=tln_grad_views),
    Check("sgd", "one_step", "sgd takes one step against the gradient",
          "the new weights are w - learning_rate * dw, with learning_rate read from config",
          ("sgd",), _sgd_case, _sgd_probe, _sgd_judge, views=sgd_views),
    Check("training", "val_accuracy", "the trained solver reaches 36% validation accuracy",
          "check the learning rate, the number of epochs and that update_rule is your sgd",
          ("solver",), _no_case, _training_probe, _training_judge),
    Check("training", "graded_run", "the graded run: your TwoLayerNet and sgd trained on "
          f"{GRADED_TRAINING['num_train']:,} images reach {TRAINING_THRESHOLD:.0%} on "
          f"{GRADED_TRAINING['num_eval']:,} held-out ones",
          "check that sgd keeps the learning rate it is given from step to step, and that "
          "loss returns fresh gradients on every call",
          ("TwoLayerNet", "sgd", "data"), _no_case, graded_run_probe, graded_run_judge),
    Check("best_model", "val_accuracy", "best_model reaches 48% on the validation images, "
          "counted at most 2 points above its accuracy on their mirror images and on "
          "1,000 training images",
          "tune the learning rate, hidden size, regularisation and number of epochs on the "
          "validation set",
          ("best_model", "data"), _no_case, _best_model_probe, _best_model_judge),
    Check("inline_q2", "format", "inline_q2 is a set of option letters",
          "answer with a set of capital letters, such as {\"B\"}",
          ("inline_q2",), _no_case, _inline_probe("inline_q2"), _inline_judge("inline_q2")),
    Check("inline_q3", "format", "inline_q3 is a set of option letters",
          "answer with a set of capital letters, such as {\"B\"}",
          ("inline_q3",), _no_case, _inline_probe("inline_q3"), _inline_judge("inline_q3")),
]


def checks_for(qid):
    """The public checks of question `qid`, in order."""
    found = [c for c in CHECKS if c.qid == qid]
    if not found:
        raise KeyError(f"no public checks for question {qid!r}")
    return found
