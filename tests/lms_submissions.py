"""Submissions for the otter and nbgrader tests: the solution, the stub, realistic mistakes.

A submission is a folder holding the six chapter notebooks (and maybe best_model.npz).
`make_submission(folder, kind, notebooks)` writes one, starting from `notebooks` (a folder
of complete notebooks: the solution notebooks, or an nbgrader release filled with the
solutions) and replacing definitions by the code below:

- "solution": unchanged;
- "wrong": one realistic mistake in every chapter (see WRONG), so each chapter's
  questions get partial marks and nothing else moves;
- "looping": relu_backward never returns; only relu_backward may lose points;
- "import_key": every question answered by importing the answer key (`from
  answer_key.layers import *`, TwoLayerNet, sgd, the inline answers), and affine_forward
  searching the disk for it: nothing may be earned;
- "hostile": five questions attacked (numpy patched, a relay of the reference layers from
  the decoupled questions to affine_backward through builtins, a module, /tmp, /dev/shm
  and the hidden site-packages, an endless loop inside a bare `except:`, a memory bomb,
  `os._exit`), the other questions honest: the attacked ones may earn no more than
  "zeros" (the same functions returning zeros), the others lose nothing;
- "zeros": the all-zero answers of the questions "hostile" attacks.

`good_model_params` / `partial_model_params` train models for best_model.npz: the answer
key's recipe, shortened (56.5% on the test set, measured: full points from 53%), and the
recipe cut shorter still (50.8%, between autograder/points.py's 47% and 53%: partial
points). Tests cache them with autograder_support.cached_model.
"""
import ast
import json
import shutil
import subprocess
import sys
from pathlib import Path

import nbformat
import numpy as np

from fcnet.chapters import CHAPTERS, QUESTION_IDS

import autograder_support as support


# One mistake per chapter, each a common one. Values: replacement source for the cell
# that defines the name (a callable gets the solution's source and returns the new one).
WRONG = {
    "01_affine_layer": {"affine_backward": '''\
def affine_backward(dout, cache):
    x, w, b = cache
    dx = (dout @ w.T).reshape(x.shape)
    dw = x.reshape(x.shape[0], -1).T @ dout
    db = dout.mean(axis=0)  # averaged instead of summed over the examples
    return dx, dw, db'''},
    "02_relu": {
        "relu_forward": '''\
def relu_forward(x):
    x[x < 0] = 0  # in place: the caller's array (and the cache) change
    out = x
    return out, x''',
        "inline_q1": "inline_q1 = {'A'}",   # one right letter of two: half the points
    },
    "03_losses": {"softmax_loss": '''\
def softmax_loss(x, y):
    probs = np.exp(x)  # no shift by the row maximum: overflows for large scores
    probs /= probs.sum(axis=1, keepdims=True)
    N = x.shape[0]
    loss = -np.mean(np.log(probs[np.arange(N), y]))
    dx = probs.copy()
    dx[np.arange(N), y] -= 1
    return loss, dx / N'''},
    "04_two_layer_net": {"TwoLayerNet": lambda source: _drop_lines(
        source, ('grads["W1"] += self.reg * W1', 'grads["W2"] += self.reg * W2'))},
    "05_solver": {"sgd": '''\
def sgd(w, dw, config=None):
    if config is None:
        config = {}
    config.setdefault("learning_rate", 1e-3)  # the default rate should be 1e-2
    next_w = w - config["learning_rate"] * dw
    return next_w, config'''},
    "06_tuning": {"inline_q2": "inline_q2 = {'A', 'B'}"},  # one right, one wrong: 0 points
}

LOOPING = {"02_relu": {"relu_backward": '''\
def relu_backward(dout, cache):
    while True:  # never returns
        pass'''}}

# ----------------------------------------------------------------------------- attacks

REPO = Path(__file__).resolve().parents[1]

SEARCH_ANSWER_KEY = f'''
def affine_forward(x, w, b):
    import glob, importlib, sys
    roots = ["/autograder/source/files", "/autograder/submission", {str(REPO / "solutions")!r}]
    roots += glob.glob("/tmp/*/autograder/submission") + glob.glob("/tmp/*/course")
    roots += glob.glob("/tmp/*/*/source/files") + glob.glob("/root/*")
    for root in roots:
        sys.path.insert(0, root)
        try:
            return importlib.import_module("answer_key.layers").affine_forward(x, w, b)
        except Exception:
            continue
    raise NotImplementedError("no answer key found")'''

