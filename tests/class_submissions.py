"""A generated class for the class report and similarity tests.

`write_class(root)` writes 39 submissions into `root` and returns a ClassPlan saying who
is who. Honest students start from the solution notebooks; most carry one realistic
mistake from tests/lms_submissions.py (WRONG), in known numbers. Some miss a chapter, one
has a relu_backward that never returns, one a damaged notebook, one a renamed chapter,
two hand in the untouched starter notebooks. Two students wrote their own distinctive
code (ORIGINAL_1, ORIGINAL_2), and each has a copier: the first copy renames every
variable and reorders the functions, the second only changes comments and whitespace.
"""
import io
import re
import tokenize
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

from fcnet.chapters import CHAPTERS

from autograder_support import SOLUTIONS, STUDENT
from lms_submissions import LOOPING, WRONG, replace_definition

# Planted mistakes: (stem, definition) of WRONG, how many students make it, the question.
MISTAKES = {
    "db_averaged": ("01_affine_layer", "affine_backward", 6),
    "relu_in_place": ("02_relu", "relu_forward", 5),
    "softmax_unshifted": ("03_losses", "softmax_loss", 5),
    "no_regularisation": ("04_two_layer_net", "TwoLayerNet", 4),
    "sgd_default_rate": ("05_solver", "sgd", 4),
}
QUESTIONS = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
             "inline_q1", "softmax_loss", "svm_loss", "two_layer_net", "sgd")

ORIGINAL_1 = {
    "01_affine_layer": '''\
def affine_forward(x, w, b):
    n = x.shape[0]
    rows = np.reshape(x, (n, int(np.prod(x.shape[1:]))))
    out = np.dot(rows, w) + b[np.newaxis, :]
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    x, w, b = cache
    n = x.shape[0]
    rows = np.reshape(x, (n, int(np.prod(x.shape[1:]))))
    dx = np.reshape(np.dot(dout, w.T), x.shape)
    dw = np.dot(rows.T, dout)
    db = np.sum(dout, axis=0)
    return dx, dw, db''',
    "03_losses": '''\
def softmax_loss(x, y):
    n = x.shape[0]
    z = x - np.max(x, axis=1, keepdims=True)
    log_probs = z - np.log(np.sum(np.exp(z), axis=1, keepdims=True))
    loss = -np.sum(log_probs[np.arange(n), y]) / n
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1.0
    dx /= n
    return loss, dx


def svm_loss(x, y):
    n = x.shape[0]
    correct = x[np.arange(n), y][:, np.newaxis]
    margins = np.maximum(0.0, x - correct + 1.0)
    margins[np.arange(n), y] = 0.0
    loss = np.sum(margins) / n
    positive = (margins > 0).astype(x.dtype)
    positive[np.arange(n), y] = -np.sum(positive, axis=1)
    dx = positive / n
    return loss, dx''',
    "04_two_layer_net": '''\
class TwoLayerNet:
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float64):
        self.reg = reg
        shapes = {"W1": (input_dim, hidden_dim), "W2": (hidden_dim, num_classes)}
        self.params = {}
        for name, shape in shapes.items():
            self.params[name] = (weight_scale * np.random.randn(*shape)).astype(dtype)
        self.params["b1"] = np.zeros(hidden_dim).astype(dtype)
        self.params["b2"] = np.zeros(num_classes).astype(dtype)

    def loss(self, X, y=None):
        p = self.params
        h, cache_h = affine_forward(X, p["W1"], p["b1"])
        r, cache_r = relu_forward(h)
        s, cache_s = affine_forward(r, p["W2"], p["b2"])
        if y is None:
            return s
        data_loss, ds = softmax_loss(s, y)
        penalty = 0.0
        for key in ("W1", "W2"):
            penalty += np.sum(p[key] * p[key])
        loss = data_loss + 0.5 * self.reg * penalty
        grads = {}
        dr, grads["W2"], grads["b2"] = affine_backward(ds, cache_s)
        dh = relu_backward(dr, cache_r)
        _, grads["W1"], grads["b1"] = affine_backward(dh, cache_h)
        for key in ("W1", "W2"):
            grads[key] = grads[key] + self.reg * p[key]
        return loss, grads''',
    "05_solver": '''\
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    lr = config.get("learning_rate", 1e-2)
    config["learning_rate"] = lr
    updated = w - lr * dw
    return updated, config''',
}

