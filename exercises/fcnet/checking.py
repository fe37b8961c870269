"""The one protocol every check follows, public or hidden.

A check is split in three so that it can run across a sandbox boundary:

    case    = check.make_case(rng)       # grader side: plain arrays and numbers
    outputs = check.probe(ns, case)      # student side: calls the student's code in `ns`
    check.judge(case, outputs)           # raises CheckFailed on a wrong answer

The judge finds the right values under case["expected"], which the judging side adds:
the grader from the answer key, the notebook from the data the build shipped
(fcnet.public_checks). `check.run(ns, case)` does probe and judge in one process, which
is what `grader.check(...)` in a notebook does. Only plain numbers and arrays pass from
`probe` to `judge` (see `plain`).

When a check fails, fcnet.diagnosis looks for a known mistake in the outputs (through the
check's `views`) or in the error message; when it finds one, the result carries it and
prints its explanation in place of the general hint. The grader does the same with the
same code (autograder/scoring.py).
"""
import textwrap
from dataclasses import dataclass
from typing import Callable

import numpy as np

from .diagnosis import Diagnosis, diagnose, diagnose_error
from .gradient_check import rel_error


class CheckFailed(AssertionError):
    """The student's code ran but gave a wrong answer; the message says what differed."""


class NotAnswered(Exception):
    """The student has not written this part yet (a stub, or an unanswered question).
    Raised by a probe or a judge, it makes the check "not answered", never wrong."""


class PartialCredit(CheckFailed):
    """A judge's verdict worth a share of the check's weight (0 <= fraction < 1)."""

    def __init__(self, fraction, message):
        super().__init__(message)
        fraction = float(fraction)  # NaN compares false: min(1.0, nan) would be 1.0
        self.fraction = max(0.0, min(1.0, fraction)) if fraction == fraction else 0.0


@dataclass(frozen=True)
class Check:
    qid: str              # question id, for example "affine_forward"
    name: str             # short id, unique within the question
    description: str      # what is checked, in words
    hint: str             # the likely mistake when it fails, in words (never code)
    needs: tuple          # names the probe reads from the student's namespace
    case_id: str          # "<qid>.<name>": seeds the case; checks with one id share a case
    make_case: Callable   # (rng: np.random.Generator) -> dict
    probe: Callable       # (ns: dict, case: dict) -> dict of arrays / numbers
    judge: Callable       # (case: dict, outputs: dict) -> None, raises CheckFailed
    weight: float = 1.0   # share of the question's points
    # Names of checks of the same question that must pass for this one to earn points: a
    # property such as "inputs unmodified", a shape or a dtype, which a stub returning
    # zeros also has, counts only next to the right values.
    requires: tuple = ()
    # (case, outputs) -> [fcnet.diagnosis.View]: each output next to its right value, from
    # which fcnet.diagnosis names the mistake of a failed check. None: no diagnosis.
    views: Callable = None
    # False: graded only (an at-scale case, too large to ship to the notebook).
    public: bool = True
    # The question's known mistakes (fcnet.diagnosis.Mistake and ErrorMistake), which
    # name the cause of a failure; declared in the question's module.
    mistakes: tuple = ()
    # Said on a pass that proves less than it seems (an inline answer's format check).
    pass_note: str = ""

    def run(self, ns, case, expected=None):
        """Run probe and judge on `case` in this process; return a CheckResult.
        `expected`: the right values the judge and views compare with."""
        judged = case if expected is None else {**case, "expected": expected}
        try:
            missing = [n for n in self.needs if n not in ns]
            if missing:
                raise NotAnswered(f"define {', '.join(missing)} first")
            outputs = plain(self.probe(ns, case))
        except (NotImplementedError, NotAnswered) as err:
            return CheckResult(self, "not implemented", str(err) or "not implemented yet")
        except Exception as err:  # the student's code crashed: report it, don't propagate
            message = f"{type(err).__name__}: {err}"
            return CheckResult(self, "error", message, diagnose_error(self, message))
        try:
            self.judge(judged, outputs)
        except NotAnswered as err:
            return CheckResult(self, "not implemented", str(err))
        except CheckFailed as err:
            return CheckResult(self, "failed", str(err), self.diagnose(judged, outputs))
        return CheckResult(self, "passed", "")

    def diagnose(self, case, outputs, extra=None):
        """The Diagnosis of this check's failure on `outputs`, or None (fcnet.diagnosis)."""
        if self.views is None:
            return None
        try:
            views = self.views(case, outputs)
        except Exception:  # outputs too malformed to compare: the general hint stays
            return None
        return diagnose(self, case, outputs, views, extra)


