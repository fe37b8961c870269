"""Red-team findings: each test is a minimal reproduction of an attack on the grader and
asserts the SAFE behaviour, so a test that fails shows a hole that is still open.

Attacks that the grader defends are kept here too when their regression test is cheap.
"""
import base64
import re
import zlib
from pathlib import Path

import nbformat
import pytest

from autograder_support import REPO, append_cell, notebook, grade_folder, write_submission


def _student_only(stem_notebooks):
    """Every chapter a blank student stub, except those given."""
    from fcnet.chapters import CHAPTERS

    chosen = {stem: notebook(stem, "student") for stem in CHAPTERS}
    chosen.update(stem_notebooks)
    return chosen


# ----------------------------------------------------------------------------------------
# 1. The answer key's layers leak, whole, through the notes of a decoupled question.
#
# The decoupled worker (two_layer_net, training) receives the answer key's layers as
# source text inside the job frame. worker_server._run_child (and worker_runtime.main)
# keep the raw job bytes in a local variable `body` while the student's definitions run,
# so a class body in 04_two_layer_net.ipynb can walk the stack, read the text, and append
# it (compressed) to the `notes` list of run_job. Notes are copied into the student's
# feedback (up to 50 notes of 600 characters), which is plenty for the ~2.4 kB of
# compressed source: one submission gets the whole answer key for chapters 1-3.

LEAK_CELL = '''
class _Leak:
    import sys as _s, zlib as _z, base64 as _b, json as _j
    _f = _s._getframe()
    _src = None
    _notes = None
    while _f is not None:
        _v = _f.f_locals.get('body')
        if _src is None and isinstance(_v, (bytes, bytearray)) and len(_v) > 8:
            _n = int.from_bytes(_v[:8], 'little')
            try:
                _src = _j.loads(bytes(_v[8:8 + _n]).decode()).get('reference')
            except Exception:
                pass
        if _f.f_code.co_name == 'run_job':
            _notes = _f.f_locals.get('notes')
        _f = _f.f_back
    if _src and _notes is not None:
        _data = _b.b64encode(_z.compress(_src.encode(), 9)).decode()
        for _i in range(0, len(_data), 500):
            _notes.append('LEAK%02d:' % (_i // 500) + _data[_i:_i + 500])
'''


def _recover_leak(text):
    chunks = sorted(re.findall(r"LEAK(\d\d):(\S+)", text))
    data = "".join(c for _, c in chunks).replace("\\", "")
    try:
        return zlib.decompress(base64.b64decode(data)).decode()
    except Exception:
        return ""


def test_decoupled_worker_cannot_leak_the_reference_layers(sandbox, tmp_path):
    from autograder import grading

    nb = append_cell(notebook("04_two_layer_net"), LEAK_CELL)
    write_submission(tmp_path / "subs", "mallory", _student_only({"04_two_layer_net": nb}))
    points, outcome = grade_folder(tmp_path / "subs", tmp_path / "out", sandbox,
                                   questions=("two_layer_net",), timeout=30, workers=1)
    feedback = (tmp_path / "out" / "feedback" / "mallory.md").read_text()
    leaked = _recover_leak(feedback)
    reference = grading.reference_source()
    assert "def affine_forward" not in leaked and leaked != reference, \
        f"the feedback carries {len(leaked)} characters of the answer key's layers"



def test_a_layer_question_worker_cannot_leak_the_hidden_probes(sandbox, tmp_path):
    """The same hole in any question: the job bytes also hold fcnet/probes.py (the
    student-side halves of the checks) and every hidden input of the question."""
    nb = append_cell(notebook("02_relu", "student"), LEAK_CELL.replace(".get('reference')",
                                                                       ".get('probes')"))
    write_submission(tmp_path / "subs", "mallory", _student_only({"02_relu": nb}))
    grade_folder(tmp_path / "subs", tmp_path / "out", sandbox, questions=("relu_forward",),
                 timeout=30, workers=1)
    feedback = (tmp_path / "out" / "feedback" / "mallory.md").read_text()
    leaked = _recover_leak(feedback)
    assert "def relu_forward_probe" not in leaked, \
        f"the feedback carries {len(leaked)} characters of fcnet/probes.py"

