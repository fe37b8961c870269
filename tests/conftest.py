"""Shared fixtures for the test suite, and the rule that CI never skips what matters.

A test that needs bubblewrap, chromium or the real CIFAR-10 calls `require(resource, why)`.
On a developer's machine without the resource that skips, with the reason. CI sets
FCNET_REQUIRE_<RESOURCE>=1 (see .ci/run), which turns the same skip into a failure, and
FCNET_NO_SKIPS=1, which turns every other skip into a failure too: in CI every test runs.
"""
import os
from pathlib import Path

# One BLAS thread for this process and every process it starts (kernels, graders, builds),
# set before anything imports numpy. OpenBLAS threads spin while they wait for each other:
# on two cores shared with the grading workers, or with anything else, that made training
# in the test process several times slower (tests/test_best_model_recipe.py:
# 183 s with the default threads, 32 s with one, on a busy 2-core machine). A value
# already set in the environment wins.
for _variable in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_variable, "1")

import pytest  # noqa: E402  (after the environment above, like everything below)

from ci_rules import require  # noqa: E402

REPO_ROOT = Path(__file__).resolve().parents[1]

# The offline copy of CIFAR-10 next to the repository (see ../shared/data/README.md).
SHARED_CIFAR10_ARCHIVE = REPO_ROOT.parent / "shared" / "data" / "cifar-10-python.tar.gz"
SHARED_CIFAR10_MD5 = "f6a5bb329491051f72ffb4c31a1b03bf"

@pytest.hookimpl(hookwrapper=True)
def pytest_runtest_makereport(item, call):
    """With FCNET_NO_SKIPS=1 (CI) a skipped test is reported as failed, with its reason."""
    outcome = yield
    report = outcome.get_result()
    if report.skipped and os.environ.get("FCNET_NO_SKIPS") == "1" and \
            not hasattr(report, "wasxfail"):
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else report.longrepr
        report.outcome = "failed"
        report.longrepr = f"skipped, and FCNET_NO_SKIPS=1 forbids skips: {reason}"


@pytest.fixture
def cifar10_archive(monkeypatch):
    """Point fcnet's loader at a real CIFAR-10 archive; skip the test when there is none.

    CIFAR10_ARCHIVE / CIFAR10_MD5 already set in the environment win; otherwise the
    offline copy at ../shared/data/cifar-10-python.tar.gz is used. Returns the source.
    """
    source = os.environ.get("CIFAR10_ARCHIVE")
    if source:
        if "://" not in source and not Path(source).is_file():
            require("cifar", f"CIFAR10_ARCHIVE={source} does not exist")
        return source
    if not SHARED_CIFAR10_ARCHIVE.is_file():
        require("cifar", f"no CIFAR-10 archive: {SHARED_CIFAR10_ARCHIVE} is absent and "
                "CIFAR10_ARCHIVE (with CIFAR10_MD5) is not set")
    monkeypatch.setenv("CIFAR10_ARCHIVE", str(SHARED_CIFAR10_ARCHIVE))
    monkeypatch.setenv("CIFAR10_MD5", SHARED_CIFAR10_MD5)
    return str(SHARED_CIFAR10_ARCHIVE)


@pytest.fixture(scope="module")
def cifar():
    """The same as `cifar10_archive`, once for a whole module (for costly module fixtures)."""
    with pytest.MonkeyPatch.context() as mp:
        if not os.environ.get("CIFAR10_ARCHIVE"):
            if not SHARED_CIFAR10_ARCHIVE.is_file():
                require("cifar", f"no CIFAR-10 archive: {SHARED_CIFAR10_ARCHIVE} is absent "
                        "and CIFAR10_ARCHIVE is not set")
            mp.setenv("CIFAR10_ARCHIVE", str(SHARED_CIFAR10_ARCHIVE))
            mp.setenv("CIFAR10_MD5", SHARED_CIFAR10_MD5)
        yield


@pytest.fixture(scope="module")
def sandbox():
    """A bubblewrap sandbox shared by a module's tests: skipped without bubblewrap on a
    developer's machine, a failure in CI (FCNET_REQUIRE_SANDBOX=1)."""
    from autograder.sandbox import SandboxUnavailable, open_sandbox

    try:
        found = open_sandbox("bubblewrap")
    except SandboxUnavailable as err:
        require("sandbox", f"bubblewrap is not usable: {err}")
    yield found
    found.close()


def pytest_collection_modifyitems(items):
    """A test that asks for CIFAR-10 (the `cifar` or `cifar10_archive` fixture) carries the
    `cifar` marker, and one that grades in the bubblewrap sandbox (the `sandbox` fixture)
    the `sandbox` marker, declared or not, so that `make test-fast` leaves them out."""
    for item in items:
        fixtures = set(getattr(item, "fixturenames", ()))
        if {"cifar", "cifar10_archive"} & fixtures:
            item.add_marker(pytest.mark.cifar)
        if "sandbox" in fixtures:
            item.add_marker(pytest.mark.sandbox)
