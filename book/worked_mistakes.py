"""The wrong attempts behind the book's worked examples of a diagnosed mistake.

Each chapter with an exercise shows what `grader.check` prints for one common mistake.
The attempt is built here, at book-build time, mostly as a small change to the answer
key's function, and the chapter runs the real check on it (excerpts.grader_check), so
the text on the page is what a student would see. The chapters describe each attempt in
words; no code of this module is shown.

    ns = worked_mistakes.attempt("db_averaged")
    excerpts.grader_check("affine_backward", ns)
"""
import numpy as np

import excerpts


def _db_averaged(ns):
    right = ns["affine_backward"]

    def affine_backward(dout, cache):
        dx, dw, db = right(dout, cache)
        return dx, dw, db / len(dout)
    return {"affine_backward": affine_backward}


def _relu_gradient_everywhere(ns):
    def relu_backward(dout, cache):
        return dout.copy()
    return {"relu_backward": relu_backward}


def _softmax_no_max_shift(ns):
    def softmax_loss(x, y):
        n = len(y)
        e = np.exp(x)  # overflows for large scores: the mistake on show
        p = e / e.sum(axis=1, keepdims=True)
        loss = -np.log(p[np.arange(n), y]).mean()
        p[np.arange(n), y] -= 1
        return loss, p / n
    return {"softmax_loss": softmax_loss}


def _reg_missing_in_gradient(ns):
    right = ns["TwoLayerNet"]

    class TwoLayerNet(right):
        def loss(self, X, y=None):
            result = super().loss(X, y)
            if y is None:
                return result
            loss, grads = result
            for key in ("W1", "W2"):
                grads[key] = grads[key] - self.reg * self.params[key]
            return loss, grads
    return {"TwoLayerNet": TwoLayerNet}


def _sgd_sign_flipped(ns):
    right = ns["sgd"]

    def sgd(w, dw, config=None):
        next_w, config = right(np.array(w, copy=True), dw, config)
        return 2 * w - next_w, config
    return {"sgd": sgd}


ATTEMPTS = {
    "db_averaged": _db_averaged,
    "relu_gradient_everywhere": _relu_gradient_everywhere,
    "softmax_no_max_shift": _softmax_no_max_shift,
    "reg_missing_in_gradient": _reg_missing_in_gradient,
    "sgd_sign_flipped": _sgd_sign_flipped,
}


def attempt(mistake):
    """A finished notebook's names, with one function replaced by an attempt that makes
    `mistake` (a name of fcnet.mistakes)."""
    ns = excerpts.answer_namespace()
    ns.update(excerpts.as_notebook_code(ATTEMPTS[mistake](ns), ns))
    return ns
