"""The bubblewrap sandbox: building bwrap's arguments, staging binds as root, self-test.

The worker's view of the filesystem (everything read-only except /tmp):
    /usr, /lib*, /bin, /sbin      system libraries (as on the host; Python needs libc)
    <python prefix>               the interpreter, libpython and the standard library only;
                                  every site-packages and dist-packages folder (of /usr,
                                  /usr/local and the prefix) is an empty read-only bind
    /opt/grader/lib/{numpy, scipy, fcnet, tqdm, and their .libs}
                                  the only importable packages
    /opt/grader/shared            the batch's large case inputs (confine.SharedFolder)
    /proc                         this sandbox's own
    /dev                          a read-only tmpfs holding only null, zero, full, random,
                                  urandom (bound from the host) and the /dev/fd links;
                                  no /dev/shm, no /dev/pts, no /dev/mqueue
    /tmp                          a tmpfs capped at TMPFS_BYTES: the only writable place,
                                  emptied by the fork server after every task
    /                             bubblewrap's root tmpfs (only mount points), read-only
Own PID, IPC, UTS, network, cgroup and user namespaces, a new session, no capabilities,
`--disable-userns` (when this bwrap and kernel support it; otherwise the first output line
says so). Not visible: the repository (so neither answer_key/ nor autograder/), the
virtualenv, the submissions, the output folder, home directories.

Run as root, bubblewrap's process limit would not apply (root is exempt), so the
launcher (confine.py) first bind-mounts the paths above onto a staging folder in a
private mount namespace, drops to an unprivileged uid claimed machine-wide for this
sandbox (confine.WORKER_UIDS: `nobody` when it is free), and only then starts bubblewrap.
"""
import importlib.util
import os
import shutil
import subprocess
import sys
import sysconfig
from pathlib import Path

from ..worker_runtime import BOOTSTRAP
from .confine import SharedFolder, claim_any_uid, grader_folder, launch_command
from .sessions import ForkServerSession

SANDBOX_LIB = "/opt/grader/lib"
SANDBOX_SHARED = "/opt/grader/shared"
# What a submission may import besides the standard library: fcnet.imports.GRADING_PACKAGES
# (plus tqdm, which fcnet's solver uses). A package's bundled libraries ("numpy.libs")
# come with it.
LIB_PACKAGES = ("numpy", "scipy", "fcnet", "tqdm")
NOBODY = 65534
TMPFS_BYTES = 64 * 2 ** 20
DEV_TMPFS_BYTES = 64 * 1024
DEVICES = ("null", "zero", "full", "random", "urandom")

# Environment of every worker: nothing inherited from the instructor's shell.
WORKER_ENV = {
    "PATH": "/usr/bin:/bin", "LANG": "C.UTF-8", "PYTHONHASHSEED": "0",
    "PYTHONDONTWRITEBYTECODE": "1", "OPENBLAS_NUM_THREADS": "1", "OMP_NUM_THREADS": "1",
    "MKL_NUM_THREADS": "1", "NUMEXPR_NUM_THREADS": "1", "MPLBACKEND": "Agg",
}

# Imported by the fork server before it forks, so a task's worker starts with them.
PRELOAD = ("numpy", "fcnet", "fcnet.checking", "fcnet.gradient_check", "fcnet.layer_utils",
           "fcnet.solver", "fcnet.data_utils", "fcnet.vis_utils", "tqdm.auto")


def _package_dir(name):
    spec = importlib.util.find_spec(name)
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(f"package {name} is not importable by the grader")
    return Path(list(spec.submodule_search_locations)[0]).resolve()


def worker_packages():
    """{name in the worker's lib folder: host folder} for LIB_PACKAGES (+ their libs)."""
    found = {name: _package_dir(name) for name in LIB_PACKAGES}
    for name in LIB_PACKAGES:
        libs = found[name].parent / f"{name}.libs"
        if libs.is_dir():
            found[f"{name}.libs"] = libs.resolve()
    return found


