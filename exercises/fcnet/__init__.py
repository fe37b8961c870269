"""fcnet: the code a student is given for building fully connected nets in numpy.

Students write the layers, losses, the two-layer net and the update rule in the chapter
notebooks. This package provides everything around them: CIFAR-10 loading, numeric
gradients, the Solver, plots, the sandwich-layer wiring, loading one's own earlier
chapters, and the public checks behind `grader.check(...)`.
"""
from pathlib import Path

__version__ = "0.1.0"

# otter-grader test files for the public checks, shipped inside the package so that one
# `pip install` gives a Colab session everything `grader.check` needs.
PUBLIC_TESTS_DIR = Path(__file__).parent / "public_tests"


def submit(out=None, download=True):
    """Check your six chapters and best_model.npz and write two_layer_net_submission.zip,
    the one file you hand in (see fcnet.handin.submit); on Colab, download it."""
    from .handin import submit as _submit

    return _submit(out=out, download=download)
