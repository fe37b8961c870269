"""Red-team findings on the otter and nbgrader routes (and the layouts python -m
autograder shares with them): each test replays an attack that once worked and asserts
the safe behaviour. The attacks were first built as a hostile student would, against the
real commands (`nbgrader autograde`, `python -m autograder.otter_bridge run`).
"""
import csv
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder import lms_bridge
from autograder.points import QUESTION_POINTS

from autograder_support import REPO, SOLUTIONS, grade_folder, write_submission
from ci_rules import require

BIN = Path(sys.executable).parent
COURSE = REPO / "autograder" / "dist" / "nbgrader"
ASSIGNMENT = "two_layer_net"


def _link_zip(path, target):
    """A student's zip whose only entry is a symbolic link named like the assignment."""
    info = zipfile.ZipInfo(ASSIGNMENT)
    info.create_system = 3  # unix: unzip restores the link
    info.external_attr = 0o120777 << 16
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr(info, target)
    return path


def _unzip(archive, folder):
    """What the README tells instructors to do: unzip -d submitted/<student> the zip."""
    folder.mkdir(parents=True, exist_ok=True)
    run = subprocess.run(["unzip", "-q", "-d", str(folder), str(archive)],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (folder / ASSIGNMENT).is_symlink()


# ----------------------------------------------------------------------------------------
# 1. nbgrader: a zip whose only entry is the link `two_layer_net -> ../../source/...`
#    (the solution notebooks) or `-> ../bob/two_layer_net` (a classmate's) was graded as
#    the student's own work: 90 / 100, or the classmate's points.

LINKS = {"mallory_source": "../../source/two_layer_net", "mallory_bob": "../bob/two_layer_net"}


@pytest.mark.slow
@pytest.mark.cifar
def test_nbgrader_autograde_never_grades_through_a_link(cifar, tmp_path):
    if shutil.which("unzip") is None:
        pytest.skip("unzip is not installed")
    if not (COURSE / "source" / ASSIGNMENT).is_dir():
        pytest.skip("the nbgrader course is not built (python -m course_build nbgrader-course)")
    root = tmp_path / "course"
    shutil.copytree(COURSE, root)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FCNET_GRADING_TIMEOUT": "30"}

    def nbgrader(*args):
        run = subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, env=env,
                             capture_output=True, text=True, timeout=1800)
        assert run.returncode == 0, (run.stdout + run.stderr)[-4000:]
        return run.stdout + run.stderr

    nbgrader("generate_assignment", ASSIGNMENT)
    shutil.copytree(SOLUTIONS, root / "submitted" / "bob" / ASSIGNMENT)
    for student, target in LINKS.items():
        _unzip(_link_zip(tmp_path / f"{student}.zip", target), root / "submitted" / student)
    log = nbgrader("autograde", ASSIGNMENT, "--create")
    nbgrader("export")
    with open(root / "grades.csv", newline="") as f:
        scores = {row["student_id"]: float(row["score"]) for row in csv.DictReader(f)}
    assert scores["bob"] >= 80, scores  # the control: the solution without a model
    for student in LINKS:
        assert scores[student] == 0, f"{student} got {scores[student]} through a link"
        graded = nbformat.read(root / "autograded" / student / ASSIGNMENT /
                               "01_affine_layer.ipynb", as_version=4)
        text = "".join(o.get("text", "") for c in graded.cells if c.cell_type == "code"
                       for o in c.get("outputs", []))
        assert "is a symbolic link" in text and "never followed" in text, text[:2000]
    assert "mallory_bob: not graded" in log


def test_python_m_autograder_gives_a_linked_nbgrader_submission_a_row(sandbox, tmp_path):
    """The same course folder through python -m autograder: every student a row; the
    linked ones zero with a note, never the linked work's points."""
    from autograder_support import notebook

    course = tmp_path / "course"
    (course / "source").mkdir(parents=True)
    bob = course / "submitted" / "bob" / ASSIGNMENT
    bob.mkdir(parents=True)
    nbformat.write(notebook("01_affine_layer"), bob / "01_affine_layer.ipynb")
    _unzip(_link_zip(tmp_path / "m.zip", "../bob/two_layer_net"),
           course / "submitted" / "mallory")
    (course / "submitted" / "trudy").symlink_to("bob")  # a linked student folder
    points, outcome = grade_folder(course, tmp_path / "out", sandbox,
                                   questions=("affine_forward",), workers=1)
    assert points == {"bob": {"affine_forward": 10}, "mallory": {"affine_forward": 0},
                      "trudy": {"affine_forward": 0}}
    for student in ("mallory", "trudy"):
        feedback = (tmp_path / "out" / "feedback" / f"{student}.md").read_text()
        assert "symbolic link" in feedback and "never" in feedback


@pytest.mark.parametrize("layout", ["assignment", "student", "inside"])
def test_the_nbgrader_bridge_refuses_a_linked_submitted_folder(tmp_path, layout):
    from autograder.nbgrader_bridge import submitted_folder

    root = tmp_path / "course"
    (root / "source" / ASSIGNMENT).mkdir(parents=True)
    (root / "submitted" / "bob" / ASSIGNMENT).mkdir(parents=True)
    path = root / "submitted" / "mallory" / ASSIGNMENT
    if layout == "assignment":
        path.parent.mkdir(parents=True)
        path.symlink_to("../../source/two_layer_net")
    elif layout == "student":
        path.parent.symlink_to("bob")
    else:  # a real folder: graded, resolved inside submitted/
        path.mkdir(parents=True)
    folder, refusal = submitted_folder(root, path)
    if layout == "inside":
        assert (folder, refusal) == (str(path.resolve()), None)
        return
    assert folder == str(path) and "symbolic link" in refusal
    graded = lms_bridge.refused_submission("mallory", refusal)
    assert lms_bridge.total(graded) == 0 and graded["notes"] == [refusal]
    assert set(graded["results"]) == set(QUESTION_POINTS)
