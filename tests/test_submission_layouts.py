"""What instructors receive, and the file names students really produce.

Layouts (autograder.layouts, through autograder.submissions.discover): a folder of
submission zips, nbgrader's submitted/<student>/two_layer_net/ tree, and a Gradescope
"Export Submissions" folder (submission_<id>/ folders plus submission_metadata.yml, the
student names read from it), each built here in its real layout.

File names (fcnet.chapter_files's rules, in autograder.submissions): `Copy of ...`, a
second download `(1)`, Jupyter's checkpoints, a renamed file found by the chapter id in
its metadata, several different copies (the newest is graded and the feedback says so).
Fast tests read submissions; the slow ones grade one messy submission with all three
routes (python -m autograder, otter run, nbgrader autograde) and compare the points.
"""
import json
import os
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest

from autograder.points import QUESTION_POINTS
from autograder.submissions import UsageError, discover, read_files
from fcnet.chapters import QUESTION_IDS

REPO = Path(__file__).resolve().parents[1]
SOLUTIONS = REPO / "solutions" / "notebooks"
STUDENT = REPO / "exercises"
BIN = Path(sys.executable).parent
OLD, NEW = 1_700_000_000, 1_700_086_400   # two modification times a day apart


def notebook_bytes(stem, kind="solution", metadata=True):
    nb = nbformat.read((SOLUTIONS if kind == "solution" else STUDENT) / f"{stem}.ipynb",
                       as_version=4)
    if not metadata:
        nb.metadata.pop("fcnet", None)
    return nbformat.writes(nb).encode()


def put(path, data, mtime=None):
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(data)
    if mtime is not None:
        os.utime(path, (mtime, mtime))
    return path


def messy(folder):
    """One student's folder as downloaded from Drive and a laptop, chapters 1 to 4 solved:

    - chapter 1 only as `Copy of 01_affine_layer.ipynb` (Colab's Save a copy);
    - chapter 2 twice: an old unfinished `02_relu.ipynb` and the finished, newer
      `02_relu (1).ipynb` (a second download);
    - chapter 3 solved, with Jupyter's newer unfinished checkpoint next to it;
    - chapter 4 renamed `alice_ch4.ipynb` (found by the chapter id in its metadata).
    """
    put(folder / "Copy of 01_affine_layer.ipynb", notebook_bytes("01_affine_layer"))
    put(folder / "02_relu.ipynb", notebook_bytes("02_relu", "student"), OLD)
    put(folder / "02_relu (1).ipynb", notebook_bytes("02_relu"), NEW)
    put(folder / "03_losses.ipynb", notebook_bytes("03_losses"), OLD)
    put(folder / ".ipynb_checkpoints" / "03_losses-checkpoint.ipynb",
        notebook_bytes("03_losses", "student"), NEW)
    put(folder / "alice_ch4.ipynb", notebook_bytes("04_two_layer_net"))
    return folder


SOLVED = {"affine_forward", "affine_backward", "relu_forward", "relu_backward", "inline_q1",
          "softmax_loss", "svm_loss", "two_layer_net"}


def zip_of(folder, target, prefix="two_layer_net/"):
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.rglob("*")):
            if path.is_file():
                info = zipfile.ZipInfo(prefix + path.relative_to(folder).as_posix(),
                                       date_time=_date_time(path.stat().st_mtime))
                archive.writestr(info, path.read_bytes())
    return target


def _date_time(mtime):
    import time

    return time.localtime(mtime)[:6]


def read(path, student="alice"):
    from autograder.submissions import Submission, chapters_of

    submission = read_files(Submission(student, Path(path)))
    return submission, chapters_of(submission)


# ----------------------------------------------------------------------------- file names

