# %% tags=["hide-input"]
# @colab-setup

# %% [markdown]
# # Chapter 6: Tuning the hyperparameters
#
# The weights of a network are learned. The settings *around* the learning are not: the
# number of hidden units, the learning rate and its decay, the regularisation strength,
# the number of epochs. These are the **hyperparameters**, and choosing them well often
# matters as much as the model itself. In this chapter you search for better ones.
#
# ## Where to start
#
# The curves of your chapter 5 run (50 hidden units, learning rate $10^{-3}$, ten epochs on
# all 49,000 images; not the cautious run in the book's figure) already point the way.
#
# - The loss was still creeping down, and the validation accuracy still rising, when
#   training stopped. More epochs, or a somewhat larger learning rate, could go further.
#   (Too large a learning rate makes things worse again: try a few values.)
# - Training accuracy was only a few points above validation accuracy, so the network is
#   not overfitting much. It has room for more capacity: try more hidden units.
# - With more capacity, watch for the opposite problem: if training accuracy pulls far
#   ahead of validation accuracy, increase the regularisation strength `reg`.
#
# ## The rules of the game
#
# - Compare settings by their accuracy on the **validation** set. Never use the test set
#   to choose anything: it is there to give an honest estimate at the very end, and
#   looking at it while tuning would make that estimate optimistic.
# - Change one or two things at a time, and write down what each run gave.
# - Runs cost time. A quick way to rule out bad settings is a short run (a few epochs)
#   first; only promising settings deserve a full one. Searching a small grid of values
#   in a loop, as below, keeps the bookkeeping easy.
#
# **Goal:** a network with at least 53% accuracy on the validation set, and on the test
# set when you finally look. Chapter 5's run is where you start, not where you stop:
# untuned, it reaches 47.5% to 50.6% on the validation set and 46.9% to 49.5% on the
# test set (we tried eight seeds), which earns less than half the points of
# `best_model`. More hidden units with some regularisation reach about 52%; 53% takes a
# longer search.
#
# @shared grading_best_model


# %%
import numpy as np

import fcnet
from fcnet.otter_checks import Notebook
from fcnet.data_utils import get_CIFAR10_data
from fcnet.notebook_import import import_notebook
from fcnet.solver import Solver
from fcnet.vis_utils import plot_solver_history, show_net_weights

grader = Notebook(tests_dir=str(fcnet.PUBLIC_TESTS_DIR))

data = get_CIFAR10_data(dtype=np.float32)


def accuracy(model, X, y):
    """Fraction of the images X, shape (N, 3, 32, 32), that `model` labels as y, shape (N,)."""
    if model is None:
        raise NotImplementedError("best_model is still None: run your tuning cell first.")
    return np.mean(np.argmax(model.loss(X), axis=1) == y)


# %% [markdown]
# You will train your own network with your own update rule: the next cell reads
# `TwoLayerNet` from chapter 4 and `sgd` from chapter 5.

# %%
TwoLayerNet = import_notebook("04_two_layer_net", "TwoLayerNet")
sgd = import_notebook("05_solver", "sgd")

# %% [markdown]
# ## Your search
#
# **Your turn.** Train networks with different hyperparameters, using `Solver` with your
# `sgd`, and keep the network with the best validation accuracy in `best_model`.
# `Solver(..., verbose=False)` keeps the output short, and `solver.best_val_acc` gives
# the run's best validation accuracy. `plot_solver_history(solver)` and
# `show_net_weights(model)` from chapter 5 help you understand a run.

# %%
best_model = None
# @solution-body answer_key.walkthrough.tune

# %% [markdown]
# ## Test your model
#
# Now, and only now, evaluate the chosen network on the test set. Both numbers should be
# at least 0.53. `data["X_test"]` holds the first 1,000 of CIFAR-10's 10,000 test images;
# the grader measures `best_model.npz` on all 10,000. An accuracy measured on 1,000 images
# is uncertain by about 1.6 points (one standard error near 50%), so expect the grader's
# number to differ from this one by a point or two.

# %%
print("validation accuracy:", accuracy(best_model, data["X_val"], data["y_val"]))
print("test accuracy:      ", accuracy(best_model, data["X_test"], data["y_test"]))

# %%
grader.check("best_model")

# %% [markdown]
# ## Save your model
#
# The next cell saves the four parameter arrays of `best_model` to `best_model.npz`, next
# to this notebook. Submit this file with your notebooks: the grader measures its
# accuracy on all 10,000 test images, preprocessed exactly as `get_CIFAR10_data` does,
# and counts it up to 2 points above the accuracy on their mirror images and on 10,000
# training images. An accuracy of 53% or more earns all the points of `best_model`; below
# that the points fall in a straight line, to none at 47%.

