"""Update rules. Each takes (w, dw, config) and returns (next_w, config).

- w: current weights, any shape
- dw: gradient of the loss with respect to w, same shape
- config: dict of hyperparameters (and, for stateful rules, their running state)
"""


def sgd(w, dw, config=None):
    """Vanilla stochastic gradient descent: w <- w - learning_rate * dw.

    config:
    - learning_rate: scalar step size (default 1e-2)

    Returns (next_w, config); next_w has the shape of w.
    """
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-2)
    next_w = w - config["learning_rate"] * dw
    return next_w, config
