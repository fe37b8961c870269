"""A wheel of the project holds every package and template the grader needs.

The editable install used for development finds any folder; a wheel (what `pip install .`
or the otter image would use) holds only what pyproject.toml lists. So every folder with an
__init__.py below a package root must be listed, and the templates must be package data.
"""
import re
import shutil
import subprocess
import sys
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
    patterns = _config()["package-data"]["autograder.reports.templates"]
    templates = sorted(p.name for p in (ROOT / "autograder" / "reports" / "templates").iterdir())
    assert templates, "autograder/reports/templates is empty"
    folder = ROOT / "autograder" / "reports" / "templates"
    matched = {p.name for pattern in patterns for p in folder.glob(pattern)}
    assert set(templates) <= matched, set(templates) - matched


# What setuptools and the build backend print when pyproject.toml leaves something out or
# is about to change meaning. (pip's own notices about this machine's package index are not
# the project's, so only these are looked for.)
SETUPTOOLS_WARNING = re.compile(r"Warning:|would be ignored|SetuptoolsDeprecation|!!")


def _source_copy(tmp_path):
    """The files a fresh clone has that the build reads (no egg-info, no build/)."""
    copy = tmp_path / "src"
    copy.mkdir()
    for name in ("pyproject.toml", "README.md", "LICENSE", "LICENSE-text", "Makefile"):
        shutil.copyfile(ROOT / name, copy / name)
    for folder in set(_config()["package-dir"].values()):
        shutil.copytree(ROOT / folder, copy / folder,
                        ignore=shutil.ignore_patterns("__pycache__", "dist"))
    return copy


def test_a_clean_build_prints_no_setuptools_warning(tmp_path):
    """`pip install .` of a fresh clone: a wheel with every package, and no warning."""
    copy = _source_copy(tmp_path)
    run = subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "-w",
                          str(tmp_path / "wheel"), str(copy)], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    warnings = [line for line in (run.stdout + run.stderr).splitlines()
                if SETUPTOOLS_WARNING.search(line)]
    assert warnings == [], "\n".join(warnings[:20])
    import zipfile
    (wheel,) = (tmp_path / "wheel").glob("*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert any(n.startswith("autograder/reports/templates/") and n.endswith(".j2") for n in names)
    assert any(n.startswith("fcnet/public_tests/") for n in names)


def test_the_makefiles_editable_install_prints_no_setuptools_warning(tmp_path):
    """The Makefile's own line for the development install, run into a scratch prefix."""
    copy = _source_copy(tmp_path)
    (line,) = [l.strip() for l in (ROOT / "Makefile").read_text().splitlines()
               if "pip install" in l and " -e ." in l]
    env_part, _, command = line.partition(" $(PY) ")
    env = dict(__import__("os").environ)
    for assignment in env_part.split():
        key, _, value = assignment.partition("=")
        env[key] = value.strip('"')
    # --ignore-installed: leave the development install of this venv alone.
    args = [sys.executable, *command.split(), "--ignore-installed",
            "--prefix", str(tmp_path / "prefix")]
    run = subprocess.run(args, cwd=copy, env=env, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    still = subprocess.run([sys.executable, "-c", "import fcnet, answer_key"], cwd=tmp_path)
    assert still.returncode == 0, "the test uninstalled the development install"
    warnings = [line for line in (run.stdout + run.stderr).splitlines()
                if SETUPTOOLS_WARNING.search(line)]
    assert warnings == [], "\n".join(warnings[:20])