# ----------------------------------------------------------------------------------------
# 2. A Gradescope display name that looks like another student's stops the whole batch.
#
# layouts.gradescope_export counts repeated names *before* layouts._safe_id cleans them,
# then _add raises LayoutError for two submissions with the same cleaned id. A student
# who sets their Gradescope name to "Alice Smith." (or "Alice Smith ", " Alice Smith",
# or a 121-character name sharing its first 120 characters) collides with "Alice Smith":
# `python -m autograder grade EXPORT` exits 2 and nobody in the batch is graded (and the
# message invites the instructor to delete one of the two).

def _gradescope_export(root, names):
    root.mkdir()
    lines = []
    for i, name in enumerate(names, 1):
        (root / f"submission_{i}").mkdir()
        lines += [f"submission_{i}:", "  :submitters:", f"  - :name: '{name}'",
                  f"    :sid: '{i}'"]
    (root / "submission_metadata.yml").write_text("\n".join(lines) + "\n")


@pytest.mark.parametrize("lookalike", ["Alice Smith.", "Alice Smith ", " Alice Smith"])
def test_a_lookalike_gradescope_name_does_not_stop_the_batch(tmp_path, lookalike):
    from autograder.submissions import UsageError, discover

    root = tmp_path / "export"
    _gradescope_export(root, ["Alice Smith", lookalike])
    try:
        found = discover(root)
    except UsageError as err:
        pytest.fail(f"one student's display name stops the whole batch: {err}")
    assert len({s.student for s in found}) == 2



def test_a_student_who_takes_anothers_gradescope_name_is_told_apart(tmp_path):
    """Same cause, no crash: a student who renames themselves "Alice Smith" exactly gets
    "Alice Smith (submission_2)" beside the real Alice's "Alice Smith (submission_1)";
    grades.csv then holds two Alice Smith rows that only Gradescope's folder names tell
    apart, and the unique :sid: / :email: of the metadata is thrown away."""
    from autograder.submissions import discover

    root = tmp_path / "export"
    _gradescope_export(root, ["Alice Smith", "Alice Smith"])
    ids = [s.student for s in discover(root)]
    assert all(any(sid in student for sid in ("1", "2")) and "submission_" not in student
               for student in ids), f"ids that do not name the student uniquely: {ids}"

# ----------------------------------------------------------------------------------------
# 3. nbgrader's pre-convert hook crashes on a renamed chapter (found while attacking the
# nbgrader route): autograder/routes/nbgrader_route.py:name_chapters calls os.utime but the
# module never imports os. nbgrader logs the NameError and skips the hook, so the copy
# "Copy of 01_affine_layer.ipynb" (the case the hook exists for) is not graded: the honest
# student gets 0 for chapter 1. (tests/test_submission_layouts.py's hook test fails too.)

def test_the_nbgrader_hook_handles_a_renamed_chapter(tmp_path):
    from autograder.routes.nbgrader_route import name_chapters

    folder = tmp_path / "submitted" / "bob" / "two_layer_net"
    folder.mkdir(parents=True)
    source = REPO / "solutions" / "notebooks" / "01_affine_layer.ipynb"
    (folder / "Copy of 01_affine_layer.ipynb").write_bytes(source.read_bytes())
    notebooks = [str(folder / "Copy of 01_affine_layer.ipynb")]
    name_chapters(notebooks=notebooks)
    assert str(folder / "01_affine_layer.ipynb") in notebooks


# ----------------------------------------------------------------------------------------
# 4. The student id goes unescaped into the Markdown feedback heading.
#
# results.feedback_markdown escapes every note, message and hint with _md, but writes
# "# Feedback for {student}" raw. A folder/zip name (or a Gradescope name: _safe_id keeps
# [ ] ( ) ! and spaces) such as "x](https://evil.example/track.png)" turns the heading
# into a link or image when the feedback is rendered (an LMS, GitHub, a Markdown viewer).

