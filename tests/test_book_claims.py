"""The book's checkable statements, held against the code and against measurements.

Each test reads the sentence from the chapter (book/*.md) or notebook source
(exercises/source/*.py) and recomputes the number or set it states. The instructor notes
(book/for_instructors.md, "What we checked") list these tests beside the checks that were
done by hand.
"""
import json
import re
import sys
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
BOOK = ROOT / "book"
SOURCES = ROOT / "exercises" / "source"
STUDENT = ROOT / "exercises"          # the generated student notebooks
SHARED = BOOK / "shared"              # explanations a chapter and its notebook share
INCLUDE = re.compile(r"```\{include\} shared/([\w-]+)\.md\n```")


def text(path):
    """What a reader sees of a chapter page, a notebook source or a generated notebook, as
    one line of text (line breaks and comment markers removed, shared explanations
    included), so a phrase may wrap anywhere."""
    raw = path.read_text(encoding="utf-8")
    if path.suffix == ".ipynb":
        cells = json.loads(raw)["cells"]
        raw = "\n".join("".join(c["source"]) for c in cells if c["cell_type"] == "markdown")
    elif path.suffix == ".py":
        raw = re.sub(r"^# ?", "", raw, flags=re.M)
    else:
        raw = INCLUDE.sub(lambda m: (SHARED / f"{m[1]}.md").read_text(encoding="utf-8"), raw)
    return re.sub(r"\s+", " ", raw)


@pytest.fixture(scope="module")
def figures():
    sys.path.insert(0, str(BOOK))
    try:
        import figures as module
        yield module
    finally:
        sys.path.remove(str(BOOK))


# ----------------------------------------------------------------- chapter 3: overflow

def test_overflow_thresholds_stated_for_float32_and_float64():
    float32 = float(np.log(np.finfo(np.float32).max))   # 88.72...
    float64 = float(np.log(np.finfo(np.float64).max))   # 709.78...
    with np.errstate(over="ignore"):
        assert np.isfinite(np.exp(np.float32(float32 - 0.01)))
        assert np.isinf(np.exp(np.float32(float32 + 0.01)))
        assert np.isinf(np.exp(np.float64(float64 + 0.01)))
    for path in (BOOK / "03_losses.md", STUDENT / "03_losses.ipynb"):
        body = text(path)
        assert f"{float32:.1f}$ in single precision (`float32`" in body, \
            f"{path.name} does not give the float32 threshold {float32:.1f}"
        assert f"{float64:.1f}" in body, f"{path.name} does not give {float64:.1f} for float64"
        assert "a few hundred" not in body


# ----------------------------------------------------------------- chapter 5: histories

def test_accuracy_histories_have_num_epochs_plus_one_entries():
    from answer_key.classifiers.fc_net import TwoLayerNet
    from answer_key.solver import Solver
    rng = np.random.default_rng(0)
    data = {"X_train": rng.standard_normal((50, 3, 2, 2)), "y_train": rng.integers(0, 4, 50),
            "X_val": rng.standard_normal((20, 3, 2, 2)), "y_val": rng.integers(0, 4, 20)}
    for num_epochs in (1, 3):
        model = TwoLayerNet(input_dim=12, hidden_dim=5, num_classes=4)
        solver = Solver(model, data, update_rule="sgd", num_epochs=num_epochs,
                        batch_size=10, verbose=False)
        solver.train()
        assert len(solver.loss_history) == num_epochs * 5
        assert len(solver.train_acc_history) == num_epochs + 1
        assert len(solver.val_acc_history) == num_epochs + 1
    for path in (BOOK / "05_solver.md", SOURCES / "05_solver.py"):
        body = text(path)
        assert "num_epochs + 1" in body, path.name
        assert "one value per epoch" not in body and "one accuracy per epoch" not in body