# %%
if best_model is None:
    raise NotImplementedError("best_model is still None: run your tuning cell first.")
np.savez("best_model.npz", W1=best_model.params["W1"], b1=best_model.params["b1"],
         W2=best_model.params["W2"], b2=best_model.params["b2"])
print("saved best_model.npz")

# %% [markdown]
# ## Inline question 2: closing the gap
#
# After training, you may find that your network is much more accurate on the training
# set than on the test set. Which of the following would tend to make that gap smaller?
# Choose **every** option that applies.
#
# - **A.** Train on a larger dataset.
# - **B.** Add more hidden units.
# - **C.** Increase the regularisation strength.
# - **D.** None of the above.
#
# @shared inline_scoring
#
# Answer with a set of capital letters, for example `inline_q2 = {"D"}`.

# %%
# @solution answer_key.inline_questions.inline_q2

# %%
grader.check("inline_q2")

# %% [markdown] tags=["solution-only"]
# **Why A and C.** A gap between training and test accuracy means the network has learned
# details of its particular training images that do not carry over to new ones. More
# training data (A) makes such details harder to memorise and the general patterns
# easier to find. A stronger L2 penalty (C) keeps the weights small, which limits how
# sharply the network can bend itself around individual examples. More hidden units (B)
# do the opposite: they add capacity, which tends to widen the gap. The check in this
# notebook only verifies the format of the answer; the autograder scores the letters.

# %% [markdown]
# ## Inline question 3: reading a badly tuned run
#
# The curves below come from a real run on CIFAR-10: a two-layer network trained for 15
# epochs with settings nobody tuned. The run was recorded once, so you do not have to
# wait for it, and the book does not show it. Read the curves as chapter 5 taught: the
# shape of the loss curve, the level of the two accuracy curves, and the gap between them.

# %%
from fcnet.recorded_runs import BAD_RUN

plot_solver_history(BAD_RUN);

# %% [markdown]
# Which statements do these curves support? Choose **every** option that applies: each
# wrong choice cancels a right one.
#
# - **A.** The learning rate is too small: the loss has hardly moved from where it
#   started, about 2.3.
# - **B.** The learning rate is too large: the loss jumps around and climbs.
# - **C.** The network overfits: its training accuracy ends far above its validation
#   accuracy.
# - **D.** The network underfits: training and validation accuracy are both low and close
#   together, so more hidden units should help.
# - **E.** The network learns nothing: its accuracy stays at chance level, 10%.
# - **F.** A stronger regularisation, or more training images, should narrow the gap
#   between the two accuracy curves.
#
# Answer with a set of capital letters, for example `inline_q3 = {"B"}`.

# %%
# @solution answer_key.inline_questions.inline_q3

# %%
grader.check("inline_q3")

# %% [markdown] tags=["solution-only"]
# **Why C and F.** The mean training loss falls from 2.15 in the first epoch to 0.42 in
# the fifteenth and never climbs: the steps are neither too small (not A) nor too large
# (not B). Training accuracy climbs to 91%, while validation accuracy stops rising near
# 34% from the eleventh epoch on: the network memorises its training images, and the gap
# between the curves grows to more than 50 points (C). Both accuracies are far above
# chance (not E), and a network that fits 91% of its training images is not short of
# capacity (not D). A gap like this is what more training data and a stronger L2 penalty
# narrow, as in inline question 2 (F). The check in this notebook only verifies the format
# of the answer; the autograder scores the letters.

# %% [markdown]
# ## The end, and a beginning
#
# You have built, from plain numpy, every part of a neural network classifier: layers
# with forward and backward passes, a loss, a network, an update rule, and the practice
# of tuning it. Deeper networks, better update rules, batch normalisation and dropout
# are all new layers and new rules in exactly the same pattern.

# %% [markdown]
# ## Hand in your work
#
# Save this notebook first (Ctrl+S; Colab saves by itself every few minutes). The cell
# below finds your six chapter notebooks, whatever their names (`Copy of ...` is fine),
# and `best_model.npz`; checks that each notebook opens, that its definitions load and how
# its public checks do; prints a table; and writes `two_layer_net_submission.zip`, the
# one file you hand in. On Colab your browser then downloads it. It only reads your
# files: nothing is changed. A missing piece is a warning in the table, so you can run it
# from any chapter to see where you stand: `import fcnet; fcnet.submit()`.

# %%
fcnet.submit()
