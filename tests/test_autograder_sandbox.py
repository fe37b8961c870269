"""Faults and cheats: a submission that crashes, hangs, floods, forks or cheats costs only
its own question and gains nothing, and nothing of it survives the grading.

The submissions are the solution notebooks (or the untouched student notebooks) with one
definition swapped for the fault or the cheat. They are graded in one batch by the real
engine; questions that need CIFAR-10 are left out here (test_autograder_grades covers
them), so these tests run anywhere bubblewrap works.
"""
import json
import os
import socket
import threading
import uuid
from pathlib import Path

import nbformat
import pytest

from autograder.points import QUESTION_POINTS
from autograder.sandbox import SandboxUnavailable, open_sandbox
from fcnet.chapters import QUESTION_IDS

from autograder_support import (REPO, append_cell, checks_of, grade_folder, notebook,
                                replace_definition, v3_notebook, write_submission)

pytestmark = pytest.mark.slow  # many sandboxes: about a minute

QUESTIONS = tuple(q for q in QUESTION_IDS if q not in ("training", "best_model"))
MARKER = f"autograder-test-marker-{uuid.uuid4().hex}"
SLEEP_SECONDS = str(900000 + uuid.uuid4().int % 99999)  # an argument no other sleep has
FULL = {q: QUESTION_POINTS[q] for q in QUESTIONS}


def _swap(stem, name, source, kind="solution"):
    return {stem: replace_definition(notebook(stem, kind), name, source)}


# ----------------------------------------------------------------------------- faults

LOOP = '''
def relu_backward(dout, cache):
    while True:
        pass'''

FAULTS = {
    "infinite_loop": ("relu_backward", lambda: _swap("02_relu", "relu_backward", LOOP)),
    "memory_bomb": ("softmax_loss", lambda: _swap("03_losses", "softmax_loss", '''
def softmax_loss(x, y):
    hoard = []
    while True:
        hoard.append(np.ones(10 ** 7))''')),
    "huge_output": ("svm_loss", lambda: _swap("03_losses", "svm_loss", '''
def svm_loss(x, y):
    for _ in range(200):
        print("x" * 10 ** 6)
    raise ValueError("printed a lot")''')),
    "fork_bomb": ("relu_forward", lambda: _swap("02_relu", "relu_forward", '''
def relu_forward(x):
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass''')),
    "sys_exit": ("affine_forward", lambda: _swap("01_affine_layer", "affine_forward", '''
def affine_forward(x, w, b):
    import sys
    sys.exit(0)''')),
    "os_exit": ("affine_backward", lambda: _swap("01_affine_layer", "affine_backward", '''
def affine_backward(dout, cache):
    import os
    os._exit(0)''')),
    "renamed_function": ("affine_backward", lambda: {
        "01_affine_layer": replace_definition(
            notebook("01_affine_layer"), "affine_backward",
            "def affine_backwards(dout, cache):\n    x, w, b = cache\n"
            "    return (dout @ w.T).reshape(x.shape), x.reshape(len(x), -1).T @ dout, "
            "dout.sum(0)")}),
    "invalid_json": (("softmax_loss", "svm_loss"), lambda: {
        "03_losses": nbformat.writes(notebook("03_losses")).encode()[:5000]}),
    "missing_notebook": (("softmax_loss", "svm_loss"), lambda: {"03_losses": None}),
    "wrong_notebook_format": (("softmax_loss", "svm_loss"), lambda: {
        "03_losses": b'{"cells": "not a list", "nbformat": 4}'}),
    # More bad files (zips, folders, vanishing files) in test_bad_files.py.
    "json_nested_200000_deep": (("affine_forward", "affine_backward"), lambda: {
        "01_affine_layer": b"[" * 200000 + b"]" * 200000}),
    "binary_garbage": (("softmax_loss", "svm_loss"), lambda: {
        "03_losses": bytes(range(256)) * 64}),
}

# Submissions that must keep full marks although the notebook is unusual.
HARMLESS = {
    "nbformat_3": lambda: {"02_relu": v3_notebook(notebook("02_relu"))},
    "magics_and_syntax_errors": lambda: {"02_relu": append_cell(append_cell(append_cell(
        notebook("02_relu"), "%timeit relu_forward(np.ones(3))\n!pip list"),
        "%%time\nrelu_forward(np.ones(3))"), "def broken(:\n    pass")},
    "lone_surrogates_and_odd_cells": lambda: {"02_relu": json.dumps({
        **notebook("02_relu"), "cells": [*notebook("02_relu").cells, 5, {"cell_type": "code"},
                                         {"cell_type": "code", "source": "s = '\ud800'"}]},
        ensure_ascii=True).encode()},
    "slow_training_cells": lambda: {"05_solver": append_cell(
        notebook("05_solver"), "import time\ntime.sleep(3600)\nfor i in range(10 ** 12):\n"
                               "    pass\nsolver.train()")},
}