def test_an_epoch_draws_minibatches_with_replacement():
    """Chapter 5 and its notebook: an epoch is N_train / N iterations of minibatches drawn
    with replacement, so it sees about 1 - 1/e of the images, not every one once; the
    first accuracy point is measured after the first iteration, not before training."""
    from answer_key.solver import Solver
    seen = []

    class Recorder:
        params = {"w": np.zeros(1)}

        def loss(self, X, y=None):
            if y is None:
                return np.zeros((len(X), 2))
            seen.extend(int(v) for v in X[:, 0])
            return 0.0, {"w": np.zeros(1)}

    n = 5000
    data = {"X_train": np.arange(n, dtype=float)[:, None], "y_train": np.zeros(n, int),
            "X_val": np.zeros((10, 1)), "y_val": np.zeros(10, int)}
    Solver(Recorder(), data, update_rule="sgd", num_epochs=1, batch_size=100,
           verbose=False, seed=0).train()
    assert len(seen) == n
    assert abs(len(set(seen)) / n - (1 - np.exp(-1))) < 0.03
    chapter, notebook = text(BOOK / "05_solver.md"), text(SOURCES / "05_solver.py")
    assert "*with replacement*" in chapter and "63\\%" in chapter
    assert "with replacement" in notebook
    for body in (chapter, notebook):
        assert "one pass over the training set" not in body
        assert "full pass over the training set" not in body
    assert "measured before training" not in chapter and "before training and" not in chapter


def test_chapter5_figure_has_one_more_accuracy_point_than_epochs(figures):
    epochs = figures.course_runs.POOR["num_epochs"]
    words = {5: "six points for five epochs"}
    assert words[epochs] in text(BOOK / "05_solver.md")


# ----------------------------------------------------------------- chapter 2: inline q1

# The options of inline question 1 (exercises/source/02_relu.py): which activation, the
# words that name the inputs, and those inputs as a test on the figure's z.
INLINE_Q1_OPTIONS = {
    "A": ("Sigmoid", "inputs of large magnitude", lambda z: np.abs(z) >= 5),
    "B": ("Sigmoid", "only for inputs close to zero", lambda z: np.abs(z) <= 0.5),
    "C": ("ReLU", "for negative inputs", lambda z: z < 0),
    "D": ("ReLU", "for large positive inputs", lambda z: z >= 3),
    "E": ("Leaky ReLU", "for negative inputs", lambda z: z < 0),
}


def _derivative_panels(figures):
    """{"sigmoid" | "relu" | "leaky": (z, derivative)} and the shading threshold: the data
    the activations figure draws."""
    z, curves = figures.activation_curves()
    return {name: (z, df) for name, (_, _, df) in curves.items()}, figures.VANISHING


def test_the_activations_figure_draws_that_data(figures):
    z, curves = figures.activation_curves()
    axes = figures.activations().axes
    for col, (title, f, df) in enumerate(curves.values()):
        assert axes[col].get_title() == title
        np.testing.assert_array_equal(axes[col].get_lines()[0].get_ydata(), f)
        np.testing.assert_array_equal(axes[3 + col].get_lines()[0].get_ydata(), df)
        labels = axes[3 + col].get_legend_handles_labels()[1]
        texts = [t.get_text() for t in axes[3 + col].texts]
        if np.any(df < figures.VANISHING):
            assert labels == [f"derivative < {figures.VANISHING:g}"] and not texts
        else:  # no shaded band, so no legend entry for one (issue 21)
            assert labels == [] and texts == [f"derivative ≥ {figures.VANISHING:g} everywhere"]


def test_inline_q1_key_follows_the_figures_rule(figures):
    from answer_key.inline_questions import inline_q1
    panels, threshold = _derivative_panels(figures)
    assert set(panels) == {"sigmoid", "relu", "leaky"}
    names = {"Sigmoid": "sigmoid", "ReLU": "relu", "Leaky ReLU": "leaky"}
    almost_none = set()
    for letter, (activation, _, region) in INLINE_Q1_OPTIONS.items():
        z, df = panels[names[activation]]
        inside = region(z)
        assert inside.any(), f"option {letter}'s inputs are outside the figure's range"
        if np.all(df[inside] < threshold):
            almost_none.add(letter)
    assert almost_none == set(inline_q1), (
        f"by the figure's rule (derivative below {threshold:g}) the answer is "
        f"{sorted(almost_none)}, the key says {sorted(inline_q1)}")


def test_inline_q1_question_and_chapter_state_the_figures_rule(figures):
    panels, threshold = _derivative_panels(figures)
    z, df = panels["leaky"]
    slope = float(df[z < 0][0])
    question = text(SOURCES / "02_relu.py")
    chapter = text(BOOK / "02_relu.md")
    assert f"\\max({slope:g}z, z)" in question, f"the question's leaky ReLU is not slope {slope:g}"
    assert f"${threshold:g}$" in question and f"${threshold:g}$" in chapter
    assert f"\\alpha = {slope:g}" in chapter
    for letter, (activation, words, _) in INLINE_Q1_OPTIONS.items():
        assert f"**{letter}.** {activation}, {words}" in question or \
            re.search(rf"\*\*{letter}\.\*\* {activation},[^*]*{words}", question), letter


