"""fcnet.solver.Solver on a tiny softmax-regression model and Gaussian-blob data."""
import pickle
import re

import numpy as np
import pytest

from fcnet.solver import Solver


class SoftmaxRegression:
    """scores = X_flat @ W + b; loss = mean cross-entropy. X (N, ...) -> scores (N, C)."""

    def __init__(self, input_dim, num_classes, dtype=np.float64, seed=0):
        rng = np.random.default_rng(seed)
        self.params = {"W": (1e-3 * rng.standard_normal((input_dim, num_classes))).astype(dtype),
                       "b": np.zeros(num_classes, dtype=dtype)}
        self.seen = []  # (batch size, dtype) of every call, for the tests

    def loss(self, X, y=None):
        self.seen.append((len(X), X.dtype))
        X = X.reshape(len(X), -1)
        scores = X @ self.params["W"] + self.params["b"]
        if y is None:
            return scores
        shifted = scores - scores.max(axis=1, keepdims=True)
        probs = np.exp(shifted)
        probs /= probs.sum(axis=1, keepdims=True)
        N = len(X)
        loss = -np.log(probs[np.arange(N), y]).mean()
        dscores = probs
        dscores[np.arange(N), y] -= 1
        dscores /= N
        return loss, {"W": X.T @ dscores, "b": dscores.sum(axis=0)}


def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    return w - config["learning_rate"] * dw, config


def blobs(num_train=200, num_val=60, dtype=np.float64, seed=0):
    """Three well separated Gaussian clusters in 5 dimensions."""
    rng = np.random.default_rng(seed)
    centres = 3 * rng.standard_normal((3, 5))

    def sample(n):
        y = rng.integers(0, 3, n)
        return (centres[y] + rng.standard_normal((n, 5))).astype(dtype), y

    X_train, y_train = sample(num_train)
    X_val, y_val = sample(num_val)
    return {"X_train": X_train, "y_train": y_train, "X_val": X_val, "y_val": y_val}


def make_solver(model=None, data=None, **kwargs):
    options = dict(update_rule=sgd, optim_config={"learning_rate": 0.5}, num_epochs=5,
                   batch_size=20, verbose=False, seed=0)
    options.update(kwargs)
    return Solver(model or SoftmaxRegression(5, 3), data or blobs(), **options)


# ----------------------------------------------------------------------------- training

def test_training_learns_and_records_histories():
    solver = make_solver()
    solver.train()

    # 200 examples / batches of 20 = 10 iterations per epoch, for 5 epochs.
    assert len(solver.loss_history) == 50
    assert all(type(v) is float for v in solver.loss_history)  # plain floats, easy to save
    assert len(solver.train_acc_history) == len(solver.val_acc_history) == 6  # epochs 0..5
    assert solver.epoch == 5
    assert np.mean(solver.loss_history[-10:]) < 0.5 * solver.loss_history[0]
    assert solver.best_val_acc > 0.9 and solver.val_acc_history[-1] > 0.9


