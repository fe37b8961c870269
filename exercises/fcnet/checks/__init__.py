"""The checks of the code questions: one set, run by the grader and by the notebook.

Each check is an fcnet.checking.Check: a case generator with an explicit id, a probe
(fcnet.probes: how the student's code is called), a judge and views (what the outputs
are compared with). The two sides differ only in the case and in where the right values
come from:

- the grader draws each case fresh from the course seed and
  its case id, and computes the right values from the answer key;
- `grader.check` in the notebook (fcnet.public_checks) runs the same checks on the fixed
  public case of each id, with the right values the build computed from the answer key
  and shipped as data (fcnet/public_cases.npz).

Checks with `public=False` (the at-scale cases, too large to ship) run only in grading.
No answer-key code is here: the right values reach the judges under case["expected"].

(the questions are in fcnet/questions/, one module each).
"""
from .. import questions

CHECKS = questions.checks()