# ----------------------------------------------------------------- grading, in words

def test_grading_thresholds_in_the_text_are_the_graded_ones():
    from autograder.points import (BEST_MODEL_FULL, BEST_MODEL_MAX_HIDDEN, BEST_MODEL_ZERO,
                                   QUESTION_POINTS, TRAINING, TRAINING_LEARNS,
                                   TRAINING_THRESHOLD)
    ch5, nb5 = text(BOOK / "05_solver.md"), text(STUDENT / "05_solver.ipynb")
    for body in (ch5, nb5):
        assert f"reach {TRAINING_LEARNS:.0%} (a quarter) and {TRAINING_THRESHOLD:.0%}" in body
        assert re.search(f"{TRAINING['num_train']:,} (CIFAR-10 )?training images", body)
        assert "learning rate $2 \\cdot 10^{-3}$" in body and TRAINING["learning_rate"] == 2e-3
        assert f"`training` ({QUESTION_POINTS['training']} points)" in body
        assert f"`sgd` ({QUESTION_POINTS['sgd']} points)" in body
    ch6, nb6 = text(BOOK / "06_tuning.md"), text(STUDENT / "06_tuning.ipynb")
    for body in (ch6, nb6):
        assert f"{BEST_MODEL_FULL:.0%} or more" in body and f"zero at {BEST_MODEL_ZERO:.0%}" \
            in body.replace("to zero at", "zero at").replace("reach zero at", "zero at")
        assert f"{BEST_MODEL_MAX_HIDDEN:,} hidden units" in body
        middle = (BEST_MODEL_FULL + BEST_MODEL_ZERO) / 2
        assert f"{middle:.0%}" in body and f"{QUESTION_POINTS['best_model'] // 2} " in body


def test_the_at_scale_cases_are_as_the_grading_sections_say():
    """Chapters 2 and 3 state the ranges of the hidden at-scale cases (where a numeric
    gradient cannot be exact); the cases must span exactly those."""
    from autograder import hidden_checks
    relu_text, loss_text = text(SHARED / "grading_relu.md"), text(SHARED / "grading_losses.md")
    assert "half a million inputs of every size from $10^{-300}$ to $100$" in relu_text
    assert "SVM margins as close as $10^{-12}$ to the hinge" in loss_text
    assert "correct class scores $10^{12}$ or more below the others" in loss_text
    for seed in (0, 1):
        x = hidden_checks.make_cases("relu_backward", seed)["relu_backward.at_scale"]["x"]
        sizes = np.log10(np.abs(x))
        assert x.size == 500_000 and -300 <= sizes.min() < -299 and 1.9 < sizes.max() <= 2
        svm = hidden_checks.make_cases("svm_loss", seed)["svm_loss.at_scale"]
        rows = np.arange(len(svm["y"]))
        margins = svm["x"] - svm["x"][rows, svm["y"]][:, None] + 1
        margins = np.log10(np.abs(margins[np.arange(10) != svm["y"][:, None]]))
        assert -12.01 <= margins.min() < -11.9 and 0.9 < margins.max() <= 1.01
        soft = hidden_checks.make_cases("softmax_loss", seed)["softmax_loss.at_scale"]
        x, y = soft["x"], soft["y"]
        below = x.max(axis=1) - x[np.arange(len(y)), y]
        far = below >= 1e12
        assert 0.45 < far.mean() < 0.55 and below[~far].max() < 100 and below.max() <= 1.01e15


# benchmarks/best_model_baseline.py's measurements that chapter 6 gives for the scale:
# chapter 5's untuned run over seeds 0-7 (lowest and highest test accuracy), the two
# 10-epoch settings, the answer key's search (best validation, test), the course's recipe.
UNTUNED_TEST, UNTUNED_VAL = (0.469, 0.495), (0.475, 0.506)
TWO_SETTINGS, SEARCH, RECIPE_TEST = (0.512, 0.520), (0.548, 0.532), 0.668


