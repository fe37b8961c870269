"""Nothing of a worker outlives it: the answer key's layers stored in SysV shared memory
(or a POSIX message queue) by the decoupled question never reach a later grading.

The attack: chapter 4's `TwoLayerNet` is graded with the answer key's layers in its
worker. Its class body finds them (the garbage collector lists every object of the
worker) and stores their compiled code in a SysV shared-memory segment, which outlives
its process. A later grading's chapter 1 to 3 functions attach the segment and run that
code. Tried on both isolations a route can use as root: bubblewrap and, without it, the
unprivileged-user fallback (the otter and nbgrader routes' choice when bubblewrap cannot
start).
"""
import os
import uuid
from pathlib import Path

import pytest

from autograder.sandbox import SandboxUnavailable, open_sandbox

from autograder_support import checks_of, grade_folder, notebook, replace_definition, \
    write_submission

pytestmark = pytest.mark.slow

KEY = 0x5EC000 + uuid.uuid4().int % 0xFFF       # the segment's key, unique to this run
QUEUE = f"/autograder-test-{uuid.uuid4().hex[:12]}"  # a POSIX message queue's name
LAYERS = {"01_affine_layer": ("affine_forward", "affine_backward"),
          "02_relu": ("relu_forward", "relu_backward"),
          "03_losses": ("svm_loss", "softmax_loss")}
ARGS = {"affine_forward": "x, w, b", "affine_backward": "dout, cache",
        "relu_forward": "x", "relu_backward": "dout, cache",
        "svm_loss": "x, y", "softmax_loss": "x, y"}
LAYER_POINTS = {"affine_forward": 10, "affine_backward": 10, "relu_forward": 5,
                "relu_backward": 5, "svm_loss": 10, "softmax_loss": 10}

SHM = f'''
def _libc():
    import ctypes
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmat.restype = ctypes.c_void_p
    libc.shmat.argtypes = [ctypes.c_int, ctypes.c_void_p, ctypes.c_int]
    libc.mq_open.restype = ctypes.c_int
    return libc


def _attach():
    """The stored bytes, or None."""
    import ctypes
    libc = _libc()
    ident = libc.shmget({KEY}, 0, 0)
    if ident < 0:
        return None
    addr = libc.shmat(ident, None, 0o10000)  # SHM_RDONLY
    if addr is None or addr == ctypes.c_void_p(-1).value:
        return None
    n = int.from_bytes(ctypes.string_at(addr, 8), "little")
    return ctypes.string_at(addr + 8, n)
'''

WRITER = SHM + f'''

def _steal_and_store():
    import ctypes, gc, marshal, os
    codes = {{}}
    for obj in gc.get_objects():
        if isinstance(obj, dict) and obj.get("__name__") == "reference_layers":
            codes = {{k: v.__code__ for k, v in obj.items() if hasattr(v, "__code__")}}
    if not codes:
        return False
    data = marshal.dumps(codes)
    libc = _libc()
    ident = libc.shmget({KEY}, len(data) + 8, 0o1666)  # IPC_CREAT, readable by all
    addr = libc.shmat(ident, None, 0)
    if ident < 0 or addr is None or addr == ctypes.c_void_p(-1).value:
        return False
    ctypes.memmove(addr, len(data).to_bytes(8, "little") + data, len(data) + 8)
    libc.mq_open({QUEUE!r}.encode(), os.O_CREAT | os.O_RDWR, 0o666, None)
    return True


class TwoLayerNet:
    stored = _steal_and_store()

    def __init__(self, *args, **kwargs):
        # The feedback of this question quotes no text of the worker, so the finding is
        # told by the exception's type: NotImplementedError when the segment holds the code.
        if _attach():
            raise NotImplementedError("CHEAT-REPORT stored")
        raise RuntimeError("CHEAT-REPORT could not store")
'''


def _reader(name):
    return f'''
def {name}({ARGS[name]}):
    import marshal, types
    import numpy
    data = _attach()
    if data is None:
        raise NotImplementedError("CHEAT-REPORT relay found nothing")
    scope = {{"np": numpy, "__builtins__": __builtins__}}
    for key, code in marshal.loads(data).items():
        if not code.co_freevars:
            scope[key] = types.FunctionType(code, scope)
    return scope[{name!r}]({ARGS[name]})
'''


