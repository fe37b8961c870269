"""Feedback that names the mistake: the corpus of wrong student code, on both sides.

Every entry of tests/diagnosis_corpus.py runs through the notebook's public checks
(Check.run, in process) and through the grader's hidden checks (the probes and
scoring.judge_outcome, in process; a handful also through the real sandboxed engine).
"""
import re

import numpy as np
import pytest

from answer_key import inline_questions, layer_utils, layers, optim
from answer_key.classifiers.fc_net import TwoLayerNet
from autograder import grading, hidden_checks
from autograder import mistakes as grader_mistakes
from fcnet.judging import AT_SCALE_WRONG_HINT
from autograder.scoring import PASSED
from diagnosis_corpus import CORPUS, EQUIVALENT
from fcnet import public_checks, questions
from fcnet.diagnosis import Diagnosis

CODE_QUESTIONS = ("affine_forward", "affine_backward", "relu_forward", "relu_backward",
                  "softmax_loss", "svm_loss", "two_layer_net", "sgd")


def reference_namespace():
    ns = {**vars(layers), **vars(layer_utils), **vars(inline_questions)}
    ns.update(TwoLayerNet=TwoLayerNet, sgd=optim.sgd)
    return ns


def student_namespace(entry):
    """The answer key's names, with the entry's definitions written by the student."""
    ns = reference_namespace()
    ns["np"] = np
    exec(compile(entry.source, f"<student {entry.id}>", "exec"), ns)
    return ns


def _defined(entry):
    return set(re.findall(r"^(?:def|class) (\w+)", entry.source, re.M))


def public_results(entry, ns):
    """Results of the public checks that call anything the entry defines."""
    names = _defined(entry)
    checks = [c for c in public_checks.CHECKS
              if c.qid in CODE_QUESTIONS and names & set(c.needs)]
    with np.errstate(all="ignore"):
        return [public_checks.run_check(c, ns) for c in checks]


def hidden_outcomes(entry, ns):
    with np.errstate(all="ignore"):
        return grading.grade_in_process(entry.qid, ns).checks


def _run(entry):
    ns = student_namespace(entry)
    public = public_results(entry, ns)
    hidden = hidden_outcomes(entry, ns)
    return {"public": {r.diagnosis.name for r in public if r.diagnosis},
            "hidden": {o.diagnosis for o in hidden if o.diagnosis}}, public, hidden


def explanations(name):
    """The explanations a diagnosis called `name` may give (a catalogue mistake, or a
    generic relation "<role>_<relation>")."""
    from fcnet.diagnosis import GENERIC

    found = {m.explanation for m in questions.catalogue()
             if m.name == name}
    for relation, _, text in GENERIC:
        if name.endswith("_" + relation):
            found.add(text.format(role=name[:-len(relation) - 1]))
    return found


@pytest.fixture(scope="module")
def corpus_runs():
    return {entry.id: _run(entry) for entry in CORPUS}


def test_the_corpus_covers_every_code_question_with_at_least_40_mistakes():
    assert len(CORPUS) >= 40
    assert {e.qid for e in CORPUS} == set(CODE_QUESTIONS)
    assert len({e.id for e in CORPUS}) == len(CORPUS)
    from fcnet.diagnosis import GENERIC

    known = {m.name for m in questions.catalogue()}
    known |= {f"{role}_{name}" for role in ("dx", "dw", "db", "dW", "out", "loss")
              for name, _, _ in GENERIC}
    for entry in CORPUS:
        assert entry.expect is None or set(entry.expect) <= known, entry.id


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e.id)
def test_each_mistake_gets_its_diagnosis_and_no_other(entry, corpus_runs):
    found, public, hidden = corpus_runs[entry.id]
    accepted = set(entry.expect or ())
    for side in ("public", "hidden"):
        assert found[side] <= accepted, f"{side}: {found[side]} for {entry.id}"
        if entry.expect and side in entry.sides:
            assert found[side], f"{side}: no diagnosis for {entry.id}"
    # the mistake is real: it fails a check on every side where it shows
    for side, failed in (("public", [r for r in public if not r.passed]),
                         ("hidden", [o for o in hidden if o.status != PASSED])):
        if side in entry.sides:
            assert failed, f"{entry.id} passes every {side} check"


