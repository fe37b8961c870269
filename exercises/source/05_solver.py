# %% tags=["hide-input"]
# @colab-setup

# %% [markdown]
# # Chapter 5: Training with SGD
#
# Your network can compute a loss and its gradients. To *learn*, it must now change its
# parameters, a little at a time, in the direction that lowers the loss. In this chapter
# you write that step, the update rule, and then train the network on real images.
#
# ## Stochastic gradient descent
#
# The gradient $\nabla_w L$ points in the direction in which the loss grows fastest. So
# we take a small step the other way:
#
# $$w \;\leftarrow\; w - \eta\, \nabla_w L,$$
#
# where the **learning rate** $\eta$ sets the step size. Computing the loss over all
# 49,000 training images for every step would be slow. Instead, each step uses a small
# random **minibatch** (here 100 images), whose gradient is a noisy but cheap estimate of
# the full one. That is *stochastic* gradient descent, or SGD.
#
# In this course an update rule is a function with the signature
# `rule(w, dw, config) -> (next_w, config)`:
#
# | argument / result | meaning |
# |---|---|
# | `w` | one parameter array, any shape (for example `W1`, shape $(D, H)$) |
# | `dw` | the gradient of the loss with respect to `w`, the same shape |
# | `config` | a dict of hyperparameters, such as `{"learning_rate": 1e-3}` |
# | `next_w` | the updated parameter, the same shape as `w` |
#
# Returning `config` may look odd for SGD, which needs no memory between steps. Fancier
# rules (momentum, Adam) keep running averages in it, and the common signature lets the
# training loop treat every rule alike.

# %%
import numpy as np

import fcnet
from fcnet.otter_checks import Notebook
from fcnet.data_utils import get_CIFAR10_data
from fcnet.gradient_check import rel_error
from fcnet.notebook_import import import_notebook
from fcnet.solver import Solver
from fcnet.vis_utils import plot_solver_history, show_net_weights

grader = Notebook(tests_dir=str(fcnet.PUBLIC_TESTS_DIR))

# %% [markdown]
# **Your turn.** Complete `sgd`. When `config` has no learning rate, use $10^{-2}$.

# %%
# @solution answer_key.optim.sgd

# %% [markdown]
# One step on a small example. The difference should be about $10^{-9}$ or smaller.

# %%
w = np.linspace(-0.4, 0.6, num=20).reshape(4, 5)
dw = np.linspace(-0.6, 0.4, num=20).reshape(4, 5)

next_w, _ = sgd(w, dw, {"learning_rate": 1e-3})
expected_next_w = np.array([
    [-0.39940000, -0.34682105, -0.29424211, -0.24166316, -0.18908421],
    [-0.13650526, -0.08392632, -0.03134737,  0.02123158,  0.07381053],
    [ 0.12638947,  0.17896842,  0.23154737,  0.28412632,  0.33670526],
    [ 0.38928421,  0.44186316,  0.49444211,  0.54702105,  0.59960000]])

print("Testing sgd:")
print("difference:", rel_error(next_w, expected_next_w))

# %%
grader.check("sgd")

# %% [markdown]
# ## The data: CIFAR-10
#
# CIFAR-10 holds 60,000 small colour photographs, 32 by 32 pixels, each labelled with one
# of ten classes (airplane, automobile, bird, cat, deer, dog, frog, horse, ship, truck).
# `get_CIFAR10_data` downloads it on first use (about 170 MB, cached afterwards) and
# returns a dictionary of six arrays:
#
# | key | shape | what |
# |---|---|---|
# | `X_train`, `y_train` | $(49000, 3, 32, 32)$, $(49000,)$ | images to learn from, and their labels |
# | `X_val`, `y_val` | $(1000, 3, 32, 32)$, $(1000,)$ | held out, to choose settings |
# | `X_test`, `y_test` | $(1000, 3, 32, 32)$, $(1000,)$ | held out until the very end |
#
# Each image has 3 colour channels of $32 \times 32$ pixels, so $D = 3072$ inputs. The
# mean training image has been subtracted from every image, which centres the data
# around zero. We ask for 32-bit floats: they take half the memory of 64-bit ones, make
# training faster, and are precise enough for it. (Gradient checks, as in chapter 4, need
# 64-bit floats.)

# %%
data = get_CIFAR10_data(dtype=np.float32)
for name, array in data.items():
    print(f"{name}: {array.shape}")

# %% [markdown]
# ## Your network
#
# The next cell reads your `TwoLayerNet` from chapter 4 (which in turn reads your layers
# from chapters 1 to 3). Keep all chapter notebooks in one folder.

