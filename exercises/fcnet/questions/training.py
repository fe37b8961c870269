"""Chapter 5: training, a real run of the student's TwoLayerNet and sgd by fcnet's Solver.

The grader draws the run's images and keeps the held-out ones, so the case maker and the
judges are the grader's: here are the question's facts, the probe that runs in the worker,
and the checks `grader.check` runs on the notebook's own data (NOTEBOOK_CHECKS): the
chapter's solver, and the graded run itself on images drawn from a published seed.
"""
import numpy as np

from ..checking import Check, CheckFailed, NotAnswered
from ..graded_training import (GRADED_TRAINING, PUBLIC_SEED, TRAINING_LEARNS,
                               TRAINING_THRESHOLD, draw_run, loss_to_beat, scramble)
from ..probing import PARAM_NAMES, returns
from .traits import Traits
from . import sgd, two_layer_net
from .two_layer_net import param_shapes

ID = "training"
CHAPTER = "05_solver"
ORDER = 2  # its place among its chapter's questions
POINTS = 5
GRADES = (*two_layer_net.GRADES, *sgd.GRADES)  # the network, trained by sgd
TRAITS = Traits(decoupled=True, needs_cifar=True)
NUM_CLASSES = 10


# ------------------------------------------------------------------------- probe

def _param_shapes(case, suffix=""):
    return param_shapes({"D": case["D"], "H": case["hidden_dim"], "C": NUM_CLASSES}, suffix)


@returns(lambda case: {**_param_shapes(case, "_init"), **_param_shapes(case)})
def training_probe(ns, case):
    """Train the student's TwoLayerNet with the student's sgd by fcnet's Solver.

    Returns the parameters right after construction and the ones the Solver leaves in
    the model (the best on validation); the grader scores both on data it keeps.
    """
    from fcnet.solver import Solver

    np.random.seed(int(case["np_seed"]))
    model = ns[two_layer_net.GRADES[0]](input_dim=int(case["D"]), hidden_dim=int(case["hidden_dim"]),
                              num_classes=NUM_CLASSES, weight_scale=float(case["weight_scale"]),
                              reg=float(case["reg"]))
    start = {key + "_init": np.array(model.params[key], copy=True) for key in PARAM_NAMES}
    data = {key: np.array(case[key], copy=True)
            for key in ("X_train", "y_train", "X_val", "y_val")}
    solver = Solver(model, data, update_rule=ns[sgd.GRADES[0]],
                    optim_config={"learning_rate": float(case["learning_rate"])},
                    lr_decay=float(case["lr_decay"]), num_epochs=int(case["num_epochs"]),
                    batch_size=int(case["batch_size"]), num_train_samples=200,
                    verbose=False, seed=int(case["np_seed"]))
    solver.train()
    end = {key: model.params[key] for key in PARAM_NAMES}
    return {**start, **end, "iterations": len(solver.loss_history)}


# ------------------------------------------------------------------------- checks
# The graded checks are the grader's (their case and judges hold images it keeps); it
# declares them with this ID, GRADES and probe.

CHECKS = []
MISTAKES = ()

# Chapter 5's own run (all 49,000 images, ten epochs) should reach this; the graded run is
# smaller, with lower thresholds (GRADED_TRAINING).
PUBLIC_TRAINING_ACCURACY = 0.36


def solver_probe(ns, case):
    solver = ns["solver"]
    if solver is None:
        raise NotAnswered("train a Solver and keep it in the variable `solver`")
    return {"best_val_acc": float(solver.best_val_acc)}


def judge_solver(case, out):
    if not out["best_val_acc"] >= PUBLIC_TRAINING_ACCURACY:
        raise CheckFailed(f"the best validation accuracy is {out['best_val_acc']:.3f}; "
                          f"aim for at least {PUBLIC_TRAINING_ACCURACY}")


def graded_run_probe(ns, case):
    """Train like the grader does, on the student's `data` from get_CIFAR10_data()."""
    from ..solver import Solver

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
    model = ns[two_layer_net.GRADES[0]](input_dim=X_train[0].size, hidden_dim=g["hidden_dim"],
                              num_classes=NUM_CLASSES, weight_scale=g["weight_scale"], reg=g["reg"])
    before = model.loss(X_train, y_train)[0]
    solver = Solver(model, {"X_train": X_train, "y_train": y_train, "X_val": X_val,
                            "y_val": y_val}, update_rule=ns[sgd.GRADES[0]],
                    optim_config={"learning_rate": g["learning_rate"]},
                    lr_decay=g["lr_decay"], num_epochs=g["num_epochs"],
                    batch_size=g["batch_size"], num_train_samples=200, verbose=False, seed=0)
    solver.train()
    after = model.loss(X_train, y_train)[0]
    accuracy = np.mean(np.argmax(model.loss(X), axis=1) == y)
    return {"loss_before": float(before), "loss_after": float(after),
            "accuracy": float(accuracy)}


def graded_run_judge(case, out):
    if not out["loss_after"] < loss_to_beat(out["loss_before"], NUM_CLASSES):
        raise CheckFailed(f"training barely lowered the training loss ({out['loss_before']:.3f}"
                          f" at the start, {out['loss_after']:.3f} after; it must end below "
                          f"{loss_to_beat(out['loss_before'], NUM_CLASSES):.3f})")
    if not out["accuracy"] >= TRAINING_THRESHOLD:
        part = "part of the points" if out["accuracy"] >= TRAINING_LEARNS else "no points"
        raise CheckFailed(f"the graded run reaches {out['accuracy']:.3f} on the held-out "
                          f"images, which earns {part}: all of them need "
                          f"{TRAINING_THRESHOLD:.2f}, part of them {TRAINING_LEARNS:.2f}")


def _no_case(rng):
    return {}


NOTEBOOK_CHECKS = [
    Check(ID, "val_accuracy", "the trained solver reaches 36% validation accuracy",
          "check the learning rate, the number of epochs and that update_rule is your sgd",
          ("solver",), f"{ID}.solver", _no_case, solver_probe, judge_solver),
    Check(ID, "graded_run", "the graded run: your TwoLayerNet and sgd trained on "
          f"{GRADED_TRAINING['num_train']:,} images reach {TRAINING_THRESHOLD:.0%} on "
          f"{GRADED_TRAINING['num_eval']:,} held-out ones",
          "check that sgd keeps the learning rate it is given from step to step, and that "
          "loss returns fresh gradients on every call",
          (*GRADES, "data"), f"{ID}.graded_run", _no_case, graded_run_probe,
          graded_run_judge),
]