def test_at_least_85_percent_of_the_corpus_is_named_and_none_misnamed(corpus_runs):
    """The measure: the share of the corpus whose every failing side names its mistake,
    and the entries given a name they were not written for (none)."""
    named = [e for e in CORPUS
             if e.expect and all(corpus_runs[e.id][0][side] for side in e.sides)]
    misnamed = [e.id for e in CORPUS for side in ("public", "hidden")
                if not corpus_runs[e.id][0][side] <= set(e.expect or ())]
    print(f"named: {len(named)} of {len(CORPUS)} ({len(named) / len(CORPUS):.1%}); "
          f"misnamed: {len(misnamed)}")
    assert len(named) / len(CORPUS) >= 0.85, f"{len(named)} of {len(CORPUS)}"
    assert not misnamed


@pytest.mark.parametrize("entry", CORPUS, ids=lambda e: e.id)
def test_an_undiagnosed_failure_keeps_the_general_hint(entry, corpus_runs):
    _, public, hidden = corpus_runs[entry.id]
    for result in public:
        if result.status in ("failed", "error"):
            text = " ".join(str(result).split())  # wrapped for the notebook
            if result.diagnosis is None:
                assert f"Hint: {result.check.hint}" in text and "Diagnosis:" not in text
            else:
                assert f"Diagnosis: {result.diagnosis.explanation}" in text
                assert result.check.hint not in text
    checks = {c.name: c for c in hidden_checks.checks_for(entry.qid)}
    for outcome in hidden:
        if outcome.status in ("failed", "error") and not outcome.diagnosis:
            assert outcome.hint in (checks[outcome.name].hint, AT_SCALE_WRONG_HINT)
        elif outcome.diagnosis:
            assert outcome.hint != checks[outcome.name].hint
            assert outcome.hint in explanations(outcome.diagnosis), outcome.diagnosis


@pytest.mark.parametrize("entry", EQUIVALENT, ids=lambda e: e.id)
def test_right_code_written_differently_passes_without_a_diagnosis(entry):
    found, public, hidden = _run(entry)
    assert all(r.passed and r.diagnosis is None for r in public), [str(r) for r in public]
    assert all(o.status == PASSED and not o.diagnosis for o in hidden)


@pytest.mark.parametrize("qid", CODE_QUESTIONS)
def test_the_answer_key_never_gets_a_diagnosis(qid):
    """Not as a side effect of passing: the diagnosis itself, asked on the answer key's
    outputs for every check, finds nothing."""
    ns = reference_namespace()
    for check in public_checks.checks_for(qid):
        case, expected = public_checks.public_cases()[check.case_id]
        outputs = check.probe(ns, case)
        assert public_checks.run_check(check, ns).passed, check.name
        assert check.diagnose({**case, "expected": expected}, outputs) is None, check.name
    cases = hidden_checks.make_cases(qid, 0)
    reference = grading.reference_layers() if qid in grading.DECOUPLED else None
    for task in grading.probe_tasks(qid):
        result = grading.run_probe_in_process(task, ns, cases[task.case], reference)
        assert result.status == "ok", result.message
        for check in hidden_checks.checks_for(qid):
            if grading.task_key(check) == task.key:
                case = hidden_checks.judging_case(check, cases[task.case])
                assert grader_mistakes.diagnosis_of(check, case, result.outputs) is None, \
                    check.name
    assert all(o.status == PASSED and not o.diagnosis
               for o in grading.grade_in_process(qid, ns).checks)


def test_a_diagnosis_is_never_given_when_the_repair_does_not_pass():
    """Two mistakes in one output: neither explains it alone, so the hint stays general."""
    entry = next(e for e in CORPUS if e.id == "ab_db_mean")
    source = entry.source.replace("db = np.mean(dout, axis=0)",
                                  "db = -np.mean(dout, axis=0)")
    ns = reference_namespace()
    exec(source, ns)
    results = public_results(entry, ns)
    assert results and all(r.diagnosis is None for r in results)


