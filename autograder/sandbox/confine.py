"""What the grader does to a worker before it starts: a memory cgroup, staged binds, a
dropped user. Shared by every isolation (bubblewrap, unprivileged user, process).

`MemoryCap` caps the memory of a whole sandbox (every process in it, and the tmpfs pages
it writes, which the kernel charges to the same cgroup). It uses cgroup v2 where the
memory controller is there, else cgroup v1's memory hierarchy; each session gets its own
sub-cgroup of the grader's cgroup, removed when the session closes. Where neither can be
created (no root, no delegation), `MemoryCap.reason` says why and the per-process
address-space limit is the only memory cap; the first output line says which applies.

`launch_command` wraps a worker's command in a small launcher (`python -I -S -c`) that
joins the cgroup, bind-mounts staged paths in a private mount namespace (root only), and
drops to an unprivileged uid, in that order, before it execs the real command. Joining
before the exec means nothing of the worker ever runs outside the cgroup.
"""
import fcntl
import json
import os
import shutil
import stat
import sys
import tempfile
import uuid
from pathlib import Path

CGROUP_ROOT = Path("/sys/fs/cgroup")
# Unprivileged uids for workers started as root: nobody first, then the ones below it
# (Debian reserves 65000-65533; they need no passwd entry). Each grader claims the uids
# it uses machine-wide (a lock per uid in a root-only folder), whatever its isolation, so
# that killing a uid's processes never reaches another grader's worker.
WORKER_UIDS = tuple(range(65534, 65534 - 64, -1))
UID_LOCKS = Path("/run/autograder-worker-uids")  # root-only: a worker cannot hold a lock


class SandboxUnavailable(RuntimeError):
    """The requested isolation cannot be used here; the message says why and what to do."""

# Runs as the grader's user (root when it drops privileges): see the module docstring.
LAUNCHER = r"""
import ctypes, json, os, signal, sys
spec = json.loads(sys.argv[1])
libc = ctypes.CDLL(None, use_errno=True)
def check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        raise OSError(err, f"{what}: {os.strerror(err)}")
def mount(source, target, kind, flags, data=None):
    check(libc.mount(source and source.encode(), target.encode(), kind and kind.encode(),
                     flags, data and data.encode()), f"mount {kind or source} on {target}")
BIND, REC, RDONLY, REMOUNT, NOSUID, NODEV = 4096, 16384, 1, 32, 2, 4
def read_only_bind(source, point):
    mount(source, point, None, BIND | REC)
    mount(None, point, None, REMOUNT | BIND | RDONLY)
if spec["cgroup"]:
    with open(spec["cgroup"], "w") as procs:
        procs.write(str(os.getpid()))
private = spec["private"]
if spec["binds"] or private:
    # mount, IPC, network, UTS, PID: nothing a worker leaves in them outlives it
    flags = 0x00020000 | (0x08000000 | 0x40000000 | 0x04000000 | 0x20000000 if private else 0)
    check(libc.unshare(flags), "unshare")
    mount("none", "/", None, REC | 262144)  # MS_PRIVATE: no mount reaches the host
    for source, point in spec["binds"]:
        if private:
            read_only_bind(source, point)
        else:
            mount(source, point, None, BIND | REC)
if private:
    keep = [(os.open(path, os.O_PATH), path) for path in private["keep"]]
    # The whole tree read-only (mount_setattr, MOUNT_ATTR_RDONLY, AT_RECURSIVE) ...
    attr = (ctypes.c_uint64 * 4)(1, 0, 0, 0)
    check(libc.syscall(442, -100, b"/", 0x8000, ctypes.byref(attr), 32), "read-only /")
    # ... but for fresh, empty, size-capped folders where programs expect to write.
    for folder in private["tmpfs"]:
        if os.path.isdir(folder):
            mount("tmpfs", folder, "tmpfs", NOSUID | NODEV,
                  f"size={private['tmpfs_bytes']},mode=1777")
    if os.path.isdir("/dev/mqueue"):
        mount("mqueue", "/dev/mqueue", "mqueue", NOSUID | NODEV)  # this IPC namespace's
    for fd, path in keep:  # the grader's folders the worker reads, hidden by the tmpfs
        os.makedirs(path, mode=0o755, exist_ok=True)
        read_only_bind(f"/proc/self/fd/{fd}", path)
        os.close(fd)
def become_worker():
    if spec["uid"] is not None:
        os.setgroups([])
        os.setgid(spec["uid"])
        os.setuid(spec["uid"])
    if spec["cwd"]:
        os.chdir(spec["cwd"])
    os.execv(spec["argv"][0], spec["argv"])
if not private:
    become_worker()
# In a new PID namespace: a child is its init (PID 1), which starts the worker, waits
# for it and exits with it, and the kernel then kills whatever the worker left running.
import resource
resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
status_r, status_w = os.pipe()
init = os.fork()
if init == 0:
    os.close(status_r)
    mount("proc", "/proc", "proc", NOSUID | NODEV | 8)  # this namespace's processes only
    worker = os.fork()
    if worker == 0:
        os.close(status_w)
        become_worker()
    while True:
        pid, status = os.waitpid(-1, 0)
        if pid == worker:
            os.write(status_w, str(status).encode())
            os._exit(0)
os.close(status_w)
_, status = os.waitpid(init, 0)
reported = os.read(status_r, 64)
status = int(reported) if reported else status
if os.WIFSIGNALED(status):
    signal.signal(os.WTERMSIG(status), signal.SIG_DFL)
    os.kill(os.getpid(), os.WTERMSIG(status))
os._exit(os.WEXITSTATUS(status) if os.WIFEXITED(status) else 1)
"""