# ----------------------------------------------------------------------------- cheats

def _cheat_affine(body, kind="solution"):
    """Chapter 1 where affine_forward is `body`."""
    return lambda: _swap("01_affine_layer", "affine_forward", body, kind)


READ_ANSWER_KEY = f'''
def affine_forward(x, w, b):
    import glob, importlib, os
    found = []
    for name in ("answer_key", "autograder", "autograder.hidden_checks", "answer_key.layers"):
        try:
            importlib.import_module(name)
            found.append("import " + name)
        except Exception:
            pass
    targets = [{str(REPO / "solutions" / "answer_key" / "layers.py")!r},
               {str(REPO / "autograder" / "hidden_checks" / "__init__.py")!r},
               {str(REPO / "solutions" / "notebooks" / "01_affine_layer.ipynb")!r},
               {str(REPO / ".venv")!r}, {str(REPO)!r}, SUBMISSIONS, OUT_DIR]
    for path in targets:
        if os.path.exists(path):
            found.append(path)
    for root, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if root != "/" or d not in ("proc", "sys", "dev", "usr")]
        for f in files:
            if f.endswith(".ipynb") or os.path.basename(root) == "hidden_checks" or \
                    f in ("fc_net.py", "grades.csv", "best_model.npz", "inline_questions.py"):
                found.append(os.path.join(root, f))
    try:
        namespace = {{}}
        exec(open({str(REPO / "solutions" / "answer_key" / "layers.py")!r}).read(), namespace)
        return namespace["affine_forward"](x, w, b)
    except OSError:
        pass
    raise NotImplementedError("CHEAT-REPORT found " + (", ".join(found) or "nothing"))
'''

MONKEYPATCH = '''
def affine_forward(x, w, b):
    import gc, types
    import numpy
    import fcnet.checking
    numpy.allclose = lambda *a, **k: True
    numpy.array_equal = lambda *a, **k: True
    numpy.isfinite = lambda *a, **k: True
    numpy.testing.assert_allclose = lambda *a, **k: None
    fcnet.checking.expect_close = lambda *a, **k: None
    fcnet.checking.expect_shape = lambda *a, **k: None
    fcnet.checking.rel_error = lambda *a, **k: 0.0
    for obj in gc.get_objects():
        if isinstance(obj, types.FunctionType) and "judge" in obj.__name__:
            try:
                obj.__code__ = (lambda *a, **k: None).__code__
            except ValueError:
                pass
    return numpy.zeros((x.shape[0], w.shape[1])), None
'''
MONKEYPATCH_BASELINE = '''
def affine_forward(x, w, b):
    import numpy
    return numpy.zeros((x.shape[0], w.shape[1])), None
'''

ALWAYS_TRUE = '''
class Agreeable(np.ndarray):
    def __eq__(self, other):
        return True
    def __ne__(self, other):
        return False
    __lt__ = __le__ = __gt__ = __ge__ = __eq__
    def __abs__(self):
        return self * 0
    def __float__(self):
        return 0.0
    def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
        return np.zeros(1).view(Agreeable)

def affine_forward(x, w, b):
    return np.zeros((x.shape[0], w.shape[1])).view(Agreeable), None
'''

# The worker makes outputs plain with fcnet.checking.plain, which the student's code can
# replace: whatever then reaches the frame, the grader decodes only numeric arrays.
PATCHED_PLAIN = ALWAYS_TRUE.replace("def affine_forward(x, w, b):\n", """\
def affine_forward(x, w, b):
    import fcnet.checking
    fcnet.checking.plain = lambda outputs: {str(k): v for k, v in outputs.items()}
""")