def python_runtime():
    """(interpreter, [paths the interpreter needs], package folders to hide)."""
    exe = Path(os.path.realpath(sys.executable))
    paths = {exe}
    # The base installation's standard library (in a virtualenv, sysconfig's platstdlib
    # points into the venv, which must stay invisible), and its compiled modules.
    stdlib = Path(os.__file__).resolve().parent
    dynload = Path(sysconfig.get_config_var("DESTSHARED") or stdlib / "lib-dynload").resolve()
    for folder in (stdlib, dynload):
        if folder.is_dir():
            paths.add(folder)
    if sysconfig.get_config_var("Py_ENABLE_SHARED"):
        libdir = sysconfig.get_config_var("LIBDIR")
        soname = sysconfig.get_config_var("INSTSONAME") or sysconfig.get_config_var("LDLIBRARY")
        if libdir and soname and (Path(libdir) / soname).exists():
            paths.add(Path(libdir) / soname)
    paths = {p for p in paths if not _under(p, Path("/usr"))
             and not any(p != q and _under(p, q) for q in paths)}
    hide = [p for p in package_folders()
            if _under(p, Path("/usr")) or any(_under(p, q) for q in paths)]
    return exe, sorted(paths), hide


def package_folders(roots=None):
    """Every folder of installed Python packages under `roots` (default: /usr, /usr/local
    and the interpreter's prefixes), resolved. A worker sees /usr and the interpreter's
    prefix, and a course installed into the system interpreter (as Gradescope's image
    installs it) puts `answer_key` and `autograder` in one of these folders: each is
    covered by an empty read-only folder, and the worker imports only its own binds."""
    if roots is None:
        roots = {"/usr", "/usr/local", sys.base_prefix, sys.prefix,
                 sysconfig.get_config_var("prefix") or sys.base_prefix}
    found = set()
    for root in roots:
        for pattern in ("lib*/python*/site-packages", "lib*/python*/dist-packages"):
            for folder in Path(root).glob(pattern):
                if folder.is_dir():
                    found.add(folder.resolve())
    return sorted(found)


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
    return args + ["--ro-bind-try", "/etc/ld.so.cache", "/etc/ld.so.cache"]


def _dev_entries():
    """A read-only /dev with only the device nodes a Python worker needs."""
    args = ["--size", str(DEV_TMPFS_BYTES), "--tmpfs", "/dev"]
    for name in DEVICES:
        args += ["--dev-bind", f"/dev/{name}", f"/dev/{name}"]
    for i, name in enumerate(("stdin", "stdout", "stderr")):
        args += ["--symlink", f"/proc/self/fd/{i}", f"/dev/{name}"]
    return args + ["--symlink", "/proc/self/fd", "/dev/fd", "--remount-ro", "/dev"]


