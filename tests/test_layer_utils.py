"""fcnet.layer_utils wires the layers it is given; tested with layers written here."""
import numpy as np

from fcnet.gradient_check import eval_numerical_gradient_array, rel_error
from fcnet.layer_utils import make_affine_relu


def affine_forward(x, w, b):
    out = x.reshape(len(x), -1) @ w + b
    return out, (x, w)


def affine_backward(dout, cache):
    x, w = cache
    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, dout.sum(axis=0)


def relu_forward(x):
    return np.maximum(x, 0), x


def relu_backward(dout, cache):
    return dout * (cache > 0)


def test_forward_is_relu_of_affine_and_backward_matches_numeric_gradients():
    forward, backward = make_affine_relu(affine_forward, affine_backward,
                                         relu_forward, relu_backward)
    rng = np.random.default_rng(231)
    x = rng.standard_normal((2, 3, 4))
    w = rng.standard_normal((12, 10))
    b = rng.standard_normal(10)
    dout = rng.standard_normal((2, 10))

    out, cache = forward(x, w, b)
    dx, dw, db = backward(dout, cache)

    np.testing.assert_allclose(out, np.maximum(x.reshape(2, 12) @ w + b, 0))
    assert dx.shape == x.shape and dw.shape == w.shape and db.shape == b.shape
    numeric = eval_numerical_gradient_array
    assert rel_error(dx, numeric(lambda v: forward(v, w, b)[0], x, dout)) < 1e-8
    assert rel_error(dw, numeric(lambda v: forward(x, v, b)[0], w, dout)) < 1e-8
    assert rel_error(db, numeric(lambda v: forward(x, w, v)[0], b, dout)) < 1e-8


def test_uses_exactly_the_layers_it_was_given():
    calls = []

    def spy(name, fn):
        def wrapped(*args):
            calls.append(name)
            return fn(*args)
        return wrapped

    forward, backward = make_affine_relu(
        spy("affine_forward", affine_forward), spy("affine_backward", affine_backward),
        spy("relu_forward", relu_forward), spy("relu_backward", relu_backward))
    x, w, b = np.ones((1, 2)), np.ones((2, 3)), np.zeros(3)
    _, cache = forward(x, w, b)
    backward(np.ones((1, 3)), cache)
    assert calls == ["affine_forward", "relu_forward", "relu_backward", "affine_backward"]


def test_returned_functions_have_their_own_names_and_docstrings():
    forward, backward = make_affine_relu(affine_forward, affine_backward,
                                         relu_forward, relu_backward)
    assert forward.__name__ == "affine_relu_forward"
    assert backward.__name__ == "affine_relu_backward"
    assert "(N, M)" in forward.__doc__ and "(D, M)" in backward.__doc__
