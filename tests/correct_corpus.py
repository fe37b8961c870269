"""The corpus of right student code behind tests/test_correct_corpus.py (not a test module).

Each entry is a correct function (or class) written the way real students of the course
write it: reshape variants, np.dot or @, einsum, loops, np.choose, take_along_axis,
boolean masks, guards in the log, helper functions, float32 paths, in-place work on
local copies. Every entry earns full marks, except where `rule` names a course rule the
code breaks although its values are right (the book states each such rule): then it loses
only that rule's check, and that check's diagnosis is `rule`.
"""
from dataclasses import dataclass


@dataclass(frozen=True)
class Right:
    id: str
    qid: str
    source: str
    rule: str = ""   # the diagnosis of the stated rule the code breaks, or "" (full marks)


def _softmax(body):
    return "def softmax_loss(x, y):\n" + body


def _svm(body):
    return "def svm_loss(x, y):\n" + body


_INIT = """
        self.params["W1"] = weight_scale * np.random.randn(input_dim, hidden_dim)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params["b2"] = np.zeros(num_classes)
        for k, v in self.params.items():
            self.params[k] = v.astype(dtype)"""

_LOSS = """
        W1, b1, W2, b2 = self.params["W1"], self.params["b1"], self.params["W2"], self.params["b2"]
        h, cache1 = affine_relu_forward(X, W1, b1)
        scores, cache2 = affine_forward(h, W2, b2)
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))
        grads = {}
        dh, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dh, cache1)
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2
        return loss, grads"""


def _tln(init=_INIT, loss=_LOSS, extra=""):
    return f'''
class TwoLayerNet:
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float64):
        self.params = {{}}
        self.reg = reg
{init.strip(chr(10))}

    def loss(self, X, y=None):
{loss.strip(chr(10))}
{extra}'''