@pytest.mark.parametrize("as_zip", [False, True])
def test_messy_names_are_matched_by_the_rules(tmp_path, as_zip):
    folder = messy(tmp_path / "alice")
    path = zip_of(folder, tmp_path / "alice.zip") if as_zip else folder
    submission, chapters = read(path)
    prefix = "two_layer_net/" if as_zip else ""
    assert submission.used == {
        "01_affine_layer.ipynb": prefix + "Copy of 01_affine_layer.ipynb",
        "02_relu.ipynb": prefix + "02_relu (1).ipynb",
        "03_losses.ipynb": prefix + "03_losses.ipynb",
        "04_two_layer_net.ipynb": prefix + "alice_ch4.ipynb"}
    notes = "\n".join(submission.notes)
    assert f"{prefix}Copy of 01_affine_layer.ipynb was used as chapter 01_affine_layer" in notes
    assert f"{prefix}alice_ch4.ipynb was used as chapter 04_two_layer_net (its notebook " \
           f"metadata names the chapter)" in notes
    assert f"2 different copies of chapter 02_relu were found: used {prefix}02_relu (1).ipynb" \
        in notes and "the latest download" in notes and f"ignored {prefix}02_relu.ipynb" in notes
    assert "checkpoint" not in notes  # a checkpoint next to the real notebook: just ignored
    assert all(not c.error for c in chapters.values())
    assert "raise NotImplementedError" not in chapters["02_relu"].code


def test_grading_decides_by_names_not_times(tmp_path):
    """otter and Gradescope unpack zips without modification times, so every grader
    ignores them: all routes grade the same copy."""
    folder = tmp_path / "ida"
    put(folder / "02_relu (1).ipynb", notebook_bytes("02_relu"), OLD)
    put(folder / "02_relu.ipynb", notebook_bytes("02_relu", "student"), NEW)
    submission, _ = read(folder)
    assert submission.used["02_relu.ipynb"] == "02_relu (1).ipynb"
    put(folder / "02_relu (2).ipynb", notebook_bytes("02_relu", "student"), OLD)
    submission, _ = read(folder)
    assert submission.used["02_relu.ipynb"] == "02_relu (2).ipynb"


def test_only_a_checkpoint_is_not_graded_and_the_feedback_says_why(tmp_path):
    folder = tmp_path / "bob"
    put(folder / ".ipynb_checkpoints" / "01_affine_layer-checkpoint.ipynb",
        notebook_bytes("01_affine_layer"))
    submission, chapters = read(folder)
    assert chapters == {}
    assert any("01_affine_layer-checkpoint.ipynb is a Jupyter checkpoint" in n
               and "never graded" in n for n in submission.notes)


def test_identical_copies_are_one_copy(tmp_path):
    folder = tmp_path / "cara"
    put(folder / "01_affine_layer.ipynb", notebook_bytes("01_affine_layer"), OLD)
    put(folder / "01_affine_layer (1).ipynb", notebook_bytes("01_affine_layer"), NEW)
    submission, _ = read(folder)
    assert submission.used == {"01_affine_layer.ipynb": "01_affine_layer (1).ipynb"}
    assert not [n for n in submission.notes if "different copies" in n]


def test_metadata_beats_the_file_name_and_names_without_metadata_still_work(tmp_path):
    folder = tmp_path / "dan"
    # chapter 2's notebook saved as 01_affine_layer.ipynb is chapter 2
    put(folder / "01_affine_layer.ipynb", notebook_bytes("02_relu"))
    put(folder / "Copy of 03_losses (2).ipynb", notebook_bytes("03_losses", metadata=False))
    put(folder / "dan_ch1.ipynb", notebook_bytes("01_affine_layer", metadata=False))
    submission, _ = read(folder)
    assert submission.used == {"02_relu.ipynb": "01_affine_layer.ipynb",
                               "03_losses.ipynb": "Copy of 03_losses (2).ipynb"}


def test_model_copies_follow_the_same_rules(tmp_path):
    folder = tmp_path / "eve"
    put(folder / "best_model.npz", b"old", OLD)
    put(folder / "best_model (1).npz", b"new", NEW)
    submission, _ = read(folder)
    assert submission.files["best_model.npz"] == b"new"