def test_malformed_outputs_never_break_a_check():
    ns = reference_namespace()
    ns["affine_backward"] = lambda dout, cache: ("a", None, {"x": 1})
    result = public_checks.run_check(public_checks.checks_for("affine_backward")[0], ns)
    assert result.status in ("failed", "error") and result.diagnosis is None
    outcomes = grading.grade_in_process("affine_backward", ns).checks
    assert all(not o.diagnosis for o in outcomes)


def test_diagnosis_is_plain_data_in_the_grades():
    ns = student_namespace(next(e for e in CORPUS if e.id == "ab_db_mean"))
    result = grading.grade_in_process("affine_backward", ns)
    row = {c["name"]: c for c in result.as_dict()["checks"]}
    assert row["db"]["diagnosis"] == "db_averaged" and row["dx"]["diagnosis"] == ""
    assert isinstance(Diagnosis("a", "b").name, str)


# ----------------------------------------------------------------------------- leaks

def _all_advice_texts(corpus_runs):
    from fcnet.diagnosis import GENERIC

    texts = [m.explanation for m in questions.catalogue()]
    texts += [text for _, _, text in GENERIC]
    texts += [c.hint for c in (*public_checks.CHECKS, *hidden_checks.CHECKS)]
    for _, public, hidden in corpus_runs.values():
        texts += [str(r) for r in public] + [o.hint for o in hidden]
    return texts


def test_no_hint_or_diagnosis_holds_answer_key_or_hidden_check_code(corpus_runs):
    from book_support import ROOT, answer_key_fragments, fragments_of, squash

    hidden = fragments_of(sorted(p for pattern in ("*.py", "routes/*.py", "reports/*.py")
                                 for p in (ROOT / "autograder").glob(pattern)))
    fragments = {**answer_key_fragments(), **hidden}
    assert len(fragments) > 70  # the detector has something to look for
    for text in _all_advice_texts(corpus_runs):
        found = [origin for key, origin in fragments.items() if key in squash(text)]
        assert not found, f"{text!r} quotes {found}"


def test_the_shipped_diagnosis_modules_hold_no_answer_key_line():
    """The release's leak detector ignores whatever fcnet holds (students have it), so
    the modules that compare with right answers are checked here on their own: no
    answer-key line may appear in them unless students already get it elsewhere."""
    from book_support import ANSWER_KEY, MIN_FRAGMENT, ROOT, _solution_lines, squash

    package = ROOT / "exercises" / "fcnet"
    ours = {package / "diagnosis.py", package / "mistakes.py",
            *package.glob("questions/*.py")}
    import nbformat

    # What students get anyway: the rest of fcnet, and the notebooks they are handed.
    given = [p.read_text(encoding="utf-8") for p in sorted(package.rglob("*.py"))
             if p not in ours]
    given += [cell.source for path in sorted((ROOT / "exercises").glob("*.ipynb"))
              for cell in nbformat.read(path, as_version=4).cells]
    elsewhere = squash("\n".join(given))
    shipped = squash("\n".join(path.read_text(encoding="utf-8") for path in sorted(ours)))
    lines = [line for path in sorted(ANSWER_KEY.rglob("*.py")) for line in _solution_lines(path)]
    keys = {squash(line.split("#", 1)[0]) for line in lines}
    leaked = [k for k in keys if len(k) >= MIN_FRAGMENT and k in shipped and k not in elsewhere]
    assert not leaked, leaked
    assert len(keys) > 50


# ----------------------------------------------------------------------------- the real engine

SANDBOXED = ("ab_db_mean", "af_no_flatten_matmul", "rf_in_place", "sm_no_shift",
             "tln_no_reg_grad", "sgd_plus")


