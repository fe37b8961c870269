"""What the judges of every chapter share: reading outputs, comparing, drawing inputs.

A judge receives the case and the probe's outputs (plain data, see fcnet.checking.plain)
and raises CheckFailed with a message in words. The right values it compares with are
in the case under "expected" (see `expected`), put there by the side that judges: the
grader computes them from the answer key on the hidden case, the notebook reads them for
the public case from the data file the build shipped. No answer-key code is here.
"""
import hashlib

import numpy as np

from .checking import CheckFailed, expect_close, expect_shape


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


def expected(case):
    """The right values of `case` ({name: array or number}), added by the judging side."""
    found = case.get("expected")
    if not isinstance(found, dict):
        raise RuntimeError("the case carries no expected values: judge it through "
                           "fcnet.public_checks or the grader")
    return found


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


def judge_gradient(*names, tol=1e-6):
    """A judge comparing each outputs[name] with the expected numeric gradient
    "<name>_numeric" (or, for the at-scale cases, too large for a numeric gradient, the
    answer key's analytic one under "<name>")."""
    def judge(case, out):
        right = expected(case)
        for name in names:
            close_to_numeric(name, out, right.get(name + "_numeric", right.get(name)), tol)
    judge.__name__ = "judge_" + "_".join(names)
    return judge


# The words of every at-scale check: the check exists so that a backward pass written as a
# numeric gradient earns none of its question's gradient points (the gradient checks of
# the small cases require it). Its case is too large for one (two forward passes per
# entry), or, where perturbing a whole column at once is fast, its inputs span sizes no
# single step suits (each case's docstring says which).
AT_SCALE_HINT = ("compute the gradient with array operations, as the forward pass does "
                 "(backpropagation); a numeric gradient cannot pass this check: at this "
                 "size it cannot finish within the time limit, or its step is too large or "
                 "too small for some of these inputs")
# ... and its words when a gradient check of the small cases fails too (scoring.py): the
# gradient is wrong, whatever its speed.
AT_SCALE_WRONG_HINT = ("the checks above that count only with this one fail on small "
                       "inputs too: fix those first; this check repeats the gradient at a "
                       "realistic size")


def relative_error(value, expected):
    """|value - expected| relative to their sizes, as the loss judges measure it."""
    return abs(value - expected) / max(1e-8, abs(value) + abs(expected))


# ------------------------------------------------------------------------- views

def input_views(case, out, pairs):
    """Each input array as the call left it, next to the array the call was given: the
    course's functions leave their inputs unchanged (each chapter's grading section)."""
    from .diagnosis import View
    return [View(after, "input", out.get(after), case[before], tol=0) for after, before in pairs]


def dtype_view(key, value, expected, dtype):
    """outputs[key], which must keep its inputs' dtype, with the conversion as repair."""
    from .diagnosis import View
    ok = isinstance(value, np.ndarray) and value.dtype == dtype
    fix = value.astype(dtype) if isinstance(value, np.ndarray) and not ok else expected
    return View(key, "dtype", value, expected, {"dtype": np.dtype(dtype)}, tol=1e-4, ok=ok,
                fix=fix)


# ------------------------------------------------------------------------- drawing inputs

def away_from_zero(rng, shape, dtype=np.float64):
    """Values at least 0.05 from 0, so a ReLU's kink is never within a numeric step."""
    magnitude = 0.05 + np.abs(rng.standard_normal(shape))
    return (rng.choice([-1.0, 1.0], size=shape) * magnitude).astype(dtype)


def across_decades(rng, shape, smallest, largest):
    """Values of either sign whose sizes spread evenly over the decades from 10**smallest
    to 10**largest (log-uniform), never 0. No single step h of a numeric gradient suits
    them all: values smaller than h put a kink inside the step, and values more than
    about 1e9 times h lose the step to rounding."""
    sizes = 10.0 ** rng.uniform(smallest, largest, size=shape)
    return rng.choice([-1.0, 1.0], size=shape) * sizes


def labels(rng, n, c):
    """n class labels in 0..c-1, as int64."""
    return rng.integers(0, c, size=n).astype(np.int64)