@dataclass
class CheckResult:
    check: Check
    status: str           # "passed", "failed", "not implemented", "error", or "blocked"
    #                       (not judged: code it calls fails first; fcnet.public_checks)
    message: str
    diagnosis: Diagnosis = None   # the named mistake, when one explains the failure

    @property
    def passed(self):
        return self.status == "passed"

    def __str__(self):
        """What the student reads: the check, then what to do (the diagnosis, or the
        general hint), then what the check saw; each paragraph wrapped to 88 columns."""
        mark = "PASS" if self.passed else self.status.upper()
        lines = [_wrap(f"[{mark}] {self.check.qid}: {self.check.description}", "")]
        if not self.passed:
            if self.diagnosis is not None:
                lines.append(_wrap(f"Diagnosis: {self.diagnosis.explanation}"))
            elif self.status in ("failed", "error"):
                lines.append(_wrap(f"Hint: {self.check.hint}"))
            seen = "What the check saw: " if self.status in ("failed", "error") else ""
            lines.append(_wrap(seen + self.message))
        return "\n".join(lines)


def _wrap(text, indent="    "):
    return textwrap.fill(text, width=88, initial_indent=indent, subsequent_indent=indent + "  ",
                         break_long_words=False, break_on_hyphens=False)


def plain(outputs):
    """Copy a probe's outputs into plain data: None, Python bool, int, float and str, and
    new ndarrays of numbers or booleans. Keys become strings.

    A subclass of ndarray, or any object pretending to be a number, cannot ride along:
    what a judge sees is data, not the student's objects. This is the one rule for every
    route: `check.run` here, and the grader's probe runner (autograder/worker_runtime.py,
    inside the sandbox and in process), whose result frames carry exactly these types.
    """
    if not isinstance(outputs, dict):
        raise TypeError("a probe must return a dict")
    clean = {}
    for key, value in outputs.items():
        if value is None:
            clean[str(key)] = None
        elif isinstance(value, (bool, int, float, str)):
            # bool/int/float/str() of a subclass instance gives back the plain built-in.
            base = next(t for t in (bool, int, float, str) if isinstance(value, t))
            clean[str(key)] = base(value)
        else:
            array = np.array(value, copy=True, subok=False)
            if not (np.issubdtype(array.dtype, np.number) or array.dtype == np.bool_):
                raise TypeError(f"output {key!r} is not numeric (got {type(value).__name__})")
            clean[str(key)] = array
    return clean


def expect_shape(name, value, shape):
    """Fail with a readable message unless `value` has exactly `shape`."""
    got = np.shape(value)
    if tuple(got) != tuple(shape):
        raise CheckFailed(f"{name} has shape {tuple(got)}, expected {tuple(shape)}")


def expect_close(name, value, expected, tol):
    """Fail unless the relative error between `value` and `expected` is below `tol`."""
    expect_shape(name, value, np.shape(expected))
    if not np.all(np.isfinite(value)):
        raise CheckFailed(f"{name} contains NaN or infinity")
    err = rel_error(value, expected)
    if not err < tol:
        if np.size(expected) == 1:
            raise number_is_off(name, tol)
        raise CheckFailed(f"{name} is off: relative error {err:.2e}, expected below {tol:.0e}")


def number_is_off(what, tol):
    """The failure of a single number: that it is off, never by how much. One number's
    relative error gives its right value away (two candidates), and the hidden cases are
    the same for every submission, so the feedback would tell it over a few resubmissions."""
    return CheckFailed(f"{what} is off: its relative error is above {tol:.0e}")
