"""Pictures of training: image grids, loss and accuracy curves, first-layer weights.

The plotting functions build a matplotlib Figure and return it, closed in pyplot so that
it is shown exactly once: in a notebook, make the call the last line of its cell (or
pass the figure to display(...)); elsewhere use fig.savefig(...).
"""
import math

import matplotlib.pyplot as plt
import numpy as np

_NOT_TRAINED = ("There is nothing to show yet: train a solver in the cell above first "
                "(this got None).")


def visualize_grid(Xs, ubound=255.0, padding=1):
    """Tile a batch of images into one image, each rescaled to the range [0, ubound].

    Inputs:
    - Xs: images, shape (N, H, W, C)
    - ubound: each image is rescaled so its smallest value maps to 0 and its
      largest to ubound (a constant image becomes all 0)
    - padding: blank pixels between neighbouring images

    Returns grid, shape (G*H + (G-1)*padding, G*W + (G-1)*padding, C) with
    G = ceil(sqrt(N)) images per row and column; unused cells stay 0.
    """
    N, H, W, C = Xs.shape
    G = int(math.ceil(math.sqrt(N)))
    grid = np.zeros((G * H + (G - 1) * padding, G * W + (G - 1) * padding, C))
    for i in range(N):
        row, col = divmod(i, G)
        top, left = row * (H + padding), col * (W + padding)
        img = Xs[i]
        low, high = np.min(img), np.max(img)
        if high > low:  # a constant image would divide by zero
            grid[top:top + H, left:left + W] = ubound * (img - low) / (high - low)
    return grid


def _new_figure(rows, figsize):
    """A figure with `rows` axes stacked vertically, returned as (fig, axes).

    It is made through pyplot (in Jupyter that sets up the display of returned figures)
    and closed at once, so the notebook shows it only as the cell's value, not twice.
    """
    fig, axes = plt.subplots(rows, 1, figsize=figsize, layout="constrained")
    plt.close(fig)
    return fig, axes


def plot_solver_history(solver):
    """Training loss per iteration and train / validation accuracy per check.

    Input: a Solver after train() (anything with loss_history, train_acc_history and
    val_acc_history lists).
    Returns the matplotlib Figure with the two plots.
    """
    if solver is None:
        raise NotImplementedError(_NOT_TRAINED)
    if not solver.loss_history:
        raise ValueError("This solver has no history yet: call solver.train() first.")
    fig, (loss_ax, acc_ax) = _new_figure(2, figsize=(12, 9))

    loss_ax.plot(solver.loss_history, "o", markersize=2, alpha=0.5)
    loss_ax.set(title="Training loss", xlabel="Iteration", ylabel="loss")

    acc_ax.plot(solver.train_acc_history, "-o", label="train")
    acc_ax.plot(solver.val_acc_history, "-o", label="val")
    acc_ax.set(title="Accuracy", xlabel="Epoch", ylabel="accuracy")
    acc_ax.legend(loc="lower right")
    return fig


def show_net_weights(W1_or_model, padding=3, ax=None, num_units=None):
    """The first-layer weights of a net on CIFAR-10, one 32x32 colour image per unit.

    Input: a model with model.params["W1"], or W1 itself, shape (3*32*32, H): column j
    holds the weights of hidden unit j in the order of a flattened (3, 32, 32) image
    (channels first, as get_CIFAR10_data returns the images).
    - padding: blank pixels between neighbouring images
    - ax: a matplotlib Axes to draw on (default: a new figure)
    - num_units: show only the first num_units units (default: all H)
    Returns the matplotlib Figure showing the images in a grid.
    """
    if W1_or_model is None:
        raise NotImplementedError(_NOT_TRAINED)
    params = getattr(W1_or_model, "params", None)
    W1 = np.asarray(params["W1"] if params is not None else W1_or_model)
    if W1.ndim != 2 or W1.shape[0] != 3 * 32 * 32:
        raise ValueError(f"W1 should have shape (3072, H) for 32x32 colour images, "
                         f"not {W1.shape}.")
    # Column j -> (3, 32, 32) image -> (32, 32, 3) for imshow.
    images = W1.T.reshape(-1, 3, 32, 32).transpose(0, 2, 3, 1)[:num_units]
    fig, ax = _new_figure(1, figsize=(8, 8)) if ax is None else (ax.figure, ax)
    ax.imshow(visualize_grid(images, padding=padding).astype("uint8"))
    ax.axis("off")
    return fig
