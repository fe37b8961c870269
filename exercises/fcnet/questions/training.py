"""Chapter 5: training, a real run of the student's TwoLayerNet and sgd by fcnet's Solver.

The grader draws the run's images and keeps the held-out ones, so the case maker and the
judges are the grader's: here are only the question's facts and the probe that runs in the worker.
`grader.check` in the notebook runs its own checks on the notebook's data
(fcnet.public_checks).
"""
import numpy as np

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
    model = ns["TwoLayerNet"](input_dim=int(case["D"]), hidden_dim=int(case["hidden_dim"]),
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
# In the grader only: the grader declares them with this ID, GRADES and probe, and
# their case and judges.

CHECKS = []
MISTAKES = ()
