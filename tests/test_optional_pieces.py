"""The answer key's optional pieces (dropout, momentum, Adam, the best-model helpers) and
float32 staying float32 through TwoLayerNet.loss, the update rules and the Solver."""
import numpy as np
import pytest

from answer_key import optim
from answer_key.best_model import (_mirror_permutation, accuracy, augment, pca_whitening,
                                   train_best_model)
from answer_key.classifiers.fc_net import TwoLayerNet
from answer_key.gradient_check import eval_numerical_gradient_array, rel_error
from answer_key.layers import dropout_backward, dropout_forward
from answer_key.solver import Solver


# ------------------------------------------------------------------------------ dropout

def test_dropout_test_mode_is_identity():
    x = np.random.default_rng(0).standard_normal((20, 30))
    out, cache = dropout_forward(x, {"p": 0.3, "mode": "test"})
    assert out is x
    dout = np.ones_like(x)
    assert dropout_backward(dout, cache) is dout


@pytest.mark.parametrize("p", [0.25, 0.5, 0.8])
def test_dropout_train_keeps_a_fraction_p_and_the_mean(p):
    x = np.random.default_rng(1).standard_normal((500, 500)) + 10
    out, _ = dropout_forward(x, {"p": p, "mode": "train", "seed": 123})
    kept = np.mean(out != 0)
    assert abs(kept - p) < 0.01
    # Inverted dropout: kept units are scaled by 1/p, so the mean is unchanged.
    assert abs(out.mean() - x.mean()) < 0.02 * x.mean()
    assert np.allclose(out[out != 0], x[out != 0] / p)


def test_dropout_seed_repeats_and_rng_is_used():
    x = np.random.default_rng(2).standard_normal((10, 10))
    a, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 7})
    b, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 7})
    c, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "rng": np.random.default_rng(7)})
    d, _ = dropout_forward(x, {"p": 0.5, "mode": "train", "rng": np.random.default_rng(7)})
    assert np.array_equal(a, b) and np.array_equal(c, d)


def test_dropout_backward_matches_numeric():
    rng = np.random.default_rng(3)
    x = rng.standard_normal((10, 10)) + 10
    dout = rng.standard_normal(x.shape)
    param = {"p": 0.2, "mode": "train", "seed": 123}
    _, cache = dropout_forward(x, param)
    dx = dropout_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda x: dropout_forward(x, param)[0], x, dout)
    assert rel_error(dx, dx_num) < 1e-10


def test_dropout_keeps_float32():
    x = np.ones((4, 6), np.float32)
    out, cache = dropout_forward(x, {"p": 0.5, "mode": "train", "seed": 0})
    assert out.dtype == np.float32
    assert dropout_backward(np.ones_like(x), cache).dtype == np.float32


# ------------------------------------------------------------------------- update rules

def _case():
    N, D = 4, 5
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dws = [np.linspace(-0.6, 0.4, num=N * D).reshape(N, D) * s for s in (1.0, -0.5, 2.0)]
    return w, dws


def test_sgd_updates_in_place_and_matches_the_formula():
    w, (dw, *_) = _case()
    expected = w - 0.1 * dw
    next_w, config = optim.sgd(w, dw, {"learning_rate": 0.1})
    assert next_w is w and np.allclose(next_w, expected, rtol=0, atol=1e-15)
    assert config["learning_rate"] == 0.1


@pytest.mark.parametrize("shape", [(3072, 50), (300, 7), (4,), (0, 5)])
def test_sgd_is_the_one_line_update_in_place_and_leaves_dw_alone(shape):
    # In place, in float32 even with a numpy float64 rate, the gradient untouched.
    rng = np.random.default_rng(0)
    w = rng.standard_normal(shape).astype(np.float32)
    dw = rng.standard_normal(shape).astype(np.float32)
    expected = w - 0.1 * dw.astype(np.float64)
    dw_before = dw.copy()
    next_w, config = optim.sgd(w, dw, {"learning_rate": np.float64(0.1)})
    assert next_w is w and next_w.dtype == np.float32
    assert np.allclose(next_w, expected, rtol=1e-6, atol=1e-7)
    assert np.array_equal(dw, dw_before)
    assert set(config) == {"learning_rate"}        # no hidden state in the config


