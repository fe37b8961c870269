# %% tags=["hide-input"]
# @colab-setup

# %% [markdown]
# # Chapter 3: Loss layers, softmax and SVM
#
# The last layer of a classifier produces a **score** for every class. A loss function
# turns those scores into one number that says how unhappy we are with them, given the
# correct labels. Training is the search for weights that make this number small.
#
# A loss layer is like the other layers, with one difference: it is the end of the
# network, so there is no `dout`. Its backward pass starts the chain, and so the forward
# and backward pass are one function that returns both the loss and its gradient:
#
# | argument / result | shape | meaning |
# |---|---|---|
# | `x` | $(N, C)$ | `x[i, j]` is the score of class $j$ for example $i$ |
# | `y` | $(N,)$ | the correct label of each example, an integer in $0, \dots, C-1$ |
# | `loss` | scalar | the loss, averaged over the $N$ examples |
# | `dx` | $(N, C)$ | $\partial\,\text{loss} / \partial x$ |
#
# You will write two classic losses. Both average over the examples, so remember to
# divide the gradient by $N$ as well. In formulas we write the scores as $s$, as the
# chapter does; the functions call their argument `x`, so `x[i, j]` is $s_{ij}$.
#
# @shared grading_losses


# %%
import numpy as np

import fcnet
from fcnet.otter_checks import Notebook
from fcnet.gradient_check import eval_numerical_gradient, rel_error

grader = Notebook(tests_dir=str(fcnet.PUBLIC_TESTS_DIR))

# %% [markdown]
# ## Softmax (cross-entropy) loss
#
# The softmax turns a row of scores into probabilities: exponentiate each score, then
# divide by the row's total,
#
# $$p_{ij} = \frac{e^{s_{ij}}}{\sum_{k} e^{s_{ik}}}.$$
#
# The loss of example $i$ is the negative log-probability of its correct class,
# $L_i = -\log p_{i, y_i}$, and the loss is the mean of the $L_i$. The gradient has a
# pleasantly simple form:
#
# $$\frac{\partial L_i}{\partial s_{ij}} = p_{ij} - \mathbb{1}[j = y_i],$$
#
# that is, the probabilities, with 1 subtracted at the correct class. (Divide by $N$ for
# the mean.)
#
# One practical point, numerical stability.
#
# @shared softmax_overflow
#
# The graded checks try your loss on large positive and negative scores, where only the
# shifted form stays finite.
#
# **Your turn.** Complete `softmax_loss`, without a Python loop over the examples.
# `x[np.arange(N), y]` picks the correct-class entry of each row.

# %%
# @solution answer_key.layers.softmax_loss

# %% [markdown]
# With tiny random scores, all ten classes are about equally likely, so each $p_{i,y_i}$
# is close to $1/10$ and the loss should be close to $\log 10 \approx 2.3$. The gradient
# error should be about $10^{-8}$.

# %%
np.random.seed(231)
num_classes, num_inputs = 10, 50
x = 0.001 * np.random.randn(num_inputs, num_classes)
y = np.random.randint(num_classes, size=num_inputs)

dx_num = eval_numerical_gradient(lambda x: softmax_loss(x, y)[0], x, verbose=False)
loss, dx = softmax_loss(x, y)

print("Testing softmax_loss:")
print("loss:", loss)
print("dx error:", rel_error(dx_num, dx))

# %%
grader.check("softmax_loss")

# %% [markdown]
# ## Multiclass SVM (hinge) loss
#
# The SVM loss does not care about probabilities. It wants the correct class to win by a
# *margin* of at least 1 over every other class, and it charges for each class that comes
# too close:
#
# $$L_i = \sum_{j \ne y_i} \max\left(0,\; s_{ij} - s_{i, y_i} + 1\right).$$
#
# Each term in the sum is either 0 (the class is far enough below) or a straight line.
# So the gradient of $L_i$ is simple too: $+1$ for every class $j$ with a positive
# margin, and for the correct class, minus the number of such classes. Again, take the
# mean over the examples.
#
# **Your turn.** Complete `svm_loss`, again without a loop over the examples.

# %%
# @solution answer_key.layers.svm_loss

# %% [markdown]
# With tiny scores, every one of the nine wrong classes has a margin of about 1, so the
# loss should be close to 9. The gradient error should be about $10^{-9}$ or smaller.

# %%
np.random.seed(231)
num_classes, num_inputs = 10, 50
x = 0.001 * np.random.randn(num_inputs, num_classes)
y = np.random.randint(num_classes, size=num_inputs)

dx_num = eval_numerical_gradient(lambda x: svm_loss(x, y)[0], x, verbose=False)
loss, dx = svm_loss(x, y)

print("Testing svm_loss:")
print("loss:", loss)
print("dx error:", rel_error(dx_num, dx))

# %%
grader.check("svm_loss")

# %% [markdown]
# ## What comes next
#
# You now have every piece of a classifier: affine layers, a nonlinearity, and a loss. In
# chapter 4 you put them together into a two-layer network, which uses your
# `softmax_loss`. Save this notebook before moving on.