def test_the_student_id_is_escaped_in_markdown_feedback():
    from autograder.reports.results import feedback_markdown

    student = "![x](https://evil.example/pixel.png) <img src=x onerror=alert(1)>"
    text = feedback_markdown(student, {}, [], questions=())
    heading = text.splitlines()[0]
    assert "](" not in heading.replace("\\]", "") and "<img" not in heading


# ----------------------------------------------------------------------------------------
# 5. best_model.npz: full points without training anything, by a closed-form fit to the
# very images and labels the grader scores.
#
# CIFAR-10's test labels are public (fcnet.data_utils.get_CIFAR10_data(num_test=10000)
# hands them out). W1 = identity, b1 = a large constant (so the ReLU is the identity) and
# W2, b2 from one ridge regression onto the test labels reach ~70% test accuracy (full
# points from autograder/points.py's BEST_MODEL_FULL), with every chapter a stub.
# Defended (autograder/best_model.py): the accuracy that counts is the lowest over the
# test images, their mirror images and 10,000 training images drawn at grading time,
# where such a fit scores like any linear model. The yardstick is the same closed-form fit made honestly, to as many training
# images: the attack must earn no more (benchmarks/best_model_views.py measures both on
# every view, with the full training set too).

def _ridge_model(X, y, reg=1e4, shift=1000.0):
    import numpy as np

    X = X.reshape(len(X), -1).astype(np.float64)
    targets = -np.ones((len(y), 10))
    targets[np.arange(len(y)), y] = 1
    A = np.hstack([X, np.ones((len(X), 1))])
    W = np.linalg.solve(A.T @ A + reg * np.eye(A.shape[1]), A.T @ targets)
    return {"W1": np.eye(X.shape[1]), "b1": np.full(X.shape[1], shift),
            "W2": W[:-1], "b2": W[-1] - shift * W[:-1].sum(axis=0)}


@pytest.mark.cifar
def test_a_model_fit_to_the_graded_test_labels_earns_no_more_than_an_honest_fit(
        cifar10_archive, sandbox, tmp_path):
    import numpy as np

    from autograder_support import model_bytes
    from fcnet.data_utils import get_CIFAR10_data

    data = get_CIFAR10_data(num_test=10000, dtype=np.float32)  # centred as graded
    write_submission(tmp_path / "subs", "mallory", kind="student",
                     model=model_bytes(_ridge_model(data["X_test"], data["y_test"])))
    write_submission(tmp_path / "subs", "honest", kind="student", model=model_bytes(
        _ridge_model(data["X_train"][:10000], data["y_train"][:10000])))
    points, outcome = grade_folder(tmp_path / "subs", tmp_path / "out", sandbox,
                                   questions=("best_model",), workers=1)
    message = outcome.grades["mallory"]["results"]["best_model"].checks[0].message
    assert points["mallory"]["best_model"] <= points["honest"]["best_model"] + 1.0, \
        f"a least-squares fit to the graded labels earns more than an honest one: {message}"
    assert points["honest"]["best_model"] < 6, "the honest linear yardstick is not ordinary"


# ----------------------------------------------------------------------------------------
# 6. otter run: a notebook at the top of the upload replaces the bundle's driver.
#
# otter's PythonRunner.resolve_submission_path executes the one *.ipynb at the top of the
# submission folder, and only when there is none the one *.py (the bundle's driver
# grade_two_layer_net.py). An upload holding one top-level notebook is therefore executed
# in otter's kernel, where answer_key and autograder are importable, and the bundle's
# tests read *its* `fcnet_submission`: a GradedSubmission it builds with every check
# "passed" scores 100/100 with every chapter a stub (and otter_route._set_question_score
# passes any number to TestFile.update_score, which does not clamp it). On Gradescope
# run_autograder moves uploads into uploaded/ first; `otter run` (route 2) does not.
#
# Fixed in depth: `python -m autograder.routes.otter_route run` (the supported way to run otter
# on your own machine) puts the upload in a folder of its own before otter sees it, as
# run_autograder does; and the test files accept only a result sealed by this run's
# driver, with scores clamped, so even a raw `otter run` that executes the forged
# notebook scores nothing.

