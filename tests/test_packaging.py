"""A wheel of the project holds every package and template the grader needs.

The editable install used for development finds any folder; a wheel (what `pip install .`
or the otter image would use) holds only what pyproject.toml lists. So every folder with an
__init__.py below a package root must be listed, and the templates must be package data.
"""
from pathlib import Path

import pytest

tomllib = pytest.importorskip("tomllib")  # Python 3.11+

ROOT = Path(__file__).resolve().parents[1]


def _config():
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]


def test_every_subpackage_is_listed():
    config = _config()
    listed = set(config["packages"])
    for name, folder in config["package-dir"].items():
        for init in sorted((ROOT / folder).rglob("__init__.py")):
            relative = init.parent.relative_to(ROOT / folder)
            dotted = ".".join((name, *relative.parts))
            assert dotted in listed, f"{dotted} is missing from pyproject's packages"


def test_the_templates_are_package_data():
    patterns = _config()["package-data"]["autograder"]
    templates = sorted(p.name for p in (ROOT / "autograder" / "templates").iterdir())
    assert templates, "autograder/templates is empty"
    matched = {p.name for pattern in patterns for p in (ROOT / "autograder").glob(pattern)}
    assert set(templates) <= matched, set(templates) - matched
