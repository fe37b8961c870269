"""Running one grading worker: bubblewrap where it works, the best fallback elsewhere.

`detect_sandbox()` picks the strongest isolation this machine allows and checks that it
really starts a Python with numpy; `Sandbox.run(job, limits)` runs one worker on one job
and returns its result frames, whatever the worker does. See SECURITY.md for what each
layer stops.

bubblewrap view of the filesystem (everything read-only except a small private /tmp):
    /usr, /lib*, /bin, /sbin      system libraries (as on the host; Python needs libc)
    <python prefix>               the interpreter, libpython and the standard library only
                                  (its site-packages is hidden under an empty tmpfs)
    /opt/grader/lib/{numpy, numpy.libs, fcnet, tqdm}
                                  the only importable packages
    /proc (this sandbox's own), /dev (null, zero, random, urandom, tty), /tmp (64 MB tmpfs)
No network namespace peers, own PID/IPC/UTS/user namespaces, a new session, no capabilities.
Not visible: the repository (so neither answer_key/ nor autograder/), the virtualenv, the
submissions, the output folder, home directories.

Run as root, bubblewrap's process limit would not apply (root is exempt), so the grader
first enters a private mount namespace, bind-mounts the few paths above onto a staging
folder, drops to the unprivileged user `nobody`, and only then starts bubblewrap.
"""
import importlib.util
import json
import os
import select
import selectors
import shutil
import signal
import subprocess
import sys
import sysconfig
import tempfile
import threading
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

from .worker_runtime import BOOTSTRAP, decode_frame, split_frames

SANDBOX_LIB = "/opt/grader/lib"
LIB_PACKAGES = ("numpy", "fcnet", "tqdm")
NOBODY = 65534
TMPFS_BYTES = 64 * 2 ** 20

# Environment of every worker: nothing inherited from the instructor's shell.
WORKER_ENV = {
    "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1", "MPLBACKEND": "Agg",
}


@dataclass
class Limits:
    timeout: float                      # wall-clock seconds for the whole worker
    memory_mb: int = 2048               # address space
    processes: int = 16                 # RLIMIT_NPROC (counted per sandbox)
    file_bytes: int = 16 * 2 ** 20      # largest file the worker may write (in its /tmp)
    open_files: int = 64
    result_bytes: int = 128 * 2 ** 20   # result frames
    print_bytes: int = 2 * 2 ** 20      # the student's prints (stdout + stderr)

    def for_worker(self):
        return {"cpu_seconds": int(self.timeout) + 1,
                "address_space": int(self.memory_mb) * 2 ** 20,
                "processes": self.processes, "file_bytes": self.file_bytes,
                "open_files": self.open_files}


@dataclass
class WorkerRun:
    frames: list = field(default_factory=list)  # frame bodies (see worker_runtime)
    fault: str = ""                             # "" or why the worker was stopped
    returncode: int = None
    prints: bytes = b""                         # the first few KB of the student's output
    seconds: float = 0.0


# ----------------------------------------------------------------------------- discovery

def _package_dir(name):
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not importable by the grader")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def worker_packages():
    """{name in the worker's lib folder: host folder} for numpy (+ its libs), fcnet, tqdm."""
    found = {name: _package_dir(name) for name in LIB_PACKAGES}
    libs = found["numpy"].parent / "numpy.libs"
    if libs.is_dir():
        found["numpy.libs"] = libs.resolve()
    return found


