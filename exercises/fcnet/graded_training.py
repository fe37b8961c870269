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
import numpy as np

from .checking import CheckFailed, NotAnswered


# How the `training` question is graded. These numbers equal autograder/points.py's
# TRAINING and thresholds (tests/test_grading_disclosed.py compares them), so the public
# check is the graded run itself, and chapter 5's notebook states the graded thresholds.
GRADED_TRAINING = {"num_train": 2000, "num_val": 500, "num_eval": 1000,
                   "hidden_dim": 50, "weight_scale": 1e-3, "reg": 0.0,
                   "learning_rate": 2e-3, "lr_decay": 0.95, "num_epochs": 4,
                   "batch_size": 100}
TRAINING_LOSS_RATIO = 0.95   # the training loss must end below this share of its start
TRAINING_LEARNS = 0.15       # held-out accuracy showing the network learns at all
TRAINING_THRESHOLD = 0.22    # held-out accuracy for all of the question's points
PUBLIC_SEED = 0              # the seed of the public check's draw (the grader's is secret)


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


def graded_run_probe(ns, case):
    """Train like the grader does, on the student's `data` from get_CIFAR10_data()."""
    from .solver import Solver

    g = GRADED_TRAINING
    data = ns["data"]
    if not isinstance(data, dict) or "X_train" not in data or len(data["X_train"]) < \
            g["num_train"] + g["num_val"] + g["num_eval"]:
        raise NotAnswered("load `data` with get_CIFAR10_data() first")
    run = draw_run(np.random.default_rng(PUBLIC_SEED), len(data["X_train"]),
                   int(np.prod(data["X_train"].shape[1:])))

    def part(name):
        rows = np.sort(run[name])
        return scramble(data["X_train"][rows], run["order"], run["signs"]), \
            data["y_train"][rows]

    (X_train, y_train), (X_val, y_val), (X, y) = part("train"), part("val"), part("held_out")
    np.random.seed(0)
    model = ns["TwoLayerNet"](input_dim=X_train[0].size, hidden_dim=g["hidden_dim"],
                              num_classes=10, weight_scale=g["weight_scale"], reg=g["reg"])
    before = model.loss(X_train, y_train)[0]
    solver = Solver(model, {"X_train": X_train, "y_train": y_train, "X_val": X_val,
                            "y_val": y_val}, update_rule=ns["sgd"],
                    optim_config={"learning_rate": g["learning_rate"]},
                    lr_decay=g["lr_decay"], num_epochs=g["num_epochs"],
                    batch_size=g["batch_size"], num_train_samples=200, verbose=False, seed=0)
    solver.train()
    after = model.loss(X_train, y_train)[0]
    accuracy = np.mean(np.argmax(model.loss(X), axis=1) == y)
    return {"loss_before": float(before), "loss_after": float(after),
            "accuracy": float(accuracy)}


def graded_run_judge(case, out):
    if not out["loss_after"] < TRAINING_LOSS_RATIO * out["loss_before"]:
        raise CheckFailed(f"training barely lowered the training loss ({out['loss_before']:.3f}"
                          f" at the start, {out['loss_after']:.3f} after)")
    if not out["accuracy"] >= TRAINING_THRESHOLD:
        part = "part of the points" if out["accuracy"] >= TRAINING_LEARNS else "no points"
        raise CheckFailed(f"the graded run reaches {out['accuracy']:.3f} on the held-out "
                          f"images, which earns {part}: all of them need "
                          f"{TRAINING_THRESHOLD:.2f}, part of them {TRAINING_LEARNS:.2f}")