FORGE_NOTEBOOK = '''from autograder.routes.otter_route import GradedSubmission
from autograder import hidden_checks
from autograder.points import QUESTION_POINTS
fcnet_submission = GradedSubmission({"results": {q: {"qid": q, "points": QUESTION_POINTS[q],
    "max_points": QUESTION_POINTS[q], "notes": [],
    "checks": [{"name": c.name, "status": "passed", "message": "", "hint": ""}
               for c in hidden_checks.checks_for(q)]} for q in QUESTION_POINTS}})
'''


def _otter_command(route, upload, bundle, out):
    import sys

    if route == "otter run":
        return [str(Path(sys.executable).parent / "otter"), "run", "-a", str(bundle),
                "-o", str(out), "--no-logo", str(upload)]
    return [sys.executable, "-m", "autograder.routes.otter_route", "run", str(upload),
            "-a", str(bundle), "-o", str(out)]


@pytest.mark.slow
@pytest.mark.parametrize("route", ["otter run", "staged"])
def test_otter_run_grades_the_bundle_driver_not_an_uploaded_notebook(tmp_path, route):
    import json
    import os
    import subprocess
    import sys
    import zipfile

    otter = Path(sys.executable).parent / "otter"
    bundle = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
    if not otter.is_file() or not bundle.is_file():
        pytest.skip("otter or the otter bundle is not available")
    upload = tmp_path / "mallory.zip"
    forge = nbformat.v4.new_notebook()
    forge.cells.append(nbformat.v4.new_code_cell(FORGE_NOTEBOOK))
    forge.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3",
                                    "language": "python"}
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr("forge.ipynb", nbformat.writes(forge))
        for path in sorted((REPO / "exercises").glob("*.ipynb")):
            archive.write(path, f"mallory/{path.name}")
    out = tmp_path / "results"
    out.mkdir()
    env = {**os.environ, "FCNET_GRADING_TIMEOUT": "20"}
    run = subprocess.run(_otter_command(route, upload, bundle, out), env=env,
                         capture_output=True, text=True, timeout=900)
    results = out / "results.json"
    assert results.is_file(), run.stdout[-2000:] + run.stderr[-2000:]
    tests = json.loads(results.read_text())["tests"]
    total = sum(t.get("score") or 0 for t in tests)
    assert total == 0, f"an all-stub upload with a forged notebook scores {total}"


# ----------------------------------------------------------------------------------------
# 7. Gradescope: an uploaded *file* named `uploaded` disables run_autograder's pre-step.
#
# The bundle's run_autograder (course_build/otter_bundle.py writes it) runs
#     mkdir -p /autograder/submission/uploaded
#     find /autograder/submission -mindepth 1 -maxdepth 1 ! -name uploaded -exec mv -t ... {} +
# without `set -e` and without checking that `uploaded` is a folder it made. When the
# upload holds a regular file called `uploaded`, mkdir fails, mv fails ("Not a
# directory"), the script carries on, and every uploaded entry stays at the top of the
# submission folder: a top-level notebook is then what otter executes (attack 6), now on
# Gradescope, as root, next to the answer key.

