"""Numeric gradients by centred differences, to check the gradients you derive by hand.

For a small step h, the slope of f along coordinate i is about
    (f(x + h e_i) - f(x - h e_i)) / (2 h),
with an error of order h**2. Each function below nudges one entry of `x` in place,
evaluates f, and puts the entry back exactly, so `x` is unchanged afterwards. Use float64
inputs: in float32 the step h = 1e-5 is lost in rounding.
"""
import numpy as np


def rel_error(x, y):
    """Largest elementwise relative error max(|x - y| / max(1e-8, |x| + |y|)).

    x and y are arrays of the same shape (or broadcastable), compared in float64;
    returns a Python float. The public and hidden checks measure with this function too
    (fcnet.checking.expect_close).
    """
    x, y = np.asarray(x, dtype=np.float64), np.asarray(y, dtype=np.float64)
    return float(np.max(np.abs(x - y) / np.maximum(1e-8, np.abs(x) + np.abs(y))))


def _nudged(f, x, ix, h):
    """(f(x) with x[ix] raised by h, f(x) with x[ix] lowered by h); x[ix] is put back
    exactly afterwards."""
    old = x[ix]
    x[ix] = old + h
    f_plus = f(x)
    x[ix] = old - h
    f_minus = f(x)
    x[ix] = old
    return f_plus, f_minus


def eval_numerical_gradient(f, x, verbose=True, h=1e-5):
    """Numeric gradient of a scalar function.

    Inputs:
    - f: function taking the array x (any shape) and returning a scalar; it is called
      with x itself, changed in one entry at a time
    - x: point to differentiate at, array of any shape (float64 recommended)
    - verbose: print each index and its gradient entry
    - h: step size

    Returns grad, same shape as x: grad[i] ~ d f / d x[i].
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        f_plus, f_minus = _nudged(f, x, ix, h)
        grad[ix] = (f_plus - f_minus) / (2 * h)
        if verbose:
            print(ix, grad[ix])
        it.iternext()
    return grad


def eval_numerical_gradient_array(f, x, df, h=1e-5):
    """Numeric gradient of sum(f(x) * df), an array-valued f seen through upstream df.

    This is what a layer's backward pass computes: given dout = dL/d(out), the gradient
    of the loss with respect to the layer input x.

    Inputs:
    - f: function taking x and returning an array `out` of any shape
    - x: input array, any shape
    - df: upstream gradient, same shape as f(x)
    - h: step size

    Returns grad, same shape as x.
    """
    grad = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"], op_flags=["readwrite"])
    while not it.finished:
        ix = it.multi_index
        # f may return a view that changes with x: keep a copy of each output.
        out_plus, out_minus = _nudged(lambda z: np.array(f(z), copy=True), x, ix, h)
        grad[ix] = np.sum((out_plus - out_minus) * df) / (2 * h)
        it.iternext()
    return grad