def test_a_readable_notebook_beats_a_newer_broken_copy(tmp_path):
    folder = tmp_path / "fay"
    put(folder / "01_affine_layer.ipynb", notebook_bytes("01_affine_layer"), OLD)
    put(folder / "01_affine_layer (1).ipynb", b"{ not json", NEW)
    submission, chapters = read(folder)
    assert submission.used["01_affine_layer.ipynb"] == "01_affine_layer.ipynb"
    assert not chapters["01_affine_layer"].error


def test_thousands_of_notebooks_cannot_hide_the_real_ones_or_exhaust_memory(tmp_path):
    # attack: flood the submission with notebooks claiming to be chapter 1 (stubs)
    target = tmp_path / "gus.zip"
    stub = notebook_bytes("01_affine_layer", "student")
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("work/01_affine_layer.ipynb", notebook_bytes("01_affine_layer"))
        for i in range(2000):
            archive.writestr(f"work/junk/a/n{i:04d}.ipynb", stub)
    submission, chapters = read(target)
    assert submission.used["01_affine_layer.ipynb"] == "work/01_affine_layer.ipynb"
    assert any("only the 60 nearest the top" in n for n in submission.notes)
    assert "raise NotImplementedError" not in chapters["01_affine_layer"].code


def test_the_nbgrader_hook_never_writes_through_a_students_link(tmp_path):
    from autograder.routes.nbgrader_route import name_chapters

    folder = tmp_path / "submitted" / "hal" / "two_layer_net"
    put(folder / "Copy of 01_affine_layer.ipynb", notebook_bytes("01_affine_layer"))
    outside = tmp_path / "instructor_file.txt"
    (folder / "01_affine_layer.ipynb").symlink_to(outside)  # dangling link
    notebooks = [str(folder / "Copy of 01_affine_layer.ipynb")]
    name_chapters(notebooks=notebooks)
    assert not outside.exists()
    put(folder / "Copy of 02_relu.ipynb", notebook_bytes("02_relu"))
    name_chapters(notebooks=notebooks)
    assert (folder / "02_relu.ipynb").read_bytes() == notebook_bytes("02_relu")
    assert (folder / "Copy of 02_relu.ipynb").is_file()  # the student's file stays
    assert str(folder / "02_relu.ipynb") in notebooks


# ----------------------------------------------------------------------------- layouts

GRADESCOPE_METADATA = """\
submission_2001:
  :submitters:
  - :name: Alice Adams
    :sid: '1001'
    :email: alice@example.edu
  :created_at: 2026-11-30 14:02:11.123456000 -08:00
  :score: 0.0
  :status: processed
  :results: {}
submission_2002:
  :submitters:
  - :name: Bob Brown
    :sid: '1002'
    :email: bob@example.edu
  - :name: Cara Chen
    :sid: '1003'
    :email: cara@example.edu
  :created_at: 2026-11-30 15:10:00.000000000 -08:00
  :score: 0.0
  :status: processed
submission_2003:
  :submitters:
  - :name: Alice Adams
    :sid: '1099'
    :email: alice.adams@example.edu
  :created_at: 2026-11-30 16:00:00.000000000 -08:00
"""