PATCH_NUMPY = '''
def affine_forward(x, w, b):
    import numpy
    import fcnet.checking
    numpy.allclose = lambda *a, **k: True
    numpy.array_equal = lambda *a, **k: True
    numpy.isfinite = lambda a, *r, **k: numpy.ones(numpy.shape(a), dtype=bool)
    numpy.testing.assert_allclose = lambda *a, **k: None
    fcnet.checking.rel_error = lambda *a, **k: 0.0
    return numpy.zeros((x.shape[0], w.shape[1])), (x, w, b)'''

RELAY_PLACES = '''["/tmp", "/dev/shm", "/dev", "/var/tmp",
              __import__("os").path.join(__import__("os").path.dirname(
                  __import__("os").__file__), "site-packages")]'''

# Written into chapter 4: TwoLayerNet stores the layers it sees (in the decoupled
# questions, the reference layers) everywhere a later question could look.
RELAY_WRITE = f'''
def _relay_store(names=("affine_forward", "affine_backward")):
    import builtins, marshal, os, sys, types
    found = {{n: globals()[n] for n in names if callable(globals().get(n))}}
    builtins.fcnet_relay = found
    sys.modules.setdefault("fcnet_relay", types.ModuleType("fcnet_relay")).__dict__.update(found)
    blob = marshal.dumps({{n: marshal.dumps(f.__code__) for n, f in found.items()}})
    for folder in {RELAY_PLACES}:
        try:
            with open(os.path.join(folder, "fcnet_relay.bin"), "wb") as f:
                f.write(blob)
        except Exception:
            pass


class TwoLayerNet(_HonestNet):
    def __init__(self, *args, **kwargs):
        _relay_store()
        super().__init__(*args, **kwargs)'''

# Read in chapter 1: affine_backward runs whatever reference layer it finds, else zeros.
RELAY_READ = f'''
def affine_backward(dout, cache):
    import builtins, marshal, os, sys, types
    import numpy
    found = getattr(builtins, "fcnet_relay", None) or \\
        getattr(sys.modules.get("fcnet_relay"), "__dict__", None) or {{}}
    reference = found.get("affine_backward")
    for folder in {RELAY_PLACES}:
        if reference is not None:
            break
        try:
            with open(os.path.join(folder, "fcnet_relay.bin"), "rb") as f:
                code = marshal.loads(marshal.loads(f.read())["affine_backward"])
            reference = types.FunctionType(code, {{"np": numpy, "__builtins__": builtins}})
        except Exception:
            pass
    if reference is not None:
        return reference(dout, cache)
    x, w, b = cache
    return numpy.zeros_like(x), numpy.zeros_like(w), numpy.zeros_like(b)'''

LOOP_IN_BARE_EXCEPT = '''
def relu_backward(dout, cache):
    while True:
        try:
            while True:
                pass
        except:
            pass'''

MEMORY_BOMB = '''
def softmax_loss(x, y):
    hoard = []
    while True:
        hoard.append(np.ones(10 ** 7))'''

EXIT = '''
def svm_loss(x, y):
    import os
    os._exit(0)'''

ZEROS = {
    "affine_forward": "def affine_forward(x, w, b):\n"
                      "    return np.zeros((x.shape[0], w.shape[1])), (x, w, b)",
    "affine_backward": "def affine_backward(dout, cache):\n    x, w, b = cache\n"
                       "    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)",
    "relu_backward": "def relu_backward(dout, cache):\n    return np.zeros_like(dout)",
    "softmax_loss": "def softmax_loss(x, y):\n    return 0.0, np.zeros_like(x)",
    "svm_loss": "def svm_loss(x, y):\n    return 0.0, np.zeros_like(x)",
}


def _define(name, source):
    return lambda nb: support.replace_definition(nb, name, source)


def _drop(name):
    return lambda nb: support.replace_definition(nb, name, None)


def _add(source):
    return lambda nb: support.append_cell(nb, source)


def _text(old, new):
    return lambda nb: support.replace_text(nb, old, new)


STAR_LAYERS = "from answer_key.layers import *"

