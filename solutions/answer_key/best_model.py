"""The course's best two-layer net on CIFAR-10: a recipe, not a new architecture.

The model that comes out is still one hidden layer, affine - relu - affine, as four arrays
W1 (3072, H), b1, W2 (H, 10), b2 that apply to get_CIFAR10_data's preprocessing (mean
image subtracted, shape (N, 3, 32, 32)). Everything else is how it is trained:

1. PCA whitening: the images are projected on their top `num_components` principal
   directions, each scaled to unit variance (softened by `whiten_eps`). Training runs on
   these k numbers per image, which is both faster (k < 3072) and better conditioned.
   The projection is linear, so at the end it is folded into W1: W1 = P @ V1.
2. Augmentation: every minibatch is randomly flipped left-right and shifted by up to
   `shift` pixels (zero padding = the mean image) before it is projected.
3. A wide hidden layer (`hidden_dim`), SGD with Nesterov momentum, weight decay, an
   optional dropout, and a cosine learning-rate schedule.
4. Optionally (`fold_flip`), test-time flip averaging, folded into the weights: the final
   net has 2H hidden units, H seeing the image and H seeing its mirror image, and averages
   their scores, which is exactly a two-layer net again.

`train_best_model(data)` trains it; `benchmarks/best_model_from_scratch.py` reproduces it and
reports its test accuracy.
"""
import time

import numpy as np

from .classifiers.fc_net import TwoLayerNet
from .layers import (affine_backward, affine_forward, dropout_backward, dropout_forward,
                     relu_backward, relu_forward, softmax_loss)
from .optim import sgd, sgd_momentum

# The recipe. train_best_model's keyword arguments override single entries.
RECIPE = {
    "hidden_dim": 2048,       # H, hidden units while training
    "num_components": 512,    # k, PCA directions kept
    "whiten_eps": 0.1,        # added to each variance, as a fraction of the mean variance
    "epochs": 30,             # length of the cosine schedule
    "batch_size": 100,
    "learning_rate": 0.05,
    "momentum": 0.9,
    "nesterov": True,
    "weight_decay": 5e-4,     # L2 on both weight matrices (in whitened coordinates)
    "keep_prob": 1.0,         # dropout: probability of keeping a hidden unit (1: off)
    "shift": 2,               # random shifts of up to this many pixels
    "flip": True,             # random left-right flips
    "fold_flip": True,        # fold test-time flip averaging into the final weights
}

# Plain SGD for comparison: 100 hidden units, a constant rate, none of the ingredients above.
BASELINE = {
    "hidden_dim": 100, "num_components": None, "epochs": 10, "learning_rate": 1e-3,
    "momentum": 0.0, "nesterov": False, "weight_decay": 0.0, "keep_prob": 1.0,
    "shift": 0, "flip": False, "fold_flip": False, "schedule": "constant",
    "init_scale": 1e-3,
}


def pca_whitening(X, num_components, eps=0.1, max_samples=10000, iterations=4, rng=None):
    """A PCA whitening matrix for flattened images.

    Inputs:
    - X: mean-subtracted images, shape (N, D) or (N, d_1, ..., d_k) with D = d_1*...*d_k
    - num_components: k, how many principal directions to keep (k <= D)
    - eps: added to every variance before scaling, as a fraction of the mean of the k kept
      variances; keeps low-variance directions (mostly noise) from being blown up
    - max_samples: estimate the covariance from at most this many images
    - iterations: rounds of subspace iteration (see below)
    - rng: np.random.Generator for the sample and the starting subspace

    Returns P, shape (D, k), dtype of X: z = x_flat @ P has roughly uncorrelated,
    unit-variance entries, the largest-variance directions first.
    """
    rng = rng if rng is not None else np.random.default_rng(0)
    X = X.reshape(X.shape[0], -1)
    if X.shape[0] > max_samples:
        X = X[np.sort(rng.choice(X.shape[0], max_samples, replace=False))]
    D, k = X.shape[1], num_components
    cov = X.T @ X / X.shape[0]
    block = k + 64   # a few extra directions make the k we keep converge faster
    if block >= D:
        basis = np.eye(D, dtype=cov.dtype)
    else:
        # Subspace iteration: repeated multiplication by cov turns a random basis towards
        # the top principal directions; QR keeps it orthonormal. This costs a fraction of
        # a full eigendecomposition of the D x D covariance.
        basis = rng.standard_normal((D, block)).astype(cov.dtype)
        for _ in range(iterations):
            basis, _ = np.linalg.qr(cov @ basis)
    # Exact eigenvectors inside the small subspace (Rayleigh-Ritz).
    small = (basis.T @ cov @ basis).astype(np.float64)
    variances, rotation = np.linalg.eigh((small + small.T) / 2)   # ascending order
    variances = variances[::-1][:k]
    directions = basis @ rotation[:, ::-1][:, :k].astype(basis.dtype)
    scale = 1.0 / np.sqrt(variances + eps * variances.mean())
    return (directions * scale.astype(directions.dtype)).astype(X.dtype)


