"""The nbgrader course folder (autograder/dist/nbgrader/).

Static checks (fast): the six source notebooks are in nbgrader's format, with solution
regions, one locked test cell per question worth the question's points, public checks
visible and hidden checks between the markers.

The real commands (slow, real CIFAR-10), in a temporary copy of the course:
`nbgrader generate_assignment` (the release holds no solution and no hidden test, and its
code is the student notebooks' code), five submissions placed under submitted/
(the solution with a good model, the untouched release, one realistic mistake per
chapter, and the attacks of lms_submissions: importing the answer key; patching numpy, a
relay between questions, an endless loop in a bare `except:`, a memory bomb, `os._exit`),
`nbgrader autograde`, `generate_feedback` and `export`. The exported CSV and the
gradebook's per-question scores agree with `python -m autograder` grading the same folders.
"""
import csv
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import pytest

from autograder.points import BEST_MODEL_FULL, BEST_MODEL_ZERO, QUESTION_POINTS
from fcnet.chapters import CHAPTERS, QUESTION_IDS

from lms_submissions import (isolation_shape, require_bubblewrap, route_sandbox, ATTACKED, WRONG_QUESTIONS, fill_release, good_model_params,
                             make_submission, model_accuracy, partial_model_params,
                             engine_grades, save_model)

REPO = Path(__file__).resolve().parents[1]
COURSE = REPO / "autograder" / "dist" / "nbgrader"
ASSIGNMENT = "two_layer_net"
BIN = Path(sys.executable).parent
# Per-question time limit for both graders in these tests (the default is 60 s): long
# enough for the training question on a busy machine, short for the endless loop.
TIMEOUT = "20"


def _source(stem):
    path = COURSE / "source" / ASSIGNMENT / f"{stem}.ipynb"
    if not path.is_file():
        pytest.skip(f"{path.relative_to(REPO)} is not built (python -m course_build "
                    "nbgrader-course)")
    return nbformat.read(path, as_version=4)


def _meta(cell):
    return cell.metadata.get("nbgrader", {})


# ----------------------------------------------------------------------------- static

@pytest.mark.parametrize("stem", list(CHAPTERS))
def test_source_notebook_is_in_nbgrader_format(stem):
    nb = _source(stem)
    tests = [c for c in nb.cells if _meta(c).get("grade")]
    assert sorted(_meta(c)["grade_id"] for c in tests) == \
        sorted(f"test_{qid}" for qid in CHAPTERS[stem])
    for cell in tests:
        qid = _meta(cell)["grade_id"].removeprefix("test_")
        assert _meta(cell)["locked"] and not _meta(cell)["solution"]
        assert _meta(cell)["points"] == QUESTION_POINTS[qid]
        public, _, rest = cell.source.partition("### BEGIN HIDDEN TESTS")
        hidden, _, after = rest.partition("### END HIDDEN TESTS")
        assert f'run_question("{qid}"' in public and "autograder" not in public
        assert f'hidden_score("{qid}"' in hidden and not after.strip()
    solutions = [c for c in nb.cells if _meta(c).get("solution")]
    assert solutions
    for cell in solutions:
        assert "### BEGIN SOLUTION" in cell.source and "### END SOLUTION" in cell.source
        assert not _meta(cell)["grade"] and not _meta(cell)["locked"]
    ids = [_meta(c)["grade_id"] for c in nb.cells if _meta(c)]
    assert len(ids) == len(set(ids))
    calls = re.compile(r"^\s*grader\.check\(", re.MULTILINE)  # replaced by the test cells
    assert not [c for c in nb.cells if c.cell_type == "code" and calls.search(c.source)]


def test_config_sets_the_students_stub_and_the_grading_pipeline():
    text = (COURSE / "nbgrader_config.py").read_text()
    assert "# YOUR CODE HERE\\nraise NotImplementedError" in text
    assert "autograde_preprocessors()" in text
    from autograder.routes.nbgrader_route import autograde_preprocessors

    names = [step.__name__ for step in autograde_preprocessors()]
    assert "SandboxedGrading" in names and "Execute" not in names
    assert names[-3:] == ["SaveAutoGrades", "AssignLatePenalties", "CheckCellMetadata"]