class BubblewrapSandbox:
    """One bubblewrap sandbox per session; see the module docstring."""

    kind = "bubblewrap"
    lib = SANDBOX_LIB
    preload = PRELOAD

    def __init__(self, bwrap, memory, disable_userns=True):
        self.bwrap, self.memory, self.disable_userns = bwrap, memory, disable_userns
        self.exe, runtime_paths, hide = python_runtime()
        self.as_root = os.geteuid() == 0
        # As root, bubblewrap runs as a worker uid claimed machine-wide (confine.WORKER_UIDS)
        self.uid, self._claim = claim_any_uid() if self.as_root else (None, None)
        self.empty = grader_folder("empty")
        os.chmod(self.empty, 0o555)
        # (host source, sandbox destination) of every read-only bind
        self.binds = [(p, p) for p in runtime_paths]
        self.binds += [(src, Path(SANDBOX_LIB) / name)
                       for name, src in worker_packages().items()]
        self.binds += [(self.empty, p) for p in hide]
        self.shared = SharedFolder(SANDBOX_SHARED)
        self.binds.append((self.shared.host, Path(SANDBOX_SHARED)))
        self.stage = self._make_stage() if self.as_root else None
        self.version = subprocess.run([bwrap, "--version"], capture_output=True,
                                      text=True).stdout.strip() or "bubblewrap"

    def _make_stage(self):
        stage = grader_folder("stage")
        os.chmod(stage, 0o755)
        for i, (src, _) in enumerate(self.binds):
            point = stage / str(i)
            if Path(src).is_dir():
                point.mkdir(mode=0o755)
            else:
                point.touch(mode=0o644)
        return stage

    def hardening(self):
        """The hardening steps in force, in words, for the first output line."""
        steps = ["no network", "read-only filesystem of python + numpy + fcnet",
                 f"/tmp ({TMPFS_BYTES // 2 ** 20} MB) the only writable place",
                 "read-only /dev", "own PID/IPC/user namespaces", "new session",
                 "no capabilities"]
        steps.append("--disable-userns" if self.disable_userns else
                     "WITHOUT --disable-userns (not supported here)")
        if self.as_root:
            steps.append("dropped to user nobody" if self.uid == NOBODY else
                         f"dropped to unprivileged uid {self.uid}")
        return f"{self.version} ({', '.join(steps)})"

    def close(self):
        self.shared.close()
        if self._claim is not None:
            os.close(self._claim)  # releases the uid
            self._claim = None
        for folder in (self.stage, self.empty):
            if folder is not None:
                os.chmod(folder, 0o755)
                shutil.rmtree(folder, ignore_errors=True)

    def session(self):
        return ForkServerSession(self)

    def bwrap_args(self):
        args = [self.bwrap, "--unshare-all", "--unshare-user", "--uid", str(NOBODY),
                "--gid", str(NOBODY), "--die-with-parent", "--new-session",
                "--cap-drop", "ALL"]
        if self.disable_userns:
            args.append("--disable-userns")
        args += _host_root_entries() + ["--proc", "/proc"] + _dev_entries()
        args += ["--size", str(TMPFS_BYTES), "--tmpfs", "/tmp"]
        for i, (src, dest) in enumerate(self.binds):
            source = self.stage / str(i) if self.stage is not None else src
            args += ["--ro-bind", str(source), str(dest)]
        # The sandbox's root is a tmpfs holding the mount points above: read-only too.
        args += ["--remount-ro", "/", "--chdir", "/tmp", "--clearenv", "--setenv", "HOME", "/tmp",
                 "--setenv", "TMPDIR", "/tmp"]
        for key, value in WORKER_ENV.items():
            args += ["--setenv", key, value]
        return args + ["--", str(self.exe), "-I", "-S", "-B", "-c", BOOTSTRAP]

    def command(self, mode, group=None, token=None):
        """(argv, Popen keyword arguments) of a sandbox running `mode` ("serve")."""
        return self._launch(self.bwrap_args() + [mode], group), {"env": dict(WORKER_ENV)}

    def _launch(self, argv, group):
        binds = [(src, self.stage / str(i)) for i, (src, _) in enumerate(self.binds)] \
            if self.stage is not None else ()
        return launch_command(argv, cgroup=group and group.procs, binds=binds,
                              uid=self.uid)

    def after_task(self, token):
        pass

    def self_test(self):
        """None when a sandbox starts, imports numpy and fcnet, cannot see answer_key and
        cannot write to /dev; else the reason."""
        probe = [f"import sys; sys.path.insert(0, {SANDBOX_LIB!r})",
                 "import importlib.util, numpy, fcnet.solver",
                 "assert importlib.util.find_spec('answer_key') is None, 'answer_key'",
                 "import os",
                 "assert not any(os.access(p, os.W_OK) for p in ('/', '/dev', '/opt/grader/lib'))",
                 "open('/tmp/probe', 'w').write('ok')"]
        args = self.bwrap_args()
        args[-1] = "; ".join(probe)
        try:
            done = subprocess.run(self._launch(args, None), capture_output=True, timeout=60,
                                  env=dict(WORKER_ENV), stdin=subprocess.DEVNULL)
        except (OSError, subprocess.TimeoutExpired) as err:
            return str(err)
        if done.returncode != 0:
            return done.stderr.decode(errors="replace").strip()[-300:] or \
                f"exit code {done.returncode}"
        return None