def test_learning_rate_decays_once_per_epoch():
    used = []

    def recording_sgd(w, dw, config):
        used.append(config["learning_rate"])
        return w - config["learning_rate"] * dw, config

    optim_config = {"learning_rate": 0.1}
    solver = make_solver(update_rule=recording_sgd, optim_config=optim_config,
                         lr_decay=0.5, num_epochs=3)
    solver.train()

    # Two parameters per iteration, ten iterations per epoch.
    per_iteration = used[::2]
    expected = [0.1 * 0.5 ** (t // 10) for t in range(30)]
    assert per_iteration == pytest.approx(expected)
    for config in solver.optim_configs.values():
        assert config["learning_rate"] == pytest.approx(0.1 * 0.5 ** 3)
    assert optim_config == {"learning_rate": 0.1}  # the caller's dict is not changed


def test_each_parameter_has_its_own_config():
    def counting_sgd(w, dw, config):
        config["steps"] = config.get("steps", 0) + 1
        return w - config["learning_rate"] * dw, config

    solver = make_solver(update_rule=counting_sgd, num_epochs=2)
    solver.train()
    assert solver.optim_configs["W"] is not solver.optim_configs["b"]
    assert solver.optim_configs["W"]["steps"] == solver.optim_configs["b"]["steps"] == 20


def test_lr_decay_without_a_learning_rate_is_a_clear_error():
    solver = make_solver(update_rule=lambda w, dw, config: (w, config), optim_config={},
                         lr_decay=0.9)
    with pytest.raises(KeyError, match="lr_decay needs a 'learning_rate'"):
        solver.train()


def test_best_parameters_are_kept_and_restored():
    state = {"steps": 0}

    def sgd_then_ascent(w, dw, config):
        # Two good epochs, then climb the loss: the last epochs are worse than the best.
        state["steps"] += 1
        sign = 1 if state["steps"] <= 2 * 2 * 10 else -1
        return w - sign * config["learning_rate"] * dw, config

    solver = make_solver(update_rule=sgd_then_ascent, num_epochs=6)
    solver.train()

    assert solver.best_val_acc == max(solver.val_acc_history)
    assert solver.val_acc_history[-1] < solver.best_val_acc
    for name, value in solver.model.params.items():
        np.testing.assert_array_equal(value, solver.best_params[name])
    assert solver.check_accuracy(solver.X_val, solver.y_val) == solver.best_val_acc

    solver.model.params["W"] += 1.0  # later changes to the model leave best_params alone
    assert not np.array_equal(solver.model.params["W"], solver.best_params["W"])


def test_best_params_exist_even_if_validation_accuracy_stays_zero():
    data = blobs()
    data["y_val"] = np.full_like(data["y_val"], 7)  # a class the model cannot predict
    solver = make_solver(data=data, num_epochs=1)
    solver.train()
    assert solver.best_val_acc == 0 and set(solver.model.params) == {"W", "b"}


def test_progress_lines_have_the_seed_format(capsys):
    solver = make_solver(verbose=True, print_every=5, num_epochs=2)
    solver.train()
    lines = capsys.readouterr().out.splitlines()
    iteration = [line for line in lines if line.startswith("(Iteration")]
    epoch = [line for line in lines if line.startswith("(Epoch")]
    assert len(iteration) == 4 and len(epoch) == 3 and len(lines) == 7
    assert all(re.fullmatch(r"\(Iteration (1|6|11|16) / 20\) loss: \d+\.\d{6}", line)
               for line in iteration)
    assert iteration[0] == "(Iteration 1 / 20) loss: %f" % solver.loss_history[0]
    assert epoch[0] == "(Epoch 0 / 2) train acc: %f; val_acc: %f" % (
        solver.train_acc_history[0], solver.val_acc_history[0])
    assert re.fullmatch(r"\(Epoch 2 / 2\) train acc: \d\.\d{6}; val_acc: \d\.\d{6}", epoch[-1])
    assert lines.index(iteration[0]) < lines.index(epoch[0])  # as in the seed


def test_quiet_when_not_verbose(capsys):
    make_solver(num_epochs=1).train()
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err == ""


def test_fewer_examples_than_a_batch_still_trains_one_step_per_epoch():
    solver = make_solver(data=blobs(num_train=7), batch_size=20, num_epochs=3)
    solver.train()
    assert len(solver.loss_history) == 3 and solver.epoch == 3


# ----------------------------------------------------------------------------- arguments

def test_unknown_keyword_is_a_type_error_naming_it():
    with pytest.raises(TypeError, match="'num_epoch' \\(did you mean 'num_epochs'\\?\\)"):
        make_solver(num_epoch=3)
    with pytest.raises(TypeError, match="'learning_rate' \\(the learning rate goes in optim_c"):
        make_solver(learning_rate=1e-3)
    with pytest.raises(TypeError, match="'colour'"):
        make_solver(colour="blue")


def test_update_rule_by_name_needs_a_registry():
    with pytest.raises(ValueError, match="pass your function itself: update_rule=sgd"):
        make_solver(update_rule="sgd")
    with pytest.raises(ValueError, match="pass your function itself"):
        Solver(SoftmaxRegression(5, 3), blobs())  # the default name, "sgd", is not in fcnet

    class SolverWithRules(Solver):
        update_rules = {"sgd": sgd}

    solver = SolverWithRules(SoftmaxRegression(5, 3), blobs(), update_rule="sgd",
                             optim_config={"learning_rate": 0.5}, num_epochs=2,
                             batch_size=20, verbose=False)
    assert solver.update_rule is sgd and solver.update_rule_name == "sgd"
    solver.train()
    assert solver.best_val_acc > 0.9
    with pytest.raises(ValueError, match="known names: sgd"):
        SolverWithRules(SoftmaxRegression(5, 3), blobs(), update_rule="adam")


def test_update_rule_must_be_a_function_returning_a_pair():
    with pytest.raises(TypeError, match="update_rule must be a function"):
        make_solver(update_rule=0.01)
    solver = make_solver(update_rule=lambda w, dw, config: w - 0.1 * dw)
    with pytest.raises(TypeError, match="it must return \\(next_w, config\\)"):
        solver.train()


def test_missing_data_keys():
    data = blobs()
    del data["X_val"]
    with pytest.raises(KeyError, match="data has no X_val"):
        make_solver(data=data)


def test_rng_and_seed_are_exclusive():
    with pytest.raises(TypeError, match="rng or seed, not both"):
        make_solver(rng=np.random.default_rng(0), seed=0)


# ----------------------------------------------------------------------------- randomness

def test_global_seed_reproduces_a_run_by_default():
    def run():
        np.random.seed(231)
        solver = make_solver(seed=None)
        solver.train()
        return solver.loss_history, solver.val_acc_history

    assert run() == run()
    np.random.seed(231)
    first_batch = np.random.choice(200, 20)  # what the first step must have drawn
    np.random.seed(231)
    model = SoftmaxRegression(5, 3)
    data = blobs()
    expected_loss = model.loss(data["X_train"][first_batch], data["y_train"][first_batch])[0]
    solver = make_solver(model=SoftmaxRegression(5, 3), data=data, seed=None)
    solver._step()
    assert solver.loss_history[0] == pytest.approx(expected_loss)


def test_own_seed_or_rng_leaves_the_global_state_alone():
    def run(**kwargs):
        solver = make_solver(**{"seed": None, **kwargs})
        solver.train()
        return solver.loss_history

    np.random.seed(0)
    before = np.random.get_state()[1].copy()
    a, b = run(seed=5), run(seed=5)
    c = run(rng=np.random.default_rng(5))
    assert a == b == c
    assert run(seed=6) != a
    assert np.array_equal(np.random.get_state()[1], before)


# ----------------------------------------------------------------------------- accuracy, dtypes

def test_check_accuracy_batches_and_samples():
    model = SoftmaxRegression(5, 3)
    model.params["W"][:] = 0
    model.params["b"][:] = [0.0, 1.0, 0.0]  # always predicts class 1
    X = np.zeros((250, 5))
    y = np.array([1] * 100 + [2] * 150)
    solver = make_solver(model=model)

    model.seen.clear()
    assert solver.check_accuracy(X, y) == 0.4
    assert [n for n, _ in model.seen] == [100, 100, 50]

    model.seen.clear()
    acc = solver.check_accuracy(X, y, num_samples=30, batch_size=8)
    assert [n for n, _ in model.seen] == [8, 8, 8, 6]
    assert acc in {k / 30 for k in range(31)}


def test_float32_data_stays_float32_and_is_not_copied():
    data = blobs(dtype=np.float32)
    model = SoftmaxRegression(5, 3, dtype=np.float32)
    solver = make_solver(model=model, data=data, num_epochs=2)
    assert solver.X_train is data["X_train"] and solver.X_val is data["X_val"]
    solver.train()
    assert {dtype for _, dtype in model.seen} == {np.dtype(np.float32)}
    assert all(v.dtype == np.float32 for v in model.params.values())
    assert solver.best_val_acc > 0.9


# ----------------------------------------------------------------------------- checkpoints

def test_checkpoints_are_written_at_every_check(tmp_path):
    name = str(tmp_path / "blobs")
    solver = make_solver(checkpoint_name=name, num_epochs=2, lr_decay=0.9)
    solver.train()

    files = sorted(p.name for p in tmp_path.iterdir())
    assert files == ["blobs_epoch_0.pkl", "blobs_epoch_1.pkl", "blobs_epoch_2.pkl"]
    with open(tmp_path / "blobs_epoch_1.pkl", "rb") as f:
        checkpoint = pickle.load(f)
    assert checkpoint["epoch"] == 1 and checkpoint["update_rule"] == "sgd"
    assert checkpoint["lr_decay"] == 0.9 and checkpoint["batch_size"] == 20
    assert checkpoint["optim_config"] == {"learning_rate": 0.5}
    assert len(checkpoint["loss_history"]) == 10
    assert len(checkpoint["val_acc_history"]) == 2
    assert checkpoint["model"].params["W"].shape == (5, 3)
    for key in ("num_train_samples", "num_val_samples", "train_acc_history"):
        assert key in checkpoint


def test_checkpoint_with_a_lambda_rule_and_verbose_message(tmp_path, capsys):
    name = str(tmp_path / "run")
    solver = make_solver(checkpoint_name=name, num_epochs=1, verbose=True,
                         update_rule=lambda w, dw, config: (w - 0.1 * dw, config))
    solver.train()
    assert f'Saving checkpoint to "{name}_epoch_1.pkl"' in capsys.readouterr().out
    with open(f"{name}_epoch_1.pkl", "rb") as f:
        assert pickle.load(f)["update_rule"] == "<lambda>"
    assert not any(p.suffix == ".part" for p in tmp_path.iterdir())


# ----------------------------------------------------------------------------- real data

@pytest.mark.slow
@pytest.mark.cifar
def test_learns_on_a_small_real_cifar10_subset(cifar10_archive):
    from fcnet.data_utils import get_CIFAR10_data

    data = get_CIFAR10_data(num_training=2000, num_validation=500, num_test=0,
                            dtype=np.float32)
    model = SoftmaxRegression(3 * 32 * 32, 10, dtype=np.float32)
    model.params["W"] *= 1e-2  # small scores at the start: pixels are in the tens
    solver = Solver(model, data, update_rule=sgd, optim_config={"learning_rate": 1e-6},
                    lr_decay=0.95, num_epochs=5, batch_size=100, num_train_samples=None,
                    verbose=False, seed=0)
    untrained = solver.check_accuracy(data["X_val"], data["y_val"])
    solver.train()
    assert untrained < 0.2                       # chance is 0.1
    assert solver.val_acc_history[-1] > 0.25     # a linear model reaches about 0.3 here
    assert np.mean(solver.loss_history[-20:]) < np.mean(solver.loss_history[:5]) - 0.2


def test_solver_keeps_freed_memory_only_where_glibc_runs(monkeypatch):
    """train() asks glibc (and only glibc) to keep freed weight-sized arrays for reuse."""
    import fcnet.solver as solver_module

    calls = []

    class FakeLibc:
        def mallopt(self, option, value):
            calls.append((option, value))
            return 1

    monkeypatch.setattr(solver_module.ctypes, "CDLL", lambda name: FakeLibc())
    monkeypatch.setattr(solver_module.platform, "system", lambda: "Linux")
    monkeypatch.setattr(solver_module.platform, "libc_ver", lambda: ("glibc", "2.36"))
    solver_module._keep_freed_memory()
    assert calls == [(-3, 32 << 20), (-1, 256 << 20)]   # M_MMAP_THRESHOLD, M_TRIM_THRESHOLD

    calls.clear()
    for system, libc in (("Darwin", ("", "")), ("Linux", ("musl", "1.2"))):
        monkeypatch.setattr(solver_module.platform, "system", lambda s=system: s)
        monkeypatch.setattr(solver_module.platform, "libc_ver", lambda c=libc: c)
        solver_module._keep_freed_memory()
    assert calls == []