ORIGINAL_2 = {
    "01_affine_layer": '''\
def affine_forward(x, w, b):
    # flatten every example into a row
    flat = x.reshape(len(x), -1)
    out = flat @ w
    out += b
    return out, (x, w, b)


def affine_backward(dout, cache):
    x, w, b = cache
    flat = x.reshape(len(x), -1)
    dw = flat.T @ dout
    db = dout.sum(0)
    dx = (dout @ w.T).reshape(*x.shape)
    return dx, dw, db''',
    "03_losses": '''\
def softmax_loss(x, y):
    # subtract the row max so exp never overflows
    shifted = x - x.max(axis=1).reshape(-1, 1)
    exps = np.exp(shifted)
    probs = exps / exps.sum(axis=1).reshape(-1, 1)
    m = len(y)
    picked = probs[range(m), y]
    loss = float(np.mean(-np.log(picked)))
    grad = probs
    grad[range(m), y] = grad[range(m), y] - 1
    return loss, grad / m


def svm_loss(x, y):
    m = len(y)
    loss = 0.0
    dx = np.zeros_like(x)
    for i in range(m):
        for j in range(x.shape[1]):
            if j == y[i]:
                continue
            margin = x[i, j] - x[i, y[i]] + 1
            if margin > 0:
                loss += margin
                dx[i, j] += 1
                dx[i, y[i]] -= 1
    return loss / m, dx / m''',
    "04_two_layer_net": '''\
class TwoLayerNet:
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float64):
        W1 = weight_scale * np.random.randn(input_dim, hidden_dim)
        W2 = weight_scale * np.random.randn(hidden_dim, num_classes)
        self.params = dict(W1=W1.astype(dtype), b1=np.zeros((hidden_dim,), dtype),
                           W2=W2.astype(dtype), b2=np.zeros((num_classes,), dtype))
        self.reg = reg

    def _forward(self, X):
        a1, c1 = affine_relu_forward(X, self.params["W1"], self.params["b1"])
        z2, c2 = affine_forward(a1, self.params["W2"], self.params["b2"])
        return z2, (c1, c2)

    def loss(self, X, y=None):
        scores, (c1, c2) = self._forward(X)
        if y is None:
            return scores
        loss, dz2 = softmax_loss(scores, y)
        W1, W2 = self.params["W1"], self.params["W2"]
        loss += 0.5 * self.reg * (np.sum(W1 ** 2) + np.sum(W2 ** 2))
        da1, dW2, db2 = affine_backward(dz2, c2)
        dX, dW1, db1 = affine_relu_backward(da1, c1)
        grads = {"W1": dW1 + self.reg * W1, "b1": db1, "W2": dW2 + self.reg * W2,
                 "b2": db2}
        return loss, grads''',
    "05_solver": '''\
def sgd(w, dw, config=None):
    config = {} if config is None else config
    config.setdefault("learning_rate", 1e-2)
    step = config["learning_rate"] * dw
    return w - step, config''',
}

# The first copier's new names (every local variable and argument; numpy stays numpy).
RENAMES = {"x": "inputs", "w": "weight", "b": "bias", "n": "count", "rows": "flat_x",
           "out": "result", "cache": "saved", "dout": "upstream", "dx": "grad_x",
           "dw": "grad_w", "db": "grad_b", "y": "labels", "z": "centred",
           "log_probs": "logp", "loss": "total", "correct": "right", "margins": "gaps",
           "positive": "mask", "p": "prm", "h": "hid", "r": "act", "s": "scores",
           "cache_h": "c_hid", "cache_r": "c_act", "cache_s": "c_out",
           "data_loss": "base", "penalty": "l2", "key": "k", "grads": "g", "dr": "d_act",
           "dh": "d_hid", "lr": "step_size", "updated": "new_w", "shapes": "dims",
           "name": "label", "shape": "dim"}


def rename(source, names=RENAMES):
    """`source` with every name in `names` renamed (attributes and method names kept)."""
    tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    out = []
    for i, tok in enumerate(tokens):
        kept = i > 0 and tokens[i - 1].string in (".", "def")  # attributes, methods
        if tok.type == tokenize.NAME and tok.string in names and not kept:
            tok = tok._replace(string=names[tok.string])
        out.append(tok)
    return tokenize.untokenize(out)


