"""The corpus of wrong student code behind tests/test_diagnosis.py (not a test module).

Each entry is what a student might really write: the source of their function (or class),
the question it answers, and the diagnosis its feedback should name. `expect` is a tuple of
accepted names (one mistake can show in two outputs under two fitting names), or None for
a mistake no diagnosis should claim: its feedback keeps the general hint. `sides` says
where the mistake is visible: a check of the notebook ("public"), of the grader
("hidden"), or both; where it is not, the checks pass or keep the general hint.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Wrong:
    id: str
    qid: str
    source: str
    expect: tuple = None
    sides: tuple = ("public", "hidden")


def _tln(init="", loss=""):
    """A TwoLayerNet as a student writes it, with `init` / `loss` replacing marked lines."""
    init = init or """
        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)"""
    loss = loss or """
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        dx, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2"""
    return f'''
class TwoLayerNet:
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float64):
        self.params = {{}}
        self.reg = reg
{init.strip(chr(10))}
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)

    def loss(self, X, y=None):
        W1, b1, W2, b2 = (self.params[k] for k in ("W1", "b1", "W2", "b2"))
        hidden, cache1 = affine_relu_forward(X, W1, b1)
        scores, cache2 = affine_forward(hidden, W2, b2)
        if y is None:
            return scores
        grads = {{}}
{loss.strip(chr(10))}
        return loss, grads
'''


def _softmax(body):
    return "def softmax_loss(x, y):\n    N = x.shape[0]\n" + body


def _svm(body):
    return "def svm_loss(x, y):\n    N = x.shape[0]\n" + body


CORPUS = [
    # ------------------------------------------------------------------ affine_forward
    Wrong("af_no_bias", "affine_forward", """
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w)
    return out, (x, w, b)
""", ("no_bias",)),
    Wrong("af_fortran_order", "affine_forward", """
def affine_forward(x, w, b):
    x_rows = np.reshape(x, (x.shape[0], -1), order="F")
    return x_rows @ w + b, (x, w, b)
""", ("flattened_in_wrong_order",), ("hidden",)),
    Wrong("af_reshape_then_transpose", "affine_forward", """
def affine_forward(x, w, b):
    N = x.shape[0]
    out = x.reshape(-1, N).T @ w + b
    return out, (x, w, b)
""", ("flattened_in_wrong_order",), ("hidden",)),
    Wrong("af_no_flatten_matmul", "affine_forward", """
def affine_forward(x, w, b):
    out = x @ w + b
    return out, (x, w, b)
""", ("not_flattened",)),
    Wrong("af_no_flatten_dot", "affine_forward", """
def affine_forward(x, w, b):
    out = np.dot(x, w) + b
    cache = (x, w, b)
    return out, cache
""", ("not_flattened",)),
    Wrong("af_cache_without_b", "affine_forward", """
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w + b
    return out, (x, w)
""", ("cache_unusable",), ("public",)),
    Wrong("af_w_transposed", "affine_forward", """
def affine_forward(x, w, b):
    x2 = x.reshape(x.shape[0], -1)
    return x2 @ w.T + b, (x, w, b)
""", None),
    Wrong("af_bias_once", "affine_forward", """
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1) @ w
    out[0] += b
    return out, (x, w, b)
