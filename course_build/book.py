"""Build step `book`: the Jupyter Book, student edition or instructor edition.

Student edition (the default), into `_build/html/`:

    jupyter-book build . -W -n --keep-going

exactly the command a person would type at the repository root (warnings are errors,
nitpicky references, every problem reported before failing). `_config.yml` and `_toc.yml`
say everything else.

Instructor edition (`python -m course_build all --instructor`, or `book --instructor`),
into `_build/instructor/html/`: the same sources and settings, with three differences:
- the table of contents shows `solutions/notebooks/<stem>.ipynb` where the student
  edition shows `exercises/<stem>.ipynb` (a copy of `_toc.yml`, rewritten);
- `hide_solutions` is off, so every chapter's {solution} block appears;
- every page carries a banner saying it is the instructor edition.
Jupyter Book's command line cannot choose the output folder, so this edition calls the
function behind that command, `jupyter_book.sphinx.build_sphinx`, with the same options.

Data. The figures are computed from the real CIFAR-10. Before Sphinx starts, this step
fetches it as fcnet.data_utils does everywhere else (CIFAR10_ARCHIVE, else the course's
download cache, else the official download with its md5 checked and a progress bar); if
that fails it stops with a message naming every way to provide the data. Only
`--synthetic-data` (COURSE_BOOK_DATA=synthetic) builds figures from synthetic stand-in
images, and then every page carries a banner and every such figure says so in its caption
(book/_ext/course_book.py).

Both editions share one execution cache, `_build/.jupyter_cache`: the chapter pages
execute their figure cells once. The cache is keyed on the cells' code only, so this step
empties it whenever the code behind the figures changes (book/figures.py, the answer key,
fcnet) or the figures' data source does (real or synthetic, which archive).
"""
import argparse
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

EDITION_VARIABLE = "COURSE_BOOK_EDITION"   # "student" (default) or "instructor"
DATA_VARIABLE = "COURSE_BOOK_DATA"         # "cifar10" (default) or "synthetic"
DATA_MODES = ("cifar10", "synthetic")
# The text form of a figure computed from synthetic images starts with this (book/figures.py).
SYNTHETIC_MARK = "[synthetic-data figure]"
SYNTHETIC_BANNER = (
    "Synthetic-data build: the figures that show images or training runs were computed "
    "from synthetic stand-in images, not CIFAR-10, and do not show what the text describes.")
SYNTHETIC_CAPTION = ("Computed from synthetic stand-in images, not CIFAR-10 "
                     "(a --synthetic-data build).")
STUDENT_HTML = Path("_build/html")
INSTRUCTOR_DIR = Path("_build/instructor")
CACHE_DIR = Path("_build/.jupyter_cache")
# What the figure and excerpt cells compute with: a change to any empties the cache.
FIGURE_INPUTS = ("book/figures.py", "book/course_runs.py", "book/diagrams.py",
                 "book/excerpts.py", "book/worked_mistakes.py", "course_build/answers.py",
                 "solutions/answer_key",
                 "exercises/fcnet")


def edition():
    value = os.environ.get(EDITION_VARIABLE, "student")
    if value not in ("student", "instructor"):
        raise ValueError(f"{EDITION_VARIABLE} must be 'student' or 'instructor', not {value!r}")
    return value


def data_mode():
    """"cifar10" (the default) or "synthetic": what the figures are computed from."""
    value = os.environ.get(DATA_VARIABLE, "cifar10")
    if value not in DATA_MODES:
        raise ValueError(f"{DATA_VARIABLE} must be 'cifar10' or 'synthetic', not {value!r}")
    return value


def missing_cifar10_message(reason):
    """Why the book cannot be built from CIFAR-10, and every way to fix it."""
    from fcnet.data_utils import CIFAR10_URL, cache_dir
    return (
        f"The book's figures are computed from CIFAR-10, which could not be loaded:\n"
        f"  {reason}\n"
        "Provide it in one of these ways, then build again:\n"
        "  1. export CIFAR10_ARCHIVE=/path/to/cifar-10-python.tar.gz (a copy you have; "
        "also set CIFAR10_MD5 if it is not the official file);\n"
        f"  2. put cifar-10-python.tar.gz into the course's download cache, "
        f"{cache_dir()} (FCNET_CACHE_DIR changes it);\n"
        f"  3. connect to the internet: the build downloads {CIFAR10_URL} (170 MB) and "
        "checks its md5;\n"
        "  4. or build a preview whose data figures are NOT CIFAR-10: "
        "python -m course_build book --synthetic-data (make all BUILD_FLAGS=--synthetic-data); "
        "every page then says so.")


def ensure_cifar10():
    """Fetch and unpack CIFAR-10 for the figure cells (which find it in the cache); stop
    the build with a message naming the options when it cannot be had."""
    from fcnet.data_utils import CIFAR10Error, cifar10_dir
    try:
        folder = cifar10_dir(progress=True)
    except CIFAR10Error as err:
        raise SystemExit(missing_cifar10_message(err)) from None
    print(f"[book] figures use CIFAR-10 from {folder}", flush=True)
    return folder


def build_environment():
    """The environment of the build and of the kernels that run the figure cells."""
    env = dict(os.environ)
    # The figure cells train small nets; on a busy 2-core machine one BLAS thread per
    # process is several times faster than threads that wait for each other.
    for var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
        env.setdefault(var, "1")
    return env