def python_runtime():
    """(interpreter, [paths the interpreter needs], site-packages folders to hide)."""
    exe = Path(os.path.realpath(sys.executable))
    paths = {exe}
    hide = set()
    # The base installation's standard library (in a virtualenv, sysconfig's platstdlib
    # points into the venv, which must stay invisible), and its compiled modules.
    stdlib = Path(os.__file__).resolve().parent
    dynload = Path(sysconfig.get_config_var("DESTSHARED") or stdlib / "lib-dynload").resolve()
    for folder in (stdlib, dynload):
        if folder.is_dir():
            paths.add(folder)
            if (folder / "site-packages").is_dir():
                hide.add(folder / "site-packages")
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        libdir = sysconfig.get_config_var("LIBDIR")
        soname = sysconfig.get_config_var("INSTSONAME") or sysconfig.get_config_var("LDLIBRARY")
        if libdir and soname and (Path(libdir) / soname).exists():
            paths.add(Path(libdir) / soname)
    paths = {p for p in paths if not _under(p, Path("/usr"))
             and not any(p != q and _under(p, q) for q in paths)}
    return exe, sorted(paths), sorted(hide)


def _under(path, root):
    try:
        Path(path).relative_to(root)
        return True
    except ValueError:
        return False


def _host_root_entries():
    """bwrap arguments that reproduce /usr, /bin, /lib... of the host, read-only."""
    args = ["--ro-bind", "/usr", "/usr"]
    for name in ("bin", "sbin", "lib", "lib32", "lib64", "libx32"):
        path = Path("/") / name
        if path.is_symlink():
            args += ["--symlink", os.readlink(path), str(path)]
        elif path.is_dir():
            args += ["--ro-bind", str(path), str(path)]
    args += ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]
    return args


# ----------------------------------------------------------------------------- sandboxes

class Sandbox:
    """Runs workers. Subclasses build the command; `run` is shared."""

    kind = "none"
    description = ""

    def close(self):
        pass

    def session(self):
        """A session for one student's questions (run them one after the other)."""
        return _ProcessSession(self)

    def _command(self, token):
        raise NotImplementedError

    def _cleanup(self, proc, token):
        _kill_group(proc)

    def run(self, job_body, limits):
        """Run one worker on `job_body` (a frame body); never raises for worker faults."""
        runtime = Path(__file__).with_name("worker_runtime.py").read_bytes()
        payload = (str(len(runtime)).encode() + b"\n" + runtime
                   + len(job_body).to_bytes(8, "little") + job_body)
        token = uuid.uuid4().hex
        command, kwargs = self._command(token)
        started = time.monotonic()
        try:
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True, **kwargs)
        except OSError as err:
            return WorkerRun(fault=f"the worker could not start ({err})")
        try:
            run = _supervise(proc, payload, limits, started)
        finally:
            self._cleanup(proc, token)
        run.seconds = time.monotonic() - started
        return run