def gradescope_export(root):
    """An "Export Submissions" folder: what each student uploaded, one folder each."""
    messy(root / "submission_2001")                       # loose files, as dragged in
    (root / "submission_2002").mkdir()
    zip_of(messy(root.parent / "upload"),                 # fcnet.submit()'s zip
           root / "submission_2002" / "two_layer_net_submission.zip")
    put(root / "submission_2003" / "two_layer_net" / "01_affine_layer.ipynb",
        notebook_bytes("01_affine_layer"))
    (root / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    return root


def test_gradescope_export_names_students_from_its_metadata(tmp_path):
    root = gradescope_export(tmp_path / "assignment_123_export")
    found = {s.student: s.path for s in discover(root)}
    assert found == {
        "Alice Adams (1001)": root / "submission_2001",
        "Alice Adams (1099)": root / "submission_2003",
        "Bob Brown (1002) + Cara Chen (1003)": root / "submission_2002" / "two_layer_net_submission.zip"}
    submission, _ = read(found["Bob Brown (1002) + Cara Chen (1003)"])
    assert submission.used["04_two_layer_net.ipynb"] == "two_layer_net/alice_ch4.ipynb"


def test_a_broken_gradescope_metadata_file_is_a_clear_error(tmp_path):
    (tmp_path / "submission_1").mkdir()
    (tmp_path / "submission_metadata.yml").write_text("submission_1: [unclosed\n")
    with pytest.raises(UsageError, match="submission_metadata.yml could not be read"):
        discover(tmp_path)


def nbgrader_course(root):
    """A course folder after `nbgrader collect`: submitted/<student>/two_layer_net/."""
    (root / "source" / "two_layer_net").mkdir(parents=True)
    (root / "nbgrader_config.py").write_text("c = get_config()\n")
    messy(root / "submitted" / "alice" / "two_layer_net")
    put(root / "submitted" / "alice" / "two_layer_net" / "timestamp.txt", b"2026-11-30")
    put(root / "submitted" / "bob" / "two_layer_net" / "01_affine_layer.ipynb",
        notebook_bytes("01_affine_layer"))
    put(root / "submitted" / "bob" / "other_assignment" / "x.ipynb", b"{}")
    return root


@pytest.mark.parametrize("start", ["course", "submitted"])
def test_nbgrader_submitted_tree(tmp_path, start):
    root = nbgrader_course(tmp_path / "course")
    given = root if start == "course" else root / "submitted"
    found = {s.student: s.path for s in discover(given)}
    assert found == {"alice": root / "submitted" / "alice" / "two_layer_net",
                     "bob": root / "submitted" / "bob" / "two_layer_net"}


def test_a_folder_of_submission_zips(tmp_path):
    for student in ("alice", "bob"):
        zip_of(messy(tmp_path / "work" / student), put(tmp_path / "zips" / f"{student}.zip", b""))
    put(tmp_path / "zips" / "notes.txt", b"stray files are not submissions")
    found = {s.student: s.path.name for s in discover(tmp_path / "zips")}
    assert found == {"alice": "alice.zip", "bob": "bob.zip"}


# ----------------------------------------------------------------------------- grading

def _engine(root, out):
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(root), "--out",
                          str(out), "--no-progress"],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    return json.loads((out / "grades.json").read_text())["grades"]


def expected_messy():
    return {q: (QUESTION_POINTS[q] if q in SOLVED else 0) for q in QUESTION_IDS}


@pytest.fixture(scope="module")
def graded(cifar, tmp_path_factory):
    """The messy submission and the layouts, graded by the three routes."""
    work = tmp_path_factory.mktemp("layouts")
    out = {}
    export = gradescope_export(work / "export")
    out["gradescope"] = _engine(export, work / "gradescope_out")
    out["feedback"] = (work / "gradescope_out" / "feedback" /
                       "Alice Adams (1001).md").read_text()
    course = nbgrader_course(work / "course_for_engine")
    out["nbgrader_tree"] = _engine(course, work / "nbgrader_tree_out")
    out["otter"] = _otter_messy(work)
    out["nbgrader"] = _nbgrader_messy(work)
    return out


def _otter_messy(work):
    zipped = zip_of(messy(work / "otter_src"), work / "alice.zip")
    results = work / "otter_out"
    results.mkdir()
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FCNET_GRADING_TIMEOUT": "20"}
    bundle = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
    run = subprocess.run([str(BIN / "otter"), "run", "-a", str(bundle), "-o", str(results),
                          "--no-logo", str(zipped)], env=env, capture_output=True, text=True,
                         timeout=1800)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    data = json.loads((results / "results.json").read_text())
    return {t["name"]: t["score"] for t in data["tests"] if "score" in t}


