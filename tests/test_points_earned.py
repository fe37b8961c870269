"""Points are earned: a stub that does nothing earns nothing, on every route, and the
inline answers that earn full marks are pinned here, not read from the answer key.

Checks of properties a stub also has (inputs left unmodified, shapes, dtypes, sgd's
returned config) count only when the value checks they name in `requires` pass.
"""
import numpy as np
import pytest

from autograder import grading, hidden_checks
from autograder.reports.results import csv_cell
from autograder.points import QUESTION_POINTS
from autograder.scoring import (FAILED, PASSED, UNEARNED, CheckOutcome, apply_requirements,
                                score_question)
from fcnet.chapters import QUESTION_IDS, chapter_of

from autograder_support import grade_folder, notebook, replace_definition, write_submission

# Do-nothing versions of every function a student writes, each as favourable to the stub
# as possible: the right shapes, the inputs' dtype, the inputs left alone.
STUBS = {
    "affine_forward": {
        "zeros": "return np.zeros((x.shape[0], w.shape[1]), dtype=x.dtype), (x, w, b)",
        "ones": "return np.ones((x.shape[0], w.shape[1]), dtype=x.dtype), (x, w, b)",
        "returns_input": "return x, (x, w, b)",
    },
    "affine_backward": {
        "zeros": "x, w, b = cache\n    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)",
        "ones": "x, w, b = cache\n    return np.ones_like(x), np.ones_like(w), np.ones_like(b)",
        "returns_input": "x, w, b = cache\n    return x, w, b",
    },
    "relu_forward": {
        "zeros": "return np.zeros_like(x), x",
        "ones": "return np.ones_like(x), x",
        "returns_input": "return x, x",
    },
    "relu_backward": {
        "zeros": "return np.zeros_like(dout)",
        "ones": "return np.ones_like(dout)",
        "returns_input": "return dout",
    },
    "softmax_loss": {
        "zeros": "return 0.0, np.zeros_like(x)",
        "ones": "return 1.0, np.ones_like(x)",
        "returns_input": "return x, x",
    },
    "svm_loss": {
        "zeros": "return 0.0, np.zeros_like(x)",
        "ones": "return 1.0, np.ones_like(x)",
        "returns_input": "return x, x",
    },
    "sgd": {
        "returns_input": "return w, config",
        "zeros": "return np.zeros_like(w), config",
    },
}
SIGNATURES = {"affine_forward": "x, w, b", "affine_backward": "dout, cache",
              "relu_forward": "x", "relu_backward": "dout, cache", "softmax_loss": "x, y",
              "svm_loss": "x, y", "sgd": "w, dw, config=None"}
# A TwoLayerNet whose parameters are zeros of the right shapes and dtype.
ZERO_NET = '''
class TwoLayerNet:
    def __init__(self, input_dim=3072, hidden_dim=100, num_classes=10, weight_scale=1e-3,
                 reg=0.0, dtype=np.float64):
        self.reg = reg
        self.params = {"W1": np.zeros((input_dim, hidden_dim), dtype=dtype),
                       "b1": np.zeros(hidden_dim, dtype=dtype),
                       "W2": np.zeros((hidden_dim, num_classes), dtype=dtype),
                       "b2": np.zeros(num_classes, dtype=dtype)}

    def loss(self, X, y=None):
        scores = np.zeros((X.shape[0], self.params["b2"].shape[0]))
        if y is None:
            return scores
        return 0.0, {k: np.zeros_like(v) for k, v in self.params.items()}
'''

CASES = [(name, kind) for name, kinds in STUBS.items() for kind in kinds] + \
    [("TwoLayerNet", "zeros")]


def _source(name, kind):
    if name == "TwoLayerNet":
        return ZERO_NET
    body = STUBS[name][kind]
    return f"def {name}({SIGNATURES[name]}):\n    {body}\n"


def _qid(name):
    return "two_layer_net" if name == "TwoLayerNet" else name


