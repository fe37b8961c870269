"""fcnet.gradient_check on functions whose gradients are known in closed form."""
import numpy as np
import pytest

from fcnet.gradient_check import (eval_numerical_gradient, eval_numerical_gradient_array,
                                  rel_error)


def test_rel_error_matches_the_seed_definition():
    x = np.array([1.0, 2.0, 0.0])
    y = np.array([1.0, 2.5, 0.0])
    assert rel_error(x, y) == pytest.approx(0.5 / 4.5)
    assert rel_error(x, x) == 0.0
    # Near zero the denominator is floored at 1e-8 instead of dividing by zero.
    assert rel_error(np.array([0.0]), np.array([1e-12])) == pytest.approx(1e-4)


def test_numerical_gradient_of_a_quadratic_form():
    rng = np.random.default_rng(0)
    A = rng.standard_normal((4, 4))
    x = rng.standard_normal((2, 2))  # any shape: flattened into A's space
    f = lambda v: float(v.ravel() @ A @ v.ravel())  # noqa: E731
    x_before = x.copy()

    grad = eval_numerical_gradient(f, x, verbose=False)

    exact = ((A + A.T) @ x.ravel()).reshape(x.shape)
    assert grad.shape == x.shape
    assert rel_error(grad, exact) < 1e-8
    np.testing.assert_array_equal(x, x_before)  # every nudge was undone


def test_numerical_gradient_verbose_prints_each_entry(capsys):
    eval_numerical_gradient(lambda v: float(np.sum(v ** 2)), np.array([1.0, -2.0]))
    lines = capsys.readouterr().out.splitlines()
    assert len(lines) == 2
    assert lines[0].startswith("(0,)") and float(lines[0].split()[-1]) == pytest.approx(2.0)
    assert lines[1].startswith("(1,)") and float(lines[1].split()[-1]) == pytest.approx(-4.0)


def test_step_size_is_used():
    # For f = v**3 the centred difference is 3 v^2 + h^2 exactly: the error shows h.
    grad = eval_numerical_gradient(lambda v: float(v[0] ** 3), np.array([1.0]),
                                   verbose=False, h=1e-2)
    assert grad[0] == pytest.approx(3.0 + 1e-4, rel=1e-9)


def test_numerical_gradient_array_of_a_matrix_product():
    rng = np.random.default_rng(1)
    x = rng.standard_normal((3, 5))
    w = rng.standard_normal((5, 2))
    dout = rng.standard_normal((3, 2))
    x_before, w_before = x.copy(), w.copy()

    dx = eval_numerical_gradient_array(lambda v: v @ w, x, dout)
    dw = eval_numerical_gradient_array(lambda v: x @ v, w, dout)

    assert rel_error(dx, dout @ w.T) < 1e-8
    assert rel_error(dw, x.T @ dout) < 1e-8
    np.testing.assert_array_equal(x, x_before)
    np.testing.assert_array_equal(w, w_before)


def test_numerical_gradient_array_when_f_returns_its_input():
    # f returns x itself, which changes as x is nudged: the values must be copied.
    x = np.array([[1.0, 2.0], [3.0, 4.0]])
    dout = np.array([[1.0, -1.0], [0.5, 2.0]])
    grad = eval_numerical_gradient_array(lambda v: v, x, dout)
    assert rel_error(grad, dout) < 1e-8
