# %% tags=["hide-input"]
# @colab-setup

# %% [markdown]
# # Chapter 2: The ReLU nonlinearity
#
# In chapter 1 you built an affine layer. Stacking two affine layers does not buy you
# anything on its own: $(XW_1 + b_1)W_2 + b_2$ is again $X$ times one matrix plus one
# vector. A network becomes more powerful than a single linear map only when something
# *nonlinear* sits between the layers.
#
# The most popular choice is the **rectified linear unit**, or ReLU:
#
# $$\text{ReLU}(x) = \max(0, x),$$
#
# applied to every entry of its input separately. It keeps positive values and replaces
# negative ones by zero. It has no weights, so its backward pass returns only `dx`.

# %%
import numpy as np

import fcnet
from fcnet.otter_checks import Notebook
from fcnet.gradient_check import eval_numerical_gradient_array, rel_error
from fcnet.layer_utils import make_affine_relu
from fcnet.notebook_import import import_notebook

grader = Notebook(tests_dir=str(fcnet.PUBLIC_TESTS_DIR))

# %% [markdown]
# ## The forward pass
#
# The input `x` can have any shape, and the output has the same shape. Think about what
# the backward pass will need to know, and keep it in the cache.
#
# @shared grading_relu
#
# **Your turn.** Complete `relu_forward`. `np.maximum` compares elementwise.

# %%
# @solution answer_key.layers.relu_forward

# %% [markdown]
# Test it on twelve evenly spaced values from $-0.5$ to $0.5$. The difference should be
# about $10^{-8}$ (our expected values are rounded to eight digits).

# %%
x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)

out, _ = relu_forward(x)
correct_out = np.array([[0.,         0.,         0.,         0.        ],
                        [0.,         0.,         0.04545455, 0.13636364],
                        [0.22727273, 0.31818182, 0.40909091, 0.5       ]])

print("Testing relu_forward:")
print("difference:", rel_error(out, correct_out))

# %%
grader.check("relu_forward")

# %% [markdown]
# ## The backward pass
#
# Where the input was positive, ReLU is the identity, so its slope is 1 and the upstream
# gradient passes through unchanged. Where the input was negative, the output is a
# constant 0, so the slope is 0 and nothing passes:
#
# $$\frac{\partial L}{\partial x_{ij}} =
#   \begin{cases} \text{dout}_{ij} & \text{if } x_{ij} > 0 \\ 0 & \text{otherwise.}
#   \end{cases}$$
#
# (At exactly $x = 0$ the slope is undefined; we use 0. Any value from 0 to 1 would be
# valid, and with real data an input of exactly zero is rare.)
# `dout` and `dx` both have the shape of `x`.
#
# **Your turn.** Complete `relu_backward`.

# %%
# @solution answer_key.layers.relu_backward

# %% [markdown]
# Compare with a numeric gradient. The error should be about $10^{-12}$.

# %%
np.random.seed(231)
x = np.random.randn(10, 10)
dout = np.random.randn(*x.shape)

dx_num = eval_numerical_gradient_array(lambda x: relu_forward(x)[0], x, dout)

_, cache = relu_forward(x)
dx = relu_backward(dout, cache)

print("Testing relu_backward:")
print("dx error:", rel_error(dx_num, dx))

# %%
grader.check("relu_backward")

# %% [markdown]
# ## Inline question 1: when does the gradient vanish?
#
# ReLU is only one of many activation functions. A common weakness they share is that,
# for some inputs, the gradient flowing back through them is zero or nearly zero. Then
# the weights below them stop learning from that example.
#
# Think of each function in one dimension, with input $z$: the sigmoid
# $\sigma(z) = 1 / (1 + e^{-z})$, the ReLU $\max(0, z)$, and the leaky ReLU
# $\max(0.1z, z)$ (slope $\alpha = 0.1$ for negative inputs, as in the chapter's figure).
# Sketch each one and look at its slope. Call the gradient *almost zero* where the slope
# is below $0.02$: the shaded bands of the chapter's figure. Which of the following
# statements describe a case where almost no gradient flows back? Choose **every**
# option that applies.
#
# - **A.** Sigmoid, for inputs of large magnitude (very positive or very negative).
# - **B.** Sigmoid, but only for inputs close to zero.
# - **C.** ReLU, for negative inputs.
# - **D.** ReLU, for large positive inputs.
# - **E.** Leaky ReLU, for negative inputs.
#
# @shared inline_scoring
#
# Answer with a set of capital letters, for example `inline_q1 = {"B", "E"}`.

# %%
# @solution answer_key.inline_questions.inline_q1

# %%
grader.check("inline_q1")

# %% [markdown] tags=["solution-only"]
# **Why A and C.** The sigmoid's slope is $\sigma(z)(1 - \sigma(z))$, largest (1/4) at
# $z = 0$ and shrinking towards 0 as $|z|$ grows; it is below 0.02 for $|z| > 3.9$. A
# saturated sigmoid passes almost nothing back (A), while near zero it passes the most
# (so not B). The ReLU's slope is exactly 0 for every negative input (C) and exactly 1
# for every positive one, however large (so not D). The leaky ReLU keeps a slope of 0.1
# for negative inputs, five times the 0.02 line, which is exactly the fix for C (so not
# E). The check in this notebook only verifies the format of the answer; the autograder
# scores the letters.

# %% [markdown]
# ## Sandwich layers
#
# In a network, an affine layer is very often followed by a ReLU. It is convenient to
# treat the pair as one layer, "affine-ReLU", with its own forward and backward
# functions. The forward pass runs the two forward functions one after the other and
# keeps both caches. The backward pass runs the two backward functions in reverse order.
#
# `fcnet.layer_utils.make_affine_relu` does this wiring for you. You give it your four
# functions and it returns the combined pair.
#
# @shared sandwich_keeps
#
# The affine layer comes from your chapter 1 notebook: `import_notebook` finds it next to
# this notebook, or on Colab in your Google Drive (`My Drive/Colab Notebooks/` first),
# whatever its name (`Copy of 01_affine_layer.ipynb` is fine), and loads only the
# functions defined in it. (Save chapter 1 before running the next cell.)

# %%
affine_forward, affine_backward = import_notebook(
    "01_affine_layer", "affine_forward", "affine_backward")

affine_relu_forward, affine_relu_backward = make_affine_relu(
    affine_forward, affine_backward, relu_forward, relu_backward)

# %% [markdown]
# If both chapters are right, the sandwich is right too. Check it numerically; the
# errors should be about $10^{-10}$ or smaller.

# %%
np.random.seed(231)
x = np.random.randn(2, 3, 4)
w = np.random.randn(12, 10)
b = np.random.randn(10)
dout = np.random.randn(2, 10)

out, cache = affine_relu_forward(x, w, b)
dx, dw, db = affine_relu_backward(dout, cache)

dx_num = eval_numerical_gradient_array(lambda x: affine_relu_forward(x, w, b)[0], x, dout)
dw_num = eval_numerical_gradient_array(lambda w: affine_relu_forward(x, w, b)[0], w, dout)
db_num = eval_numerical_gradient_array(lambda b: affine_relu_forward(x, w, b)[0], b, dout)

print("Testing affine_relu_forward and affine_relu_backward:")
print("dx error:", rel_error(dx_num, dx))
print("dw error:", rel_error(dw_num, dw))
print("db error:", rel_error(db_num, db))

# %% [markdown]
# ## What comes next
#
# A network needs one more kind of layer: a *loss* that compares its scores with the true
# labels and says how wrong they are. That is chapter 3. Save this notebook; chapter 4
# imports your ReLU from it.