# A class body (it runs when the chapter loads, before any probe) that writes its own
# result frame for TwoLayerNet's init: a compressed .npz declaring a float16 W1 of shape
# (10000, 12800), 256 MB at the grader's decode cap in a quarter of a megabyte. It finds
# the worker's result channel as any code there can: in the closure of the function
# that sends results.
FORGED_FRAME = """\
class _ForgedFrame:
    import gc, io, json, struct, zipfile
    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w", zipfile.ZIP_DEFLATED) as archive:
        with archive.open("W1.npy", "w", force_zip64=True) as member:
            np.lib.format.write_array_header_1_0(
                member, {"descr": "<f2", "fortran_order": False, "shape": (10000, 12800)})
            for _ in range(10000 * 12800 * 2 // 2 ** 20 + 1):
                member.write(bytes(2 ** 20)[:10000 * 12800 * 2 - _ * 2 ** 20])
    for key in ("tln_init_probe@two_layer_net.init", "tln_init_float32_probe@two_layer_net.init"):
        head = json.dumps({"kind": "result", "key": key, "status": "ok",
                           "scalars": {"param_names": "W1 W2 b1 b2"}}).encode()
        body = struct.pack("<Q", len(head)) + head + blob.getvalue()
        for thing in gc.get_objects():
            if getattr(thing, "__name__", None) == "send" and \\
                    getattr(thing, "__closure__", None):
                for cell in thing.__closure__:
                    if hasattr(cell.cell_contents, "write"):
                        cell.cell_contents.write(struct.pack("<Q", len(body)) + body)
"""

# {kind: {stem: [edit of a NotebookNode, ...]}}
EDITS = {
    "import_key": {
        "01_affine_layer": [_define("affine_forward", SEARCH_ANSWER_KEY),
                            _drop("affine_backward"), _add(STAR_LAYERS)],
        "02_relu": [_drop("relu_forward"), _drop("relu_backward"), _add(STAR_LAYERS),
                    _text("inline_q1 = {'A', 'C'}", "from answer_key.inline_questions import *")],
        "03_losses": [_drop("softmax_loss"), _drop("svm_loss"), _add(STAR_LAYERS)],
        "04_two_layer_net": [_drop("TwoLayerNet"),
                             _add("from answer_key.classifiers.fc_net import TwoLayerNet")],
        "05_solver": [_drop("sgd"), _add("from answer_key.optim import sgd")],
        "06_tuning": [_text("inline_q2 = {'A', 'C'}",
                            "from answer_key.inline_questions import inline_q2"),
                      _text("inline_q3 = {'C', 'F'}",
                            "from answer_key.inline_questions import inline_q3")],
    },
    "hostile": {
        "01_affine_layer": [_define("affine_forward", PATCH_NUMPY),
                            _define("affine_backward", RELAY_READ)],
        "02_relu": [_define("relu_backward", LOOP_IN_BARE_EXCEPT)],
        "03_losses": [_define("softmax_loss", MEMORY_BOMB), _define("svm_loss", EXIT)],
        "04_two_layer_net": [_text("class TwoLayerNet:", "class _HonestNet:"),
                             _add(RELAY_WRITE)],
    },
    "zeros": {
        "01_affine_layer": [_define("affine_forward", ZEROS["affine_forward"]),
                            _define("affine_backward", ZEROS["affine_backward"])],
        "02_relu": [_define("relu_backward", ZEROS["relu_backward"])],
        "03_losses": [_define("softmax_loss", ZEROS["softmax_loss"]),
                      _define("svm_loss", ZEROS["svm_loss"])],
    },
}
ATTACKED = {"import_key": set(QUESTION_IDS), "hostile": set(ZEROS), "zeros": set(ZEROS)}


# The questions each kind may lose points on (compared with the solution).
WRONG_QUESTIONS = {"affine_backward", "relu_forward", "inline_q1", "softmax_loss",
                   "two_layer_net", "sgd", "inline_q2", "best_model"}
LOOPING_QUESTIONS = {"relu_backward"}


def _drop_lines(source, lines):
    kept = [line for line in source.splitlines() if line.strip() not in lines]
    assert len(kept) == len(source.splitlines()) - len(lines), \
        f"the answer key no longer has the lines {lines}: update tests/lms_submissions.py"
    return "\n".join(kept)


def _defines(source, name):
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return False
    for node in tree.body:
        if isinstance(node, (ast.FunctionDef, ast.ClassDef)) and node.name == name:
            return True
        if isinstance(node, ast.Assign) and any(
                isinstance(t, ast.Name) and t.id == name for t in node.targets):
            return True
    return False


def replace_definition(nb, name, replacement):
    """Replace the source of the code cell defining `name` (the last such cell)."""
    cells = [c for c in nb.cells if c.cell_type == "code" and _defines(c.source, name)]
    assert cells, f"no cell defines {name}"
    cell = cells[-1]
    cell.source = replacement(cell.source) if callable(replacement) else replacement