def test_best_model_scale_rewards_tuning_as_chapter_6_says():
    from autograder.best_model import points
    from autograder.points import BEST_MODEL_FULL, BEST_MODEL_ZERO, QUESTION_POINTS

    total = QUESTION_POINTS["best_model"]
    # The claims themselves: untuned earns at most half, the search earns all, the recipe
    # stays at full marks.
    assert points(UNTUNED_TEST[1]) <= 0.5 < points(TWO_SETTINGS[1]) < 1
    assert points(SEARCH[1]) == 1 and RECIPE_TEST >= BEST_MODEL_FULL + 0.1
    ch6, nb6 = text(BOOK / "06_tuning.md"), text(SOURCES / "06_tuning.py")
    low, high = UNTUNED_TEST
    earned = f"{total * points(low):.0f} to {total * points(high):.1f} of the 10 points"
    assert f"{low:.1%} to {high:.1%}, which earn {earned}" in ch6
    assert f"half the points sit at {(BEST_MODEL_FULL + BEST_MODEL_ZERO) / 2:.0%}" in ch6
    a, b = TWO_SETTINGS
    assert f"{a:.1%} and {b:.1%}, {total * points(a):.1f} and {total * points(b):.1f} " \
           f"points" in ch6
    assert f"Full points start at {BEST_MODEL_FULL:.0%}" in ch6
    assert f"{SEARCH[1]:.1%} on the test set)" in ch6 and f"{SEARCH[0]:.1%} after a search" in ch6
    assert f"took it from {SEARCH[1]:.1%} (plain SGD after a search) to {RECIPE_TEST:.1%}" \
        in ch6 and f"untuned run gives {low:.1%} to {high:.1%}" in ch6
    # The same measurements where the notebook and the shared grading text give them.
    untuned_val = f"{UNTUNED_VAL[0]:.1%} to {UNTUNED_VAL[1]:.1%} on the validation set"
    assert untuned_val in nb6 and untuned_val.replace(" on the validation set", "") in ch6
    assert f"{low:.1%} to {high:.1%} on the test" in nb6
    assert f"at least {BEST_MODEL_FULL:.0%} accuracy on the validation set" in nb6
    assert f"at least {BEST_MODEL_FULL:.0%} on the validation set" in ch6


def test_inline_questions_say_a_wrong_choice_costs_points():
    from autograder.hidden_checks import judging_case
    from autograder.scoring import PartialCredit
    from answer_key import inline_questions
    from fcnet.questions import inline_q1

    (check,) = inline_q1.CHECKS   # its judge is fcnet/questions/_inline.py's judge_inline
    right = sorted(inline_questions.inline_q1)
    wrong = sorted(set(inline_q1.OPTIONS) - set(right))
    out = {"answered": True, "letters": right[0] + wrong[0]}
    with pytest.raises(PartialCredit) as raised:
        check.judge(judging_case(check, check.make_case(None)), out)
    assert raised.value.fraction == 0   # one right and one wrong letter earn nothing
    for path in (STUDENT / "02_relu.ipynb", STUDENT / "06_tuning.ipynb",
                 BOOK / "02_relu.md", BOOK / "06_tuning.md"):
        assert "Each wrong option you choose takes one share away again" in text(path)


def test_the_book_counts_every_inline_question():
    from fcnet.chapters import CHAPTERS
    count = sum(qid.startswith("inline_q") for qids in CHAPTERS.values() for qid in qids)
    assert count == 3
    words = {2: "two", 3: "three", 4: "four"}
    assert f"The {words[count]} inline questions are scored" in text(BOOK / "intro.md")
    for path in BOOK.glob("*.md"):
        assert not re.search(r"\b(one|two|four) inline questions\b", text(path), re.I), path
    assert "answer inline questions 2 and 3" in text(BOOK / "06_tuning.md")