def test_autograde_fills_the_test_cells_from_the_graded_files(tmp_path, monkeypatch):
    """No kernel: the test cells get the report and the points of the plain-data result."""
    from autograder.routes.nbgrader_route import (_sandboxed_grading_class, fill_outputs,
                                            graded_question, hidden_part)

    source = "visible()\n### BEGIN HIDDEN TESTS\nhidden_score('sgd')\n### END HIDDEN TESTS"
    assert hidden_part(source) == "hidden_score('sgd')"
    assert hidden_part("visible()") is None
    nb = _source("05_solver")
    cell = next(c for c in nb.cells if _meta(c).get("grade_id") == "test_sgd")
    assert graded_question(cell) == "sgd"
    # The question comes from the cell's nbgrader grade_id, never from its text.
    relabelled = nbformat.v4.new_code_cell(source.replace("sgd", "training"),
                                           metadata=dict(cell.metadata))
    assert graded_question(relabelled) == "sgd"
    assert graded_question(nbformat.v4.new_code_cell(source)) is None
    check = {"name": "values", "description": "values", "weight": 1.0, "status": "failed",
             "fraction": 0.0, "message": "off by 2", "hint": "look at the step"}
    graded = {"sandbox": "sandbox: a test line", "internal_errors": [],
              "results": {"sgd": {"qid": "sgd", "points": 2.5, "max_points": 5,
                                  "checks": [check], "notes": []}}}
    assert fill_outputs(nb, graded) == 1
    text = cell.outputs[0]["text"]
    assert text.splitlines()[0] == "sandbox: a test line"
    assert "off by 2" in text and "hint: look at the step" in text
    assert cell.outputs[1]["data"]["text/plain"] == "2.5"
    from nbgrader.utils import determine_grade
    assert determine_grade(cell) == (2.5, 5)

    monkeypatch.chdir(tmp_path)  # nbgrader's course root is where it runs
    (tmp_path / "submitted" / "alice" / ASSIGNMENT).mkdir(parents=True)
    grading = _sandboxed_grading_class()()
    info = {"nbgrader": {"student": "alice", "assignment": ASSIGNMENT}}
    assert grading._submitted_folder(info) == \
        (str((tmp_path / "submitted" / "alice" / ASSIGNMENT).resolve()), None)
    assert grading._submitted_folder({"nbgrader": {"student": "bob",
                                                   "assignment": ASSIGNMENT}}) == (None, None)


# ----------------------------------------------------------------------------- checksums

@pytest.fixture(scope="module")
def gradebook_course(tmp_path_factory):
    """A copy of the course after `nbgrader generate_assignment`: its gradebook holds every
    locked cell's source, hidden tests included."""
    root = tmp_path_factory.mktemp("checksums") / "course"
    shutil.copytree(COURSE, root)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    run = subprocess.run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT], cwd=root,
                         env=env, capture_output=True, text=True, timeout=900)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    return root


def _sanitize_warnings(root, stem, nb):
    """What autograde's sanitize step (the configured OverwriteCells) warns for `nb`, and
    the notebook it leaves."""
    import logging

    from autograder.routes.nbgrader_route import sanitize_preprocessors
    from nbgrader.preprocessors import OverwriteCells

    (restore,) = [step for step in sanitize_preprocessors() if issubclass(step, OverwriteCells)]
    step = restore()
    seen = []
    handler = logging.Handler()
    handler.emit = lambda record: seen.append(record.getMessage())
    step.log.addHandler(handler)
    resources = {"nbgrader": {"notebook": stem, "assignment": ASSIGNMENT,
                              "db_url": f"sqlite:///{root / 'gradebook.db'}"}}
    try:
        nb, _ = step.preprocess(nb, resources)
    finally:
        step.log.removeHandler(handler)
    return [m for m in seen if "has changed" in m], nb


