"""Backward passes written as numeric gradients, against the hidden at-scale checks.

    .venv/bin/python benchmarks/numeric_gradients_at_scale.py [--columns 200]

For affine_backward, relu_backward, softmax_loss and svm_loss this draws the grader's
at-scale case (from a fixed seed), then times honest backward passes and numeric ones and
judges each with the at-scale check's own judge. The numeric ones perturb a whole column
of the batch at once (the rows are independent), the fastest a numeric gradient gets.
affine_backward's are timed on `--columns` columns and extrapolated to all of them.
Rows marked "open" are shortcuts that still pass (autograder/SECURITY.md).
"""
import argparse
import os
import time

import numpy as np

SEED = 20240611
TIME_LIMIT = 60.0   # the grader's default seconds per question


# ------------------------------------------------------------------------- affine_backward

def affine_honest(case):
    x, w, dout = case["x"], case["w"], case["dout"]
    flat = x.reshape(len(x), -1)
    return {"dx": (dout @ w.T).reshape(x.shape), "dw": flat.T @ dout, "db": dout.sum(0)}


def affine_loops(case):
    """A loop over examples and outputs, as a student new to numpy writes it."""
    x, w, dout = case["x"], case["w"], case["dout"]
    flat = x.reshape(len(x), -1)
    dx, dw = np.zeros_like(flat), np.zeros_like(w)
    for n in range(len(flat)):
        for m in range(w.shape[1]):
            dx[n] += dout[n, m] * w[:, m]
            dw[:, m] += flat[n] * dout[n, m]
    return {"dx": dx.reshape(x.shape), "dw": dw, "db": dout.sum(0)}


def affine_columns_seconds(case, columns, h=1e-3):
    """Seconds for all of dx and dw by central differences a column at a time."""
    x, w, b, dout = case["x"], case["w"], case["b"], case["dout"]
    flat = x.reshape(len(x), -1)
    forward = lambda v, u: v @ u + b  # noqa: E731
    start = time.perf_counter()
    for k in range(columns):
        up, down = flat.copy(), flat.copy()
        up[:, k] += h
        down[:, k] -= h
        ((forward(up, w) - forward(down, w)) * dout).sum(axis=1)
    for k in range(columns):
        up, down = w.copy(), w.copy()
        up[k] += h
        down[k] -= h
        ((forward(flat, up) - forward(flat, down)) * dout).sum(axis=0)
    return (time.perf_counter() - start) / columns * flat.shape[1]


def affine_batched_seconds(case, columns, h=1e-3, block=64):
    """Seconds for dx's numeric gradient fed through as batches of perturbed rows."""
    w, b = case["w"], case["b"]
    d = w.shape[0]
    start = time.perf_counter()
    for first in range(0, columns, block):
        steps = np.zeros((block, d))
        steps[np.arange(block), first + np.arange(block)] = h
        (steps @ w + b) - (-steps @ w + b)
    return (time.perf_counter() - start) / columns * d


# ------------------------------------------------------------------------- relu_backward

def relu_variants():
    def fixed(h):
        return lambda x, dout: dout * (np.maximum(x + h, 0) - np.maximum(x - h, 0)) / (2 * h)

    def copy_and_zero(x, dout):
        dx = dout.copy()
        dx[x <= 0] = 0
        return dx

    variants = {
        "honest: dout * (x > 0)": lambda x, dout: dout * (x > 0),
        "honest: np.where(x > 0, dout, 0)": lambda x, dout: np.where(x > 0, dout, 0.0),
        "honest: dout * np.heaviside(x, 0)": lambda x, dout: dout * np.heaviside(x, 0.0),
        "honest: copy dout, zero where x <= 0": copy_and_zero,
        **{f"numeric, central, h={h:g}": fixed(h)
           for h in (1e-2, 1e-5, 1e-8, 1e-50, 1e-150, 1e-300)},
        "open: numeric, central, h=|x| per entry": lambda x, dout: dout * (
            np.maximum(2 * x, 0) - np.maximum(0 * x, 0)) / (2 * np.abs(x)),
        "open: complex step, h=1e-20": lambda x, dout: dout * np.maximum(
            x + 1e-20j, 0).imag / 1e-20,
    }
    return {name: (lambda f: lambda case: {"dx": f(case["x"], case["dout"])})(f)
            for name, f in variants.items()}