def _record_bad_run():
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        import record_bad_run
        return record_bad_run
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def test_inline_q3_diagnoses_a_run_the_book_never_trains(figures):
    """Inline question 3 asks for the diagnosis of a recorded run (issue 21): the book's
    own runs, which its chapters diagnose, must all be other runs."""
    sys.path.insert(0, str(BOOK))
    try:
        import course_runs
    finally:
        sys.path.remove(str(BOOK))
    q3 = _record_bad_run().SETTINGS
    defaults = {"hidden_dim": 50, "reg": 0.0, "num_train": 9000, "num_epochs": 5,
                "learning_rate": 1e-4}
    for name, run in (("POOR", course_runs.POOR), ("TUNED", course_runs.TUNED)):
        run = {**defaults, **run}
        assert any(run[k] != q3[k] for k in defaults), f"the book trains inline q3's run ({name})"
    # The grid search's runs: 50 hidden units, two epochs on QUICK_TRAIN images.
    assert (50, 2, course_runs.QUICK_TRAIN) != (q3["hidden_dim"], q3["num_epochs"],
                                                q3["num_train"])


def test_inline_q3_explanation_states_the_recorded_curves():
    """The key's explanation quotes the recorded run's numbers, and nothing else does."""
    from fcnet.recorded_runs import BAD_RUN
    loss = np.array(BAD_RUN.loss_history)
    train, val = BAD_RUN.train_acc_history, BAD_RUN.val_acc_history
    epochs = [chunk.mean() for chunk in np.array_split(loss, len(train) - 1)]
    assert len(train) - 1 == _record_bad_run().SETTINGS["num_epochs"] == 15
    body = text(SOURCES / "06_tuning.py")
    assert "trained for 15 epochs" in body
    assert f"falls from {epochs[0]:.2f} in the first epoch to {epochs[-1]:.2f} in the fifteenth" \
        in body
    assert f"Training accuracy climbs to {train[-1]:.0%}" in body
    stall = min(range(len(val)), key=lambda e: (max(val) - val[e] > 0.005, e))
    assert stall == 11 and "from the eleventh epoch on" in body
    assert f"near {np.mean(val[stall:]):.0%}" in body
    assert train[-1] - val[-1] > 0.5 and "grows to more than 50 points" in body


def test_standard_error_of_a_1000_image_accuracy():
    """Notebook 6: an accuracy near 50% measured on the 1,000 test images of
    get_CIFAR10_data has a standard error of sqrt(0.5 * 0.5 / 1000), about 1.6 points."""
    import inspect
    from fcnet.data_utils import get_CIFAR10_data
    num_test = inspect.signature(get_CIFAR10_data).parameters["num_test"].default
    points = 100 * np.sqrt(0.5 * 0.5 / num_test)
    body = text(SOURCES / "06_tuning.py")
    assert f"first {num_test:,} of CIFAR-10's 10,000 test images" in body
    assert f"uncertain by about {points:.1f} points (one standard error near 50%)" in body


def test_student_setup_names_the_first_chapter_that_imports_and_colabs_copy_names(
        tmp_path, monkeypatch):
    """For students: chapter 2 is the first notebook that imports an earlier one, and the
    import finds Colab's "Copy of ..." (by the chapter id in its metadata), as the page says."""
    import nbformat

    from fcnet.notebook_import import find_chapter
    first = min(int(path.name[:2]) for path in SOURCES.glob("0[1-6]_*.py")
                if re.search(r"^[^#\n]*import_notebook\(", path.read_text(), flags=re.M))
    body = text(BOOK / "for_students.md")
    assert f"From chapter {first} on, the import cells look for" in body
    copy = tmp_path / "Copy of 01_affine_layer.ipynb"
    copy.write_bytes((ROOT / "exercises" / "01_affine_layer.ipynb").read_bytes())
    assert nbformat.read(copy, as_version=4).metadata["fcnet"]["chapter"] == "01_affine_layer"
    monkeypatch.setenv("FCNET_CHAPTERS_DIR", str(tmp_path))
    monkeypatch.chdir(tmp_path)
    assert Path(find_chapter("01_affine_layer")).name == copy.name
    assert "`Copy of 01_affine_layer.ipynb`" in body


# ----------------------------------------------------------------- chapter 6: momentum

def test_momentum_effective_step_matches_the_ablation_row():
    from answer_key.best_model import RECIPE
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from best_model_ablation import VARIANTS
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    effective = RECIPE["learning_rate"] / (1 - RECIPE["momentum"])
    assert VARIANTS["no momentum"]["learning_rate"] == pytest.approx(effective)
    body = text(BOOK / "06_tuning.md")
    assert f"an effective step of about ${effective:g}$" in body
    assert f"at $\\eta = {effective:g}$" in body
    # The velocity under a constant gradient tends to -eta g / (1 - mu).
    from answer_key.optim import sgd_momentum
    w, config = np.zeros(1), {"learning_rate": RECIPE["learning_rate"],
                              "momentum": RECIPE["momentum"]}
    for _ in range(200):
        w, config = sgd_momentum(w, np.ones(1), config)
    assert config["velocity"][0] == pytest.approx(-effective)


