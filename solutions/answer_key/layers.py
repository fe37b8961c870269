"""Reference layers: every forward returns (out, cache), every backward takes (dout, cache).

Shapes use N for the minibatch, D for the flattened input size and M for the output size.
The bodies below are what students write; the course build turns each into a stub by keeping
the signature and docstring only.
"""
import numpy as np


def affine_forward(x, w, b):
    """Forward pass of a fully connected (affine) layer: out = x_flat @ w + b.

    Inputs:
    - x: array of shape (N, d_1, ..., d_k); each example is flattened to a row of
      D = d_1 * ... * d_k values.
    - w: weights, shape (D, M)
    - b: biases, shape (M,)

    Returns a tuple:
    - out: shape (N, M)
    - cache: (x, w, b), kept for the backward pass
    """
    out = x.reshape(x.shape[0], -1) @ w + b
    cache = (x, w, b)
    return out, cache


def affine_backward(dout, cache):
    """Backward pass of the affine layer.

    Inputs:
    - dout: upstream derivative, shape (N, M)
    - cache: (x, w, b) from affine_forward, with x of shape (N, d_1, ..., d_k),
      w of shape (D, M) and b of shape (M,)

    Returns a tuple:
    - dx: gradient with respect to x, shape (N, d_1, ..., d_k)
    - dw: gradient with respect to w, shape (D, M)
    - db: gradient with respect to b, shape (M,)
    """
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.sum(axis=0)
    return dx, dw, db


def relu_forward(x):
    """Forward pass of the rectified linear unit: out = max(0, x), elementwise.

    Input:
    - x: array of any shape

    Returns a tuple:
    - out: same shape as x
    - cache: x, kept for the backward pass
    """
    out = np.maximum(x, 0)
    cache = x
    return out, cache


def relu_backward(dout, cache):
    """Backward pass of the ReLU: the upstream gradient flows only where the input was positive.

    Input:
    - dout: upstream derivative, any shape
    - cache: the input x from relu_forward, same shape as dout

    Returns:
    - dx: gradient with respect to x, same shape as dout
    """
    x = cache
    dx = dout * (x > 0)
    return dx


def softmax_loss(x, y):
    """Mean cross-entropy loss of a softmax classifier, and its gradient.

    Inputs:
    - x: class scores, shape (N, C); x[i, j] is the score of class j for example i
    - y: integer labels, shape (N,), with 0 <= y[i] < C

    Returns a tuple:
    - loss: a scalar, the mean over examples of -log(softmax(x[i])[y[i]])
    - dx: gradient of the loss with respect to x, shape (N, C)
    """
    # Subtracting each row's maximum leaves the softmax unchanged and keeps exp() finite.
    shifted = x - x.max(axis=1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(axis=1, keepdims=True))
    n = x.shape[0]
    loss = -log_probs[np.arange(n), y].mean()
    dx = np.exp(log_probs)
    dx[np.arange(n), y] -= 1
    dx /= n
    return loss, dx


def svm_loss(x, y):
    """Mean multiclass SVM (hinge) loss with margin 1, and its gradient.

    Inputs:
    - x: class scores, shape (N, C)
    - y: integer labels, shape (N,), with 0 <= y[i] < C

    Returns a tuple:
    - loss: a scalar, the mean over examples of sum_{j != y[i]} max(0, x[i, j] - x[i, y[i]] + 1)
    - dx: gradient of the loss with respect to x, shape (N, C)
    """
    n = x.shape[0]
    rows = np.arange(n)
    margins = np.maximum(0, x - x[rows, y][:, None] + 1)
    margins[rows, y] = 0
    loss = margins.sum() / n
    positive = (margins > 0).astype(x.dtype)
    positive[rows, y] = -positive.sum(axis=1)
    dx = positive / n
    return loss, dx


def dropout_forward(x, dropout_param):
    """Forward pass of (inverted) dropout.

    Inputs:
    - x: input, any shape
    - dropout_param: dict with
      - p: probability of KEEPING each unit (CS231n's convention), 0 < p <= 1
      - mode: "train" drops units; "test" passes x through unchanged
      - seed (optional): seeds np.random first, for repeatable checks
      - rng (optional): an np.random.Generator to draw the mask from

    Returns a tuple:
    - out: same shape and dtype as x
    - cache: (dropout_param, mask); mask is None in test mode
    """
    p, mode = dropout_param["p"], dropout_param["mode"]
    if mode == "test":
        return x, (dropout_param, None)
    if "seed" in dropout_param:
        np.random.seed(dropout_param["seed"])
    rng = dropout_param.get("rng", np.random)
    # Kept units are scaled by 1/p now, so that test time needs no rescaling.
    # astype(x.dtype) before dividing by a Python float keeps float32 float32.
    mask = (rng.random(x.shape) < p).astype(x.dtype) / float(p)
    out = x * mask
    return out, (dropout_param, mask)


def dropout_backward(dout, cache):
    """Backward pass of dropout: the gradient flows through the kept units, scaled alike.

    Inputs:
    - dout: upstream derivative, same shape as the forward input
    - cache: (dropout_param, mask) from dropout_forward

    Returns:
    - dx: gradient with respect to x, same shape as dout
    """
    dropout_param, mask = cache
    if mask is None:
        return dout
    return dout * mask