CORPUS = [
    # ------------------------------------------------------------------ affine_forward
    Right("af_reshape_dot", "affine_forward", """
def affine_forward(x, w, b):
    out = x.reshape(x.shape[0], -1).dot(w) + b
    cache = (x, w, b)
    return out, cache
"""),
    Right("af_prod_matmul", "affine_forward", """
def affine_forward(x, w, b):
    N = x.shape[0]
    D = np.prod(x.shape[1:])
    x_rows = np.reshape(x, (N, D))
    out = np.matmul(x_rows, w) + b
    return out, (x, w, b)
"""),
    Right("af_reshape_by_w", "affine_forward", """
def affine_forward(x, w, b):
    out = np.dot(x.reshape(len(x), w.shape[0]), w) + b.reshape(1, -1)
    return out, (x, w, b)
"""),
    Right("af_einsum", "affine_forward", """
def affine_forward(x, w, b):
    x2 = x.reshape(x.shape[0], -1)
    out = np.einsum("nd,dm->nm", x2, w) + b
    return out, (x, w, b)
"""),
    Right("af_loop_rows", "affine_forward", """
def affine_forward(x, w, b):
    N = x.shape[0]
    out = np.zeros((N, w.shape[1]), dtype=x.dtype)
    for i in range(N):
        out[i] = x[i].flatten() @ w + b
    return out, (x, w, b)
"""),
    Right("af_loop_float64_buffer", "affine_forward", """
def affine_forward(x, w, b):
    N = x.shape[0]
    out = np.zeros((N, w.shape[1]))
    for i in range(N):
        out[i] = np.ravel(x[i]).dot(w) + b
    return out, (x, w, b)
""", rule="dtype_changed"),
    Right("af_shape_assigned", "affine_forward", """
def affine_forward(x, w, b):
    cache = (x.copy(), w, b)
    x.shape = (x.shape[0], -1)
    return x @ w + b, cache
""", rule="input_modified"),
    Right("af_stack_flatten", "affine_forward", """
def affine_forward(x, w, b):
    rows = np.array([example.flatten() for example in x])
    return rows @ w + b, (x, w, b)
"""),
    # ------------------------------------------------------------------ affine_backward
    Right("ab_dot", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    dx = np.dot(dout, w.T).reshape(x.shape)
    dw = np.dot(x.reshape(N, -1).T, dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db
"""),
    Right("ab_einsum", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    dx = np.einsum("nm,dm->nd", dout, w).reshape(*x.shape)
    dw = np.einsum("nd,nm->dm", x2, dout)
    db = np.einsum("nm->m", dout)
    return dx, dw, db
"""),
    Right("ab_transpose_calls", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    x_flat = np.reshape(x, (x.shape[0], np.prod(x.shape[1:])))
    dw = np.transpose(x_flat) @ dout
    dx = np.reshape(dout @ np.transpose(w), np.shape(x))
    db = dout.sum(0)
    return dx, dw, db
"""),
    Right("ab_loop_examples", "affine_backward", """
def affine_backward(dout, cache):
    x, w, b = cache
    N = x.shape[0]
    dx = np.zeros_like(x)
    dw = np.zeros_like(w)
    db = np.zeros_like(b)
    for i in range(N):
        dx[i] = (w @ dout[i]).reshape(x[i].shape)
        dw += np.outer(x[i].ravel(), dout[i])
        db += dout[i]
    return dx, dw, db
"""),
    Right("ab_unpack_by_index", "affine_backward", """
def affine_backward(dout, cache):
    x = cache[0]
    w = cache[1]
    dx = dout.dot(w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T.dot(dout)
    db = dout.sum(axis=0, keepdims=True).reshape(-1)
    return dx, dw, db
"""),
    # ------------------------------------------------------------------ relu_forward
    Right("rf_maximum", "relu_forward", """
def relu_forward(x):
    out = np.maximum(0, x)
    cache = x
    return out, cache
"""),
    Right("rf_mask_multiply", "relu_forward", """
def relu_forward(x):
    out = x * (x > 0)
    return out, x
"""),
    Right("rf_where", "relu_forward", """
def relu_forward(x):
    return np.where(x > 0, x, 0), x
"""),
    Right("rf_copy_then_zero", "relu_forward", """
def relu_forward(x):
    out = x.copy()
    out[out < 0] = 0
    return out, x
"""),
    Right("rf_clip", "relu_forward", """
def relu_forward(x):
    out = np.clip(x, 0, None)
    return out, x
"""),
    Right("rf_float_mask", "relu_forward", """
def relu_forward(x):
    mask = (x > 0).astype(float)
    return x * mask, x
""", rule="dtype_changed"),
    # ------------------------------------------------------------------ relu_backward
    Right("rb_mask_multiply", "relu_backward", """
def relu_backward(dout, cache):
    x = cache
    dx = dout * (x > 0)
    return dx
"""),
    Right("rb_copy_then_zero", "relu_backward", """
def relu_backward(dout, cache):
    x = cache
    dx = dout.copy()
    dx[x <= 0] = 0
    return dx
"""),
    Right("rb_where", "relu_backward", """
def relu_backward(dout, cache):
    return np.where(cache > 0, dout, 0)
"""),
    Right("rb_heaviside", "relu_backward", """
def relu_backward(dout, cache):
    x = cache
    return dout * np.heaviside(x, 0)
"""),
    Right("rb_array_copy", "relu_backward", """
def relu_backward(dout, cache):
    dx, x = np.array(dout, copy=True), cache
    dx[x < 0] = 0
    return dx
"""),
    Right("rb_zero_dout_in_place", "relu_backward", """
def relu_backward(dout, cache):
    x = cache
    dx = dout
    dx[x <= 0] = 0
    return dx
""", rule="relu_dout_in_place"),
    # ------------------------------------------------------------------ softmax_loss
    Right("sm_fancy_index", "softmax_loss", _softmax("""
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    loss = -np.sum(np.log(probs[np.arange(N), y])) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    dx /= N
    return loss, dx
""")),
    Right("sm_take_along_axis", "softmax_loss", _softmax("""
    N = len(y)
    z = x - x.max(axis=1)[:, np.newaxis]
    log_probs = z - np.log(np.exp(z).sum(axis=1))[:, np.newaxis]
    loss = -np.take_along_axis(log_probs, y[:, None], axis=1).mean()
    dx = np.exp(log_probs)
    np.put_along_axis(dx, y[:, None], np.take_along_axis(dx, y[:, None], axis=1) - 1, axis=1)
    return loss, dx / N
""")),
    Right("sm_choose", "softmax_loss", _softmax("""
    N = x.shape[0]
    e = np.exp(x - np.max(x, axis=1, keepdims=True))
    p = e / e.sum(axis=1, keepdims=True)
    loss = -np.mean(np.log(np.choose(y, p.T)))
    dx = p
    dx[range(N), y] -= 1
    return loss, dx / N
""")),
    Right("sm_one_hot_eye", "softmax_loss", _softmax("""
    N, C = x.shape
    onehot = np.eye(C)[y]
    s = x - np.max(x, axis=1, keepdims=True)
    p = np.exp(s) / np.exp(s).sum(axis=1, keepdims=True)
    loss = -np.sum(onehot * np.log(p)) / N
    dx = (p - onehot) / N
    return loss, dx
""")),
    Right("sm_einsum", "softmax_loss", _softmax("""
    N, C = x.shape
    onehot = np.zeros((N, C))
    onehot[np.arange(N), y] = 1
    s = x - x.max(axis=1, keepdims=True)
    logsum = np.log(np.exp(s).sum(axis=1))
    loss = np.mean(logsum - np.einsum("nc,nc->n", s, onehot))
    dx = (np.exp(s - logsum[:, None]) - onehot) / N
    return loss, dx
""")),
    Right("sm_loop", "softmax_loss", _softmax("""
    N = x.shape[0]
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(N):
        row = x[i] - np.max(x[i])
        p = np.exp(row) / np.sum(np.exp(row))
        loss -= np.log(p[y[i]])
        p[y[i]] -= 1
        dx[i] = p
    return loss / N, dx / N
""")),
    Right("sm_guard_plus_eps", "softmax_loss", _softmax("""
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted)
    probs /= np.sum(probs, axis=1, keepdims=True)
    loss = -np.mean(np.log(probs[np.arange(N), y] + 1e-12))
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N
""")),
    Right("sm_guard_clip", "softmax_loss", _softmax("""
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    correct = np.clip(probs[np.arange(N), y], 1e-10, 1.0)
    loss = -np.log(correct).mean()
    dx = probs
    dx[np.arange(N), y] -= 1
    return loss, dx / N
""")),
    Right("sm_guard_clip_small", "softmax_loss", _softmax("""
    N = x.shape[0]
    shifted = x - np.max(x, axis=1, keepdims=True)
    probs = np.exp(shifted) / np.sum(np.exp(shifted), axis=1, keepdims=True)
    loss = -np.sum(np.log(np.maximum(probs[np.arange(N), y], 1e-13))) / N
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N
""")),
    Right("sm_shift_in_place", "softmax_loss", _softmax("""
    N = x.shape[0]
    x -= np.max(x, axis=1, keepdims=True)
    p = np.exp(x) / np.sum(np.exp(x), axis=1, keepdims=True)
    loss = -np.mean(np.log(p[np.arange(N), y]))
    p[np.arange(N), y] -= 1
    return loss, p / N
"""), rule="input_modified"),
    Right("sm_logsumexp_helper", "softmax_loss", '''
def _log_softmax(scores):
    """Log-probabilities of each row, computed stably."""
    shifted = scores - scores.max(axis=1, keepdims=True)
    return shifted - np.log(np.sum(np.exp(shifted), axis=1, keepdims=True))

def softmax_loss(x, y):
    N = x.shape[0]
    log_p = _log_softmax(x)
    loss = -log_p[np.arange(N), y].sum() / N
    dx = np.exp(log_p)
    dx[np.arange(N), y] -= 1
    return loss, dx / N
'''),
    # ------------------------------------------------------------------ svm_loss
    Right("svm_fancy_index", "svm_loss", _svm("""
    N = x.shape[0]
    correct = x[np.arange(N), y]
    margins = np.maximum(0, x - correct[:, np.newaxis] + 1.0)
    margins[np.arange(N), y] = 0
    loss = np.sum(margins) / N
    num_pos = np.sum(margins > 0, axis=1)
    dx = np.zeros_like(x)
    dx[margins > 0] = 1
    dx[np.arange(N), y] -= num_pos
    dx /= N
    return loss, dx
""")),
    Right("svm_choose", "svm_loss", _svm("""
    N = x.shape[0]
    correct = np.choose(y, x.T).reshape(-1, 1)
    margins = np.maximum(0, x - correct + 1)
    margins[range(N), y] = 0
    loss = margins.sum() / N
    binary = (margins > 0).astype(x.dtype)
    binary[range(N), y] = -binary.sum(axis=1)
    return loss, binary / N
""")),
    Right("svm_take_along_axis", "svm_loss", _svm("""
    N = x.shape[0]
    correct = np.take_along_axis(x, y[:, None], axis=1)
    margins = np.maximum(0, x - correct + 1)
    np.put_along_axis(margins, y[:, None], 0, axis=1)
    loss = margins.sum() / N
    dx = (margins > 0).astype(float)
    np.put_along_axis(dx, y[:, None], -dx.sum(axis=1, keepdims=True), axis=1)
    return loss, dx / N
""")),
    Right("svm_loops", "svm_loss", _svm("""
    N, C = x.shape
    loss = 0.0
    dx = np.zeros(x.shape)
    for i in range(N):
        for j in range(C):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1
            if margin > 0:
                loss += margin
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    return loss / N, dx / N
""")),
    Right("svm_onehot_mask", "svm_loss", _svm("""
    N, C = x.shape
    is_correct = np.arange(C)[None, :] == y[:, None]
    correct = np.sum(x * is_correct, axis=1, keepdims=True)
    margins = np.where(is_correct, 0, np.maximum(0, x - correct + 1))
    loss = margins.sum() / N
    positive = (margins > 0) * 1.0
    dx = positive - is_correct * positive.sum(axis=1, keepdims=True)
    return loss, dx / N
""")),
    Right("svm_einsum", "svm_loss", _svm("""
    N, C = x.shape
    onehot = np.eye(C)[y]
    correct = np.einsum("nc,nc->n", x, onehot)
    margins = np.maximum(0, x - correct[:, None] + 1) * (1 - onehot)
    loss = np.sum(margins) / N
    positive = (margins > 0).astype(np.float64)
    dx = positive - onehot * positive.sum(axis=1)[:, None]
    return loss, dx / N
""")),
    Right("svm_row_loop", "svm_loss", _svm("""
    N = x.shape[0]
    loss, dx = 0.0, np.zeros_like(x)
    for i in range(N):
        margins = np.maximum(0, x[i] - x[i, y[i]] + 1)
        margins[y[i]] = 0
        loss += margins.sum()
        dx[i] = margins > 0
        dx[i, y[i]] = -np.count_nonzero(margins)
    return loss / N, dx / N
""")),
    # ------------------------------------------------------------------ two_layer_net
    Right("tln_sandwich", "two_layer_net", _tln()),
    Right("tln_explicit_layers", "two_layer_net", _tln(loss="""
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        a1, fc1_cache = affine_forward(X, W1, b1)
        h1, relu_cache = relu_forward(a1)
        scores, fc2_cache = affine_forward(h1, W2, b2)
        if y is None:
            return scores
        data_loss, dscores = softmax_loss(scores, y)
        reg_loss = 0.5 * self.reg * (np.sum(np.square(W1)) + np.sum(np.square(W2)))
        loss = data_loss + reg_loss
        grads = {}
        dh1, dW2, db2 = affine_backward(dscores, fc2_cache)
        da1 = relu_backward(dh1, relu_cache)
        dX, dW1, db1 = affine_backward(da1, fc1_cache)
        grads["W1"] = dW1 + self.reg * W1
        grads["b1"] = db1
        grads["W2"] = dW2 + self.reg * W2
        grads["b2"] = db2
        return loss, grads""")),
    Right("tln_normal_init_dtype", "two_layer_net", _tln(init="""
        self.params["W1"] = np.random.normal(0, weight_scale, (input_dim, hidden_dim)).astype(dtype)
        self.params["b1"] = np.zeros(hidden_dim, dtype=dtype)
        self.params["W2"] = np.random.normal(0, weight_scale, (hidden_dim, num_classes)).astype(dtype)
        self.params["b2"] = np.zeros(num_classes, dtype=dtype)""")),
    Right("tln_float32_randn", "two_layer_net", _tln(init="""
        self.params["W1"] = np.random.randn(input_dim, hidden_dim).astype(dtype) * weight_scale
        self.params["b1"] = np.zeros((hidden_dim,), dtype)
        self.params["W2"] = np.random.randn(hidden_dim, num_classes).astype(dtype) * weight_scale
        self.params["b2"] = np.zeros((num_classes,), dtype)""")),
    Right("tln_bias_dtype_forgotten", "two_layer_net", _tln(init="""
        self.params["W1"] = (weight_scale * np.random.randn(input_dim, hidden_dim)).astype(dtype)
        self.params["b1"] = np.zeros(hidden_dim)
        self.params["W2"] = (weight_scale * np.random.randn(hidden_dim, num_classes)).astype(dtype)
        self.params["b2"] = np.zeros(num_classes)"""), rule="dtype_changed"),
    Right("tln_helper_methods", "two_layer_net", _tln(loss="""
        scores, caches = self._forward(X)
        if y is None:
            return scores
        loss, dscores = softmax_loss(scores, y)
        loss += self._penalty()
        return loss, self._backward(dscores, caches)""", extra='''
    def _forward(self, X):
        hidden, cache1 = affine_relu_forward(X, self.params["W1"], self.params["b1"])
        scores, cache2 = affine_forward(hidden, self.params["W2"], self.params["b2"])
        return scores, (cache1, cache2)

    def _penalty(self):
        return 0.5 * self.reg * sum(np.sum(self.params[k] ** 2) for k in ("W1", "W2"))

    def _backward(self, dscores, caches):
        cache1, cache2 = caches
        grads = {}
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, cache1)
        for k in ("W1", "W2"):
            grads[k] = grads[k] + self.reg * self.params[k]
        return grads
''')),
    Right("tln_loop_over_layers", "two_layer_net", _tln(loss="""
        layers = [("W1", "b1", True), ("W2", "b2", False)]
        out, caches = X, []
        for w, b, relu in layers:
            if relu:
                out, cache = affine_relu_forward(out, self.params[w], self.params[b])
            else:
                out, cache = affine_forward(out, self.params[w], self.params[b])
            caches.append(cache)
        if y is None:
            return out
        loss, dout = softmax_loss(out, y)
        grads = {}
        for (w, b, relu), cache in reversed(list(zip(layers, caches))):
            loss += 0.5 * self.reg * np.sum(self.params[w] * self.params[w])
            backward = affine_relu_backward if relu else affine_backward
            dout, grads[w], grads[b] = backward(dout, cache)
            grads[w] += self.reg * self.params[w]
        return loss, grads""")),
    # ------------------------------------------------------------------ sgd
    Right("sgd_in_place_on_w", "sgd", """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw
    return w, config
"""),
    Right("sgd_get", "sgd", """
def sgd(w, dw, config=None):
    config = config if config is not None else {}
    lr = config.get("learning_rate", 1e-2)
    next_w = w - lr * dw
    return next_w, config
"""),
    Right("sgd_key_check", "sgd", """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    if "learning_rate" not in config:
        config["learning_rate"] = 1e-2
    next_w = np.subtract(w, np.multiply(config["learning_rate"], dw))
    return next_w, config
"""),
    Right("sgd_scales_dw_in_place", "sgd", """
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    dw *= config["learning_rate"]
    return w - dw, config
""", rule="input_modified"),
]
