"""Figures for the course book, computed while the book is built (the exercise excerpts
are in book/excerpts.py).

Every chapter page starts with a hidden cell `import figures` and calls one function per
figure. The functions use the answer key (the complete, correct code), so the pictures
show what a working implementation does; only the pictures reach the book, never the code.

Training data. Figures that need a trained network or images (chapters 5 and 6) use the
real CIFAR-10: the first 9,000 / 1,000 training images as training / validation split,
found by fcnet.data_utils (CIFAR10_ARCHIVE, else the course's download cache, else the
official download; `python -m course_build book` fetches it first, with a progress bar).
Without CIFAR-10 a figure stops the build with a message naming the ways to provide it.
Only a build asked for with `--synthetic-data` (COURSE_BOOK_DATA=synthetic) uses synthetic
stand-in images instead; such a figure is returned as a `SyntheticFigure`, whose text form
starts with SYNTHETIC_MARK, and the book's extension (book/_ext/course_book.py) adds a
sentence saying so to its caption. Figures that use the data are declared with
`@figure(uses_data=True)`; a figure that loads the data without saying so is an error.
"""
import functools
import os
from dataclasses import dataclass
from functools import lru_cache

# One BLAS thread: the matrices here are small, and on a busy 2-core machine threads that
# wait for each other made training several times slower. This must precede numpy's import.
for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch  # noqa: E402

from course_build.book import SYNTHETIC_MARK, data_mode, missing_cifar10_message  # noqa: E402

FORWARD = "#1b7837"   # green: values flowing forward
BACKWARD = "#c51b7d"  # magenta: gradients flowing backward
LOCAL = "#4d4d4d"     # grey: local derivatives written at each node
# Line styles of a plot's first, second and third series: told apart without colour.
STYLES = ("-", "--", ":")

plt.rcParams.update({
    "figure.dpi": 110, "savefig.dpi": 110, "font.size": 11, "axes.titlesize": 12,
    "axes.spines.top": False, "axes.spines.right": False, "axes.grid": True,
    "grid.alpha": 0.3, "image.interpolation": "nearest",
})




class SyntheticFigure:
    """A figure drawn from synthetic stand-in images, not CIFAR-10 (--synthetic-data).

    Jupyter shows it as the figure (PNG); its text form starts with SYNTHETIC_MARK, which
    the book's extension reads to add a warning to the figure's caption.
    """

    def __init__(self, fig):
        self.figure = fig

    def _repr_png_(self):
        from IPython.core.pylabtools import print_figure
        return print_figure(self.figure, "png", bbox_inches="tight")

    def __repr__(self):
        return f"{SYNTHETIC_MARK} {self.figure!r}"


_DATA_LOADS = [0]  # how often course_data() was called: catches undeclared data figures


def figure(make=None, *, uses_data=False):
    """Decorate a function that draws with pyplot and returns the Figure.

    The figure is closed before it is returned, so a notebook shows it exactly once: as
    the value of the cell's last line, not again when pyplot flushes its open figures.
    With uses_data=True (the figure shows training images or a trained net), a build with
    synthetic data returns it as a SyntheticFigure.
    """
    if make is None:
        return functools.partial(figure, uses_data=uses_data)

    @functools.wraps(make)
    def wrapper(*args, **kwargs):
        loads = _DATA_LOADS[0]
        fig = make(*args, **kwargs)
        plt.close(fig)
        if not uses_data and _DATA_LOADS[0] != loads:
            raise RuntimeError(f"{make.__name__} uses the training data: declare it with "
                               "@figure(uses_data=True), so a synthetic build marks it")
        if uses_data and data_mode() == "synthetic":
            return SyntheticFigure(fig)
        return fig
    return wrapper


# ------------------------------------------------------------------ computational graphs

def _box(ax, xy, text, color="#f0f0f0", width=1.5, height=0.8, fontsize=12):
    x, y = xy
    ax.add_patch(FancyBboxPatch((x - width / 2, y - height / 2), width, height,
                                boxstyle="round,pad=0.05,rounding_size=0.15",
                                fc=color, ec="#333333", lw=1.2))
    ax.text(x, y, text, ha="center", va="center", fontsize=fontsize)


def _edge(ax, start, end, above, below, shrink=0.85, fontsize=11):
    """An arrow from start to end, the forward value above it, the gradient below it."""
    (x0, y0), (x1, y1) = start, end
    s0, s1 = shrink if isinstance(shrink, tuple) else (shrink, shrink)
    ax.add_patch(FancyArrowPatch((x0 + s0, y0), (x1 - s1, y1), arrowstyle="-|>",
                                 mutation_scale=14, lw=1.4, color="#333333",
                                 connectionstyle="arc3,rad=0"))
    mx, my = (x0 + x1) / 2, (y0 + y1) / 2
    ax.text(mx, my + 0.22, above, ha="center", va="bottom", color=FORWARD, fontsize=fontsize)
    ax.text(mx, my - 0.22, below, ha="center", va="top", color=BACKWARD, fontsize=fontsize)


