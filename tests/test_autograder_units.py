"""The autograder's parts, without a sandbox: registry, references, reading untrusted
files, frames, and the in-process route the otter and nbgrader bundles use."""
import ast
import io
import json
import os
from pathlib import Path

import nbformat
import numpy as np
import pytest

from autograder import best_model, grading, hidden_checks
from fcnet import probes
from autograder.engine import _parse_frames
from autograder.points import QUESTION_POINTS
from autograder.submissions import read_chapter
from autograder.worker_runtime import encode_frame
from fcnet.chapters import QUESTION_IDS
from fcnet.notebook_import import load_definitions

from autograder_support import REPO, SOLUTIONS, notebook, replace_definition, v3_notebook

OFFLINE = tuple(q for q in QUESTION_IDS if q not in ("training", "best_model"))


def test_points_cover_every_question_once():
    assert tuple(QUESTION_POINTS) == QUESTION_IDS


def test_each_question_module_agrees_with_the_tables_it_replaces():
    """Until the chapters and the points table are derived from fcnet.questions, a moved
    question must say what they say: its chapter, its points, the names its checks read,
    and its place in course order."""
    from fcnet import questions
    from fcnet.chapters import CHAPTERS

    ids = [module.ID for module in questions.MODULES]
    assert ids == [qid for qid in QUESTION_IDS if qid in ids]
    for module in questions.MODULES:
        assert module.ID in CHAPTERS[module.CHAPTER]
        assert module.POINTS == QUESTION_POINTS[module.ID]
        # A question judged on data only the grader holds has its checks there.
        checks = module.CHECKS or hidden_checks.checks_for(module.ID)
        assert checks and all(c.qid == module.ID and c.needs == module.GRADES and
                              c.case_id.startswith(module.ID + ".") for c in checks), module.ID
        assert all(m.qid == module.ID for m in module.MISTAKES), module.ID
        assert set(getattr(module, "REFERENCES", {})) <= {c.case_id for c in checks}


def test_the_question_module_test_can_fail(monkeypatch):
    from fcnet import questions

    module = questions.MODULES[-1]
    monkeypatch.setattr(module, "POINTS", module.POINTS + 1)
    with pytest.raises(AssertionError):
        test_each_question_module_agrees_with_the_tables_it_replaces()


def test_every_question_has_hidden_checks_with_named_probes():
    for qid in QUESTION_IDS:
        checks = hidden_checks.checks_for(qid)
        assert checks and all(c.weight > 0 and c.hint and c.needs for c in checks)
        for check in checks:
            # the worker looks probes up by name in the probes module
            assert getattr(probes, check.probe.__name__) is check.probe
        names = [c.name for c in checks]
        assert len(names) == len(set(names))


def test_the_student_package_holds_no_answer_key_or_grader_code():
    # The checks and probes ship to students (the notebook runs them on the public case);
    # the answer key's values reach them as data, never as code.
    for path in (REPO / "exercises" / "fcnet").rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for line in text.splitlines():
            words = line.split()
            assert not (words[:1] in (["import"], ["from"]) and len(words) > 1 and
                        words[1].split(".")[0] in ("answer_key", "autograder")), (path, line)


