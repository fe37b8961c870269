"""The inline (multiple-choice) questions of chapters 2 and 6: one check each.

A right letter earns its share, a wrong one cancels a right one (see judge_inline).
"""
from answer_key import inline_questions
from fcnet.checking import Check
from fcnet.public_checks import INLINE_OPTIONS

from .. import probes
from ..scoring import NotAnswered, PartialCredit

QUESTIONS = ("inline_q1", "inline_q2", "inline_q3")


def _inline_case(qid):
    def make_case(rng):
        return {"qid": qid}
    make_case.__name__ = f"{qid}_case"
    return make_case


def judge_inline(case, out):
    """Credit for each right letter, minus one for each wrong one, never below zero."""
    qid = case["qid"]
    if not out.get("answered"):
        raise NotAnswered(f"{qid} is not answered yet")
    chosen = set(str(out.get("letters", "")))
    correct = set(getattr(inline_questions, qid))
    options = set(INLINE_OPTIONS[qid])
    wrong = chosen - correct
    fraction = max(0, len(chosen & correct) - len(wrong)) / len(correct)
    if fraction < 1:
        unknown = chosen - options
        extra = f" ({', '.join(sorted(unknown))} is not an option)" if unknown else ""
        raise PartialCredit(fraction, f"not every option is chosen correctly{extra}")


CHECKS = [
    Check(qid=qid, name="answer", description="the options chosen",
          hint="reread the question: each wrong choice cancels a right one",
          needs=(qid,), make_case=_inline_case(qid), probe=probes.inline_probe,
          judge=judge_inline, weight=1)
    for qid in QUESTIONS
]
