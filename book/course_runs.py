"""The data and the training runs behind the book's figures, computed while the book is built.

Training data: the real CIFAR-10, the first 9,000 / 1,000 training images as training /
validation split, found by fcnet.data_utils (CIFAR10_ARCHIVE, else the course's download
cache, else the official download; `python -m course_build book` fetches it first, with a
progress bar). Without CIFAR-10 `course_data` stops the build with a message naming the
ways to provide it. Only a build asked for with `--synthetic-data`
(COURSE_BOOK_DATA=synthetic) uses synthetic stand-in images instead; `DataSource` says
which, so that every figure's title says what it was computed from.

The runs train the answer key's TwoLayerNet with the course's Solver; each is computed
once per build (lru_cache) and shared by the figures that show it. book/figures.py draws.
"""
import os
from dataclasses import dataclass
from functools import lru_cache

# One BLAS thread: the matrices here are small, and on a busy 2-core machine threads that
# wait for each other made training several times slower. This must precede numpy's import.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import numpy as np  # noqa: E402

from course_build.book import data_mode, missing_cifar10_message  # noqa: E402

# How often course_data() was called: book/figures.py catches undeclared data figures.
DATA_LOADS = [0]


def synthetic_images(num, seed=0, num_classes=10):
    """Stand-in images: each class is a smooth colour pattern; examples add noise.

    Returns X (num, 3, 32, 32) float32 and y (num,) int64. The same seed gives the same
    class patterns, so training and validation splits made from one seed match.
    """
    rng = np.random.default_rng(seed)
    coarse = rng.normal(0, 1, size=(num_classes, 3, 4, 4))
    # Upsample 4x4 -> 32x32 and blur a little: low-frequency patterns, like colour blobs.
    templates = np.kron(coarse, np.ones((1, 1, 8, 8)))
    for axis in (2, 3):
        templates = (np.roll(templates, 2, axis) + templates + np.roll(templates, -2, axis)) / 3
    templates *= 6.0  # faint patterns under strong noise: learnable, but not at once
    data_rng = np.random.default_rng(seed + 1)
    y = data_rng.integers(0, num_classes, size=num)
    contrast = data_rng.uniform(0.6, 1.4, size=(num, 1, 1, 1))
    noise = data_rng.normal(0, 60.0, size=(num, 3, 32, 32))
    return (contrast * templates[y] + noise).astype(np.float32), y.astype(np.int64)


@dataclass(frozen=True)
class DataSource:
    """What the build-time training images are, for the figures' titles."""
    images: str        # "CIFAR-10 images" or "synthetic stand-in images"
    num_train: int     # how many of them the training split holds
    synthetic: bool

    def count(self, num=None):
        """"9,000 CIFAR-10 images": `num` (default: the whole training split) of them."""
        return f"{self.num_train if num is None else num:,} {self.images}"

    def __str__(self):
        return self.count() + (" (not CIFAR-10)" if self.synthetic else "")


def course_data(num_train=9000, num_val=1000):
    """The build-time training data: (data dict, DataSource saying what it is)."""
    DATA_LOADS[0] += 1
    return _load_course_data(num_train, num_val)


@lru_cache(maxsize=None)
def _load_course_data(num_train, num_val):
    if data_mode() == "synthetic":
        X, y = synthetic_images(num_train + num_val)
        X -= X[:num_train].mean(axis=0)
        data = {"X_train": X[:num_train], "y_train": y[:num_train],
                "X_val": X[num_train:], "y_val": y[num_train:]}
        return data, DataSource("synthetic stand-in images", num_train, synthetic=True)
    from fcnet.data_utils import CIFAR10Error, cifar10_dir, get_CIFAR10_data
    try:
        # No progress bar here: in a kernel it would become part of the page.
        root = cifar10_dir(progress=False)
    except CIFAR10Error as err:
        raise CIFAR10Error(missing_cifar10_message(err)) from None
    data = get_CIFAR10_data(num_training=num_train, num_validation=num_val, num_test=0,
                            dtype=np.float32, root=root)
    return data, DataSource("CIFAR-10 images", num_train, synthetic=False)


def train(hidden_dim=50, learning_rate=1e-4, reg=0.0, num_epochs=5, batch_size=100,
          lr_decay=0.95, num_train=9000, seed=0, update_rule="sgd"):
    """Train the answer key's TwoLayerNet with the course's Solver; return the solver."""
    from answer_key.classifiers.fc_net import TwoLayerNet
    from answer_key.solver import Solver
    data, _ = course_data()
    if num_train < len(data["X_train"]):
        data = dict(data, X_train=data["X_train"][:num_train],
                    y_train=data["y_train"][:num_train])
    np.random.seed(seed)
    model = TwoLayerNet(hidden_dim=hidden_dim, reg=reg, dtype=np.float32)
    solver = Solver(model, data, update_rule=update_rule,
                    optim_config={"learning_rate": learning_rate},
                    lr_decay=lr_decay, num_epochs=num_epochs, batch_size=batch_size,
                    num_val_samples=None, verbose=False, seed=seed)
    # A learning rate that is far too large overflows; the figure shows the divergence.
    with np.errstate(all="ignore"):
        solver.train()
    return solver


# The quick runs of the learning-rate and sweep figures train on this many images.
QUICK_TRAIN = 4000

# The hyperparameters of the two nets the chapters compare.
POOR = dict(hidden_dim=50, learning_rate=1e-4, reg=0.0, num_epochs=5)
TUNED = dict(hidden_dim=150, learning_rate=1e-3, reg=0.05, num_epochs=8)


@lru_cache(maxsize=None)
def poor_solver():
    return train(**POOR)


@lru_cache(maxsize=None)
def tuned_solver():
    return train(**TUNED)


@lru_cache(maxsize=None)
def sweep(learning_rates=(3e-4, 1e-3, 3e-3, 1e-2), regs=(0.0, 0.1, 0.5, 2.0)):
    """Validation accuracy for every (learning rate, reg) pair: a small grid search."""
    acc = np.zeros((len(learning_rates), len(regs)))
    for i, lr in enumerate(learning_rates):
        for j, reg in enumerate(regs):
            acc[i, j] = train(hidden_dim=50, learning_rate=lr, reg=reg, num_epochs=2,
                              num_train=QUICK_TRAIN).best_val_acc
    return learning_rates, regs, acc


@lru_cache(maxsize=None)
def update_ratios(learning_rates=(1e-4, 1e-3, 1e-2)):
    """{learning rate: ratios}: for every SGD step of a grid-search run (two epochs on
    QUICK_TRAIN images, as in `sweep`), the size of W1's update relative to W1 itself,
    ||eta dW1|| / ||W1||, measured before the step."""
    from answer_key.optim import sgd
    ratios = {}
    for lr in learning_rates:
        seen = []

        def recording_sgd(w, dw, config=None):
            if w.ndim == 2 and w.shape[0] == 3 * 32 * 32:  # W1, the first layer
                step = config["learning_rate"] * np.linalg.norm(dw)
                seen.append(float(step / np.linalg.norm(w)))
            return sgd(w, dw, config)

        train(hidden_dim=50, learning_rate=lr, reg=0.0, num_epochs=2, num_train=QUICK_TRAIN,
              update_rule=recording_sgd)
        ratios[lr] = np.array(seen)
    return ratios


@lru_cache(maxsize=None)
def pixel_variances(num_images=5000):
    """Variances of the training images along their principal directions, largest first."""
    data, source = course_data()
    X = data["X_train"][:num_images].reshape(num_images, -1).astype(np.float64)
    return (np.linalg.eigvalsh(X.T @ X / num_images)[::-1],
            source.count(num_images))