@pytest.mark.parametrize("squatter", ["file", "folder", "link"])
def test_gradescope_pre_step_moves_every_upload_aside(tmp_path, squatter):
    import subprocess
    import zipfile

    from course_build.otter_bundle import PRE_STEP_BEGIN, PRE_STEP_END

    bundle = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
    if not bundle.is_file():
        pytest.skip("the otter bundle is not built")
    script = zipfile.ZipFile(bundle).read("run_autograder").decode()
    pre_step = script.split(PRE_STEP_BEGIN)[1].split(PRE_STEP_END)[0]
    pre_step = "\n".join(pre_step.splitlines()[1:])
    pre_step = re.sub(r"(?<![\w])/autograder", str(tmp_path / "autograder"), pre_step)
    submission = tmp_path / "autograder" / "submission"
    submission.mkdir(parents=True)
    for name in ("files/answer_key", "files/autograder", "tests"):
        (tmp_path / "autograder" / "source" / name).mkdir(parents=True)
    for name in ("uploaded", "uploaded.XXXXXXXX"):  # the folder names the pre-step uses
        if squatter == "file":
            (submission / name).write_text("not a folder\n")
        elif squatter == "folder":
            (submission / name).mkdir()
        else:
            (submission / name).symlink_to(tmp_path / "elsewhere")
    (submission / "forge.ipynb").write_text("{}")
    (submission / ".OTTER_LOG").write_bytes(b"pickle")
    (submission / "-rf").write_text("a name that looks like an option")
    run = subprocess.run(["bash", "-c", pre_step], capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    top = sorted(p.name for p in submission.iterdir())
    assert len(top) == 1 and top[0].startswith("uploaded.") and top[0] != "uploaded.XXXXXXXX", \
        f"uploads left where otter looks for the file to execute: {top}"
    aside = sorted(p.name for p in (submission / top[0]).iterdir())
    assert aside == sorted(["-rf", "forge.ipynb", "uploaded", "uploaded.XXXXXXXX"])


def test_gradescope_pre_step_stops_grading_when_a_move_fails(tmp_path):
    """The pre-step fails closed: a failed step (here: the submission folder is not
    writable, so nothing can be moved) ends run_autograder before otter starts."""
    import subprocess
    import zipfile

    from course_build.otter_bundle import PRE_STEP_BEGIN, PRE_STEP_END

    bundle = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
    if not bundle.is_file():
        pytest.skip("the otter bundle is not built")
    script = zipfile.ZipFile(bundle).read("run_autograder").decode()
    script = script.split(PRE_STEP_BEGIN)[1]
    script = "\n".join(script.splitlines()[1:])  # the pre-step, then otter's start
    script = re.sub(r"(?<![\w])/autograder", str(tmp_path / "autograder"), script)
    script = script.replace("python ", "touch STARTED; : ")
    (tmp_path / "autograder" / "submission").mkdir(parents=True)
    (tmp_path / "autograder" / "submission" / "forge.ipynb").write_text("{}")
    # mktemp cannot make a folder inside a path that is a file
    fake = tmp_path / "autograder" / "submission"
    (fake / "forge.ipynb").rename(tmp_path / "forge.ipynb")
    fake.rmdir()
    fake.write_text("a file where the submission folder should be")
    run = subprocess.run(["bash", "-c", script], capture_output=True, text=True, cwd=tmp_path)
    assert run.returncode != 0
    assert not (tmp_path / "STARTED").exists(), "otter started after a failed pre-step"


# ----------------------------------------------------------------------------------------
# 8. A student id of 251+ characters stops the batch's feedback.
#
# results.write_feedback writes feedback/<student>.md and .html with the id as it is. A
# folder or zip name of 251 to 255 bytes (legal; LMS downloads prefix long names) makes
# "<id>.html" longer than NAME_MAX: OSError escapes results.write_all, the grader ends with
# a traceback, and every student sorted after that id gets no feedback file.

def test_a_long_student_id_does_not_stop_the_batch_feedback(sandbox, tmp_path):
    subs = tmp_path / "subs"
    long_id = "a" * 251
    write_submission(subs, long_id, kind="student")
    write_submission(subs, "alice", kind="student")
    try:
        grade_folder(subs, tmp_path / "out", sandbox, questions=("inline_q1",), workers=1)
    except OSError as err:
        pytest.fail(f"the batch's report stopped: {err.strerror}")
    assert (tmp_path / "out" / "feedback" / "alice.md").is_file()


# ----------------------------------------------------------------------------------------
# 9. otter run: a pickle named .OTTER_LOG at the top of the upload runs as the grader.
#
# otter's PythonRunner.run loads `.OTTER_LOG` from the submission folder whenever it is
# there (LogEntry.log_from_file: dill.load), before anything of the bundle runs, in the
# grading process itself (not the kernel, not a sandbox): arbitrary code as root, next
# to the answer key and results.json. On Gradescope, the upload is moved aside first,
# unless attack 7 (a file named `uploaded`) stops that move.
#
# Nothing in the bundle runs before otter reads the log, so a raw `otter run` on an
# untrusted upload cannot be made safe: README and SECURITY.md say to run otter on your
# own machine through `python -m autograder.routes.otter_route run`, which drops top-level
# hidden files and puts the rest in a folder of its own first (run_autograder does the
# same on Gradescope, failing closed; see the pre-step tests above).

@pytest.mark.slow
def test_otter_run_never_unpickles_an_uploaded_log(tmp_path):
    import os
    import pickle
    import subprocess
    import sys
    import zipfile

    otter = Path(sys.executable).parent / "otter"
    bundle = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
    if not otter.is_file() or not bundle.is_file():
        pytest.skip("otter or the otter bundle is not available")
    marker = tmp_path / "PWNED"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"id > {marker}",))

    upload = tmp_path / "mallory.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr(".OTTER_LOG", pickle.dumps(Payload()))
        for path in sorted((REPO / "exercises").glob("*.ipynb")):
            archive.write(path, f"mallory/{path.name}")
    out = tmp_path / "results"
    out.mkdir()
    env = {**os.environ, "FCNET_GRADING_TIMEOUT": "20"}
    run = subprocess.run(_otter_command("staged", upload, bundle, out), env=env,
                         capture_output=True, text=True, timeout=900)
    assert not marker.exists(), f"the upload's pickle ran in the grader: {marker.read_text()}"
    assert (out / "results.json").is_file(), run.stdout[-2000:] + run.stderr[-2000:]