def test_probes_import_nothing_but_numpy_and_fcnet():
    """The worker runs fcnet/probes.py, which imports the question modules' probes: none
    of them may import more than numpy, fcnet and a few standard modules."""
    package = Path(probes.__file__).parent
    for path in (package / "probes.py", package / "probing.py",
                 *sorted((package / "questions").glob("*.py"))):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {"fcnet" if node.level else node.module.split(".")[0]
                     for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert imported <= {"numpy", "fcnet", "contextlib", "types", "functools", "re",
                            "dataclasses", "importlib", "pkgutil"}, (path.name, imported)


def test_question_modules_import_nothing_but_numpy_fcnet_and_the_standard_library():
    """The probes of fcnet/questions/ run in the worker too (probes.py imports them)."""
    import sys

    from fcnet import questions

    allowed = {"numpy", "fcnet", *sys.stdlib_module_names}
    everything = set()
    # Every file of the package: the shared ones (_inline.py, traits.py) too.
    for path in sorted(Path(questions.__file__).parent.glob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        imported = {alias.name.split(".")[0] for node in ast.walk(tree)
                    if isinstance(node, ast.Import) for alias in node.names}
        imported |= {"fcnet" if node.level else node.module.split(".")[0]
                     for node in ast.walk(tree) if isinstance(node, ast.ImportFrom)}
        assert imported <= allowed, (path.name, sorted(imported - allowed))
        everything |= imported
    assert {"numpy", "fcnet"} <= everything  # the test reads real imports


def _answer_key_namespace():
    from answer_key import inline_questions, layers, optim
    from answer_key.classifiers.fc_net import TwoLayerNet

    return {**vars(layers), "sgd": optim.sgd, "TwoLayerNet": TwoLayerNet,
            "inline_q1": inline_questions.inline_q1, "inline_q2": inline_questions.inline_q2,
            "inline_q3": inline_questions.inline_q3}


@pytest.mark.parametrize("qid", OFFLINE)
def test_the_answer_key_passes_every_hidden_check(qid):
    result = grading.grade_in_process(qid, _answer_key_namespace())
    assert [(c.name, c.status, c.message) for c in result.checks if not c.passed] == []
    assert result.points == QUESTION_POINTS[qid]


@pytest.mark.parametrize("qid", OFFLINE)
def test_an_empty_namespace_scores_zero(qid):
    result = grading.grade_in_process(qid, {})
    assert result.points == 0
    assert {c.status for c in result.checks} == {"not answered"}


def test_cases_are_fresh_per_course_seed_and_repeatable():
    a = hidden_checks.make_cases("affine_forward", 1)["affine_forward.nd"]
    b = hidden_checks.make_cases("affine_forward", 1)["affine_forward.nd"]
    c = hidden_checks.make_cases("affine_forward", 2)["affine_forward.nd"]
    assert all(np.array_equal(a[k], b[k]) for k in a)
    assert a["x"].shape != c["x"].shape or not np.array_equal(a["x"], c["x"])



def test_cases_and_probe_seeds_come_from_one_rule():
    # autograder.seeds.derived_seed seeds both; the rule is pinned, so a refactor cannot
    # silently give every student other inputs than a re-run expects.
    import hashlib

    from autograder.seeds import derived_seed

    from fcnet.questions import two_layer_net

    text = b"20240611:two_layer_net:two_layer_net.net"
    assert derived_seed(20240611, "two_layer_net", "two_layer_net.net") == \
        int.from_bytes(hashlib.sha256(text).digest()[:8], "little")
    cases = hidden_checks.make_cases("two_layer_net", 20240611)
    drawn = two_layer_net.net_case(np.random.default_rng(
        derived_seed(20240611, "two_layer_net", "two_layer_net.net")))
    assert _fingerprint(cases["two_layer_net.net"]) == _fingerprint(drawn)
    for task in grading.probe_tasks("two_layer_net", 20240611):
        assert task.np_seed == derived_seed(20240611, "two_layer_net",
                                            f"np.random:{task.case}", 4) < 2 ** 32


def test_cases_are_seeded_by_explicit_ids_never_by_function_names(monkeypatch):
    """Renaming a case function or a probe changes no student's inputs."""
    from fcnet.questions import affine_backward

    before = hidden_checks.make_cases("affine_backward", 7)
    seeds = [t.np_seed for t in grading.probe_tasks("affine_backward", 7)]
    monkeypatch.setattr(affine_backward.affine_backward_case, "__name__", "renamed_case")
    monkeypatch.setattr(affine_backward.affine_backward_probe, "__name__", "renamed_probe")
    after = hidden_checks.make_cases("affine_backward", 7)
    assert before.keys() == after.keys()
    assert all(_fingerprint(before[k]) == _fingerprint(after[k]) for k in before)
    assert [t.np_seed for t in grading.probe_tasks("affine_backward", 7)] == seeds
    ids = [c.case_id for c in hidden_checks.CHECKS]
    assert all(i.startswith(c.qid + ".") for i, c in zip(ids, hidden_checks.CHECKS))


def _fingerprint(case):
    return {k: np.asarray(v).tobytes() for k, v in case.items()}


def test_decoupling_swaps_layers_without_touching_the_students_globals():
    from autograder.grading import reference_layers

    student = {"__name__": "student_chapter"}
    exec("def affine_forward(x, w, b):\n    return 'mine', None\n"
         "def helper():\n    return affine_forward.__module__\n"
         "class Base:\n    def __init__(self):\n        self.seen = globals()\n"
         "class Net(Base):\n    def __init__(self):\n        super().__init__()\n"
         "    def loss(self):\n        return helper()\n", student)
    before = dict(student)
    reference = reference_layers()
    with probes.decoupled(student, reference) as view:
        net = view["Net"]()
        assert view["affine_forward"] is reference["affine_forward"]
        assert net.loss() == "answer_key.layers"
        assert net.seen["affine_forward"] is reference["affine_forward"]
        # The student's own namespace never holds a reference layer.
        assert student == before and "relu_forward" not in student
        assert all(value is not reference[name] for name, value in student.items()
                   if name in reference)
    assert student["Net"]().loss() == "student_chapter"


def test_the_reference_source_defines_the_reference_layers():
    namespace = {"__name__": "reference_layers"}
    exec(compile(grading.reference_source(), "<reference>", "exec"), namespace)
    x, w, b = np.ones((2, 3)), np.ones((3, 4)), np.zeros(4)
    assert np.array_equal(namespace["affine_relu_forward"](x, w, b)[0], np.full((2, 4), 3.0))
    assert set(probes.LAYER_NAMES) <= set(namespace)


# ----------------------------------------------------------------------------- best_model.npz

def _npz(**arrays):
    buffer = io.BytesIO()
    np.savez(buffer, **arrays)
    return buffer.getvalue()


def _params(hidden=7):
    rng = np.random.default_rng(0)
    return {"W1": rng.standard_normal((3072, hidden)), "b1": np.zeros(hidden),
            "W2": rng.standard_normal((hidden, 10)), "b2": np.zeros(10)}


def test_a_valid_model_loads_as_float64():
    params = best_model.load_params(_npz(**{k: v.astype(np.float32)
                                           for k, v in _params().items()}))
    assert {k: (v.shape, v.dtype) for k, v in params.items()} == {
        "W1": ((3072, 7), np.float64), "b1": ((7,), np.float64),
        "W2": ((7, 10), np.float64), "b2": ((10,), np.float64)}


@pytest.mark.parametrize("change, words", [
    (lambda p: {**p, "W1": p["W1"].T.copy()}, "W1 has shape"),
    (lambda p: {k: v for k, v in p.items() if k != "b2"}, "has no b2"),
    (lambda p: {**p, "b1": np.zeros(8)}, "b1 has shape"),
    (lambda p: {**p, "W2": np.full((7, 10), np.nan)}, "NaN"),
    (lambda p: {**p, "W2": p["W2"].astype(np.int64)}, "must be floats"),
    (lambda p: {**p, "W1": np.array([object()] * 3, dtype=object)}, "W1"),
])
def test_bad_models_are_refused_with_a_reason(change, words):
    with pytest.raises(best_model.InvalidModel, match=words):
        best_model.load_params(_npz(**change(_params())))


def test_a_huge_declared_shape_is_refused_before_reading():
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (3072, 10 ** 7)})
    import zipfile
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr("W1.npy", header.getvalue())  # no data at all behind the header
        for key in ("b1", "W2", "b2"):
            member = io.BytesIO()
            np.save(member, np.zeros(3))
            archive.writestr(f"{key}.npy", member.getvalue())
    with pytest.raises(best_model.InvalidModel, match="1 <= H"):
        best_model.load_params(buffer.getvalue())