class BubblewrapSandbox(Sandbox):
    kind = "bubblewrap"

    def __init__(self, bwrap, disable_userns=True):
        self.bwrap = bwrap
        self.exe, runtime_paths, self.hide = python_runtime()
        self.packages = worker_packages()
        self.as_root = os.geteuid() == 0
        self.disable_userns = disable_userns
        # (host source, sandbox destination) of every read-only bind
        self.binds = [(p, p) for p in runtime_paths]
        self.binds += [(src, Path(SANDBOX_LIB) / name) for name, src in self.packages.items()]
        self.stage = None
        if self.as_root:
            self.stage = Path(tempfile.mkdtemp(prefix="autograder-stage-"))
            os.chmod(self.stage, 0o755)
            for i, (src, _) in enumerate(self.binds):
                point = self.stage / str(i)
                if Path(src).is_dir():
                    point.mkdir(mode=0o755)
                else:
                    point.touch(mode=0o644)
        version = subprocess.run([bwrap, "--version"], capture_output=True, text=True).stdout
        self.description = (
            f"sandbox: {version.strip() or 'bubblewrap'} (no network, private /tmp, "
            f"read-only view of python + numpy + fcnet only, own PID/user namespaces, new "
            f"session, limits on CPU time, memory, processes, file size and output"
            + (", dropped to user nobody" if self.as_root else "") + ")")

    def close(self):
        if self.stage is not None:
            shutil.rmtree(self.stage, ignore_errors=True)

    def bwrap_args(self):
        args = [self.bwrap, "--unshare-all", "--unshare-user", "--uid", str(NOBODY),
                "--gid", str(NOBODY), "--die-with-parent", "--new-session",
                "--cap-drop", "ALL"]
        if self.disable_userns:
            args.append("--disable-userns")
        args += _host_root_entries()
        args += ["--proc", "/proc", "--dev", "/dev",
                 "--size", str(TMPFS_BYTES), "--tmpfs", "/tmp"]
        for i, (src, dest) in enumerate(self.binds):
            source = self.stage / str(i) if self.stage is not None else src
            args += ["--ro-bind", str(source), str(dest)]
        for path in self.hide:
            args += ["--tmpfs", str(path)]
        args += ["--chdir", "/tmp", "--clearenv", "--setenv", "HOME", "/tmp",
                 "--setenv", "TMPDIR", "/tmp"]
        for key, value in WORKER_ENV.items():
            args += ["--setenv", key, value]
        return args + ["--", str(self.exe), "-I", "-S", "-B", "-c", BOOTSTRAP]

    def _command(self, token, extra=()):
        return self._wrap(self.bwrap_args() + list(extra)), {}

    def _wrap(self, args):
        """As root: the helper that stages the binds and drops to nobody runs bwrap."""
        if not self.as_root:
            return args
        spec = json.dumps({"binds": [[str(src), str(self.stage / str(i))]
                                     for i, (src, _) in enumerate(self.binds)],
                           "uid": NOBODY, "argv": args})
        return [str(self.exe), "-I", "-S", "-c", _ROOT_HELPER, spec]

    def session(self):
        return ForkServerSession(self)

    def self_test(self):
        """None when a worker starts and imports numpy and fcnet; else the reason."""
        probe = [f"import sys; sys.path.insert(0, {SANDBOX_LIB!r})",
                 "import importlib.util, numpy, fcnet.solver",
                 "assert importlib.util.find_spec('answer_key') is None"]
        args = self.bwrap_args()
        args[-1] = "; ".join(probe)
        command = self._wrap(args)
        env = {**WORKER_ENV}
        try:
            done = subprocess.run(command, capture_output=True, timeout=60, env=env,
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as err:
            return str(err)
        if done.returncode != 0:
            return done.stderr.decode(errors="replace").strip()[-300:] or \
                f"exit code {done.returncode}"
        return None


class FallbackSandbox(Sandbox):
    """A separate process with limits, a new session and a clean environment only."""

    kind = "fallback"

    def __init__(self, reason):
        self.exe = Path(os.path.realpath(sys.executable))
        self.lib = Path(tempfile.mkdtemp(prefix="autograder-lib-"))
        for name, src in worker_packages().items():
            (self.lib / name).symlink_to(src, target_is_directory=True)
        self.workdirs = {}
        self.description = (
            f"WARNING: no bubblewrap sandbox ({reason}); falling back to a separate process "
            f"per question with limits on CPU time, memory, processes, file size and output, "
            f"a new session, a clean environment and a private working folder. Student code "
            f"can read files and use the network: install bubblewrap for real isolation.")

    def close(self):
        shutil.rmtree(self.lib, ignore_errors=True)

    def _command(self, token):
        work = Path(tempfile.mkdtemp(prefix="autograder-work-"))
        self.workdirs[token] = work
        env = {**WORKER_ENV, "HOME": str(work), "TMPDIR": str(work),
               "AUTOGRADER_WORKER": token}
        return [str(self.exe), "-I", "-S", "-B", "-c", BOOTSTRAP], {"cwd": work, "env": env}

    def _cleanup(self, proc, token):
        _kill_group(proc)
        _kill_marked(token)
        shutil.rmtree(self.workdirs.pop(token, ""), ignore_errors=True)


class _ProcessSession:
    """One fresh worker process per question (the fallback's way)."""

    def __init__(self, sandbox):
        self.sandbox = sandbox

    def run(self, job_body, limits):
        return self.sandbox.run(job_body, limits)

    def close(self):
        pass


# Imported by the fork server before it forks, so a question's worker starts with them.
PRELOAD = ("numpy", "fcnet", "fcnet.checking", "fcnet.gradient_check", "fcnet.layer_utils",
           "fcnet.solver", "fcnet.data_utils", "fcnet.vis_utils", "tqdm.auto")


class ForkServerSession:
    """One bubblewrap sandbox per student; a fork server in it runs each question in a
    fresh child process and, after each, kills every other process in the sandbox and
    empties its /tmp (see worker_runtime.serve). Any fault stops the whole sandbox; the
    next question starts a new one. So a question still cannot disturb another, and
    the sandbox and the interpreter with numpy start once per student, not per question.
    """

    def __init__(self, sandbox):
        self.sandbox = sandbox
        self.proc = None
        self.ack = None

    def _start(self):
        ack_r, ack_w = os.pipe()
        command, kwargs = self.sandbox._command("", extra=["serve"])
        try:
            proc = subprocess.Popen(command, stdin=subprocess.PIPE, stdout=subprocess.PIPE,
                                    stderr=subprocess.PIPE, start_new_session=True,
                                    pass_fds=(ack_w,), **kwargs)
        finally:
            os.close(ack_w)
        self.proc, self.ack = proc, ack_r
        runtime = Path(__file__).with_name("worker_runtime.py").read_bytes()
        config = json.dumps({"lib": SANDBOX_LIB, "ack_fd": ack_w,
                             "preload": list(PRELOAD)}).encode()
        try:
            proc.stdin.write(str(len(runtime)).encode() + b"\n" + runtime
                             + len(config).to_bytes(8, "little") + config)
            proc.stdin.flush()
        except OSError:
            pass
        acks, _ = self._wait_ack(time.monotonic() + 60)
        if not any(a.get("kind") == "server-ready" for a in acks):
            problem = self._stderr_tail()
            self.close()
            raise RuntimeError(f"the grading sandbox did not start: {problem}")

    def _stderr_tail(self):
        try:
            os.set_blocking(self.proc.stderr.fileno(), False)
            data = self.proc.stderr.read(65536) or b""
        except (OSError, ValueError, TypeError):
            data = b""
        return " | ".join(data.decode("utf-8", "replace").strip().splitlines()[-3:])

    def _wait_ack(self, deadline):
        """Acknowledgement frames from the server until one arrives or the deadline."""
        buffer = b""
        while time.monotonic() < deadline:
            ready, _, _ = select.select([self.ack], [], [], 0.1)
            if ready:
                chunk = os.read(self.ack, 4096)
                if not chunk:
                    return [], False
                buffer += chunk
                frames = split_frames(buffer)
                if frames:
                    return [_ack_header(f) for f in frames], True
        return [], True

    def run(self, job_body, limits):
        if self.proc is None:
            self._start()  # not part of the question's time: its own 60 s limit
        started = time.monotonic()
        run = _serve_one(self, job_body, limits, started)
        run.seconds = time.monotonic() - started
        if run.fault:
            self.close()  # a fault ends the sandbox; the next question gets a new one
        return run

    def close(self):
        if self.proc is not None:
            _kill_group(self.proc)
            try:
                self.proc.wait(timeout=5)
            except subprocess.TimeoutExpired:
                pass
            for stream in (self.proc.stdin, self.proc.stdout, self.proc.stderr):
                try:
                    stream.close()
                except OSError:
                    pass
            self.proc = None
        if self.ack is not None:
            os.close(self.ack)
            self.ack = None


def _ack_header(body):
    try:
        return decode_frame(body)[0]
    except Exception:
        return {}


def _serve_one(session, job_body, limits, started):
    """Send one job to the fork server and collect its frames until the server is idle."""
    proc = session.proc
    run = WorkerRun()
    writer = threading.Thread(target=_feed, args=(proc.stdin, len(job_body).to_bytes(8, "little")
                                                  + job_body, False), daemon=True)
    writer.start()
    output, acks = _CappedOutput(limits), b""
    selector = selectors.DefaultSelector()
    for stream in (proc.stdout, proc.stderr):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream, selectors.EVENT_READ)
    selector.register(session.ack, selectors.EVENT_READ)
    deadline = started + limits.timeout
    idle = None
    while idle is None and not run.fault:
        if time.monotonic() > deadline:
            run.fault = f"it ran longer than the time limit of {limits.timeout:g} s"
            break
        for key, _ in selector.select(timeout=0.1):
            if key.fileobj is session.ack:
                chunk = os.read(session.ack, 4096)
                if not chunk:
                    run.fault = "its sandbox stopped"
                    break
                acks += chunk
                for frame in split_frames(acks):
                    header = _ack_header(frame)
                    if header.get("kind") == "idle":
                        idle = header
                continue
            chunk = key.fileobj.read(1 << 16)
            if chunk is None:
                continue  # nothing after all (non-blocking read)
            if not chunk:
                run.fault = "its sandbox stopped"
                break
            run.fault = run.fault or output.take(chunk, is_result=key.fileobj is proc.stdout)
    if idle is not None:
        # The child and everything it started are gone: what it wrote is in the pipes.
        for stream, sink in ((proc.stdout, output.results), (proc.stderr, None)):
            while True:
                try:
                    chunk = stream.read(1 << 16)
                except (OSError, ValueError):
                    chunk = None
                if not chunk:
                    break
                if sink is not None:
                    sink += chunk
        writer.join(timeout=5)
        if not idle.get("clean"):
            run.fault = run.fault or "its sandbox could not be cleaned after it"
    selector.close()
    run.frames = split_frames(bytes(output.results))
    run.prints = bytes(output.prints)
    done = any(b'"kind": "done"' in f[:64] for f in run.frames)
    status = (idle or {}).get("status", "")
    run.returncode = status
    if not run.fault and not done:
        if status.startswith("signal "):
            run.fault = _killed_by(int(status.split()[1]))
        else:
            run.fault = f"it exited early ({status or 'no status'})"
    return run


