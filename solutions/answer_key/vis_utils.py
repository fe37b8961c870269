"""Plots: provided code, re-exported from fcnet."""
from fcnet.vis_utils import visualize_grid  # noqa: F401
