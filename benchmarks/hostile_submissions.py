"""Grade a batch of hostile submissions through all three routes and print what they gained.

    CIFAR10_ARCHIVE=../shared/data/cifar-10-python.tar.gz \\
    CIFAR10_MD5=f6a5bb329491051f72ffb4c31a1b03bf PATH="$PWD/.venv/bin:$PATH" \\
        .venv/bin/python benchmarks/hostile_submissions.py [--timeout 20] [--routes ...]

The batch: every attack and fault of ATTACKS (one per submission, on the solution
notebooks with a good best_model.npz, so that everything else should keep full marks),
the all-zero answers of the layer questions ("zeros", the yardstick), and five honest
submissions. Each route grades all of them as an instructor would:

- `python -m autograder grade` on the folder of submissions (--workers 2);
- `otter run -a autograder/dist/otter/two_layer_net-autograder.zip` on one zip per
  student (each a folder inside the zip, as students hand them in), two at a time;
- `nbgrader generate_assignment` / `autograde --create` / `export` on a copy of the
  nbgrader course, with the released notebooks filled in and attacked the same way.

Per route it prints, for each attack, the points gained over an all-zero answer on the
attacked questions (must be 0) and the points lost elsewhere (must be 0), whether every
student got a row, the wall time, and the peak memory of the grading (the sum of the
resident memory of the route's whole process tree, sampled every 0.2 s). The all-zero
answer of a question is what "zeros" earns on it; for a question "zeros" leaves as the
solution (two_layer_net, sgd, training, inline answers), it is the untouched stub's 0.
"""
import argparse
import csv
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / "tests"))

import lms_submissions as lms  # noqa: E402  (the tests' attack submissions, reused)
from lms_submissions import (EXIT, FORGED_FRAME, LOOP_IN_BARE_EXCEPT,  # noqa: E402
                             MEMORY_BOMB, PATCH_NUMPY, RELAY_READ, RELAY_WRITE,
                             SEARCH_ANSWER_KEY, STAR_LAYERS)

ASSIGNMENT = "two_layer_net"
ZIP = REPO / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"
COURSE = REPO / "autograder" / "dist" / "nbgrader"
BIN = Path(sys.executable).parent


def _fn(name, body):
    return lms._define(name, f"def {name}{body}")


AFFINE_ARGS, RELU_ARGS = "(x, w, b):\n", "(x):\n"
ZERO_AFFINE = "    return np.zeros((x.shape[0], w.shape[1])), (x, w, b)"

