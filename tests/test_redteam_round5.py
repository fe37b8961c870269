"""Red-team findings, round 5 (newest changes: the notebook-only checks in the question
modules, best_model's scale and the graded run's settings declared in fcnet, which
autograder/points.py imports; traits asked of fcnet.questions). Each test replays an
attack on every route it applies to. A test that asserts the safe behaviour and passes
guards a defence; a strict xfail is an attack that still works (its reason says how).

The routes: `python -m autograder` (engine.grade), and the otter and nbgrader routes,
which both grade through autograder.routes.lms_grading.grade_submission and then report
the question's points (otter_route._clamped, nbgrader_route.cell_report).
"""
import subprocess
import sys
from pathlib import Path

import pytest

from autograder_support import (REPO, append_cell, grade_folder, notebook,
                                write_submission)


def _student_only(stem_notebooks):
    """Every chapter a blank student stub, except those given."""
    from fcnet.chapters import CHAPTERS

    chosen = {stem: notebook(stem, "student") for stem in CHAPTERS}
    chosen.update(stem_notebooks)
    return chosen


def _points_on_every_route(root, student, sandbox, tmp_path, questions, timeout=60):
    """{route: {qid: points}} for the submission root/student on the three routes."""
    from autograder.routes import lms_grading
    from autograder.routes.nbgrader_route import cell_report
    from autograder.routes.otter_route import _clamped

    engine_points, _ = grade_folder(root, tmp_path / "out", sandbox, questions=questions,
                                    timeout=timeout, workers=1)
    graded = lms_grading.grade_submission(root / student, student=student, sandbox=sandbox,
                                          timeout=timeout, questions=questions,
                                          announce=lambda line: None)
    return {"python -m autograder": engine_points[student],
            "otter": {q: _clamped(q, graded["results"][q]["points"]) for q in questions},
            "nbgrader": {q: cell_report(graded, q)[1] for q in questions}}


# ----------------------------------------------------------------------------------------
# 1. training's loss_decreases check (1 of the question's 4 weights: 1.25 points) compares
#    the training loss of the parameters the constructor made with that of the parameters
#    training left. Both come from the student's code, and the judge does not ask whether
#    the start is the one TwoLayerNet was asked for (weight_scale=1e-3). A constructor that
#    ignores weight_scale (W2 scaled by 1,000: a loss in the hundreds) and an sgd that
#    returns zeros (a loss of ln 10 afterwards) "lower the loss" with no network, no
#    gradient and no training at all. Defended: the loss to beat is 95% of the lower of
#    the start and chance, ln 10, where a network built as asked starts
#    (fcnet.graded_training.loss_to_beat), in the grader and in grader.check alike.

NO_TRAINING = '''import numpy as np


def sgd(w, dw, config=None):
    return np.zeros_like(w), ({} if config is None else config)


class TwoLayerNet:
    def __init__(self, input_dim=3072, hidden_dim=50, num_classes=10, weight_scale=1e-3,
                 reg=0.0, dtype=np.float64):
        self.params = {"W1": np.random.randn(input_dim, hidden_dim),
                       "b1": np.ones(hidden_dim),
                       "W2": 1000.0 * np.random.randn(hidden_dim, num_classes),
                       "b2": np.zeros(num_classes)}

    def loss(self, X, y=None):
        if y is None:
            return np.zeros((len(X), 10))
        return 0.0, {k: np.zeros_like(v) for k, v in self.params.items()}
'''


@pytest.mark.cifar
@pytest.mark.slow
def test_training_loss_check_needs_a_start_the_constructor_was_asked_for(
        cifar10_archive, sandbox, tmp_path):
    nb = append_cell(notebook("05_solver", "student"), NO_TRAINING)
    write_submission(tmp_path / "subs", "mallory", _student_only({"05_solver": nb}))
    points = _points_on_every_route(tmp_path / "subs", "mallory", sandbox, tmp_path,
                                    ("training",))
    assert points == {route: {"training": 0} for route in points}, points


