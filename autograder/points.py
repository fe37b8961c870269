"""Thresholds and grading budgets, and the points table read from the question modules.

How a question's points are computed
------------------------------------
Every question has the points its module declares (POINTS in fcnet/questions/<id>.py,
gathered in QUESTION_POINTS below). Its hidden checks (autograder/hidden_checks/) each
carry a weight; a check that passes earns its whole weight, a check that fails earns none,
and a few checks give a fraction (inline questions, best_model accuracy; see below). The
question scores

    points = QUESTION_POINTS[qid] * sum(weight * fraction) / sum(weight)

rounded to two decimals. A check of a property that a stub returning zeros also has
(inputs left unmodified, the shapes of the gradients, float32 in and float32 out, sgd
returning its config) names the value checks it accompanies (`requires` in
hidden_checks/) and earns its weight only when they pass too, so a function that does
nothing earns nothing. The public checks of `fcnet.public_checks` do not count: they use
fixed, published inputs (a memorised answer would pass them), and some of them read
variables that only exist after the student's training cells ran, which the grader never
runs. Every property they test is tested again by a hidden check on fresh inputs.

Changing a number here or a question's POINTS changes every grader (python -m autograder,
and the otter and nbgrader bundles built from the same checks).
"""
from fcnet.graded_training import (GRADED_TRAINING as TRAINING, TRAINING_LEARNS,  # noqa: F401
                                   TRAINING_LOSS_RATIO, TRAINING_THRESHOLD)
from fcnet.questions import QUESTIONS
from fcnet.questions.best_model import (BEST_MODEL_FULL, BEST_MODEL_VIEW_MARGIN,  # noqa: F401
                                        BEST_MODEL_ZERO)

# Points per question id: each question's module declares its POINTS (fcnet/questions/).
QUESTION_POINTS = {qid: module.POINTS for qid, module in QUESTIONS.items()}

# Seeds every hidden case: check inputs are drawn at grading time from a generator seeded
# by hash(COURSE_SEED, question id, case name), so a re-run gives the same grades and every
# student gets the same (unpublished) inputs. `--seed` overrides it for one run.
COURSE_SEED = 20240611

# ---------------------------------------------------------------- best_model
# Its scale (accuracy for no points, for all points) and the cap on the test accuracy are
# declared with the question (fcnet/questions/best_model.py), which grader.check reads too.
# The largest hidden layer accepted (a bigger W1 is refused before it is read).
BEST_MODEL_MAX_HIDDEN = 4096

# ---------------------------------------------------------------- training
# The student's TwoLayerNet and sgd (with the answer key's layers underneath) are trained
# by fcnet's Solver with the settings of fcnet/graded_training.py (GRADED_TRAINING, which
# students can run themselves: grader.check("training") does) on CIFAR-10 training images
# drawn at grading time, every image's numbers scrambled in a secret order; then the
# weights they end with are scored by the grader on further images, scrambled alike, that
# the worker never sees. The answer key reaches 0.30 to 0.34 here (course seeds 1-4; 0.30
# to 0.34 unscrambled too); the thresholds leave a wide margin, and chance is 0.10.

# ---------------------------------------------------------------- worker limits
DEFAULT_TIMEOUT = 60         # wall-clock seconds per question (--timeout)
DEFAULT_MEMORY_MB = 2048     # address-space limit of a worker (--memory)
