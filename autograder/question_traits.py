"""How each question is graded, declared once: the engine, the CLI, the routes and the
reports ask these traits and never name a question.

    decoupled      its student code runs on the answer key's layers (in a session of its
                   own, last; no text of its worker reaches the feedback verbatim)
    data_file      graded from this submitted data file by the grader, never run
    needs_cifar    grading it needs the CIFAR-10 archive
    measure        the number its probe measures that the class report plots
    scale          (no points below, full points from) of that measure
"""
from dataclasses import dataclass

from fcnet.chapter_files import MODEL_FILE
from fcnet.chapters import QUESTION_IDS

from .points import BEST_MODEL_FULL, BEST_MODEL_ZERO


@dataclass(frozen=True)
class Traits:
    decoupled: bool = False
    data_file: str = ""
    needs_cifar: bool = False
    measure: str = ""
    measure_label: str = ""
    scale: tuple = ()


TRAITS = {
    "two_layer_net": Traits(decoupled=True),
    "training": Traits(decoupled=True, needs_cifar=True),
    "best_model": Traits(data_file=MODEL_FILE, needs_cifar=True, measure="accuracy_test",
                         measure_label="test accuracy of best_model.npz",
                         scale=(BEST_MODEL_ZERO, BEST_MODEL_FULL)),
}
if set(TRAITS) - set(QUESTION_IDS):
    raise ValueError(f"traits of unknown questions {set(TRAITS) - set(QUESTION_IDS)}")


# Words for the measures the probes return (QuestionResult.measures), for feedback pages.
MEASURE_WORDS = {
    "accuracy_test": "accuracy on the 10,000 CIFAR-10 test images",
    "accuracy_test_mirrored": "accuracy on the same images, mirrored",
    "accuracy_training_sample": "accuracy on 10,000 training images",
}


def measure_words(key):
    return MEASURE_WORDS.get(key, key.replace("_", " "))


def traits(qid):
    return TRAITS.get(qid, Traits())


def questions_where(trait, questions=QUESTION_IDS):
    """The ids in `questions` whose trait named `trait` is set."""
    return tuple(q for q in questions if getattr(traits(q), trait))
