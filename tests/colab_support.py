"""A simulated Google Colab for the tests: a fake `google.colab`, a Drive folder, a kernel.

- `fake_colab(folder)` writes a `google.colab` package whose `drive.mount` and
  `files.download` record their calls (one JSON line each in $FAKE_COLAB_LOG), and a
  `sitecustomize.py` that imports it when Python starts, as Colab's kernel does.
- `colab_copy(nb, name)` is a notebook as Colab's *Save a copy in Drive* leaves it: the
  notebook metadata kept, Colab's own `colab` entry added.
- `ColabRuntime` runs notebooks with nbclient in a working folder that is not the Drive
  folder (Colab runs a notebook in /content, not where the file lives), with
  FCNET_DRIVE_ROOT pointing at the Drive folder and the setup cell's `pip install
  git+<student repository>` pointed at a student release built here from this checkout.
"""
import json
import os
import re
import shutil
from pathlib import Path

import nbformat

REPO = Path(__file__).resolve().parents[1]

FAKE_MODULES = {
    "google/colab/__init__.py": '''\
"""Stand-in for Colab's google.colab (tests only): records what notebooks ask of it."""
from . import drive, files  # noqa: F401
''',
    "google/colab/_record.py": '''\
import json
import os


def record(*call):
    with open(os.environ["FAKE_COLAB_LOG"], "a", encoding="utf-8") as log:
        log.write(json.dumps(call) + "\\n")
''',
    "google/colab/drive.py": '''\
from ._record import record


def mount(mountpoint, force_remount=False, timeout_ms=120000, readonly=False):
    record("drive.mount", mountpoint)
''',
    "google/colab/files.py": '''\
import os

from ._record import record


def download(filename):
    if not os.path.exists(filename):
        raise FileNotFoundError(f"Cannot find file: {filename}")
    record("files.download", os.path.abspath(filename))
''',
    # Colab's kernel has google.colab imported before the first cell runs.
    "sitecustomize.py": "import google.colab  # noqa: F401\n",
}


def fake_colab(folder):
    folder = Path(folder)
    for rel, text in FAKE_MODULES.items():
        path = folder / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return folder


def colab_copy(nb, name):
    """`nb` as Colab saves a copy: same cells and metadata, plus Colab's entry."""
    nb = nbformat.from_dict(json.loads(nbformat.writes(nb)))
    nb.metadata["colab"] = {"provenance": [], "name": name}
    return nb


def student_release(out):
    """Build the public student repository from this checkout into `out` (as pushed to
    the repository the setup cell installs from); return its folder."""
    from course_build import student_release as release

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    (out / "exercises").symlink_to(REPO / "exercises")  # the notebooks step's outputs
    release.build(REPO, out)
    return out / release.RELEASE_DIR


def point_setup_at(nb, release, site):
    """The setup cell's install step, pointed at the local release (no network here)."""
    cell = nb.cells[0] if nb.cells[0].cell_type == "code" else nb.cells[1]
    assert "drive.mount" in cell.source and "git+" in cell.source, cell.source
    local = f"--no-deps --no-build-isolation --target {site} {release}"
    cell.source, count = re.subn(r"git\+\S+?@[\w.-]+", lambda m: local, cell.source)
    assert count == 1, cell.source
    return nb


class ColabRuntime:
    """One simulated Colab session: a Drive folder, /content, and the fake google.colab."""

    def __init__(self, root, release):
        root = Path(root)
        self.drive = root / "drive" / "MyDrive"
        self.notebooks = self.drive / "Colab Notebooks"
        self.notebooks.mkdir(parents=True)
        self.content = root / "content"
        self.content.mkdir()
        self.modules = fake_colab(root / "colab_modules")
        self.site = root / "site"
        self.site.mkdir()
        self.log = root / "colab_calls.jsonl"
        self.log.touch()
        self.release = release

    def environment(self, monkeypatch):
        """The kernel's environment (nbclient's kernels inherit this process's)."""
        monkeypatch.setenv("PYTHONPATH", f"{self.modules}{os.pathsep}{self.site}")
        monkeypatch.setenv("FCNET_DRIVE_ROOT", str(self.drive))
        monkeypatch.setenv("FAKE_COLAB_LOG", str(self.log))
        for name in ("FCNET_CHAPTERS_DIR", "JPY_SESSION_NAME"):
            monkeypatch.delenv(name, raising=False)
        for name in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
            monkeypatch.setenv(name, "1")

    def save_copy(self, nb, stem):
        """File -> Save a copy in Drive: `Copy of <stem>.ipynb` in Colab Notebooks."""
        name = f"Copy of {stem}.ipynb"
        nbformat.write(colab_copy(nb, name), self.notebooks / name)
        return self.notebooks / name

    def run(self, nb, timeout=1200):
        from nbclient import NotebookClient

        nb = point_setup_at(nb, self.release, self.site)
        client = NotebookClient(nb, kernel_name="python3", timeout=timeout,
                                allow_errors=False,
                                resources={"metadata": {"path": str(self.content)}})
        client.execute()
        return nb

    def calls(self):
        return [json.loads(line) for line in self.log.read_text().splitlines() if line]


def outputs_text(cell):
    parts = []
    for output in cell.get("outputs", []):
        if output.output_type == "stream":
            parts.append(output.text)
        elif output.output_type in ("execute_result", "display_data"):
            parts.append(output.get("data", {}).get("text/plain", ""))
        elif output.output_type == "error":
            parts.append(f"{output.ename}: {output.evalue}")
    return "".join(parts)


def tree_digest(folder):
    """{relative path: bytes} of every file under `folder` (to prove nothing changed)."""
    folder = Path(folder)
    return {p.relative_to(folder).as_posix(): p.read_bytes()
            for p in sorted(folder.rglob("*")) if p.is_file()}


def copy_tree(src, dest):
    shutil.copytree(src, dest)
    return Path(dest)
