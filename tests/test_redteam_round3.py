"""Red-team findings, round 3 (newest changes: exports, result frames, caps, sandbox
fallback): each test replays an attack and asserts the safe behaviour, so it fails while
the attack works."""
import json

import pytest

from autograder.reports import lms_exports


def _grades_json(folder, submissions):
    """grades.json as the engine writes it for a Gradescope export: {key: (total,
    submitters)}."""
    document = {"max_points": {"affine_forward": 10},
                "grades": {k: {"affine_forward": t, "total": t}
                           for k, (t, _) in submissions.items()},
                "students": {k: {"submitters": people}
                             for k, (_, people) in submissions.items()}}
    (folder / "grades.json").write_text(json.dumps(document))


ALICE = {"name": "Alice Adams", "sid": "1001", "email": "aadams@uni.edu"}
BO = {"name": "Bo Li", "sid": "1003", "email": "bli@uni.edu"}


@pytest.mark.parametrize("id_column,alice_id", [("id", "1001"), ("email", "aadams@uni.edu"),
                                                ("email", "AAdams@Uni.edu")])
def test_the_plain_export_refuses_two_grades_for_one_student(tmp_path, id_column, alice_id):
    """Attack: Bo's group upload names Alice too (a later upload, worth 0). The Canvas
    export refuses two submissions for one person; the plain one (Moodle, Blackboard,
    Brightspace) wrote two rows for Alice's id, the later silently overwriting her 10
    points on import. It must refuse the same way, naming both submissions."""
    other = dict(ALICE, email=alice_id) if id_column == "email" else ALICE
    _grades_json(tmp_path, {"Alice Adams (1001)": (10, [ALICE]),
                            "Alice Adams (1001) + Bo Li (1003)": (0, [other, BO])})
    with pytest.raises(lms_exports.ExportError) as refused:
        lms_exports.export(tmp_path, "plain", id_column=id_column)
    assert "Alice Adams (1001) + Bo Li (1003)" in str(refused.value)
    assert not (tmp_path / "plain_grades.csv").exists()


# ----------------------------------------------------------------------------------------
# 2. The at-scale checks (tests/test_redteam_routes.py, attack 6) stop a backward pass
#    written as fcnet's entry-by-entry numeric gradient. But the rows of a loss, the
#    entries of a ReLU and the rows (dx) or columns (dw) of an affine output are
#    independent: perturbing a whole column at once gives every row's numeric derivative
#    in one forward pass. So 2C (20) forward passes, 2 for the ReLU and 4D+2 for
#    affine_backward, make numeric gradients that finish at scale, exact to ~1e-10:
#    measured 35 / 35 points on these four questions, none of it backpropagation.

VECTORISED_NUMERIC = {
    "01_affine_layer": {"affine_backward": '''
def affine_backward(dout, cache):
    x, w, b = cache
    X, h = x.reshape(len(x), -1).astype(float), 1e-3
    f = lambda X, W, B: X @ W + B
    dX, dw = np.zeros_like(X), np.zeros_like(w, dtype=float)
    for k in range(X.shape[1]):  # column k of every row at once: rows are independent
        up, down = X.copy(), X.copy(); up[:, k] += h; down[:, k] -= h
        dX[:, k] = ((f(up, w, b) - f(down, w, b)) * dout).sum(axis=1) / (2 * h)
    for k in range(w.shape[0]):  # row k of w: output columns are independent
        up, down = w.astype(float), w.astype(float); up[k] += h; down[k] -= h
        dw[k] = ((f(X, up, b) - f(X, down, b)) * dout).sum(axis=0) / (2 * h)
    db = ((f(X, w, b + h) - f(X, w, b - h)) * dout).sum(axis=0) / (2 * h)
    return dX.reshape(x.shape), dw, db'''},
    "02_relu": {"relu_backward": '''
def relu_backward(dout, cache):
    h = 1e-5  # central differences of the forward pass, all entries at once
    return dout * (np.maximum(cache + h, 0) - np.maximum(cache - h, 0)) / (2 * h)'''},
    "03_losses": {"softmax_loss": '''
def _rows_softmax(x, y):
    s = x - x.max(axis=1, keepdims=True)
    return -(s - np.log(np.exp(s).sum(axis=1, keepdims=True)))[np.arange(len(y)), y]
def _column_numeric(rows, x, y, h):
    dx = np.zeros_like(x, dtype=float)
    for j in range(x.shape[1]):  # one column of every row at once: rows are independent
        up, down = x.astype(float), x.astype(float)
        up[:, j] += h
        down[:, j] -= h
        dx[:, j] = (rows(up, y) - rows(down, y)) / (2 * h)
    return dx / len(y)
def softmax_loss(x, y):
    return _rows_softmax(x, y).mean(), _column_numeric(_rows_softmax, x, y, 1e-5)''',
                  "svm_loss": '''
def _rows_svm(x, y):
    r = np.arange(len(y)); m = np.maximum(0, x - x[r, y][:, None] + 1); m[r, y] = 0
    return m.sum(axis=1)
def svm_loss(x, y):
    return _rows_svm(x, y).mean(), _column_numeric(_rows_svm, x, y, 1e-7)'''},
}
NUMERIC_QUESTIONS = ("affine_backward", "relu_backward", "softmax_loss", "svm_loss")
FORWARD_ONLY = {"softmax_loss": {"loss"}, "svm_loss": {"loss"}}


@pytest.mark.slow
@pytest.mark.xfail(strict=True, reason=(
    "open (issue 20): central differences taken a whole column at a time finish at scale "
    "(rows are independent), so the at-scale checks do not tell them from backprop; "
    "35 of 35 points measured. A tighter tolerance would fail honest float32 and "
    "differently-ordered gradients, so no fix yet"))
def test_a_vectorised_numeric_gradient_earns_no_gradient_points(sandbox, tmp_path):
    from autograder_support import checks_of, grade_folder, notebook, write_submission
    from lms_submissions import replace_definition

    notebooks = {}
    for stem, definitions in VECTORISED_NUMERIC.items():
        nb = notebook(stem, "solution")
        for name, source in definitions.items():
            replace_definition(nb, name, source)
        notebooks[stem] = nb
    subs = tmp_path / "subs"
    write_submission(subs, "numeric", {**notebooks, "05_solver": None, "06_tuning": None})
    points, outcome = grade_folder(subs, tmp_path / "out", sandbox,
                                   questions=NUMERIC_QUESTIONS, timeout=120, workers=1)
    earned = {qid: sorted(name for name, check in checks_of(outcome, "numeric", qid).items()
                          if check.status == "passed") for qid in NUMERIC_QUESTIONS}
    print(points["numeric"], earned)
    for qid in NUMERIC_QUESTIONS:
        assert set(earned[qid]) <= FORWARD_ONLY.get(qid, set()), (qid, earned[qid])
    assert points["numeric"]["relu_backward"] == points["numeric"]["affine_backward"] == 0
