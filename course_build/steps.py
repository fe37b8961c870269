"""The build's steps, in the order `python -m course_build all` runs them.

A step is a function `build(root, out) -> list of paths` that reads the hand-written
sources under `root` (the repository), writes its generated files under `out`, and returns
the paths it wrote, relative to `out`. A normal build passes out=root; `--check` passes a
temporary folder and compares what would be written with what is committed.
A step that reads the outputs of an earlier one reads them from `out`, so a check run sees
the fresh ones (the student release reads the notebooks and public tests there). One
exception: the otter zip copies the `fcnet` package from `root`, its generated public
tests included.

To add a step, write its `build(root, out)` in a module of this package and add one line
to STEPS below, like the others (`owns` lists the files it generates). The target is
imported only when the step runs, so a slow or heavy step costs nothing to the others.
"""
import importlib
from dataclasses import dataclass


@dataclass(frozen=True)
class Step:
    name: str             # what `python -m course_build NAME` calls it
    target: str           # "package.module:function", the build(root, out) function
    help: str = ""        # one line for --help
    committed: bool = True  # outputs are committed to git, so --check compares them
    owns: tuple = ()      # glob patterns (relative to root) of every file this step generates;
    #                       a committed file matching one that the step no longer writes is stale

    def load(self):
        module_name, _, function = self.target.partition(":")
        return getattr(importlib.import_module(module_name), function or "build")

    def run(self, root, out):
        return self.load()(root, out)


STEPS = [
    Step("public-tests", "course_build.public_tests:build",
         help="the public cases and their right values (exercises/fcnet/public_cases.npz, "
              "from the answer key) and otter test files exercises/fcnet/public_tests/<qid>.py",
         owns=("exercises/fcnet/public_tests/*.py", "exercises/fcnet/public_cases.npz")),
    Step("notebooks", "course_build.notebooks:build",
         help="student and solution notebooks from exercises/source/*.py and the answer key",
         owns=("exercises/[0-9][0-9]_*.ipynb", "solutions/notebooks/*.ipynb")),
    Step("otter-zip", "course_build.otter_bundle:build",
         help="otter-grader autograder for Gradescope / otter run (autograder/dist/otter/)",
         owns=("autograder/dist/otter/*.zip",)),
    Step("nbgrader-course", "course_build.nbgrader_course:build",
         help="nbgrader course folder: config + six chapters in nbgrader format "
              "(autograder/dist/nbgrader/)",
         owns=("autograder/dist/nbgrader/nbgrader_config.py",
               "autograder/dist/nbgrader/source/*/*.ipynb")),
    Step("book", "course_build.book:build", committed=False,
         help="the Jupyter Book into _build/html, figures from CIFAR-10 (with --instructor: "
              "the instructor edition into _build/instructor/html; with --synthetic-data: "
              "figures from stand-in images, every page marked)"),
    Step("student-release", "course_build.student_release:build", committed=False,
         help="the public student repository's files into _build/student-release/"),
]


def get_step(name):
    """The step called `name`, or a KeyError listing the known ones."""
    for step in STEPS:
        if step.name == name:
            return step
    raise KeyError(f"no build step {name!r}; known steps: {', '.join(s.name for s in STEPS)}")


def run_steps(steps, root, out=None, log=print):
    """Run `steps` in order, writing under `out` (default: `root`); return {step name: paths}."""
    out = root if out is None else out
    written = {}
    for step in steps:
        paths = step.run(root, out)
        written[step.name] = paths
        log(f"[{step.name}] wrote {len(paths)} file(s)")
    return written


def stale_files(steps, root, scratch):
    """Regenerate the committed outputs of `steps` into the empty folder `scratch`.

    Returns the sorted relative paths (as strings) that differ from the files under `root`:
    changed, missing from `root`, or present in `root` under a step's `owns` patterns
    although the step no longer generates them.
    """
    from pathlib import Path

    root, scratch = Path(root), Path(scratch)
    steps = [s for s in steps if s.committed]
    written = run_steps(steps, root, scratch, log=lambda message: None)
    stale = set()
    for step in steps:
        produced = {Path(p).as_posix() for p in written[step.name]}
        for rel in produced:
            committed = root / rel
            if not committed.is_file() or committed.read_bytes() != (scratch / rel).read_bytes():
                stale.add(rel)
        for pattern in step.owns:
            for path in root.glob(pattern):
                rel = path.relative_to(root).as_posix()
                if rel not in produced:
                    stale.add(rel)
    return sorted(stale)
