"""Naming the mistake behind a failed check, the way a teaching assistant would.

When a check fails, `diagnose` looks at the student's outputs next to the right ones and
asks which known mistake would have produced exactly these numbers: a constant factor
(1/N, N), a transpose, a sign, a missing term, a shape that reshapes into the right one,
NaN or infinity on large inputs. The mistakes are declared, with their explanations, in
`fcnet.mistakes` (one catalogue for the notebook's public checks and the grader's hidden
checks). A diagnosis is only given when putting the right values in place of the
diagnosed ones makes the check pass, so it never names one mistake for another.

A check says how its outputs compare with the right answer through `View`s (its
`views`, declared with it in its question's module): the same in the notebook, where the right
values are the data the build shipped, and in the grader, which computes them from the
answer key. This module holds no implementation of any graded function: only relations
between arrays.
"""
from dataclasses import dataclass, field

import numpy as np


@dataclass(frozen=True)
class Diagnosis:
    name: str             # short id of the mistake, for example "db_averaged"
    explanation: str      # what went wrong and how to fix it, in words (never code)


@dataclass
class View:
    """One output of a probe next to its right value."""
    key: str              # the output's name in the probe's outputs
    role: str             # what it is, the same on both sides ("db", "loss", "next_w")
    got: object           # the student's value
    expected: object      # the right value (None when only `ok` can say)
    context: dict = field(default_factory=dict)   # inputs the relations need (x, N, ...)
    tol: float = 1e-6     # relative to the largest expected entry
    ok: bool = None       # None: decided by comparing got with expected
    fix: object = None    # what repairs outputs[key]; None: the expected value

    def __post_init__(self):
        if self.ok is None:
            self.ok = close(self.got, self.expected, self.tol)
        if self.fix is None:
            self.fix = self.expected


@dataclass(frozen=True)
class Mistake:
    qid: str              # question it belongs to
    role: str             # the output role it shows in
    name: str
    explanation: str
    test: object = None   # (view) -> bool; None: matched by the grader only (see extra)


@dataclass(frozen=True)
class ErrorMistake:
    qid: str
    name: str
    explanation: str
    matches: object       # (error message) -> bool


# ----------------------------------------------------------------------------- relations

def as_array(value):
    if value is None or isinstance(value, str):
        return None
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array


def close(got, expected, tol=1e-6):
    """Same shape, finite, and within tol of expected relative to its largest entry."""
    a, b = as_array(got), as_array(expected)
    if a is None or b is None or a.shape != b.shape or not np.all(np.isfinite(a)):
        return False
    scale = max(float(np.max(np.abs(b), initial=0.0)), 1e-8)
    return float(np.max(np.abs(a - b), initial=0.0)) <= tol * scale


def nonzero(value):
    a = as_array(value)
    return a is not None and a.size > 0 and float(np.max(np.abs(a))) > 0


def scaled(view, factor):
    """The student's value is `factor` times the right one (and the right one is not 0)."""
    return nonzero(view.expected) and close(view.got, factor * as_array(view.expected),
                                            view.tol)


def differs_by(view, term, factor=1.0):
    """got == expected + factor * term, with a term that is not zero."""
    return nonzero(term) and close(view.got, as_array(view.expected) + factor * as_array(term),
                                   view.tol)


def transposed(view):
    e = as_array(view.expected)
    return e is not None and e.ndim == 2 and e.shape[0] != e.shape[1] and \
        close(view.got, e.T, view.tol)


def reshapes_to_expected(view):
    a, e = as_array(view.got), as_array(view.expected)
    return (a is not None and e is not None and a.shape != e.shape and a.size == e.size
            and close(a.reshape(e.shape), e, view.tol))


def non_finite(view):
    a = as_array(view.got)
    return a is not None and not np.all(np.isfinite(a)) and \
        np.all(np.isfinite(as_array(view.expected)))


def _per_n(view, power):
    n = view.context.get("N")
    return n is not None and n > 1 and scaled(view, float(n) ** power)