def _nbgrader_messy(work):
    from nbgrader.api import Gradebook

    root = work / "nbgrader_course"
    shutil.copytree(REPO / "autograder" / "dist" / "nbgrader", root)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FCNET_GRADING_TIMEOUT": "20"}
    for args in (["generate_assignment", "two_layer_net"], None,
                 ["autograde", "two_layer_net", "--create"]):
        if args is None:
            messy(root / "submitted" / "alice" / "two_layer_net")
            continue
        run = subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, env=env,
                             capture_output=True, text=True, timeout=1800)
        assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        submission = gb.find_submission("two_layer_net", "alice")
        return {g.name.removeprefix("test_"): g.score or 0
                for nb in submission.notebooks for g in nb.grades}


@pytest.mark.slow
@pytest.mark.cifar
def test_gradescope_export_is_graded_under_the_students_names(graded):
    grades = graded["gradescope"]
    assert sorted(grades) == ["Alice Adams (1001)", "Alice Adams (1099)",
                              "Bob Brown (1002) + Cara Chen (1003)"]
    for student in ("Alice Adams (1001)", "Bob Brown (1002) + Cara Chen (1003)"):
        assert {q: grades[student][q] for q in QUESTION_IDS} == expected_messy(), student


@pytest.mark.slow
@pytest.mark.cifar
def test_feedback_names_the_copies_used(graded):
    feedback = graded["feedback"].replace("\\", "")  # the Markdown escapes underscores
    assert "Copy of 01_affine_layer.ipynb was used as chapter 01_affine_layer" in feedback
    assert "alice_ch4.ipynb was used as chapter 04_two_layer_net" in feedback
    assert "used 02_relu (1).ipynb" in feedback and "ignored 02_relu.ipynb" in feedback


@pytest.mark.slow
@pytest.mark.cifar
def test_nbgrader_tree_is_graded_by_python_m_autograder(graded):
    grades = graded["nbgrader_tree"]
    assert sorted(grades) == ["alice", "bob"]
    assert {q: grades["alice"][q] for q in QUESTION_IDS} == expected_messy()


@pytest.mark.slow
@pytest.mark.cifar
@pytest.mark.parametrize("route", ["otter", "nbgrader"])
def test_messy_names_get_the_same_points_on_the_other_routes(graded, route):
    points = graded[route]
    assert {q: points.get(q, 0) for q in QUESTION_IDS} == \
        {q: pytest.approx(v, abs=1e-9) for q, v in expected_messy().items()}, points


# ----------------------------------------------------------------------------- the guide

GRADE = [".venv/bin/python", "-m", "autograder", "grade"]


def guide_layout_commands():
    text = (REPO / "docs" / "instructors.md").read_text()
    commands = [line.split("#")[0].split() for line in text.splitlines()
                if line.startswith(" ".join(GRADE) + " ")]
    return [c for c in commands if c[5:] == ["--out", "grades/"]]  # the layouts' short lines


def test_guide_layout_commands_work_as_written(tmp_path):
    """The instructors' guide's lines for an nbgrader course and a Gradescope export, run as
    written (the venv's python is this one; in a home folder made here; one fast question,
    so no CIFAR-10 is needed)."""
    commands = guide_layout_commands()
    assert [c[4] for c in commands] == ["~/fcnet-course/", "gradescope_export/"]
    home = tmp_path / "home"
    nbgrader_course(home / "fcnet-course")
    gradescope_export(home / "gradescope_export")
    for command in commands:
        assert command[:4] == GRADE and \
            command[5:] == ["--out", "grades/"], command
        target = command[4].replace("~/", f"{home}/")
        out = tmp_path / f"grades-{len(list(tmp_path.iterdir()))}"
        run = subprocess.run([sys.executable, "-m", "autograder", "grade", target, "--out",
                              str(out), "--questions", "affine_forward",
                              "--no-progress"], cwd=home, capture_output=True, text=True)
        assert run.returncode == 0, run.stderr[-2000:]
        grades = json.loads((out / "grades.json").read_text())["grades"]
        assert all(g["total"] == QUESTION_POINTS["affine_forward"]
                   for g in grades.values()), grades
        assert len(grades) == (2 if "course" in target else 3)