# ----------------------------------------------------------------------------------------
# 2. The numbers and lists the grader reads now live in fcnet, which the student's code
#    imports: the points table (each module's POINTS), the checks and their judges (each
#    module's CHECKS and NOTEBOOK_CHECKS), the graded run's settings and thresholds
#    (fcnet.graded_training) and best_model's scale (fcnet.questions.best_model). A class
#    body runs when the chapter is loaded, so it can rewrite all of them. Defended: it
#    runs in a worker, whose fcnet is its own copy; the grader reads its own. The stub
#    affine_forward refuses to answer unless the rewrite happened, so the test knows the
#    attack ran where the student's code runs.

REWRITE = '''import numpy as np
import fcnet.graded_training as _training
import fcnet.questions as _registry
import fcnet.questions.best_model as _best


def _always_passes(case, out):
    return None


class _Rewrite:
    for _module in _registry.MODULES:
        _module.POINTS = 1000
        for _check in [*_module.CHECKS, *getattr(_module, "NOTEBOOK_CHECKS", ())]:
            object.__setattr__(_check, "judge", _always_passes)
            object.__setattr__(_check, "weight", 1000)
    _training.GRADED_TRAINING.update(num_epochs=0, hidden_dim=1)
    _training.TRAINING_THRESHOLD = _training.TRAINING_LEARNS = 0.0
    _best.BEST_MODEL_FULL, _best.BEST_MODEL_ZERO = 0.0, -1.0


def affine_forward(x, w, b):
    if _best.BEST_MODEL_FULL != 0.0 or _registry.QUESTIONS["affine_forward"].POINTS != 1000:
        raise RuntimeError("the rewrite did not run")
    return np.zeros((x.shape[0], w.shape[1]), dtype=x.dtype), (x, w, b)
'''


def test_a_notebook_that_rewrites_fcnets_grading_numbers_changes_no_grade(sandbox, tmp_path):
    from autograder import points
    from fcnet.questions import QUESTIONS, best_model

    nb = append_cell(notebook("01_affine_layer", "student"), REWRITE)
    write_submission(tmp_path / "subs", "mallory", _student_only({"01_affine_layer": nb}))
    graded = _points_on_every_route(tmp_path / "subs", "mallory", sandbox, tmp_path,
                                    ("affine_forward",))
    assert graded == {route: {"affine_forward": 0} for route in graded}, graded
    _, outcome = grade_folder(tmp_path / "subs", tmp_path / "out2", sandbox,
                              questions=("affine_forward",), workers=1)
    checks = outcome.grades["mallory"]["results"]["affine_forward"].checks
    # The rewrite ran in the worker: the stub answered (zeros), it did not raise.
    assert not any("did not run" in c.message for c in checks), [c.message for c in checks]
    assert any(c.status == "failed" for c in checks), [(c.name, c.status) for c in checks]
    # ...and the grader's own numbers are untouched.
    assert points.QUESTION_POINTS["affine_forward"] == QUESTIONS["affine_forward"].POINTS == 10
    assert (points.BEST_MODEL_FULL, points.BEST_MODEL_ZERO) == \
        (best_model.BEST_MODEL_FULL, best_model.BEST_MODEL_ZERO) == (0.53, 0.47)
    assert points.TRAINING["num_epochs"] == 4 and points.TRAINING_THRESHOLD == 0.22


# ----------------------------------------------------------------------------------------
# 3. otter's kernel imports optional modules after the driver's check. The bundle's driver
#    moves aside the uploaded modules "named like a real one": a name already imported,
#    in the standard library or installed. A library the grader imports afterwards may try
#    a module that is none of these (tqdm.utils tries `envwrap`, lark tries `regex` and
#    `interegular`, jsonschema tries `rfc3987`) and carry on without it. An upload holding
#    a package of that name, next to the driver in the folder otter runs the kernel in, is
#    imported there, outside every sandbox, after the grader: it replaces hidden_check, and
#    every test file then gives its question full points. Measured: an all-stub upload
#    scores 100 of 100 on a raw `otter run` (which SECURITY.md and docs/instructors.md tell
#    instructors never to use on an upload; the driver's check is the depth behind that).
#    `python -m autograder.routes.otter_route run` (and Gradescope's pre-step) put the
#    upload in a folder of its own first: there it earns nothing.