def test_the_sandboxed_engine_gives_the_same_diagnoses(sandbox, tmp_path, corpus_runs):
    """A handful of the corpus, each one student's notebook, graded by `python -m
    autograder`'s engine: the probes run in the sandbox, the diagnosis in the grader."""
    from autograder_support import grade_folder, notebook, replace_definition, write_submission
    from fcnet.chapters import chapter_of

    entries = [e for e in CORPUS if e.id in SANDBOXED]
    for entry in entries:
        stem = chapter_of(entry.qid)
        name = re.search(r"^(?:def|class) (\w+)", entry.source, re.M).group(1)
        nb = replace_definition(notebook(stem), name, entry.source)
        write_submission(tmp_path / "in", entry.id, {stem: nb})
    questions = sorted({e.qid for e in entries})
    _, outcome = grade_folder(tmp_path / "in", tmp_path / "out", sandbox, questions=questions)
    for entry in entries:
        checks = outcome.grades[entry.id]["results"][entry.qid].checks
        engine = {c.name: (c.status, c.diagnosis, c.hint) for c in checks}
        in_process = {c.name: (c.status, c.diagnosis, c.hint) for c in corpus_runs[entry.id][2]}
        assert engine == in_process, entry.id
        assert {c.diagnosis for c in checks if c.diagnosis} == set(entry.expect), entry.id
    feedback = (tmp_path / "out" / "feedback").glob("*.md")
    texts = {p.stem: p.read_text(encoding="utf-8") for p in feedback}
    db = next(t for s, t in texts.items() if "ab_db_mean" in s)
    assert "averaged dout over the N examples" in db


# ----------------------------------------------------------------------------- the book

WORKED_EXAMPLES = {"01_affine_layer": "db_averaged", "02_relu": "relu_gradient_everywhere",
                   "03_losses": "softmax_no_max_shift",
                   "04_two_layer_net": "reg_missing_in_gradient", "05_solver": "sgd_sign_flipped"}


def test_each_chapter_source_shows_one_worked_diagnosis():
    from book_support import ROOT

    for stem, mistake in WORKED_EXAMPLES.items():
        text = (ROOT / "book" / f"{stem}.md").read_text(encoding="utf-8")
        assert f'worked_mistakes.attempt("{mistake}")' in text, stem


@pytest.mark.slow  # builds the book
def test_the_built_book_prints_each_worked_diagnosis(cifar):
    """The chapter page shows what grader.check prints for the attempt: the diagnosis's
    own explanation, computed at build time by the real check."""
    from bs4 import BeautifulSoup
    from book_support import built_book

    html = built_book()
    for stem, mistake in WORKED_EXAMPLES.items():
        page = BeautifulSoup((html / "book" / f"{stem}.html").read_text(encoding="utf-8"),
                             "html.parser").get_text()
        words = " ".join(page.split())
        shown = [m for m in questions.catalogue()
                 if m.name == mistake and "Diagnosis: " + m.explanation in words]
        assert shown, f"{stem}: no diagnosis {mistake} on the page"


# ----------------------------------------------------------------------------- attacks

@pytest.mark.parametrize("entry_id", ["ab_db_mean", "sm_no_shift", "sgd_plus", "rf_in_place"])
def test_a_diagnosis_never_changes_the_points(entry_id, monkeypatch):
    """The diagnosis only words the hint: outputs shaped like a known mistake earn
    exactly what they earn undiagnosed."""
    ns = student_namespace(next(e for e in CORPUS if e.id == entry_id))
    qid = next(e for e in CORPUS if e.id == entry_id).qid
    with np.errstate(all="ignore"):
        diagnosed = grading.grade_in_process(qid, ns)
        monkeypatch.setattr(grader_mistakes, "diagnosis_of", lambda *a: None)
        plain = grading.grade_in_process(qid, ns)
    assert any(c.diagnosis for c in diagnosed.checks)
    assert diagnosed.points == plain.points
    assert [(c.status, c.fraction) for c in diagnosed.checks] == \
        [(c.status, c.fraction) for c in plain.checks]