def test_sgd_updates_a_non_contiguous_weight_view_in_place():
    base = np.arange(24, dtype=np.float64).reshape(4, 6)
    w = base[:, ::2]                                # a strided view into base
    dw = np.ones_like(w)
    optim.sgd(w, dw, {"learning_rate": 0.5})
    assert np.array_equal(base[:, ::2], np.arange(24).reshape(4, 6)[:, ::2] - 0.5)
    assert np.array_equal(base[:, 1::2], np.arange(24).reshape(4, 6)[:, 1::2])


@pytest.mark.parametrize("nesterov", [False, True])
def test_sgd_momentum_matches_the_formula(nesterov):
    w, dws = _case()
    lr, mu = 0.1, 0.9
    ref_w, ref_v = w.copy(), np.zeros_like(w)
    config = {"learning_rate": lr, "momentum": mu, "nesterov": nesterov}
    for dw in dws:
        ref_v = mu * ref_v - lr * dw
        ref_w = ref_w + (mu * ref_v - lr * dw if nesterov else ref_v)
        w, config = optim.sgd_momentum(w, dw, config)
    assert rel_error(w, ref_w) < 1e-12
    assert rel_error(config["velocity"], ref_v) < 1e-12


def test_sgd_momentum_seed_numbers():
    # CS231n's momentum check: one step from a zero-free velocity.
    N, D = 4, 5
    w = np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
    dw = np.linspace(-0.6, 0.4, num=N * D).reshape(N, D)
    v = np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
    next_w, config = optim.sgd_momentum(w, dw, {"learning_rate": 1e-3, "velocity": v})
    assert rel_error(next_w, np.linspace(-0.4, 0.6, num=N * D).reshape(N, D)
                     + 0.9 * np.linspace(0.6, 0.9, num=N * D).reshape(N, D)
                     - 1e-3 * dw) < 1e-12
    assert next_w[0, 0] == pytest.approx(0.1406, abs=1e-4)  # CS231n's expected_next_w[0, 0]


def test_adam_matches_the_textbook_formula():
    w, dws = _case()
    lr, b1, b2, eps = 1e-2, 0.9, 0.999, 1e-8
    ref_w, m, v = w.copy(), np.zeros_like(w), np.zeros_like(w)
    config = {"learning_rate": lr}
    for t, dw in enumerate(dws, start=1):
        m = b1 * m + (1 - b1) * dw
        v = b2 * v + (1 - b2) * dw ** 2
        ref_w = ref_w - lr * (m / (1 - b1 ** t)) / (np.sqrt(v / (1 - b2 ** t)) + eps)
        w, config = optim.adam(w, dw, config)
    assert config["t"] == 3
    assert rel_error(w, ref_w) < 1e-12


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "adam"])
def test_update_rules_keep_float32_even_with_numpy_float64_settings(rule):
    w = np.ones((3, 4), np.float32)
    dw = np.full((3, 4), 0.5, np.float32)
    config = {"learning_rate": np.float64(1e-2)}  # e.g. from 10 ** rng.uniform(-3, -1)
    for _ in range(2):
        w, config = getattr(optim, rule)(w, dw, config)
    assert w.dtype == np.float32
    assert all(v.dtype == np.float32 for v in config.values() if isinstance(v, np.ndarray))


# ------------------------------------------------------- float32 through the whole model

def test_two_layer_net_float32_end_to_end():
    # float32 data and parameters give float32 scores and gradients, even with a numpy
    # float64 reg; the loss itself is a scalar and may be float64.
    rng = np.random.default_rng(4)
    model = TwoLayerNet(input_dim=12, hidden_dim=7, num_classes=3, weight_scale=0.1,
                        reg=np.float64(0.3), dtype=np.float32)
    X = rng.standard_normal((5, 3, 2, 2)).astype(np.float32)
    y = rng.integers(0, 3, 5)
    assert model.loss(X).dtype == np.float32
    loss, grads = model.loss(X, y)
    assert np.isfinite(loss)
    assert {k: g.dtype for k, g in grads.items()} == dict.fromkeys(model.params, np.float32)


