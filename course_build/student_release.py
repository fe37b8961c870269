"""Build step `student-release`: the public student repository, in `_build/student-release/`.

The course repository holds the answer key and the hidden tests, so it stays private.
Students and Colab need a public repository with what a student needs and nothing else:

    README.md            how to start (Colab, local, JupyterHub)
    LICENSE              the code's licence (MIT)
    LICENSE-text         the licence of the text and figures (CC BY 4.0)
    requirements.txt     pinned versions for a local setup (the pins of this repository)
    pyproject.toml       `pip install git+<repository.url>` installs fcnet (Colab does this)
    .gitignore
    exercises/NN_stem.ipynb           the six exercise notebooks (generated, stubs only)
    exercises/fcnet/...               the course package, with its public tests

Push the folder's contents to the `main` branch of the repository that `repository.url`
in `_config.yml` names: the book's Colab buttons and the notebooks' setup cell point there.
"""
import shutil
from pathlib import Path

from fcnet.chapters import CHAPTERS

from .notebooks import repository
from .requirements import pin_lines, read_pins

RELEASE_DIR = Path("_build/student-release")

# What a student's own machine needs, pinned to this repository's versions. (Jupyter itself
# is left to the student: JupyterLab, Notebook or VS Code all work with ipykernel.)
STUDENT_REQUIREMENTS = ("numpy", "matplotlib", "tqdm", "nbformat", "ipykernel", "otter-grader")
# What `pip install git+...` asks for: unpinned, so that Colab keeps its own numpy etc.
PACKAGE_DEPENDENCIES = ("numpy", "matplotlib", "tqdm", "nbformat", "otter-grader")

PACKAGE_FILES = ("*.py", "public_tests/*.py")
# The course's licences travel with it: code (MIT) and text (CC BY 4.0).
LICENCE_FILES = ("LICENSE", "LICENSE-text")


def requirements(root):
    """The release's requirements.txt: this repository's pins of STUDENT_REQUIREMENTS."""
    lines = pin_lines(STUDENT_REQUIREMENTS, read_pins(root))
    return ("# Pinned versions for working on the course on your own machine:\n"
            "#   pip install -r requirements.txt && pip install -e .\n"
            + "\n".join(lines) + "\n")


def pyproject(version):
    deps = ", ".join(f'"{d}"' for d in PACKAGE_DEPENDENCIES)
    return f'''[build-system]
requires = ["setuptools>=68", "wheel"]
build-backend = "setuptools.build_meta"

[project]
name = "fcnet"
version = "{version}"
description = "The course package of 'Fully connected nets from scratch': data, checks, solver, plots."
requires-python = ">=3.10"
dependencies = [{deps}]

[tool.setuptools]
package-dir = {{"fcnet" = "exercises/fcnet"}}
packages = ["fcnet"]

[tool.setuptools.package-data]
fcnet = ["public_tests/*.py"]
'''


def readme(url, branch):
    first = next(iter(CHAPTERS))
    return f"""# Fully connected nets from scratch: student repository

The exercise notebooks of the course, one per chapter, and the course package `fcnet`
they use. Each chapter of the course book explains the ideas and links to its notebook.

## On Google Colab

Open a notebook from the book's Colab button, or directly:
https://colab.research.google.com/github/{url.split("github.com/", 1)[-1]}/blob/{branch}/exercises/{first}.ipynb

Save a copy to your Drive (*File → Save a copy in Drive*) and run the first cell: it
installs `fcnet` and connects your Drive. Keep all your chapter notebooks in one Drive
folder: later chapters import your work from earlier ones.

## On your own machine

```bash
git clone {url}.git
cd {url.rstrip("/").rsplit("/", 1)[-1]}
python3 -m venv .venv && source .venv/bin/activate
pip install -r requirements.txt
pip install -e .
pip install jupyterlab
jupyter lab exercises/
```

Keep the notebooks together in `exercises/`. CIFAR-10 is downloaded on first use into
`~/.cache/fcnet/` (set `FCNET_CACHE_DIR` to change that, or `CIFAR10_ARCHIVE` to use an
archive you already have).

## Checking your work

`grader.check("question")` in a notebook runs that question's public checks. Your
submission is graded with further checks on fresh inputs.

## Licence

The code is under the MIT licence (`LICENSE`); the text and figures under CC BY 4.0
(`LICENSE-text`). The course is modelled on the two_layer_net assignment of Stanford's
CS231n (https://cs231n.github.io/), in its own words and code.
"""


GITIGNORE = """.venv/
__pycache__/
.ipynb_checkpoints/
.OTTER_LOG
*.pyc
best_model.npz
"""


def build(root, out):
    """Write the release under `out`/_build/student-release; return the paths written."""
    import fcnet

    root, out = Path(root), Path(out)
    dest = out / RELEASE_DIR
    if dest.exists():
        shutil.rmtree(dest)
    written = []

    def write(rel, text):
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
        written.append((RELEASE_DIR / rel).as_posix())

    def copy(src, rel):
        path = dest / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(src, path)
        written.append((RELEASE_DIR / rel).as_posix())

    url, branch = repository(root)
    write("README.md", readme(url, branch))
    write("requirements.txt", requirements(root))
    write("pyproject.toml", pyproject(fcnet.__version__))
    write(".gitignore", GITIGNORE)
    for name in LICENCE_FILES:
        copy(root / name, name)
    # Notebooks come from `out` (the notebooks step writes them there, see steps.py).
    for stem in CHAPTERS:
        notebook = out / "exercises" / f"{stem}.ipynb"
        if not notebook.is_file():
            raise FileNotFoundError(f"{notebook} is missing: run `python -m course_build "
                                    "notebooks` first")
        copy(notebook, f"exercises/{stem}.ipynb")
    package = root / "exercises" / "fcnet"
    public_tests = out / "exercises" / "fcnet" / "public_tests"
    for pattern in PACKAGE_FILES:
        base = public_tests.parent if pattern.startswith("public_tests") else package
        for src in sorted(base.glob(pattern)):
            copy(src, f"exercises/fcnet/{src.relative_to(base).as_posix()}")
    return written
