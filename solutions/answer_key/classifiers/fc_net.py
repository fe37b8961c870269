"""A two-layer fully connected classifier built from the modular layers."""
import numpy as np

from ..layer_utils import affine_relu_backward, affine_relu_forward
from ..layers import affine_backward, affine_forward, softmax_loss


class TwoLayerNet:
    """A two-layer fully connected network: affine - relu - affine - softmax.

    Inputs have dimension D, the hidden layer has H units and there are C classes.
    The network owns no training loop: a Solver calls `loss` and updates `params`.

    Learnable parameters live in the dictionary self.params:
    - W1: first-layer weights, shape (D, H);  b1: first-layer biases, shape (H,)
    - W2: second-layer weights, shape (H, C); b2: second-layer biases, shape (C,)
    """

    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float64):
        """Initialise the weights and biases.

        Inputs:
        - input_dim: D, the size of one flattened input
        - hidden_dim: H, the number of hidden units
        - num_classes: C, the number of classes
        - weight_scale: standard deviation of the normal distribution the weights are
          drawn from; biases start at zero
        - reg: strength of the L2 penalty 0.5 * reg * (sum(W1**2) + sum(W2**2))
        - dtype: numpy dtype of every parameter (float64 for gradient checks,
          float32 for faster training)
        """
        self.params = {}
        self.reg = reg
        # BEGIN SOLUTION
        self.params["W1"] = (weight_scale * np.random.randn(input_dim, hidden_dim)).astype(dtype)
        self.params["b1"] = np.zeros(hidden_dim, dtype=dtype)
        self.params["W2"] = (weight_scale * np.random.randn(hidden_dim, num_classes)).astype(dtype)
        self.params["b2"] = np.zeros(num_classes, dtype=dtype)
        # END SOLUTION

    def loss(self, X, y=None):
        """Compute class scores, or the loss and its gradients.

        Inputs:
        - X: input data, shape (N, d_1, ..., d_k) with d_1 * ... * d_k = D
        - y: integer labels, shape (N,), or None

        Returns:
        - If y is None (test time): scores, shape (N, C), where scores[i, c] is the
          score of class c for X[i].
        - Otherwise (training time) a tuple (loss, grads):
          - loss: scalar, data loss plus L2 regularisation
          - grads: dict with the same keys as self.params; grads[k] is the gradient
            of the loss with respect to self.params[k] and has its shape
        """
        # BEGIN SOLUTION
        W1, b1 = self.params["W1"], self.params["b1"]
        W2, b2 = self.params["W2"], self.params["b2"]
        hidden, hidden_cache = affine_relu_forward(X, W1, b1)
        scores, scores_cache = affine_forward(hidden, W2, b2)
        if y is None:
            return scores

        loss, dscores = softmax_loss(scores, y)
        loss += 0.5 * self.reg * (np.sum(W1 * W1) + np.sum(W2 * W2))

        grads = {}
        dhidden, grads["W2"], grads["b2"] = affine_backward(dscores, scores_cache)
        _, grads["W1"], grads["b1"] = affine_relu_backward(dhidden, hidden_cache)
        # The penalty's gradient: W reaches the loss through the scores and the penalty.
        grads["W1"] += self.reg * W1
        grads["W2"] += self.reg * W2
        return loss, grads
        # END SOLUTION