# name -> (edits {stem: [edit]}, attacked question ids)
ATTACKS = {
    "import_key_layers": ({"01_affine_layer": [lms._drop("affine_forward"),
                                               lms._drop("affine_backward"),
                                               lms._add(STAR_LAYERS)]},
                          {"affine_forward", "affine_backward"}),
    # (every attack carries a good best_model.npz: best_model is not attacked)
    "import_key_everything": (lms.EDITS["import_key"],
                              set(lms.ATTACKED["import_key"]) - {"best_model"}),
    "import_key_two_layer_net": ({"04_two_layer_net": [
        lms._drop("TwoLayerNet"),
        lms._add("from answer_key.classifiers.fc_net import TwoLayerNet")]},
        {"two_layer_net", "training"}),
    "import_key_sgd": ({"05_solver": [lms._drop("sgd"),
                                      lms._add("from answer_key.optim import sgd")]},
                       {"sgd", "training"}),
    "import_key_inline": ({"02_relu": [lms._text("inline_q1 = {'A', 'C'}",
                                                 "from answer_key.inline_questions import *")]},
                          {"inline_q1"}),
    "search_disk_for_answer_key": ({"01_affine_layer": [lms._define("affine_forward",
                                                                    SEARCH_ANSWER_KEY)]},
                                   {"affine_forward"}),
    "import_hidden_checks": ({"01_affine_layer": [_fn("affine_forward", AFFINE_ARGS + """\
    import importlib
    for name in ("autograder.hidden_checks", "autograder.grading", "answer_key"):
        try:
            importlib.import_module(name)
            raise RuntimeError("imported " + name)
        except ImportError:
            pass
""" + ZERO_AFFINE)]}, {"affine_forward"}),
    "patch_numpy": ({"01_affine_layer": [lms._define("affine_forward", PATCH_NUMPY)]},
                    {"affine_forward"}),
    "relay_between_questions": ({"01_affine_layer": [lms._define("affine_backward",
                                                                 RELAY_READ)],
                                 "04_two_layer_net": [lms._text("class TwoLayerNet:",
                                                                "class _HonestNet:"),
                                                      lms._add(RELAY_WRITE)]},
                                {"affine_backward"}),
    "endless_loop_bare_except": ({"02_relu": [lms._define("relu_backward",
                                                          LOOP_IN_BARE_EXCEPT)]},
                                 {"relu_backward"}),
    "memory_bomb": ({"03_losses": [lms._define("softmax_loss", MEMORY_BOMB)]},
                    {"softmax_loss"}),
    "os_exit": ({"03_losses": [lms._define("svm_loss", EXIT)]}, {"svm_loss"}),
    "sys_exit": ({"01_affine_layer": [_fn("affine_forward", AFFINE_ARGS +
                                          "    raise SystemExit(0)")]}, {"affine_forward"}),
    "fork_bomb": ({"02_relu": [_fn("relu_forward", RELU_ARGS + """\
    import os
    while True:
        try:
            os.fork()
        except OSError:
            pass""")]}, {"relu_forward"}),
    "print_flood": ({"03_losses": [_fn("svm_loss", "(x, y):\n" + """\
    for _ in range(300):
        print("x" * 10 ** 6)
    return 0.0, np.zeros_like(x)""")]}, {"svm_loss"}),
    "recursion_bomb": ({"02_relu": [_fn("relu_forward", RELU_ARGS + """\
    import sys
    sys.setrecursionlimit(10 ** 8)
    def deeper(n):
        return deeper(n + 1) + 1
    return deeper(0)""")]}, {"relu_forward"}),
    "ignore_signals_and_loop": ({"02_relu": [_fn("relu_backward", "(dout, cache):\n" + """\
    import signal
    for sig in (signal.SIGTERM, signal.SIGINT, signal.SIGALRM, signal.SIGXCPU):
        try:
            signal.signal(sig, signal.SIG_IGN)
        except (OSError, ValueError):
            pass
    while True:
        pass""")]}, {"relu_backward"}),
    "always_true_array": ({"01_affine_layer": [_fn("affine_forward", AFFINE_ARGS + """\
    class Agreeable(np.ndarray):
        def __eq__(self, other):
            return True
        __ne__ = __lt__ = __gt__ = lambda self, other: False
        def __array_ufunc__(self, ufunc, method, *inputs, **kwargs):
            return np.zeros(1).view(Agreeable)
    return np.zeros((x.shape[0], w.shape[1])).view(Agreeable), (x, w, b)""")]},
                          {"affine_forward"}),
    "forged_result_output": ({"01_affine_layer": [_fn("affine_forward", AFFINE_ARGS + """\
    import json, os, sys
    fake = json.dumps({"kind": "result", "key": "affine_forward_probe@affine_case_2d",
                       "status": "ok", "scalars": {}, "points": 10})
    for fd in range(1, 32):
        try:
            os.write(fd, (fake + "\\n").encode() * 4)
        except OSError:
            pass
    print("affine_forward: 10 / 10 points")
    os._exit(0)""")]}, {"affine_forward"}),
    "background_process": ({"01_affine_layer": [_fn("affine_forward", AFFINE_ARGS + """\
    import subprocess
    subprocess.Popen(["sleep", "7777"], start_new_session=True)
""" + ZERO_AFFINE)]}, {"affine_forward"}),
    "network": ({"01_affine_layer": [_fn("affine_forward", AFFINE_ARGS + """\
    import socket
    for address in (("1.1.1.1", 53), ("pypi.org", 443)):
        try:
            socket.create_connection(address, timeout=2).close()
            raise RuntimeError("connected")
        except OSError:
            pass
""" + ZERO_AFFINE)]}, {"affine_forward"}),
    "read_other_students": ({"01_affine_layer": [_fn("affine_forward", AFFINE_ARGS + """\
    import json, os
    for root, dirs, files in os.walk("/"):
        dirs[:] = [d for d in dirs if root != "/" or d not in ("proc", "sys", "usr")]
        for name in files:
            if name == "01_affine_layer.ipynb":
                space = {"np": np}
                try:
                    for cell in json.load(open(os.path.join(root, name)))["cells"]:
                        source = "".join(cell["source"])
                        if source.startswith("def affine_forward"):
                            exec(source, space)
                except Exception:
                    continue
                if "affine_forward" in space:
                    return space["affine_forward"](x, w, b)
""" + ZERO_AFFINE)]}, {"affine_forward"}),
    "loop_in_class_body": ({"02_relu": [lms._add("class Forever:\n    while True:\n"
                                                 "        pass")]},
                           # every chapter that imports chapter 2 loads it, and hangs too
                           {"relu_forward", "relu_backward", "inline_q1", "two_layer_net",
                            "training", "sgd", "inline_q2", "inline_q3"}),
    "write_outside": ({"01_affine_layer": [_fn("affine_forward", AFFINE_ARGS + """\
    import glob
    for path in glob.glob("/tmp/*/out/grades.csv") + glob.glob("/tmp/*/*/grades.csv"):
        try:
            open(path, "a").write("forger,100\\n")
        except OSError:
            pass
""" + ZERO_AFFINE)]}, {"affine_forward"}),
    "huge_return_value": ({"01_affine_layer": [_fn("affine_forward", AFFINE_ARGS + """\
    return np.zeros((x.shape[0], w.shape[1], 2000, 2000)), (x, w, b)""")]},
                          {"affine_forward"}),
    # a class body writes its own result frame: a float16 W1 of 256 MB in 0.25 MB; the
    # forger has no TwoLayerNet of its own, so any point it earns is the frame's
    "forged_huge_result_frame": ({"04_two_layer_net": [
        lms._text("class TwoLayerNet", "class _HonestNet"), lms._add(FORGED_FRAME)]},
        {"two_layer_net", "training"}),
    # MODEL_COPIES files "best_model (k).npz" of 256 MiB of zeros beside the good model
    # (the latest download is used: it is not a valid model, so best_model scores 0)
    "model_copies_in_one_upload": ({}, {"best_model"}),
}
MODEL_COPIES = 12   # 3 GiB when every copy is read (issue 20's upload had 60)


