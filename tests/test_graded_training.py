"""The graded training run scrambles every image's numbers (fcnet.graded_training): what
the book says about it holds.

Chapter 5 says a fully connected network learns scrambled images exactly as well as the
usual ones: a training run on scrambled inputs is the same run with the rows of W1
reordered and sign-changed the same way. Tested exactly, with the answer key's network,
on random data (no CIFAR-10 needed).
"""
import numpy as np
import pytest

from fcnet.graded_training import draw_run, scramble


def _train(X, y, W1, seed=0):
    from answer_key.classifiers.fc_net import TwoLayerNet
    from answer_key.optim import sgd
    from fcnet.solver import Solver

    model = TwoLayerNet(input_dim=X[0].size, hidden_dim=7, num_classes=4, weight_scale=0.1)
    rng = np.random.default_rng(seed)
    model.params = {"W1": W1.copy(), "b1": np.zeros(7),
                    "W2": 0.1 * rng.standard_normal((7, 4)), "b2": np.zeros(4)}
    solver = Solver(model, {"X_train": X, "y_train": y, "X_val": X[:20], "y_val": y[:20]},
                    update_rule=sgd, optim_config={"learning_rate": 0.05}, num_epochs=3,
                    batch_size=10, verbose=False, seed=seed)
    solver.train()
    return model


def test_a_run_on_scrambled_inputs_is_the_same_run_with_w1_reordered():
    rng = np.random.default_rng(0)
    X = rng.standard_normal((60, 3, 4, 4))
    y = rng.integers(0, 4, 60)
    run = draw_run(np.random.default_rng(1), 10 ** 4, input_dim=48)
    W1 = 0.1 * rng.standard_normal((48, 7))
    plain = _train(X, y, W1)
    # x' = x[order] * signs, so x' @ W1' == x @ W1 for W1' = (W1 * signs)[order] rowwise.
    scrambled = _train(scramble(X, run["order"], run["signs"]), y,
                       W1[run["order"]] * run["signs"][:, None])
    X_new = rng.standard_normal((30, 3, 4, 4))
    np.testing.assert_allclose(
        scrambled.loss(scramble(X_new, run["order"], run["signs"])), plain.loss(X_new),
        rtol=1e-9, atol=1e-12)
    assert not np.allclose(scrambled.loss(X_new), plain.loss(X_new), atol=1e-3), \
        "weights made for the usual order should not fit scrambled inputs"


def test_the_scramble_keeps_shape_dtype_and_norms_and_draws_disjoint_images():
    rng = np.random.default_rng(2)
    X = rng.standard_normal((5, 3, 32, 32)).astype(np.float32)
    run = draw_run(np.random.default_rng(3), 50_000)
    out = scramble(X, run["order"], run["signs"])
    assert out.shape == X.shape and out.dtype == X.dtype
    np.testing.assert_allclose(np.linalg.norm(out.reshape(5, -1), axis=1),
                               np.linalg.norm(X.reshape(5, -1), axis=1), rtol=1e-6)
    assert not np.allclose(out, X)
    parts = [set(run[k].tolist()) for k in ("train", "val", "held_out")]
    assert not (parts[0] & parts[1] or parts[0] & parts[2] or parts[1] & parts[2])


def test_a_reused_sandbox_never_serves_another_batchs_training_images():
    """The training images depend on the course seed; large case arrays go to the
    sandbox's shared folder under a name of their content, so a sandbox reused by a second
    batch (nbgrader, the tests, another --seed) never hands a worker the first batch's."""
    from autograder import engine
    from autograder.grading import ProbeTask

    class Shared:
        def __init__(self):
            self.files = {}

        def add(self, name, array):
            self.files.setdefault(name, array)
            return name

    class FakeSandbox:
        lib, shared = "/lib", Shared()

    task = ProbeTask("training_probe@c", "training_probe", "c", ("TwoLayerNet",), 1)
    served = []
    for seed in (1, 2):
        case = {"X_train": np.random.default_rng(seed).standard_normal((600, 3072))}
        jobs = engine._Jobs(FakeSandbox(), engine.Settings(), {"training": {"c": case}})
        entries, _ = jobs._cases_part("training", [task], {"c": case})
        served.append(FakeSandbox.shared.files[entries[0]["shared"]["X_train"]])
        assert served[-1] is case["X_train"]
    assert len(FakeSandbox.shared.files) == 2


def test_a_start_above_chance_buys_nothing():
    """The loss to beat is 95% of the lower of the run's first loss and chance (ln 10): a
    constructor that ignores weight_scale starts far above chance, and an untrained
    network at chance afterwards has not lowered anything (red team round 5)."""
    import math

    from fcnet.checking import CheckFailed
    from fcnet.graded_training import TRAINING_LOSS_RATIO, loss_to_beat
    from fcnet.questions.training import graded_run_judge

    chance = math.log(10)
    assert loss_to_beat(1.9) == pytest.approx(TRAINING_LOSS_RATIO * 1.9)
    assert loss_to_beat(500.0) == pytest.approx(TRAINING_LOSS_RATIO * chance)
    honest = {"loss_before": chance, "loss_after": 1.95, "accuracy": 0.3}
    graded_run_judge({}, honest)
    graded_run_judge({}, {**honest, "loss_before": 500.0})  # a big start, really trained
    with pytest.raises(CheckFailed, match="must end below"):
        graded_run_judge({}, {**honest, "loss_before": 500.0, "loss_after": chance})