""", None),
    # ------------------------------------------------------------------ affine_backward
    Wrong("ab_db_mean", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = np.mean(dout, axis=0)
    return dx, dw, db
""", ("db_averaged",)),
    Wrong("ab_db_mean_loop", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(N, -1).T.dot(dout)
    db = np.zeros_like(b)
    for i in range(N):
        db += dout[i] / N
    return dx, dw, db
""", ("db_averaged",)),
    Wrong("ab_dw_mean", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    x2 = x.reshape(N, -1)
    dx = np.dot(dout, w.T).reshape(x.shape)
    dw = np.dot(x2.T, dout) / N
    db = np.sum(dout, axis=0)
    return dx, dw, db
""", ("dw_averaged",)),
    Wrong("ab_dx_flat", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    dx = dout @ w.T
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
""", ("dx_not_reshaped",)),
    Wrong("ab_dw_transposed", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    x_flat = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = dout.T @ x_flat
    db = dout.sum(axis=0)
    return dx, dw, db
""", ("dw_transposed",)),
    Wrong("ab_dx_mean", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    N = dout.shape[0]
    dx = (dout @ w.T / N).reshape(x.shape)
    dw = x.reshape(N, -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
""", ("dx_averaged",)),
    Wrong("ab_dw_unflattened", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    dx = np.reshape(dout @ w.T, x.shape)
    dw = x.T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
""", ("x_not_flattened_in_dw",)),
    Wrong("ab_db_is_dout", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout
    return dx, dw, db
""", ("db_not_summed",)),
    Wrong("ab_cache_order", "affine_backward", """
def affine_backward(dout, cache):
    w, x, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db
""", None),
    # ------------------------------------------------------------------ relu_forward
    Wrong("rf_minimum", "relu_forward", """
def relu_forward(x):
    out = np.minimum(x, 0)
    return out, x
""", ("relu_keeps_negatives",)),
    Wrong("rf_in_place", "relu_forward", """
def relu_forward(x):
    x[x < 0] = 0
    out = x
    cache = x
    return out, cache
""", ("relu_in_place",), ("hidden",)),
    Wrong("rf_abs", "relu_forward", """
def relu_forward(x):
    return np.abs(x), x
""", None),
    # ------------------------------------------------------------------ relu_backward
    Wrong("rb_no_mask", "relu_backward", """
def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    return dx
""", ("relu_gradient_everywhere",)),
    Wrong("rb_mask_from_output_ge", "relu_backward", """
def relu_forward(x):
    out = np.maximum(0, x)
    return out, out

def relu_backward(dout, cache):
    out = cache
    return dout * (out >= 0)
""", ("relu_gradient_everywhere",), ("public",)),
    Wrong("rb_inverted", "relu_backward", """
def relu_backward(dout, cache):
    x = cache
    return dout * (x < 0)
""", ("relu_mask_inverted",)),
    Wrong("rb_dout_ignored", "relu_backward", """
def relu_backward(dout, cache):
    x = cache
    dx = np.zeros_like(x)
    dx[x > 0] = 1
    return dx
""", ("relu_dout_ignored",)),
    Wrong("rb_in_place", "relu_backward", """
def relu_backward(dout, cache):
    x = cache
    dout[x <= 0] = 0
    return dout
""", ("relu_dout_in_place",), ("hidden",)),
    Wrong("rb_in_place_alias", "relu_backward", """
def relu_backward(dout, cache):
    dx, x = dout, cache
    dx[x < 0] = 0
    return dx
""", ("relu_dout_in_place",), ("hidden",)),
    Wrong("rb_in_place_multiply", "relu_backward", """
def relu_backward(dout, cache):
    x = cache
    dout *= (x > 0)
    return dout
""", ("relu_dout_in_place", "input_modified"), ("hidden",)),
    # ------------------------------------------------------------------ softmax_loss
    Wrong("sm_no_shift", "softmax_loss", _softmax("""
    e = np.exp(x)
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.log(p[np.arange(N), y]).sum() / N
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N
"""), ("softmax_no_max_shift",)),
    Wrong("sm_global_shift", "softmax_loss", _softmax("""
    s = x - np.max(x)
    p = np.exp(s) / np.sum(np.exp(s), axis=1, keepdims=True)
    loss = np.mean(-np.log(p[range(N), y]))
    p[range(N), y] -= 1
    return loss, p / N
"""), ("softmax_global_max_shift",)),
    Wrong("sm_global_shift_log_probs", "softmax_loss", _softmax("""
    shifted = x - x.max()
    log_p = shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))
    loss = -np.mean(log_p[np.arange(N), y])
    dx = np.exp(log_p)
    dx[np.arange(N), y] -= 1
    return loss, dx / N
"""), ("softmax_global_max_shift",)),
    Wrong("sm_global_shift_loop", "softmax_loss", _softmax("""
    loss = 0.0
    dx = np.zeros_like(x)
    top = np.max(x)
    for i in range(N):
        e = np.exp(x[i] - top)
        p = e / e.sum()
        loss -= np.log(p[y[i]])
        p[y[i]] -= 1
        dx[i] = p / N
    return loss / N, dx