# ------------------------------------------------------------------------- the losses

def _softmax_rows(x, y):
    s = x - x.max(axis=1, keepdims=True)
    return np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y]


def _svm_rows(x, y):
    rows = np.arange(len(y))
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    return margins.sum(axis=1)


def _columns(rows, x, y, h, stencil=((1, 1.0), (-1, -1.0)), divisor=2.0):
    dx = np.zeros(x.shape)
    for j in range(x.shape[1]):
        for k, weight in stencil:
            moved = x.astype(float)
            moved[:, j] += k * h
            dx[:, j] += weight * rows(moved, y)
    return dx / (divisor * h * len(y))


def _complex_step(rows, x, y, h=1e-20):
    dx = np.zeros(x.shape)
    for j in range(x.shape[1]):
        moved = x.astype(complex)
        moved[:, j] += 1j * h
        dx[:, j] = rows(moved, y).imag / h
    return dx / len(y)


def _softmax_rows_complex(x, y):
    s = x - x.real.max(axis=1, keepdims=True)
    return np.log(np.exp(s).sum(axis=1)) - s[np.arange(len(y)), y]


def _svm_rows_complex(x, y):
    rows = np.arange(len(y))
    margins = x - x[rows, y][:, None] + 1
    margins = np.where(margins.real > 0, margins, 0)
    margins[rows, y] = 0
    return margins.sum(axis=1)


def softmax_variants():
    def honest(x, y):
        p = np.exp(x - x.max(axis=1, keepdims=True))
        p /= p.sum(axis=1, keepdims=True)
        p[np.arange(len(y)), y] -= 1
        return p / len(y)

    def rows_loop(x, y):
        dx = np.zeros_like(x)
        for i in range(len(y)):
            p = np.exp(x[i] - np.max(x[i]))
            p /= np.sum(p)
            p[y[i]] -= 1
            dx[i] = p / len(y)
        return dx

    def lse(v, _):
        top = v.max(axis=1)
        return np.log(np.exp(v - top[:, None]).sum(axis=1)) + top

    def lse_only(x, y):  # the log-sum-exp numerically, the -s_y term by hand
        rows = np.arange(len(y))
        dx = _columns(lse, x, y, 1e-5)
        dx[rows, y] -= 1 / len(y)
        return dx

    fourth = ((-2, 1.0), (-1, -8.0), (1, 8.0), (2, -1.0))
    variants = {
        "honest: vectorised": honest,
        "honest: loop over rows": rows_loop,
        **{f"numeric, central, h={h:g}": (lambda h: lambda x, y: _columns(
            _softmax_rows, x, y, h))(h) for h in (1.0, 1e-1, 1e-3, 1e-5, 1e-7)},
        **{f"numeric, 4th-order, h={h:g}": (lambda h: lambda x, y: _columns(
            _softmax_rows, x, y, h, fourth, 12.0))(h) for h in (1.0, 1e-1, 1e-2)},
        "open: complex step": lambda x, y: _complex_step(_softmax_rows_complex, x, y),
        "open: numeric log-sum-exp, the -s_y term by hand": lse_only,
    }
    return {name: (lambda f: lambda case: {"dx": f(case["x"], case["y"])})(f)
            for name, f in variants.items()}