def _blank(ax, xlim, ylim):
    ax.set_xlim(*xlim)
    ax.set_ylim(*ylim)
    ax.set_aspect("equal")
    ax.axis("off")


@figure
def affine_graph():
    """Chapter 1: the affine layer as a graph, one scalar example with shapes beside it."""
    fig, ax = plt.subplots(figsize=(9.5, 4.6))
    _blank(ax, (-0.6, 11.4), (-2.9, 3.1))
    x, w, b = 2.0, -0.5, 1.5
    out = w * x + b
    dout = 2.0
    # One tall node that all three inputs enter horizontally: labels never cross arrows.
    _box(ax, (5.3, 0.0), "affine\n$xW + b$\n\n\nlocal gradients:\n∂out/∂x = W\n"
         "∂out/∂W = x\n∂out/∂b = 1", color="#deebf7", width=2.3, height=5.0, fontsize=11)
    rows = ((2.0, "$x$\n(N, D)", f"x = {x:g}", f"dx = W·dout = {w * dout:g}"),
            (0.0, "$W$\n(D, M)", f"W = {w:g}", f"dW = x·dout = {x * dout:g}"),
            (-2.0, "$b$\n(M,)", f"b = {b:g}", f"db = dout = {dout:g}"))
    for y, name, label_f, label_b in rows:
        _box(ax, (0.5, y), name, width=1.4, height=0.9)
        _edge(ax, (0.5, y), (5.3, y), label_f, label_b, shrink=(0.75, 1.2))
    _box(ax, (10.3, 0.0), "out\n(N, M)", width=1.5, height=0.9)
    _edge(ax, (5.3, 0.0), (10.3, 0.0), f"out = {out:g}", f"dout = {dout:g} (upstream)",
          shrink=(1.2, 0.8))
    ax.text(5.3, 2.95, "forward values (green) above each arrow; gradients of the loss "
            "(magenta) below", ha="center", va="center", fontsize=10, color="#333333")
    fig.tight_layout()
    return fig


@figure
def affine_relu_graph():
    """Chapter 2: affine then ReLU, for an open unit (a > 0) and a closed one (a < 0)."""
    fig, axes = plt.subplots(2, 1, figsize=(10, 4.4))
    cases = (("open unit: a > 0, the gradient passes", 2.0),
             ("closed unit: a < 0, the gradient stops", -2.0))
    for ax, (title, x) in zip(axes, cases):
        _blank(ax, (-1.0, 13.6), (-1.0, 1.0))
        w, b, dh = 0.5, -0.5, 3.0
        a = w * x + b
        h = max(a, 0.0)
        da = dh if a > 0 else 0.0
        _box(ax, (0.0, 0.0), f"x = {x:g}\nW = {w:g}\nb = {b:g}", width=1.8, height=1.2,
             fontsize=10)
        _box(ax, (4.3, 0.0), "affine", color="#deebf7")
        _box(ax, (8.4, 0.0), "ReLU", color="#fee0b6")
        _box(ax, (12.5, 0.0), "⋯ → L", width=1.6)
        _edge(ax, (0.2, 0.0), (4.3, 0.0), "", f"dW = x·da = {x * da + 0.0:g}", shrink=0.9)
        _edge(ax, (4.3, 0.0), (8.4, 0.0), f"a = {a:g}", f"da = {da:g}")
        _edge(ax, (8.4, 0.0), (12.4, 0.0), f"h = {h:g}", f"dh = {dh:g} (upstream)")
        ax.text(8.4, -0.55, f"local: ∂h/∂a = {int(a > 0)}", ha="center", va="top",
                color=LOCAL, fontsize=10)
        ax.text(4.3, -0.55, "local: ∂a/∂W = x", ha="center", va="top", color=LOCAL,
                fontsize=10)
        ax.set_title(title, fontsize=11, loc="left")
    fig.tight_layout()
    return fig