FORGE = '''
def affine_forward(x, w, b):
    import io, json, os, struct
    import numpy
    def frame(header, arrays=None):
        blob = io.BytesIO()
        if arrays:
            numpy.savez(blob, **arrays)
        text = json.dumps(header).encode()
        body = struct.pack("<Q", len(text)) + text + blob.getvalue()
        return struct.pack("<Q", len(body)) + body
    forged = b""
    for case in ("affine_case_2d", "affine_case_nd", "affine_case_float32"):
        forged += frame({"kind": "result", "key": "affine_forward_probe@" + case,
                         "status": "ok", "scalars": {}, "arrays": ["out"]},
                        {"out": numpy.ones((3, 3))})
    forged += frame({"kind": "done"}) + frame({"kind": "idle", "clean": True,
                                               "status": "exit 0"})
    for fd in range(1, 64):
        try:
            os.write(fd, forged)
        except OSError:
            pass
    for path in (OUT_DIR + "/grades.csv", OUT_DIR + "/grades.json", "/tmp/grades.csv"):
        try:
            with open(path, "w") as f:
                f.write("student,total\\nforger,100\\n")
        except OSError:
            pass
    os._exit(0)
'''

BACKGROUND = f'''
def affine_forward(x, w, b):
    import os, subprocess, sys, time
    subprocess.Popen(["sleep", "{SLEEP_SECONDS}"], start_new_session=True)
    if os.fork() == 0:
        os.setsid()
        if os.fork() == 0:
            os.execv(sys.executable, [sys.executable, "-c",
                                      "import time; time.sleep(600)  # {MARKER}"])
        os._exit(0)
    raise NotImplementedError("started background processes")
'''

# Chapter 4 in the worker that receives the answer key's layers (decoupled grading): the
# layers are there as objects, nothing else of the answer key is, and they carry no source.
READ_ANSWER_KEY_DECOUPLED = '''
class TwoLayerNet:
    def __init__(self, *args, **kwargs):
        import importlib, inspect
        found = []
        for name in ("answer_key", "answer_key.layers", "autograder"):
            try:
                importlib.import_module(name)
                found.append("import " + name)
            except Exception:
                pass
        try:
            found.append("source of " + inspect.getsource(affine_forward)[:40])
        except (OSError, TypeError):
            pass
        # The feedback of this question quotes no text of the worker: the finding is told
        # by the exception's type, NotImplementedError when nothing was found.
        if found:
            raise RuntimeError("CHEAT-REPORT found " + ", ".join(found))
        raise NotImplementedError("CHEAT-REPORT found nothing")
'''

NETWORK = '''
def affine_forward(x, w, b):
    import socket
    results = []
    for address in (("127.0.0.1", LISTENER_PORT), ("1.1.1.1", 53), ("example.com", 80)):
        try:
            socket.create_connection(address, timeout=3).close()
            results.append(f"{address} CONNECTED")
        except OSError as err:
            results.append(f"{address} {type(err).__name__}")
    raise NotImplementedError("CHEAT-REPORT " + "; ".join(results))
'''


# Places a worker might write to, tried by the relay attack (cwd and HOME are /tmp).
RELAY_PLACES = ('["/", "/dev/shm", "/dev", "/dev/mqueue", "/tmp", "/var/tmp", "/run", '
                '"/run/lock", "/opt", "/opt/grader", "/opt/grader/lib", "/etc", "/proc/self", '
                'os.path.dirname(os.__file__) + "/site-packages"] + sys.path')

# The relay between questions: chapter 4's TwoLayerNet, graded with the answer key's
# layers in its globals, stores their code everywhere it can; chapter 1's affine_forward
# looks for it and runs it.
RELAY_WRITE = f'''
class TwoLayerNet:
    def __init__(self, *args, **kwargs):
        import marshal, os, sys
        code = marshal.dumps(affine_forward.__code__)
        wrote = []
        for place in {RELAY_PLACES}:
            try:
                with open(os.path.join(place, "relay.bin"), "wb") as f:
                    f.write(code)
                wrote.append(place)
            except (OSError, TypeError):
                pass
        # The feedback of this question quotes no text of the worker, so the finding is
        # told by the exception's type: NotImplementedError when only /tmp was writable.
        if sorted(set(wrote)) == ["/tmp"]:
            raise NotImplementedError("CHEAT-REPORT wrote /tmp")
        raise RuntimeError("CHEAT-REPORT wrote " + ",".join(sorted(set(wrote))))
'''
RELAY_READ = f'''
def affine_forward(x, w, b):
    import marshal, os, sys, types
    for place in {RELAY_PLACES}:
        try:
            with open(os.path.join(place, "relay.bin"), "rb") as f:
                code = marshal.loads(f.read())
        except (OSError, TypeError, ValueError, EOFError):
            continue
        return types.FunctionType(code, globals())(x, w, b)
    raise NotImplementedError("CHEAT-REPORT relay found nothing")
'''