def augment(images, rng, shift=2, flip=True):
    """Randomly shifted and mirrored copies of a minibatch.

    Inputs:
    - images: shape (N, C, H, W), mean-subtracted
    - rng: np.random.Generator
    - shift: each image moves by up to this many pixels in x and in y; the uncovered
      border is zero, i.e. the mean image
    - flip: mirror each image left-right with probability 1/2

    Returns a new array, shape (N, C, H, W).
    """
    N, C, H, W = images.shape
    if shift:
        padded = np.pad(images, ((0, 0), (0, 0), (shift, shift), (shift, shift)))
        # Every (H, W) window of the padded images; pick one offset per image.
        windows = np.lib.stride_tricks.sliding_window_view(padded, (H, W), axis=(2, 3))
        dy = rng.integers(0, 2 * shift + 1, N)
        dx = rng.integers(0, 2 * shift + 1, N)
        images = windows[np.arange(N), :, dy, dx]           # (N, C, H, W), a copy
    else:
        images = images.copy()
    if flip:
        mirrored = rng.random(N) < 0.5
        images[mirrored] = images[mirrored, :, :, ::-1]
    return images


class _WhitenedNet:
    """affine - relu - [dropout] - affine on whitened inputs z (N, k): the training-time
    form of the best model. Parameters V1 (k, H), b1 (H,), W2 (H, C), b2 (C,).

    Unlike the answer key's TwoLayerNet, which uses the sandwich layers as the exercise
    asks, this class is written for speed: it computes no gradient for its inputs, adds
    no weight decay at weight_decay = 0, and keeps everything float32 (scalars stay
    Python floats, which never upcast an array).
    """

    def __init__(self, k, H, C, rng, dtype, init_scale=None):
        s1 = init_scale if init_scale is not None else np.sqrt(2.0 / k)   # He init
        s2 = init_scale if init_scale is not None else np.sqrt(1.0 / H)
        self.params = {"V1": (s1 * rng.standard_normal((k, H))).astype(dtype),
                       "b1": np.zeros(H, dtype),
                       "W2": (s2 * rng.standard_normal((H, C))).astype(dtype),
                       "b2": np.zeros(C, dtype)}

    def scores(self, z):
        hidden = np.maximum(z @ self.params["V1"] + self.params["b1"], 0)
        return hidden @ self.params["W2"] + self.params["b2"]

    def loss(self, z, y, weight_decay, dropout_param):
        p = self.params
        a, cache1 = affine_forward(z, p["V1"], p["b1"])
        hidden, relu_cache = relu_forward(a)
        hidden, drop_cache = dropout_forward(hidden, dropout_param)
        scores, cache2 = affine_forward(hidden, p["W2"], p["b2"])
        loss, dscores = softmax_loss(scores, y)

        grads = {}
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, cache2)
        da = relu_backward(dropout_backward(dhidden, drop_cache), relu_cache)
        # The inputs need no gradient, so skip affine_backward's dz = da @ V1.T, a third
        # of the first layer's arithmetic (book chapter 4, "The backward pass, layer by layer").
        grads["V1"] = z.T @ da
        grads["b1"] = da.sum(axis=0)
        if weight_decay:
            for name in ("V1", "W2"):
                grads[name] += weight_decay * p[name]
        return loss, grads


def scheduled_learning_rate(base, progress, schedule):
    """The learning rate after a fraction `progress` (0 to 1) of the run: `base` times
    (1 + cos(pi * progress)) / 2 for the "cosine" schedule, `base` for "constant"."""
    if schedule == "cosine":
        # A Python float: a numpy float64 rate would make every update compute in float64.
        return float(base * 0.5 * (1.0 + np.cos(np.pi * min(progress, 1.0))))
    return float(base)


def _mirror_permutation(shape):
    """Indices that mirror a flattened (C, H, W) image left-right."""
    return np.arange(int(np.prod(shape))).reshape(shape)[:, :, ::-1].ravel()