def detect_sandbox(allow_bubblewrap=True):
    """The strongest sandbox that works here (its `.description` is the run's first line)."""
    reason = "disabled by --no-sandbox" if not allow_bubblewrap else None
    bwrap = shutil.which("bwrap") if allow_bubblewrap else None
    if allow_bubblewrap and bwrap is None:
        reason = "bwrap is not installed (Debian/Ubuntu: apt install bubblewrap)"
    if bwrap:
        for disable_userns in (True, False):
            sandbox = BubblewrapSandbox(bwrap, disable_userns)
            problem = sandbox.self_test()
            if problem is None:
                return sandbox
            sandbox.close()
        reason = f"bwrap is installed but cannot start a sandbox here: {problem}"
    return FallbackSandbox(reason)


# ----------------------------------------------------------------------------- supervision

def _supervise(proc, payload, limits, started):
    """Feed the job, collect capped output, stop the worker on a fault."""
    run = WorkerRun()
    writer = threading.Thread(target=_feed, args=(proc.stdin, payload), daemon=True)
    writer.start()
    output = _CappedOutput(limits)
    selector = selectors.DefaultSelector()
    for stream in (proc.stdout, proc.stderr):
        os.set_blocking(stream.fileno(), False)
        selector.register(stream, selectors.EVENT_READ)
    deadline = started + limits.timeout
    done_seen = False
    exited_at = None
    while selector.get_map():
        now = time.monotonic()
        if now > deadline:
            run.fault = f"it ran longer than the time limit of {limits.timeout:g} s"
            break
        if proc.poll() is not None:
            # The worker is gone; a background process may still hold the pipes open.
            exited_at = exited_at or now
            if now - exited_at > 0.5:
                break
        for key, _ in selector.select(timeout=0.1):
            chunk = key.fileobj.read(1 << 16)
            if chunk is None:
                continue  # nothing after all (non-blocking read)
            if not chunk:
                selector.unregister(key.fileobj)
                continue
            run.fault = run.fault or output.take(chunk, is_result=key.fileobj is proc.stdout)
        if run.fault:
            break
        if not done_seen and _has_done_frame(output.results):
            done_seen = True
            deadline = min(deadline, time.monotonic() + 2.0)  # give it a moment to exit
    selector.close()
    _kill_group(proc)
    try:
        run.returncode = proc.wait(timeout=5)
    except subprocess.TimeoutExpired:
        run.returncode = None
    for stream in (proc.stdin, proc.stdout, proc.stderr):
        try:
            stream.close()
        except OSError:
            pass
    run.frames = split_frames(bytes(output.results))
    run.prints = bytes(output.prints)
    if done_seen and run.fault.startswith("it ran longer"):
        run.fault = ""  # it finished its work; only its exit was slow (killed above)
    if not run.fault and not done_seen:
        code = run.returncode
        if code is not None and code < 0:
            run.fault = _killed_by(-code)
        else:
            run.fault = f"it exited early (exit code {code})"
    return run


