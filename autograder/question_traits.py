"""How each question is graded, declared once, in its module (`TRAITS`, see
fcnet.questions.traits): the engine, the CLI, the routes and the reports ask these traits
and never name a question. A question module without TRAITS is plain code.
"""
from fcnet.chapter_files import MODEL_FILE
from fcnet.chapters import QUESTION_IDS
from fcnet.questions import MODULES
from fcnet.questions.traits import Traits

from .points import BEST_MODEL_FULL, BEST_MODEL_ZERO

# The traits of the questions not yet moved to fcnet/questions/.
_NOT_YET_MOVED = {
    "best_model": Traits(data_file=MODEL_FILE, needs_cifar=True, measure="accuracy_test",
                         measure_label="test accuracy of best_model.npz",
                         scale=(BEST_MODEL_ZERO, BEST_MODEL_FULL)),
}

TRAITS = {**{module.ID: getattr(module, "TRAITS", Traits()) for module in MODULES},
          **_NOT_YET_MOVED}
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