"""), ("softmax_global_max_shift",)),
    Wrong("sm_grad_divided_twice", "softmax_loss", _softmax("""
    s = x - x.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    p[np.arange(N), y] -= 1
    p /= N
    return loss, p / N
"""), ("dx_divided_by_N",)),
    Wrong("sm_loss_sum", "softmax_loss", _softmax("""
    s = x - x.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(N), y]))
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx
"""), ("softmax_loss_not_averaged",)),
    Wrong("sm_grad_not_divided", "softmax_loss", _softmax("""
    s = x - x.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    dx = p.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx
"""), ("softmax_gradient_not_divided",)),
    Wrong("sm_one_not_subtracted", "softmax_loss", _softmax("""
    s = x - x.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    dx = p / N
    return loss, dx
"""), ("softmax_one_not_subtracted",)),
    Wrong("sm_gradient_sign", "softmax_loss", _softmax("""
    s = x - x.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    onehot = np.zeros_like(p)
    onehot[np.arange(N), y] = 1
    return loss, (onehot - p) / N
"""), ("dx_sign_flipped",)),
    Wrong("sm_divides_by_classes", "softmax_loss", _softmax("""
    C = x.shape[1]
    s = x - x.max(axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.sum(np.log(p[np.arange(N), y])) / C
    p[np.arange(N), y] -= 1
    return loss, p / C
"""), None),
    Wrong("sm_loop_no_shift", "softmax_loss", _softmax("""
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        e = np.exp(x[i])
        p = e / np.sum(e)
        loss += -np.log(p[y[i]])
        dx[i] = p
        dx[i, y[i]] -= 1
    return loss / N, dx / N
"""), ("softmax_no_max_shift",)),
    # ------------------------------------------------------------------ svm_loss
    Wrong("svm_counts_correct", "svm_loss", _svm("""
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    loss = margins.sum() / N
    mask = (margins > 0).astype(float)
    mask[np.arange(N), y] = -mask.sum(axis=1)
    return loss, mask / N
"""), ("svm_counts_correct_class",)),
    Wrong("svm_margin_zero", "svm_loss", _svm("""
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct)
    margins[np.arange(N), y] = 0
    loss = margins.sum() / N
    mask = (margins > 0).astype(float)
    mask[np.arange(N), y] = -mask.sum(axis=1)
    return loss, mask / N
"""), ("svm_wrong_margin",), ("hidden",)),  # public: tiny scores put the hinge's kinks
    # within the numeric step, so its gradient check fails too, and no diagnosis is claimed
    Wrong("svm_no_correct_row", "svm_loss", _svm("""
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    dx = np.zeros_like(x)
    dx[margins > 0] = 1
    return loss, dx / N
"""), ("svm_correct_row_missing",)),
    Wrong("svm_loss_sum", "svm_loss", _svm("""
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins)
    dx = (margins > 0).astype(float)
    dx[np.arange(N), y] -= dx.sum(axis=1)
    return loss, dx / N
"""), ("svm_loss_not_averaged",)),
    Wrong("svm_grad_sum", "svm_loss", _svm("""
    correct = x[np.arange(N), y][:, None]
    margins = np.maximum(0, x - correct + 1)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    dx = (margins > 0).astype(float)
    dx[np.arange(N), y] -= dx.sum(axis=1)
    return loss, dx
"""), ("svm_gradient_not_divided",)),
    Wrong("svm_wrong_index", "svm_loss", _svm("""
    correct = x[:, y]
    margins = np.maximum(0, x - correct + 1)
    loss = np.sum(margins) / N
    dx = (margins > 0).astype(float) / N
    return loss, dx
