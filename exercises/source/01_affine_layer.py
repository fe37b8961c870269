# %% tags=["hide-input"]
# @colab-setup

# %% [markdown]
# # Chapter 1: The affine layer
#
# Over six short chapters you will build a neural network classifier for the CIFAR-10
# images from nothing but numpy. You will write every piece that learns: the layers, the
# losses, the network and the update rule. The course package `fcnet` gives you the rest
# (data loading, numeric gradients, a training loop and plots).
#
# ## Layers as building blocks
#
# We will not write one big function for the whole network. Instead, each **layer** gets
# two small functions, and a network is just layers called one after another.
#
# - The **forward** function takes the layer's inputs (and its weights, if it has any) and
#   returns two things: the output, and a **cache**. The cache holds whatever the backward
#   pass will need later, such as the inputs themselves.
# - The **backward** function takes `dout`, the gradient of the final loss with respect to
#   the layer's output, together with the cache. It returns the gradient of the loss with
#   respect to each input of the forward function.
#
# In code, every layer in this course follows the same pattern:
#
# ```python
# def some_layer_forward(x, w):
#     h = ...               # whatever intermediate values the layer computes
#     out = ...             # the layer's output
#     cache = (x, w, h)     # remember what backward will need
#     return out, cache
#
# def some_layer_backward(dout, cache):
#     x, w, h = cache       # dout has the same shape as out
#     dx = ...              # dL/dx, the same shape as x
#     dw = ...              # dL/dw, the same shape as w
#     return dx, dw
# ```
#
# Notice the rule on shapes: a gradient always has the shape of the thing it is the
# gradient *of*. Keep that rule in mind; it catches many mistakes before they happen.
#
# Once a few layers follow this pattern, you can stack them into networks of any shape
# without writing new calculus for each one.

# %% [markdown]
# ## Setup
#
# Run the next cell first. It imports numpy and the helpers, and creates `grader`, which
# runs the public checks after each exercise.

# %%
import numpy as np

import fcnet
from fcnet.otter_checks import Notebook
from fcnet.gradient_check import eval_numerical_gradient_array, rel_error

grader = Notebook(tests_dir=str(fcnet.PUBLIC_TESTS_DIR))

# %% [markdown]
# ## The forward pass
#
# An affine (or *fully connected*) layer multiplies its input by a weight matrix and adds
# a bias vector. Every output unit looks at every input value.
#
# The input arrives as a minibatch `x` of $N$ examples. Each example may have any shape
# $(d_1, \dots, d_r)$; a CIFAR-10 image, for instance, is $(3, 32, 32)$. The affine layer
# does not care about that structure, so the first step is to flatten each example into a
# row of $D = d_1 \cdot \ldots \cdot d_r$ numbers. That gives a matrix
# $X$ of shape $(N, D)$, and the layer computes
#
# $$\text{out} = X W + b,$$
#
# where
#
# | array | shape | meaning |
# |---|---|---|
# | `x` | $(N, d_1, \dots, d_r)$ | the minibatch, as it arrives |
# | $X$ | $(N, D)$ | the same numbers, one row per example |
# | `w` ($W$) | $(D, M)$ | one column of weights per output unit |
# | `b` | $(M,)$ | one bias per output unit |
# | `out` | $(N, M)$ | one row of $M$ outputs per example |
#
# Adding `b`, of shape $(M,)$, to a matrix of shape $(N, M)$ adds it to every row: numpy
# *broadcasts* it for you.
#
# @shared grading_affine
#
# **Your turn.** Complete `affine_forward` below. One line of numpy is enough for the
# output; `x.reshape(N, -1)` flattens the examples (numpy works out the $-1$).

# %%
# @solution answer_key.layers.affine_forward

# %% [markdown]
# Now test it on a small input with known answers. The relative error between your output
# and ours should be about $10^{-9}$ or smaller.

# %%
num_inputs, input_shape, output_dim = 2, (4, 5, 6), 3
D = int(np.prod(input_shape))

x = np.linspace(-0.1, 0.5, num=num_inputs * D).reshape(num_inputs, *input_shape)
w = np.linspace(-0.2, 0.3, num=D * output_dim).reshape(D, output_dim)
b = np.linspace(-0.3, 0.1, num=output_dim)

out, _ = affine_forward(x, w, b)
correct_out = np.array([[1.49834967, 1.70660132, 1.91485297],
                        [3.25553199, 3.51413270, 3.77273342]])

print("Testing affine_forward:")
print("difference:", rel_error(out, correct_out))

# %%
grader.check("affine_forward")

# %% [markdown]
# ## The backward pass
#
# Suppose the loss $L$ depends on `out`, and the layer above has already computed
# `dout` $= \partial L / \partial\,\text{out}$, of shape $(N, M)$. We need three gradients.
# The chain rule gives each of them, and the shapes tell you how to arrange the product:
#
# - $\dfrac{\partial L}{\partial W} = X^\top \cdot \text{dout}$: shape
#   $(D, N) \cdot (N, M) = (D, M)$, the shape of $W$.
# - $\dfrac{\partial L}{\partial X} = \text{dout} \cdot W^\top$: shape
#   $(N, M) \cdot (M, D) = (N, D)$. Reshape it back to the original shape of `x`,
#   $(N, d_1, \dots, d_r)$.
# - $\dfrac{\partial L}{\partial b} = \sum_{i=1}^{N} \text{dout}_{i,:}$: the bias was added
#   to every row, so its gradient collects `dout` from every row. Shape $(M,)$.
#
# If you ever forget which matrix is transposed, write down the shapes: there is only one
# way to multiply them that gives the shape you need.
#
# **Your turn.** Complete `affine_backward`. The cache holds exactly what
# `affine_forward` put in it.

# %%
# @solution answer_key.layers.affine_backward

# %% [markdown]
# How do we know the gradients are right? We compare them with *numeric* gradients. Nudge
# one input entry up and down by a tiny step $\delta$, watch how the output changes, and
# divide: $\frac{f(x + \delta) - f(x - \delta)}{2\delta}$. This is slow, but simple enough to trust.
# `eval_numerical_gradient_array` does this for every entry, weighting the change of each
# output by `dout`.
#
# The relative errors below should be about $10^{-10}$ or smaller.

# %%
np.random.seed(231)
x = np.random.randn(10, 2, 3)
w = np.random.randn(6, 5)
b = np.random.randn(5)
dout = np.random.randn(10, 5)

dx_num = eval_numerical_gradient_array(lambda x: affine_forward(x, w, b)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: affine_forward(x, w, b)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: affine_forward(x, w, b)[0], b, dout)

_, cache = affine_forward(x, w, b)
dx, dw, db = affine_backward(dout, cache)

print("Testing affine_backward:")
print("dx error:", rel_error(dx_num, dx))
print("dw error:", rel_error(dw_num, dw))
print("db error:", rel_error(db_num, db))

# %%
grader.check("affine_backward")

# %% [markdown]
# ## What comes next
#
# You now have a complete layer: a forward pass and its gradients. An affine layer alone
# can only draw straight lines through the data, though, and stacking two of them is still
# just one affine map. In the next chapter you add the missing ingredient, a
# *nonlinearity*, and later chapters import the two functions you just wrote.
#
# Save this notebook (Ctrl+S) before you move on: chapter 2 reads your functions from
# this file.
