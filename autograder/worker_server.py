"""The fork server of a bubblewrap session: one child process per task, a clean sandbox
after each.

Not imported by the grader: the grader sends this file's source right after
worker_runtime.py's, and both run in one namespace inside the sandbox (so the names used
below without an import, such as run_job, encode_frame and _LENGTH, are worker_runtime's).

The server never runs student code and never reads a job: each child reads its own job
from stdin, runs it and exits. After every child the server kills and reaps every other
process in the sandbox (it is PID 2 of its own PID namespace and a subreaper), empties
/tmp (the only writable place: /dev is read-only, site-packages an empty read-only bind),
removes SysV IPC objects, and then reports on its control pipe, which children close
before anything of the student runs. The server is not dumpable, so a child cannot read
its memory or its file descriptors. A child makes itself the first choice of the
out-of-memory killer, so a memory cap hit in the cgroup ends the task, not the server.
"""
import json  # noqa: F401 (also in worker_runtime; listed for readers)
import os
import sys


def _read_exact(fd, n):
    """Exactly n bytes from fd (unbuffered: nothing beyond them is read), b"" at EOF."""
    chunks, left = [], n
    while left:
        chunk = os.read(fd, min(left, 1 << 20))
        if not chunk:
            return b""
        chunks.append(chunk)
        left -= len(chunk)
    return b"".join(chunks)


def _prctl(option, value):
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    return libc.prctl(option, value, 0, 0, 0)


def serve(config):
    """Run tasks until stdin closes; see the module docstring."""
    if os.getpid() > 10:
        # kill(-1) below is only safe as PID 2 of a fresh PID namespace (bubblewrap).
        raise SystemExit("the fork server runs only inside its own PID namespace")
    send = _results_channel()  # noqa: F821
    _setup(config["lib"])  # noqa: F821
    for name in config.get("preload", ()):
        try:
            __import__(name)
        except Exception:
            pass
    control = int(config["control_fd"])
    _prctl(4, 0)    # PR_SET_DUMPABLE: no ptrace, no /proc/<server>/{mem,fd} for children
    _prctl(36, 1)   # PR_SET_CHILD_SUBREAPER: orphans of a task come back to us

    def report(header):
        os.write(control, encode_frame(header))  # noqa: F821

    report({"kind": "server-ready"})
    while True:
        head = _read_exact(0, 8)
        if not head:
            os._exit(0)
        (length,) = _LENGTH.unpack(head)  # noqa: F821
        status, took = _run_child(length, control, send)
        clean = _clean_sandbox()
        report({"kind": "idle", "status": status, "clean": bool(clean and took)})
        if not clean or not took:
            os._exit(1)  # out of step or not clean: the grader starts a fresh sandbox


def _run_child(length, control, send):
    """Fork the task's worker; wait for it. (status text, whether it read its whole job)."""
    took_r, took_w = os.pipe()
    pid = os.fork()
    if pid == 0:
        try:
            os.close(control)
            os.close(took_r)
            # The job's bytes go straight to run_job, never into a local of this frame:
            # student code runs below it and can walk the stack.
            run_job(_take_job(length, took_w), send)  # noqa: F821
        finally:
            os._exit(0)
    os.close(took_w)
    _, status = os.waitpid(pid, 0)
    took = os.read(took_r, 1) == b"1"
    os.close(took_r)
    return _status_text(status), took


def _take_job(length, took_w):
    """Read the task's job; tell the server whether all of it came; detach from stdin."""
    body = _read_exact(0, length)
    os.write(took_w, b"1" if len(body) == length else b"0")
    os.close(took_w)
    _stdin_to_devnull()  # noqa: F821
    _first_to_go_when_out_of_memory()
    return body


def _first_to_go_when_out_of_memory():
    try:
        with open("/proc/self/oom_score_adj", "w") as adj:
            adj.write("1000")
    except OSError:
        pass


def _status_text(status):
    if os.WIFSIGNALED(status):
        return f"signal {os.WTERMSIG(status)}"
    return f"exit {os.WEXITSTATUS(status)}" if os.WIFEXITED(status) else "unknown"


def _clean_sandbox():
    """Kill and reap every process but us and PID 1, empty /tmp, remove SysV IPC objects.
    True when all of it is done."""
    return _kill_all_others() and _empty_tmp() and _remove_sysv_ipc()


def _kill_all_others():
    import signal
    import time

    for _ in range(2000):
        try:
            os.kill(-1, signal.SIGKILL)
            signalled = True
        except ProcessLookupError:
            signalled = False
        children = True
        while True:
            try:
                pid, _ = os.waitpid(-1, os.WNOHANG)
            except ChildProcessError:
                children = False
                break
            if pid == 0:
                break
        if not signalled and not children:
            return True
        time.sleep(0.001)
    return False


def _empty_tmp():
    import shutil

    def make_writable_and_retry(function, path, _):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
        except OSError:
            pass
        function(path)

    try:
        for entry in os.listdir("/tmp"):
            path = os.path.join("/tmp", entry)
            if os.path.isdir(path) and not os.path.islink(path):
                shutil.rmtree(path, onerror=make_writable_and_retry)
            else:
                os.unlink(path)
        return not os.listdir("/tmp")
    except OSError:
        return False


def _remove_sysv_ipc():
    """SysV shared memory, queues and semaphores outlive their process: remove them all
    (the sandbox has its own IPC namespace, so these are only the tasks' own)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    ipc_rmid = 0
    removers = {"shm": libc.shmctl, "msg": libc.msgctl, "sem": libc.semctl}
    ok = True
    for kind, remove in removers.items():
        try:
            with open(f"/proc/sysvipc/{kind}") as table:
                rows = table.read().splitlines()[1:]
        except OSError:
            continue
        for row in rows:
            ident = int(row.split()[1])
            result = remove(ident, 0, ipc_rmid) if kind == "sem" else remove(ident, ipc_rmid, None)
            ok = ok and result == 0
    return ok


if __name__ == "__main__":
    sys.exit("worker_server.py runs only inside a grading sandbox")