def reorder(source):
    """The top-level definitions of `source` in reverse order (methods of a class too)."""
    blocks = re.split(r"\n\n\n(?=def |class )", source)
    if len(blocks) == 1 and source.startswith("class "):
        head, body = source.split("\n", 1)
        methods = re.split(r"\n\n(?=    def )", body)
        return head + "\n" + "\n\n".join(methods[::-1])
    return "\n\n\n".join(blocks[::-1])


def recomment(source):
    """`source` with its comments changed and added, and its blank lines changed."""
    lines = []
    for line in source.splitlines():
        if line.strip().startswith("#"):
            lines.append(line.replace("#", "# note:"))
            continue
        code = line.split("  #")[0].rstrip()
        if code.strip().startswith("return"):
            indent = code[:len(code) - len(code.lstrip())]
            lines.append(f"{indent}# hand back the results")
        lines.append(code)
        if code.strip() == "":
            lines.append("")
    return "\n".join(lines)


@dataclass
class ClassPlan:
    students: list = field(default_factory=list)
    mistakes: dict = field(default_factory=dict)   # mistake -> [students]
    missing: dict = field(default_factory=dict)    # student -> [file names]
    timeout: str = "s_timeout"
    damaged: str = "s_damaged"
    renamed: str = "s_renamed"
    stubs: tuple = ("s_stub_1", "s_stub_2")
    copies: tuple = (("s_original_1", "s_copy_1"), ("s_original_2", "s_copy_2"))


def _notebook(stem, kind="solution"):
    return nbformat.read((SOLUTIONS if kind == "solution" else STUDENT) / f"{stem}.ipynb",
                         as_version=4)


def _write(root, student, chapters=None, names=None, raw=None):
    """Folder root/student: solution notebooks, with `chapters` {stem: nb or None}."""
    folder = Path(root) / student
    folder.mkdir(parents=True)
    chapters, names, raw = chapters or {}, names or {}, raw or {}
    for stem in CHAPTERS:
        path = folder / names.get(stem, f"{stem}.ipynb")
        if stem in raw:
            path.write_bytes(raw[stem])
            continue
        nb = chapters.get(stem, "solution")
        if nb is None:
            continue
        nbformat.write(_notebook(stem) if isinstance(nb, str) else nb, path)


def _own_code(code, transform=lambda s: s):
    """{stem: notebook} with the definitions of `code` (each chapter's in one cell)."""
    chapters = {}
    for stem, source in code.items():
        nb = _notebook(stem)
        names = re.findall(r"^(?:def|class) (\w+)", source, re.M)
        replace_definition(nb, names[0], transform(source))
        for name in names[1:]:
            replace_definition(nb, name, "")
        chapters[stem] = nb
    return chapters


def write_class(root):
    plan = ClassPlan()
    for mistake, (stem, name, count) in MISTAKES.items():
        plan.mistakes[mistake] = []
        for i in range(count):
            student = f"s_{mistake}_{i + 1}"
            nb = _notebook(stem)
            replace_definition(nb, name, WRONG[stem][name])
            _write(root, student, {stem: nb})
            plan.mistakes[mistake].append(student)
    for student, stem in (("s_missing_1", "03_losses"), ("s_missing_2", "03_losses"),
                          ("s_missing_3", "04_two_layer_net")):
        _write(root, student, {stem: None})
        plan.missing[student] = [f"{stem}.ipynb"]
    nb = _notebook("02_relu")
    replace_definition(nb, "relu_backward", LOOPING["02_relu"]["relu_backward"])
    _write(root, plan.timeout, {"02_relu": nb})
    _write(root, plan.damaged, raw={"05_solver": b'{"cells": [ this is not JSON'})
    _write(root, plan.renamed, names={"02_relu": "Copy of 02_relu.ipynb"})
    for student in plan.stubs:
        _write(root, student, {stem: _notebook(stem, "student") for stem in CHAPTERS})
    (original_1, copy_1), (original_2, copy_2) = plan.copies
    _write(root, original_1, _own_code(ORIGINAL_1))
    _write(root, copy_1, _own_code(ORIGINAL_1, lambda s: reorder(rename(s))))
    _write(root, original_2, _own_code(ORIGINAL_2))
    _write(root, copy_2, _own_code(ORIGINAL_2, recomment))
    for i in range(3):
        _write(root, f"s_solution_{i + 1}")
    plan.students = sorted(p.name for p in Path(root).iterdir())
    return plan
