"""The graded run of the `training` question, which students can run themselves.

The grader trains the student's TwoLayerNet with the student's sgd exactly like this, on
the same CIFAR-10 images, and scores the result on held-out training images.
`grader.check("training")` runs the same training on the notebook's `data`.
"""
import numpy as np

from .checking import CheckFailed, NotAnswered


# How the `training` question is graded: the grader trains the student's TwoLayerNet with
# the student's sgd exactly like this, on the same CIFAR-10 images, and scores the result
# on held-out training images. These numbers equal autograder/points.py's TRAINING and
# thresholds (tests/test_grading_disclosed.py compares them), so the public check is the
# graded run itself, and chapter 5's notebook states the graded thresholds.
GRADED_TRAINING = {"num_train": 2000, "num_val": 500, "eval_start": 48000, "num_eval": 1000,
                   "hidden_dim": 50, "weight_scale": 1e-3, "reg": 0.0,
                   "learning_rate": 2e-3, "lr_decay": 0.95, "num_epochs": 4,
                   "batch_size": 100}
TRAINING_LOSS_RATIO = 0.95   # the training loss must end below this share of its start
TRAINING_LEARNS = 0.15       # held-out accuracy showing the network learns at all
TRAINING_THRESHOLD = 0.22    # held-out accuracy for all of the question's points


def graded_run_probe(ns, case):
    """Train like the grader does, on the student's `data` from get_CIFAR10_data()."""
    from .solver import Solver

    g = GRADED_TRAINING
    np.random.seed(0)
    model = ns["TwoLayerNet"](input_dim=3 * 32 * 32, hidden_dim=g["hidden_dim"],
                              num_classes=10, weight_scale=g["weight_scale"], reg=g["reg"])
    data = ns["data"]
    if not isinstance(data, dict) or len(data.get("X_train", ())) < g["eval_start"] + \
            g["num_eval"]:
        raise NotAnswered("load `data` with get_CIFAR10_data() and its default 49,000 "
                          "training images first")
    split = {"X_train": data["X_train"][:g["num_train"]],
             "y_train": data["y_train"][:g["num_train"]],
             "X_val": data["X_val"][:g["num_val"]], "y_val": data["y_val"][:g["num_val"]]}
    held_out = slice(g["eval_start"], g["eval_start"] + g["num_eval"])
    X, y = data["X_train"][held_out], data["y_train"][held_out]
    before = model.loss(split["X_train"], split["y_train"])[0]
    solver = Solver(model, split, update_rule=ns["sgd"],
                    optim_config={"learning_rate": g["learning_rate"]},
                    lr_decay=g["lr_decay"], num_epochs=g["num_epochs"],
                    batch_size=g["batch_size"], num_train_samples=200, verbose=False, seed=0)
    solver.train()
    after = model.loss(split["X_train"], split["y_train"])[0]
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