FILL_TMP = '''
def relu_forward(x):
    i = 0
    while True:
        with open(f"/tmp/fill{i}", "wb") as f:
            f.write(b"x" * (8 * 2 ** 20))
        i += 1
'''

FLOOD_FRAMES = '''
def svm_loss(x, y):
    import json, os, struct
    def frame(header):
        text = json.dumps(header).encode()
        body = struct.pack("<Q", len(text)) + text
        return struct.pack("<Q", len(body)) + body
    notes = frame({"kind": "notes", "notes": ["N" * 5000] * 1000})
    result = frame({"kind": "result", "key": "svm_loss_probe@x", "status": "error",
                    "message": "M" * 10 ** 6})
    for fd in range(3, 64):
        try:
            for _ in range(SENDS):
                os.write(fd, notes + result)
        except OSError:
            pass
    raise ValueError("flooded")
'''


# Four processes of 1 GB each: every one is under the per-process address-space limit,
# together they pass the sandbox's memory cgroup (2 GB + 256 MB).
MEMORY_SPREAD = '''
def relu_backward(dout, cache):
    import os, time
    import numpy as np
    children = []
    for _ in range(3):
        pid = os.fork()
        if pid == 0:
            hold = np.ones(2 ** 27)
            time.sleep(1)
            os._exit(0)
        children.append(pid)
    hold = np.ones(2 ** 27)
    statuses = [os.waitpid(pid, 0)[1] for pid in children]
    raise ValueError("CHEAT-REPORT children ended " + ",".join(map(str, statuses)))
'''


@pytest.fixture(scope="module")
def listener():
    """A TCP server on the host's loopback that records every connection it gets."""
    server = socket.socket()
    server.bind(("127.0.0.1", 0))
    server.listen()
    server.settimeout(0.2)
    connections, stop = [], threading.Event()

    def accept():
        while not stop.is_set():
            try:
                connection, peer = server.accept()
                connections.append(peer)
                connection.close()
            except OSError:
                continue
    thread = threading.Thread(target=accept, daemon=True)
    thread.start()
    yield server.getsockname()[1], connections
    stop.set()
    thread.join()
    server.close()


@pytest.fixture(scope="module")
def graded(sandbox, listener, tmp_path_factory):
    port, _ = listener
    root = tmp_path_factory.mktemp("submissions")
    out = tmp_path_factory.mktemp("out")
    write_submission(root, "solution")
    write_submission(root, "untouched", kind="student")
    for name, (_, build) in FAULTS.items():
        if name == "fork_bomb" and not _process_limit_works(sandbox):
            continue
        write_submission(root, f"fault--{name}", build())
    for name, build in HARMLESS.items():
        write_submission(root, f"harmless--{name}", build())
    cheats = {
        "read_answer_key_decoupled": lambda: _swap("04_two_layer_net", "TwoLayerNet",
                                                   READ_ANSWER_KEY_DECOUPLED),
        "read_answer_key": _cheat_affine(READ_ANSWER_KEY.replace("SUBMISSIONS", repr(str(root)))
                                         .replace("OUT_DIR", repr(str(out)))),
        "monkeypatch": _cheat_affine(MONKEYPATCH),
        "monkeypatch_baseline": _cheat_affine(MONKEYPATCH_BASELINE),
        "always_true_array": _cheat_affine(ALWAYS_TRUE),
        "always_true_baseline": _cheat_affine(MONKEYPATCH_BASELINE),
        "patched_plain": _cheat_affine(PATCHED_PLAIN),
        "forge_results": _cheat_affine(FORGE.replace("OUT_DIR", repr(str(out)))),
        "background_process": _cheat_affine(BACKGROUND),
        "network": _cheat_affine(NETWORK.replace("LISTENER_PORT", str(port))),
        "relay": lambda: {**_swap("01_affine_layer", "affine_forward", RELAY_READ),
                          **_swap("04_two_layer_net", "TwoLayerNet", RELAY_WRITE)},
        "fill_tmp": lambda: _swap("02_relu", "relu_forward", FILL_TMP),
        "flood_frames": lambda: _swap("03_losses", "svm_loss",
                                      FLOOD_FRAMES.replace("SENDS", "1000")),
        "flood_notes": lambda: _swap("03_losses", "svm_loss",
                                     FLOOD_FRAMES.replace("SENDS", "1")),
    }
    for name, build in cheats.items():
        write_submission(root, f"cheat--{name}", build())
    # 20 s: the memory bomb touches 2 GB per case, four times, beside another student.
    points, outcome = grade_folder(root, out, sandbox, questions=QUESTIONS, timeout=20)
    return points, outcome, out