def test_whitened_step_cost_and_the_ablation_rows_rates():
    """Chapter 6: with the projection XP made on every step, a whitened step does
    DK + 2KH multiply-adds per image in the first layer against 2DH on raw pixels (about
    3.4 times less, not sixfold); the ablation rows that change the learning rate say so."""
    from answer_key.best_model import RECIPE
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        from best_model_ablation import VARIANTS
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))
    D, K, H = 3072, RECIPE["num_components"], RECIPE["hidden_dim"]
    ratio = 2 * D * H / (D * K + 2 * K * H)
    body = text(BOOK / "06_tuning.md")
    assert f"a step does about {ratio:.1f} times less arithmetic" in body
    assert "work per step drops sixfold" not in body
    assert VARIANTS["constant learning rate"]["learning_rate"] == 0.01
    assert "| constant learning rate ($\\eta = 0.01$) instead of cosine |" in body
    assert VARIANTS["no whitening (raw pixels)"]["learning_rate"] == 2e-4
    assert "| raw pixels instead of whitening ($\\eta = 2 \\cdot 10^{-4}$;" in body


def test_whitening_statements_hold_on_cifar10(cifar10_archive, figures):
    """Chapter 6: the spectrum spans about 8 orders of magnitude, the kept 512 almost 4;
    whitened variances lie between about 0.2 and 1, roughly half of them above 1/2."""
    from answer_key.best_model import RECIPE
    from fcnet.data_utils import get_CIFAR10_data
    data = get_CIFAR10_data(num_training=5000, num_validation=0, num_test=0,
                            dtype=np.float32)
    X = data["X_train"].reshape(5000, -1).astype(np.float64)
    variances = np.linalg.eigvalsh(X.T @ X / len(X))[::-1]
    kept = variances[:RECIPE["num_components"]]
    whitened = kept / (kept + RECIPE["whiten_eps"] * kept.mean())
    assert 7.5 < np.log10(variances[0] / variances[-1]) < 8.5
    assert 3.5 < np.log10(kept[0] / kept[-1]) < 4
    assert 0.15 < whitened.min() < 0.25 and whitened.max() > 0.99
    assert 0.4 < np.mean(whitened > 0.5) < 0.6
    body = text(BOOK / "06_tuning.md")
    assert "about $10^8$ times the smallest" in body
    assert "almost four orders of magnitude" in body
    assert "between about 0.2 and 1" in body
    # He's scale on whitened inputs: a hidden unit's variance starts at 2/K times the sum
    # of the K whitened variances, i.e. twice their mean (issue 21).
    assert 0.4 <= 2 * whitened.mean() <= 2
    assert "with a variance between about $0.2$ and $1$" in body
    assert "between about $0.4$ and $2$" in body