# ----------------------------------------------------------------------------------------
# Defended (cheap regressions): crafted best_model.npz files are refused before any
# pickle runs or any large allocation happens (autograder/best_model.py:load_params).

def _npz(members):
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _npy(array, allow_pickle=False):
    import io

    import numpy as np

    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array, allow_pickle=allow_pickle)
    return buffer.getvalue()


def test_crafted_models_are_refused(tmp_path):
    import io
    import os
    import pickle

    import numpy as np

    from autograder.best_model import InvalidModel, load_params

    marker = tmp_path / "ran"

    class Payload:
        def __reduce__(self):
            return (os.system, (f"touch {marker}",))

    good = {"W1": np.zeros((3072, 8)), "b1": np.zeros(8), "W2": np.zeros((8, 10)),
            "b2": np.zeros(10)}
    members = {f"{k}.npy": _npy(v) for k, v in good.items()}
    huge = io.BytesIO()
    np.lib.format.write_array_header_1_0(huge, {"descr": "<f8", "fortran_order": False,
                                                "shape": (3072, 10 ** 9)})
    cases = {
        "pickle": {**members, "W1.npy": _npy(np.array([Payload()], dtype=object), True)},
        "object": {**members, "b1.npy": _npy(np.array([None] * 8, dtype=object), True)},
        "nan": {**members, "W2.npy": _npy(np.full((8, 10), np.nan))},
        "huge": {**members, "W1.npy": huge.getvalue()},
        "ints": {**members, "b2.npy": _npy(np.zeros(10, dtype=np.int64))},
        "raw pickle": {"W1.npy": pickle.dumps(Payload())},
    }
    for name, files in cases.items():
        with pytest.raises(InvalidModel):
            load_params(_npz(files))
    assert not marker.exists()