def test_the_solution_and_the_stub_set_the_scale(graded):
    points, outcome, _ = graded
    assert points["solution"] == FULL
    assert points["untouched"] == {q: 0 for q in QUESTIONS}


def _process_limit_works(sandbox):
    # Root ignores RLIMIT_NPROC: without bubblewrap (which drops to nobody) a fork bomb
    # run as root would not be contained, so it is not tried there (SECURITY.md).
    return sandbox.kind == "bubblewrap" or os.geteuid() != 0


@pytest.mark.parametrize("name", sorted(FAULTS))
def test_a_fault_costs_only_its_question(graded, name, sandbox):
    if name == "fork_bomb" and not _process_limit_works(sandbox):
        pytest.skip("as root without bubblewrap there is no process limit")
    points, outcome, _ = graded
    targets = FAULTS[name][0]
    targets = (targets,) if isinstance(targets, str) else targets
    got = points[f"fault--{name}"]
    for qid in targets:
        assert got[qid] == 0, (qid, got)
    assert {q: p for q, p in got.items() if q not in targets} == \
        {q: p for q, p in FULL.items() if q not in targets}


def test_faults_are_explained(graded):
    _, outcome, _ = graded

    def messages(student, qid):
        result = outcome.grades[student]["results"][qid]
        return " ".join([c.message for c in result.checks] + result.notes)

    assert "time limit" in messages("fault--infinite_loop", "relu_backward")
    assert "MemoryError" in messages("fault--memory_bomb", "softmax_loss")
    assert "printed more than" in messages("fault--huge_output", "svm_loss")
    assert "not defined" in messages("fault--renamed_function", "affine_backward")
    assert "SystemExit" in messages("fault--sys_exit", "affine_forward")
    notes = " ".join(outcome.grades["fault--invalid_json"]["notes"])
    assert "not valid JSON" in notes


@pytest.mark.parametrize("name", sorted(HARMLESS))
def test_unusual_but_valid_notebooks_lose_nothing(graded, name):
    points, outcome, _ = graded
    assert points[f"harmless--{name}"] == FULL


def test_skipped_cells_are_reported(graded):
    _, outcome, _ = graded
    notes = outcome.grades["harmless--magics_and_syntax_errors"]["results"]["relu_forward"].notes
    text = " ".join(notes)
    assert "syntax error" in text and "cell magic" in text


def _cheat(points, name):
    return points[f"cheat--{name}"]


def test_reading_the_answer_key_finds_nothing(graded, sandbox):
    if not sandbox.kind == "bubblewrap":
        pytest.skip("without bubblewrap the files are readable (SECURITY.md says so)")
    points, outcome, _ = graded
    assert _cheat(points, "read_answer_key")["affine_forward"] == 0
    check = checks_of(outcome, "cheat--read_answer_key", "affine_forward")["values_2d"]
    assert "CHEAT-REPORT found nothing" in check.message


def test_the_decoupled_worker_gets_layers_but_no_answer_key(graded, sandbox):
    if not sandbox.kind == "bubblewrap":
        pytest.skip("without bubblewrap the files are readable (SECURITY.md says so)")
    points, outcome, _ = graded
    got = _cheat(points, "read_answer_key_decoupled")
    assert got["two_layer_net"] == 0
    assert {q: p for q, p in got.items() if q != "two_layer_net"} == \
        {q: p for q, p in FULL.items() if q != "two_layer_net"}
    check = checks_of(outcome, "cheat--read_answer_key_decoupled", "two_layer_net")["scores"]
    assert check.message == "still raises NotImplementedError", check.message  # found nothing


def test_monkeypatching_numpy_and_the_checks_gains_nothing(graded):
    points, _, _ = graded
    assert _cheat(points, "monkeypatch") == _cheat(points, "monkeypatch_baseline")
    assert _cheat(points, "monkeypatch")["affine_forward"] < QUESTION_POINTS["affine_forward"]