def _model_copies(folder):
    """Sparse files: no disk used here; the routes read, copy or zip them as zeros."""
    for k in range(1, MODEL_COPIES + 1):
        with open(Path(folder) / f"best_model ({k}).npz", "wb") as f:
            f.truncate(256 * 2 ** 20)


# attack -> what to add to its folder after the notebooks are written
EXTRA_FILES = {"model_copies_in_one_upload": _model_copies}
# Honest submissions: (kind of lms_submissions.make_submission, notebooks, with the model)
HONEST = {"honest_solution": ("solution", "solution", True),
          "honest_no_model": ("solution", "solution", False),
          "honest_mistakes": ("wrong", "solution", True),
          "honest_untouched": ("solution", "student", False),
          "honest_looping": ("looping", "solution", True)}
BASELINE = "zeros"


# ----------------------------------------------------------------------------- measuring

class PeakMemory:
    """Peak of the summed resident memory of a process tree (this process's children)."""

    def __init__(self):
        self.peak, self._stop = 0, threading.Event()
        self._thread = threading.Thread(target=self._run, daemon=True)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()

    def _run(self):
        me = os.getpid()
        while not self._stop.wait(0.2):
            parents, rss = {}, {}
            for entry in Path("/proc").glob("[0-9]*"):
                try:
                    fields = (entry / "stat").read_text().rsplit(")", 1)[1].split()
                    parents[int(entry.name)] = int(fields[1])
                    rss[int(entry.name)] = int(fields[21]) * os.sysconf("SC_PAGE_SIZE")
                except (OSError, ValueError, IndexError):
                    continue
            total = 0
            for pid in rss:
                ancestor = parents.get(pid)
                while ancestor and ancestor != me:
                    ancestor = parents.get(ancestor)
                if ancestor == me:
                    total += rss[pid]
            self.peak = max(self.peak, total)


# ----------------------------------------------------------------------------- the batch

