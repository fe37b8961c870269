"""Chapter 6, inline question 3: what do the curves of a badly tuned run show
(fcnet.recorded_runs.BAD_RUN)? Options A to F; the answer is a set of letters.

Graded only: `grader.check` in the notebook checks the answer's format alone
(NOTEBOOK_CHECKS); the right letters come from the answer key, in the grader. What the
three inline questions share is in _inline.py.
"""
from ._inline import checks, format_checks, right_letters

ID = "inline_q3"
CHAPTER = "06_tuning"
ORDER = 3  # its place among its chapter's questions
POINTS = 5
GRADES = (ID,)  # the notebook's variable holding the answer has the question's name
OPTIONS = "ABCDEF"  # the letters the chapter offers

REFERENCES = {"inline_q3.answer": lambda key, case: right_letters(key.inline_q3)}

MISTAKES = ()  # a choice of letters has no diagnosed mistakes

CHECKS = checks(ID, OPTIONS)
NOTEBOOK_CHECKS = format_checks(ID, OPTIONS)