def test_two_layer_net_float32_agrees_with_float64():
    rng = np.random.default_rng(5)
    m64 = TwoLayerNet(input_dim=12, hidden_dim=7, num_classes=3, weight_scale=0.1, reg=0.3)
    m32 = TwoLayerNet(input_dim=12, hidden_dim=7, num_classes=3, reg=0.3, dtype=np.float32)
    m32.params = {k: v.astype(np.float32) for k, v in m64.params.items()}
    X, y = rng.standard_normal((5, 12)), rng.integers(0, 3, 5)
    loss64, g64 = m64.loss(X, y)
    loss32, g32 = m32.loss(X, y)
    assert abs(loss32 - loss64) < 1e-5
    for k in g64:
        assert rel_error(g32[k].astype(np.float64), g64[k]) < 1e-4, k


@pytest.mark.parametrize("rule", ["sgd", "sgd_momentum", "adam"])
def test_solver_trains_in_float32(rule):
    rng = np.random.default_rng(6)
    data = {"X_train": rng.standard_normal((60, 3, 4, 4)).astype(np.float32),
            "y_train": rng.integers(0, 4, 60),
            "X_val": rng.standard_normal((20, 3, 4, 4)).astype(np.float32),
            "y_val": rng.integers(0, 4, 20)}
    model = TwoLayerNet(input_dim=48, hidden_dim=10, num_classes=4, weight_scale=0.1,
                        reg=np.float64(0.01), dtype=np.float32)
    solver = Solver(model, data, update_rule=rule, optim_config={"learning_rate": 1e-2},
                    batch_size=10, num_epochs=2, verbose=False, seed=0)
    solver.train()
    assert all(p.dtype == np.float32 for p in model.params.values())
    assert all(np.isfinite(solver.loss_history))


# ---------------------------------------------------------------- best-model helpers

def test_pca_whitening_whitens_the_kept_directions():
    rng = np.random.default_rng(7)
    mixing = rng.standard_normal((8, 8)) * np.arange(1, 9)
    X = rng.standard_normal((4000, 8)) @ mixing
    X -= X.mean(axis=0)
    P = pca_whitening(X, 5, eps=0.0)
    Z = X @ P
    assert P.shape == (8, 5)
    assert np.allclose(Z.T @ Z / len(Z), np.eye(5), atol=1e-8)
    # The kept directions carry the most variance, largest first.
    variances = (X @ (P / np.linalg.norm(P, axis=0))).var(axis=0)
    assert np.all(np.diff(variances) < 0)
    assert variances[-1] > np.linalg.eigvalsh(X.T @ X / len(X))[-6] * 0.999


def test_pca_whitening_subspace_iteration_finds_the_top_directions():
    rng = np.random.default_rng(11)
    D, k = 160, 12
    spectrum = 1.0 / np.arange(1, D + 1) ** 1.5      # decaying, like natural images
    basis, _ = np.linalg.qr(rng.standard_normal((D, D)))
    X = (rng.standard_normal((3000, D)) * np.sqrt(spectrum)) @ basis.T
    P = pca_whitening(X, k, eps=0.0, max_samples=3000)
    Z = X @ P
    assert np.allclose(Z.T @ Z / len(Z), np.eye(k), atol=1e-6)
    exact = np.linalg.eigvalsh(X.T @ X / len(X))[::-1][:k]
    found = 1.0 / np.linalg.norm(P, axis=0) ** 2     # the variance each column divided out
    assert np.allclose(found, exact, rtol=0.02)


def test_augment_flips_and_shifts():
    rng = np.random.default_rng(8)
    images = rng.standard_normal((50, 3, 6, 6)).astype(np.float32)
    flipped = augment(images, rng, shift=0, flip=True)
    same = [np.array_equal(a, b) for a, b in zip(flipped, images)]
    mirrored = [np.array_equal(a, b[:, :, ::-1]) for a, b in zip(flipped, images)]
    assert all(s or m for s, m in zip(same, mirrored)) and 0 < sum(same) < 50
    shifted = augment(images, rng, shift=1, flip=False)
    assert shifted.shape == images.shape and shifted.dtype == np.float32
    for a, b in zip(shifted, images):  # some shift by -1..1 in y and x, zero outside
        padded = np.pad(b, ((0, 0), (1, 1), (1, 1)))
        assert any(np.array_equal(a, padded[:, dy:dy + 6, dx:dx + 6])
                   for dy in range(3) for dx in range(3))


