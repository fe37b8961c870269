"""The answer key reproduces every number the seed notebook prints, at the seed's tolerances.

The code below is the seed notebook's own test code with `cs231n` renamed `answer_key`.
"""
import numpy as np
import pytest

from answer_key.classifiers.fc_net import TwoLayerNet
from answer_key.gradient_check import eval_numerical_gradient, eval_numerical_gradient_array
from answer_key.layer_utils import affine_relu_backward, affine_relu_forward
from answer_key.layers import (affine_backward, affine_forward, relu_backward, relu_forward,
                               softmax_loss, svm_loss)


def rel_error(x, y):
    return np.max(np.abs(x - y) / (np.maximum(1e-8, np.abs(x) + np.abs(y))))


def test_affine_forward_matches_seed():
    num_inputs, input_shape, output_dim = 2, (4, 5, 6), 3
    input_size = num_inputs * np.prod(input_shape)
    weight_size = output_dim * np.prod(input_shape)
    x = np.linspace(-0.1, 0.5, num=input_size).reshape(num_inputs, *input_shape)
    w = np.linspace(-0.2, 0.3, num=weight_size).reshape(np.prod(input_shape), output_dim)
    b = np.linspace(-0.3, 0.1, num=output_dim)
    out, _ = affine_forward(x, w, b)
    correct_out = np.array([[1.49834967, 1.70660132, 1.91485297],
                            [3.25553199, 3.5141327, 3.77273342]])
    assert rel_error(out, correct_out) < 1e-8  # the seed prints 9.77e-10


def test_affine_backward_matches_numeric():
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
    assert rel_error(dx_num, dx) < 1e-9
    assert rel_error(dw_num, dw) < 1e-9
    assert rel_error(db_num, db) < 1e-9


def test_relu_forward_matches_seed():
    x = np.linspace(-0.5, 0.5, num=12).reshape(3, 4)
    out, _ = relu_forward(x)
    correct_out = np.array([[0., 0., 0., 0.],
                            [0., 0., 0.04545455, 0.13636364],
                            [0.22727273, 0.31818182, 0.40909091, 0.5]])
    assert rel_error(out, correct_out) < 1e-7  # the seed prints 5.0e-08 (rounded constants)


def test_relu_backward_matches_numeric():
    np.random.seed(231)
    x = np.random.randn(10, 10)
    dout = np.random.randn(*x.shape)
    dx_num = eval_numerical_gradient_array(lambda x: relu_forward(x)[0], x, dout)
    _, cache = relu_forward(x)
    assert rel_error(dx_num, relu_backward(dout, cache)) < 1e-11


def test_affine_relu_sandwich_matches_numeric():
    np.random.seed(231)
    x = np.random.randn(2, 3, 4)
    w = np.random.randn(12, 10)
    b = np.random.randn(10)
    dout = np.random.randn(2, 10)
    _, cache = affine_relu_forward(x, w, b)
    dx, dw, db = affine_relu_backward(dout, cache)
    dx_num = eval_numerical_gradient_array(lambda x: affine_relu_forward(x, w, b)[0], x, dout)
    dw_num = eval_numerical_gradient_array(lambda w: affine_relu_forward(x, w, b)[0], w, dout)
    db_num = eval_numerical_gradient_array(lambda b: affine_relu_forward(x, w, b)[0], b, dout)
    assert rel_error(dx_num, dx) < 1e-9
    assert rel_error(dw_num, dw) < 1e-9
    assert rel_error(db_num, db) < 1e-9


@pytest.mark.parametrize("loss_fn, expected_loss", [(softmax_loss, 2.3025458445007376),
                                                    (svm_loss, None)])
def test_losses_match_seed(loss_fn, expected_loss):
    np.random.seed(231)
    num_classes, num_inputs = 10, 50
    x = 0.001 * np.random.randn(num_inputs, num_classes)
    y = np.random.randint(num_classes, size=num_inputs)
    dx_num = eval_numerical_gradient(lambda x: loss_fn(x, y)[0], x, verbose=False)
    loss, dx = loss_fn(x, y)
    if expected_loss is not None:
        assert abs(loss - expected_loss) < 1e-12
    else:
        assert abs(loss - 9.0) < 0.02  # nine wrong classes, each with a margin of about 1
    assert rel_error(dx_num, dx) < 1e-7  # the seed prints 8.2e-09 for softmax


def test_two_layer_net_matches_seed():
    np.random.seed(231)
    N, D, H, C = 3, 5, 50, 7
    X = np.random.randn(N, D)
    y = np.random.randint(C, size=N)
    std = 1e-3
    model = TwoLayerNet(input_dim=D, hidden_dim=H, num_classes=C, weight_scale=std)
    assert abs(model.params['W1'].std() - std) < std / 10
    assert np.all(model.params['b1'] == 0)
    assert abs(model.params['W2'].std() - std) < std / 10
    assert np.all(model.params['b2'] == 0)

    model.params['W1'] = np.linspace(-0.7, 0.3, num=D * H).reshape(D, H)
    model.params['b1'] = np.linspace(-0.1, 0.9, num=H)
    model.params['W2'] = np.linspace(-0.3, 0.4, num=H * C).reshape(H, C)
    model.params['b2'] = np.linspace(-0.9, 0.1, num=C)
    X = np.linspace(-5.5, 4.5, num=N * D).reshape(D, N).T
    scores = model.loss(X)
    correct_scores = np.asarray(
        [[11.53165108, 12.2917344, 13.05181771, 13.81190102, 14.57198434, 15.33206765, 16.09215096],
         [12.05769098, 12.74614105, 13.43459113, 14.1230412, 14.81149128, 15.49994135, 16.18839143],
         [12.58373087, 13.20054771, 13.81736455, 14.43418138, 15.05099822, 15.66781506, 16.2846319]])
    assert np.abs(scores - correct_scores).sum() < 1e-6

    y = np.asarray([0, 5, 1])
    loss, _ = model.loss(X, y)
    assert abs(loss - 3.4702243556) < 1e-10
    model.reg = 1.0
    loss, _ = model.loss(X, y)
    assert abs(loss - 26.5948426952) < 1e-10

    for reg in [0.0, 0.7]:
        model.reg = reg
        _, grads = model.loss(X, y)
        for name in sorted(grads):
            f = lambda _: model.loss(X, y)[0]  # noqa: E731
            grad_num = eval_numerical_gradient(f, model.params[name], verbose=False)
            assert rel_error(grad_num, grads[name]) < 1e-6, (name, reg)  # seed: <= 2.5e-07