def test_gradient_check_practical_numbers():
    """Chapters 1 and 2: float64 against float32 on a small affine layer, the threshold of
    the affine checks, and the worked kink (issue 21)."""
    from math import erf, sqrt

    from answer_key.layers import affine_backward, affine_forward
    from fcnet.gradient_check import eval_numerical_gradient_array, rel_error
    errors = {}
    for dtype in (np.float64, np.float32):
        rng = np.random.default_rng(0)
        x, w, b, dout = (rng.normal(size=shape).astype(dtype)
                         for shape in ((4, 5), (5, 3), (3,), (4, 3)))
        dw = affine_backward(dout, affine_forward(x, w, b)[1])[1]
        numeric = eval_numerical_gradient_array(lambda v: affine_forward(x, v, b)[0], w, dout)
        errors[dtype] = rel_error(dw, numeric)
    assert f"{errors[np.float64]:.0e}" == "9e-10" and round(errors[np.float32], 2) == 0.14
    # affine_backward's gradient checks: error against the numeric gradient's largest
    # entry, accepted below 1e-6 (the judge's default, which those checks use).
    import inspect

    from fcnet import judging
    from fcnet.questions import affine_backward
    assert inspect.signature(judging.judge_gradient).parameters["tol"].default == 1e-6
    for name in ("dx", "dw", "db"):
        assert f'judge=judge_gradient("{name}"),' in inspect.getsource(affine_backward)
    numeric = np.array([2.0, -0.001])
    for off, passes in ((1.9e-6, True), (2.1e-6, False)):  # 2 * 1e-6 is the bound
        try:
            judging.close_to_numeric("dw", {"dw": numeric + [0.0, off]}, numeric)
        except judging.CheckFailed:
            assert not passes
        else:
            assert passes
    chapter1 = text(BOOK / "01_affine_layer.md")
    assert "is $9 \\times 10^{-10}$ in `float64` and $0.14$ in `float32`" in chapter1
    assert "\\max_k |A_k - B_k| / \\max_k |B_k|$" in chapter1
    assert "and accept less than $10^{-6}$" in chapter1
    # The kink: x = 3e-6 and delta = 1e-5 straddle zero.
    x, delta = 3e-6, 1e-5
    numeric = (max(x + delta, 0) - max(x - delta, 0)) / (2 * delta)
    assert round(numeric, 2) == 0.65 and round(abs(numeric - 1) / (numeric + 1), 2) == 0.21
    share = erf(delta / sqrt(2))  # P(|x| < delta) for a standard normal x
    assert round(share * 1e6) == 8
    chapter2 = text(BOOK / "02_relu.md")
    assert "= 0.65$, the true one is $1$" in chapter2 and "0.35 / 1.65 \\approx 0.21" in chapter2
    assert "about 8 in a million" in chapter2


def test_initialisation_scale_numbers_hold_on_cifar10(cifar10_archive, figures):
    """Chapter 4: the pixel variance, and the hidden units' spread at the default scale."""
    from answer_key.classifiers.fc_net import TwoLayerNet
    data, _ = figures.course_data()
    X = data["X_train"].reshape(len(data["X_train"]), -1).astype(np.float64)
    variance = X.var(axis=0).mean()
    assert round(variance, -1) == 3980
    np.random.seed(0)
    net = TwoLayerNet(hidden_dim=50)
    assert net.params["W1"].std() == pytest.approx(1e-3, rel=0.01)  # the default scale
    hidden = X[:2000] @ net.params["W1"]
    assert round(hidden.std(), 1) == round(np.sqrt(3072 * 3980) * 1e-3, 1) == 3.5
    assert round(np.sqrt(2 * 3980)) == 89
    body = text(BOOK / "04_two_layer_net.md")
    for phrase in ("a pixel variance of about 3,980", "`weight_scale` $= 10^{-3}$",
                   "\\approx 3.5$", "\\sqrt{2 \\cdot 3980} \\approx 89$"):
        assert phrase in body, phrase


def test_update_to_weight_ratio_statements_hold_on_cifar10(cifar10_archive, figures):
    """Chapter 6's update-to-weight ratio paragraph, measured again on the same runs."""
    ratios = figures.update_ratios()
    slow, best, fast = (ratios[lr] for lr in (1e-4, 1e-3, 1e-2))
    assert 4e-4 <= slow.min() and slow.max() < 8e-4
    assert round(best[0], 3) == 0.005 and 0.015 < best[-1] < 0.025
    assert np.argmax(fast > 1) + 1 == 6
    run = figures.train(hidden_dim=50, learning_rate=1e-2, reg=0.0, num_epochs=2,
                        num_train=figures.QUICK_TRAIN)
    assert np.argmax(~np.isfinite(run.loss_history)) + 1 == 41
    assert figures.RATIO_RULE_OF_THUMB == 1e-3
    body = text(BOOK / "06_tuning.md")
    for phrase in ("by 0.04% to 0.08% of its size", "starts near $5 \\times 10^{-3}$",
                   "grows to about $2 \\times 10^{-2}$", "passes 1 at step 6",
                   "from step 41 the loss is NaN", "a ratio of about $10^{-3}$"):
        assert phrase in body, phrase


# ----------------------------------------------------------------- a textbook's apparatus

CHAPTER_PAGES = sorted(BOOK.glob("0[1-6]_*.md"))


