"""Sessions: where one student's tasks run, one after the other.

Every sandbox hands out sessions through `sandbox.session()`; the engine uses only this
interface (`run(job_body, limits) -> WorkerRun`, `close()`), whatever the isolation:

- `ForkServerSession` (bubblewrap): one sandbox per session; a trusted fork server in it
  (worker_server.serve) runs each task in a fresh child process and, after it, kills every
  other process in the sandbox, empties /tmp and removes SysV IPC objects, then reports
  "idle" on a control pipe that children close before any student code runs. A fault
  ends the sandbox; the next task starts a new one.
- `ProcessSession` (unprivileged user, process): a fresh interpreter per task; the end of
  a task is the end of that process; the sandbox's `after_task` kills what it left.

Both read their tasks' output through the one supervisor loop (supervisor.supervise).
"""
import functools
import json
import os
import subprocess
import time
import uuid
from pathlib import Path

from .supervisor import (FrameReader, PrintSink, WorkerRun, close_pipes, drain,
                         feed_in_background, kill_group, killed_by, supervise)

_RUNTIME_FILES = ("worker_runtime.py", "worker_server.py")


@functools.lru_cache(maxsize=1)
def runtime_source():
    """The code a worker executes, sent over its stdin (nothing of it is on its disk)."""
    folder = Path(__file__).resolve().parents[1]
    return b"\n\n".join((folder / name).read_bytes() for name in _RUNTIME_FILES)


def _preamble(config):
    runtime = runtime_source()
    return (str(len(runtime)).encode() + b"\n" + runtime
            + len(config).to_bytes(8, "little") + config)


class Session:
    """The interface: run tasks one after the other, then close. `prepare()` may start
    the session's sandbox ahead of its first task (in the background), so that its start
    overlaps other work; no task is sent to it before `run`."""

    def prepare(self):
        pass

    def run(self, job_body, limits):
        raise NotImplementedError

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


class ForkServerSession(Session):
    """One sandbox, started on the first task; a fresh child process per task."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.proc = self.control = self.group = None
        self._feeding = None  # the thread writing the preamble, until the server is ready

    def prepare(self):
        """Start the sandbox now and let it load while other work runs; `run` waits for
        it to be ready. Started from the calling thread, which must outlive the session
        (bwrap --die-with-parent follows the thread that started it)."""
        if self.proc is None:
            self._spawn()

    def _spawn(self):
        self.group = self.sandbox.memory.new_group()
        control_r, control_w = os.pipe()
        command, kwargs = self.sandbox.command("serve", self.group)
        try:
            self.proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                         stderr=subprocess.PIPE, start_new_session=True,
                                         pass_fds=(control_w,), **kwargs)
        finally:
            os.close(control_w)
        self.control = control_r
        config = json.dumps({"lib": self.sandbox.lib, "control_fd": control_w,
                             "preload": list(self.sandbox.preload)}).encode()
        self._feeding = feed_in_background(self.proc.stdin, _preamble(config), close=False)

    def _start(self):
        """Spawn the sandbox unless prepared, and wait until its fork server is ready."""
        if self.proc is None:
            self._spawn()
        self._feeding.join(60)
        self._feeding = None
        ready = FrameReader(4, 1 << 16, "control")
        supervise({self.control: ready}, lambda: ready.seen("server-ready") or ready.eof,
                  time.monotonic() + 60, 60)
        if not ready.seen("server-ready"):
            problem = self._stderr_tail()
            self.close()
            raise RuntimeError(f"the grading sandbox did not start: {problem}")

    def _stderr_tail(self):
        os.set_blocking(self.proc.stderr.fileno(), False)
        try:
            data = self.proc.stderr.read(65536) or b""
        except (OSError, ValueError, TypeError):
            data = b""
        return " | ".join(data.decode("utf-8", "replace").strip().splitlines()[-3:])

    def run(self, job_body, limits):
        if self.proc is None or self._feeding is not None:
            self._start()  # not part of the task's time: it has its own 60 s limit
        started = time.monotonic()
        feed_in_background(self.proc.stdin, len(job_body).to_bytes(8, "little") + job_body,
                           close=False)
        results = FrameReader(limits.frames, limits.result_bytes)
        prints = PrintSink(limits.print_bytes)
        control = FrameReader(2, 1 << 16, "control")
        streams = {self.proc.stdout.fileno(): results, self.proc.stderr.fileno(): prints}
        fault = supervise({**streams, self.control: control},
                          lambda: control.frames or control.eof,
                          started + limits.timeout, limits.timeout)
        idle = _idle_header(control)
        if idle is not None:
            drain(streams)  # the task's processes are gone: what they wrote is in the pipes
            if not idle.get("clean"):
                fault = fault or "its sandbox could not be cleaned after it"
        elif not fault:
            fault = "its sandbox stopped"
        run = _finish(results, prints, fault, (idle or {}).get("status", ""), started)
        if run.fault:
            self.close()  # a fault ends the sandbox; the next task gets a new one
        return run

    def close(self):
        self._feeding = None
        if self.proc is not None:
            kill_group(self.proc)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            close_pipes(self.proc)
            self.proc = None
        if self.control is not None:
            os.close(self.control)
            self.control = None
        if self.group is not None:
            self.group.close()
            self.group = None


def _idle_header(control):
    """The fork server's "idle" report among the control frames, or None."""
    for body in control.frames:
        n = int.from_bytes(body[:8], "little")
        try:
            header = json.loads(body[8:8 + n])
        except ValueError:
            continue
        if isinstance(header, dict) and header.get("kind") == "idle":
            return header
    return None