def test_a_failing_diagnosis_leaves_the_general_hint(monkeypatch):
    """A bug in a relation (or outputs it cannot read) never breaks a check."""
    def broken(view):
        raise RuntimeError("a bug in a relation")

    from fcnet import diagnosis

    monkeypatch.setattr(diagnosis, "_matching", lambda *args: broken(None))
    ns = student_namespace(next(e for e in CORPUS if e.id == "ab_db_mean"))
    db_check = next(c for c in public_checks.checks_for("affine_backward") if c.name == "db")
    result = public_checks.run_check(db_check, ns)
    assert result.status == "failed" and result.diagnosis is None and "Hint:" in str(result)
    outcomes = grading.grade_in_process("affine_backward", ns).checks
    db = next(o for o in outcomes if o.name == "db")
    assert db.status == "failed" and not db.diagnosis
    assert db.hint == next(c.hint for c in hidden_checks.checks_for("affine_backward")
                           if c.name == "db")


def test_an_infinite_loss_with_a_finite_gradient_is_a_log_of_zero():
    """No corpus entry reaches it on the checks' inputs (the scores of a row stay within
    about 30 of each other), so the relation is tested on crafted outputs: the answer
    key's own, with the loss made infinite as log(0) makes it."""
    check = next(c for c in hidden_checks.checks_for("softmax_loss") if c.name == "stable")
    case = hidden_checks.judging_case(check,
                                      hidden_checks.make_cases("softmax_loss", 0)[check.case_id])
    loss, dx = layers.softmax_loss(case["x"], case["y"])
    outputs = {"loss": np.float64(np.inf), "dx": dx, "x_after": case["x"], "y_after": case["y"]}
    assert grader_mistakes.diagnosis_of(check, case, outputs).name == "softmax_log_of_zero"
    outputs["loss"] = np.float64(np.nan)
    assert grader_mistakes.diagnosis_of(check, case, outputs).name == "softmax_no_max_shift"
    outputs["loss"] = np.float64(loss)
    assert grader_mistakes.diagnosis_of(check, case, outputs) is None


def test_every_route_shows_the_diagnosis_in_its_feedback():
    """The engine's feedback page, the nbgrader cell text and the otter test case all
    print the hint, which is the diagnosis's explanation."""
    import json

    from autograder.reports.results import feedback_markdown
    from autograder.routes import lms_grading, otter_route

    ns = student_namespace(next(e for e in CORPUS if e.id == "ab_db_mean"))
    result = grading.grade_in_process("affine_backward", ns)
    explanation = next(m.explanation for m in questions.catalogue() if m.name == "db_averaged")
    page = feedback_markdown("alice", {"affine_backward": result}, [],
                                    questions=("affine_backward",))
    assert explanation.split(":")[0] in page
    data = json.loads(json.dumps(result.as_dict()))
    assert explanation in lms_grading.report(data)
    graded = otter_route.GradedSubmission({"results": {"affine_backward": data}})
    graded.seal = otter_route._seal(dict(graded))
    with pytest.raises(AssertionError) as raised:
        otter_route.hidden_check(graded, "affine_backward", "db")
    assert f"Hint: {explanation}" in str(raised.value)


def test_the_at_scale_hint_blames_a_numeric_gradient_only_when_the_small_checks_pass(
        corpus_runs):
    """A plain wrong gradient fails its small gradient checks and the at-scale one: the
    at-scale check then says the gradient is wrong, not that it is too slow."""
    from fcnet.judging import AT_SCALE_HINT
    from autograder.scoring import UNEARNED

    wrong = 0
    for entry in CORPUS:
        hidden = corpus_runs[entry.id][2]
        for outcome in hidden:
            dependants = [o for o in hidden if outcome.name in o.requires]
            if outcome.hint == AT_SCALE_HINT:
                assert all(o.status in (PASSED, UNEARNED) for o in dependants), entry.id
            elif outcome.hint == AT_SCALE_WRONG_HINT:
                assert any(o.status not in (PASSED, UNEARNED) for o in dependants), entry.id
                wrong += 1
    assert wrong >= 5