def launch_command(argv, cgroup=None, binds=(), uid=None, cwd=None, private=None):
    """`argv`, or the launcher running it after joining `cgroup` (a cgroup.procs path),
    binding `binds` [(source, staged mount point)] and becoming `uid`.

    With `private` (root only; {"tmpfs": folders, "tmpfs_bytes": size, "keep": folders})
    the worker gets its own mount, IPC, network, UTS and PID namespaces: the binds are
    read-only, the whole filesystem is read-only but for a fresh tmpfs on each of
    `tmpfs` (and a fresh /dev/mqueue), on which the `keep` folders are bound read-only
    again, and an init process ends everything left in the namespace with the worker."""
    if cgroup is None and not binds and uid is None and not private:
        return list(argv)
    spec = {"cgroup": cgroup and str(cgroup), "binds": [[str(s), str(p)] for s, p in binds],
            "uid": uid, "cwd": cwd and str(cwd), "argv": [str(a) for a in argv],
            "private": private}
    # The grader's own interpreter runs the launcher (argv may name a staged one).
    return [os.path.realpath(sys.executable), "-I", "-S", "-c", LAUNCHER, json.dumps(spec)]


def claim_uid(uid, folder=None):
    """An open, exclusively locked file that claims `uid` for this grader, or None when
    another grader holds it. The folder is root's alone, so no worker can squat a lock."""
    folder = Path(folder or UID_LOCKS)
    folder.mkdir(mode=0o700, exist_ok=True)
    info = os.lstat(folder)
    if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid() or info.st_mode & 0o077:
        raise SandboxUnavailable(f"{folder} must be a folder of the grader's user, mode 700")
    fd = os.open(folder / f"{uid}.lock", os.O_RDWR | os.O_CREAT | os.O_NOFOLLOW, 0o600)
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        os.close(fd)
        return None
    return fd


def claim_any_uid():
    """(uid, the open file that claims it) for the first free uid of WORKER_UIDS."""
    for uid in WORKER_UIDS:
        claim = claim_uid(uid)
        if claim is not None:
            return uid, claim
    raise SandboxUnavailable(f"all {len(WORKER_UIDS)} worker uids are in use by other "
                             f"graders on this machine; grade fewer batches at once")


class MemoryCap:
    """Creates one memory-capped cgroup per session, or explains why it cannot."""

    def __init__(self, limit_bytes):
        self.limit_bytes = int(limit_bytes)
        self.parent, self.version, self.reason = _find_parent()
        if self.parent is not None:
            try:
                self.new_group().close()  # can we really create and cap one?
            except OSError as err:
                self.parent, self.reason = None, f"cgroup {self.version}: {err.strerror or err}"

    @property
    def works(self):
        return self.parent is not None

    def describe(self):
        mb = self.limit_bytes // 2 ** 20
        if self.works:
            return f"memory {mb} MB per sandbox (cgroup {self.version})"
        return f"no per-sandbox memory cgroup ({self.reason})"

    def new_group(self):
        """A fresh cgroup capped at `limit_bytes` (None when cgroups do not work)."""
        if self.parent is None:
            return None
        path = self.parent / f"autograder-{uuid.uuid4().hex[:12]}"
        path.mkdir()
        group = Cgroup(path, self.version)
        try:
            group.cap(self.limit_bytes)
        except OSError:
            group.close()
            raise
        return group