@pytest.mark.parametrize("handed_in", ["release", "student notebook (Colab, laptop)"])
def test_handed_out_test_cells_raise_no_checksum_warning(gradebook_course, handed_in):
    """nbgrader warns "Attribute 'checksum' ... has changed!" for every released test cell
    (their hidden tests were taken out) and every Colab notebook's check cell; instructors
    read that as tampering. Those two forms are restored quietly."""
    for stem in CHAPTERS:
        folder = gradebook_course / "release" / ASSIGNMENT if handed_in == "release" \
            else REPO / "exercises"
        nb = nbformat.read(folder / f"{stem}.ipynb", as_version=4)
        warnings, restored = _sanitize_warnings(gradebook_course, stem, nb)
        assert warnings == [], warnings
        source = nbformat.read(gradebook_course / "source" / ASSIGNMENT / f"{stem}.ipynb",
                               as_version=4)
        locked = {_meta(c)["grade_id"]: c.source for c in source.cells
                  if _meta(c).get("locked") and _meta(c).get("grade_id")}
        assert {_meta(c)["grade_id"]: c.source for c in restored.cells
                if _meta(c).get("grade_id") in locked} == locked  # hidden tests back in place


def test_an_edited_locked_cell_is_still_warned_about_and_restored(gradebook_course):
    stem = "01_affine_layer"
    nb = nbformat.read(gradebook_course / "release" / ASSIGNMENT / f"{stem}.ipynb",
                       as_version=4)
    cell = next(c for c in nb.cells if _meta(c).get("grade_id") == "test_affine_forward")
    cell.source = 'grader.check("affine_forward")\nprint("full marks")'
    warnings, restored = _sanitize_warnings(gradebook_course, stem, nb)
    assert len(warnings) == 1 and "test_affine_forward" in warnings[0], warnings
    cell = next(c for c in restored.cells if _meta(c).get("grade_id") == "test_affine_forward")
    assert "full marks" not in cell.source and "BEGIN HIDDEN TESTS" in cell.source


# ----------------------------------------------------------------------------- real commands


@pytest.fixture(scope="module")
def course(cifar, tmp_path_factory, request):
    """Run the whole nbgrader workflow once, and python -m autograder on the same folders."""
    from autograder_support import cached_model
    from nbgrader.api import Gradebook

    _source("01_affine_layer")
    work = tmp_path_factory.mktemp("nbgrader")
    root = work / "course"
    shutil.copytree(COURSE, root)
    # nbgrader finds its tools (alembic) only with the environment's bin/ on PATH
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FCNET_GRADING_TIMEOUT": TIMEOUT}
    logs = {}

    def nbgrader(*args):
        run = subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, env=env,
                             capture_output=True, text=True, timeout=3600)
        logs[args[0]] = run.stdout + run.stderr
        assert run.returncode == 0, logs[args[0]][-4000:]
        assert "Exception while loading config file" not in logs[args[0]]

    nbgrader("generate_assignment", ASSIGNMENT)
    release = root / "release" / ASSIGNMENT
    filled = fill_release(release, root / "source" / ASSIGNMENT, work / "filled")

    cache = request.config.cache.mkdir("autograder-models")
    good = cached_model(cache, "good", good_model_params)
    partial = cached_model(cache, "partial", partial_model_params)
    accuracy = {"good": model_accuracy(good), "partial": model_accuracy(partial)}
    submitted = root / "submitted"
    make_submission(submitted / "solution" / ASSIGNMENT, "solution", filled,
                    save_model(good, work / "good.npz"))
    make_submission(submitted / "stub" / ASSIGNMENT, "solution", release)
    make_submission(submitted / "wrong" / ASSIGNMENT, "wrong", filled,
                    save_model(partial, work / "partial.npz"))
    make_submission(submitted / "import_key" / ASSIGNMENT, "import_key", filled)
    hostile = make_submission(submitted / "hostile" / ASSIGNMENT, "hostile", filled,
                              work / "good.npz")
    (hostile / "autograder").mkdir()  # a package named like the grader's, next to the notebooks
    (hostile / "autograder" / "__init__.py").write_text("")
    (hostile / "autograder" / "routes").mkdir()
    (hostile / "autograder" / "routes" / "__init__.py").write_text("")
    (hostile / "autograder" / "routes" / "nbgrader_route.py").write_text(
        "def hidden_score(*args, **kwargs):\n    return 1000.0\n")

    nbgrader("autograde", ASSIGNMENT, "--create")
    nbgrader("generate_feedback", ASSIGNMENT)
    nbgrader("export")
    with open(root / "grades.csv", newline="") as f:
        exported = {row["student_id"]: row for row in csv.DictReader(f)}
    per_question = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in exported:
            submission = gb.find_submission(ASSIGNMENT, student)
            per_question[student] = {grade.name.removeprefix("test_"): grade.score
                                     for nb in submission.notebooks for grade in nb.grades}

    folders = work / "engine_submissions"
    for student in exported:
        shutil.copytree(submitted / student / ASSIGNMENT, folders / student)
    # the all-zero answers of the questions "hostile" attacks, graded by the engine only
    make_submission(folders / "zeros", "zeros", filled, work / "good.npz")
    reference = engine_grades(folders, work / "engine_out", TIMEOUT)
    return {"root": root, "release": release, "exported": exported,
            "per_question": per_question, "reference": reference, "accuracy": accuracy,
            "logs": logs}