def build_batch(folder, notebooks, model, with_model_for=None):
    """Write one folder per student under `folder` from the complete `notebooks`."""
    folder = Path(folder)
    for name, (edits, _) in ATTACKS.items():
        lms.EDITS[f"bench:{name}"] = edits
        lms.make_submission(folder / name, f"bench:{name}", notebooks["solution"], model)
        if name in EXTRA_FILES:
            EXTRA_FILES[name](folder / name)
    lms.make_submission(folder / BASELINE, "zeros", notebooks["solution"], model)
    for name, (kind, source, with_model) in HONEST.items():
        lms.make_submission(folder / name, kind, notebooks[source],
                            model if with_model else None)
    return sorted(p.name for p in folder.iterdir())


def gains(points, students):
    """{attack: (gained over all-zero on attacked questions, lost elsewhere)}."""
    from autograder.points import QUESTION_POINTS

    zeros = points.get(BASELINE, {})
    out = {}
    for name, (_, attacked) in ATTACKS.items():
        got = points.get(name)
        if got is None:
            out[name] = None
            continue
        gained = sum(max(0.0, got[q] - (zeros.get(q, 0.0) if q in lms.ZEROS else 0.0))
                     for q in attacked)
        lost = sum(QUESTION_POINTS[q] - got[q] for q in QUESTION_POINTS if q not in attacked)
        out[name] = (round(gained, 2), round(lost, 2))
    return out


def route_engine(batch, work, timeout):
    out = work / "engine-out"
    run = subprocess.run([sys.executable, "-m", "autograder", "grade", str(batch), "--out",
                          str(out), "--timeout", str(timeout), "--no-progress",
                          "--workers", "2"], capture_output=True, text=True)
    first = run.stdout.splitlines()[0] if run.stdout else run.stderr[-300:]
    grades = json.loads((out / "grades.json").read_text())["grades"]
    return {s: {q: p for q, p in g.items() if q != "total"} for s, g in grades.items()}, first


def route_otter(batch, work, timeout):
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FCNET_GRADING_TIMEOUT": str(timeout)}
    students = sorted(p.name for p in batch.iterdir())
    points, first = {}, ""
    for start in range(0, len(students), 2):
        runs = {}
        for student in students[start:start + 2]:
            upload = work / "uploads" / f"{student}.zip"
            upload.parent.mkdir(exist_ok=True)
            with zipfile.ZipFile(upload, "w", zipfile.ZIP_DEFLATED) as archive:
                for path in sorted((batch / student).iterdir()):
                    archive.write(path, f"{ASSIGNMENT}/{path.name}")
            out = work / "otter" / student
            out.mkdir(parents=True)
            runs[student] = (out, subprocess.Popen(
                [str(BIN / "otter"), "run", "-a", str(ZIP), "-o", str(out), "--no-logo",
                 str(upload)], env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                text=True))
        for student, (out, proc) in runs.items():
            log, _ = proc.communicate()
            (out / "otter.log").write_text(log)  # kept with --keep, for faults under load
            first = first or next((line for line in log.splitlines()
                                   if line.strip() and not line.startswith("[")), "")
            try:
                tests = json.loads((out / "results.json").read_text())["tests"]
                points[student] = {t["name"]: t["score"] for t in tests
                                   if t.get("score") is not None}
            except (OSError, ValueError, KeyError):
                pass
    return points, first


def route_nbgrader(batch, work, timeout):
    import nbformat
    from nbgrader.api import Gradebook

    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}",
           "FCNET_GRADING_TIMEOUT": str(timeout)}
    root = work / "course"

    def nbgrader(*args):
        run = subprocess.run([str(BIN / "nbgrader"), *args], cwd=root, env=env,
                             capture_output=True, text=True)
        if run.returncode != 0:
            raise RuntimeError(f"nbgrader {args[0]} failed: {run.stderr[-2000:]}")
        return run.stdout + run.stderr

    try:
        nbgrader("autograde", ASSIGNMENT, "--create")
    except RuntimeError as err:  # a student nbgrader could not process: report, keep the rest
        print(f"nbgrader autograde reported errors (their students get no row): "
              f"{str(err)[-300:]}", flush=True)
    points = {}
    with Gradebook(f"sqlite:///{root / 'gradebook.db'}") as gb:
        for student in sorted(p.name for p in (root / "submitted").iterdir()):
            try:
                submission = gb.find_submission(ASSIGNMENT, student)
            except Exception:
                continue
            points[student] = {g.name.removeprefix("test_"): g.score
                               for nb in submission.notebooks for g in nb.grades}
    nb = nbformat.read(root / "autograded" / "honest_solution" / ASSIGNMENT /
                       "01_affine_layer.ipynb", as_version=4)
    cell = next(c for c in nb.cells if c.get("outputs"))
    return points, cell.outputs[0]["text"].splitlines()[0]


