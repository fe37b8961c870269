"""How each question is graded, declared once: the engine, the CLI, the routes and the
reports ask these traits and never name a question.

A question module declares its traits (TRAITS, an fcnet.questions.traits.Traits, whose
docstring says what each one means); a module without TRAITS is plain code. A scale is declared as the names of two constants of autograder/points.py, the
one place an instructor edits numbers: `traits` gives their values.
"""
from dataclasses import replace

from fcnet.chapters import QUESTION_IDS
from fcnet.questions import MODULES
from fcnet.questions.traits import Traits

from . import points

TRAITS = {module.ID: getattr(module, "TRAITS", Traits()) for module in MODULES}
if set(TRAITS) - set(QUESTION_IDS):
    raise ValueError(f"traits of unknown questions {set(TRAITS) - set(QUESTION_IDS)}")
if any(not hasattr(points, name) for t in TRAITS.values() for name in t.scale):
    raise ValueError("a scale names a constant autograder/points.py does not define")


# Words for the measures the probes return (QuestionResult.measures), for feedback pages.
MEASURE_WORDS = {
    "accuracy_test": "accuracy on the 10,000 CIFAR-10 test images",
    "accuracy_test_mirrored": "accuracy on the same images, mirrored",
    "accuracy_training_sample": "accuracy on 10,000 training images",
}


def measure_words(key):
    return MEASURE_WORDS.get(key, key.replace("_", " "))


def traits(qid):
    """Question `qid`'s Traits, its scale in numbers (autograder/points.py)."""
    found = TRAITS.get(qid, Traits())
    return replace(found, scale=tuple(getattr(points, name) for name in found.scale))


def questions_where(trait, questions=QUESTION_IDS):
    """The ids in `questions` whose trait named `trait` is set."""
    return tuple(q for q in questions if getattr(traits(q), trait))
