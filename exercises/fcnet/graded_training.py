"""The graded run of the `training` question, which students can run themselves.

The grader trains the student's TwoLayerNet with the student's sgd exactly like this and
scores the weights it ends with on held-out images. Two things tie those weights to a
real training run on the data the grader hands out:

- the images (training, validation and held-out) are drawn at grading time;
- every image's 3,072 numbers are shuffled into a secret order, and some change sign,
  the same way for all images of the run (`scramble`). A fully connected network does
  not care where a number sits in its input (its first layer treats every input alike,
  and a random start looks the same in any order), so honest training works exactly as
  well; but weights prepared in advance, for images in their usual order, classify the
  scrambled ones no better than chance.

The training question's `grader.check` runs the same training on the notebook's `data`,
with images and an order drawn from a published seed.
"""
import math

import numpy as np


# How the `training` question is graded: the grader's settings and thresholds
# (autograder/points.py takes them from here), so the public check is the graded run
# itself, and chapter 5's notebook states the graded thresholds.
GRADED_TRAINING = {"num_train": 2000, "num_val": 500, "num_eval": 1000,
                   "hidden_dim": 50, "weight_scale": 1e-3, "reg": 0.0,
                   "learning_rate": 2e-3, "lr_decay": 0.95, "num_epochs": 4,
                   "batch_size": 100}
TRAINING_LOSS_RATIO = 0.95   # the training loss must end below this share of its start
TRAINING_LEARNS = 0.15       # held-out accuracy showing the network learns at all
TRAINING_THRESHOLD = 0.22    # held-out accuracy for all of the question's points
PUBLIC_SEED = 0              # the seed of the public check's draw (the grader's is secret)


def loss_to_beat(start_loss, num_classes=10):
    """The training loss a graded run must end below: TRAINING_LOSS_RATIO of the lower of
    its first loss and chance, ln(num_classes), which is where a network built as asked
    starts (weights of scale 1e-3 give scores near 0). So a start raised by weights the
    constructor was not asked for makes no untrained network look trained."""
    return TRAINING_LOSS_RATIO * min(float(start_loss), math.log(num_classes))


def draw_run(rng, num_images, input_dim=3 * 32 * 32):
    """The random parts of one graded run: which of `num_images` images are trained on,
    validated on and held out (disjoint index arrays), and the scramble of the inputs."""
    g = GRADED_TRAINING
    chosen = rng.choice(num_images, size=g["num_train"] + g["num_val"] + g["num_eval"],
                        replace=False)
    train, val = chosen[:g["num_train"]], chosen[g["num_train"]:g["num_train"] + g["num_val"]]
    held_out = chosen[g["num_train"] + g["num_val"]:]
    order = rng.permutation(input_dim)
    signs = rng.choice(np.array([-1.0, 1.0]), size=input_dim)
    return {"train": train, "val": val, "held_out": held_out, "order": order, "signs": signs}


def scramble(X, order, signs):
    """X (N, d_1, ..., d_k) with each example's numbers put in `order` and multiplied by
    `signs`; same shape and dtype. A fixed reordering and sign change of the inputs:
    an orthogonal map, so distances, centring and a fully connected net's training are
    unchanged, while weights made for the usual order no longer fit."""
    flat = np.asarray(X).reshape(len(X), -1)
    return (flat[:, order] * signs.astype(flat.dtype)).reshape(np.shape(X))
