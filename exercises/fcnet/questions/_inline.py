"""What the inline (multiple-choice) questions share: their probe, case and judge.

A chapter asks such a question in a cell like `inline_q1 = set()`; the student fills in
the letters of the options they choose. Each question's module (inline_q1, inline_q2,
inline_q3) holds its id and its OPTIONS; `checks` gives its one graded check, and
`format_checks` the notebook's check of the answer's format alone, since the right
letters never ship. They reach the judge from the answer key, in the grader,
under case["expected"]["letters"] (the module's REFERENCES).

A right letter earns its share, a wrong one cancels a right one (see judge_inline).
"""
from functools import partial

from ..checking import Check, CheckFailed, NotAnswered, PartialCredit
from ..inline_answers import chosen_letters
from ..judging import expected
from ..probing import returns

DESCRIPTION = "the options chosen"
HINT = "reread the question: each wrong choice cancels a right one"


@returns(lambda case: {})
def inline_probe(ns, case):
    """The chosen option letters, as one sorted string ("" when the answer is empty)."""
    letters = chosen_letters(ns[str(case["qid"])])
    return {"letters": "".join(letters)[:64], "answered": bool(letters)}


def answer_case(qid):
    """The case maker of question `qid`'s check: the case only names the question."""
    def make_case(rng):
        return {"qid": qid}
    return make_case


def right_letters(answer):
    """The answer key's `answer` (a set of letters) as the judge reads it: {"letters"}."""
    return {"letters": "".join(chosen_letters(answer))}


def judge_inline(case, out, options):
    """Credit for each right letter, minus one for each wrong one, never below zero.
    `options`: the letters the question offers (named when a choice is not one)."""
    qid = case["qid"]
    if not out.get("answered"):
        raise NotAnswered(f"{qid} is not answered yet")
    chosen = set(str(out.get("letters", "")))
    correct = set(str(expected(case)["letters"]))
    wrong = chosen - correct
    fraction = max(0, len(chosen & correct) - len(wrong)) / len(correct)
    if fraction < 1:
        unknown = chosen - set(options)
        extra = f" ({', '.join(sorted(unknown))} is not an option)" if unknown else ""
        raise PartialCredit(fraction, f"not every option is chosen correctly{extra}")


def checks(qid, options):
    """Question `qid`'s graded check: its letters against the answer key's."""
    return [Check(qid=qid, name="answer", description=DESCRIPTION, hint=HINT, needs=(qid,),
                  case_id=f"{qid}.answer", make_case=answer_case(qid), probe=inline_probe,
                  judge=partial(judge_inline, options=options), weight=1, public=False)]


FORMAT_NOTE = ("Only the format was checked: a set of option letters. Whether they are the "
               "right ones is graded when you hand in.")


def judge_format(case, out, options):
    """The notebook's judge: every chosen letter is one the question offers."""
    qid = str(case["qid"])
    if not out.get("answered"):
        raise NotAnswered(f"{qid} is still empty: put the letters you choose in the set")
    bad = set(out["letters"]) - set(options)
    if bad:
        raise CheckFailed(f"{qid} may only contain the letters {', '.join(options)}; "
                          f"got {', '.join(sorted(bad))}")


def format_checks(qid, options):
    """Question `qid`'s check in the notebook: the answer's format only, which it says."""
    return [Check(qid=qid, name="format", description=f"{qid} is a set of option letters "
                  "(only its format is checked here; whether the letters are right is "
                  "graded later)", hint='answer with a set of capital letters, such as {"B"}',
                  needs=(qid,), case_id=f"{qid}.format", make_case=answer_case(qid),
                  probe=inline_probe, judge=partial(judge_format, options=options),
                  pass_note=FORMAT_NOTE)]
