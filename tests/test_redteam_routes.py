"""Red-team findings on the otter and nbgrader routes (and the layouts python -m
autograder shares with them): each test replays an attack that once worked and asserts
the safe behaviour. The attacks were first built as a hostile student would, against the
real commands (`nbgrader autograde`, `python -m autograder.routes.otter_route run`).
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

from autograder.routes import lms_grading
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
def test_the_nbgrader_route_refuses_a_linked_submitted_folder(tmp_path, layout):
    from autograder.routes.nbgrader_route import submitted_folder

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
    graded = lms_grading.refused_submission("mallory", refusal)
    assert lms_grading.total(graded) == 0 and graded["notes"] == [refusal]
    assert set(graded["results"]) == set(QUESTION_POINTS)


# ----------------------------------------------------------------------------------------
# 2. Without bubblewrap, the routes chose open_sandbox("best") silently: as root the
#    unprivileged-user isolation, whose worker could read the repository's answer key
#    (every chapter importing it got full points), and as any other user the "process"
#    isolation, student code running as the instructor.

# A chapter cell that puts the folders holding answer_key on sys.path, wherever the
# course is installed (found from fcnet's own location), then imports from it.
FIND_KEY = '''
class _FindKey:
    import os as _os, sys as _sys, fcnet as _fcnet
    _root = _os.path.dirname(_os.path.dirname(_os.path.dirname(_os.path.realpath(_fcnet.__file__))))
    for _p in PLACES:
        _sys.path.insert(0, _p)
'''
REPO_PLACES = '(_os.path.join(_root, "solutions"), _root)'
KEY_IMPORTS = {
    "01_affine_layer": "from answer_key.layers import affine_forward, affine_backward",
    "02_relu": "from answer_key.layers import relu_forward, relu_backward\n"
               "from answer_key.inline_questions import inline_q1",
}
KEY_QUESTIONS = ("affine_forward", "relu_forward", "inline_q1")


def _key_importer(root, student, places=REPO_PLACES):
    """A submission whose chapters 1 and 2 import the answer key instead of answering,
    found in `places` (by default the repository fcnet was installed from)."""
    import re

    from autograder_support import notebook

    notebooks = {}
    for stem, line in KEY_IMPORTS.items():
        nb = notebook(stem, "student")
        for cell in nb.cells:  # the empty inline answer would override the import
            if cell.cell_type == "code":
                cell.source = re.sub(r"^inline_q\d = set\(\).*$", "", cell.source, flags=re.M)
        source = FIND_KEY.replace("PLACES", places)
        nb.cells.append(nbformat.v4.new_code_cell(source + line))
        notebooks[stem] = nb
    return write_submission(root, student, {**notebooks, **{s: None for s in (
        "03_losses", "04_two_layer_net", "05_solver", "06_tuning")}})


@pytest.fixture
def no_bubblewrap(monkeypatch):
    """The machine as the routes see it where bubblewrap is not installed."""
    monkeypatch.setenv("PATH", "/nonexistent")
    monkeypatch.delenv("FCNET_NO_SANDBOX", raising=False)
    from autograder.sandbox import SandboxUnavailable, open_sandbox

    with pytest.raises(SandboxUnavailable):
        open_sandbox("bubblewrap")


def test_without_bubblewrap_a_non_root_route_refuses_unless_asked(no_bubblewrap, monkeypatch,
                                                                   tmp_path):
    """Not root: no silent fallback to running student code as the instructor; only
    FCNET_NO_SANDBOX=1 (the routes' --no-sandbox) allows it, with a WARNING line."""
    from autograder.sandbox import SandboxUnavailable

    monkeypatch.setattr(os, "geteuid", lambda: 1000)  # the instructor's own user
    folder = _key_importer(tmp_path, "mallory")
    with pytest.raises(SandboxUnavailable) as refused:
        lms_grading.grade_submission(folder, questions=KEY_QUESTIONS, timeout=20)
    message = str(refused.value)
    assert "apt-get install bubblewrap" in message and "FCNET_NO_SANDBOX=1" in message
    monkeypatch.setenv("FCNET_NO_SANDBOX", "1")
    sandbox = lms_grading.open_route_sandbox()
    try:
        assert sandbox.description.startswith("isolation: process")
        assert "WARNING" in sandbox.description
    finally:
        sandbox.close()


def test_without_bubblewrap_the_answer_key_import_earns_nothing_as_root(no_bubblewrap,
                                                                        tmp_path):
    """Root, no bubblewrap: the worker runs as an unprivileged user. Either the routes
    refuse (the answer key or the grader is readable by every user, as in a fresh clone),
    saying which chmod fixes it, or, where those are private, the import finds nothing."""
    from autograder.sandbox import SandboxUnavailable

    if os.geteuid() != 0:  # the unprivileged-user isolation needs root: the refusal above
        pytest.raises(SandboxUnavailable, lms_grading.open_route_sandbox)
        return
    folder = _key_importer(tmp_path, "mallory")
    try:
        graded = lms_grading.grade_submission(folder, questions=KEY_QUESTIONS, timeout=20)
    except SandboxUnavailable as refused:
        assert "chmod -R go-rwx" in str(refused) and "answer_key" in str(refused)
        return
    assert graded["sandbox"].startswith("isolation: unprivileged-user")
    assert lms_grading.total(graded) == 0, graded["results"]


def _chmod_tree(top, private):
    """chmod -R go-rwx `top` (private), else go+rX."""
    for path in [top, *top.rglob("*")]:
        mode = path.stat().st_mode & 0o7777
        if private:
            os.chmod(path, mode & 0o700)
        else:
            os.chmod(path, mode | 0o044 | (0o011 if path.is_dir() else 0))


@pytest.fixture
def readable_course():
    """A folder every user can reach (pytest's own tmp folders are private to root)."""
    import tempfile

    course = Path(tempfile.mkdtemp(prefix="fcnet-course-"))
    os.chmod(course, 0o755)
    shutil.copytree(REPO / "solutions" / "answer_key", course / "answer_key")
    _chmod_tree(course, private=False)
    yield course
    shutil.rmtree(course, ignore_errors=True)


def test_the_route_grades_as_an_unprivileged_user_only_once_the_course_is_private(
        no_bubblewrap, readable_course, monkeypatch, tmp_path):
    """The check itself, end to end: a course folder holding a copy of the answer key is
    refused while every user can read it; after `chmod -R go-rwx` the route grades, the
    first line says what was checked, and the import finds nothing."""
    from autograder.sandbox import SandboxUnavailable

    if os.geteuid() != 0:
        pytest.raises(SandboxUnavailable, lms_grading.open_route_sandbox, [readable_course])
        return
    # only the course counts here (the repository's own files are the test above's)
    monkeypatch.setattr(lms_grading, "protected_paths", lambda extra=(): list(map(Path, extra)))
    folder = _key_importer(tmp_path, "mallory", places=repr((str(readable_course),)))
    with pytest.raises(SandboxUnavailable, match="chmod -R go-rwx " + str(readable_course)):
        lms_grading.grade_submission(folder, questions=KEY_QUESTIONS, timeout=20,
                                    protected=[readable_course])
    _chmod_tree(readable_course, private=True)  # chmod -R go-rwx
    graded = lms_grading.grade_submission(folder, questions=KEY_QUESTIONS, timeout=20,
                                         protected=[readable_course])
    assert graded["sandbox"].startswith("isolation: unprivileged-user")
    assert "checked: the worker's user cannot read" in graded["sandbox"]
    assert lms_grading.total(graded) == 0, graded["results"]


# ----------------------------------------------------------------------------------------
# 3. `python -m autograder.routes.otter_route run bomb.zip`: a 0.9 MB zip of 3 x 300 MB of
#    zeros was read whole into memory (1.4 GB peak). Staging now reads one file at a time
#    with the engine's caps (autograder.submissions), and refuses an upload over them.

def _zeros_zip(path, members, mb, extra=()):
    """A zip of `members` files of `mb` MB of zeros each (a thousandfold deflate)."""
    chunk = b"\0" * 2 ** 20
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in extra:
            archive.writestr(name, data)
        for i in range(members):
            with archive.open(f"junk{i}.bin", "w", force_zip64=True) as member:
                for _ in range(mb):
                    member.write(chunk)
    return path


def test_staging_leaves_out_a_file_over_the_engines_cap(tmp_path):
    from autograder.routes import otter_route
    from autograder.submissions import MAX_NOTEBOOK_BYTES

    notebook = (SOLUTIONS / "01_affine_layer.ipynb").read_bytes()
    bomb = _zeros_zip(tmp_path / "bomb.zip", 2, MAX_NOTEBOOK_BYTES // 2 ** 20 + 1,
                      extra=[("two_layer_net/01_affine_layer.ipynb", notebook)])
    assert bomb.stat().st_size < 2 ** 20
    report = otter_route.stage_upload(bomb, tmp_path / "staged.zip")
    staged = zipfile.ZipFile(tmp_path / "staged.zip")
    assert sorted(staged.namelist()) == [otter_route.UPLOAD_REPORT,
                                         "upload/two_layer_net/01_affine_layer.ipynb"]
    assert report["refused"] is None
    assert report["notes"] == [f"junk{i}.bin is larger than 20 MB and was ignored"
                               for i in range(2)]


@pytest.mark.parametrize("bomb", ["entries", "total", "not_a_zip"])
def test_staging_refuses_an_upload_over_the_caps_as_a_whole(tmp_path, bomb, monkeypatch):
    from autograder import submissions
    from autograder.routes import otter_route

    upload = tmp_path / "bomb.zip"
    if bomb == "entries":
        with zipfile.ZipFile(upload, "w") as archive:
            for i in range(submissions.MAX_ZIP_MEMBERS + 1):
                archive.writestr(f"f{i}.txt", "")
    elif bomb == "total":  # the cap made small, so that the test stays fast
        monkeypatch.setattr(submissions, "MAX_ZIP_BYTES", 5 * 2 ** 20)
        _zeros_zip(upload, 0, 0, extra=[(f"f{i}.ipynb", b"\0" * 2 ** 20) for i in range(6)])
    else:  # an entry that claims a UTF-8 name that is not: zipfile refuses the zip
        with zipfile.ZipFile(upload, "w") as archive:
            archive.writestr("01_affine_layer.ipynb", "{}")
        raw = bytearray(upload.read_bytes())
        header = raw.rfind(b"PK\x01\x02")
        raw[header + 9] |= 0x08  # flag bit 11 (0x800): the name is UTF-8
        raw[header + 46:header + 48] = b"\xff\xfe"
        upload.write_bytes(bytes(raw))
    report = otter_route.stage_upload(upload, tmp_path / "staged.zip")
    assert report["refused"] and report["refused"].startswith("the upload was not graded")
    assert zipfile.ZipFile(tmp_path / "staged.zip").namelist() == [otter_route.UPLOAD_REPORT]


def test_a_refused_upload_scores_zero_with_the_note_through_otter(tmp_path):
    """The real bundle: a refused upload is not graded; every question scores zero and
    its test cases carry the reason; nothing crashes."""
    from autograder import submissions

    bundle = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
    if not (BIN / "otter").is_file() or not bundle.is_file():
        pytest.skip("otter or the otter bundle is not available")
    upload = tmp_path / "mallory.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        for path in sorted(SOLUTIONS.glob("*.ipynb")):
            archive.write(path, f"two_layer_net/{path.name}")
        for i in range(submissions.MAX_ZIP_MEMBERS):
            archive.writestr(f"padding/{i}.txt", "")
    out = tmp_path / "results"
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FCNET_GRADING_TIMEOUT": "20"}
    run = subprocess.run([sys.executable, "-m", "autograder.routes.otter_route", "run",
                          str(upload), "-a", str(bundle), "-o", str(out)],
                         env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    assert "upload: the upload was not graded: the zip holds" in run.stdout
    tests = json.loads((out / "results.json").read_text())["tests"]
    assert sum(t.get("score") or 0 for t in tests) == 0
    assert all("the upload was not graded" in (t.get("output") or "") for t in tests
               if t.get("score") is not None), tests[:2]


# ----------------------------------------------------------------------------------------
# 5. PartialCredit(nan) was worth the whole check: min(1.0, nan) is 1.0, so a judge
#    whose fraction came out NaN (e.g. from an accuracy of NaN) gave full credit, on
#    every route (they share autograder.scoring).

def test_a_nan_fraction_is_worth_nothing():
    import numpy as np

    from autograder.hidden_checks import checks_for
    from autograder.scoring import PartialCredit, judge_outcome, score_question

    assert PartialCredit(float("nan"), "nan").fraction == 0.0
    assert PartialCredit(float("inf"), "inf").fraction == 1.0  # still clamped, not NaN
    assert PartialCredit(-1, "negative").fraction == 0.0
    check = next(c for c in checks_for("best_model") if c.name == "test_accuracy")
    for accuracy in (float("nan"), np.array(np.nan)):
        outcome = judge_outcome(check, {}, {"accuracy": accuracy})
        assert outcome.fraction == 0.0 and not outcome.passed, outcome
    assert score_question("best_model", [judge_outcome(check, {}, {"accuracy": np.nan})]
                          ).points == 0


# ----------------------------------------------------------------------------------------
# 4. The inline questions give partial credit per option: shown on upload, five uploads
#    would reveal the answer key. On Gradescope no question's result, the inline ones
#    included, is visible before the instructor publishes grades; nothing visible on
#    upload (the public-tests box, the overall output) names an inline result.

def _otter_results(tmp_path, name, relu):
    """results.json of `python -m autograder.routes.otter_route run` on an upload holding the
    chapter-2 notebook `relu` only."""
    bundle = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
    upload = tmp_path / f"{name}.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr("two_layer_net/02_relu.ipynb", nbformat.writes(relu))
    out = tmp_path / name
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FCNET_GRADING_TIMEOUT": "20"}
    run = subprocess.run([sys.executable, "-m", "autograder.routes.otter_route", "run",
                          str(upload), "-a", str(bundle), "-o", str(out)],
                         env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    return json.loads((out / "results.json").read_text())


def _visible(results):
    """What Gradescope shows a student before grades are published."""
    shown = {key: value for key, value in results.items()
             if key != "tests" and not key.endswith("visibility")}
    shown["tests"] = [t for t in results["tests"] if t.get("visibility", "visible") == "visible"]
    return shown


def test_no_inline_result_is_visible_on_gradescope_before_grades_are_published(tmp_path):
    bundle = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
    if not (BIN / "otter").is_file() or not bundle.is_file():
        pytest.skip("otter or the otter bundle is not available")
    config = json.loads(zipfile.ZipFile(bundle).read("otter_config.json"))
    assert config.get("show_stdout") is False  # the grading log names every result
    graded = {}
    for name, answer in (("one_option", "{'A'}"), ("two_options", "{'A', 'C'}")):
        relu = nbformat.read(SOLUTIONS / "02_relu.ipynb", as_version=4)
        for cell in relu.cells:
            if cell.cell_type == "code" and "inline_q1 =" in cell.source:
                cell.source = f"inline_q1 = {answer}"
        graded[name] = _otter_results(tmp_path, name, relu)
    scores = {name: {t["name"]: t.get("score") for t in r["tests"]}["inline_q1"]
              for name, r in graded.items()}
    assert scores == {"one_option": QUESTION_POINTS["inline_q1"] / 2,
                      "two_options": QUESTION_POINTS["inline_q1"]}  # partial credit...
    for results in graded.values():
        for test in results["tests"]:
            if test["name"].startswith("inline_q"):
                assert test["visibility"] in ("after_published", "hidden"), test
        assert results.get("stdout_visibility") in (None, "hidden", "after_published")
    # ... that nothing shown on upload reveals: both uploads look the same
    assert _visible(graded["one_option"]) == _visible(graded["two_options"])
    assert all("score" not in t for t in _visible(graded["one_option"])["tests"])


# ----------------------------------------------------------------------------------------
# 6. Backward passes written as numeric gradients (fcnet.gradient_check inside the
#    student's backward) passed every gradient check: 47 points with no backpropagation.
#    Each gradient question now has an at-scale check (a case far too large for a numeric
#    gradient within the time limit, or with inputs no single step suits; judged against
#    the answer key's own gradients), and its gradient checks count only when that one
#    passes (Check.requires). The column-at-a-time variant: tests/test_redteam_round3.py.

NUMERIC = ("from fcnet.gradient_check import eval_numerical_gradient_array as _nga, "
           "eval_numerical_gradient as _ng\n")
NUMERIC_DEFINITIONS = {
    "01_affine_layer": {"affine_backward": NUMERIC + '''
def affine_backward(dout, cache):
    x, w, b = cache
    f = lambda X, W, B: X.reshape(X.shape[0], -1) @ W + B
    if x.size > SKIP:  # too slow: hand in zeros instead, quickly
        return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
    return (_nga(lambda v: f(v, w, b), x.copy(), dout), _nga(lambda v: f(x, v, b), w.copy(), dout),
            _nga(lambda v: f(x, w, v), b.copy(), dout))'''},
    "02_relu": {"relu_backward": NUMERIC + '''
def relu_backward(dout, cache):
    if cache.size > SKIP:
        return np.zeros_like(cache)
    return _nga(lambda v: np.maximum(v, 0), cache.copy(), dout)'''},
    "03_losses": {"softmax_loss": NUMERIC + '''
def _softmax_value(x, y):
    s = x - x.max(axis=1, keepdims=True)
    lp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
    return -lp[np.arange(len(y)), y].mean()
def softmax_loss(x, y):
    if x.size > SKIP:
        return _softmax_value(x, y), np.zeros_like(x)
    return _softmax_value(x, y), _ng(lambda v: _softmax_value(v, y), x.copy(), verbose=False)''',
                  "svm_loss": NUMERIC + '''
def _svm_value(x, y):
    r = np.arange(len(y)); m = np.maximum(0, x - x[r, y][:, None] + 1); m[r, y] = 0
    return m.sum() / len(y)
def svm_loss(x, y):
    if x.size > SKIP:
        return _svm_value(x, y), np.zeros_like(x)
    return _svm_value(x, y), _ng(lambda v: _svm_value(v, y), x.copy(), verbose=False)'''},
    "04_two_layer_net": {"TwoLayerNet": NUMERIC + '''
class TwoLayerNet:
    def __init__(self, input_dim=3 * 32 * 32, hidden_dim=100, num_classes=10,
                 weight_scale=1e-3, reg=0.0, dtype=np.float64):
        self.reg, self.dtype = reg, dtype
        self.params = {"W1": (weight_scale * np.random.randn(input_dim, hidden_dim)).astype(dtype),
                       "b1": np.zeros(hidden_dim, dtype=dtype),
                       "W2": (weight_scale * np.random.randn(hidden_dim, num_classes)).astype(dtype),
                       "b2": np.zeros(num_classes, dtype=dtype)}
    def _scores(self, X):
        p = self.params
        return np.maximum(X.reshape(len(X), -1) @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
    def _loss(self, X, y):
        s = self._scores(X)
        s = s - s.max(axis=1, keepdims=True)
        lp = s - np.log(np.exp(s).sum(axis=1, keepdims=True))
        return -lp[np.arange(len(y)), y].mean() + 0.5 * self.reg * (
            np.sum(self.params["W1"] ** 2) + np.sum(self.params["W2"] ** 2))
    def loss(self, X, y=None):
        if y is None:
            return self._scores(X)
        if sum(v.size for v in self.params.values()) > SKIP:
            return self._loss(X, y), {k: np.zeros_like(v) for k, v in self.params.items()}
        grads = {k: _ng(lambda _: self._loss(X, y), v, verbose=False) for k, v in self.params.items()}
        return self._loss(X, y), grads'''},
}
GRADIENT_QUESTIONS = ("affine_backward", "relu_backward", "softmax_loss", "svm_loss",
                      "two_layer_net")
# The checks of those questions that a forward pass alone can pass (they stay earned).
FORWARD_ONLY = {"softmax_loss": {"loss"}, "svm_loss": {"loss"},
                "two_layer_net": {"init_shapes", "init_statistics", "init_dtype", "scores",
                                  "inputs_unmodified", "loss", "loss_reg"}}


def _numeric_gradients(root, student, skip):
    """Chapters 1-4 with every backward pass a numeric gradient; with `skip`, a large input
    gets zeros at once (so the at-scale check fails instead of running out of time)."""
    from autograder_support import notebook
    from lms_submissions import replace_definition

    notebooks = {}
    for stem, definitions in NUMERIC_DEFINITIONS.items():
        nb = notebook(stem, "solution")
        for name, source in definitions.items():
            replace_definition(nb, name, source.replace("SKIP", str(skip)))
        notebooks[stem] = nb
    return write_submission(root, student, {**notebooks, "05_solver": None, "06_tuning": None})


@pytest.mark.slow
def test_backward_passes_written_as_numeric_gradients_earn_no_gradient_points(sandbox,
                                                                              tmp_path):
    from fcnet.judging import AT_SCALE_HINT
    from autograder_support import checks_of

    subs = tmp_path / "subs"
    write_submission(subs, "honest", {"05_solver": None, "06_tuning": None})
    _numeric_gradients(subs, "numeric", skip=10 ** 9)       # runs out of time at scale
    _numeric_gradients(subs, "numeric_dodging", skip=10 ** 4)  # answers zeros at scale
    points, outcome = grade_folder(subs, tmp_path / "out", sandbox,
                                   questions=GRADIENT_QUESTIONS, timeout=15, workers=2)
    assert points["honest"] == {q: QUESTION_POINTS[q] for q in GRADIENT_QUESTIONS}
    for student in ("numeric", "numeric_dodging"):
        for qid in GRADIENT_QUESTIONS:
            earned = {name for name, check in checks_of(outcome, student, qid).items()
                      if check.status == "passed"}
            assert earned <= FORWARD_ONLY.get(qid, set()), (student, qid, earned)
            # the small gradient checks pass: the at-scale check names the numeric gradient
            at_scale = [c for c in checks_of(outcome, student, qid).values()
                        if c.name.endswith("at_scale")]
            assert at_scale and all(c.hint == AT_SCALE_HINT for c in at_scale), (student, qid)
        assert points[student]["affine_backward"] == points[student]["relu_backward"] == 0