def test_an_always_true_array_gains_nothing(graded):
    points, _, _ = graded
    assert _cheat(points, "always_true_array") == _cheat(points, "always_true_baseline")
    assert _cheat(points, "always_true_array")["affine_forward"] < \
        QUESTION_POINTS["affine_forward"]


def test_replacing_the_plain_data_rule_gains_nothing(graded):
    points, _, _ = graded
    assert "fcnet.checking.plain = " in PATCHED_PLAIN
    assert _cheat(points, "patched_plain") == _cheat(points, "always_true_baseline")


def test_forged_results_gain_nothing(graded):
    points, outcome, out = graded
    assert _cheat(points, "forge_results")["affine_forward"] == 0
    rows = (out / "grades.csv").read_text().splitlines()
    assert not any(row.startswith("forger") for row in rows)
    assert rows[0].startswith("student,affine_forward")


def _processes_with(text):
    found = []
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            if text.encode() in (entry / "cmdline").read_bytes():
                found.append(int(entry.name))
        except OSError:
            continue
    return found


def test_no_background_process_outlives_the_grading(graded):
    points, _, _ = graded
    assert _cheat(points, "background_process")["affine_forward"] == 0
    assert _processes_with(MARKER) == []
    assert _processes_with(SLEEP_SECONDS) == []


def test_no_network_from_a_worker(graded, listener, sandbox):
    if not sandbox.kind == "bubblewrap":
        pytest.skip("without bubblewrap the network is reachable (SECURITY.md says so)")
    points, outcome, _ = graded
    _, connections = listener
    assert connections == []
    assert _cheat(points, "network")["affine_forward"] == 0
    message = checks_of(outcome, "cheat--network", "affine_forward")["values_2d"].message
    assert "CHEAT-REPORT" in message and "CONNECTED" not in message


def test_cheats_cost_nothing_elsewhere(graded):
    points, _, _ = graded
    for name in ("read_answer_key", "monkeypatch", "always_true_array", "patched_plain",
                 "forge_results", "background_process", "network"):
        got = _cheat(points, name)
        assert {q: p for q, p in got.items() if q != "affine_forward"} == \
            {q: p for q, p in FULL.items() if q != "affine_forward"}, name


def test_the_host_fallback_is_announced_and_still_contains_faults(tmp_path):
    """Without bubblewrap (the unprivileged-user isolation as root, else the explicit
    process one): the first line says so; limits and the clean-up after each task still
    stop a hang and a background process."""
    root = tmp_path / "subs"
    write_submission(root, "solution", {stem: None for stem in
                                        ("03_losses", "04_two_layer_net", "05_solver",
                                         "06_tuning")})
    write_submission(root, "loops", {
        **_swap("02_relu", "relu_backward", LOOP),
        **_cheat_affine(BACKGROUND.replace(MARKER, MARKER + "-fallback"))()})
    isolation = "unprivileged-user" if os.geteuid() == 0 else "process"
    sandbox = open_sandbox(isolation)
    try:
        assert sandbox.description.startswith(f"isolation: {isolation}")
        assert "no bubblewrap" in sandbox.description or "WARNING" in sandbox.description
        points, _ = grade_folder(root, tmp_path / "out", sandbox,
                                 questions=("affine_forward", "relu_forward", "relu_backward"),
                                 timeout=5)
    finally:
        sandbox.close()
    assert points["solution"] == {"affine_forward": 10, "relu_forward": 5, "relu_backward": 5}
    assert points["loops"] == {"affine_forward": 0, "relu_forward": 5, "relu_backward": 0}
    assert _processes_with(MARKER + "-fallback") == []


def test_without_a_sandbox_as_root_is_refused():
    if os.geteuid() != 0:
        sandbox = open_sandbox("process")
        assert "WARNING" in sandbox.description
        sandbox.close()
        with pytest.raises(SandboxUnavailable, match="needs root"):
            open_sandbox("unprivileged-user")
        return
    with pytest.raises(SandboxUnavailable, match="refused") as refused:
        open_sandbox("process")
    assert "install bubblewrap" in str(refused.value)


def test_a_missing_bwrap_is_unavailable_with_the_install_hint(monkeypatch):
    monkeypatch.setenv("PATH", "/nonexistent")
    with pytest.raises(SandboxUnavailable, match="apt-get install bubblewrap"):
        open_sandbox("bubblewrap")