# %%
TwoLayerNet = import_notebook("04_two_layer_net", "TwoLayerNet")

# %% [markdown]
# ## The Solver
#
# `fcnet.solver.Solver` runs the training loop for you. You give it a model and the data,
# and it repeats: pick a minibatch, call `model.loss(X_batch, y_batch)`, and update every
# array in `model.params` with the update rule. An **epoch** is as many iterations as it
# takes to draw as many images as the training set holds (490 minibatches of 100 for
# 49,000 images). The minibatches are drawn at random with replacement, so an epoch is
# not an exact pass over every image. After every epoch it measures the accuracy on (a
# sample of) the training set and on the validation set, multiplies the learning rate by `lr_decay`, and remembers
# the parameters that did best on the validation set. When training ends, the model gets
# those best parameters back.
#
# The main keyword arguments are:
#
# | keyword | meaning |
# |---|---|
# | `update_rule` | the update function, here your `sgd` |
# | `optim_config` | its hyperparameters, e.g. `{"learning_rate": 1e-3}` |
# | `lr_decay` | factor applied to the learning rate after each epoch |
# | `num_epochs` | how many epochs to train |
# | `batch_size` | images per minibatch |
# | `print_every` | print the loss every this many iterations |
# | `seed` | makes the minibatch choice repeatable |
#
# After `solver.train()`, the solver holds the history of the run:
# `solver.loss_history` (one loss per iteration), `solver.train_acc_history` and
# `solver.val_acc_history` (`num_epochs + 1` accuracies each: one measured after the
# first iteration, then one at the end of every epoch), and `solver.best_val_acc`.
#
# **Your turn.** Train a `TwoLayerNet` with 50 hidden units on `data`, using your `sgd`
# with learning rate $10^{-3}$, `lr_decay=0.95`, 10 epochs and minibatches of 100 images.
# Make the network's parameters 32-bit like the data (`dtype=np.float32`). Keep the
# network in `model` and the solver in `solver`. You should reach a validation accuracy
# of at least 36%; these settings usually give about 50%. Training takes seconds on a
# fast machine (7 s on our 2-core test machine) and up to a minute or so on a slow one.
#
# @shared grading_sgd_training


# %%
model = None
solver = None
# @solution-body answer_key.walkthrough.train_baseline

# %%
if solver is None:
    raise NotImplementedError("Train your network in the cell above first.")
print("best validation accuracy:", solver.best_val_acc)

# %%
grader.check("training")

# %% [markdown]
# ## Reading the training curves
#
# A single accuracy number says little about *how* training went. Two pictures say much
# more. First, the loss of every iteration, and the training and validation accuracy of
# every epoch:

# %%
plot_solver_history(solver)

# %% [markdown]
# Second, the weights of the first layer. Each column of `W1` holds 3072 numbers, one per
# input pixel and colour, so it can be shown as a small $32 \times 32$ colour image: the
# pattern that makes that hidden unit respond most strongly.

# %%
show_net_weights(model)

# %% [markdown]
# ### What the pictures tell you
#
# Here is how to read such curves, on this run and on any other.
#
# - **The loss curve.** A healthy loss falls quickly at first and then levels off. If it
#   falls in an almost straight line, the steps are too small: a larger learning rate
#   would get further in the same time. If it jumps around wildly or rises, the steps
#   are too large. The spread of the dots comes from the minibatches: each one is a
#   different sample of 100 images.
# - **The gap between the accuracy curves.** Training accuracy a little above validation
#   accuracy is normal. If the two stay close together, the model is not using much
#   capacity: it does not even fit the training data well, so a bigger network (more
#   hidden units) or longer training should help. A wide and growing gap means the
#   opposite, *overfitting*: the network memorises the training images, and stronger
#   regularisation or more data would help.
# - **The weights.** Well-trained first-layer weights of an image model look like
#   smooth colour blobs and edge-like templates. Weights that look like pure noise
#   suggest the network has barely trained.
#
# On a typical run with the settings above, the loss drops steeply in the first few
# hundred iterations and is still creeping down after ten epochs. Validation accuracy
# ends around 50%, still rising, a few points below training accuracy. The weights show
# colour blobs and rough horizontal bands, with a good deal of noise left in them. All of
# this says the same thing: this small network, trained briefly, has room to do better.
# It is neither overfitting badly nor stuck. Finding better settings is chapter 6.
#
# Save this notebook: chapter 6 imports your `sgd` from it.
