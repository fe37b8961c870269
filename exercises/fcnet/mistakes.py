"""The catalogue of common mistakes, question by question, with what to tell the student.

Each mistake is recognised from the numbers alone: the student's output next to the right
one (a `View`, see fcnet.diagnosis) and the inputs of the check. A test here never
computes a graded function: it relates arrays (a factor, a difference equal to a known
term, a property such as "rows sum to 1"). A few mistakes need the answer key to be
recognised (a network without its ReLU); their test lives in the grader
(autograder/mistakes.py) and is None here, so their words stay in one place.

(The questions moved to fcnet/questions/ declare their mistakes in their own modules; the
rules every question shares, and the relations several use, stay here.)

Explanations say what the numbers show and how to fix it, in words, never in code.
"""
import numpy as np

from .diagnosis import Mistake, as_array, close


def examples_in(view):
    """N, the number of examples of the check's inputs (context "N")."""
    return float(view.context["N"])


# ----------------------------------------------------------------------------- the course's rules

def _came_back(view):
    """An input array came back (changed: diagnose only asks about views that differ)."""
    return as_array(view.got) is not None


def _dtype_changed(view):
    """A numeric array of another dtype than its inputs', with the right values when
    they are known."""
    got = view.got
    if not isinstance(got, np.ndarray) or not np.issubdtype(got.dtype, np.number) or \
            got.dtype == view.context["dtype"]:
        return False
    return view.expected is None or close(got, view.expected, view.tol)


_UNCHANGED = ("The course's functions leave the arrays they are given unchanged (the "
              "grading section of the chapter states this rule): the caller, or another "
              "layer, may still need them.")


def input_modified_rule(qid, role, writes, fix="Compute into a new array (or into a copy "
                                                "you make first)."):
    """The mistake of a function that writes into an array it is given: `writes` says
    which ("Your relu_forward writes into x"), `fix` what to do instead."""
    return Mistake(qid, role, "input_modified",
                   f"{writes}, so the caller's array has changed after the call. "
                   f"{_UNCHANGED} {fix}", _came_back)


def dtype_changed_rule(qid, what, explanation=None):
    """The mistake of a layer `what` that returns float64 for float32 inputs, in the
    words of `explanation` when the question is not a layer."""
    return Mistake(qid, "dtype", "dtype_changed", explanation or (
                   f"Your {what} returns float64 values for float32 inputs: some array in it "
                   f"is made without a dtype (a fresh array of zeros, or a conversion to "
                   f"Python's float), and numpy then computes in float64. The course's layers "
                   f"keep their inputs' dtype (the grading section of the chapter states this "
                   f"rule), because chapter 5 trains in float32. Build the result from the "
                   f"inputs themselves, or give new arrays the inputs' dtype."), _dtype_changed)


# Every question declares its mistakes in its module (fcnet/questions/).
MISTAKES = ()
ERROR_MISTAKES = ()
