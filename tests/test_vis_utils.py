"""fcnet.vis_utils: the image grid numbers, and the figures' contents."""
import io
from types import SimpleNamespace

import numpy as np
import pytest
from matplotlib.figure import Figure

from fcnet.vis_utils import plot_solver_history, show_net_weights, visualize_grid


def test_grid_layout_and_per_image_rescaling():
    rng = np.random.default_rng(0)
    Xs = rng.standard_normal((5, 4, 3, 2))  # N=5 images of 4x3 pixels, 2 channels

    grid = visualize_grid(Xs, ubound=10.0, padding=2)

    # ceil(sqrt(5)) = 3 images per row and column, 2 blank pixels between them.
    assert grid.shape == (3 * 4 + 2 * 2, 3 * 3 + 2 * 2, 2)
    for i in range(5):
        row, col = divmod(i, 3)
        cell = grid[row * 6: row * 6 + 4, col * 5: col * 5 + 3]
        expected = 10.0 * (Xs[i] - Xs[i].min()) / (Xs[i].max() - Xs[i].min())
        np.testing.assert_allclose(cell, expected)
    assert np.all(grid[4:6] == 0) and np.all(grid[:, 3:5] == 0)  # padding
    assert np.all(grid[12:, 6:] == 0)  # the unused ninth cell


def test_grid_of_a_constant_image_is_zero_not_nan():
    grid = visualize_grid(np.full((1, 2, 2, 3), 7.0))
    assert grid.shape == (2, 2, 3) and np.all(grid == 0)


def fake_solver():
    return SimpleNamespace(loss_history=[2.3, 2.0, 1.7, 1.6, 1.5],
                           train_acc_history=[0.1, 0.3, 0.4],
                           val_acc_history=[0.1, 0.25, 0.35])


def test_plot_solver_history_draws_loss_and_both_accuracies():
    fig = plot_solver_history(fake_solver())
    assert isinstance(fig, Figure)
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "Training loss" and acc_ax.get_title() == "Accuracy"
    np.testing.assert_array_equal(loss_ax.lines[0].get_ydata(), [2.3, 2.0, 1.7, 1.6, 1.5])
    curves = {line.get_label(): list(line.get_ydata()) for line in acc_ax.lines}
    assert curves == {"train": [0.1, 0.3, 0.4], "val": [0.1, 0.25, 0.35]}
    fig.savefig(io.BytesIO(), format="png")  # renders without pyplot


def test_show_net_weights_unflattens_channels_first():
    H = 4
    W1 = np.zeros((3 * 32 * 32, H))
    # Unit 2: only the green channel (second block of 1024 values) is set.
    W1[1024:2048, 2] = np.arange(1024)
    for source in (W1, SimpleNamespace(params={"W1": W1})):
        fig = show_net_weights(source, padding=3)
        image = fig.axes[0].images[0].get_array()
        assert image.shape == (2 * 32 + 3, 2 * 32 + 3, 3)
        cell = np.asarray(image[35:67, 0:32])  # unit 2 sits in row 1, column 0
        assert np.all(cell[..., 0] == 0) and np.all(cell[..., 2] == 0)
        green = (255 * np.arange(1024) / 1023).astype("uint8").reshape(32, 32)
        np.testing.assert_array_equal(cell[..., 1], green)


def test_show_net_weights_rejects_the_wrong_shape():
    with pytest.raises(ValueError, match="shape \\(3072, H\\)"):
        show_net_weights(np.zeros((100, 10)))


@pytest.mark.parametrize("function", [plot_solver_history, show_net_weights])
def test_none_means_train_first(function):
    with pytest.raises(NotImplementedError, match="train a solver in the cell above first"):
        function(None)


def test_an_untrained_solver_is_explained():
    with pytest.raises(ValueError, match="call solver.train\\(\\) first"):
        plot_solver_history(SimpleNamespace(loss_history=[], train_acc_history=[],
                                            val_acc_history=[]))


def test_show_net_weights_draws_into_a_given_axes_and_limits_the_units():
    """The book's figure draws two nets side by side through this same function."""
    import matplotlib.pyplot as plt

    fig, (left, right) = plt.subplots(1, 2)
    plt.close(fig)
    W1 = np.random.default_rng(0).standard_normal((3 * 32 * 32, 10))
    assert show_net_weights(W1, padding=2, ax=right, num_units=4) is fig
    assert not left.images and right.images[0].get_array().shape == (2 * 32 + 2, 2 * 32 + 2, 3)
    assert not right.axison
