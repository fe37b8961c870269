"""The student release (`_build/student-release/`): what a public repository may hold.

It must hold the exercise notebooks, fcnet with its public tests, pinned requirements, a
pyproject and a README, and nothing else: no answer-key code, no hidden test. And it must
work on its own: every notebook runs from a copy of the release, with a kernel that cannot
import this repository's packages (answer_key, autograder, ...), up to its first stub.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from book_support import ROOT, find_answer_prose, find_fragments, fragments_of
from course_build import student_release
from fcnet.chapters import CHAPTERS

NEEDS_CIFAR = {"05_solver", "06_tuning"}  # their setup cells load CIFAR-10

# A kernel that forgets the development install: this repository is installed in the
# venv in editable mode, which would make answer_key importable from anywhere.
LAUNCHER = """\
import sys
sys.meta_path[:] = [f for f in sys.meta_path
                    if "__editable__" not in getattr(f, "__module__", "")]
sys.path_hooks[:] = [h for h in sys.path_hooks
                     if "__editable__" not in getattr(h, "__module__", "")]
sys.path[:] = [p for p in sys.path if "__editable__" not in p]
from ipykernel import kernelapp
kernelapp.launch_new_instance()
"""

PROBE = """\
import importlib.util, fcnet
print("answer_key importable:", importlib.util.find_spec("answer_key") is not None)
print("autograder importable:", importlib.util.find_spec("autograder") is not None)
print("fcnet from:", fcnet.__file__)
"""


@pytest.fixture(scope="module")
def release(tmp_path_factory):
    """A fresh release, built by the build step, copied to a folder of its own."""
    student_release.build(ROOT, ROOT)
    copy = tmp_path_factory.mktemp("release") / "fcnet-student"
    shutil.copytree(ROOT / student_release.RELEASE_DIR, copy)
    return copy


def files(folder):
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*") if p.is_file())


def test_release_holds_exactly_what_students_need(release):
    listing = files(release)
    expected_top = {"README.md", "requirements.txt", "pyproject.toml", ".gitignore",
                    *student_release.LICENCE_FILES}
    assert {f for f in listing if "/" not in f} == expected_top
    assert {f.split("/")[0] for f in listing if "/" in f} == {"exercises"}
    notebooks = {f for f in listing if f.endswith(".ipynb")}
    assert notebooks == {f"exercises/{stem}.ipynb" for stem in CHAPTERS}
    package = {f for f in listing if f.startswith("exercises/fcnet/")}
    assert "exercises/fcnet/__init__.py" in package
    # Code, and the public cases as data (numbers computed from the answer key, no code).
    assert all(f.endswith(".py") for f in package - {"exercises/fcnet/public_cases.npz"}), \
        package
    assert "exercises/fcnet/public_cases.npz" in package
    from fcnet.questions import QUESTIONS
    assert {f"exercises/fcnet/questions/{qid}.py" for qid in QUESTIONS} <= package
    for test_file in (ROOT / "exercises" / "fcnet" / "public_tests").glob("*.py"):
        assert f"exercises/fcnet/public_tests/{test_file.name}" in package
    assert set(listing) == expected_top | notebooks | package


def test_release_has_no_answer_key_code(release):
    hits = find_fragments(release)
    assert not hits, "answer-key code in the release:\n" + "\n".join(
        f"  {p.relative_to(release)}: {origin}" for p, origin in hits[:20])


def test_release_has_no_answer_in_prose(release):
    """No problem's solution, inline-question key or key's explanation (issue 21)."""
    hits = find_answer_prose(release)
    assert not hits, "an answer in the release:\n" + "\n".join(
        f"  {p.relative_to(release)}: {origin}" for p, origin in hits[:20])


def test_release_has_no_hidden_test(release):
    hidden = fragments_of(sorted(p for pattern in ("*.py", "routes/*.py", "reports/*.py")
                                 for p in (ROOT / "autograder").glob(pattern)))
    assert len(hidden) > 20  # the detector has something to look for
    hits = find_fragments(release, hidden)
    assert not hits, "hidden-test code in the release:\n" + "\n".join(
        f"  {p.relative_to(release)}: {origin}" for p, origin in hits[:20])
    for path in release.rglob("*"):
        if path.is_file() and path.suffix != ".npz":  # the public cases: numbers only
            text = path.read_text(encoding="utf-8")
            assert not re.search(r"^\s*(from|import)\s+(answer_key|autograder)\b", text, re.M), \
                f"{path.relative_to(release)} imports a private package"
            assert "hidden_checks" not in text, path


def test_notebooks_are_the_generated_student_notebooks(release):
    for stem in CHAPTERS:
        shipped = (release / "exercises" / f"{stem}.ipynb").read_bytes()
        assert shipped == (ROOT / "exercises" / f"{stem}.ipynb").read_bytes(), stem


def test_requirements_are_pinned_like_the_repository(release):
    ours = {line.split("==")[0].lower(): line
            for line in (ROOT / "requirements.txt").read_text().splitlines() if "==" in line}
    lines = [line for line in (release / "requirements.txt").read_text().splitlines()
             if line and not line.startswith("#")]
    names = set()
    for line in lines:
        assert re.fullmatch(r"[A-Za-z0-9_.\-]+==[A-Za-z0-9_.+\-]+", line), line
        name = line.split("==")[0].lower()
        assert ours[name] == line, f"{line} differs from the repository's {ours[name]}"
        names.add(name)
    assert {"numpy", "matplotlib", "otter-grader", "ipykernel", "nbformat", "tqdm"} <= names
    assert lines == sorted(lines)


@pytest.mark.slow
def test_pip_installs_fcnet_with_its_public_tests(release, tmp_path):
    """What `pip install git+<student repo>` builds: fcnet and its public tests only."""
    subprocess.run([sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation",
                    "--quiet", "-w", str(tmp_path), str(release)], check=True)
    (wheel,) = tmp_path.glob("fcnet-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    packages = {n.split("/")[0] for n in names if not n.startswith("fcnet-")}
    assert packages == {"fcnet"}
    public = {Path(n).name for n in names if n.startswith("fcnet/public_tests/")}
    assert public == {p.name for p in (ROOT / "exercises/fcnet/public_tests").glob("*.py")}


@pytest.fixture(scope="module")
def release_kernel(tmp_path_factory):
    """A kernelspec `fcnet-release` whose kernel cannot see this repository."""
    home = tmp_path_factory.mktemp("jupyter")
    (home / "launcher.py").write_text(LAUNCHER)
    spec = home / "kernels" / "fcnet-release"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, str(home / "launcher.py"), "-f", "{connection_file}"],
        "display_name": "release only", "language": "python"}))
    return home


def outputs_text(cell):
    return "".join(o.get("text", "") for o in cell.get("outputs", []))


@pytest.mark.slow
@pytest.mark.parametrize("stem", list(CHAPTERS))
def test_notebook_runs_from_the_release_up_to_its_first_stub(stem, release, release_kernel,
                                                             monkeypatch, request):
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError

    if stem in NEEDS_CIFAR:
        request.getfixturevalue("cifar10_archive")  # skips without CIFAR-10
    folder = release / "exercises"
    nb = nbformat.read(folder / f"{stem}.ipynb", as_version=4)
    monkeypatch.setenv("JUPYTER_PATH", str(release_kernel))
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env["MPLBACKEND"] = "Agg"
    client = NotebookClient(nb, kernel_name="fcnet-release", timeout=900,
                            resources={"metadata": {"path": str(folder)}})
    with client.setup_kernel(env=env, cwd=str(folder)):
        probe = nbformat.v4.new_code_cell(PROBE)
        client.execute_cell(probe, 0)
        text = outputs_text(probe)
        assert "answer_key importable: False" in text, text
        assert "autograder importable: False" in text, text
        assert f"fcnet from: {folder / 'fcnet'}" in text, text

        ran, error = 0, None
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            try:
                client.execute_cell(cell, index)
            except CellExecutionError as err:
                error = err
                break
            ran += 1
    assert error is not None, f"{stem}: every cell ran, but the notebook has stubs"
    assert error.ename == "NotImplementedError", \
        f"{stem}: cell {index} failed before the first stub:\n{error}"
    assert ran >= 2, f"{stem}: stopped at code cell {index}, before its setup ran"


def test_the_release_files_say_they_are_generated_and_from_where(release):
    """Pushed to the public repository, each file still tells staff where to edit it."""
    for name in ("README.md", "requirements.txt", "pyproject.toml", ".gitignore"):
        first = (release / name).read_text(encoding="utf-8").splitlines()[0]
        assert student_release.BANNER in first and "course_build/student_release.py" in first, name


def test_the_readme_says_how_to_hand_in(release):
    """Students read the release's README first: it names the one call that hands in."""
    readme = (release / "README.md").read_text(encoding="utf-8")
    from fcnet import handin
    assert "fcnet.submit()" in readme and handin.SUBMISSION_ZIP in readme