# Relations any output may show, tried after the question's own mistakes. {role} is
# filled in; the names are "<role>_<relation>".
GENERIC = (
    ("wrong_shape", reshapes_to_expected,
     "{role} holds the right numbers in the wrong shape: reshape it to the shape the "
     "docstring gives before returning it."),
    ("transposed", transposed,
     "{role} is the right matrix, transposed: check the order of the factors in the "
     "product that builds it against the shapes in the docstring."),
    ("sign_flipped", lambda v: scaled(v, -1.0),
     "{role} has the right size but the wrong sign everywhere: look for a minus sign "
     "that should not be there (or one that is missing)."),
    ("not_finite", non_finite,
     "{role} contains NaN or infinity on inputs where the right result is an ordinary "
     "number: some intermediate value overflows or divides by zero."),
    ("divided_by_N", lambda v: _per_n(v, -1),
     "{role} is exactly 1/N of the right value (N is the number of examples): it is "
     "divided by N once too often, or averaged where it should be summed."),
    ("times_N", lambda v: _per_n(v, 1),
     "{role} is exactly N times the right value (N is the number of examples): it is "
     "missing a division by N, or summed where it should be averaged."),
)


# ----------------------------------------------------------------------------- diagnose

def _matching(qid, view, catalogue, extra):
    for mistake in catalogue:
        if mistake.qid != qid or mistake.role != view.role:
            continue
        test = mistake.test if mistake.test is not None else extra.get(mistake.name)
        if test is not None and test(view):
            return Diagnosis(mistake.name, mistake.explanation)
    for relation, test, text in GENERIC:
        if test(view):
            return Diagnosis(f"{view.role}_{relation}", text.format(role=view.role))
    return None


def _rank(qid, name, catalogue):
    """Where the mistake `name` of `qid` comes in the catalogue (generic ones last)."""
    names = [m.name for m in catalogue if m.qid == qid]
    return names.index(name) if name in names else len(names)


def _passes(judge, case, outputs):
    try:
        judge(case, outputs)
    except Exception:
        return False
    return True


def diagnose(check, case, outputs, views, extra=None):
    """The Diagnosis of a failed `check` from its `views` (see View), or None.

    `extra` maps mistake names to tests that only the grader can run (see Mistake.test).
    A diagnosis is returned only when repairing the diagnosed outputs makes the judge
    pass; a failure with a cause no mistake explains keeps the check's general hint.
    """
    MISTAKES = _catalogue(check, Mistake)
    try:
        found = []
        for view in views:
            if not view.ok:
                diagnosis = _matching(check.qid, view, MISTAKES, extra or {})
                if diagnosis is not None:
                    found.append((view, diagnosis))
        for view, diagnosis in found:
            if _passes(check.judge, case, {**outputs, view.key: view.fix}):
                return diagnosis
        repaired = {**outputs, **{view.key: view.fix for view, _ in found}}
        if found and _passes(check.judge, case, repaired):
            # Outputs named differently: the catalogue's own mistake that comes first wins
            # over later ones and over generic relations (a loss is NaN for many reasons;
            # which rows of dx are NaN tells a global shift apart).
            return min(found, key=lambda pair: _rank(check.qid, pair[1].name, MISTAKES))[1]
    except Exception:  # a diagnosis is a courtesy: never let it break a check
        return None
    return None


def diagnose_error(check, message):
    """The Diagnosis of an error message (the student's code raised), or None."""
    for mistake in _catalogue(check, ErrorMistake):
        if mistake.qid == check.qid and mistake.matches(str(message)):
            return Diagnosis(mistake.name, mistake.explanation)
    return None


def _catalogue(check, kind):
    """The mistakes of `kind` declared with `check`'s question."""
    declared = tuple(m for m in check.mistakes if isinstance(m, kind))
    if check.mistakes:
        return declared
    from . import mistakes  # questions not yet in fcnet.questions

    return mistakes.MISTAKES if kind is Mistake else mistakes.ERROR_MISTAKES
