"""CONTRIBUTING.md's worked example, done for real: it must keep working as the code changes.

The test reads the section "Worked example" of CONTRIBUTING.md, copies the repository
(`git ls-files`) to a temporary folder, applies every ```diff block of the section in
order (with `git apply`), then runs every ```bash block in order there, as a contributor
would, with `python` the venv's and the copy's packages first on the path. Then it checks
that the new question has everything a question has: its public test file (which passes
on the answer key and fails on the stub), its points in the points table and in the otter
test files, a stub and a check cell in the student notebook, a solution and test cell in
the nbgrader course, and a grade from `python -m autograder` (5 of 5 for the solution
notebook; nothing for the stub or for a slope hard-coded to 0.1).

To change the example: make its edits in a clean checkout, paste `git diff -- FILE` of
each file into the section's ```diff blocks (the `diff --git` and `index` lines may go),
and adapt QID, POINTS and the checks below if the question changes.
"""
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from ci_rules import require

# Slow, and it reads the repository as it is before the example: `make test-fast` leaves
# it out, also in the patched copy where it runs.
pytestmark = pytest.mark.slow

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "CONTRIBUTING.md"
SECTION = "## Worked example"
QID, POINTS, CHAPTER = "leaky_relu_forward", 5, "02_relu"
BLOCK = re.compile(r"^```(\w+)\n(.*?)^```$", re.MULTILINE | re.DOTALL)


def example_blocks():
    """[(language, text)] of the fenced blocks of the worked example, in order."""
    text = GUIDE.read_text(encoding="utf-8")
    assert SECTION in text, f"CONTRIBUTING.md has no section {SECTION!r}"
    section = text.split(SECTION, 1)[1].split("\n## ", 1)[0]
    return [(m[1], m[2]) for m in BLOCK.finditer(section)]


def copy_repository(dest):
    files = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True,
                           check=True).stdout.decode().split("\0")
    for rel in filter(None, files):
        source = ROOT / rel
        if source.is_file():  # a tracked file deleted in the working tree is skipped
            (dest / rel).parent.mkdir(parents=True, exist_ok=True)
            shutil.copy2(source, dest / rel)
    # A contributor works in a clone: the copy is a repository of its own, one commit.
    for command in (["init", "-q"], ["add", "-A"],
                    ["-c", "user.name=course", "-c", "user.email=course@example.org",
                     "commit", "-q", "-m", "the course before the example"]):
        subprocess.run(["git", *command], cwd=dest, check=True, capture_output=True)


def environment(copy):
    """`python` is this venv's; the copy's packages shadow the installed ones."""
    env = dict(os.environ)
    env["PATH"] = f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}"
    env["PYTHONPATH"] = os.pathsep.join(str(copy / p) for p in ("exercises", "solutions", "."))
    return env