@figure
def two_layer_graph():
    """Chapter 4: the two-layer net as a chain of layers, with the shape of every array."""
    fig, ax = plt.subplots(figsize=(11, 3.0))
    _blank(ax, (-0.7, 21.9), (-1.9, 1.3))
    nodes = [(0.0, "X", "#f0f0f0"), (4.4, "affine\nW1 (D, H)\nb1 (H,)", "#deebf7"),
             (8.8, "ReLU", "#fee0b6"), (13.2, "affine\nW2 (H, C)\nb2 (C,)", "#deebf7"),
             (17.6, "softmax\nloss", "#e5f5e0"), (21.2, "L", "#f0f0f0")]
    for x, text, color in nodes:
        _box(ax, (x, 0.0), text, color=color, width=1.0 if len(text) == 1 else 2.0,
             height=1.6, fontsize=12)
    forward = ["X (N, D)", "a (N, H)", "h (N, H)", "s (N, C)", "L"]
    backward = ["", "da (N, H)", "dh (N, H)", "ds (N, C)", "1"]
    for i in range(5):
        x0, x1 = nodes[i][0], nodes[i + 1][0]
        _edge(ax, (x0, 0.0), (x1, 0.0), forward[i], backward[i],
              shrink=(0.6 if i == 0 else 1.05, 1.05 if i < 4 else 0.6), fontsize=13)
    ax.text(10.6, -1.6, "L also adds ½·λ·(‖W1‖² + ‖W2‖²); its gradient λ·W joins dW1 and dW2",
            ha="center", va="center", fontsize=12, color=LOCAL)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ activations

@figure
def activations():
    """Chapter 2: ReLU, leaky ReLU and sigmoid (top) and their derivatives (bottom)."""
    z = np.linspace(-6, 6, 601)
    sig = 1 / (1 + np.exp(-z))
    funcs = [
        ("ReLU", np.maximum(z, 0), (z > 0).astype(float)),
        ("leaky ReLU (slope 0.1 for z < 0)", np.where(z > 0, z, 0.1 * z), np.where(z > 0, 1.0, 0.1)),
        ("sigmoid", sig, sig * (1 - sig)),
    ]
    fig, axes = plt.subplots(2, 3, figsize=(11, 5.4), sharex=True)
    for col, (name, f, df) in enumerate(funcs):
        axes[0, col].plot(z, f, color=FORWARD, lw=2)
        axes[0, col].set_title(name)
        axes[1, col].plot(z, df, color=BACKWARD, lw=2)
        axes[1, col].set_ylim(-0.08, 1.12)
        axes[1, col].set_xlabel("input z")
        # Shade where the derivative is (almost) zero: no gradient gets through there.
        dead = df < 0.02
        axes[1, col].fill_between(z, -0.08, 1.12, where=dead, color="#bbbbbb", alpha=0.35,
                                  lw=0, label="derivative < 0.02")
        axes[1, col].legend(loc="upper left", fontsize=9, frameon=False)
    axes[0, 0].set_ylabel("f(z)")
    axes[1, 0].set_ylabel("f′(z)")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ losses

def _softmax(s):
    e = np.exp(s - s.max(axis=-1, keepdims=True))
    return e / e.sum(axis=-1, keepdims=True)