def train_best_model(data, seed=0, time_budget=None, verbose=True, stop_early=None,
                     **overrides):
    """Train the best two-layer net of the course (see the module docstring).

    Inputs:
    - data: dict as get_CIFAR10_data returns it: X_train (N, 3, 32, 32) mean-subtracted,
      y_train (N,), X_val, y_val; float32 recommended (float64 is converted)
    - seed: the run is fixed by it (on one machine and library build)
    - time_budget: seconds for the whole call, or None. The cosine schedule runs on
      progress = max(fraction of the planned steps, fraction of the time used), so a
      budget that is too short for the planned epochs ends the schedule early instead of
      cutting it off at a high learning rate
    - verbose: print one line per epoch
    - stop_early: None, or a function (epochs_done, val_acc) -> bool called after every
      epoch; True ends the training there
    - overrides: entries of RECIPE (or BASELINE's extra "schedule", "init_scale") to change

    Returns (model, info):
    - model: TwoLayerNet (float32) whose params W1, b1, W2, b2 hold the trained net
    - info: dict with the settings used, epochs_done, seconds, val_acc_history and the
      final val_acc
    """
    start = time.perf_counter()
    cfg = recipe_settings(overrides)
    rng = np.random.default_rng(seed)
    X_train = np.asarray(data["X_train"], dtype=np.float32)
    image_shape = X_train.shape[1:]
    num_classes = int(max(data["y_train"].max(), data["y_val"].max())) + 1
    P = pca_whitening(X_train, cfg["num_components"], cfg["whiten_eps"], rng=rng) \
        if cfg["num_components"] else None   # None: the net sees the pixels themselves
    k = P.shape[1] if P is not None else int(np.prod(image_shape))
    net = _WhitenedNet(k, cfg["hidden_dim"], num_classes, rng, np.float32, cfg["init_scale"])

    run = _Run(net, P, cfg, rng, X_train.shape[0], start, time_budget)
    X_val = np.asarray(data["X_val"], dtype=np.float32)
    while run.progress < 1.0:
        if not run.epoch(X_train, data["y_train"]):
            break   # the budget ran out at the start of this epoch
        val_acc = float(np.mean(np.argmax(net.scores(run.project(X_val)), axis=1)
                                == data["y_val"]))
        run.val_history.append(val_acc)
        if verbose:
            print(f"epoch {run.epochs_done:5.1f}  {time.perf_counter() - start:6.1f} s"
                  f"  lr {run.lr:.4f}  val acc {val_acc:.3f}", flush=True)
        if stop_early is not None and stop_early(run.epochs_done, val_acc):
            break

    model = fold_into_two_layer_net(net, P, image_shape, cfg["fold_flip"])
    info = {"settings": cfg, "seed": seed, "epochs_done": run.epochs_done,
            "seconds": time.perf_counter() - start, "val_acc_history": run.val_history,
            "val_acc": accuracy(model, data["X_val"], data["y_val"])}
    return model, info


def recipe_settings(overrides):
    """RECIPE with `overrides` applied; a name RECIPE does not know is a TypeError."""
    cfg = {**RECIPE, "schedule": "cosine", "init_scale": None}
    unknown = set(overrides) - set(cfg)
    if unknown:
        raise TypeError(f"unknown recipe setting(s): {', '.join(sorted(unknown))}")
    cfg.update(overrides)
    return cfg


