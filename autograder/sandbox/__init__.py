"""Where student code runs: `open_sandbox(isolation)` and the sessions it hands out.

The contract every grading route relies on
------------------------------------------
`open_sandbox(isolation, memory_mb=DEFAULT_MEMORY_MB)` returns a sandbox, or raises
`SandboxUnavailable` whose message says why and what to do. `isolation` is one of

- "bubblewrap": a bubblewrap sandbox per session (bwrap.py); unavailable when `bwrap` is
  missing or cannot start a sandbox here: the message says how to install bubblewrap;
- "unprivileged-user": only when running as root (e.g. Gradescope's image): a separate
  process per task running as an unprivileged uid (65534 and below, one per concurrent
  session) in its own mount, IPC, PID, network and UTS namespaces (read-only filesystem,
  private tmpfs folders), clean environment, the same limits and caps (host.py);
  unavailable when not root, or when that uid cannot run the interpreter and import
  numpy and fcnet (an interpreter under /root/ is bound onto a readable folder where the
  kernel lets root do so; else make it readable). Files the worker must not read must be
  unreadable to other users (e.g. mode 0700/0600, owned by root);
- "process": a separate process per task as the current user (host.py); explicit only
  (`--no-sandbox`), refused as root;
- "best": bubblewrap if it works, else unprivileged-user when root, else process.

`engine.Settings(isolation=...)` (default "bubblewrap") is used when `settings.sandbox` is
None; `python -m autograder` maps `--no-sandbox` to "process". Every sandbox has
`.description`: one line naming the isolation and the caps in force, which is each
route's first line of output. The worker needs nothing but the Python
runtime, numpy, scipy, fcnet and tqdm (read through a library folder), and gets its code and its
job over a pipe; it never reads the grader's files.

A sandbox hands out sessions: `with sandbox.session() as s: run = s.run(job_body,
limits)` runs one task (a job frame, see worker_runtime) and returns a `WorkerRun` (its
result frames, a fault or "", the first 4 KB of prints), whatever the student's code does.
`sandbox.shared.add(name, array)` puts a large case input in a read-only folder every
worker of the batch can memory-map (it returns the path the worker opens), so it is
written once per batch instead of sent to every student's worker. Close the sandbox
with `sandbox.close()`. engine.grade uses nothing else.

Caps in force everywhere: memory per sandbox through a cgroup where the machine allows it
(confine.MemoryCap; else the line says so), address space, CPU time, processes, file
size and open files per process, every tmpfs sized, result frames (one per check, one
notes frame, capped bytes) and prints capped by the supervisor (supervisor.py).
"""
import os
import shutil

from ..points import DEFAULT_MEMORY_MB
from .confine import MemoryCap, SandboxUnavailable, remove_stale_folders
from .supervisor import Limits, WorkerRun

__all__ = ["ISOLATIONS", "Limits", "SandboxUnavailable", "WorkerRun",
           "open_sandbox"]

ISOLATIONS = ("bubblewrap", "unprivileged-user", "process", "best")
# The whole sandbox may use this much more than one process's address-space limit
# (the fork server, the tmpfs pages of /tmp).
SANDBOX_EXTRA_MB = 256
INSTALL_HINT = ("install bubblewrap (Debian/Ubuntu: `sudo apt-get install bubblewrap`; "
                "Fedora: `sudo dnf install bubblewrap`), or pass --no-sandbox to run student "
                "code as yourself without isolation (trusted code only; refused as root)")


def open_sandbox(isolation="bubblewrap", memory_mb=DEFAULT_MEMORY_MB):
    """The sandbox of the requested isolation (see the module docstring)."""
    if isolation not in ISOLATIONS:
        raise ValueError(f"isolation must be one of {', '.join(ISOLATIONS)}, not {isolation!r}")
    remove_stale_folders()  # of a grader killed before it could clean up
    memory = MemoryCap((int(memory_mb) + SANDBOX_EXTRA_MB) * 2 ** 20)
    if isolation == "best":
        return _best(memory, memory_mb)
    sandbox = {"bubblewrap": _bubblewrap, "unprivileged-user": _unprivileged_user,
               "process": _process}[isolation](memory)
    sandbox.description = _description(sandbox, memory, memory_mb)
    return sandbox


def _best(memory, memory_mb):
    reasons = []
    for opener in (_bubblewrap, _unprivileged_user, _process):
        try:
            sandbox = opener(memory)
        except SandboxUnavailable as err:
            reasons.append(str(err).split(";")[0])
            continue
        sandbox.description = _description(sandbox, memory, memory_mb)
        if reasons:
            sandbox.description += f" [best available: {'; '.join(reasons)}]"
        return sandbox
    raise SandboxUnavailable("no isolation is available: " + "; ".join(reasons))


def _bubblewrap(memory):
    from .bwrap import BubblewrapSandbox

    bwrap = shutil.which("bwrap")
    if bwrap is None:
        raise SandboxUnavailable(f"bubblewrap (bwrap) is not installed; {INSTALL_HINT}")
    problems = []
    for disable_userns in (True, False):
        sandbox = BubblewrapSandbox(bwrap, memory, disable_userns)
        problem = sandbox.self_test()
        if problem is None:
            return sandbox  # its description says when --disable-userns is missing
        sandbox.close()
        problems.append(problem)
    raise SandboxUnavailable(f"bwrap is installed but cannot start a sandbox here "
                             f"({problems[-1]}); {INSTALL_HINT}")


def _unprivileged_user(memory):
    from .host import UnprivilegedUserSandbox

    if os.geteuid() != 0:
        raise SandboxUnavailable("the unprivileged-user isolation needs root (it runs "
                                 "workers as another user)")
    return UnprivilegedUserSandbox(memory)


def _process(memory):
    from .host import ProcessSandbox

    if os.geteuid() == 0:
        raise SandboxUnavailable("running student code without a sandbox as root is "
                                 f"refused: {INSTALL_HINT.split(', or pass')[0]}")
    return ProcessSandbox(memory)


def _description(sandbox, memory, memory_mb):
    from .bwrap import TMPFS_BYTES

    limits = Limits(timeout=0, memory_mb=memory_mb)
    caps = [memory.describe(), f"{memory_mb} MB address space per process",
            f"{limits.processes} processes", f"{limits.file_bytes // 2 ** 20} MB per file",
            "CPU time and wall clock = --timeout",
            f"{limits.print_bytes // 2 ** 20} MB of prints and one result frame per check "
            f"per task"]
    if sandbox.kind == "bubblewrap":
        caps.insert(1, f"/tmp {TMPFS_BYTES // 2 ** 20} MB")
    return f"isolation: {sandbox.kind}: {sandbox.hardening()}; caps: {', '.join(caps)}"
