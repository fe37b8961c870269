"""The otter-grader autograder zip (autograder/dist/otter/two_layer_net-autograder.zip).

Static checks (fast): the zip's layout, its test files importing from the zip's own
packages as thin calls with the points of autograder/points.py, the requirements resolving
against the project's pins, and the Gradescope pre-step that tidies loose uploads.

Grading (slow, real CIFAR-10): `otter run -a <zip>` without Docker on the solution with a
good model, the untouched student notebooks, one realistic mistake per chapter, a
function that never returns, and the attacks of lms_submissions (importing the answer
key; patching numpy, a relay between questions, an endless loop in a bare `except:`, a
memory bomb, `os._exit`; an upload that shadows the grader's packages), each compared
question by question with `python -m autograder` grading the very same zip files.
"""
import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from autograder import hidden_checks
from autograder.points import BEST_MODEL_FULL, BEST_MODEL_ZERO, QUESTION_POINTS
from fcnet.chapters import QUESTION_IDS

from lms_submissions import (isolation_shape, require_bubblewrap, route_sandbox, ATTACKED, LOOPING_QUESTIONS, WRONG_QUESTIONS, good_model_params,
                             make_submission, model_accuracy, partial_model_params,
                             engine_grades, save_model)

REPO = Path(__file__).resolve().parents[1]
ZIP = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
BIN = Path(sys.executable).parent
# Per-question time limit for both graders in these tests (the default is 60 s): long
# enough for the training question on a busy machine, short for the looping submission.
TIMEOUT = "20"


@pytest.fixture(scope="module")
def bundle(tmp_path_factory):
    if not ZIP.is_file():
        pytest.skip(f"{ZIP.relative_to(REPO)} is not built (python -m course_build otter-zip)")
    folder = tmp_path_factory.mktemp("otter_zip")
    with zipfile.ZipFile(ZIP) as archive:
        names = archive.namelist()
        archive.extractall(folder)
    return folder, names


# ----------------------------------------------------------------------------- static

def test_zip_has_otters_layout_and_the_course_packages(bundle):
    folder, names = bundle
    for name in ("run_autograder", "run_otter.py", "setup.sh", "environment.yml",
                 "requirements.txt", "otter_config.json", "files/grade_two_layer_net.py"):
        assert name in names, name
    assert sorted(n for n in names if n.startswith("tests/")) == \
        sorted(f"tests/{qid}.py" for qid in QUESTION_IDS)
    for package in ("fcnet", "answer_key", "autograder"):
        assert f"files/{package}/__init__.py" in names
    # the hidden checks are a package: every one of its modules ships
    assert {f"files/autograder/hidden_checks/{p.name}"
            for p in (REPO / "autograder" / "hidden_checks").glob("*.py")} <= set(names)
    # the driver checks the bundle's packages against these names before importing them
    driver = (folder / "files" / "grade_two_layer_net.py").read_text()
    assert "_restore_bundle(" in driver and driver.index("_restore_bundle(") < \
        driver.index("from autograder")
    # nothing generated, cached or belonging to another route rides along
    assert not [n for n in names if "__pycache__" in n or "/dist/" in n or n.endswith(".pyc")
                or n.endswith(".ipynb") or n.endswith("nbgrader_route.py")]
    config = json.loads((folder / "otter_config.json").read_text())
    assert config["lang"] == "python"
    assert "python /autograder/source/run_otter.py" in (folder / "run_autograder").read_text()


def test_environment_pins_exactly_the_requirements(bundle):
    import yaml

    folder, _ = bundle
    environment = yaml.safe_load((folder / "environment.yml").read_text())
    pip = next(d["pip"] for d in environment["dependencies"] if isinstance(d, dict))
    requirements = (folder / "requirements.txt").read_text().split()
    assert pip == requirements
    assert f"python={sys.version_info[0]}.{sys.version_info[1]}" in environment["dependencies"]
    assert all("==" in line for line in requirements)
    names = {line.split("==")[0].lower() for line in requirements}
    assert {"numpy", "otter-grader", "nbformat", "ipykernel"} <= names


