"""What a submission may import is the same in the notebook and in grading: numpy,
scipy and the standard library (fcnet.imports). Code that uses scipy, as Colab allows,
passes grader.check and earns its points in the sandbox; code that uses a package grading
does not offer is refused by grader.check with the reason, as grading would fail it."""
import os

import numpy as np
import pytest

from autograder.points import QUESTION_POINTS
from autograder.sandbox import SandboxUnavailable, open_sandbox
from autograder.worker_runtime import DISPLAY_MODULES
from fcnet.imports import DISPLAY_PACKAGES, foreign_packages
from fcnet.otter_checks import run_public_check
from fcnet.public_checks import checks_for

from autograder_support import grade_folder, notebook, replace_definition, replace_text, \
    write_submission

SCIPY_SOFTMAX = '''
def softmax_loss(x, y):
    from scipy.special import logsumexp, softmax
    n = x.shape[0]
    loss = np.mean(logsumexp(x, axis=1) - x[np.arange(n), y])
    dx = softmax(x, axis=1)
    dx[np.arange(n), y] -= 1
    return loss, dx / n
'''
FOREIGN_SOFTMAX = '''
def softmax_loss(x, y):
    import torch
    return torch.nn.functional.cross_entropy(x, y), None
'''


def _scipy_net():
    """The solution's TwoLayerNet drawing its weights with scipy.stats.norm."""
    nb = notebook("04_two_layer_net")
    for shape in ("input_dim, hidden_dim", "hidden_dim, num_classes"):
        nb = replace_text(nb, f"np.random.randn({shape})",
                          f"__import__('scipy.stats').stats.norm.rvs(size=({shape}))")
    return nb


def _scipy_submission(root):
    return write_submission(root, "scipy", {
        "03_losses": replace_definition(notebook("03_losses"), "softmax_loss", SCIPY_SOFTMAX),
        "04_two_layer_net": _scipy_net()})


def _definition(source, name):
    scope = {"np": np}
    exec(source, scope)
    return scope[name]


def test_scipy_code_passes_the_public_checks():
    softmax_loss = _definition(SCIPY_SOFTMAX, "softmax_loss")
    for check in checks_for("softmax_loss"):
        run_public_check("softmax_loss", check.name, softmax_loss=softmax_loss)


def test_a_package_grading_does_not_offer_is_refused_by_the_public_check():
    softmax_loss = _definition(FOREIGN_SOFTMAX, "softmax_loss")
    assert foreign_packages([softmax_loss]) == ["torch"]
    with pytest.raises(AssertionError, match=r"NOT AVAILABLE WHEN GRADED.*uses torch"):
        run_public_check("softmax_loss", "loss", softmax_loss=softmax_loss)


def test_the_display_modules_are_one_list():
    assert tuple(DISPLAY_MODULES) == tuple(DISPLAY_PACKAGES)


def _assert_scipy_earns_full_points(sandbox, tmp_path):
    _scipy_submission(tmp_path / "subs")
    questions = ("softmax_loss", "two_layer_net")
    points, outcome = grade_folder(tmp_path / "subs", tmp_path / "out", sandbox,
                                   questions=questions, timeout=60)
    assert points["scipy"] == {q: QUESTION_POINTS[q] for q in questions}, \
        {q: [c.message for c in r.checks if c.message]
         for q, r in outcome.grades["scipy"]["results"].items()}


def test_scipy_code_earns_its_points_in_bubblewrap(sandbox, tmp_path):
    _assert_scipy_earns_full_points(sandbox, tmp_path)


def test_scipy_code_earns_its_points_in_the_unprivileged_user_fallback(tmp_path):
    if os.geteuid() != 0:
        with pytest.raises(SandboxUnavailable, match="needs root"):
            open_sandbox("unprivileged-user")
        return
    sandbox = open_sandbox("unprivileged-user")
    try:
        _assert_scipy_earns_full_points(sandbox, tmp_path)
    finally:
        sandbox.close()


def test_the_students_page_states_the_rule():
    from pathlib import Path

    text = " ".join((Path(__file__).resolve().parents[1] / "book" / "for_students.md")
                    .read_text().split())
    assert "Your code may import Python's standard library, `numpy` and `scipy`." in text
    assert "not available when graded" in text
    from fcnet.imports import refusal
    assert "NOT AVAILABLE WHEN GRADED" in refusal("q", ["torch"])
    assert {"numpy", "scipy"} <= set(__import__("fcnet.imports").imports.GRADING_PACKAGES)