def test_the_relay_between_questions_gains_nothing(graded, sandbox):
    """The reference layers' code, stored by the decoupled question, never reaches the
    student's affine_forward: the only writable place is /tmp, emptied after every task,
    and the decoupled questions run last, in a sandbox of their own."""
    points, outcome, _ = graded
    got = _cheat(points, "relay")
    assert got["affine_forward"] == 0
    assert got["two_layer_net"] == 0
    message = checks_of(outcome, "cheat--relay", "affine_forward")["values_2d"].message
    assert "relay found nothing" in message
    wrote = checks_of(outcome, "cheat--relay", "two_layer_net")["scores"].message
    assert wrote == "still raises NotImplementedError", wrote  # only /tmp was writable


def test_the_relay_fails_across_sandboxes(sandbox, tmp_path):
    """Graded in two runs with one sandbox object: the writer first, then a reader."""
    writer = _swap("04_two_layer_net", "TwoLayerNet", RELAY_WRITE)
    write_submission(tmp_path / "first", "writer", writer)
    grade_folder(tmp_path / "first", tmp_path / "out1", sandbox, questions=("two_layer_net",))
    write_submission(tmp_path / "second", "reader",
                     _swap("01_affine_layer", "affine_forward", RELAY_READ))
    points, outcome = grade_folder(tmp_path / "second", tmp_path / "out2", sandbox,
                                   questions=("affine_forward",))
    assert points["reader"]["affine_forward"] == 0
    assert "relay found nothing" in \
        checks_of(outcome, "reader", "affine_forward")["values_2d"].message


def test_filling_tmp_fails_only_that_question(graded):
    points, outcome, _ = graded
    got = _cheat(points, "fill_tmp")
    assert got["relu_forward"] == 0
    assert {q: p for q, p in got.items() if q != "relu_forward"} == \
        {q: p for q, p in FULL.items() if q != "relu_forward"}
    message = checks_of(outcome, "cheat--fill_tmp", "relu_forward")["values"].message
    assert "No space left" in message or "File too large" in message, message


@pytest.mark.parametrize("name", ["flood_frames", "flood_notes"])
def test_a_flood_of_frames_is_capped(graded, name):
    points, outcome, out = graded
    got = _cheat(points, name)
    assert got["svm_loss"] == 0
    assert {q: p for q, p in got.items() if q != "svm_loss"} == \
        {q: p for q, p in FULL.items() if q != "svm_loss"}
    feedback = (out / "feedback" / f"cheat--{name}.md").read_text()
    assert len(feedback) < 60_000 and "N" * 700 not in feedback and "M" * 700 not in feedback
    if name == "flood_frames":
        assert "more result frames than it has tasks" in feedback


# ----------------------------------------------------------------------------- the protocol

def test_the_frame_reader_cuts_frames_as_they_arrive_and_caps_them():
    from autograder.sandbox.supervisor import FrameReader
    from autograder.worker_runtime import encode_frame

    stream = b"".join(encode_frame({"kind": k}) for k in ("ready", "notes", "done"))
    reader = FrameReader(max_frames=3, max_bytes=10 ** 6)
    for i in range(0, len(stream), 5):  # in pieces, as a pipe delivers them
        assert reader.feed(stream[i:i + 5]) == ""
    assert reader.kinds == ["ready", "notes", "done"] and reader.seen("done")
    # A "done" inside a printed text or a header is not the end of the task.
    fake = FrameReader(10, 10 ** 6)
    fake.feed(encode_frame({"kind": "notes", "notes": ['"kind": "done"']}))
    assert not fake.seen("done")
    assert "more result frames" in FrameReader(2, 10 ** 6).feed(stream)
    assert "more result data" in FrameReader(10, 20).feed(stream)


def test_one_notes_frame_one_result_per_check_and_a_text_budget():
    from autograder.engine import MAX_TEXT, _parse_frames
    from autograder.worker_runtime import encode_frame

    frames = [encode_frame(h)[8:] for h in (
        {"kind": "ready"},
        {"kind": "notes", "notes": ["first " + "n" * 2000] * 100},
        {"kind": "notes", "notes": ["second"]},
        {"kind": "result", "key": "k", "status": "error", "message": "first"},
        {"kind": "result", "key": "k", "status": "ok", "scalars": {}},
        *[{"kind": "result", "key": f"k{i}", "status": "error", "message": "m" * 5000}
          for i in range(100)])]
    results, notes, ready = _parse_frames(frames)
    assert ready and results["k"].status == "error" and results["k"].message == "first"
    assert all(n.startswith("first") for n in notes) and len(notes) <= 50
    text = sum(map(len, notes)) + sum(len(r.message) for r in results.values())
    assert text <= MAX_TEXT and max(len(n) for n in notes) <= 600


