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
from fcnet.questions import QUESTIONS

# Points per question id: each question's module declares its POINTS (fcnet/questions/).
QUESTION_POINTS = {qid: module.POINTS for qid, module in QUESTIONS.items()}

# Seeds every hidden case: check inputs are drawn at grading time from a generator seeded
# by hash(COURSE_SEED, question id, case name), so a re-run gives the same grades and every
# student gets the same (unpublished) inputs. `--seed` overrides it for one run.
COURSE_SEED = 20240611

# ---------------------------------------------------------------- best_model
# best_model.npz is evaluated on the full CIFAR-10 test batch (10,000 images, centred with
# the mean of the first 49,000 training images, exactly as get_CIFAR10_data() does), with
# the cap below.
# Accuracy >= BEST_MODEL_FULL earns all points; below it the share falls linearly and
# reaches zero at BEST_MODEL_ZERO. The points reward tuning, so the scale is set on
# measurements (benchmarks/best_model_baseline.py; chapter 6 quotes them): chapter 5's
# untuned run (50 hidden units, learning rate 1e-3, 10 epochs) reaches 46.9% to 49.5% on
# the test images over seeds 0-7, below the half-way mark (50%); a two-setting search
# reaches 52.0%; a wider, longer run (500 hidden units, 20 epochs, the answer key's
# chapter 6 search) 53.2%; the course's recipe (answer_key/best_model.py) 66.8%.
# fcnet.public_checks repeats the three numbers for grader.check
# (tests/test_grading_disclosed.py keeps them in step).
BEST_MODEL_FULL = 0.53
BEST_MODEL_ZERO = 0.47
# The test labels are public, so the test accuracy counts only up to this much above the
# accuracy on the mirrored test images and on 10,000 training images drawn at grading
# time (autograder/best_model.py; honest models lose about a point on the mirrored images
# and gain on training images, a fit to the test labels loses 40 points on both).
BEST_MODEL_VIEW_MARGIN = 0.02
# The largest hidden layer accepted (a bigger W1 is refused before it is read).
BEST_MODEL_MAX_HIDDEN = 4096

# ---------------------------------------------------------------- training
# The student's TwoLayerNet and sgd (with the answer key's layers underneath) are trained
# by fcnet's Solver with these settings on CIFAR-10 training images drawn at grading time,
# every image's numbers scrambled in a secret order (fcnet/graded_training.py), then the
# weights they end with are scored by the grader on TRAINING["num_eval"] further images,
# scrambled alike, that the worker never sees. The answer key reaches 0.30 to 0.34 here
# (course seeds 1-4; 0.30 to 0.34 unscrambled too); the thresholds leave a wide margin,
# and chance is 0.10. Students are told these numbers (chapter 5's notebook), and
# fcnet.public_checks repeats them so that grader.check("training") runs this same
# training: tests/test_grading_disclosed.py keeps the three in step.
TRAINING = {
    "num_train": 2000,       # training images given to the Solver
    "num_val": 500,          # validation images given to the Solver (picks best params)
    "num_eval": 1000,        # held-out images the grader scores the result on
    "hidden_dim": 50,
    "weight_scale": 1e-3,
    "reg": 0.0,
    "learning_rate": 2e-3,
    "lr_decay": 0.95,
    "num_epochs": 4,
    "batch_size": 100,
}
TRAINING_LOSS_RATIO = 0.95   # the training loss must end below this share of its start
TRAINING_LEARNS = 0.15       # held-out accuracy showing the network learns at all
TRAINING_THRESHOLD = 0.22    # held-out accuracy for the remaining training points

# ---------------------------------------------------------------- worker limits
DEFAULT_TIMEOUT = 60         # wall-clock seconds per question (--timeout)
DEFAULT_MEMORY_MB = 2048     # address-space limit of a worker (--memory)
