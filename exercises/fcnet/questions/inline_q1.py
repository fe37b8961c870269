"""Chapter 2, inline question 1: for which inputs does almost no gradient flow back through
the sigmoid, the ReLU and the leaky ReLU? Options A to E; the answer is a set of letters.

Graded only: `grader.check` in the notebook checks the answer's format alone
(NOTEBOOK_CHECKS); the right letters come from the answer key, in the grader. What the
three inline questions share is in _inline.py.
"""
from ._inline import checks, format_checks, right_letters

ID = "inline_q1"
CHAPTER = "02_relu"
ORDER = 3  # its place among its chapter's questions
POINTS = 5
GRADES = (ID,)  # the notebook's variable holding the answer has the question's name
OPTIONS = "ABCDE"  # the letters the chapter offers

REFERENCES = {"inline_q1.answer": lambda key, case: right_letters(key.inline_q1)}

MISTAKES = ()  # a choice of letters has no diagnosed mistakes

CHECKS = checks(ID, OPTIONS)
NOTEBOOK_CHECKS = format_checks(ID, OPTIONS)