class _CappedOutput:
    """What a worker wrote: its stdout (the result frames) whole, its prints (stderr)
    counted but kept only for the first 4 KB."""

    def __init__(self, limits):
        self.limits = limits
        self.results, self.prints, self.printed = bytearray(), bytearray(), 0

    def take(self, chunk, is_result):
        """Add one chunk; return the fault once a limit is passed, else ""."""
        if is_result:
            self.results += chunk
            too_much = len(self.results) > self.limits.result_bytes
            return "it wrote more result data than allowed" if too_much else ""
        self.printed += len(chunk)
        if len(self.prints) < 4096:
            self.prints += chunk[:4096 - len(self.prints)]
        if self.printed > self.limits.print_bytes:
            return f"it printed more than {self.limits.print_bytes // 2 ** 20} MB of output"
        return ""


def _killed_by(number):
    name = signal.Signals(number).name if number in signal.valid_signals() else number
    return f"it was killed by signal {name}" + (" (CPU time limit)" if name == "SIGXCPU" else "")


def _feed(stdin, payload, close=True):
    try:
        for start in range(0, len(payload), 1 << 20):
            stdin.write(payload[start:start + (1 << 20)])
        stdin.flush()
        if close:
            stdin.close()
    except (BrokenPipeError, OSError, ValueError):
        pass