def make_submission(folder, kind, notebooks, model=None):
    """Write submission `kind` into `folder` from the complete notebooks in `notebooks`."""
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    changes = {"wrong": WRONG, "looping": LOOPING}.get(kind, {})
    assert kind in ("solution", "wrong", "looping", *EDITS), kind
    for stem in CHAPTERS:
        nb = nbformat.read(Path(notebooks) / f"{stem}.ipynb", as_version=4)
        for name, replacement in changes.get(stem, {}).items():
            replace_definition(nb, name, replacement)
        for edit in EDITS.get(kind, {}).get(stem, []):
            nb = edit(nb)
        nbformat.write(nb, folder / f"{stem}.ipynb")
    if model is not None:
        shutil.copy(model, folder / "best_model.npz")
    return folder


def strip_solution_markers(source):
    return "\n".join(line for line in source.splitlines()
                     if line.strip() not in ("### BEGIN SOLUTION", "### END SOLUTION"))


def fill_release(release_dir, source_dir, dest):
    """The release notebooks with every solution cell answered as the source notebook does
    (what a student who solves everything hands in); the nbgrader metadata stays."""
    dest = Path(dest)
    dest.mkdir(parents=True, exist_ok=True)
    for stem in CHAPTERS:
        release = nbformat.read(Path(release_dir) / f"{stem}.ipynb", as_version=4)
        source = nbformat.read(Path(source_dir) / f"{stem}.ipynb", as_version=4)
        answers = {c.metadata["nbgrader"]["grade_id"]: c.source for c in source.cells
                   if c.metadata.get("nbgrader", {}).get("solution")}
        for cell in release.cells:
            grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
            if cell.metadata.get("nbgrader", {}).get("solution") and grade_id in answers:
                cell.source = strip_solution_markers(answers[grade_id])
        nbformat.write(release, dest / f"{stem}.ipynb")
    return dest


# ----------------------------------------------------------------------------- models

def good_model_params():
    """Full points on the test batch (56.5% measured, full points from 53%): the answer
    key's recipe, shortened to four epochs of 256 hidden units, flip averaging folded in
    (512 units in the file). Every grading test caches it as "good" and hands it in for
    most students; the grader scores each copy on 30,000 images, so its width is paid
    for at every grading (1,024 units took twice as long as these 512)."""
    return _short_recipe(hidden_dim=256, epochs=4, fold_flip=True)


def partial_model_params():
    """Partial points on the test batch (50.8% measured, between 47% and 53%): the
    recipe cut to two epochs of 256 hidden units, without flip averaging."""
    return _short_recipe(hidden_dim=256, epochs=2, fold_flip=False)


def _short_recipe(**settings):
    """params of the answer key's recipe on 256 whitened directions, without augmentation."""
    from answer_key.best_model import train_best_model
    from fcnet.data_utils import get_CIFAR10_data

    data = get_CIFAR10_data(dtype=np.float32, num_test=10)
    model, _ = train_best_model(data, seed=0, num_components=256, shift=0, flip=False,
                                verbose=False, **settings)
    return {k: np.asarray(v) for k, v in model.params.items()}


def model_accuracy(params):
    """Accuracy of a model's params on the 10,000 test images the grader uses."""
    from autograder import data

    X, y = data.test_set()
    hidden = np.maximum(X.reshape(len(X), -1) @ params["W1"] + params["b1"], 0)
    return float(np.mean(np.argmax(hidden @ params["W2"] + params["b2"], axis=1) == y))


def save_model(params, path):
    np.savez(path, **params)
    return Path(path)


def route_sandbox():
    """(kind, description) of the isolation the LMS routes choose on this machine."""
    from autograder.routes.lms_grading import open_route_sandbox

    sandbox = open_route_sandbox()
    try:
        return getattr(sandbox, "kind", ""), sandbox.description
    finally:
        sandbox.close()


def isolation_shape(text):
    """`text` with the worker's uid left out: each sandbox claims its own unprivileged uid
    machine-wide, so two sandboxes of one machine may name different ones."""
    import re

    return re.sub(r"dropped to (user nobody|unprivileged uid \d+)",
                  "dropped to an unprivileged uid", text)


def require_bubblewrap():
    """The attack tests of the LMS routes need their bubblewrap isolation."""
    from ci_rules import require

    kind, description = route_sandbox()
    if kind != "bubblewrap":
        require("sandbox", f"the attack tests need bubblewrap; the routes use: {description}")


def engine_grades(submissions, out, timeout):
    """The grades `python -m autograder` gives the folder `submissions` (its grades.json's
    "grades"): the reference the LMS routes are compared with."""
    engine = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submissions),
                             "--out", str(out), "--timeout", str(timeout), "--no-progress"],
                            capture_output=True, text=True)
    assert engine.returncode == 0, engine.stderr[-3000:]
    return json.loads((Path(out) / "grades.json").read_text())["grades"]
