"""The hidden checks: fresh inputs at grading time, judged against the answer key.

The checks of the code questions are their modules' CHECKS (fcnet/questions/), the very
ones `grader.check` runs in the notebook on the public case, and those of the inline
questions, which run in grading
only (fcnet/questions/); here each case is drawn fresh, seeded by the course seed, the
question and the case's explicit id (autograder.seeds.derived_seed), and the judges
compare with right values computed from the answer key in the grader (references.py).
The questions judged from data the grader keeps are declared here:

    solver.py             chapter 5: training (a real run, scored on held-out images)
    tuning.py             chapter 6: best_model

Weights are shares of the question's points (autograder/points.py). `requires` names the
value checks of the same case that must pass for a check to earn points (see
scoring.apply_requirements): a stub returning zeros leaves its inputs unmodified and has
the right shape and dtype, and earns nothing. Hints name the likely mistake in words;
messages never quote an expected value or any answer-key code.
"""
import numpy as np

from fcnet import questions

from ..seeds import derived_seed
from . import solver, tuning
from .references import judging_case

__all__ = ["CHECKS", "checks_for", "make_cases", "judging_case"]

# In the order the snapshot of the hidden checks records (tests/hidden_checks_snapshot.json):
# the code questions, the questions judged from data the grader keeps, then the inline
# (multiple-choice) questions.
_INLINE = set(questions.options())
CHECKS = [*[c for c in questions.checks() if c.qid not in _INLINE],
          *solver.CHECKS, *tuning.CHECKS,
          *[c for c in questions.checks() if c.qid in _INLINE]]


def checks_for(qid):
    """The hidden checks of question `qid`, in order."""
    found = [c for c in CHECKS if c.qid == qid]
    if not found:
        raise KeyError(f"no hidden checks for question {qid!r}")
    return found


def make_cases(qid, course_seed):
    """{case id: case} for every case of `qid`'s checks, each drawn from its own seed."""
    cases = {}
    for check in checks_for(qid):
        if check.case_id not in cases:
            rng = np.random.default_rng(derived_seed(course_seed, qid, check.case_id))
            cases[check.case_id] = check.make_case(rng)
    return cases
