"""Sandboxes without bubblewrap: a fresh process per task on the host.

`UnprivilegedUserSandbox` (only as root, e.g. Gradescope's image): each task runs as an
unprivileged uid that no other session uses at the same time, in this grader or in any
other grader on the machine (a lock per uid in a root-only folder, confine.UID_LOCKS; so one
student's fork bomb cannot use up another's process limit, and killing a uid's processes
after a task never reaches another grader's worker), with a clean environment and the
worker's limits, in its own mount, IPC, PID, network and UTS namespaces set up by the
launcher (confine.launch_command): a read-only filesystem but for private tmpfs folders
where programs expect to write, installed package folders covered, numpy, scipy, fcnet
and tqdm bound read-only into a library folder, and an init that ends the namespace with
the worker. Nothing a task creates outlives it. After each task every process of that
uid is killed as well; when the session closes, its files in the host's world-writable
folders are removed. The grader's files must be unreadable to "other" users (the routes'
bundles see to it).

`ProcessSandbox` (`--no-sandbox`, never as root): the same, as the current user, with a
folder of links; it cannot hide files or the network, so it is for trusted code only.
"""
import os
import shutil
import signal
import sys
import threading
import time
from pathlib import Path

from ..worker_runtime import BOOTSTRAP
from .bwrap import TMPFS_BYTES, WORKER_ENV, package_folders, worker_packages
from .confine import (WORKER_UIDS, SandboxUnavailable, SharedFolder, claim_any_uid,
                      grader_folder, launch_command)
from .confine import claim_uid as _claim_uid
from .sessions import ProcessSession

WORLD_WRITABLE = ("/tmp", "/var/tmp", "/dev/shm", "/dev/mqueue", "/run/lock")


class _HostSandbox:
    """What the two host sandboxes share: a library folder and a worker per task."""

    preload = ()

    def __init__(self, memory):
        self.memory = memory
        self.exe = Path(os.path.realpath(sys.executable))
        self.lib_dir = grader_folder("lib")
        os.chmod(self.lib_dir, 0o755)
        for name, src in worker_packages().items():
            (self.lib_dir / name).symlink_to(src, target_is_directory=True)
        self.lib = str(self.lib_dir)
        self.shared = SharedFolder()
        self.workdirs = {}

    def close(self):
        shutil.rmtree(self.lib_dir, ignore_errors=True)
        self.shared.close()

    def _workdir(self, token, uid=None):
        work = grader_folder("work")
        if uid is not None:
            os.chown(work, uid, uid)
        self.workdirs[token] = work
        return work

    def _argv(self):
        return [str(self.exe), "-I", "-S", "-B", "-c", BOOTSTRAP, "task"]


class ProcessSandbox(_HostSandbox):
    kind = "process"

    def hardening(self):
        return ("WARNING: a separate process per task as the current user, with a clean "
                "environment and a private folder; it does NOT hide files or the network "
                "(--no-sandbox: use it for trusted code only, or install bubblewrap)")

    def session(self):
        return ProcessSession(self)

    def command(self, mode, group=None, token=None):
        work = self._workdir(token)
        env = {**WORKER_ENV, "HOME": str(work), "TMPDIR": str(work),
               "AUTOGRADER_WORKER": token}
        argv = launch_command(self._argv(), cgroup=group and group.procs)
        return argv, {"cwd": work, "env": env}

    def after_task(self, token):
        _kill_marked(f"AUTOGRADER_WORKER={token}".encode())
        shutil.rmtree(self.workdirs.pop(token, ""), ignore_errors=True)


