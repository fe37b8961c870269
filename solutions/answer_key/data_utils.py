"""CIFAR-10 loading: provided code, re-exported from fcnet."""
from fcnet.data_utils import get_CIFAR10_data, load_CIFAR10  # noqa: F401