def _npy(array, version):
    out = io.BytesIO()
    np.lib.format.write_array(out, array, version=version)
    return out.getvalue()


@pytest.mark.parametrize("version", [(1, 0), (2, 0), (3, 0)])
def test_both_npy_readers_take_numpys_formats_and_refuse_others(version):
    # worker_runtime.read_npy_header (numpy.lib.format) reads every .npy from a student:
    # best_model.npz and the result frames alike.
    import zipfile

    from autograder.worker_runtime import decode_frame

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        for key, value in _params().items():
            archive.writestr(f"{key}.npy", _npy(value, version))
    text = json.dumps({"kind": "result"}).encode()
    frame = len(text).to_bytes(8, "little") + text + buffer.getvalue()
    if version == (3, 0):
        with pytest.raises(best_model.InvalidModel, match="unsupported .npy format"):
            best_model.load_params(buffer.getvalue())
        with pytest.raises(ValueError, match="unsupported .npy format"):
            decode_frame(frame)
    else:
        assert best_model.load_params(buffer.getvalue())["W1"].shape == (3072, 7)
        assert decode_frame(frame)[1]["W2"].tolist() == _params()["W2"].tolist()

def test_not_an_npz_is_refused():
    with pytest.raises(best_model.InvalidModel, match="not an .npz"):
        best_model.load_params(b"hello")