@pytest.mark.parametrize("name, kind", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_a_stub_earns_nothing_in_process(name, kind):
    namespace = {"np": np}
    exec(_source(name, kind), namespace)
    result = grading.grade_in_process(_qid(name), namespace)
    assert result.points == 0, [(c.name, c.status) for c in result.checks]


@pytest.fixture(scope="module")
def graded(sandbox, tmp_path_factory):
    """Every stub in one batch, next to the solution, graded by python -m autograder."""
    root = tmp_path_factory.mktemp("stubs")
    questions = tuple(dict.fromkeys(_qid(name) for name, _ in CASES))
    write_submission(root, "solution")
    for name, kind in CASES:
        stem = chapter_of(_qid(name))
        write_submission(root, f"{name}--{kind}",
                         {stem: replace_definition(notebook(stem), name, _source(name, kind))})
    points, outcome = grade_folder(root, tmp_path_factory.mktemp("out"), sandbox,
                                   questions=questions, timeout=30)
    return points, outcome


@pytest.mark.parametrize("name, kind", CASES, ids=[f"{n}-{k}" for n, k in CASES])
def test_a_stub_earns_nothing_in_the_sandbox(graded, name, kind):
    points, outcome = graded
    qid = _qid(name)
    assert points["solution"][qid] == QUESTION_POINTS[qid]
    checks = outcome.grades[f"{name}--{kind}"]["results"][qid].checks
    assert points[f"{name}--{kind}"][qid] == 0, [(c.name, c.status) for c in checks]


def test_a_stub_is_told_why_its_passing_checks_do_not_count(graded):
    _, outcome = graded
    checks = {c.name: c for c in
              outcome.grades["relu_forward--zeros"]["results"]["relu_forward"].checks}
    assert checks["input_unmodified"].status == UNEARNED, [(c.status, c.message) for c in checks.values()]
    assert "counts only when" in checks["input_unmodified"].message
    assert "output for inputs of random shapes" in checks["input_unmodified"].message


# ----------------------------------------------------------------------------- the rule

def _outcome(name, status, requires=()):
    return CheckOutcome(name, f"check {name}", 1.0, status,
                        fraction=1.0 if status == PASSED else 0.0, requires=requires)


def test_a_property_counts_only_next_to_its_values():
    outcomes = [_outcome("values", FAILED), _outcome("unmodified", PASSED, ("values",))]
    assert [o.status for o in apply_requirements(outcomes)] == [FAILED, UNEARNED]
    assert score_question("relu_forward", outcomes).points == 0
    outcomes[0] = _outcome("values", PASSED)
    assert score_question("relu_forward", outcomes).points == QUESTION_POINTS["relu_forward"]


def test_every_requirement_names_a_value_check_of_the_same_question():
    for qid in QUESTION_IDS:
        checks = {c.name: c for c in hidden_checks.checks_for(qid)}
        for check in checks.values():
            for name in check.requires:
                # scoring.apply_requirements looks one level deep: a check that requires a
                # gated check names that check's own requirements too
                assert name in checks and set(checks[name].requires) <= set(check.requires), \
                    (qid, check.name, name)


# The at-scale checks: one per question, or one per gradient (affine_backward), so that
# one wrong gradient costs only its own points.
AT_SCALE_GATES = {"at_scale", "grads_at_scale", "dx_at_scale", "dw_at_scale", "db_at_scale"}


# The words a property check's name carries: what a function that does nothing also has.
PROPERTIES = ("unmodified", "shapes", "dtype", "config")


def test_every_property_a_zero_stub_has_requires_values():
    """The checks a do-nothing function passes (inputs unmodified, shapes, dtypes, sgd's
    config) are exactly the ones that require others, in every question, a new one too."""
    at_scale = AT_SCALE_GATES  # the gradient checks' own gates (see below)
    gated = {(c.qid, c.name) for c in hidden_checks.CHECKS
             if c.requires and not set(c.requires) <= at_scale}
    properties = {(c.qid, c.name) for c in hidden_checks.CHECKS
                  if any(word in c.name for word in PROPERTIES)}
    assert gated == properties
    assert {("affine_forward", "inputs_unmodified"), ("two_layer_net", "init_shapes"),
            ("two_layer_net", "init_dtype"), ("sgd", "returns_config")} <= gated


def test_every_gradient_check_requires_its_at_scale_check():
    """A backward pass written as a numeric gradient passes the small cases; the at-scale
    case (too large for one within the time limit) gates every check of a gradient."""
    gated = {(c.qid, c.name) for c in hidden_checks.CHECKS
             if set(c.requires) & AT_SCALE_GATES}
    gradients = {("affine_backward", n) for n in ("dx", "dw", "db", "shapes",
                                                  "inputs_unmodified")} | \
        {("relu_backward", "dx"), ("relu_backward", "inputs_unmodified")} | \
        {(q, n) for q in ("softmax_loss", "svm_loss") for n in ("gradient", "input_unmodified")} | \
        {("softmax_loss", "stable"), ("two_layer_net", "grads_reg")} | \
        {("two_layer_net", f"grad_{k}") for k in ("W1", "b1", "W2", "b2")}
    assert gated == gradients


# ----------------------------------------------------------------------------- inline answers

# The right options, written out from the questions in exercises/source/02_relu.py and
# 06_tuning.py, never read from answer_key: a wrong key fails here. Change them only
# together with the question's text.
PINNED = {"inline_q1": {"A", "C"}, "inline_q2": {"A", "C"}, "inline_q3": {"C", "F"}}
OPTIONS = {"inline_q1": "ABCDE", "inline_q2": "ABCD", "inline_q3": "ABCDEF"}


@pytest.mark.parametrize("qid", sorted(PINNED))
def test_the_pinned_inline_answer_and_only_it_earns_full_marks(qid):
    full = QUESTION_POINTS[qid]
    assert grading.grade_in_process(qid, {qid: set(PINNED[qid])}).points == full
    wrong = set(OPTIONS[qid]) - PINNED[qid]
    assert grading.grade_in_process(qid, {qid: wrong}).points == 0
    for letter in wrong:
        assert grading.grade_in_process(qid, {qid: PINNED[qid] | {letter}}).points < full
    for letter in PINNED[qid]:
        assert grading.grade_in_process(qid, {qid: PINNED[qid] - {letter}}).points < full
    assert grading.grade_in_process(qid, {qid: set(OPTIONS[qid])}).points < full


# ----------------------------------------------------------------------------- CSV cells

@pytest.mark.parametrize("text", ["=1+1", "+1", "-1", "@SUM(A1)", "\t=1", "\r=1"])
def test_a_formula_like_csv_cell_is_escaped(text):
    assert csv_cell(text) == "'" + text


@pytest.mark.parametrize("text", ["alice", "bob-smith", "1", "'quoted", ""])
def test_an_ordinary_csv_cell_is_unchanged(text):
    assert csv_cell(text) == text