def _finish(results, prints, fault, status, started):
    run = WorkerRun(frames=results.frames, fault=fault, status=status,
                    done=results.seen("done"), prints=bytes(prints.kept),
                    seconds=time.monotonic() - started)
    if not run.fault and not run.done:
        if status.startswith("signal "):
            run.fault = killed_by(int(status.split()[1]))
        else:
            run.fault = f"it exited early ({status or 'no status'})"
    return run


class ProcessSession(Session):
    """A fresh worker process per task (no fork server: nothing to clean it up with)."""

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.group = None

    def run(self, job_body, limits):
        if self.group is None:
            self.group = self.sandbox.memory.new_group()
        token = uuid.uuid4().hex
        command, kwargs = self.sandbox.command("task", self.group, token)
        started = time.monotonic()
        try:
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True, **kwargs)
        except OSError as err:
            self.sandbox.after_task(token)
            return WorkerRun(fault=f"the worker could not start ({err})")
        try:
            config = json.dumps({"lib": self.sandbox.lib}).encode()
            feed_in_background(proc.stdin, _preamble(config) + len(job_body).to_bytes(8, "little")
                               + job_body, close=True)
            results = FrameReader(limits.frames, limits.result_bytes)
            prints = PrintSink(limits.print_bytes)
            streams = {proc.stdout.fileno(): results, proc.stderr.fileno(): prints}
            fault = supervise(streams, _process_over(proc, results, streams),
                              started + limits.timeout, limits.timeout)
        finally:
            kill_group(proc)
            code = _wait(proc)
            close_pipes(proc)
            self.sandbox.after_task(token)
        if results.seen("done") and fault.startswith("it ran longer"):
            fault = ""  # it finished its work; only its exit was slow (killed above)
        status = "unknown" if code is None else \
            (f"signal {-code}" if code < 0 else f"exit {code}")
        return _finish(results, prints, fault, status, started)

    def close(self):
        if self.group is not None:
            self.group.close()
            self.group = None


def _process_over(proc, results, streams):
    """The end of a task in a ProcessSession: the worker exited and its pipes closed (or
    stayed open 0.5 s longer, held by a background process), or it sent "done" and has
    not exited 2 s later."""
    marks = {}

    def over():
        now = time.monotonic()
        if proc.poll() is None:
            if results.seen("done"):
                marks.setdefault("done", now)
                return now - marks["done"] > 2.0
            return False
        marks.setdefault("exit", now)
        return all(s.eof for s in streams.values()) or now - marks["exit"] > 0.5
    return over


def _wait(proc):
    try:
        return proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        return None