def test_requirements_resolve_against_the_project_pins(bundle):
    folder, _ = bundle
    project = set((REPO / "requirements.txt").read_text().split())
    zipped = (folder / "requirements.txt").read_text().split()
    assert set(zipped) <= project, set(zipped) - project
    # --no-index: everything must be satisfied by the project's pinned environment
    run = subprocess.run([sys.executable, "-m", "pip", "install", "--dry-run", "--no-index",
                          "-r", str(folder / "requirements.txt")],
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr[-2000:]
    assert "Would install" not in run.stdout


TEST_FILE_PROBE = r"""
import json, sys
from pathlib import Path
from otter.nbmeta_config import NBMetadataConfig
from otter.test_files import create_test_file
import autograder
out = {"autograder": autograder.__file__, "files": {}}
for path in sorted(Path(sys.argv[1]).glob("*.py")):
    test = create_test_file(str(path), NBMetadataConfig())
    out["files"][path.stem] = {
        "name": test.name,
        "cases": [[c.name, c.points, c.hidden] for c in test.test_cases]}
print(json.dumps(out))
"""


def test_test_files_import_from_the_zip_and_carry_the_points(bundle):
    folder, _ = bundle
    files = folder / "files"
    run = subprocess.run([sys.executable, "-c", TEST_FILE_PROBE, str(folder / "tests")],
                         cwd=files, env={**os.environ, "PYTHONPATH": str(files)},
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-3000:]
    found = json.loads(run.stdout)
    assert Path(found["autograder"]).resolve().is_relative_to(files.resolve())
    for qid in QUESTION_IDS:
        test = found["files"][qid]
        assert test["name"] == qid
        hidden = [(n, p) for n, p, h in test["cases"] if h]
        assert [n for n, _ in hidden] == [c.name for c in hidden_checks.checks_for(qid)]
        assert sum(p for _, p in hidden) == pytest.approx(QUESTION_POINTS[qid], abs=1e-9)
        # no public case: running one would run student code in otter's kernel
        assert len(hidden) == len(test["cases"])
    for path in (folder / "tests").glob("*.py"):
        assert "public_check" not in path.read_text()


def test_gradescope_prestep_moves_loose_uploads_into_a_folder(bundle, tmp_path):
    folder, _ = bundle
    script = (folder / "run_autograder").read_text()
    lines = script.split("# fcnet:")[1].split("python /autograder/source/run_otter.py")[0]
    lines = lines.splitlines()[1:]
    assert lines, "run_autograder has no pre-step"
    submission = tmp_path / "autograder" / "submission"
    (submission / "two_layer_net").mkdir(parents=True)
    (submission / "01_affine_layer.ipynb").write_text("{}")
    (submission / "best_model.npz").write_bytes(b"x")
    (submission / "two_layer_net" / "02_relu.ipynb").write_text("{}")
    (submission / "autograder").mkdir()  # an upload trying to stand in for the grader
    (submission / "autograder" / "__init__.py").write_text("")
    for name in ("files/answer_key", "files/autograder", "tests"):
        (tmp_path / "autograder" / "source" / name).mkdir(parents=True)
    # the absolute /autograder paths (not files/autograder) point into tmp_path
    shell = re.sub(r"(?<![\w])/autograder", str(tmp_path / "autograder"), "\n".join(lines))
    subprocess.run(["bash", "-c", shell], check=True)
    top = sorted(p.name for p in submission.iterdir())
    assert len(top) == 1 and top[0].startswith("uploaded."), top  # a fresh mktemp -d folder
    assert sorted(p.name for p in (submission / top[0]).iterdir()) == \
        ["01_affine_layer.ipynb", "autograder", "best_model.npz", "two_layer_net"]
    mode = (tmp_path / "autograder" / "source" / "files" / "answer_key").stat().st_mode
    assert mode & 0o077 == 0  # readable by its owner (root on Gradescope) only


def _sealed(points):
    from autograder.routes import otter_route

    graded = {"results": {"sgd": {"qid": "sgd", "points": points, "max_points": 1,
                                  "notes": [], "checks": []}}}
    result = otter_route.GradedSubmission(graded)
    result.seal = otter_route._seal(graded)
    return result


def test_only_a_result_sealed_by_this_run_is_scored():
    """A GradedSubmission built by anything but load_submission (an uploaded notebook
    that otter executed instead of the driver), or changed after grading, scores nothing."""
    from autograder.routes import otter_route

    forged = otter_route.GradedSubmission(dict(_sealed(1)))  # same data, no seal
    with pytest.raises(AssertionError, match="not made by this grading run"):
        otter_route._require(forged)
    tampered = _sealed(0)
    tampered["results"]["sgd"]["points"] = 99
    with pytest.raises(AssertionError, match="not made by this grading run"):
        otter_route._require(tampered)
    assert otter_route._require(_sealed(1)) is not None


@pytest.mark.parametrize("points, expected", [(-3, 0.0), (1e9, None), (float("nan"), 0.0),
                                              (float("inf"), 0.0), ("x", 0.0), (None, 0.0)])
def test_scores_are_clamped_to_the_questions_points(points, expected):
    from autograder.routes import otter_route

    clamped = otter_route._clamped("sgd", points)
    assert clamped == (QUESTION_POINTS["sgd"] if expected is None else expected)


def test_stage_upload_puts_the_upload_in_one_folder_without_hidden_files(tmp_path):
    from autograder.routes import otter_route

    upload = tmp_path / "mallory.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr(".OTTER_LOG", b"pickle")
        archive.writestr(".hidden/x.py", "")
        archive.writestr("forge.ipynb", "{}")
        archive.writestr("../escape.py", "")
        archive.writestr("two_layer_net/01_affine_layer.ipynb", "{}")
        archive.writestr("two_layer_net/.keep", "")
    staged = otter_route.stage_upload(upload, tmp_path / "staged.zip")
    staged = tmp_path / "staged.zip"
    assert sorted(zipfile.ZipFile(staged).namelist()) == [
        otter_route.UPLOAD_REPORT, "upload/forge.ipynb", "upload/two_layer_net/.keep",
        "upload/two_layer_net/01_affine_layer.ipynb"]
    folder = tmp_path / "folder"
    (folder / "sub").mkdir(parents=True)
    (folder / ".OTTER_LOG").write_bytes(b"pickle")
    (folder / "sub" / "a.ipynb").write_text("{}")
    otter_route.stage_upload(folder, tmp_path / "staged2.zip")
    assert zipfile.ZipFile(tmp_path / "staged2.zip").namelist() == [
        "upload/sub/a.ipynb", otter_route.UPLOAD_REPORT]


def test_the_driver_puts_back_the_bundles_packages_before_importing_them(bundle, tmp_path):
    """otter unpacks an upload where its kernel imports from and keeps an uploaded
    `autograder/` over the bundle's: the driver must undo that first."""
    folder, _ = bundle
    driver = (folder / "files" / "grade_two_layer_net.py").read_text()
    prologue = driver.split("from autograder.routes.otter_route import")[0]
    source = tmp_path / "ag" / "source" / "files"
    submission = tmp_path / "ag" / "submission"
    for name in ("fcnet", "answer_key", "autograder"):
        (source / name).mkdir(parents=True)
        (source / name / "__init__.py").write_text(f"ORIGINAL = {name!r}\n")
        shutil.copytree(source / name, submission / name)
    (submission / "autograder" / "routes").mkdir()
    (submission / "autograder" / "routes" / "__init__.py").write_text("")
    (submission / "autograder" / "routes" / "otter_route.py").write_text(
        "def hidden_check(*a):\n    pass\n")
    (submission / "numpy").mkdir()
    (submission / "numpy" / "__init__.py").write_text("raise SystemExit('fake numpy')\n")
    (submission / "two_layer_net").mkdir()
    (submission / "two_layer_net" / "01_affine_layer.ipynb").write_text("{}")
    run = subprocess.run([sys.executable, "-c", prologue + "\nprint(sorted(_replaced))"],
                         cwd=submission, capture_output=True, text=True)
    assert run.returncode == 0, run.stderr[-2000:]
    assert run.stdout.split()[-2:] == ["['autograder',", "'numpy']"]
    assert sorted(p.name for p in (submission / "autograder").iterdir()) == ["__init__.py"]
    assert (submission / "set_aside_by_grader" / "numpy" / "__init__.py").is_file()
    assert (submission / "two_layer_net" / "01_affine_layer.ipynb").is_file()


def test_setup_installs_bubblewrap_and_protects_the_checks(bundle):
    folder, _ = bundle
    setup = (folder / "setup.sh").read_text()
    assert "apt-get install -y --no-install-recommends bubblewrap" in setup
    for name in ("files/answer_key", "files/autograder", "source/tests"):
        assert name in setup.split("fcnet: the sandbox")[1]
    assert "chmod -R go-rwx" in setup


# ----------------------------------------------------------------------------- grading


def _zip_folder(folder, target, extra=None):
    """A student's upload: one zip holding a folder with the notebooks and the model, and
    `extra` ({name in the zip: text}) beside it."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, f"two_layer_net/{path.name}")
        for name, text in (extra or {}).items():
            archive.writestr(name, text)
    return target


# An upload whose top level holds a package named like the grader's, whose checks all pass
# (beside the untouched notebooks, which earn nothing).
SHADOW = {"autograder/__init__.py": "", "autograder/routes/__init__.py": "",
          "autograder/routes/otter_route.py": "def load_submission(folder='.'):\n    return None\n"
                                              "def hidden_check(*args, **kwargs):\n    return None\n"}
ENGINE_ONLY = ("zeros",)    # the all-zero answers, graded by python -m autograder only


# Graded the supported way, `python -m autograder.routes.otter_route run` (the upload is put in
# a folder of its own first); the others with a raw `otter run`, which the driver's own
# defences must hold.
STAGED = ("flat",)


def _flat_zip(folder, target):
    """An honest upload with the notebooks and the model at the top of the zip."""
    with zipfile.ZipFile(target, "w") as archive:
        for path in sorted(folder.iterdir()):
            archive.write(path, path.name)
    return target


def _otter_run(submission, out, env, staged=False):
    out.mkdir()
    command = [sys.executable, "-m", "autograder.routes.otter_route", "run", str(submission),
               "-a", str(ZIP), "-o", str(out)] if staged else \
        [str(BIN / "otter"), "run", "-a", str(ZIP), "-o", str(out), "--no-logo",
         str(submission)]
    return subprocess.Popen(command, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.STDOUT, text=True)


@pytest.fixture(scope="module")
def graded(bundle, cifar, tmp_path_factory, request):
    """Grade the submission zips with otter run and with python -m autograder."""
    from autograder_support import cached_model

    cache = request.config.cache.mkdir("autograder-models")
    good = cached_model(cache, "good", good_model_params)
    partial = cached_model(cache, "partial", partial_model_params)
    accuracy = {"good": model_accuracy(good), "partial": model_accuracy(partial)}
    work = tmp_path_factory.mktemp("otter_grading")
    models = {"good": save_model(good, work / "good.npz"),
              "partial": save_model(partial, work / "partial.npz")}
    solutions = REPO / "solutions" / "notebooks"
    plan = {"solution": ("solution", solutions, models["good"]),
            "stub": ("solution", REPO / "exercises", None),
            "wrong": ("wrong", solutions, models["partial"]),
            "looping": ("looping", solutions, models["good"]),
            "import_key": ("import_key", solutions, None),
            "hostile": ("hostile", solutions, models["good"]),
            "shadow": ("solution", REPO / "exercises", None),
            "zeros": ("zeros", solutions, models["good"]),
            "flat": ("solution", solutions, models["good"])}
    uploads = work / "uploads"
    uploads.mkdir()
    for student, (kind, notebooks, model) in plan.items():
        folder = make_submission(work / "folders" / student, kind, notebooks, model)
        if student == "flat":
            _flat_zip(folder, uploads / f"{student}.zip")
        else:
            _zip_folder(folder, uploads / f"{student}.zip",
                        SHADOW if student == "shadow" else None)

    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FCNET_GRADING_TIMEOUT": TIMEOUT}
    otter, logs = {}, {}
    students = [s for s in plan if s not in ENGINE_ONLY]
    for start in range(0, len(students), 2):  # two at a time: the machine has two cores
        runs = {s: _otter_run(uploads / f"{s}.zip", work / f"otter-{s}", env, s in STAGED)
                for s in students[start:start + 2]}
        for student, proc in runs.items():
            logs[student], _ = proc.communicate(timeout=1800)  # a guard against a hang only
            assert proc.returncode == 0, logs[student][-3000:]
            results = json.loads((work / f"otter-{student}" / "results.json").read_text())
            otter[student] = {t["name"]: t["score"] for t in results["tests"] if "score" in t}

    reference = engine_grades(uploads, work / "engine", TIMEOUT)
    return otter, reference, accuracy, logs


def _total(points):
    return round(sum(points[q] for q in QUESTION_IDS), 2)


@pytest.mark.slow
@pytest.mark.cifar
def test_solution_gets_full_marks(graded):
    otter, reference, accuracy, logs = graded
    assert accuracy["good"] >= BEST_MODEL_FULL
    assert otter["solution"] == {qid: QUESTION_POINTS[qid] for qid in QUESTION_IDS}, \
        logs["solution"][-3000:]


@pytest.mark.slow
@pytest.mark.cifar
def test_an_honest_flat_zip_graded_the_supported_way_gets_full_marks(graded):
    """Notebooks at the top of the zip: a raw `otter run` refuses them (several notebooks),
    `python -m autograder.routes.otter_route run` grades them."""
    otter, _, _, logs = graded
    assert otter["flat"] == {qid: QUESTION_POINTS[qid] for qid in QUESTION_IDS}, \
        logs["flat"][-3000:]


@pytest.mark.slow
@pytest.mark.cifar
def test_untouched_student_notebooks_get_zero(graded):
    otter, _, _, _ = graded
    assert otter["stub"] == {qid: 0 for qid in QUESTION_IDS}


@pytest.mark.slow
@pytest.mark.cifar
@pytest.mark.parametrize("student", ["solution", "stub", "wrong", "looping", "import_key",
                                     "hostile", "shadow", "flat"])
def test_otter_agrees_with_python_m_autograder_question_by_question(graded, student):
    otter, reference, _, _ = graded
    assert set(otter) >= {student}
    assert {q: otter[student][q] for q in QUESTION_IDS} == \
        {q: pytest.approx(reference[student][q], abs=1e-9) for q in QUESTION_IDS}
    assert _total(otter[student]) == pytest.approx(reference[student]["total"], abs=1e-9)


@pytest.mark.slow
@pytest.mark.cifar
def test_one_mistake_per_chapter_gives_partial_marks_on_those_questions_only(graded):
    otter, _, accuracy, _ = graded
    assert BEST_MODEL_ZERO < accuracy["partial"] < BEST_MODEL_FULL
    lost = {q for q in QUESTION_IDS if otter["wrong"][q] < QUESTION_POINTS[q]}
    assert lost == WRONG_QUESTIONS
    partial = {q for q in lost if otter["wrong"][q] > 0}
    assert {"affine_backward", "relu_forward", "inline_q1", "softmax_loss", "two_layer_net",
            "sgd", "best_model"} <= partial


@pytest.mark.slow
@pytest.mark.cifar
def test_a_looping_function_costs_only_its_question_and_the_run_ends(graded):
    otter, _, _, logs = graded
    lost = {q for q in QUESTION_IDS if otter["looping"][q] < QUESTION_POINTS[q]}
    assert lost == LOOPING_QUESTIONS, logs["looping"][-3000:]


@pytest.mark.slow
@pytest.mark.cifar
def test_the_isolation_is_announced_on_the_grading_log(graded):
    _, _, _, logs = graded
    _, description = route_sandbox()
    for student in ("solution", "hostile"):
        ours = [line for line in logs[student].splitlines()
                if line.strip() and not line.startswith("[IPKernelApp]")]
        assert isolation_shape(ours[0]) == isolation_shape(description), \
            logs[student][:2000]


@pytest.mark.slow
@pytest.mark.cifar
def test_importing_the_answer_key_earns_nothing(graded):
    require_bubblewrap()
    otter, _, _, logs = graded
    assert otter["import_key"] == {qid: 0 for qid in QUESTION_IDS}, logs["import_key"][-3000:]


@pytest.mark.slow
@pytest.mark.cifar
@pytest.mark.parametrize("qid", sorted(ATTACKED["hostile"]))
def test_an_attacked_question_earns_no_more_than_all_zero_answers(graded, qid):
    """numpy patched (affine_forward), a relay of the reference layers from the decoupled
    questions (affine_backward), an endless loop in a bare except (relu_backward), a memory
    bomb (softmax_loss), os._exit (svm_loss)."""
    require_bubblewrap()
    otter, reference, _, logs = graded
    assert otter["hostile"][qid] <= reference["zeros"][qid], logs["hostile"][-3000:]


@pytest.mark.slow
@pytest.mark.cifar
def test_the_attacks_cost_nothing_elsewhere(graded):
    otter, _, _, _ = graded
    honest = set(QUESTION_IDS) - ATTACKED["hostile"]
    assert {q: otter["hostile"][q] for q in honest} == {q: QUESTION_POINTS[q] for q in honest}


@pytest.mark.slow
@pytest.mark.cifar
def test_an_upload_shadowing_the_grader_is_put_aside(graded):
    """The driver puts the bundle's own autograder package back before anything imports
    it: the fake checks never run, and the untouched notebooks are graded as they are."""
    otter, reference, _, logs = graded
    _, description = route_sandbox()
    # the bundle's load_submission ran
    assert isolation_shape(description) in isolation_shape(logs["shadow"])
    assert otter["shadow"] == {qid: 0 for qid in QUESTION_IDS}, logs["shadow"][-3000:]
    assert reference["shadow"]["total"] == 0