def figure_inputs_digest(root):
    """A digest of everything the cached figure cells depend on besides their own code."""
    digest = hashlib.sha256()
    for name in FIGURE_INPUTS:
        path = Path(root) / name
        if not path.exists():  # a copy of the book alone: its figures import the installed code
            digest.update(f"{name} absent".encode())
            continue
        files = sorted(path.rglob("*.py")) if path.is_dir() else [path]
        for file in files:
            if "__pycache__" in file.parts:
                continue
            digest.update(file.relative_to(root).as_posix().encode())
            digest.update(file.read_bytes())
    source = [data_mode(), os.environ.get("CIFAR10_ARCHIVE", ""),
              os.environ.get("CIFAR10_MD5", "")]
    digest.update("\0".join(source).encode())
    return digest.hexdigest()


def refresh_cache(root):
    """Empty the execution cache (and Sphinx's saved state) when the figures' inputs
    changed since it was filled; return whether it did."""
    stamp = Path(root) / "_build" / ".figure-inputs.sha256"
    current = figure_inputs_digest(root)
    if stamp.is_file() and stamp.read_text().strip() == current:
        return False
    # Sphinx re-reads only changed sources: drop its saved state too, or the pages whose
    # figures are now stale would never be executed again.
    for folder in (CACHE_DIR, STUDENT_HTML.parent / ".doctrees", INSTRUCTOR_DIR / ".doctrees"):
        shutil.rmtree(Path(root) / folder, ignore_errors=True)
    stamp.parent.mkdir(parents=True, exist_ok=True)
    stamp.write_text(current + "\n")
    return True


def instructor_toc(root):
    """Write the instructor edition's table of contents; return its path."""
    toc = yaml.safe_load((Path(root) / "_toc.yml").read_text(encoding="utf-8"))

    def swap(entries):
        for entry in entries:
            file = entry.get("file", "")
            if file.startswith("exercises/"):
                entry["file"] = "solutions/notebooks/" + file[len("exercises/"):]
                if "title" in entry:
                    entry["title"] = entry["title"].replace("Exercise", "Solution", 1)
            for key in ("sections", "chapters", "parts"):
                swap(entry.get(key, []))

    swap(toc.get("parts", []) + toc.get("chapters", []))
    path = Path(root) / INSTRUCTOR_DIR / "_toc.yml"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(toc, sort_keys=False), encoding="utf-8")
    return path


def jupyter_book_command():
    """The jupyter-book executable of the running Python (the venv's)."""
    beside = Path(sys.executable).with_name("jupyter-book")
    return str(beside) if beside.exists() else (shutil.which("jupyter-book") or "jupyter-book")


def build_student(root):
    cmd = [jupyter_book_command(), "build", str(root), "-W", "-n", "--keep-going"]
    print("[book] " + " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=root, env=build_environment(), check=True)
    return Path(root) / STUDENT_HTML


def build_instructor(root):
    toc = instructor_toc(root)
    cmd = [sys.executable, "-m", "course_build.book", "--instructor-sphinx", str(root), str(toc)]
    print("[book] instructor edition: " + " ".join(cmd), flush=True)
    subprocess.run(cmd, cwd=root, env=build_environment(), check=True)
    return Path(root) / INSTRUCTOR_DIR / "html"


def _run_instructor_sphinx(root, toc):
    """Inside the subprocess: what `jupyter-book build -W -n --keep-going` does, with the
    instructor's table of contents, output folder and settings."""
    from jupyter_book.sphinx import build_sphinx

    root = Path(root).resolve()
    overrides = {
        "external_toc_path": Path(toc).resolve().as_posix(),
        "latex_individualpages": False,
        "nitpicky": True,
        "hide_solutions": False,
        "course_strip_solutions": False,
        "course_edition": "instructor",
        "nb_execution_cache_path": str(root / CACHE_DIR),
    }
    result = build_sphinx(root, root / INSTRUCTOR_DIR / "html", use_external_toc=True,
                          noconfig=True, path_config=str(root / "_config.yml"),
                          confoverrides=overrides, builder="html", warningiserror=True,
                          keep_going=True)
    return 0 if result == 0 else 1


def build(root, out):
    """Build the edition chosen by $COURSE_BOOK_EDITION; return the HTML files written."""
    root, out = Path(root), Path(out)
    if out.resolve() != root.resolve():
        # The book is never committed, so `--check` has nothing to compare.
        return []
    if data_mode() == "cifar10":
        ensure_cifar10()
    else:
        print("[book] --synthetic-data: figures use synthetic stand-in images, NOT CIFAR-10; "
              "every page will carry a banner saying so", flush=True)
    if refresh_cache(root):
        print("[book] figure code or data source changed: emptied the execution cache",
              flush=True)
    html = build_instructor(root) if edition() == "instructor" else build_student(root)
    return sorted(p.relative_to(out).as_posix() for p in html.rglob("*.html"))


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m course_build.book")
    parser.add_argument("--instructor-sphinx", nargs=2, metavar=("ROOT", "TOC"),
                        help="(internal) run the instructor edition's Sphinx build")
    args = parser.parse_args(argv)
    if args.instructor_sphinx:
        return _run_instructor_sphinx(*args.instructor_sphinx)
    root = Path(__file__).resolve().parents[1]
    build(root, root)
    return 0


if __name__ == "__main__":
    sys.exit(main())
