"""Chapter 6, inline question 2: which changes narrow the gap between training and test
accuracy? Options A to D; the answer is a set of letters.

Graded only: `grader.check` in the notebook checks the answer's format alone
(fcnet.public_checks); the right letters come from the answer key, in the grader. What the
three inline questions share is in _inline.py.
"""
from functools import partial

from ..checking import Check
from ._inline import (DESCRIPTION, HINT, answer_case, inline_probe, judge_inline,
                      right_letters)

ID = "inline_q2"
CHAPTER = "06_tuning"
ORDER = 2  # its place among its chapter's questions
POINTS = 5
GRADES = (ID,)  # the notebook's variable holding the answer has the question's name
OPTIONS = "ABCD"  # the letters the chapter offers

REFERENCES = {"inline_q2.answer": lambda key, case: right_letters(key.inline_q2)}

MISTAKES = ()  # a choice of letters has no diagnosed mistakes

CHECKS = [
    Check(qid=ID, name="answer", description=DESCRIPTION, hint=HINT, needs=GRADES,
          case_id="inline_q2.answer", make_case=answer_case(ID), probe=inline_probe,
          judge=partial(judge_inline, options=OPTIONS), weight=1, public=False),
]