@pytest.mark.slow
@pytest.mark.cifar
def test_release_holds_no_solution_and_no_hidden_test(course):
    for stem in CHAPTERS:
        nb = nbformat.read(course["release"] / f"{stem}.ipynb", as_version=4)
        text = "\n".join(c.source for c in nb.cells if c.cell_type == "code")
        for marker in ("BEGIN SOLUTION", "END SOLUTION", "HIDDEN TESTS", "hidden_score",
                       "autograder"):
            assert marker not in text, (stem, marker)
        source = nbformat.read(course["root"] / "source" / ASSIGNMENT / f"{stem}.ipynb",
                               as_version=4)
        for cell in source.cells:
            if _meta(cell).get("solution"):
                body = cell.source.split("### BEGIN SOLUTION")[1].split("### END SOLUTION")[0]
                for line in body.splitlines():
                    if len(line.strip()) > 25:  # a distinctive solution line
                        assert line not in text, (stem, line)


@pytest.mark.slow
@pytest.mark.cifar
def test_release_code_is_the_student_notebooks_code(course):
    """nbgrader's stubs are exactly the student notebooks' (inline answers aside: nbgrader
    puts its stub where the student notebook has `inline_q = set()`)."""
    for stem in CHAPTERS:
        release = nbformat.read(course["release"] / f"{stem}.ipynb", as_version=4)
        student = nbformat.read(REPO / "exercises" / f"{stem}.ipynb", as_version=4)
        ours = [c.source for c in release.cells
                if c.cell_type == "code" and not _meta(c).get("grade")]
        theirs = [c.source for c in student.cells
                  if c.cell_type == "code" and "grader.check(" not in c.source]
        assert len(ours) == len(theirs)
        for mine, original in zip(ours, theirs):
            if "# YOUR ANSWER HERE" in original:
                assert mine == "# YOUR CODE HERE\nraise NotImplementedError"
            else:
                assert mine == original


@pytest.mark.slow
@pytest.mark.cifar
def test_exported_csv_agrees_with_python_m_autograder(course):
    exported, reference = course["exported"], course["reference"]
    assert sorted(exported) == ["hostile", "import_key", "solution", "stub", "wrong"]
    for student, row in exported.items():
        assert float(row["max_score"]) == sum(QUESTION_POINTS.values())
        assert float(row["score"]) == pytest.approx(reference[student]["total"], abs=1e-6), \
            student