@figure
def softmax_probabilities():
    """Chapter 3: how softmax probabilities move as one score, or all scores' scale, change."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    s0 = np.linspace(-4, 6, 400)
    scores = np.stack([s0, np.full_like(s0, 1.0), np.zeros_like(s0)], axis=1)
    probs = _softmax(scores)
    names = ["class 0 (score varies)", "class 1 (score 1)", "class 2 (score 0)"]
    for k in range(3):
        left.plot(s0, probs[:, k], lw=2, ls=STYLES[k], label=names[k])
    left.set(xlabel="score of class 0", ylabel="probability", ylim=(0, 1),
             title="One score moves, the other two stay")
    left.legend(frameon=False, fontsize=9)

    t = np.linspace(0, 3, 300)
    base = np.array([2.0, 1.0, -1.0])
    probs = _softmax(t[:, None] * base[None, :])
    for k in range(3):
        right.plot(t, probs[:, k], lw=2, ls=STYLES[k],
                   label=f"class {k} (score {base[k]:g}·t)")
    right.axhline(1 / 3, color="#999999", ls="--", lw=1)
    right.set(xlabel="scale t of all scores", ylabel="probability", ylim=(0, 1),
              title="All scores scaled by t")
    right.legend(frameon=False, fontsize=9)
    fig.tight_layout()
    return fig


@figure
def loss_comparison():
    """Chapter 3: softmax and SVM loss of one example as a function of its margin."""
    fig, ax = plt.subplots(figsize=(7, 3.8))
    m = np.linspace(-4, 4, 400)  # correct score minus the (single) other score
    ax.plot(m, np.log1p(np.exp(-m)), lw=2, label="softmax (cross-entropy)")
    ax.plot(m, np.maximum(0, 1 - m), lw=2, ls=STYLES[1], label="SVM (hinge, margin 1)")
    ax.set(xlabel="correct score − other score", ylabel="loss",
           title="Two classes: loss of one example")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ data and training

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
    _DATA_LOADS[0] += 1
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
          lr_decay=0.95, num_train=9000, seed=0):
    """Train the answer key's TwoLayerNet with the course's Solver; return the solver."""
    from answer_key.classifiers.fc_net import TwoLayerNet
    from answer_key.solver import Solver
    data, _ = course_data()
    if num_train < len(data["X_train"]):
        data = dict(data, X_train=data["X_train"][:num_train],
                    y_train=data["y_train"][:num_train])
    np.random.seed(seed)
    model = TwoLayerNet(hidden_dim=hidden_dim, reg=reg, dtype=np.float32)
    solver = Solver(model, data, update_rule="sgd", optim_config={"learning_rate": learning_rate},
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


@figure(uses_data=True)
def training_curves(solver=None, title="A first training run"):
    """Chapter 5 and 6: loss per iteration, train and validation accuracy per epoch."""
    solver = solver or poor_solver()
    _, source = course_data()
    fig, (top, bottom) = plt.subplots(2, 1, figsize=(9, 6.5))
    top.plot(solver.loss_history, "o", ms=2, alpha=0.5, color="#2166ac")
    top.set(title=f"{title}: training loss (trained on {source})", xlabel="iteration",
            ylabel="loss")
    epochs = np.arange(len(solver.train_acc_history))
    bottom.plot(epochs, solver.train_acc_history, "-o", label="train")
    bottom.plot(epochs, solver.val_acc_history, "--s", label="validation")
    bottom.set(title="Accuracy", xlabel="epoch", ylabel="accuracy")
    bottom.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    return fig


@figure(uses_data=True)
def learning_rates(rates=(1e-5, 3e-3, 3e-2)):
    """Chapter 5: the loss curve for a learning rate too small, about right and too big."""
    _, source = course_data()
    fig, ax = plt.subplots(figsize=(9, 4))
    for k, (lr, name) in enumerate(zip(rates, ("too small", "about right", "too big"))):
        solver = train(hidden_dim=50, learning_rate=lr, num_epochs=2, num_train=QUICK_TRAIN)
        loss = np.asarray(solver.loss_history, dtype=float)
        loss[~np.isfinite(loss)] = np.nan
        ax.plot(np.clip(loss, 0, 8), lw=1.2, ls=STYLES[k],
                label=f"learning rate {lr:g} ({name})")
    ax.set(xlabel="iteration", ylabel="training loss (clipped at 8)", ylim=(0, 8.3),
           title=f"Same net, three learning rates "
                 f"(the first {QUICK_TRAIN:,} of {source.count()})")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


@figure(uses_data=True)
def first_layer_weights():
    """Chapter 6: the first-layer weights of the poorly tuned and the tuned net as images."""
    from fcnet.vis_utils import show_net_weights  # what students call in chapters 5 and 6
    fig, axes = plt.subplots(1, 2, figsize=(11, 5.6))
    for ax, solver, name in ((axes[0], poor_solver(), "poorly tuned"),
                             (axes[1], tuned_solver(), "tuned")):
        show_net_weights(solver.model, padding=2, ax=ax, num_units=49)
        ax.set_title(f"{name}: val. accuracy {solver.best_val_acc:.2f}")
    fig.tight_layout()
    return fig


@lru_cache(maxsize=None)
def sweep(learning_rates=(3e-4, 1e-3, 3e-3, 1e-2), regs=(0.0, 0.1, 0.5, 2.0)):
    """Validation accuracy for every (learning rate, reg) pair: a small grid search."""
    acc = np.zeros((len(learning_rates), len(regs)))
    for i, lr in enumerate(learning_rates):
        for j, reg in enumerate(regs):
            acc[i, j] = train(hidden_dim=50, learning_rate=lr, reg=reg, num_epochs=2,
                              num_train=QUICK_TRAIN).best_val_acc
    return learning_rates, regs, acc


@figure(uses_data=True)
def sweep_heatmap():
    """Chapter 6: the grid search as a heatmap, best cell outlined."""
    lrs, regs, acc = sweep()
    _, source = course_data()
    fig, ax = plt.subplots(figsize=(6.8, 4.8))
    ax.grid(False)
    im = ax.imshow(acc, cmap="viridis", origin="lower", aspect="auto")
    ax.set_xticks(range(len(regs)), [f"{r:g}" for r in regs])
    ax.set_yticks(range(len(lrs)), [f"{lr:g}" for lr in lrs])
    ax.set(xlabel="regularisation strength reg", ylabel="learning rate",
           title=f"Validation accuracy after 2 epochs\n"
                 f"(the first {QUICK_TRAIN:,} of {source.count()})")
    for i in range(len(lrs)):
        for j in range(len(regs)):
            ax.text(j, i, f"{acc[i, j]:.2f}", ha="center", va="center",
                    color="white" if acc[i, j] < acc.max() * 0.7 else "black")
    i, j = np.unravel_index(np.argmax(acc), acc.shape)
    ax.add_patch(plt.Rectangle((j - 0.5, i - 0.5), 1, 1, fill=False, ec="red", lw=2.5))
    fig.colorbar(im, ax=ax, label="validation accuracy")
    fig.tight_layout()
    return fig


# ------------------------------------------------------------------ the best model

@figure(uses_data=True)
def augmentation_examples(num_images=4, num_copies=3, seed=1):
    """Chapter 6: training images next to random flipped and shifted copies of them, made
    by the best model's own augmentation (answer_key.best_model.augment)."""
    from answer_key.best_model import RECIPE, augment
    data, source = course_data()
    images = data["X_train"][:num_images]
    rng = np.random.default_rng(seed)
    columns = [("original", images)] + [
        (f"random copy {i + 1}", augment(images, rng, RECIPE["shift"], RECIPE["flip"]))
        for i in range(num_copies)]
    fig, axes = plt.subplots(num_images, len(columns),
                             figsize=(1.8 * len(columns), 1.8 * num_images), squeeze=False)
    for row in range(num_images):
        # One brightness scale per row, so the copies look exactly like their original.
        low, high = images[row].min(), images[row].max()
        for col, (name, batch) in enumerate(columns):
            ax = axes[row, col]
            ax.imshow(np.clip((batch[row].transpose(1, 2, 0) - low) / (high - low), 0, 1))
            ax.set(xticks=[], yticks=[])
            ax.grid(False)
            if row == 0:
                ax.set_title(name, fontsize=10)
    fig.suptitle(f"Flips and shifts of up to {RECIPE['shift']} pixels "
                 f"({source.images})", fontsize=11)
    fig.tight_layout()
    return fig


