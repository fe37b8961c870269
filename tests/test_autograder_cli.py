"""python -m autograder grade: the command line, its outputs, zips, misuse, determinism."""
import csv
import json
import os
import subprocess
import sys
import zipfile

import nbformat
import pytest

from fcnet.chapters import CHAPTERS

from autograder_support import REPO, notebook, write_submission
from ci_rules import require

pytestmark = pytest.mark.slow  # many sandboxes: about a minute

QUESTIONS = ("affine_forward", "relu_forward", "inline_q1")


def run(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd or REPO, timeout=600)


def _zip(path, members):
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in members.items():
            archive.writestr(name, data)


@pytest.fixture(scope="module")
def submissions(tmp_path_factory):
    root = tmp_path_factory.mktemp("subs")
    write_submission(root, "folder_solution")
    write_submission(root, "untouched", kind="student")
    zipped = {f"my work/{stem}.ipynb": nbformat.writes(notebook(stem))
              for stem in ("01_affine_layer", "02_relu")}
    zipped["../../01_affine_layer.ipynb"] = "escapes"      # traversal: ignored
    zipped["/etc/02_relu.ipynb"] = "absolute"                # absolute: ignored
    zipped["06_tuning.ipynb"] = "\0" * (21 * 2 ** 20)         # too large once unpacked
    _zip(root / "zip_solution.zip", zipped)
    (root / "not_a_zip.zip").write_bytes(b"this is not a zip file")
    linked = write_submission(root, "symlinks", {stem: None for stem in CHAPTERS})
    (linked / "01_affine_layer.ipynb").symlink_to(REPO / "solutions" / "notebooks" /
                                                  "01_affine_layer.ipynb")
    (root / "stray_file.txt").write_text("not a submission")
    return root


@pytest.fixture(scope="module")
def graded(submissions, tmp_path_factory):
    from autograder.sandbox import SandboxUnavailable, open_sandbox

    try:
        open_sandbox("bubblewrap").close()
    except SandboxUnavailable as err:
        require("sandbox", f"the grader needs bubblewrap by default: {err}")
    out = tmp_path_factory.mktemp("out")
    done = run("grade", submissions, "--out", out, "--questions", ",".join(QUESTIONS),
               "--timeout", "30")
    return done, out


def test_the_first_line_names_the_isolation_and_the_caps(graded):
    done, _ = graded
    assert done.returncode == 0, done.stderr
    first = done.stdout.splitlines()[0]
    assert first.startswith("isolation: bubblewrap: bubblewrap "), first
    caps = first.split("; caps: ")[1]
    for words in ("memory", "per sandbox", "/tmp 64 MB", "address space", "processes",
                  "prints", "result frame"):
        assert words in caps, words
    if _cgroup_memory_works():
        assert "(cgroup v" in caps
    else:
        assert "no per-sandbox memory cgroup (" in caps


def _cgroup_memory_works():
    from autograder.sandbox.confine import MemoryCap

    return MemoryCap(2 ** 30).works


def test_it_shows_progress(graded):
    done, _ = graded
    assert "Grading" in done.stderr


def test_grades_csv_has_a_row_per_submission(graded):
    _, out = graded
    rows = list(csv.reader((out / "grades.csv").open()))
    assert rows[0] == ["student", *QUESTIONS, "total"]
    students = {row[0]: row[1:] for row in rows[1:]}
    assert set(students) == {"folder_solution", "untouched", "zip_solution", "not_a_zip",
                             "symlinks"}
    assert students["folder_solution"] == ["10", "5", "5", "20"]
    assert students["zip_solution"] == ["10", "5", "5", "20"]
    assert students["untouched"] == ["0", "0", "0", "0"]
    assert students["not_a_zip"] == ["0", "0", "0", "0"]
    assert students["symlinks"] == ["0", "0", "0", "0"]


def test_grades_json_layout(graded):
    _, out = graded
    document = json.loads((out / "grades.json").read_text())
    assert document["max_points"] == {"affine_forward": 10, "relu_forward": 5, "inline_q1": 5}
    assert document["grades"]["folder_solution"] == {"affine_forward": 10, "relu_forward": 5,
                                                     "inline_q1": 5, "total": 20}