# ----------------------------------------------------------------------------------------
# 10. training: full points with neither a network nor sgd, from weights fitted offline
# to public images.
#
# The training question used to train on images 0-1999 and score on images 48000-48999
# (disclosed), so a ridge fit made offline, embedded in the notebook as a literal list,
# reached any threshold: a fake TwoLayerNet (random init, loss returning zero gradients)
# and a fake sgd that swaps in the fitted arrays by shape earned 5/5 for training while
# sgd and two_layer_net earned 0. Defended (autograder/training_question.py): the images
# are drawn at grading time from all 50,000, every image's 3,072 numbers are scrambled in
# a secret order with secret signs (which a fully connected net learns just as well), the
# held-out images never reach the worker, and the weights must keep the shapes the
# constructor was asked for. The offline fit here uses 10,000 training images in a
# 50-unit net of the right shapes; without the scramble it scores about 37% on any
# held-out CIFAR-10 images, far above the 22% threshold.

@pytest.mark.cifar
@pytest.mark.slow
def test_training_points_need_a_network_that_was_trained(cifar10_archive, sandbox, tmp_path):
    nb = append_cell(notebook("05_solver", "student"), offline_training_cell())
    write_submission(tmp_path / "subs", "mallory", _student_only({"05_solver": nb}))
    points, outcome = grade_folder(tmp_path / "subs", tmp_path / "out", sandbox,
                                   questions=("sgd", "training"), timeout=60, workers=1)
    assert points["mallory"]["sgd"] == 0
    assert points["mallory"]["training"] == 0, \
        "weights fitted offline to public images earn the training points: " + \
        str([c.message for c in outcome.grades["mallory"]["results"]["training"].checks])


def offline_training_cell():
    """The attack's notebook cell (benchmarks/hostile_submissions.py uses it too): a fake
    sgd that writes a 50-unit net fitted offline (ridge on 10,000 training images)."""
    import numpy as np

    from fcnet.data_utils import get_CIFAR10_data

    data = get_CIFAR10_data(num_test=0, dtype=np.float32)  # centred as graded
    fit = _ridge_model(data["X_train"][:10000], data["y_train"][:10000])
    b2 = fit["b2"] + 1000.0 * fit["W2"].sum(axis=0) - 1000.0
    return FAKE_TRAINING.replace("W1_LIST", repr(np.round(fit["W2"], 7).tolist())) \
        .replace("B2_LIST", repr(b2.tolist()))


def test_training_weights_must_keep_the_constructed_shapes():
    """A net of another size (W1 3072 x 3072, say) is not the one the graded run built."""
    import numpy as np

    from autograder.training_question import trained_params
    from fcnet.checking import CheckFailed

    case = {"D": 3072, "hidden_dim": 50}
    right = {"W1": np.zeros((3072, 50)), "b1": np.zeros(50), "W2": np.zeros((50, 10)),
             "b2": np.zeros(10)}
    assert set(trained_params(case, right)) == {"W1", "b1", "W2", "b2"}
    for key, shape in (("W1", (3072, 3072)), ("b1", (3072,)), ("W2", (3072, 10)),
                       ("b2", (11,))):
        with pytest.raises(CheckFailed, match="shape"):
            trained_params(case, {**right, key: np.zeros(shape)})


def test_grader_only_case_keys_never_reach_a_worker():
    """Case keys starting with "_" (the training question's held-out images) stay in the
    grader: neither the job's arrays nor its scalars nor the shared files carry them."""
    import numpy as np

    from autograder import engine
    from autograder.grading import ProbeTask

    class Shared:
        def __init__(self):
            self.names = []

        def add(self, name, array):
            self.names.append(name)
            return f"/shared/{name}"

    class FakeSandbox:
        lib, shared = "/lib", Shared()

    rng = np.random.default_rng(0)
    case = {"X_train": rng.standard_normal((600, 3072)), "y_train": np.zeros(600, int),
            "_X_held_out": rng.standard_normal((600, 3072)), "_y_held_out": np.ones(600, int),
            "_secret": 12345, "np_seed": 3}
    jobs = engine._Jobs(FakeSandbox(), engine.Settings(), {"training": {"c": case}})
    task = ProbeTask("training_probe@c", "training_probe", "c", ("TwoLayerNet",), 1)
    entries, blob = jobs._cases_part("training", [task], {"c": case})
    sent = repr(entries) + " ".join(FakeSandbox.shared.names)
    assert "_held_out" not in sent and "_secret" not in sent and "12345" not in sent
    assert "X_train" in sent
    import io
    names = np.load(io.BytesIO(blob)).files if blob else []
    assert not any("_held_out" in n for n in names)