OPTIONAL_MODULES = ("envwrap", "regex", "interegular", "rfc3987", "atomicwrites")

FORGE_ON_IMPORT = '''import sys

route = sys.modules.get("autograder.routes.otter_route")
if route is not None and not getattr(route, "_forged", False):
    from autograder.points import QUESTION_POINTS

    def hidden_check(graded, qid, name, _route=route):
        _route._set_question_score(qid, float(QUESTION_POINTS[qid]))

    route.hidden_check = hidden_check
    route._forged = True
raise ImportError("as if it were not installed")
'''


@pytest.mark.slow
@pytest.mark.parametrize("route", [
    "otter run", "staged"])
# As a package, as a namespace package (`from envwrap import envwrap` imports the folder's
# envwrap.py), and as a module file at the top of the upload.
@pytest.mark.parametrize("layout", ["{name}/__init__.py", "{name}/{name}.py", "{name}.py"],
                         ids=["package", "namespace", "module"])
def test_an_uploaded_optional_module_never_runs_in_the_otter_kernel(tmp_path, route, layout):
    import json
    import os
    import zipfile

    from test_redteam import _otter_command

    otter = Path(sys.executable).parent / "otter"
    bundle = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
    if not otter.is_file() or not bundle.is_file():
        pytest.skip("otter or the otter bundle is not available")
    upload = tmp_path / "mallory.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        for name in OPTIONAL_MODULES:
            archive.writestr(layout.format(name=name), FORGE_ON_IMPORT)
        for path in sorted((REPO / "exercises").glob("*.ipynb")):
            archive.write(path, f"mallory/{path.name}")
    out = tmp_path / "results"
    out.mkdir()
    run = subprocess.run(_otter_command(route, upload, bundle, out),
                         env={**os.environ, "FCNET_GRADING_TIMEOUT": "20"},
                         capture_output=True, text=True, timeout=900)
    results = out / "results.json"
    if route == "otter run" and layout == "{name}.py" and not results.is_file():
        # otter itself refuses an upload with Python files beside its driver: no score.
        assert "More than one Python file found in submission" in run.stdout + run.stderr
        return
    assert results.is_file(), run.stdout[-2000:] + run.stderr[-2000:]
    total = sum(t.get("score") or 0 for t in json.loads(results.read_text())["tests"])
    assert total == 0, f"an all-stub upload with optional-module packages scores {total}"


# ----------------------------------------------------------------------------------------
# 4. The registry finds questions with pkgutil in fcnet/questions/. A submission that holds
#    its own fcnet/questions/zz_bonus.py (a question worth 1,000 points whose check always
#    passes) and an fcnet/graded_training.py with no threshold, next to stub notebooks:
#    no route may import them. Defended: python -m autograder and nbgrader read a
#    submission as data; the staged otter route puts the upload in a folder of its own,
#    below the bundle's fcnet.

BONUS_QUESTION = '''from fcnet.checking import Check
ID = "zz_bonus"
CHAPTER = "01_affine_layer"
ORDER = 99
POINTS = 1000
GRADES = ()
MISTAKES = ()


def _probe(ns, case):
    return {}


CHECKS = [Check("zz_bonus", "free", "free points", "", (), "zz_bonus.free",
                lambda rng: {}, _probe, lambda case, out: None)]
'''

NO_THRESHOLD = "GRADED_TRAINING = {}\nTRAINING_THRESHOLD = TRAINING_LEARNS = 0.0\n"


def _add_fake_fcnet(folder):
    (folder / "fcnet" / "questions").mkdir(parents=True)
    (folder / "fcnet" / "__init__.py").write_text("")
    (folder / "fcnet" / "questions" / "zz_bonus.py").write_text(BONUS_QUESTION)
    (folder / "fcnet" / "graded_training.py").write_text(NO_THRESHOLD)