@lru_cache(maxsize=None)
def pixel_variances(num_images=5000):
    """Variances of the training images along their principal directions, largest first."""
    data, source = course_data()
    X = data["X_train"][:num_images].reshape(num_images, -1).astype(np.float64)
    return (np.linalg.eigvalsh(X.T @ X / num_images)[::-1],
            source.count(num_images))


@figure(uses_data=True)
def whitening_spectrum():
    """Chapter 6: how unequal the input directions are, before and after PCA whitening
    with the best model's settings."""
    from answer_key.best_model import RECIPE
    variances, images = pixel_variances()
    k, eps = RECIPE["num_components"], RECIPE["whiten_eps"]
    kept = variances[:k]
    fig, ax = plt.subplots(figsize=(8.5, 4))
    ax.semilogy(np.arange(1, len(variances) + 1), np.maximum(variances, 1e-6),
                label="raw pixels")
    ax.semilogy(np.arange(1, k + 1), kept / (kept + eps * kept.mean()),
                ls=STYLES[1],
                label=f"whitened (first {k} directions, softened by {eps:g} x mean)")
    ax.axvline(k, color="grey", ls="--", lw=1)
    ax.set(xlabel="principal direction (largest variance first)", ylabel="variance",
           title=f"Variance of the input along each direction ({images})")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig


@figure
def learning_rate_schedules(epochs=30, lr_decay=0.9):
    """Chapter 6: the best model's cosine schedule next to a constant rate and the
    Solver's per-epoch decay."""
    from answer_key.best_model import RECIPE, scheduled_learning_rate
    base = RECIPE["learning_rate"]
    t = np.linspace(0, epochs, 301)
    fig, ax = plt.subplots(figsize=(8.5, 3.6))
    ax.plot(t, [scheduled_learning_rate(base, x / epochs, "constant") for x in t],
            label="constant")
    ax.step(t, base * lr_decay ** np.floor(t), where="post", ls=STYLES[1],
            label=f"Solver's lr_decay={lr_decay:g} (once per epoch)")
    ax.plot(t, [scheduled_learning_rate(base, x / epochs, "cosine") for x in t],
            ls=STYLES[2], label="cosine (the best model)", lw=2.2)
    ax.set(xlabel="epoch", ylabel="learning rate", ylim=(0, base * 1.1),
           title=f"Learning-rate schedules over {epochs} epochs, starting at {base:g}")
    ax.legend(frameon=False)
    fig.tight_layout()
    return fig