def prepare_nbgrader(work, model):
    """A course copy with the released notebooks filled in; the batch built from them."""
    root = work / "course"
    shutil.copytree(COURSE, root)
    env = {**os.environ, "PATH": f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}"}
    subprocess.run([str(BIN / "nbgrader"), "generate_assignment", ASSIGNMENT], cwd=root,
                   env=env, check=True, capture_output=True)
    release = root / "release" / ASSIGNMENT
    filled = lms.fill_release(release, root / "source" / ASSIGNMENT, work / "filled")
    staging = work / "nbgrader-batch"
    build_batch(staging, {"solution": filled, "student": release}, model)
    for student in staging.iterdir():
        shutil.copytree(student, root / "submitted" / student.name / ASSIGNMENT)
    return staging


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--timeout", type=float, default=20, help="seconds per question")
    parser.add_argument("--routes", default="autograder,otter,nbgrader")
    parser.add_argument("--keep", help="keep the batch and the outputs in this folder")
    args = parser.parse_args(argv)
    from autograder_support import cached_model
    from autograder.routes.lms_grading import open_route_sandbox

    model_params = cached_model(REPO / ".pytest_cache" / "d" / "autograder-models", "good",
                                lms.good_model_params)
    work = Path(args.keep or tempfile.mkdtemp(prefix="hostile-"))
    work.mkdir(parents=True, exist_ok=True)
    model = lms.save_model(model_params, work / "good.npz")
    # tests/test_redteam.py's offline-fitted training weights (a fake sgd writes them)
    from test_redteam import offline_training_cell

    ATTACKS["training_weights_fitted_offline"] = (
        {"05_solver": [lms._drop("sgd"), lms._add(offline_training_cell())]},
        {"sgd", "training"})
    batch = work / "batch"
    students = build_batch(batch, {"solution": REPO / "solutions" / "notebooks",
                                   "student": REPO / "exercises"}, model)
    sandbox = open_route_sandbox()
    description = sandbox.description
    sandbox.close()
    print(f"{len(ATTACKS)} attack and fault submissions, {len(HONEST)} honest ones and the "
          f"all-zero yardstick; --timeout {args.timeout:g}; {os.cpu_count()} cores, "
          f"{platform.python_version()}; load average {_load()} at the start")
    print(description)  # it begins "isolation: ..."
    routes = {"autograder": lambda: route_engine(batch, work, args.timeout),
              "otter": lambda: route_otter(batch, work, args.timeout),
              "nbgrader": lambda: route_nbgrader(prepare_nbgrader(work, model), work,
                                                 args.timeout)}
    for name in args.routes.split(","):
        started = time.monotonic()
        with PeakMemory() as memory:
            points, first = routes[name]()
        seconds = time.monotonic() - started
        _print_route(name, points, students, first, seconds, memory.peak)
    print(f"load average at the end: {_load()}")
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _load():
    return " ".join(f"{x:.1f}" for x in os.getloadavg())


def _print_route(name, points, students, first, seconds, peak):
    from autograder.points import QUESTION_POINTS

    print(f"\n== {name}: {seconds:.0f} s, peak memory {peak / 2 ** 20:.0f} MB; first line: "
          f"{first[:100]}")
    missing = [s for s in students if s not in points
               or set(points[s]) < set(QUESTION_POINTS)]
    print(f"every student got a row: {'yes' if not missing else 'NO, missing ' + ', '.join(missing)}")
    print(f"{'attack':32} {'gained over all-zero':>20} {'lost elsewhere':>15}")
    for attack, value in gains(points, students).items():
        gained, lost = value if value else ("no row", "no row")
        print(f"{attack:32} {gained!s:>20} {lost!s:>15}")
    for student in HONEST:
        total = round(sum(points.get(student, {}).values()), 2)
        print(f"{student:32} total {total:g}")


if __name__ == "__main__":
    main()