class UnprivilegedUserSandbox(_HostSandbox):
    kind = "unprivileged-user"

    def __init__(self, memory):
        super().__init__(memory)
        self._free = list(WORKER_UIDS)
        self._claims = {}   # uid -> the open lock file that claims it machine-wide
        self._lock = threading.Lock()
        self.stage = None
        # The packages are bound, not linked: the course may sit in a folder other users
        # cannot enter (a clone in /root or in a mode-700 temporary folder).
        self.binds = []
        for name, src in worker_packages().items():
            (self.lib_dir / name).unlink()
            (self.lib_dir / name).mkdir(mode=0o755)
            self.binds.append((src, self.lib_dir / name))
        # Installed packages of the host (a course installed into the system interpreter
        # puts answer_key and autograder there): each covered by an empty folder.
        self.empty = grader_folder("empty")
        os.chmod(self.empty, 0o555)
        self.binds += [(self.empty, folder) for folder in package_folders()]
        self.namespaces, self.without = True, ""
        problem = self.self_test()
        if problem is not None:
            # The interpreter may sit where other users cannot read it (/root/...): with
            # CAP_SYS_ADMIN, the launcher binds its prefix onto a readable staging folder.
            self._stage_interpreter()
            problem = self.self_test()
        if problem is not None:
            # Namespaces refused (a container's seccomp policy): the workers share the
            # host's IPC, network and folders, cleaned after every task instead.
            self.namespaces, self.without = False, _one_line(problem)
            if self.self_test() is not None:
                self._link_packages()  # nor can the launcher bind anything
            if self.self_test() is not None:
                self.close()
                raise SandboxUnavailable(
                    f"uid {WORKER_UIDS[0]} cannot start the interpreter and import numpy "
                    f"and fcnet ({problem}); make them readable by all users")

    def _link_packages(self):
        self.binds, self.stage = [], None
        self.exe = Path(os.path.realpath(sys.executable))
        for name, src in worker_packages().items():
            (self.lib_dir / name).rmdir()
            (self.lib_dir / name).symlink_to(src, target_is_directory=True)

    def _stage_interpreter(self):
        prefix = Path(os.path.realpath(sys.base_prefix))
        self.stage = grader_folder("stage")
        os.chmod(self.stage, 0o755)
        (self.stage / "python").mkdir(mode=0o755)
        self.binds.append((prefix, self.stage / "python"))
        self.binds += [(self.empty, self.stage / "python" / folder.relative_to(prefix))
                       for folder in package_folders([prefix])]
        self.exe = self.stage / "python" / Path(os.path.realpath(sys.executable)).relative_to(prefix)

    def private(self):
        """The launcher's namespaces and folders for a worker (confine.launch_command),
        or None where the kernel refuses them."""
        if not self.namespaces:
            return None
        keep = [self.lib_dir, self.shared.host] + ([self.stage] if self.stage else [])
        return {"tmpfs": [f for f in WORLD_WRITABLE if f != "/dev/mqueue"],
                "tmpfs_bytes": TMPFS_BYTES, "keep": [str(k) for k in keep]}

    def self_test(self):
        """None when the worker's uid can run the interpreter with numpy and fcnet, in
        its own namespaces."""
        import subprocess

        probe = f"import sys; sys.path.insert(0, {self.lib!r}); import numpy, fcnet.solver"
        uid, claim = claim_any_uid()  # no other grader kills it meanwhile
        argv = launch_command([str(self.exe), "-I", "-S", "-c", probe], binds=self.binds,
                              uid=uid, cwd="/", private=self.private())
        try:
            done = subprocess.run(argv, capture_output=True, timeout=60, env=dict(WORKER_ENV),
                                  stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as err:
            return str(err)
        finally:
            os.close(claim)
        if done.returncode:
            return done.stderr.decode(errors="replace").strip().splitlines()[-1:] or \
                f"exit code {done.returncode}"
        return None

    def readable_files(self, paths):
        """Which of the regular files `paths` a worker's uid can open for reading.

        The grader (root) lists the files; a process of the worker's uid tries to open
        each. Used by the routes to refuse grading while the answer key, the grader or
        other students' files are readable by every user."""
        import json
        import subprocess

        probe = ("import json, sys\nfound = []\nfor path in json.load(sys.stdin):\n"
                 "    try:\n        open(path, 'rb').close()\n        found.append(path)\n"
                 "    except OSError:\n        pass\njson.dump(found, sys.stdout)\n")
        # The host's view (no private /tmp): what any process of that uid could read.
        uid, claim = claim_any_uid()
        argv = launch_command([str(self.exe), "-I", "-S", "-c", probe], binds=self.binds,
                              uid=uid, cwd="/")
        try:
            done = subprocess.run(argv, input=json.dumps([str(p) for p in paths]).encode(),
                                  capture_output=True, timeout=120, env=dict(WORKER_ENV))
        finally:
            os.close(claim)
        if done.returncode:
            raise SandboxUnavailable(f"could not check what uid {WORKER_UIDS[0]} can read: "
                                     f"{done.stderr.decode(errors='replace')[-300:]}")
        return json.loads(done.stdout)

    def close(self):
        super().close()
        for folder in (self.stage, getattr(self, "empty", None)):
            if folder is not None:
                os.chmod(folder, 0o755)
                shutil.rmtree(folder, ignore_errors=True)

    def hardening(self):
        if not self.namespaces:
            return ("no bubblewrap: a separate process per task as an unprivileged user "
                    "(uid 65534 and below, one per concurrent student), clean environment, "
                    "private folder; WITHOUT private namespaces (" + self.without[:200] +
                    "): after each task the uid's processes, SysV IPC objects and files in "
                    "the world-writable folders are removed, but POSIX message queues, "
                    "the network and files readable by every user stay reachable")
        return ("no bubblewrap: a separate process per task as an unprivileged user (uid "
                "65534 and below, one per concurrent student) in its own mount, IPC, PID, "
                "network and UTS namespaces, a read-only filesystem but for a private "
                f"/tmp ({TMPFS_BYTES // 2 ** 20} MB), clean environment; files readable by "
                "every user stay readable")

    def session(self):
        with self._lock:
            for uid in list(self._free):
                claim = _claim_uid(uid)
                if claim is not None:
                    self._free.remove(uid)
                    self._claims[uid] = claim
                    return _UidSession(self, uid)
        raise SandboxUnavailable(f"all {len(WORKER_UIDS)} worker uids are in use by other "
                                 f"graders on this machine; grade fewer batches at once")

    def release(self, uid):
        _kill_uid(uid)
        _remove_files_of(uid)
        with self._lock:
            os.close(self._claims.pop(uid))  # closing the file releases the lock
            self._free.insert(0, uid)

    def command(self, mode, group=None, token=None):
        uid = int(token.split(":")[0])
        work = "/tmp" if self.namespaces else self._workdir(token, uid)  # /tmp: its own
        env = {**WORKER_ENV, "HOME": str(work), "TMPDIR": str(work)}
        argv = launch_command(self._argv(), cgroup=group and group.procs, binds=self.binds,
                              uid=uid, cwd=work, private=self.private())
        return argv, {"env": env}

    def after_task(self, token):
        uid = int(token.split(":")[0])
        _kill_uid(uid)
        if not self.namespaces:  # else all of this ended with the worker's namespaces
            _remove_sysv_ipc_of(uid)
            _remove_files_of(uid)
            shutil.rmtree(self.workdirs.pop(token, ""), ignore_errors=True)


class _UidSession(ProcessSession):
    """A ProcessSession whose tasks all run as one uid, released on close."""

    def __init__(self, sandbox, uid):
        super().__init__(_TokenPrefix(sandbox, uid))
        self.owner, self.uid = sandbox, uid

    def close(self):
        super().close()
        if self.uid is not None:
            self.owner.release(self.uid)
            self.uid = None


class _TokenPrefix:
    """The sandbox, seen by a session: task tokens carry the session's uid."""

    def __init__(self, sandbox, uid):
        self._sandbox, self._uid = sandbox, uid

    def __getattr__(self, name):
        return getattr(self._sandbox, name)

    def command(self, mode, group=None, token=None):
        return self._sandbox.command(mode, group, f"{self._uid}:{token}")

    def after_task(self, token):
        self._sandbox.after_task(f"{self._uid}:{token}")


def _processes():
    for entry in Path("/proc").glob("[0-9]*"):
        yield entry


def _kill_uid(uid):
    """SIGKILL every process whose real or effective uid is `uid` (as root)."""
    for _ in range(50):
        found = False
        for entry in _processes():
            try:
                line = next(ln for ln in (entry / "status").read_text().splitlines()
                            if ln.startswith("Uid:"))
                if str(uid) in line.split()[1:3]:
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
            except (OSError, StopIteration, ValueError):
                continue
        if not found:
            return
        time.sleep(0.02)


def _kill_marked(marker):
    """Kill every process whose environment carries `marker` (background processes that
    left the worker's process group)."""
    for _ in range(3):
        found = False
        for entry in _processes():
            try:
                if marker in (entry / "environ").read_bytes().split(b"\0"):
                    os.kill(int(entry.name), signal.SIGKILL)
                    found = True
            except (OSError, ValueError):
                continue
        if not found:
            return
        time.sleep(0.05)


def _one_line(problem):
    text = problem if isinstance(problem, str) else " ".join(map(str, problem))
    return " ".join(text.split())


def _remove_sysv_ipc_of(uid):
    """Remove the SysV shared-memory segments, queues and semaphores that `uid` owns or
    created (they outlive their process)."""
    import ctypes

    libc = ctypes.CDLL(None, use_errno=True)
    for kind, remove in (("shm", libc.shmctl), ("msg", libc.msgctl), ("sem", libc.semctl)):
        try:
            header, *rows = Path(f"/proc/sysvipc/{kind}").read_text().splitlines()
        except OSError:
            continue
        columns = header.split()
        for row in rows:
            fields = dict(zip(columns, row.split()))
            if str(uid) in (fields.get("uid"), fields.get("cuid")):
                ident = int(fields[columns[1]])
                remove(ident, 0, 0) if kind == "sem" else remove(ident, 0, None)  # IPC_RMID


def _remove_files_of(uid):
    """Remove what `uid` left at the top of the world-writable folders."""
    for folder in WORLD_WRITABLE:
        try:
            entries = list(os.scandir(folder))
        except OSError:
            continue
        for entry in entries:
            try:
                if entry.stat(follow_symlinks=False).st_uid != uid:
                    continue
                if entry.is_dir(follow_symlinks=False):
                    shutil.rmtree(entry.path, ignore_errors=True)
                else:
                    os.unlink(entry.path)
            except OSError:
                continue