def _has_done_frame(results):
    # The done frame is the last one the runtime writes; checking the tail is enough.
    return b'"kind": "done"' in results[-64:]


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    try:
        proc.kill()
    except (ProcessLookupError, OSError):
        pass


def _kill_marked(token):
    """Kill every process whose environment carries this worker's token (fallback mode:
    catches background processes that left the worker's process group)."""
    marker = f"AUTOGRADER_WORKER={token}".encode()
    for _ in range(3):
        found = False
        for entry in Path("/proc").glob("[0-9]*"):
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
            except (OSError, ValueError):
                continue
        if not found:
            return
        time.sleep(0.05)


# Runs as root: private mount namespace, bind the worker's paths onto the staging folder,
# become nobody, exec bubblewrap (which then runs unprivileged, with working rlimits).
_ROOT_HELPER = r"""
import ctypes, json, os, sys
spec = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
check(libc.unshare(0x00020000), "unshare(CLONE_NEWNS)")
check(libc.mount(b"none", b"/", None, 16384 | 262144, None), "make / private")
for source, point in spec["binds"]:
    check(libc.mount(source.encode(), point.encode(), None, 4096 | 16384, None),
          f"bind {source}")
os.setgroups([])
os.setgid(spec["uid"])
os.setuid(spec["uid"])
os.execvp(spec["argv"][0], spec["argv"])
"""
