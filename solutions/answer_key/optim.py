"""Update rules. Each takes (w, dw, config) and returns (next_w, config).

- w: current weights, any shape
- dw: gradient of the loss with respect to w, same shape
- config: dict of hyperparameters (and, for stateful rules, their running state)
"""
import numpy as np


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w <- w - learning_rate * dw.

    config:
    - learning_rate: scalar step size (default 1e-2)

    Returns (next_w, config); next_w has the shape of w.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    w -= config["learning_rate"] * dw   # in place: next_w is w itself
    return w, config


def sgd_momentum(w, dw, config=None):
    """SGD with momentum: a velocity v accumulates past steps, v <- mu * v - lr * dw,
    and the weights move by it, w <- w + v. With nesterov=True the weights move by
    mu * v - lr * dw instead (the step the velocity is about to take, plus the gradient).

    config:
    - learning_rate: scalar step size (default 1e-2)
    - momentum: mu in [0, 1), how much velocity survives a step (default 0.9)
    - nesterov: Nesterov's look-ahead form (default False)
    - velocity: array of w's shape and dtype, kept between calls (starts at zero)

    Returns (next_w, config); next_w has the shape of w. Updates w in place.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    config.setdefault("momentum", 0.9)
    config.setdefault("nesterov", False)
    v = config.get("velocity")
    if v is None:
        v = config["velocity"] = np.zeros_like(w)
    lr, mu = float(config["learning_rate"]), float(config["momentum"])
    v *= mu
    v -= lr * dw
    if config["nesterov"]:
        w += mu * v
        w -= lr * dw
    else:
        w += v
    return w, config


def adam(w, dw, config=None):
    """Adam: per-weight step sizes from running averages of the gradient (m) and of its
    square (v), both corrected for starting at zero.

    config:
    - learning_rate: scalar step size (default 1e-3)
    - beta1, beta2: decay rates of the two averages (defaults 0.9 and 0.999)
    - epsilon: keeps the division finite (default 1e-8)
    - m, v: arrays of w's shape and dtype, kept between calls (start at zero)
    - t: number of steps taken so far (starts at 0)

    Returns (next_w, config); next_w has the shape of w. Updates w in place.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)
    config.setdefault("beta1", 0.9)
    config.setdefault("beta2", 0.999)
    config.setdefault("epsilon", 1e-8)
    config.setdefault("t", 0)
    if config.get("m") is None:
        config["m"] = np.zeros_like(w)
    if config.get("v") is None:
        config["v"] = np.zeros_like(w)
    lr, eps = float(config["learning_rate"]), float(config["epsilon"])
    beta1, beta2 = float(config["beta1"]), float(config["beta2"])
    m, v = config["m"], config["v"]
    config["t"] += 1
    t = config["t"]
    m *= beta1
    m += (1 - beta1) * dw
    v *= beta2
    v += (1 - beta2) * (dw * dw)
    m_hat = m / (1 - beta1 ** t)  # undo the pull towards the zero start
    v_hat = v / (1 - beta2 ** t)
    w -= lr * m_hat / (np.sqrt(v_hat) + eps)
    return w, config