def test_mirror_permutation():
    image = np.arange(2 * 3 * 4).reshape(2, 3, 4)
    assert np.array_equal(image.ravel()[_mirror_permutation((2, 3, 4))],
                          image[:, :, ::-1].ravel())


def _tiny_data(rng):
    # Class 1 images are brighter in the red channel: survives flips and shifts, and it is
    # the direction of largest variance, so PCA keeps it.
    y = rng.integers(0, 2, 300)
    X = rng.standard_normal((300, 3, 8, 8)).astype(np.float32)
    X[:, 0] += (2.0 * y - 1.0)[:, None, None]
    X -= X.mean(axis=0)
    return {"X_train": X[:200], "y_train": y[:200], "X_val": X[200:], "y_val": y[200:]}


def test_train_best_model_folds_whitening_and_flip_averaging_into_the_weights():
    data = _tiny_data(np.random.default_rng(9))
    settings = dict(hidden_dim=16, num_components=20, epochs=3, batch_size=20,
                    verbose=False, seed=3)
    plain, info = train_best_model(data, fold_flip=False, **settings)
    folded, _ = train_best_model(data, fold_flip=True, **settings)
    assert {k: v.shape for k, v in plain.params.items()} == {
        "W1": (192, 16), "b1": (16,), "W2": (16, 2), "b2": (2,)}
    assert folded.params["W1"].shape == (192, 32)
    assert all(v.dtype == np.float32 for v in folded.params.values())
    X = data["X_val"]
    expected = 0.5 * (plain.loss(X) + plain.loss(X[:, :, :, ::-1]))
    assert np.allclose(folded.loss(X), expected, atol=1e-4)
    # The net learned something, and the reported accuracy is the folded-in model's own.
    assert info["val_acc"] == accuracy(plain, X, data["y_val"]) > 0.6
    assert len(info["val_acc_history"]) == 3


def test_train_best_model_is_repeatable_and_rejects_unknown_settings():
    data = _tiny_data(np.random.default_rng(10))
    settings = dict(hidden_dim=8, num_components=10, epochs=1, batch_size=50,
                    keep_prob=0.5, verbose=False)
    a, _ = train_best_model(data, seed=1, **settings)
    b, _ = train_best_model(data, seed=1, **settings)
    assert all(np.array_equal(a.params[k], b.params[k]) for k in a.params)
    with pytest.raises(TypeError, match="hiden_dim"):
        train_best_model(data, hiden_dim=3)


def test_random_search_keeps_the_best_trial_and_stops_hopeless_ones():
    from answer_key.best_model import random_search

    data = _tiny_data(np.random.default_rng(12))
    # Good learning rates first, then useless ones (1e-6), which trail and stop early.
    rates = iter([0.02, 0.05, 1e-6, 2e-6])
    space = {"learning_rate": lambda r: next(rates)}
    model, settings, trials = random_search(
        data, num_trials=4, seed=0, space=space, patience_margin=0.05, verbose=False,
        hidden_dim=16, num_components=20, epochs=3, batch_size=40, fold_flip=False)
    assert len(trials) == 4
    assert trials == sorted(trials, key=lambda t: -t["val_acc"])
    assert settings["learning_rate"] == trials[0]["learning_rate"]
    assert accuracy(model, data["X_val"], data["y_val"]) == trials[0]["val_acc"]
    stopped = [t for t in trials if t["stopped_early"]]
    assert sorted(t["learning_rate"] for t in stopped) == [1e-6, 2e-6]
    assert all(t["epochs_done"] == 1 for t in stopped)
    assert not any(t["stopped_early"] for t in trials if t["learning_rate"] > 1e-3)
