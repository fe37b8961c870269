"""Numeric gradients: provided code, re-exported from fcnet."""
from fcnet.gradient_check import (eval_numerical_gradient, eval_numerical_gradient_array,  # noqa: F401
                                  rel_error)