def test_feedback_pages(graded):
    _, out = graded
    for student in ("folder_solution", "untouched", "zip_solution", "not_a_zip", "symlinks"):
        markdown = (out / "feedback" / f"{student}.md").read_text()
        page = (out / "feedback" / f"{student}.html").read_text()
        assert markdown.startswith(f"# Feedback for {student}")
        assert "<html" in page and "affine_forward" in page
    stub = (out / "feedback" / "untouched.md").read_text()
    assert "not answered" in stub
    # Hints are words: nothing of the answer key's code, nothing of the hidden checks.
    key = (REPO / "solutions" / "answer_key" / "layers.py").read_text()
    code_lines = [line.strip() for line in key.splitlines()
                  if line.strip() and not line.strip().startswith(("#", '"', "-", "def"))
                  and "=" in line]
    for line in code_lines:
        assert line not in stub, line
    assert "judge" not in stub and "make_case" not in stub


def test_zip_members_are_read_safely(graded, submissions):
    _, out = graded
    feedback = (out / "feedback" / "zip_solution.md").read_text()
    assert "unsafe path" in feedback
    assert "larger than 20 MB" in feedback
    assert not (submissions.parent / "01_affine_layer.ipynb").exists()
    assert "not a readable zip" in (out / "feedback" / "not_a_zip.md").read_text()


def test_symbolic_links_are_not_followed(graded):
    _, out = graded
    assert "symbolic link" in (out / "feedback" / "symlinks.md").read_text()


def test_re_running_gives_the_same_grades(graded, submissions, tmp_path):
    _, out = graded
    again = run("grade", submissions, "--out", tmp_path / "again", "--questions",
                ",".join(QUESTIONS), "--no-progress")
    assert again.returncode == 0, again.stderr
    assert (tmp_path / "again" / "grades.json").read_text() == (out / "grades.json").read_text()


def test_no_sandbox_is_announced_or_refused_as_root(submissions, tmp_path):
    done = run("grade", submissions, "--out", tmp_path / "o", "--questions", "inline_q1",
               "--no-sandbox", "--no-progress")
    if os.geteuid() == 0:
        assert done.returncode == 2
        lines = done.stderr.strip().splitlines()
        assert len(lines) == 1 and "as root is refused" in lines[0], done.stderr
        assert "apt-get install bubblewrap" in lines[0]
        assert not (tmp_path / "o" / "grades.csv").exists()
    else:
        assert done.returncode == 0, done.stderr
        first = done.stdout.splitlines()[0]
        assert first.startswith("isolation: process: WARNING"), first


def test_without_bubblewrap_it_stops_and_says_how_to_install_it(submissions, tmp_path):
    """No silent weakening: bwrap missing from PATH and no --no-sandbox is exit 2."""
    env = {**os.environ, "PATH": str(tmp_path / "empty")}
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submissions),
                           "--out", str(tmp_path / "o"), "--questions", "inline_q1"],
                          capture_output=True, text=True, cwd=REPO, env=env, timeout=600)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert "bubblewrap (bwrap) is not installed" in lines[0]
    assert "apt-get install bubblewrap" in lines[0] and "--no-sandbox" in lines[0]
    assert done.stdout == "" and not (tmp_path / "o" / "grades.csv").exists()


def test_help_documents_the_interface():
    done = run("grade", "--help")
    assert done.returncode == 0
    for words in ("SUBMISSIONS", "--out", "--workers", "--timeout", "grades.csv",
                  "grades.json", "feedback", ".zip", "best_model.npz", "bubblewrap",
                  "exit status", "Decoupled", "CIFAR10_ARCHIVE", "same grades"):
        assert words in done.stdout, words


@pytest.mark.parametrize("make_args, reason", [
    (lambda tmp: ["grade", tmp / "missing", "--out", tmp / "o"], "does not exist"),
    (lambda tmp: ["grade", tmp, "--out", tmp / "o", "--questions", "nope"], "unknown question"),
    (lambda tmp: ["grade", tmp, "--out", tmp / "inside"], None),
    (lambda tmp: ["grade", tmp, "--out", tmp / "o", "--workers", "0"], "--workers"),
])
def test_misuse_exits_2_with_one_line(tmp_path, make_args, reason):
    subs = tmp_path / "subs"
    subs.mkdir()
    args = make_args(subs)
    if reason is None:  # --out inside SUBMISSIONS
        args = ["grade", subs, "--out", subs / "out"]
        reason = "inside SUBMISSIONS"
    done = run(*args)
    assert done.returncode == 2
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1 and reason in lines[0], done.stderr


def test_two_submissions_for_one_student_is_misuse(tmp_path):
    subs = tmp_path / "subs"
    (subs / "alice").mkdir(parents=True)
    _zip(subs / "alice.zip", {"01_affine_layer.ipynb": "{}"})
    done = run("grade", subs, "--out", tmp_path / "o", "--questions", "inline_q1")
    assert done.returncode == 2
    assert "two submissions for student 'alice'" in done.stderr
    assert len(done.stderr.strip().splitlines()) == 1