@pytest.mark.slow
@pytest.mark.cifar
def test_every_question_agrees_with_python_m_autograder(course):
    for student, points in course["per_question"].items():
        assert sorted(points) == sorted(QUESTION_IDS)
        assert points == {q: pytest.approx(course["reference"][student][q], abs=1e-9)
                          for q in QUESTION_IDS}, student


@pytest.mark.slow
@pytest.mark.cifar
def test_solution_full_stub_zero_mistakes_partial(course):
    points, accuracy = course["per_question"], course["accuracy"]
    assert accuracy["good"] >= BEST_MODEL_FULL
    assert BEST_MODEL_ZERO < accuracy["partial"] < BEST_MODEL_FULL
    assert points["solution"] == {q: QUESTION_POINTS[q] for q in QUESTION_IDS}
    assert points["stub"] == {q: 0 for q in QUESTION_IDS}
    lost = {q for q in QUESTION_IDS if points["wrong"][q] < QUESTION_POINTS[q]}
    assert lost == WRONG_QUESTIONS


@pytest.mark.slow
@pytest.mark.cifar
def test_feedback_shows_each_questions_checks(course):
    feedback = course["root"] / "feedback"
    for student in ("solution", "stub", "wrong"):
        pages = sorted((feedback / student / ASSIGNMENT).glob("*.html"))
        assert [p.stem for p in pages] == sorted(CHAPTERS)
    html = (feedback / "wrong" / ASSIGNMENT / "01_affine_layer.html").read_text()
    points = course["per_question"]["wrong"]["affine_backward"]
    assert f"affine_backward: {points:g} / 10 points" in html
    # WRONG's affine_backward averages db: the diagnosis is named in place of the hint.
    assert "likely mistake: Your db is exactly 1/N" in " ".join(html.split())


@pytest.mark.slow
@pytest.mark.cifar
def test_each_test_cell_says_first_which_isolation_graded_it(course):
    _, description = route_sandbox()
    for student in ("solution", "hostile"):
        nb = nbformat.read(course["root"] / "autograded" / student / ASSIGNMENT /
                           "01_affine_layer.ipynb", as_version=4)
        tests = [c for c in nb.cells if _meta(c).get("grade")]
        assert tests
        for cell in tests:
            assert isolation_shape(cell.outputs[0]["text"].splitlines()[0]) == \
                isolation_shape(description)


@pytest.mark.slow
@pytest.mark.cifar
def test_importing_the_answer_key_earns_nothing(course):
    require_bubblewrap()
    assert course["per_question"]["import_key"] == {q: 0 for q in QUESTION_IDS}


@pytest.mark.slow
@pytest.mark.cifar
@pytest.mark.parametrize("qid", sorted(ATTACKED["hostile"]))
def test_an_attacked_question_earns_no_more_than_all_zero_answers(course, qid):
    """numpy patched (affine_forward), a relay of the reference layers from the decoupled
    questions (affine_backward), an endless loop in a bare except (relu_backward), a memory
    bomb (softmax_loss), os._exit (svm_loss); a package named `autograder` beside them."""
    require_bubblewrap()
    assert course["per_question"]["hostile"][qid] <= course["reference"]["zeros"][qid]


@pytest.mark.slow
@pytest.mark.cifar
def test_the_attacks_cost_nothing_elsewhere(course):
    honest = set(QUESTION_IDS) - ATTACKED["hostile"]
    points = course["per_question"]["hostile"]
    assert {q: points[q] for q in honest} == {q: QUESTION_POINTS[q] for q in honest}


@pytest.mark.slow
@pytest.mark.cifar
def test_autograde_prints_no_checksum_warning(course):
    """The real `nbgrader autograde` of released notebooks: no "checksum has changed"."""
    assert "has changed" not in course["logs"]["autograde"], course["logs"]["autograde"][-3000:]