FAKE_TRAINING = '''import numpy as np
_W1_COLUMNS = W1_LIST
_B2 = B2_LIST


def _fitted(shape):
    W1 = np.zeros((3072, 50))
    W1[:, :10] = np.array(_W1_COLUMNS)
    b1 = np.zeros(50)
    b1[:10] = 1000.0
    W2 = np.zeros((50, 10))
    W2[:10] = np.eye(10)
    return {(3072, 50): W1, (50,): b1, (50, 10): W2, (10,): np.array(_B2)}.get(shape)


def sgd(w, dw, config=None):
    config = {} if config is None else config
    fitted = _fitted(w.shape)
    return (w if fitted is None else fitted), config

class TwoLayerNet:
    def __init__(self, input_dim=3072, hidden_dim=50, num_classes=10, weight_scale=1e-3,
                 reg=0.0, dtype=np.float64):
        self.params = {"W1": weight_scale * np.random.randn(input_dim, hidden_dim),
                       "b1": np.zeros(hidden_dim),
                       "W2": weight_scale * np.random.randn(hidden_dim, num_classes),
                       "b2": np.zeros(num_classes)}

    def loss(self, X, y=None):
        p = self.params
        scores = np.maximum(X.reshape(len(X), -1) @ p["W1"] + p["b1"], 0) @ p["W2"] + p["b2"]
        if y is None:
            return scores
        return 1.0, {k: np.zeros_like(v) for k, v in p.items()}
'''


# ----------------------------------------------------------------------------------------
# Defended (ordering): the decoupled questions' sandbox is started early, to save time,
# but must get its first task (the job holding the reference layers) only after the
# sandbox of the student's own code questions has been closed.

def test_the_decoupled_sandbox_gets_no_task_before_the_code_sandbox_closed(tmp_path):
    from autograder import engine
    from autograder.sandbox import WorkerRun
    from autograder.sandbox.confine import SharedFolder

    events = []

    class FakeSession:
        def __init__(self, number):
            self.number = number
            events.append(("open", number))

        def prepare(self):
            events.append(("prepare", self.number))

        def run(self, job_body, limits):
            events.append(("run", self.number, b'"reference": null' not in job_body))
            return WorkerRun(fault="fake")

        def close(self):
            events.append(("close", self.number))

    class FakeSandbox:
        description, lib = "isolation: fake", "/lib"
        shared = SharedFolder()  # the at-scale cases are large: they travel as shared files
        opened = 0

        def session(self):
            FakeSandbox.opened += 1
            return FakeSession(FakeSandbox.opened)

    write_submission(tmp_path / "subs", "alice", kind="solution")
    settings = engine.Settings(workers=1, sandbox=FakeSandbox(), progress=False,
                               questions=("affine_forward", "relu_forward", "two_layer_net"))
    try:
        engine.grade(tmp_path / "subs", tmp_path / "out", settings, announce=lambda line: None)
    finally:
        FakeSandbox.shared.close()
    runs = [e for e in events if e[0] == "run"]
    assert [e[2] for e in runs] == [False, False, True]  # the reference only in the last
    code, decoupled = runs[0][1], runs[-1][1]
    assert code != decoupled
    last_code_run = max(i for i, e in enumerate(events) if e[0] == "run" and e[1] == code)
    decoupled_run = events.index(runs[-1])
    assert any(last_code_run < i < decoupled_run
               for i, e in enumerate(events) if e == ("close", code))
    assert ("prepare", decoupled) in events  # started early, used late