def _reader_notebooks():
    books = {}
    for stem, names in LAYERS.items():
        nb = notebook(stem, "student")
        nb = replace_definition(nb, names[0], SHM + _reader(names[0]))
        books[stem] = replace_definition(nb, names[1], _reader(names[1]))
    return books


def _host_holds_the_relay():
    segments = Path("/proc/sysvipc/shm").read_text().splitlines()[1:]
    shm = any(int(row.split()[0]) == KEY for row in segments)
    return shm or Path("/dev/mqueue", QUEUE.lstrip("/")).exists()


def _remove_leftovers():
    """Undo a successful attack on this machine (so a failing run leaves nothing)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ident = libc.shmget(KEY, 0, 0)
    if ident >= 0:
        libc.shmctl(ident, 0, None)  # IPC_RMID
    libc.mq_unlink(QUEUE.encode())


def _relay_points(sandbox, tmp_path):
    """(the writer's feedback, the reader's points in a later grading with the same
    sandbox, the reader's points with a new sandbox of the same kind)."""
    write_submission(tmp_path / "first", "writer",
                     {"04_two_layer_net": replace_definition(
                         notebook("04_two_layer_net"), "TwoLayerNet", WRITER)})
    _, wrote = grade_folder(tmp_path / "first", tmp_path / "out1", sandbox,
                            questions=("two_layer_net",))
    message = checks_of(wrote, "writer", "two_layer_net")["scores"].message
    write_submission(tmp_path / "second", "reader", _reader_notebooks())
    same, outcome = grade_folder(tmp_path / "second", tmp_path / "out2", sandbox,
                                 questions=tuple(LAYER_POINTS))
    later = open_sandbox(sandbox.kind)
    try:
        again, _ = grade_folder(tmp_path / "second", tmp_path / "out3", later,
                                questions=tuple(LAYER_POINTS))
    finally:
        later.close()
    found = checks_of(outcome, "reader", "affine_forward")["values_2d"].message
    return message, same["reader"], again["reader"], found


def _assert_nothing_relayed(sandbox, tmp_path):
    try:
        message, same, again, found = _relay_points(sandbox, tmp_path)
        leftover = _host_holds_the_relay()
    finally:
        _remove_leftovers()
    # The attack itself works inside its worker: the code was found and stored ...
    assert message == "still raises NotImplementedError", message
    # ... but nothing of it is left on the machine, nor reaches a later grading.
    assert not leftover, "a SysV segment or message queue outlived its worker"
    assert same == {q: 0 for q in LAYER_POINTS}, same
    assert again == {q: 0 for q in LAYER_POINTS}, again
    assert "relay found nothing" in found, found


def test_shared_memory_relay_fails_in_the_unprivileged_user_fallback(tmp_path):
    if os.geteuid() != 0:
        with pytest.raises(SandboxUnavailable, match="needs root"):
            open_sandbox("unprivileged-user")
        return
    sandbox = open_sandbox("unprivileged-user")
    try:
        _assert_nothing_relayed(sandbox, tmp_path)
    finally:
        sandbox.close()


def test_shared_memory_relay_fails_in_bubblewrap(sandbox, tmp_path):
    _assert_nothing_relayed(sandbox, tmp_path)


# Every kind of state a task could leave for a later one: a SysV segment, a POSIX message
# queue, a file in each world-writable folder, an abstract unix socket held open by a
# background process in a session of its own.
TRACE = f"autograder-trace-{uuid.uuid4().hex[:12]}"
TRACE_KEY = KEY + 1
LEAVE_TRACES = f'''
def affine_forward(x, w, b):
    import ctypes, os, socket, time
    libc = ctypes.CDLL(None, use_errno=True)
    libc.shmget({TRACE_KEY}, 4096, 0o1666)
    libc.mq_open(b"/{TRACE}", os.O_CREAT | os.O_RDWR, 0o666, None)
    for folder in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
        try:
            with open(os.path.join(folder, {TRACE!r}), "w") as f:
                f.write("x")
        except OSError:
            pass
    if os.fork() == 0:
        os.setsid()
        server = socket.socket(socket.AF_UNIX)
        server.bind("\\0{TRACE}")
        server.listen()
        time.sleep(60)
        os._exit(0)
    time.sleep(0.5)
    raise NotImplementedError("CHEAT-REPORT left its traces")
'''
FIND_TRACES = f'''
def relu_forward(x):
    import ctypes, os, socket
    libc = ctypes.CDLL(None, use_errno=True)
    found = []
    if libc.shmget({TRACE_KEY}, 0, 0) >= 0:
        found.append("shm")
    if libc.mq_open(b"/{TRACE}", os.O_RDONLY) >= 0:
        found.append("mqueue")
    for folder in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
        if os.path.exists(os.path.join(folder, {TRACE!r})):
            found.append(folder)
    client = socket.socket(socket.AF_UNIX)
    try:
        client.connect("\\0{TRACE}")
        found.append("abstract socket")
    except OSError:
        pass
    raise NotImplementedError("CHEAT-REPORT found " + (",".join(found) or "nothing"))
'''


def _remove_traces():
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ident = libc.shmget(TRACE_KEY, 0, 0)
    if ident >= 0:
        libc.shmctl(ident, 0, None)
    libc.mq_unlink(f"/{TRACE}".encode())
    for folder in ("/tmp", "/var/tmp", "/dev/shm", "/run/lock"):
        Path(folder, TRACE).unlink(missing_ok=True)


def _assert_no_trace_survives(sandbox, tmp_path):
    """The traces of affine_forward's task, looked for by relu_forward's task: of the same
    student (the next task of the same session), then of another student in a later run."""
    both = {"01_affine_layer": replace_definition(notebook("01_affine_layer"),
                                                  "affine_forward", LEAVE_TRACES),
            "02_relu": replace_definition(notebook("02_relu"), "relu_forward", FIND_TRACES)}
    write_submission(tmp_path / "first", "both", both)
    write_submission(tmp_path / "second", "reader", {"02_relu": both["02_relu"]})
    try:
        _, first = grade_folder(tmp_path / "first", tmp_path / "out1", sandbox,
                                questions=("affine_forward", "relu_forward"), timeout=10)
        _, second = grade_folder(tmp_path / "second", tmp_path / "out2", sandbox,
                                 questions=("relu_forward",), timeout=10)
    finally:
        _remove_traces()
    left = checks_of(first, "both", "affine_forward")["values_2d"].message
    assert "left its traces" in left, left
    for outcome, student in ((first, "both"), (second, "reader")):
        found = checks_of(outcome, student, "relu_forward")["values"].message
        assert "CHEAT-REPORT found nothing" in found, (student, found)


def test_no_trace_of_a_task_survives_in_the_unprivileged_user_fallback(tmp_path):
    if os.geteuid() != 0:
        with pytest.raises(SandboxUnavailable, match="needs root"):
            open_sandbox("unprivileged-user")
        return
    sandbox = open_sandbox("unprivileged-user")
    try:
        _assert_no_trace_survives(sandbox, tmp_path)
    finally:
        sandbox.close()


def test_no_trace_of_a_task_survives_in_bubblewrap(sandbox, tmp_path):
    _assert_no_trace_survives(sandbox, tmp_path)


def test_where_namespaces_are_refused_the_fallback_says_so_and_still_removes_ipc(
        tmp_path, monkeypatch):
    """A container whose policy refuses new namespaces: the fallback
    names what is missing on its first line, and removes the uid's SysV objects after
    every task, so the relay through shared memory still earns nothing."""
    if os.geteuid() != 0:
        with pytest.raises(SandboxUnavailable, match="needs root"):
            open_sandbox("unprivileged-user")
        return
    from autograder.sandbox import host

    launch = host.launch_command

    def refusing(argv, private=None, **kwargs):
        if private:  # what the kernel refuses there: new IPC, PID, network namespaces
            argv = ["/bin/sh", "-c", "echo 'unshare: Operation not permitted' >&2; exit 1"]
        return launch(argv, **kwargs)
    monkeypatch.setattr(host, "launch_command", refusing)
    sandbox = open_sandbox("unprivileged-user")
    try:
        assert "WITHOUT private namespaces (unshare: Operation not permitted)" in \
            sandbox.description, sandbox.description
        try:
            message, same, again, found = _relay_points(sandbox, tmp_path)
        finally:
            _remove_leftovers()
    finally:
        sandbox.close()
    assert message == "still raises NotImplementedError", message
    assert same == {q: 0 for q in LAYER_POINTS} and again == same, (same, again)