# ----------------------------------------------------------------------------- notebooks

def test_invalid_json_is_reported_not_raised():
    chapter = read_chapter("01_affine_layer", b'{"cells": [')
    assert chapter.error.startswith("01_affine_layer.ipynb is not valid JSON")


def test_nbformat_3_notebooks_are_read():
    chapter = read_chapter("02_relu", v3_notebook(notebook("02_relu")))
    assert not chapter.error and "def relu_forward" in chapter.code
    assert any("format 3" in note for note in chapter.notes)


def test_inline_answers_written_as_set_calls_are_kept():
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("inline_q1 = set()  # YOUR ANSWER HERE"),
        nbformat.v4.new_code_cell("inline_q1 = set(['C', 'A'])")])
    chapter = read_chapter("02_relu", nbformat.writes(nb).encode())
    namespace = {}
    exec(chapter.code, namespace)
    assert namespace["inline_q1"] == {"A", "C"}



@pytest.mark.parametrize("written", ["set(['c', ' A'])", "'A, c'", "('C', 'A', 'a')",
                                     "['a', 'c']"])
def test_an_inline_answer_reads_alike_on_every_route(written):
    # One reader (fcnet.inline_answers.chosen_letters) behind the notebook reading, the
    # hidden probe and the public check: the same letters and the same points everywhere.
    from fcnet.public_checks import checks_for as public_checks_for
    from fcnet.public_checks import run_check as public_run_check

    from answer_key import inline_questions

    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_code_cell("inline_q1 = set()  # YOUR ANSWER HERE"),
        nbformat.v4.new_code_cell(f"inline_q1 = {written}")])
    namespace = {}
    exec(read_chapter("02_relu", nbformat.writes(nb).encode()).code, namespace)
    assert namespace["inline_q1"] == {"A", "C"}
    typed = {"inline_q1": eval(written)}
    assert probes.inline_probe(typed, {"qid": "inline_q1"}) == \
        probes.inline_probe(namespace, {"qid": "inline_q1"}) == \
        {"letters": "AC", "answered": True}
    assert grading.grade_in_process("inline_q1", typed).points == \
        grading.grade_in_process("inline_q1", namespace).points
    assert public_run_check(public_checks_for("inline_q1")[0], typed).passed
    right = "".join(sorted(inline_questions.inline_q1))
    assert (grading.grade_in_process("inline_q1", typed).points == 5) == (right == "AC")


def test_only_definitions_are_kept():
    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(
        "import numpy as np\nsolver.train()\nfor i in range(10):\n    pass\n"
        "def f():\n    return 1\nX = 3\n")])
    code = read_chapter("01_affine_layer", nbformat.writes(nb).encode()).code
    assert "solver.train" not in code and "for i" not in code
    assert "def f" in code and "X = 3" in code and "import numpy" in code