def svm_variants():
    def honest(x, y):
        rows = np.arange(len(y))
        positive = (x - x[rows, y][:, None] + 1 > 0).astype(float)
        positive[rows, y] = 0
        positive[rows, y] = -positive.sum(axis=1)
        return positive / len(y)

    def loops(x, y):
        dx = np.zeros_like(x)
        for i in range(len(y)):
            for j in range(x.shape[1]):
                if j != y[i] and x[i, j] - x[i, y[i]] + 1 > 0:
                    dx[i, j] += 1
                    dx[i, y[i]] -= 1
        return dx / len(y)

    def adaptive(x, y):  # one step per row: half its smallest |margin|
        rows = np.arange(len(y))
        margins = np.abs(x - x[rows, y][:, None] + 1)
        margins[rows, y] = np.inf
        h = margins.min(axis=1) / 2
        dx = np.zeros(x.shape)
        for j in range(x.shape[1]):
            up, down = x.copy(), x.copy()
            up[:, j] += h
            down[:, j] -= h
            dx[:, j] = (_svm_rows(up, y) - _svm_rows(down, y)) / (2 * h)
        return dx / len(y)

    variants = {
        "honest: vectorised": honest,
        "honest: loop over rows and classes": loops,
        **{f"numeric, central, h={h:g}": (lambda h: lambda x, y: _columns(
            _svm_rows, x, y, h))(h) for h in (1e-1, 1e-4, 1e-7, 1e-10, 1e-12, 1e-13)},
        "numeric, central, one step per row": adaptive,
        "open: complex step": lambda x, y: _complex_step(_svm_rows_complex, x, y),
    }
    return {name: (lambda f: lambda case: {"dx": f(case["x"], case["y"])})(f)
            for name, f in variants.items()}


# ------------------------------------------------------------------------- running

def at_scale_case(qid):
    """The at-scale checks of `qid` and their case, with the answer key's values."""
    from autograder import hidden_checks
    from autograder.hidden_checks.references import judging_case

    checks = [c for c in hidden_checks.CHECKS if c.qid == qid and c.name.endswith("at_scale")]
    case = hidden_checks.make_cases(qid, SEED)[checks[0].case_id]
    return checks, judging_case(checks[0], case)


def verdict(checks, case, out):
    from fcnet.checking import CheckFailed

    for check in checks:
        try:
            with np.errstate(all="ignore"):
                check.judge(case, out)
        except CheckFailed as failed:
            return f"fails ({failed})"
    return "passes"


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    p.add_argument("--columns", type=int, default=200,
                   help="affine_backward: columns timed before extrapolating")
    args = p.parse_args(argv)
    print(f"load average {os.getloadavg()[0]:.1f}; time limit {TIME_LIMIT:.0f} s a question")
    print("| question | backward pass | seconds | at-scale check |\n|---|---|---|---|")
    checks, case = at_scale_case("affine_backward")
    for name, f in (("honest: vectorised", affine_honest),
                    ("honest: loop over examples and outputs", affine_loops)):
        start = time.perf_counter()
        out = f(case)
        seconds = time.perf_counter() - start
        print(f"| affine_backward | {name} | {seconds:.3f} | {verdict(checks, case, out)} |")
    print(f"| affine_backward | numeric, central, a column at a time | "
          f"{affine_columns_seconds(case, args.columns):.0f} (extrapolated) | times out |")
    print(f"| affine_backward | numeric, perturbations fed as batches of rows (dx alone) | "
          f"{affine_batched_seconds(case, args.columns):.0f} (extrapolated) | times out |")
    for qid, variants in (("relu_backward", relu_variants()),
                          ("softmax_loss", softmax_variants()), ("svm_loss", svm_variants())):
        checks, case = at_scale_case(qid)
        for name, f in variants.items():
            start = time.perf_counter()
            with np.errstate(all="ignore"):
                out = f(case)
            seconds = time.perf_counter() - start
            print(f"| {qid} | {name} | {seconds:.3f} | {verdict(checks, case, out)} |")


if __name__ == "__main__":
    main()