def test_a_submitted_fcnet_question_is_never_registered(sandbox, tmp_path):
    folder = write_submission(tmp_path / "subs", "mallory", _student_only({}))
    _add_fake_fcnet(folder)
    graded = _points_on_every_route(tmp_path / "subs", "mallory", sandbox, tmp_path,
                                    ("affine_forward", "inline_q1"))
    assert graded == {route: {"affine_forward": 0, "inline_q1": 0} for route in graded}
    from fcnet.questions import QUESTIONS

    assert "zz_bonus" not in QUESTIONS


@pytest.mark.slow
def test_a_staged_otter_upload_with_its_own_fcnet_registers_nothing(tmp_path):
    import json
    import os
    import zipfile

    bundle = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
    if not (Path(sys.executable).parent / "otter").is_file() or not bundle.is_file():
        pytest.skip("otter or the otter bundle is not available")
    upload = tmp_path / "mallory.zip"
    with zipfile.ZipFile(upload, "w") as archive:
        archive.writestr("fcnet/__init__.py", "")
        archive.writestr("fcnet/questions/zz_bonus.py", BONUS_QUESTION)
        archive.writestr("fcnet/graded_training.py", NO_THRESHOLD)
        for path in sorted((REPO / "exercises").glob("*.ipynb")):
            archive.write(path, path.name)
    out = tmp_path / "results"
    run = subprocess.run([sys.executable, "-m", "autograder.routes.otter_route", "run",
                          str(upload), "-a", str(bundle), "-o", str(out)],
                         env={**os.environ, "FCNET_GRADING_TIMEOUT": "20"},
                         capture_output=True, text=True, timeout=900)
    results = out / "results.json"
    assert results.is_file(), run.stdout[-2000:] + run.stderr[-2000:]
    tests = json.loads(results.read_text())["tests"]
    assert not any("zz_bonus" in str(t.get("name")) for t in tests), tests
    assert sum(t.get("score") or 0 for t in tests) == 0


# ----------------------------------------------------------------------------------------
# 5. The feedback is an oracle for the hidden losses. The hidden cases are the same for
#    every submission (seeded by the course seed), and a loss check that fails says by how
#    much: "the loss without regularisation is off: relative error 4.7e-01". From a guess
#    g and that relative error r, the right loss is g(1-r)/(1+r) or g(1+r)/(1-r); each
#    resubmission adds digits. Functions that compute nothing and return the numbers learnt
#    this way pass every loss-value check that requires no other check: two_layer_net's
#    `loss` and `loss_reg` (4 of 18 weights: 3.33 of 15 points), softmax_loss's `loss` (2
#    of 8: 2.5 of 10) and svm_loss's `loss` (2 of 6: 3.33 of 10), 9.17 points in all,
#    after ten graded submissions, and the numbers hold on every route (all grade the
#    same hidden cases). It needs the feedback of each submission before the next:
#    python -m autograder's or nbgrader's feedback handed back between rounds, or
#    Gradescope once grades are published while submissions are still open. On
#    Gradescope before publication nothing that depends on the answers is shown
#    (SECURITY.md, "No oracle before publication", which names only the inline
#    questions' partial credit), and a single graded round reveals one number per loss.
#    Defended: a check of a single number says that it is off, never by how much
#    (fcnet.checking.number_is_off), on every route and in grader.check alike.

MEMORISED = {
    "04_two_layer_net": """import numpy as np


class TwoLayerNet:
    def __init__(self, input_dim=3072, hidden_dim=100, num_classes=10, weight_scale=1e-3,
                 reg=0.0, dtype=np.float64):
        self.params = {"W1": np.zeros((input_dim, hidden_dim)), "b1": np.zeros(hidden_dim),
                       "W2": np.zeros((hidden_dim, num_classes)), "b2": np.zeros(num_classes)}
        self.reg = reg

    def loss(self, X, y=None):
        if y is None:
            return np.zeros((len(X), 10))
        return (GUESS_tln_loss_reg if self.reg else GUESS_tln_loss), {
            k: np.zeros_like(v) for k, v in self.params.items()}
""",
    "03_losses": """import numpy as np


def softmax_loss(x, y):
    return GUESS_softmax_loss, np.zeros_like(x)


def svm_loss(x, y):
    return GUESS_svm_loss, np.zeros_like(x)
""",
}