def test_memory_is_capped_per_sandbox_where_the_first_line_says_so(sandbox, tmp_path):
    """Four 1 GB processes pass the sandbox's cgroup: the task is killed. Where no cgroup
    can be created, the first line says so. (Graded on its own: it takes gigabytes.)"""
    write_submission(tmp_path / "subs", "spread",
                     _swap("02_relu", "relu_backward", MEMORY_SPREAD))
    points, outcome = grade_folder(tmp_path / "subs", tmp_path / "out", sandbox,
                                   questions=("relu_forward", "relu_backward"), timeout=30)
    assert points["spread"] == {"relu_forward": 5, "relu_backward": 0}
    result = outcome.grades["spread"]["results"]["relu_backward"]
    text = " ".join([c.message for c in result.checks] + result.notes)
    if sandbox.memory.works:
        assert "per sandbox (cgroup v" in sandbox.description
        assert "SIGKILL" in text or "MemoryError" in text or \
            any(s != "0" for s in text.split("children ended ")[-1].split()[0].split(",")), text
    else:  # each process stays under its own limit: nothing to observe but the line
        assert "no per-sandbox memory cgroup (" in sandbox.description


def test_an_unprivileged_worker_cannot_read_files_private_to_root(tmp_path):
    """The unprivileged-user isolation (root only): a worker runs as another uid and
    cannot read what only root may read (how the Gradescope bundle hides its answer key)."""
    if os.geteuid() != 0:
        with pytest.raises(SandboxUnavailable, match="needs root"):
            open_sandbox("unprivileged-user")
        return
    secret = tmp_path / "secret.py"
    secret.write_text("ANSWER = 42\n")
    os.chmod(secret, 0o600)
    os.chmod(tmp_path, 0o755)
    reader = f'''
def affine_forward(x, w, b):
    import os
    try:
        text = open({str(secret)!r}).read()
    except OSError as err:
        text = type(err).__name__
    raise NotImplementedError("CHEAT-REPORT uid " + str(os.getuid()) + " read " + text)
'''
    write_submission(tmp_path / "subs", "reader", _swap("01_affine_layer", "affine_forward", reader))
    sandbox = open_sandbox("unprivileged-user")
    try:
        _, outcome = grade_folder(tmp_path / "subs", tmp_path / "out", sandbox,
                                  questions=("affine_forward",), timeout=20)
    finally:
        sandbox.close()
    message = checks_of(outcome, "reader", "affine_forward")["values_2d"].message
    # Not even found: the worker's /tmp is its own (a private tmpfs), and a file of the
    # grader elsewhere is refused by its mode.
    assert ("read PermissionError" in message or "read FileNotFoundError" in message) \
        and "uid 0 " not in message, message


def test_a_worker_uid_is_claimed_machine_wide(tmp_path):
    """Two graders on one machine never share a worker uid: after each task a grader kills
    every process of its uid, which must not reach the other grader's worker."""
    from autograder.sandbox import host

    folder = tmp_path / "locks"
    first = host._claim_uid(65534, folder)
    assert first is not None
    assert host._claim_uid(65534, folder) is None, "a second grader got the claimed uid"
    other = host._claim_uid(65533, folder)
    assert other is not None
    os.close(first)
    again = host._claim_uid(65534, folder)
    assert again is not None, "a released uid stays claimed"
    for fd in (other, again):
        os.close(fd)
    folder.chmod(0o777)
    with pytest.raises(SandboxUnavailable, match="mode 700"):
        host._claim_uid(65534, folder)


def test_two_unprivileged_sandboxes_take_different_uids():
    if os.geteuid() != 0:
        with pytest.raises(SandboxUnavailable, match="needs root"):
            open_sandbox("unprivileged-user")
        return
    first, second = open_sandbox("unprivileged-user"), open_sandbox("unprivileged-user")
    try:
        a, b = first.session(), second.session()
        uid_a, uid_b = a.uid, b.uid
        assert uid_a != uid_b
        a.close()
        c = second.session()
        assert c.uid != uid_b
        for session in (b, c):
            session.close()
    finally:
        first.close()
        second.close()
