"""What the judges of every chapter share: reading outputs, comparing, drawing inputs.

A judge receives the case (drawn here, in the grader) and the probe's outputs (plain data
from the sandboxed worker, see fcnet.checking.plain) and raises CheckFailed with a message
in words. References computed from the answer key are memoised per case with `reference`,
because every student of a run is graded on the same cases.
"""
import hashlib
import threading

import numpy as np

from fcnet.checking import CheckFailed, expect_close, expect_shape

_memo = {}
_memo_lock = threading.Lock()


def case_digest(case):
    """A hash of a case's keys, dtypes, shapes and values (tests pin cases by it)."""
    digest = hashlib.sha256()
    for key in sorted(case):
        value = case[key]
        digest.update(key.encode())
        if isinstance(value, np.ndarray):
            digest.update(str((value.dtype, value.shape)).encode())
            digest.update(np.ascontiguousarray(value).tobytes())
        else:
            digest.update(repr(value).encode())
    return digest.hexdigest()


def reference(case, what, compute):
    """compute() once per case and `what`: cases are shared by every student of a run."""
    key = (case_digest(case), what)
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    value = compute()
    with _memo_lock:
        if len(_memo) > 512:
            _memo.clear()
        return _memo.setdefault(key, value)


# ------------------------------------------------------------------------- reading outputs

def array(outputs, name):
    """outputs[name] as a numeric array, or CheckFailed saying what it was instead."""
    value = outputs.get(name)
    if not isinstance(value, np.ndarray) or not np.issubdtype(value.dtype, np.number):
        raise CheckFailed(f"{name} is not a numeric array (got {_kind(value)})")
    return value


def _kind(value):
    if isinstance(value, np.ndarray):
        return f"an array of {value.dtype}"
    return "nothing" if value is None else type(value).__name__


def scalar(outputs, name):
    """outputs[name] as a float: a number or an array holding exactly one."""
    value = outputs.get(name)
    if isinstance(value, np.ndarray) and value.size == 1 and \
            np.issubdtype(value.dtype, np.number):
        value = float(value.reshape(()))
    if isinstance(value, int) and not isinstance(value, bool):
        value = float(value)
    if not isinstance(value, float):
        shape = np.shape(value) if isinstance(value, np.ndarray) else None
        raise CheckFailed(f"{name} must be a single number" +
                          (f", got an array of shape {shape}" if shape is not None else ""))
    return value


def with_dtype(name, outputs, dtype):
    """outputs[name], which must have `dtype` (the dtype of the inputs it came from)."""
    value = array(outputs, name)
    if value.dtype != dtype:
        raise CheckFailed(f"{name} has dtype {value.dtype} for {np.dtype(dtype)} inputs; "
                          f"it should keep the inputs' dtype")
    return value


# ------------------------------------------------------------------------- comparing

def close(name, outputs, expected, tol):
    """outputs[name] agrees with `expected` to relative error `tol`."""
    expect_close(name, array(outputs, name), expected, tol)


def unchanged(outputs, case, pairs):
    """Fail when an input array came back changed from the student's function."""
    changed = []
    for after, before in pairs:
        value = outputs.get(after)
        if not isinstance(value, np.ndarray) or value.shape != case[before].shape \
                or not np.array_equal(value, case[before]):
            changed.append(before)
    if changed:
        raise CheckFailed(f"the input {', '.join(changed)} was modified by the call "
                          f"(it must stay as the caller passed it)")


def close_to_numeric(name, outputs, numeric, tol=1e-6):
    """Compare a gradient with a numeric one, relative to the gradient's scale.

    Elementwise relative errors blow up on entries that are nearly zero (where the numeric
    estimate has only absolute accuracy), so the error is measured against the largest
    entry: max |value - numeric| / max |numeric|.
    """
    value = array(outputs, name)
    expect_shape(name, value, np.shape(numeric))
    if not np.all(np.isfinite(value)):
        raise CheckFailed(f"{name} contains NaN or infinity")
    scale = max(float(np.max(np.abs(numeric), initial=0.0)), 1e-8)
    error = float(np.max(np.abs(value - numeric), initial=0.0)) / scale
    if not error < tol:
        raise CheckFailed(f"{name} is off: error {error:.2e} relative to its largest entry, "
                          f"expected below {tol:.0e}")


def judge_gradient(name, numeric, tol=1e-6):
    """A judge comparing outputs[name] with numeric(case)[name]."""
    def judge(case, out):
        close_to_numeric(name, out, numeric(case)[name], tol)
    judge.__name__ = f"judge_{name}"
    return judge


def judge_at_scale(names, expected, tol=1e-6):
    """A judge comparing each outputs[name] with expected(case)[name], the answer key's
    own (analytic) gradients: the cases of the at-scale checks are too large for a numeric
    gradient, in the grader as in a student's backward pass (see AT_SCALE_HINT)."""
    def judge(case, out):
        reference_values = expected(case)
        for name in names:
            close_to_numeric(name, out, reference_values[name], tol)
    judge.__name__ = "judge_at_scale_" + "_".join(names)
    return judge


# The words of every at-scale check: the check exists so that a backward pass written as a
# numeric gradient (two forward passes per entry) earns none of its question's gradient
# points; the gradient checks of the small cases require it.
AT_SCALE_HINT = ("compute the gradient with array operations, as the forward pass does "
                 "(backpropagation); a numeric gradient needs two forward passes per entry "
                 "and cannot finish at this size within the time limit")
# ... and its words when a gradient check of the small cases fails too (scoring.py): the
# gradient is wrong, whatever its speed.
AT_SCALE_WRONG_HINT = ("the checks above that count only with this one fail on small "
                       "inputs too: fix those first; this check repeats the gradient at a "
                       "realistic size")


def relative_error(value, expected):
    """|value - expected| relative to their sizes, as the loss judges measure it."""
    return abs(value - expected) / max(1e-8, abs(value) + abs(expected))


# ------------------------------------------------------------------------- drawing inputs

def away_from_zero(rng, shape, dtype=np.float64):
    """Values at least 0.05 from 0, so a ReLU's kink is never within a numeric step."""
    magnitude = 0.05 + np.abs(rng.standard_normal(shape))
    return (rng.choice([-1.0, 1.0], size=shape) * magnitude).astype(dtype)


def labels(rng, n, c):
    """n class labels in 0..c-1, as int64."""
    return rng.integers(0, c, size=n).astype(np.int64)
