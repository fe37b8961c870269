"""Sandwich layers bound to the reference layers (the combining code itself is provided by fcnet)."""
from fcnet.layer_utils import make_affine_relu

from .layers import affine_backward, affine_forward, relu_backward, relu_forward

affine_relu_forward, affine_relu_backward = make_affine_relu(
    affine_forward, affine_backward, relu_forward, relu_backward)
