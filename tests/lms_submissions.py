"""Submissions for the otter and nbgrader tests: the solution, the stub, realistic mistakes.

A submission is a folder holding the six chapter notebooks (and maybe best_model.npz).
`make_submission(folder, kind, notebooks)` writes one, starting from `notebooks` (a folder
of complete notebooks: the solution notebooks, or an nbgrader release filled with the
solutions) and replacing definitions by the code below:

- "solution": unchanged;
- "wrong": one realistic mistake in every chapter (see WRONG), so each chapter's
  questions get partial marks and nothing else moves;
- "looping": relu_backward never returns; only relu_backward may lose points.

`good_model_params` / `partial_model_params` train models for best_model.npz: the answer
key's recipe, shortened (at least 48% on the test set, full points), and a short plain
run (between 30% and 48%, partial points). Tests cache them with
autograder_support.cached_model.
"""
import ast
import shutil
from pathlib import Path

import nbformat
import numpy as np

from fcnet.chapters import CHAPTERS


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
        source, ('grads["W1"] += reg * W1', 'grads["W2"] += reg * W2'))},
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
    changes = {"solution": {}, "wrong": WRONG, "looping": LOOPING}[kind]
    for stem in CHAPTERS:
        nb = nbformat.read(Path(notebooks) / f"{stem}.ipynb", as_version=4)
        for name, replacement in changes.get(stem, {}).items():
            replace_definition(nb, name, replacement)
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
    """Above 48% on the test batch: the answer key's recipe, shortened (every grading
    test caches it as "good")."""
    from answer_key.best_model import train_best_model
    from fcnet.data_utils import get_CIFAR10_data

    data = get_CIFAR10_data(dtype=np.float32, num_test=10)
    model, _ = train_best_model(data, seed=0, hidden_dim=256, num_components=256, epochs=2,
                                shift=0, flip=False, fold_flip=False, verbose=False)
    return {k: np.asarray(v) for k, v in model.params.items()}


def partial_model_params():
    """Between 30% and 48% on the test batch: plain SGD, two epochs on 10,000 images."""
    from answer_key.classifiers.fc_net import TwoLayerNet
    from answer_key.optim import sgd
    from autograder import data
    from fcnet.solver import Solver

    split = data.training_split(10000, 500)
    np.random.seed(0)
    model = TwoLayerNet(hidden_dim=100)
    Solver(model, split, update_rule=sgd, optim_config={"learning_rate": 1e-3},
           num_epochs=2, batch_size=100, verbose=False, seed=0).train()
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