class _Run:
    """The state of one training run: the update rule and its configs, the step count,
    the progress through the schedule, and the validation accuracies so far."""

    def __init__(self, net, P, cfg, rng, num_train, start, time_budget):
        self.net, self.P, self.cfg, self.rng = net, P, cfg, rng
        self.start, self.time_budget = start, time_budget
        self.rule = sgd_momentum if cfg["momentum"] else sgd
        base = {"learning_rate": cfg["learning_rate"]}
        if cfg["momentum"]:
            base.update(momentum=cfg["momentum"], nesterov=cfg["nesterov"])
        self.configs = {name: dict(base) for name in net.params}
        keep = cfg["keep_prob"]
        self.dropout_param = {"p": keep, "mode": "train" if keep < 1 else "test", "rng": rng}
        self.steps_per_epoch = max(num_train // cfg["batch_size"], 1)
        self.total_steps = max(int(round(cfg["epochs"] * self.steps_per_epoch)), 1)
        self.step, self.progress, self.lr = 0, 0.0, cfg["learning_rate"]
        self.val_history = []

    @property
    def epochs_done(self):
        return self.step / self.steps_per_epoch

    def project(self, X):
        """Flattened images (N, D) in the coordinates the net trains on, (N, k)."""
        X = X.reshape(X.shape[0], -1)
        return X @ self.P if self.P is not None else X

    def epoch(self, X_train, y_train):
        """One pass over the training images in a random order, or less if the schedule
        ends first. Returns False if the schedule had ended before its first step."""
        B = self.cfg["batch_size"]
        order = self.rng.permutation(X_train.shape[0])   # each epoch sees every image once
        first = self.step
        for i in range(self.steps_per_epoch):
            self.progress = self.step / self.total_steps
            if self.time_budget is not None:
                used = (time.perf_counter() - self.start) / self.time_budget
                self.progress = max(self.progress, used)
            if self.progress >= 1.0:
                break
            batch = order[i * B:(i + 1) * B]
            self.update(X_train[batch], y_train[batch])
            self.step += 1
        return self.step > first

    def update(self, images, labels):
        """One step of the update rule on an augmented, projected minibatch."""
        cfg, net = self.cfg, self.net
        if cfg["shift"] or cfg["flip"]:
            images = augment(images, self.rng, cfg["shift"], cfg["flip"])
        _, grads = net.loss(self.project(images), labels, cfg["weight_decay"],
                            self.dropout_param)
        self.lr = scheduled_learning_rate(cfg["learning_rate"], self.progress, cfg["schedule"])
        for name, w in net.params.items():
            self.configs[name]["learning_rate"] = self.lr
            net.params[name], self.configs[name] = self.rule(w, grads[name], self.configs[name])


def fold_into_two_layer_net(net, P, image_shape, fold_flip):
    """The trained _WhitenedNet as a plain TwoLayerNet on pixels: W1 = P @ V1, and with
    fold_flip the mirror-image copy of every hidden unit (see the module docstring)."""
    W1 = P @ net.params["V1"] if P is not None else net.params["V1"]
    b1, W2, b2 = net.params["b1"], net.params["W2"], net.params["b2"]
    if fold_flip:
        # scores(x) + scores(mirror(x)), halved: the mirror copy of a hidden unit reads the
        # image through mirrored weights, W1[mirror].
        W1 = np.concatenate([W1, W1[_mirror_permutation(image_shape)]], axis=1)
        b1 = np.concatenate([b1, b1])
        W2 = np.concatenate([W2, W2]) * W2.dtype.type(0.5)
    model = TwoLayerNet(input_dim=W1.shape[0], hidden_dim=1, num_classes=W2.shape[1],
                        dtype=W1.dtype)
    model.params = {"W1": np.ascontiguousarray(W1), "b1": b1.copy(), "W2": W2.copy(),
                    "b2": b2.copy()}
    return model


def accuracy(model, X, y, batch_size=1000):
    """Fraction of X that `model` (anything with .loss(X) -> scores) classifies as y."""
    correct = 0
    for i in range(0, X.shape[0], batch_size):
        correct += int(np.sum(np.argmax(model.loss(X[i:i + batch_size]), axis=1)
                              == y[i:i + batch_size]))
    return correct / X.shape[0]


def save_model(model, path):
    """Save W1, b1, W2, b2 to an .npz file (the course's best_model.npz format)."""
    np.savez(path, **{k: model.params[k] for k in ("W1", "b1", "W2", "b2")})


def random_search(data, num_trials=8, seed=0, space=None, patience_margin=0.03,
                  verbose=True, **fixed):
    """Random search over recipe settings, stopping hopeless trials early.

    Inputs:
    - data: as for train_best_model
    - num_trials: how many random settings to try
    - seed: fixes the settings drawn and every trial's training
    - space: dict name -> function(rng) -> value, the settings to draw; default: learning
      rate, weight decay and whitening strength, each log-uniform around the recipe's
    - patience_margin: early stopping; after each epoch a trial stops once its validation
      accuracy trails the best trial's accuracy at the same epoch by more than this
    - verbose: print one line per trial
    - fixed: recipe settings shared by every trial (e.g. epochs=3, hidden_dim=512)

    Returns (best_model, best_settings, trials), trials a list of dicts with the drawn
    settings, val_acc, epochs_done and stopped_early, best first.
    """
    rng = np.random.default_rng(seed)
    if space is None:
        space = {
            "learning_rate": lambda r: float(10 ** r.uniform(-2, -0.7)),
            "weight_decay": lambda r: float(10 ** r.uniform(-4.5, -2.5)),
            "whiten_eps": lambda r: float(10 ** r.uniform(-2, 0)),
        }
    best_curve = {}   # epoch -> best validation accuracy any trial had there
    trials, best = [], (None, None, -1.0)
    for trial in range(num_trials):
        settings = {name: draw(rng) for name, draw in space.items()}

        stopped = []

        def stop_early(epoch, val_acc):
            leader = best_curve.get(epoch)
            best_curve[epoch] = val_acc if leader is None else max(val_acc, leader)
            if leader is not None and val_acc < leader - patience_margin:
                stopped.append(epoch)
            return bool(stopped)

        model, info = train_best_model(data, seed=seed + trial, verbose=False,
                                       stop_early=stop_early, **{**fixed, **settings})
        record = {**settings, "val_acc": info["val_acc"], "epochs_done": info["epochs_done"],
                  "stopped_early": bool(stopped)}
        trials.append(record)
        if verbose:
            shown = ", ".join(f"{k}={v:.3g}" for k, v in settings.items())
            print(f"trial {trial + 1}/{num_trials}: {shown}: val acc {info['val_acc']:.3f}"
                  f"{' (stopped early)' if record['stopped_early'] else ''}", flush=True)
        if info["val_acc"] > best[2]:
            best = (model, settings, info["val_acc"])
    trials.sort(key=lambda t: -t["val_acc"])
    return best[0], best[1], trials
