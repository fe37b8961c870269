"""A grader killed with SIGKILL cannot remove its /tmp/autograder-* folders: the next
grader removes them, and only those whose owning process is gone."""
import os
import signal
import subprocess
import sys
import tempfile
from pathlib import Path

from autograder.sandbox.confine import _owner_tag, grader_folder, remove_stale_folders

OPEN_AND_WAIT = """
import os, sys, time
from autograder.sandbox import open_sandbox
sandbox = open_sandbox("unprivileged-user" if os.geteuid() == 0 else "process")
print(" ".join(sorted({str(p) for p in (sandbox.lib_dir, sandbox.shared.host,
                                        getattr(sandbox, "empty", None)) if p})), flush=True)
time.sleep(600)
"""


def test_the_folders_of_a_killed_grader_are_removed_by_the_next_one():
    grader = subprocess.Popen([sys.executable, "-c", OPEN_AND_WAIT], stdout=subprocess.PIPE,
                              text=True)
    try:
        folders = [Path(p) for p in grader.stdout.readline().split()]
    finally:
        grader.send_signal(signal.SIGKILL)
        grader.wait()
        grader.stdout.close()
    assert folders and all(f.is_dir() for f in folders), folders
    mine = grader_folder("lib")  # a live grader's: this test's own
    try:
        removed = remove_stale_folders()
        assert set(folders) <= set(removed)
        assert not any(f.exists() for f in folders)
        assert mine.is_dir() and mine not in removed
    finally:
        mine.rmdir()


def test_only_folders_of_gone_graders_of_this_user_are_removed(tmp_path):
    gone = subprocess.run([sys.executable, "-c", "import os; print(os.getpid())"],
                          capture_output=True, text=True).stdout.strip()
    live = _owner_tag(os.getpid())
    reused = f"{os.getpid()}.1"  # this pid, another start time: a reused pid
    names = {"stale": f"autograder-lib-{gone}.123-abcd", "live": f"autograder-lib-{live}-efgh",
             "reused": f"autograder-stage-{reused}-ijkl", "other": "autograder-notes"}
    for name in names.values():
        (tmp_path / name).mkdir()
    (tmp_path / names["stale"] / "ro").mkdir(mode=0o555)  # as bubblewrap's empty folder
    link = tmp_path / f"autograder-lib-{gone}.9-link"
    link.symlink_to(tempfile.gettempdir())
    removed = remove_stale_folders(tmp_path)
    assert sorted(p.name for p in removed) == sorted([names["stale"], names["reused"]])
    assert (tmp_path / names["live"]).is_dir() and (tmp_path / names["other"]).is_dir()
    assert link.is_symlink() and Path(tempfile.gettempdir()).is_dir()
    if os.geteuid() == 0:  # another user's folder is left alone
        other = tmp_path / f"autograder-lib-{gone}.5-mnop"
        other.mkdir()
        os.chown(other, 65534, 65534)
        assert remove_stale_folders(tmp_path) == [] and other.is_dir()
