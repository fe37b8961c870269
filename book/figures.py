"""Figures for the course book, computed while the book is built.

Every chapter page starts with a hidden cell `import figures` and calls one function per
figure. The functions use the answer key (the complete, correct code), so the pictures
show what a working implementation does; only the pictures reach the book, never the code.
The data and the training runs they show are computed in book/course_runs.py; the
computational graphs are drawn in book/diagrams.py, the exercise excerpts (stubs,
grader.check output) shown in book/excerpts.py.

Figures that show training images or a trained net are declared with
`@figure(uses_data=True)`; a figure that loads the data without saying so is an error.
In a build asked for with `--synthetic-data` (COURSE_BOOK_DATA=synthetic) such a figure
is returned as a `SyntheticFigure`, whose text form starts with SYNTHETIC_MARK, and the
book's extension (book/_ext/course_book.py) adds a sentence saying so to its caption.
"""
import functools

# course_runs first: it limits BLAS to one thread, which must precede numpy's import.
import course_runs  # isort: skip
# (the pages also call poor_solver and tuned_solver through this module)
from course_runs import (QUICK_TRAIN, course_data, pixel_variances, poor_solver, sweep,
                         train, tuned_solver, update_ratios)

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402

from course_build.book import SYNTHETIC_MARK, data_mode  # noqa: E402

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
        loads = course_runs.DATA_LOADS[0]
        fig = make(*args, **kwargs)
        plt.close(fig)
        if not uses_data and course_runs.DATA_LOADS[0] != loads:
            raise RuntimeError(f"{make.__name__} uses the training data: declare it with "
                               "@figure(uses_data=True), so a synthetic build marks it")
        if uses_data and data_mode() == "synthetic":
            return SyntheticFigure(fig)
        return fig
    return wrapper


# ------------------------------------------------------------------ activations

# Chapter 2's inline question 1 is answered from the activations figure; its data are
# here, so tests/test_book_claims.py holds the key, the question and the chapter to them.
LEAKY_SLOPE = 0.1   # the leaky ReLU's slope for negative inputs
VANISHING = 0.02    # a derivative below this is shaded: (almost) no gradient gets through


def activation_curves():
    """(z, {name: (title, f(z), f'(z))}) of the three activations the figure shows."""
    z = np.linspace(-6, 6, 601)
    sig = 1 / (1 + np.exp(-z))
    return z, {
        "relu": ("ReLU", np.maximum(z, 0), (z > 0).astype(float)),
        "leaky": (f"leaky ReLU (slope {LEAKY_SLOPE:g} for z < 0)",
                  np.where(z > 0, z, LEAKY_SLOPE * z), np.where(z > 0, 1.0, LEAKY_SLOPE)),
        "sigmoid": ("sigmoid", sig, sig * (1 - sig)),
    }


@figure
def activations():
    """Chapter 2: ReLU, leaky ReLU and sigmoid (top) and their derivatives (bottom)."""
    z, curves = activation_curves()
    fig, axes = plt.subplots(2, 3, figsize=(11, 5.4), sharex=True)
    for col, (title, f, df) in enumerate(curves.values()):
        axes[0, col].plot(z, f, color=FORWARD, lw=2)
        axes[0, col].set_title(title)
        axes[1, col].plot(z, df, color=BACKWARD, lw=2)
        axes[1, col].set_ylim(-0.08, 1.12)
        axes[1, col].set_xlabel("input z")
        if np.any(df < VANISHING):
            axes[1, col].fill_between(z, -0.08, 1.12, where=df < VANISHING, color="#bbbbbb",
                                      alpha=0.35, lw=0, label=f"derivative < {VANISHING:g}")
            axes[1, col].legend(loc="upper left", fontsize=9, frameon=False)
        else:  # no band to shade, so no legend entry for one
            axes[1, col].text(0.03, 0.6, f"derivative ≥ {VANISHING:g} everywhere",
                              transform=axes[1, col].transAxes, va="center", fontsize=9)
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
    # A thin solid grey line: the class curves already use solid, dashed and dotted.
    right.axhline(1 / 3, color="#999999", ls="-", lw=0.8, zorder=0)
    right.text(3, 1 / 3 + 0.015, "1/3", color="#777777", ha="right", va="bottom", fontsize=9)
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
           title=f"Best validation accuracy within 2 epochs\n"
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


# CS231n's rule of thumb for the update-to-weight ratio: about 1e-3 (cs231n.github.io,
# "Neural Networks Part 3", ratio of weights:updates). Drawn as a reference line.
RATIO_RULE_OF_THUMB = 1e-3


@figure(uses_data=True)
def update_ratio():
    """Chapter 6: ||eta dW1|| / ||W1|| per step for three learning rates (log scale)."""
    ratios = update_ratios()
    _, source = course_data()
    fig, ax = plt.subplots(figsize=(7.5, 4.2))
    for k, (lr, ratio) in enumerate(ratios.items()):
        ax.semilogy(np.arange(1, len(ratio) + 1), ratio, lw=2, ls=STYLES[k],
                    label=f"learning rate {lr:g}")
    ax.axhline(RATIO_RULE_OF_THUMB, color="#999999", lw=0.8, zorder=0)
    ax.text(1, RATIO_RULE_OF_THUMB * 1.15, f"rule of thumb, {RATIO_RULE_OF_THUMB:g}",
            color="#777777", fontsize=9, va="bottom")
    ax.set(xlabel="iteration (SGD step)", ylabel="‖η dW1‖ / ‖W1‖",
           title=f"Update-to-weight ratio of the first layer, 2 epochs\n"
                 f"(the first {QUICK_TRAIN:,} of {source.count()})")
    ax.legend(frameon=False, fontsize=9, loc="center right")
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
