# %% tags=["hide-input"]
# @colab-setup

# %% [markdown]
# # Chapter 4: A two-layer network
#
# Time to assemble the pieces. Our network has the architecture
#
# $$\text{input} \;\to\; \text{affine} \;\to\; \text{ReLU} \;\to\; \text{affine}
#   \;\to\; \text{softmax loss}.$$
#
# It is called *two-layer* because it has two layers of weights. With $N$ examples of
# dimension $D$, $H$ hidden units and $C$ classes, the shapes flow like this (the hidden
# units are $a$ before the ReLU and $h$ after it):
#
# | step | computes | shape |
# |---|---|---|
# | input | `X` | $(N, D)$ (or $(N, d_1, \dots, d_r)$, flattened) |
# | affine + ReLU | $h = \max(0, a)$, $a = X W_1 + b_1$ | $(N, H)$ |
# | affine | $s = h W_2 + b_2$ | $(N, C)$, the class scores |
# | softmax loss | $L$ | scalar |
#
# The parameters live in a dictionary `model.params`: `W1` $(D, H)$, `b1` $(H,)$,
# `W2` $(H, C)$ and `b2` $(C,)$.
#
# ## Regularisation
#
# To discourage very large weights, we add an **L2 penalty** to the data loss:
#
# $$L = L_\text{data} + \tfrac{1}{2}\,\lambda \left(\textstyle\sum W_1^2 + \sum W_2^2\right),$$
#
# where $\lambda$ is `model.reg`. The factor $\tfrac12$ makes the penalty's gradient
# neat: it adds $\lambda W_1$ to the gradient of $W_1$, and $\lambda W_2$ to that of $W_2$.
# The biases are not penalised.
#
# ## The model API
#
# The network does not train itself. It only knows how to compute things, through one
# method, `loss(X, y=None)`:
#
# - without labels (`y is None`) it returns the scores, shape $(N, C)$, for prediction;
# - with labels it returns `(loss, grads)`, where `grads` has the same keys and shapes as
#   `params`.
#
# In chapter 5, a `Solver` will call `loss` over and over and update `params` with the
# gradients.

# %%
import numpy as np

import fcnet
from fcnet.otter_checks import Notebook
from fcnet.gradient_check import eval_numerical_gradient, rel_error
from fcnet.layer_utils import make_affine_relu
from fcnet.notebook_import import import_notebook

grader = Notebook(tests_dir=str(fcnet.PUBLIC_TESTS_DIR))

# %% [markdown]
# ## Your layers
#
# The network is built from *your* layers from chapters 1 to 3. The next cell reads them
# from the three chapter notebooks: next to this one, or on Colab in your Google Drive
# (save them first). It also builds the affine-ReLU sandwich from chapter 2.

# %%
affine_forward, affine_backward = import_notebook(
    "01_affine_layer", "affine_forward", "affine_backward")
relu_forward, relu_backward = import_notebook("02_relu", "relu_forward", "relu_backward")
softmax_loss = import_notebook("03_losses", "softmax_loss")

affine_relu_forward, affine_relu_backward = make_affine_relu(
    affine_forward, affine_backward, relu_forward, relu_backward)

# %% [markdown]
# ## The network
#
# **Your turn.** Complete `TwoLayerNet`.
#
# - In `__init__`, draw each weight matrix from a normal distribution with mean 0 and
#   standard deviation `weight_scale` (`np.random.randn` times a number), start the
#   biases at zero, and make every parameter of type `dtype`.
# - In `loss`, run the forward pass with `affine_relu_forward` and `affine_forward`. If
#   `y` is None, return the scores. Otherwise compute the loss with `softmax_loss`, add
#   the penalty, and backpropagate with `affine_backward` and `affine_relu_backward`.
#   Remember the penalty's gradient.
#
# Call the layers by the names above. Python looks the names up when `loss` runs, so
# `loss` calls whatever functions the names hold at that moment: the ones the import
# cell above loaded.
#
# @shared sandwich_keeps
#
# @shared grading_two_layer_net


# %%
# @solution answer_key.classifiers.fc_net.TwoLayerNet

# %% [markdown]
# The next cell tests the network in four steps, on a tiny problem where we know the
# answers:
#
# 1. **Initialisation.** The weights' standard deviation should be close to
#    `weight_scale` and the biases exactly zero.
# 2. **Scores.** With fixed weights, the scores should match ours to about $10^{-6}$.
# 3. **Loss.** The loss should match ours to ten decimals, both without regularisation
#    and with `reg = 1.0`.
# 4. **Gradients.** Each gradient should agree with a numeric one; relative errors of
#    about $10^{-7}$ or less are good.

# %%
np.random.seed(231)
N, D, H, C = 3, 5, 50, 7
std = 1e-3
model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=std)

print("1. Initialisation")
for name in ("W1", "W2"):
    print(f"   {name} std: {model.params[name].std():.2e} (should be about {std:.0e})")
for name in ("b1", "b2"):
    print(f"   {name} all zero: {np.all(model.params[name] == 0)}")

print("2. Scores")
model.params["W1"] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
model.params["b1"] = np.linspace(-0.1, 0.9, num=H)
model.params["W2"] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
model.params["b2"] = np.linspace(-0.9, 0.1, num=C)
X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
scores = model.loss(X)
correct_scores = np.array([
    [11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
    [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
    [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319]])
print("   total difference:", np.abs(scores - correct_scores).sum())

print("3. Loss")
y = np.array([0, 5, 1])
for reg, correct_loss in ((0.0, 3.4702243556), (1.0, 26.5948426952)):
    model.reg = reg
    loss, grads = model.loss(X, y)
    print(f"   reg = {reg}: loss {loss:.10f}, expected {correct_loss:.10f}")

print("4. Gradients")
for reg in (0.0, 0.7):
    model.reg = reg
    loss, grads = model.loss(X, y)
    for name in sorted(grads):
        f = lambda _: model.loss(X, y)[0]
        grad_num = eval_numerical_gradient(f, model.params[name], verbose=False)
        print(f"   reg = {reg}: {name} relative error {rel_error(grad_num, grads[name]):.2e}")

# %%
grader.check("two_layer_net")

# %% [markdown]
# ## What comes next
#
# The network can compute its loss and gradients, but it has not learned anything yet.
# In chapter 5 you write the update rule and train it on real images. Save this notebook:
# chapters 5 and 6 import your `TwoLayerNet` from it.