@pytest.mark.parametrize("path", CHAPTER_PAGES, ids=lambda p: p.stem)
def test_chapter_has_objectives_summary_and_problems_with_hidden_answers(path):
    """Objectives at the top, a summary and two or three problems at the end, each problem
    with a {solution} block (shown only in the instructor edition: hide_solutions)."""
    source = path.read_text(encoding="utf-8")
    objectives = source.find("```{admonition} Learning objectives")
    summary, problems = source.find("\n## Summary\n"), source.find("\n## Problems\n")
    first_section = source.find("\n## ")
    assert 0 < objectives < first_section, "learning objectives must come before section 1"
    assert 0 < summary < problems, "a summary, then the problems, at the end"
    assert source.find("\n## ", problems + 1) == -1, "the problems close the chapter"
    labels = re.findall(r"```\{exercise\}\n:label: (\S+)", source[problems:])
    assert 2 <= len(labels) <= 3
    for label in labels:
        assert f"````{{solution}} {label}\n" in source[problems:], f"{label} has no solution"


def test_config_hides_solutions_in_the_student_edition():
    import yaml
    config = yaml.safe_load((ROOT / "_config.yml").read_text(encoding="utf-8"))
    assert config["sphinx"]["config"]["hide_solutions"] is True


def test_notation_page_follows_the_intro_and_lists_every_symbol_the_chapters_define():
    import yaml
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text(encoding="utf-8"))
    assert toc["root"] == "book/intro"
    assert toc["parts"][0]["chapters"][0]["file"] == "book/notation"
    notation = (BOOK / "notation.md").read_text(encoding="utf-8")
    for symbol in (r"$N$", r"$D$", r"$H$", r"$C$", r"$K$", r"$s$", r"$p$", r"$a$", r"$h$",
                   r"$\eta$", r"$\lambda$", r"$\mu$", r"$\gamma_\ell$", r"$\epsilon$",
                   r"$\tau$", r"$\delta$", r"$\alpha$", r"$\Delta$", r"$v$", r"$V_1$"):
        assert f"| {symbol} |" in notation or f"| {symbol}," in notation, symbol


def test_chapters_follow_the_notation_pages_rules():
    """i counts examples only, layers compute XW + b, and the backward pass of the affine
    layer is not said to need b (issue 21)."""
    for path in BOOK.glob("[0-9][0-9]_*.md"):
        body = text(path)
        assert not re.search(r"\\gamma_i\b|\bu_i\b|\\gamma_\{i", body), path
        assert not re.search(r"\bW ?x ?\+ ?b\b", body), path
    assert "needs only $x$ and $W$" in text(BOOK / "01_affine_layer.md")


def test_every_cited_key_is_in_the_bibliography():
    bib = BOOK / "references.bib"
    assert bib.is_file(), "book/references.bib is missing"
    defined = set(re.findall(r"^@\w+\{([^,\s]+),", bib.read_text(encoding="utf-8"), re.M))
    cited = set()
    for path in BOOK.glob("*.md"):
        for keys in re.findall(r"\{cite(?::\w+)?\}`([^`]+)`", path.read_text(encoding="utf-8")):
            cited.update(k.strip() for k in keys.split(","))
    assert cited and cited <= defined, f"cited but not in references.bib: {cited - defined}"


# ----------------------------------------------------------------- shared explanations

def test_shared_explanations_are_used_by_a_chapter_and_its_notebook():
    """Each book/shared/NAME.md is included by a chapter page and named by a notebook
    source (`# @shared NAME`), and every reference names an existing file."""
    shared = {p.stem for p in SHARED.glob("*.md")} - {"README"}
    in_book, in_notebooks = set(), set()
    for path in BOOK.glob("*.md"):
        in_book.update(INCLUDE.findall(path.read_text(encoding="utf-8")))
    for path in SOURCES.glob("*.py"):
        in_notebooks.update(re.findall(r"^# @shared ([\w-]+)$", path.read_text(encoding="utf-8"),
                                       re.M))
    assert in_book <= shared and in_notebooks <= shared
    assert shared == in_book == in_notebooks, (shared, in_book, in_notebooks)


def test_shared_directive_expands_and_names_a_missing_file():
    from course_build import notebooks
    assert notebooks.expand_shared("before\n@shared inline_scoring\nafter", "here") == \
        "before\n" + (SHARED / "inline_scoring.md").read_text(encoding="utf-8").strip("\n") + \
        "\nafter"
    with pytest.raises(notebooks.DirectiveError, match="no_such_text"):
        notebooks.expand_shared("@shared no_such_text", "exercises/source/x.py, cell 2")
