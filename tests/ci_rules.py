"""Skip for lack of a resource on a developer's machine; fail for it in CI.

CI (.ci/run) sets FCNET_REQUIRE_SANDBOX=1, FCNET_REQUIRE_BROWSER=1 and FCNET_REQUIRE_CIFAR=1,
so a test that needs bubblewrap, chromium or the real CIFAR-10 fails there instead of skipping.
"""
import os

import pytest

RESOURCES = ("sandbox", "browser", "cifar")


def required(resource):
    """True when the environment demands `resource` (FCNET_REQUIRE_SANDBOX=1 and so on)."""
    assert resource in RESOURCES, resource
    return os.environ.get(f"FCNET_REQUIRE_{resource.upper()}") == "1"


def require(resource, why):
    """Skip the calling test for lack of `resource`, or fail it where CI demands the resource."""
    if required(resource):
        pytest.fail(f"FCNET_REQUIRE_{resource.upper()}=1 but {why}", pytrace=False)
    pytest.skip(why)