def run_python(copy, code):
    done = subprocess.run([sys.executable, "-c", code], cwd=copy, env=environment(copy),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


@pytest.fixture(scope="module")
def example(tmp_path_factory):
    """The copy with the example applied and its commands run: (copy, their output)."""
    blocks = example_blocks()
    assert [lang for lang, _ in blocks].count("diff") == 3, "the example lost its patches"
    copy = tmp_path_factory.mktemp("contributing") / "course"
    copy_repository(copy)
    packages = run_python(copy, "import fcnet, answer_key, autograder, course_build\n"
                          "print(fcnet.__file__, answer_key.__file__, autograder.__file__, "
                          "course_build.__file__)")
    assert all(p.startswith(str(copy)) for p in packages.split()), packages
    output = []
    for number, (lang, text) in enumerate(blocks, start=1):
        if lang == "diff":
            done = subprocess.run(["git", "apply", "--verbose", "-"], input=text, cwd=copy,
                                  capture_output=True, text=True)
            assert done.returncode == 0, f"block {number} does not apply:\n{done.stderr}"
        elif lang == "bash":
            done = subprocess.run(["bash", "-euo", "pipefail", "-c", text], cwd=copy,
                                  env=environment(copy), capture_output=True, text=True,
                                  timeout=1800)
            if "bubblewrap" in done.stderr and "not installed" in done.stderr:
                require("sandbox", "python -m autograder needs bubblewrap")
            assert done.returncode == 0, f"block {number} failed:\n{text}\n{done.stderr[-3000:]}"
            output.append(done.stdout)
    return copy, "\n".join(output)


def test_the_example_patches_and_commands_are_all_there():
    langs = [lang for lang, _ in example_blocks()]
    assert langs.count("bash") >= 2 and langs.index("bash") > max(
        i for i, lang in enumerate(langs) if lang == "diff"), langs
    for _, text in example_blocks():
        for old, rel in re.findall(r"^--- (\S+)\n\+\+\+ b/(\S+)", text, re.MULTILINE):
            exists = old != "/dev/null"  # a new file is created, an old one patched
            assert (ROOT / rel).is_file() == exists, f"the example patches {rel}: {old}"


def test_points_table_and_question_registry_hold_the_question(example):
    copy, _ = example
    out = run_python(copy, "import json\n"
                     "from autograder.points import QUESTION_POINTS\n"
                     "from fcnet.chapters import CHAPTERS, QUESTION_IDS\n"
                     "from course_build.otter_bundle import test_files\n"
                     f"print(json.dumps([QUESTION_POINTS[{QID!r}], {QID!r} in CHAPTERS[{CHAPTER!r}],"
                     f" sorted(QUESTION_POINTS) == sorted(QUESTION_IDS), test_files()[{QID!r}]]))")
    points, in_chapter, consistent, otter_tests = json.loads(out)
    assert points == POINTS and in_chapter and consistent
    assert f"({POINTS:g} points)" in otter_tests and "hidden_check(" in otter_tests


def test_public_test_file_passes_the_answer_key_and_fails_the_stub(example):
    copy, _ = example
    path = copy / "exercises" / "fcnet" / "public_tests" / f"{QID}.py"
    assert path.is_file() and "do not edit" in path.read_text()
    out = run_python(copy, "import json\n"
                     "from otter.test_files import ExceptionTestFile\n"
                     "import inspect\n"
                     "import numpy as np\n"
                     "from answer_key.layers import leaky_relu_forward as key\n"
                     "notebook = {'__name__': '__main__', 'np': np}\n"
                     "exec(inspect.getsource(key), notebook)  # as a notebook cell defines it\n"
                     f"test = ExceptionTestFile.from_file({str(path)!r})\n"
                     f"test.run({{{QID!r}: notebook[{QID!r}]}})\n"
                     "good = test.passed_all\n"
                     "def stub(x, slope=0.1):\n    raise NotImplementedError\n"
                     f"test.run({{{QID!r}: stub}})\n"
                     "print(json.dumps([good, test.passed_all]))")
    assert json.loads(out) == [True, False]


def test_notebooks_and_nbgrader_course_ask_the_question(example):
    import nbformat

    copy, _ = example
    student = nbformat.read(copy / "exercises" / f"{CHAPTER}.ipynb", as_version=4)
    code = [c.source for c in student.cells if c.cell_type == "code"]
    stub = next(c for c in code if c.startswith(f"def {QID}("))
    assert "raise NotImplementedError" in stub and "np.where" not in stub
    assert f'grader.check("{QID}")' in code
    solution = (copy / "solutions" / "notebooks" / f"{CHAPTER}.ipynb").read_text()
    assert "np.where(x > 0, x, slope * x)" in solution
    nbgrader = nbformat.read(copy / "autograder" / "dist" / "nbgrader" / "source"
                             / "two_layer_net" / f"{CHAPTER}.ipynb", as_version=4)
    meta = {c.metadata.get("nbgrader", {}).get("grade_id"): c for c in nbgrader.cells}
    assert meta[f"test_{QID}"].metadata["nbgrader"]["points"] == POINTS
    assert "### BEGIN SOLUTION" in meta[f"answer_{QID}"].source


def test_python_m_autograder_grades_the_question(example, tmp_path):
    """The example's own grading command gave the solution 5 of 5; a stub and a slope
    hard-coded to 0.1 earn nothing."""
    copy, output = example
    assert f"alice,{POINTS},{POINTS}" in output.split()
    subs = tmp_path / "subs"
    student = (copy / "exercises" / f"{CHAPTER}.ipynb").read_text()
    (subs / "stub").mkdir(parents=True)
    (subs / "stub" / f"{CHAPTER}.ipynb").write_text(student)
    nb = json.loads(student)
    for cell in nb["cells"]:
        if "".join(cell["source"]).startswith(f"def {QID}("):
            cell["source"] = (f"def {QID}(x, slope=0.1):\n"
                              "    return np.where(x > 0, x, 0.1 * x), (x, slope)\n")
    (subs / "fixed_slope").mkdir()
    (subs / "fixed_slope" / f"{CHAPTER}.ipynb").write_text(json.dumps(nb))
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(subs), "--out",
                           str(tmp_path / "graded"), "--questions", QID, "--no-progress"],
                          cwd=copy, env=environment(copy), capture_output=True, text=True,
                          timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    grades = (tmp_path / "graded" / "grades.csv").read_text().split()
    assert grades[0] == f"student,{QID},total"
    assert sorted(grades[1:]) == ["fixed_slope,0,0", "stub,0,0"]


def test_the_example_touches_three_hand_written_files():
    patched = {m for lang, text in example_blocks() if lang == "diff"
               for m in re.findall(r"^\+\+\+ b/(\S+)", text, re.MULTILINE)}
    assert patched == {"solutions/answer_key/layers.py", "exercises/source/02_relu.py",
                       f"exercises/fcnet/questions/{QID}.py"}, patched


def test_the_fast_suite_passes_on_the_copy(example):
    """The course with the new question passes `make test-fast` (this venv, the copy's
    code): nothing else in the repository needed to change."""
    copy, _ = example
    # The copy's .venv is this one (a link), used as it is: -o venv keeps make from
    # reinstalling it; the copy's packages come first on the path (environment).
    venv = copy / ".venv"
    if not venv.exists():
        venv.symlink_to(Path(sys.executable).parent.parent, target_is_directory=True)
    done = subprocess.run(["make", "-o", "venv", "test-fast",
                           "PYTEST_FLAGS=-q -p no:cacheprovider -x -rf"],
                          cwd=copy, env=environment(copy), capture_output=True, text=True,
                          timeout=3600)
    assert done.returncode == 0, (done.stdout + done.stderr)[-4000:]