class Cgroup:
    def __init__(self, path, version):
        self.path, self.version = path, version

    @property
    def procs(self):
        return self.path / "cgroup.procs"

    def cap(self, limit):
        if self.version == "v2":
            (self.path / "memory.max").write_text(str(limit))
            swap = self.path / "memory.swap.max"
            if swap.exists():
                swap.write_text("0")
        else:
            (self.path / "memory.limit_in_bytes").write_text(str(limit))
            swap = self.path / "memory.memsw.limit_in_bytes"
            if swap.exists():
                swap.write_text(str(limit))  # memory + swap: no swapping past the cap

    def close(self):
        """Kill what is left in it and remove it."""
        import signal
        import time

        for _ in range(100):
            try:
                pids = [int(p) for p in self.procs.read_text().split()]
            except OSError:
                pids = []
            for pid in pids:
                try:
                    os.kill(pid, signal.SIGKILL)
                except OSError:
                    pass
            try:
                self.path.rmdir()
                return
            except FileNotFoundError:
                return
            except OSError:
                time.sleep(0.01)


def _find_parent():
    """(folder to create sub-cgroups in, "v1"/"v2", reason when there is none)."""
    try:
        lines = Path("/proc/self/cgroup").read_text().splitlines()
    except OSError as err:
        return None, None, f"cannot read /proc/self/cgroup ({err.strerror})"
    entries = {}
    for line in lines:
        _, controllers, path = line.split(":", 2)
        for name in controllers.split(",") if controllers else [""]:
            entries[name] = path.lstrip("/")
    unified = CGROUP_ROOT / "cgroup.controllers"
    if "" in entries and unified.exists() and "memory" in unified.read_text().split():
        return _writable(CGROUP_ROOT / entries[""], "v2")
    if "memory" in entries and (CGROUP_ROOT / "memory").is_dir():
        return _writable(CGROUP_ROOT / "memory" / entries["memory"], "v1")
    return None, None, "no cgroup memory controller on this machine"


def _writable(folder, version):
    if os.access(folder, os.W_OK):
        return folder, version, ""
    return None, version, f"cgroup {version}: {folder} is not writable (run as root or " \
                          f"delegate a cgroup)"


def grader_folder(kind):
    """A fresh folder /tmp/autograder-<kind>-<pid>.<start time>-XXXX of this grader.

    The name says which process owns it, so that a later grader can remove the folders
    of one that was killed (SIGKILL leaves them behind): `remove_stale_folders`."""
    return Path(tempfile.mkdtemp(prefix=f"autograder-{kind}-{_owner_tag(os.getpid())}-"))


def _owner_tag(pid):
    """"<pid>.<start time in clock ticks since boot>" (a pid alone may be reused)."""
    with open(f"/proc/{pid}/stat") as status:
        return f"{pid}.{status.read().rsplit(')', 1)[1].split()[19]}"


def remove_stale_folders(folder=None):
    """Remove this user's /tmp/autograder-* folders whose owning grader no longer runs;
    return the paths removed. Folders of a live grader, of another user, links and names
    without an owner are left alone."""
    removed = []
    for entry in sorted(Path(folder or tempfile.gettempdir()).glob("autograder-*-*.*-*")):
        owner = entry.name.split("-")[2]
        pid = owner.split(".")[0]
        try:
            if not pid.isdigit() or _owner_tag(int(pid)) == owner:
                continue  # a live grader's (or not one of ours)
        except (OSError, IndexError):
            pass  # no such process: stale
        try:
            info = os.lstat(entry)
        except OSError:
            continue
        if not stat.S_ISDIR(info.st_mode) or info.st_uid != os.geteuid():
            continue
        _remove_tree(entry)
        removed.append(entry)
    return removed


def _remove_tree(folder):
    """rmtree that also enters the read-only folders the sandboxes make (mode 0555)."""
    def writable_and_retry(function, path, _):
        try:
            os.chmod(os.path.dirname(path), 0o700)
            os.chmod(path, 0o700)
            function(path)
        except OSError:
            pass
    os.chmod(folder, 0o700)
    shutil.rmtree(folder, onerror=writable_and_retry)


class SharedFolder:
    """A read-only folder of the batch's large case arrays, visible to every worker.

    The engine writes each large input once per batch (`add`), and workers memory-map it
    instead of receiving a copy per student over the pipe. Only inputs a worker would be
    sent anyway go here, never an expected answer. Bound read-only into bubblewrap at
    `worker_path`; the host sandboxes read it where it is (world-readable).
    """

    def __init__(self, worker_path=None):
        self.host = grader_folder("shared")
        os.chmod(self.host, 0o755)
        self.worker_path = worker_path or str(self.host)

    def add(self, name, array):
        """Write `array` as `name`.npy (once); return its path as the worker sees it."""
        import numpy as np

        path = self.host / f"{name}.npy"
        if not path.exists():
            partial = self.host / f".{name}.npy.part"
            with open(partial, "wb") as stream:
                np.save(stream, array, allow_pickle=False)
            os.chmod(partial, 0o444)
            partial.rename(path)
        return f"{self.worker_path}/{name}.npy"

    def close(self):
        shutil.rmtree(self.host, ignore_errors=True)