# (question, what its failed loss check says) for each number learnt. softmax_loss's
# `stable` check words its message alike: the check's description tells them apart.
_LOSS_CHECK = "loss for random scores and labels. "
_SAYS = {"tln_loss": ("two_layer_net", "the loss without regularisation is off: relative error "),
         "tln_loss_reg": ("two_layer_net", "the loss with regularisation is off: relative error "),
         "softmax_loss": ("softmax_loss", _LOSS_CHECK + "the loss is off: relative error "),
         "svm_loss": ("svm_loss", _LOSS_CHECK + "the loss is off: relative error ")}
ORACLE_QUESTIONS = ("softmax_loss", "svm_loss", "two_layer_net")


def _feasible(guess, shown):
    """The intervals of losses b > 0 for which |guess - b| / (guess + b) prints as `shown`
    (two significant digits, as the feedback writes it)."""
    r, half = float(shown), 0.05 * 10 ** int(shown.split("e")[1])
    r_lo, r_hi = max(r - half, 0.0), min(r + half, 0.999999)
    return [(guess * (1 - r_hi) / (1 + r_hi), guess * (1 - r_lo) / (1 + r_lo)),
            (guess * (1 + r_lo) / (1 - r_lo), guess * (1 + r_hi) / (1 - r_hi))]


def _intersect(known, new):
    if known is None:
        return new
    return [(max(a, c), min(b, d)) for a, b in known for c, d in new if max(a, c) <= min(b, d)]


def _memorising_notebooks(guesses):
    chosen = {}
    for stem, source in MEMORISED.items():
        for key in sorted(guesses, key=len, reverse=True):
            source = source.replace(f"GUESS_{key}", repr(guesses[key]))
        chosen[stem] = append_cell(notebook(stem, "student"), source)
    return chosen


def _sections(page):
    """{question id: its part of a markdown feedback page}."""
    parts = {}
    for block in page.replace("\\", "").split("\n## ")[1:]:
        parts[block.split(":", 1)[0].strip()] = block
    return parts


def test_the_feedback_is_no_oracle_for_the_hidden_losses(sandbox, tmp_path):
    import re

    guesses = {key: 1.0 for key in _SAYS}
    known = {key: None for key in _SAYS}
    for round_ in range(15):  # each round: one resubmission, graded by python -m autograder
        root = tmp_path / f"round{round_}"
        write_submission(root / "subs", "mallory", _memorising_notebooks(guesses))
        grade_folder(root / "subs", root / "out", sandbox, questions=ORACLE_QUESTIONS,
                     workers=1)
        sections = _sections((root / "out" / "feedback" / "mallory.md").read_text("utf-8"))
        still_open = False
        for qid in ORACLE_QUESTIONS:  # each loss is said to be off, never by how much
            assert "is off: its relative error is above" in sections[qid], sections[qid]
            assert not re.search(r"loss[^.\n]* is off: relative error [0-9]", sections[qid])
        for key, (qid, says) in _SAYS.items():
            found = re.search(re.escape(says) + r"([0-9.]+e[-+][0-9]+)", sections[qid])
            if found is None:
                continue  # this loss passes
            still_open = True
            known[key] = _intersect(known[key], _feasible(guesses[key], found.group(1)))
            low, high = known[key][0]
            guesses[key] = (low + high) / 2
        if not still_open:
            break
    folder = write_submission(tmp_path / "final", "mallory", _memorising_notebooks(guesses))
    points = _points_on_every_route(folder.parent, "mallory", sandbox, tmp_path,
                                    ORACLE_QUESTIONS)
    nothing = {q: 0 for q in ORACLE_QUESTIONS}
    assert points == {route: nothing for route in points}, \
        f"after {round_ + 1} submissions: {points}"
