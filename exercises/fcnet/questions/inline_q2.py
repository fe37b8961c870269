"""Chapter 6, inline question 2: which changes narrow the gap between training and test
accuracy? Options A to D; the answer is a set of letters.

Graded only: `grader.check` in the notebook checks the answer's format alone
(NOTEBOOK_CHECKS); the right letters come from the answer key, in the grader. What the
three inline questions share is in _inline.py.
"""
from ._inline import checks, format_checks, right_letters

ID = "inline_q2"
CHAPTER = "06_tuning"
ORDER = 2  # its place among its chapter's questions
POINTS = 5
GRADES = (ID,)  # the notebook's variable holding the answer has the question's name
OPTIONS = "ABCD"  # the letters the chapter offers

REFERENCES = {"inline_q2.answer": lambda key, case: right_letters(key.inline_q2)}

MISTAKES = ()  # a choice of letters has no diagnosed mistakes

CHECKS = checks(ID, OPTIONS)
NOTEBOOK_CHECKS = format_checks(ID, OPTIONS)
