"""The course's chapters and the question ids each one asks, in the order it asks them.

Derived from the question modules (fcnet/questions/, each declares its CHAPTER), so a
question is declared once; the notebooks, the graders and the book all read this table.
"""
from .questions import MODULES

CHAPTERS = {}
for _module in MODULES:
    CHAPTERS[_module.CHAPTER] = CHAPTERS.get(_module.CHAPTER, ()) + (_module.ID,)
CHAPTERS = dict(sorted(CHAPTERS.items()))

QUESTION_IDS = tuple(qid for qids in CHAPTERS.values() for qid in qids)


def chapter_of(qid):
    """Return the notebook stem of the chapter that asks question `qid`."""
    for stem, qids in CHAPTERS.items():
        if qid in qids:
            return stem
    raise KeyError(f"unknown question id {qid!r}; known ids: {', '.join(QUESTION_IDS)}")