"""), None),
    # ------------------------------------------------------------------ two_layer_net
    Wrong("tln_no_reg_loss", "two_layer_net", _tln(loss="""
        loss, dscores = softmax_loss(scores, y)
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        dx, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2"""), ("reg_missing_in_loss",)),
    Wrong("tln_no_reg_grad", "two_layer_net", _tln(loss="""
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        dx, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)"""),
          ("reg_missing_in_gradient",)),
    Wrong("tln_reg_without_half", "two_layer_net", _tln(loss="""
        loss, dscores = softmax_loss(scores, y)
        loss += self.reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        dx, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)
        grads["W1"] += 2 * self.reg * W1
        grads["W2"] += 2 * self.reg * W2"""), ("reg_factor",)),
    Wrong("tln_biases_regularised", "two_layer_net", _tln(loss="""
        loss, dscores = softmax_loss(scores, y)
        for p in (W1, b1, W2, b2):
            loss += 0.5 * self.reg * np.sum(p * p)
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        dx, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)
        for k in ("W1", "b1", "W2", "b2"):
            grads[k] += self.reg * self.params[k]"""), ("biases_regularised",)),
    Wrong("tln_scale_constant", "two_layer_net", _tln(init="""
        self.params["W1"] = 0.01 * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = 0.01 * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)"""), ("wrong_weight_scale",)),
    Wrong("tln_scale_missing", "two_layer_net", _tln(init="""
        self.params["W1"] = np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)"""), ("wrong_weight_scale",)),
    Wrong("tln_uniform_init", "two_layer_net", _tln(init="""
        self.params["W1"] = weight_scale * np.random.rand(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * np.random.rand(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)"""), ("weights_not_centred",)),
    Wrong("tln_random_biases", "two_layer_net", _tln(init="""
        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = weight_scale * np.random.randn(hidden_dim)
        self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = weight_scale * np.random.randn(num_classes)"""),
          ("biases_not_zero",)),
    Wrong("tln_softmax_scores", "two_layer_net", _tln().replace("""        if y is None:
            return scores""", """        if y is None:
            e = np.exp(scores - scores.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)"""), ("scores_after_softmax",)),
    Wrong("tln_no_relu", "two_layer_net", _tln().replace(
        "hidden, cache1 = affine_relu_forward(X, W1, b1)",
        "hidden, cache1 = affine_forward(X, W1, b1)").replace(
        "affine_relu_backward(dh, cache1)", "affine_backward(dh, cache1)"), ("relu_missing",),
          ("hidden",)),  # the public inputs make every hidden unit positive
    Wrong("tln_relu_on_scores", "two_layer_net", _tln().replace(
        "scores, cache2 = affine_forward(hidden, W2, b2)",
        "scores, cache2 = affine_relu_forward(hidden, W2, b2)").replace(
        "affine_backward(dscores, cache2)", "affine_relu_backward(dscores, cache2)"),
          ("relu_on_scores",), ("hidden",)),  # the public scores are all positive
    Wrong("tln_reg_grad_only_W2", "two_layer_net", _tln(loss="""
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        dx, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)
        grads["W2"] += self.reg * W2"""), ("reg_missing_in_gradient",)),
    Wrong("tln_dscores_divided_again", "two_layer_net", _tln(loss="""
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        dscores /= X.shape[0]
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        dx, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2"""), ("dW_divided_by_N", "db_divided_by_N"), ("hidden",)),
    # ------------------------------------------------------------------ sgd
    Wrong("sgd_plus", "sgd", """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w = w + config["learning_rate"] * dw
    return w, config
""", ("sgd_sign_flipped",)),
    Wrong("sgd_returns_old_w", "sgd", """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return w, config
""", ("sgd_weights_not_returned",)),
    Wrong("sgd_returns_none", "sgd", """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return None, config
""", ("sgd_weights_not_returned",)),
    Wrong("sgd_fixed_rate", "sgd", """
def sgd(w, dw, config=None):
    learning_rate = 1e-2
    next_w = w - learning_rate * dw
    return next_w, config
""", ("sgd_rate_not_from_config",)),
    Wrong("sgd_no_default", "sgd", """
def sgd(w, dw, config):
    next_w = w - config["learning_rate"] * dw
    return next_w, config
""", ("sgd_no_default_config",), ("hidden",)),
    Wrong("sgd_wrong_default", "sgd", """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    lr = config.get("learning_rate", 1e-3)
    return w - lr * dw, config
""", ("sgd_wrong_default_rate",), ("hidden",)),
]

# Different from the answer key but right: these must pass with no diagnosis at all.
EQUIVALENT = [
    Wrong("rb_mask_from_output", "relu_backward", """
def relu_forward(x):
    out = np.maximum(0, x)
    return out, out

def relu_backward(dout, cache):
    out = cache
    return dout * (out > 0)
"""),
    Wrong("sgd_new_array", "sgd", """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config
"""),
]