# ----------------------------------------------------------------------------- frames

def test_frames_that_are_not_data_are_ignored():
    good = encode_frame({"kind": "result", "key": "k", "status": "ok", "scalars": {"a": 1.5},
                         "arrays": ["x"]}, {"x": np.arange(3.0)})[8:]
    buffer = io.BytesIO()
    np.savez(buffer, x=np.array([object()], dtype=object), allow_pickle=True)
    text = json.dumps({"kind": "result", "key": "p", "status": "ok"}).encode()
    pickled = len(text).to_bytes(8, "little") + text + buffer.getvalue()
    results, notes, ready = _parse_frames([b"garbage", pickled, good])
    assert set(results) == {"k"} and not ready
    assert results["k"].outputs["a"] == 1.5 and results["k"].outputs["x"].tolist() == [0, 1, 2]


def test_a_frame_declaring_huge_arrays_is_refused_before_unpacking():
    import zipfile
    header = io.BytesIO()
    np.lib.format.write_array_header_1_0(header, {"descr": "<f8", "fortran_order": False,
                                                  "shape": (10 ** 9,)})
    packed = io.BytesIO()
    with zipfile.ZipFile(packed, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("x.npy", header.getvalue() + bytes(10 ** 6))  # compresses to KBs
    text = json.dumps({"kind": "result", "key": "k", "status": "ok"}).encode()
    bomb = len(text).to_bytes(8, "little") + text + packed.getvalue()
    assert len(bomb) < 100_000
    results, _, _ = _parse_frames([bomb])
    assert results == {}


# ----------------------------------------------------------------------------- in process

def _solution_namespace(stem, monkeypatch, nb=None):
    """Execute a chapter's definitions the way a notebook's import_notebook would."""
    monkeypatch.setenv("FCNET_CHAPTERS_DIR", str(SOLUTIONS))
    if nb is None:
        return vars(load_definitions(SOLUTIONS / f"{stem}.ipynb"))
    path = Path(os.environ.get("TMPDIR", "/tmp")) / f"inprocess-{os.getpid()}-{stem}.ipynb"
    nbformat.write(nb, path)
    try:
        return vars(load_definitions(path))
    finally:
        path.unlink()


@pytest.mark.parametrize("qid, stem", [("affine_forward", "01_affine_layer"),
                                       ("relu_backward", "02_relu"),
                                       ("inline_q1", "02_relu"),
                                       ("softmax_loss", "03_losses"),
                                       ("two_layer_net", "04_two_layer_net"),
                                       ("sgd", "05_solver")])
def test_in_process_grading_of_the_solution(qid, stem, monkeypatch):
    result = grading.grade_in_process(qid, _solution_namespace(stem, monkeypatch))
    assert result.points == QUESTION_POINTS[qid]


def test_in_process_decoupling_ignores_the_students_layers(monkeypatch):
    # A chapter-4 namespace whose own affine_forward is wrong: two_layer_net is unaffected.
    namespace = _solution_namespace("04_two_layer_net", monkeypatch)
    namespace["affine_forward"] = lambda x, w, b: (np.zeros((len(x), w.shape[1])), None)
    assert grading.grade_in_process("two_layer_net", namespace).points == \
        QUESTION_POINTS["two_layer_net"]


def test_in_process_points_for_a_mistake(monkeypatch):
    nb = replace_definition(notebook("03_losses"), "softmax_loss", '''
def softmax_loss(x, y):
    probs = np.exp(x)
    probs /= probs.sum(axis=1, keepdims=True)
    n = len(x)
    dx = probs.copy()
    dx[np.arange(n), y] -= 1
    return -np.mean(np.log(probs[np.arange(n), y])), dx / n
''')
    result = grading.grade_in_process("softmax_loss", _solution_namespace("03_losses",
                                                                          monkeypatch, nb))
    statuses = {c.name: c.status for c in result.checks}
    assert statuses == {"loss": "passed", "gradient": "passed", "stable": "failed",
                        "input_unmodified": "passed", "at_scale": "passed"}
    assert result.points == round(10 * 6 / 8, 2)


def test_one_probe_runner_and_one_plain_rule_on_every_route():
    # The worker and the in-process route run probes with worker_runtime.run_probe, which
    # turns outputs into plain data with fcnet.checking.plain, as grader.check does.
    from types import SimpleNamespace

    from fcnet.checking import plain

    from autograder.worker_runtime import run_probe

    class Sneaky(float):
        pass

    fake = SimpleNamespace(
        text=lambda ns, case: {"a": np.array(["A", "B"])},
        objects=lambda ns, case: {"a": np.array([object()])},
        good=lambda ns, case: {"a": np.arange(3).view(np.matrix), "f": Sneaky(1.5),
                               "ok": True, "none": None})
    task = {"probe": "", "needs": (), "np_seed": 0}
    for name in ("text", "objects"):
        fields, arrays = run_probe(fake, {**task, "probe": name}, {}, {})
        assert fields["status"] == "error" and "not numeric" in fields["message"]
        with pytest.raises(TypeError, match="not numeric"):
            plain(getattr(fake, name)({}, {}))
    fields, arrays = run_probe(fake, {**task, "probe": "good"}, {}, {})
    assert fields == {"status": "ok", "scalars": {"f": 1.5, "ok": True, "none": None}}
    assert type(fields["scalars"]["f"]) is float and type(arrays["a"]) is np.ndarray
    fields, _ = run_probe(fake, {**task, "needs": ("f",)}, {}, {}, chapter="03_losses")
    assert fields["message"] == "f is not defined in 03_losses.ipynb"

    def interrupted(ns, case):
        raise KeyboardInterrupt

    interrupting = SimpleNamespace(interrupted=interrupted)
    fields, _ = run_probe(interrupting, {**task, "probe": "interrupted"}, {}, {})
    assert fields["status"] == "error"  # in a worker: the student's doing
    with pytest.raises(KeyboardInterrupt):  # in process: Ctrl-C still stops the grader
        run_probe(interrupting, {**task, "probe": "interrupted"}, {}, {},
                  errors=(Exception, SystemExit))


# ----------------------------------------------------------------------------- worker text

def test_decoupled_questions_quote_no_text_of_the_worker():
    """two_layer_net's worker holds the answer key's layers: its messages, notes and
    string outputs are replaced by the grader's own words (categories it can check)."""
    from types import SimpleNamespace

    from autograder.worker_text import FixedTexts

    code = "import numpy as np\nclass TwoLayerNet:\n    x = undefined_name\n"
    chapters = {"04_two_layer_net": SimpleNamespace(code=code, error=None)}
    tasks = grading.probe_tasks("two_layer_net")
    fixed = FixedTexts("04_two_layer_net", chapters, tasks)
    leak = "LEAK00:" + "A" * 500
    key = tasks[0].key
    frames = [encode_frame(h)[8:] for h in (
        {"kind": "ready"},
        {"kind": "notes", "notes": [leak],
         "failures": [{"file": "04_two_layer_net.ipynb", "line": 3, "error": "NameError"},
                      {"file": "04_two_layer_net.ipynb", "line": 99, "error": "NameError"},
                      {"file": "secret.ipynb", "line": 1, "error": "NameError"},
                      {"file": "04_two_layer_net.ipynb", "line": 2, "error": leak}]},
        {"kind": "result", "key": key, "status": "error", "error": "ValueError",
         "message": leak},
        {"kind": "result", "key": tasks[1].key, "status": "missing", "message": leak,
         "missing": ["TwoLayerNet", leak]},
        {"kind": "result", "key": tasks[2].key, "status": "ok",
         "scalars": {"param_names": f"W1 b1 {leak}"}})]
    results, notes, _ = _parse_frames(frames, fixed)
    text = " ".join(notes + [r.message for r in results.values()] +
                    [str(v) for r in results.values() for v in r.outputs.values()])
    assert "LEAK" not in text and "AAAA" not in text
    assert notes == ["04_two_layer_net.ipynb: `x = undefined_name` failed and was skipped "
                     "(NameError)",
                     "04_two_layer_net.ipynb: `class TwoLayerNet:` failed and was skipped "
                     "(an exception of a class defined in the notebook)"]
    assert results[key].message.startswith("ValueError was raised")
    assert results[tasks[1].key].message == \
        "TwoLayerNet is not defined in 04_two_layer_net.ipynb"
    assert results[tasks[2].key].outputs["param_names"] == "W1 b1 (1-other-keys)"
    wide = [encode_frame({"kind": "result", "key": key, "status": "ok", "scalars": {},
                          "arrays": ["W1"]}, {"W1": np.zeros((0,) + (7,) * 8)})[8:]]
    assert _parse_frames(wide, fixed)[0][key].status == "error"


def test_other_questions_keep_worker_text_within_the_budget():
    from autograder.engine import MAX_TEXT

    frames = [encode_frame({"kind": "result", "key": f"k{i}", "status": "error",
                            "error": "ValueError", "message": "m" * 5000})[8:]
              for i in range(20)]
    results, _, _ = _parse_frames(frames)
    assert MAX_TEXT <= 2000
    assert sum(len(r.message) for r in results.values() if r.message != "ValueError") \
        <= MAX_TEXT // 2
    assert all(r.message for r in results.values())  # past the budget: the type only


def test_feedback_file_names_are_bounded_plain_and_unique(tmp_path):
    from autograder.reports.results import feedback_names

    ids = ["alice", "a" * 251, "ALICE", "x/../y", ".hidden", "bob\udcff", "Alice Adams (1001)"]
    names = feedback_names(ids)
    assert names["alice"] == "alice" and names["Alice Adams (1001)"] == "Alice Adams (1001)"
    assert len({n.lower() for n in names.values()}) == len(ids)
    for name in names.values():
        assert len(name.encode()) < 100 and "/" not in name and not name.startswith(".")
        (tmp_path / (name + ".html")).write_text("ok")


def test_the_training_probe_returns_the_shapes_it_declares():
    """training's checks are the grader's, but its probe and shapes are its module's: on
    a tiny run (no CIFAR-10 needed) the answer key's outputs have the declared shapes."""
    from answer_key import optim
    from answer_key.classifiers.fc_net import TwoLayerNet
    from autograder import result_shapes
    from fcnet.questions import training

    rng = np.random.default_rng(0)
    case = {"X_train": rng.standard_normal((40, 3, 2, 2)), "y_train": rng.integers(0, 10, 40),
            "X_val": rng.standard_normal((10, 3, 2, 2)), "y_val": rng.integers(0, 10, 10),
            "D": 12, "hidden_dim": 7, "weight_scale": 1e-2, "reg": 0.0,
            "learning_rate": 1e-2, "lr_decay": 1.0, "num_epochs": 1, "batch_size": 20,
            "np_seed": 3}
    ns = {"TwoLayerNet": TwoLayerNet, "sgd": optim.sgd}
    out = probes.training_probe(ns, case)
    arrays = {k: v.shape for k, v in out.items() if isinstance(v, np.ndarray)}
    assert arrays == result_shapes.expected_shapes("training_probe", case)
    assert probes.training_probe is training.training_probe
    assert out["iterations"] == 2


def test_each_questions_traits_are_declared_in_its_module():
    """fcnet.questions.traits_of reads TRAITS from the question modules; a module without
    TRAITS is plain code, and an unknown id has no traits."""
    from fcnet import questions
    from fcnet.questions.traits import Traits

    for module in questions.MODULES:
        assert questions.traits_of(module.ID) == getattr(module, "TRAITS", Traits())
    assert questions.traits_of("no_such_question") == Traits()
    assert grading.DECOUPLED == {"two_layer_net", "training"}
    assert questions.questions_where("needs_cifar") == ("training", "best_model")
    assert questions.questions_where("needs_cifar", ["best_model", "sgd"]) == ("best_model",)
