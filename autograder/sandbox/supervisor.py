"""The one supervisor loop: feed a worker its job, read what it sends within caps, stop it.

Hand-written because no library provides it without Docker: none supervises an untrusted
process tree with a wall-clock deadline, capped and framed output and a kill of everything
it started (subprocess and selectors are the standard library's building blocks; this
module puts them together). Every session (autograder/sandbox/sessions.py) runs
its tasks through `supervise`; only the test "is the task over?" differs between them.

Channels (all pipes, read as raw file descriptors):
- results: length-prefixed frames (worker_runtime.encode_frame); a `FrameReader` cuts
  them as they arrive, counts them and reads each header, so the end of a task is a
  decoded frame, never a piece of text found in the output;
- prints: the student's stdout and stderr, counted and kept only for the first 4 KB;
- control (fork-server sessions only): frames from the trusted server, e.g. "idle".
"""
import json
import os
import signal
import struct
import threading
import time
from dataclasses import dataclass, field

_LENGTH = struct.Struct("<Q")
MAX_HEADER_BYTES = 64 * 1024     # a frame's JSON header (results are mostly arrays)
KEPT_PRINTS = 4096


@dataclass
class Limits:
    timeout: float                      # wall-clock seconds of one task
    memory_mb: int = 2048               # address space of one worker process
    processes: int = 16                 # RLIMIT_NPROC
    file_bytes: int = 16 * 2 ** 20      # largest file a worker may write
    open_files: int = 64
    result_bytes: int = 128 * 2 ** 20   # all result frames of one task
    print_bytes: int = 2 * 2 ** 20      # the student's prints (stdout + stderr) of one task
    frames: int = 1000                  # result frames of one task (the engine sets
                                        # tasks + 3: ready, notes, one per task, done)

    def for_worker(self):
        return {"cpu_seconds": int(self.timeout) + 1,
                "address_space": int(self.memory_mb) * 2 ** 20,
                "processes": self.processes, "file_bytes": self.file_bytes,
                "open_files": self.open_files}


@dataclass
class WorkerRun:
    frames: list = field(default_factory=list)  # frame bodies, in order (worker_runtime)
    fault: str = ""                             # "" or why the task was stopped
    status: str = ""                            # how the worker ended ("exit 0", ...)
    done: bool = False                          # the runtime's "done" frame arrived
    prints: bytes = b""                         # the first 4 KB of the student's output
    seconds: float = 0.0


class FrameReader:
    """Cuts a byte stream into frames as they arrive and enforces the caps."""

    def __init__(self, max_frames, max_bytes, what="result"):
        self.max_frames, self.max_bytes, self.what = max_frames, max_bytes, what
        self.buffer = bytearray()
        self.frames, self.kinds = [], []
        self.total = 0
        self.eof = False

    def feed(self, chunk):
        """Add bytes; return a fault ("" when within the caps)."""
        self.total += len(chunk)
        if self.total > self.max_bytes:
            return f"it wrote more {self.what} data than allowed"
        self.buffer += chunk
        while len(self.buffer) >= 8:
            (n,) = _LENGTH.unpack_from(self.buffer, 0)
            if len(self.buffer) < 8 + n:
                break
            body = bytes(self.buffer[8:8 + n])
            del self.buffer[:8 + n]
            if len(self.frames) >= self.max_frames:
                return f"it sent more {self.what} frames than it has tasks"
            self.frames.append(body)
            self.kinds.append(_kind(body))
        return ""

    def seen(self, kind):
        return kind in self.kinds


def _kind(body):
    """The "kind" of a frame's JSON header, or "" when the header is not readable."""
    try:
        (n,) = _LENGTH.unpack_from(body, 0)
        if n > MAX_HEADER_BYTES:
            return ""
        header = json.loads(body[8:8 + n].decode("utf-8"))
        return str(header.get("kind", "")) if isinstance(header, dict) else ""
    except (ValueError, struct.error, UnicodeDecodeError):
        return ""


class PrintSink:
    """The student's prints: counted, the first few KB kept, a fault past the cap."""

    def __init__(self, max_bytes):
        self.max_bytes = max_bytes
        self.kept, self.total, self.eof = bytearray(), 0, False

    def feed(self, chunk):
        self.total += len(chunk)
        if len(self.kept) < KEPT_PRINTS:
            self.kept += chunk[:KEPT_PRINTS - len(self.kept)]
        if self.total > self.max_bytes:
            return f"it printed more than {self.max_bytes // 2 ** 20} MB of output"
        return ""


def supervise(streams, finished, deadline, timeout):
    """Read `streams` ({fd: FrameReader or PrintSink}) until `finished()` is true, a sink
    reports a fault, or `deadline` (time.monotonic) passes. Returns the fault or ""."""
    import selectors

    selector = selectors.DefaultSelector()
    for fd in streams:
        selector.register(fd, selectors.EVENT_READ)
    fault = ""
    try:
        while not fault and not finished():
            if time.monotonic() > deadline:
                fault = f"it ran longer than the time limit of {timeout:g} s"
                break
            for key, _ in selector.select(timeout=0.05):
                sink = streams[key.fd]
                chunk = _read(key.fd)
                if chunk is None:
                    continue
                if not chunk:
                    sink.eof = True
                    selector.unregister(key.fd)
                    continue
                fault = fault or sink.feed(chunk)
    finally:
        selector.close()
    return fault


def drain(streams):
    """Read what is left in the pipes without blocking (the writers are gone)."""
    for fd, sink in streams.items():
        os.set_blocking(fd, False)
        while not sink.eof:
            chunk = _read(fd)
            if not chunk:
                break
            if sink.feed(chunk):
                break


def _read(fd):
    try:
        return os.read(fd, 1 << 16)
    except BlockingIOError:
        return None
    except OSError:
        return b""


def feed_in_background(stream, payload, close):
    """Write `payload` to a worker's stdin from a thread (a job can be larger than a pipe)."""
    def write():
        try:
            for start in range(0, len(payload), 1 << 20):
                stream.write(payload[start:start + (1 << 20)])
            stream.flush()
            if close:
                stream.close()
        except (BrokenPipeError, OSError, ValueError):
            pass
    thread = threading.Thread(target=write, daemon=True)
    thread.start()
    return thread


def killed_by(number):
    name = signal.Signals(number).name if number in signal.valid_signals() else number
    return f"it was killed by signal {name}" + (" (CPU time limit)" if name == "SIGXCPU" else "")


def kill_group(proc):
    for kill in (lambda: os.killpg(proc.pid, signal.SIGKILL), proc.kill):
        try:
            kill()
        except (ProcessLookupError, PermissionError, OSError):
            pass


def close_pipes(proc):
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            if stream is not None:
                stream.close()
        except OSError:
            pass
