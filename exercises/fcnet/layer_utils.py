"""Sandwich layers: common runs of layers bundled into one forward and one backward.

You write the layers; these helpers only wire them together. Build the pair from your
own functions:

    affine_relu_forward, affine_relu_backward = make_affine_relu(
        affine_forward, affine_backward, relu_forward, relu_backward)

The pair keeps the four functions it was built from: after changing one of them,
build the pair again.
"""


def make_affine_relu(affine_forward, affine_backward, relu_forward, relu_backward):
    """Combine an affine layer and a ReLU into affine -> ReLU.

    Inputs, with the (out, cache) API of the layers:
    - affine_forward(x, w, b) -> (out, cache)
    - affine_backward(dout, cache) -> (dx, dw, db)
    - relu_forward(x) -> (out, cache)
    - relu_backward(dout, cache) -> dx

    Returns (affine_relu_forward, affine_relu_backward), documented below.
    """

    def affine_relu_forward(x, w, b):
        """Affine layer followed by a ReLU: out = max(0, x_flat @ w + b).

        Inputs:
        - x: input, shape (N, d_1, ..., d_k), flattened to (N, D), D = d_1 * ... * d_k
        - w: weights, shape (D, M)
        - b: biases, shape (M,)

        Returns a tuple:
        - out: output of the ReLU, shape (N, M)
        - cache: (affine cache, relu cache), for affine_relu_backward
        """
        a, fc_cache = affine_forward(x, w, b)
        out, relu_cache = relu_forward(a)
        return out, (fc_cache, relu_cache)

    def affine_relu_backward(dout, cache):
        """Backward pass of affine_relu_forward.

        Inputs:
        - dout: upstream gradient, shape (N, M)
        - cache: the cache affine_relu_forward returned

        Returns a tuple:
        - dx: gradient with respect to x, shape (N, d_1, ..., d_k)
        - dw: gradient with respect to w, shape (D, M)
        - db: gradient with respect to b, shape (M,)
        """
        fc_cache, relu_cache = cache
        da = relu_backward(dout, relu_cache)
        return affine_backward(da, fc_cache)

    return affine_relu_forward, affine_relu_backward
