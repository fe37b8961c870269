"""A course installed into the system interpreter (as Gradescope's image installs it, with
`pip install` and no virtualenv) puts `answer_key` and `autograder` in a site-packages or
dist-packages folder under /usr or the interpreter's prefix, both of which a worker sees.
Every such folder is covered by an empty one in the worker's view, on both isolations a
route uses as root."""
import os

import pytest

from autograder.sandbox import SandboxUnavailable, open_sandbox
from autograder.sandbox.bwrap import package_folders, python_runtime

from autograder_support import checks_of, grade_folder, notebook, replace_definition, \
    write_submission

LOOK = '''
def affine_forward(x, w, b):
    import glob, os, sys
    roots = {"/usr", "/usr/local", sys.base_prefix, sys.prefix,
             os.path.dirname(os.path.dirname(os.path.dirname(os.__file__)))}
    seen = []
    for root in sorted(roots):
        for pattern in ("lib*/python*/site-packages", "lib*/python*/dist-packages"):
            for folder in glob.glob(os.path.join(root, pattern)):
                try:
                    if os.listdir(folder):
                        seen.append(folder)
                except OSError:
                    pass
    raise NotImplementedError("CHEAT-REPORT packages in " + (",".join(seen) or "nothing"))
'''


def test_the_folders_of_a_system_install_are_found(tmp_path):
    """The layout of `pip install .` into Debian's /usr/local and into a python.org
    interpreter's prefix: both folders holding answer_key are among those hidden."""
    debian = tmp_path / "usr" / "local" / "lib" / "python3.11" / "dist-packages"
    upstream = tmp_path / "opt" / "python" / "lib" / "python3.12" / "site-packages"
    for folder in (debian, upstream):
        (folder / "answer_key").mkdir(parents=True)
        (folder / "answer_key" / "__init__.py").write_text("")
    (tmp_path / "usr" / "local" / "lib" / "python3.11" / "config").mkdir()
    found = package_folders([tmp_path / "usr" / "local", tmp_path / "opt" / "python"])
    assert found == sorted([debian.resolve(), upstream.resolve()])


def test_bubblewrap_hides_every_package_folder_it_would_show():
    """Every package folder under /usr or the interpreter's own paths (which bubblewrap
    binds) is covered; the default roots include the interpreter's prefix."""
    _, paths, hide = python_runtime()
    visible = [f for f in package_folders()
               if str(f).startswith("/usr/") or any(str(f).startswith(f"{p}/") for p in paths)]
    assert sorted(visible) == sorted(hide)


def _packages_seen(sandbox, tmp_path):
    write_submission(tmp_path / "subs", "looker",
                     {"01_affine_layer": replace_definition(notebook("01_affine_layer"),
                                                            "affine_forward", LOOK)})
    _, outcome = grade_folder(tmp_path / "subs", tmp_path / "out", sandbox,
                              questions=("affine_forward",), timeout=20)
    return checks_of(outcome, "looker", "affine_forward")["values_2d"].message


def test_a_bubblewrap_worker_sees_no_installed_package(sandbox, tmp_path):
    message = _packages_seen(sandbox, tmp_path)
    assert "CHEAT-REPORT packages in nothing" in message, message


def test_an_unprivileged_worker_sees_no_installed_package(tmp_path):
    if os.geteuid() != 0:
        with pytest.raises(SandboxUnavailable, match="needs root"):
            open_sandbox("unprivileged-user")
        return
    sandbox = open_sandbox("unprivileged-user")
    try:
        message = _packages_seen(sandbox, tmp_path)
    finally:
        sandbox.close()
    assert "CHEAT-REPORT packages in nothing" in message, message
