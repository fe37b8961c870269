"""Reading an inline answer: which option letters a student chose.

A chapter asks a multiple-choice question in a cell such as `inline_q1 = set()`; the
student fills in the letters, `inline_q1 = {"B", "D"}`. A list, a tuple or one string
("B, D" or "B D") is read the same way, and lower case counts as upper case.

This is the one reader of inline answers: the public check behind `grader.check`
(fcnet.public_checks), the hidden check's probe (fcnet/questions/_inline.py) and the
grader's reading of a notebook's `set(...)` answers (autograder/notebook_reading.py) all
use it. The letters each question offers are its module's OPTIONS (fcnet.questions).
"""


def chosen_letters(answer):
    """The letters of `answer`, upper case, sorted, each once: a list of strings.

    `answer` is a set (or any iterable) of letters, or one string of letters separated
    by commas or spaces; None is no answer ([]). Anything else raises TypeError.
    """
    if answer is None:
        return []
    if isinstance(answer, str):
        answer = answer.replace(",", " ").split()
    return sorted({str(letter).strip().upper() for letter in answer})
