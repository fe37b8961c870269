"""The feedback page and the class report read results as data.

Fast tests, in process: results come from the grader's own checks run on wrong code
(ours, so the in-process route is safe), then go through results.write_all and
class_report.summarize exactly as a grading run's do.
"""
import ast
import json
import re
from pathlib import Path

import numpy as np
import pytest

from autograder.reports import class_report
from autograder.reports.results import bounded, feedback_html, feedback_markdown, write_all
from autograder.grading import grade_in_process
from autograder.scoring import NOT_DONE, UNEARNED
from autograder_support import REPO

WRONG = '''
def affine_backward(dout, cache):
    x, w, b = cache
    x2 = x.reshape(x.shape[0], -1)
    dx = (dout @ w.T).reshape(x.shape)
    dw = x2.T @ dout
    db = dout.mean(axis=0)
    return dx, dw, db


def relu_backward(dout, cache):
    return np.zeros_like(dout)


def softmax_loss(x, y):
    raise ValueError("<script>alert(1)</script> scores & labels: shapes differ")
'''
QUESTIONS = ("affine_forward", "affine_backward", "relu_backward", "softmax_loss",
             "svm_loss")


def _namespace(source=WRONG, drop=("svm_loss",)):
    from answer_key import layers

    ns = {**vars(layers), "np": np}
    exec(compile(source, "<student>", "exec"), ns)
    for name in drop:
        ns.pop(name, None)
    return ns


@pytest.fixture(scope="module")
def results():
    ns = _namespace()
    return {q: grade_in_process(q, ns) for q in QUESTIONS}


def _sections(markdown):
    """{question id: its part of the Markdown page}."""
    parts = re.split(r"^## ", markdown, flags=re.M)
    return {p.split(":")[0]: p for p in parts[1:]}


def test_pages_show_no_internal_id(results):
    from fcnet import questions

    html = feedback_html("ada", results, [], QUESTIONS)
    markdown = feedback_markdown("ada", results, [], QUESTIONS)
    assert any(c.diagnosis == "db_averaged" for c in results["affine_backward"].checks)
    ids = {m.name for m in questions.catalogue()} | {c.name for r in results.values() for c in r.checks
                                        if "_" in c.name}
    for page in (html, markdown.replace("\\_", "_")):
        shown = [i for i in ids if re.search(rf"\b{re.escape(i)}\b", page)]
        assert not shown, shown
    assert "averaged dout over the N examples" in html  # the diagnosis, in words


ZEROS = """
def affine_backward(dout, cache):
    x, w, b = cache
    return np.zeros_like(x), np.zeros_like(w), np.zeros_like(b)
"""


def test_each_hint_appears_once_per_question():
    result = grade_in_process("affine_backward", _namespace(ZEROS, drop=()))
    failing = [c for c in result.checks if c.status not in ("passed", UNEARNED) and c.hint]
    hints = {c.hint for c in failing}
    assert len(failing) > len(hints), "the case needs one hint on several failed checks"
    results = {"affine_backward": result}
    for page in (feedback_markdown("ada", results, [], ("affine_backward",)),
                 feedback_html("ada", results, [], ("affine_backward",))):
        for hint in hints:
            words = re.escape(hint.split(",")[0][:30]).replace("_", r"\\?_")
            assert len(re.findall(words, page)) == 1, hint


def test_status_reads_by_symbol_word_and_colour(results):
    html = feedback_html("ada", results, [], QUESTIONS)
    statuses = {c.status for r in results.values() for c in r.checks}
    assert {"passed", "failed", UNEARNED, NOT_DONE, "error"} <= statuses
    for style, symbol, word in (("pass", "✓", "passed"), ("fail", "✗", "failed"),
                                ("uncounted", "⊘", "not counted"),
                                ("todo", "○", "not answered")):
        assert re.search(rf'<li class="s-{style}"><span class="icon"[^>]*>{symbol}</span>'
                         rf'<span class="word">{word}', html), word
    assert "prefers-color-scheme: dark" in html


def test_the_students_error_is_shown_bounded_and_escaped(results):
    check = results["softmax_loss"].checks[0]
    assert (check.error_type, check.status) == ("ValueError", "error")
    assert check.error_message.startswith("<script>alert(1)</script> scores")
    html = feedback_html("ada", results, [], QUESTIONS)
    markdown = feedback_markdown("ada", results, [], QUESTIONS)
    assert "ValueError: &lt;script&gt;alert(1)&lt;/script&gt; scores &amp; labels" in html
    assert "<script" not in html and "<script" not in markdown
    assert "**Your code raised an error:** ValueError: &lt;script&gt;" in markdown
    assert html.count("ValueError") == 1 and markdown.count("ValueError") == 1  # once


def test_long_texts_end_at_a_sentence_or_word():
    text = "The first sentence is short. " + "word " * 200
    cut = bounded(text, 100)
    assert len(cut) <= 102 and cut.endswith("\u2026")
    assert cut.startswith("The first sentence is short.")
    assert bounded("x" * 50 + " tail", 30).endswith("\u2026")
    assert bounded("short", 30) == "short"


def test_a_damaged_chapter_is_named_once(results):
    from autograder.grading import not_done

    why = ("03_losses.ipynb is not valid JSON (Unterminated string starting at line 1, "
           "column 12); it may be damaged: re-download it or restore it from a checkpoint")
    damaged = {**results, **{q: not_done(q, why, file="03_losses.ipynb", unreadable=why)
                             for q in ("softmax_loss", "svm_loss")}}
    for page in (feedback_markdown("ada", damaged, [why], QUESTIONS),
                 feedback_html("ada", damaged, [why], QUESTIONS)):
        assert page.count("Unterminated string starting at line 1") == 1
        assert page.count("About your submission") == 3  # the heading and two pointers


def test_a_note_several_questions_carry_is_shown_once(results):
    damaged = "05_solver.ipynb: `solver = Solver(` failed and was skipped (NameError)"
    for qid in ("affine_forward", "relu_backward"):
        results[qid].notes.append(damaged)
    try:
        markdown = feedback_markdown("ada", results, [], QUESTIONS)
        html = feedback_html("ada", results, [], QUESTIONS)
    finally:
        for qid in ("affine_forward", "relu_backward"):
            results[qid].notes.remove(damaged)
    assert markdown.count("05\\_solver.ipynb") == 1
    assert html.count("05_solver.ipynb") == 1
    assert markdown.index("About your submission") < markdown.index("## affine")


# ----------------------------------------------------------------------------- class report

def _run(tmp_path, students):
    grades = {s: {"results": dict(r), "notes": [], "seconds": {}} for s, r in students.items()}
    write_all(tmp_path, grades, "test", QUESTIONS)
    return class_report.summarize(*class_report.load(tmp_path))


def test_unanswered_questions_are_grading_health_not_mistakes(tmp_path, results):
    stubs = {q: grade_in_process(q, {}) for q in QUESTIONS}  # nothing defined at all
    summary = _run(tmp_path, {"ada": results, "stubby": stubs, "bob": results})
    clustered = {s for c in summary["mistakes"] for s in c["students"]}
    assert "stubby" not in clustered
    assert not [c for c in summary["mistakes"] if c["question"] == "svm_loss"]
    unanswered = {row["student"]: row["items"] for row in summary["health"]["not_answered"]}
    assert unanswered["stubby"] == list(QUESTIONS)
    assert unanswered["ada"] == ["svm_loss"]
    rows = {(r["question"], r["check"]): r for r in summary["checks"]}
    assert all(r["not_answered"] >= 1 for r in rows.values())


def test_the_check_table_pairs_each_hint_with_its_failures(tmp_path, results):
    right = {q: grade_in_process(q, _namespace("", drop=())) for q in QUESTIONS}
    summary = _run(tmp_path, {"ada": results, "bob": results, "carol": right})
    for row in summary["checks"]:
        assert sum(h["failed"] for h in row["hints"]) == row["failed"], row
    db = next(r for r in summary["checks"]
              if r["question"] == "affine_backward" and r["failed"])
    assert db["hints"][0]["failed"] == 2 and "averaged" in db["hints"][0]["hint"]
    page = (tmp_path / "report.html").read_text() if (tmp_path / "report.html").exists() \
        else class_report.write(tmp_path) and (tmp_path / "report.html").read_text()
    assert "2&times;</span> Your db is exactly 1/N" in page


# ----------------------------------------------------------------------------- no prose parsing

READERS = ["autograder/reports/results.py", "autograder/reports/class_report.py",
           "autograder/reports/class_figures.py", "autograder/reports/lms_exports.py"]
_STRING_READS = {"search", "match", "fullmatch", "findall", "finditer", "startswith",
                 "endswith", "find", "rfind", "index", "split", "partition", "count",
                 "lower", "upper", "strip", "replace", "sub"}


def _mentions(node, tainted):
    return any(isinstance(n, ast.Name) and ("note" in n.id.lower() or n.id in tainted)
               or isinstance(n, ast.Attribute) and n.attr == "notes"
               or isinstance(n, ast.Constant) and n.value == "notes"
               for n in ast.walk(node))


def _tainted(tree):
    """Names that hold notes or their text: bound by a loop or comprehension over notes, or
    assigned from an expression with notes in it (to a fixed point)."""
    tainted, grew = set(), True
    while grew:
        size = len(tainted)
        for node in ast.walk(tree):
            pairs = []
            if isinstance(node, (ast.For, ast.comprehension)):
                pairs.append((node.target, node.iter))
            elif isinstance(node, ast.Assign):
                pairs += [(t, node.value) for t in node.targets]
            for target, value in pairs:
                if _mentions(value, tainted):
                    tainted |= {n.id for n in ast.walk(target) if isinstance(n, ast.Name)}
        grew = len(tainted) > size
    return tainted


def note_text_reads(source):
    """Places in `source` that look into a note's text: a string method or a regular
    expression applied to notes (or to a name holding one), or a substring test."""
    tree, found = ast.parse(source), []
    scopes = [n for n in ast.walk(tree) if isinstance(n, (ast.FunctionDef, ast.Lambda))]
    for scope in scopes or [tree]:  # names are a function's own
        found += _reads_in(scope)
    return list(dict.fromkeys(found))


def _reads_in(scope):
    tainted, found = _tainted(scope), []
    for node in ast.walk(scope):
        if isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute) \
                and node.func.attr in _STRING_READS \
                and any(_mentions(a, tainted) for a in [node.func.value, *node.args]):
            found.append(ast.unparse(node))
        if isinstance(node, ast.Compare) and any(isinstance(o, (ast.In, ast.NotIn))
                                                 for o in node.ops):
            right = node.comparators[-1]
            if isinstance(right, ast.Name) and (right.id.lower() == "note"
                                                or right.id in tainted) \
                    or isinstance(right, ast.Subscript) and _mentions(right, tainted):
                found.append(ast.unparse(node))
    return found


def test_no_report_feedback_or_export_module_reads_a_notes_text():
    # What the class report did before reading fields: each form is caught.
    assert note_text_reads("ACC.search(note)") and note_text_reads("'x' in note")
    assert note_text_reads("[m for n in e['notes'] if P.match(n)]")
    assert note_text_reads("def f(r):\n    texts = list(r['notes'])\n"
                           "    return any(P.search(t) for t in texts)")
    assert note_text_reads("m = M.match(result['checks'][0]['message'])") == []
    for path in READERS:
        source = (REPO / path).read_text(encoding="utf-8")
        assert not note_text_reads(source), path
    tree = ast.parse((REPO / "autograder/reports/class_report.py").read_text(encoding="utf-8"))
    imports = {a.name for n in ast.walk(tree) if isinstance(n, (ast.Import, ast.ImportFrom))
               for a in n.names}
    assert "re" not in imports, "the class report reads data, it does not match text"
    for template in ("feedback.md.j2", "feedback.html.j2", "class_report.html.j2"):
        text = (REPO / "autograder/reports/templates" / template).read_text(encoding="utf-8")
        tags = re.findall(r"{%-?\s*(.*?)\s*-?%}", text)
        assert not [t for t in tags if "note" in t and not re.fullmatch(
            r"(for note in [\w.]*notes|if [\w.]*notes)", t)], template


def test_engine_cli_routes_and_reports_name_no_question():
    """What a question needs (its data file, CIFAR-10, the answer key's layers, a measured
    number) is a trait its question module declares (TRAITS, read by
    fcnet.questions.traits_of); the machinery asks it."""
    from fcnet.chapters import QUESTION_IDS

    for name in ("engine", "cli", "grading",
                 "routes/otter_route", "routes/nbgrader_route", "routes/lms_grading",
                 "reports/results", "reports/class_report", "reports/class_figures",
                 "reports/lms_exports", "reports/rendering"):
        tree = ast.parse((REPO / "autograder" / f"{name}.py").read_text(encoding="utf-8"))
        named = {n.value for n in ast.walk(tree)
                 if isinstance(n, ast.Constant) and n.value in QUESTION_IDS}
        assert not named, (name, named)
    for template in (REPO / "autograder" / "reports" / "templates").glob("*.j2"):
        text = template.read_text(encoding="utf-8")
        assert not [q for q in QUESTION_IDS if re.search(rf"\b{q}\b", text)], template


def test_decoupled_errors_show_only_pythons_own_messages_about_the_students_names():
    """The two_layer_net worker holds the answer key's layers, so a message there could
    carry them: only Python's own messages whose names the student wrote (or the probes
    pass) are shown; any other text is withheld."""
    from types import SimpleNamespace

    from autograder import grading
    from autograder.worker_text import FixedTexts

    code = "class TwoLayerNet:\n    def __init__(self, hidden_size=10):\n        pass\n"
    fixed = FixedTexts("04_two_layer_net",
                       {"04_two_layer_net": SimpleNamespace(code=code, error=None)},
                       grading.probe_tasks("two_layer_net"))

    def shown(error, message):
        return fixed.shown_message({"status": "error", "error": error,
                                    "message": f"{error}: {message}"})

    kwarg = "TwoLayerNet.__init__() got an unexpected keyword argument 'hidden_dim'"
    assert shown("TypeError", kwarg) == kwarg  # hidden_dim: a name the probe passes
    assert shown("AttributeError", "'TwoLayerNet' object has no attribute 'params'") == \
        "'TwoLayerNet' object has no attribute 'params'"
    leak = "x = x.reshape(x.shape[0], -1) @ w + b"
    assert shown("ValueError", leak) == ""
    assert shown("NameError", "name 'secretdot0123' is not defined") == ""
    assert shown("TypeError", "TwoLayerNet.__init__() got an unexpected keyword argument "
                              "'reshape_then_dot'") == ""
    assert shown("MyError", kwarg) == ""  # a class the student defined: no text at all
    message = fixed.message({"status": "error", "error": "TypeError",
                             "message": f"TypeError: {kwarg}"})
    assert message == f"TypeError: {kwarg}"


def test_an_empty_inline_answer_is_not_answered_not_a_mistake(tmp_path):
    """The starter notebook's empty answer is a stub: "not answered", never a cluster."""
    from autograder.scoring import NOT_DONE

    empty = grade_in_process("inline_q1", {"inline_q1": ""})
    assert [c.status for c in empty.checks] == [NOT_DONE] and empty.not_answered
    wrong = grade_in_process("inline_q1", {"inline_q1": "Z"})
    grades = {s: {"results": {"inline_q1": r}, "notes": [], "seconds": {}}
              for s, r in (("stub_1", empty), ("stub_2", empty), ("w", wrong))}
    write_all(tmp_path, grades, "test", ("inline_q1",))
    summary = class_report.summarize(*class_report.load(tmp_path))
    assert [c["students"] for c in summary["mistakes"]] == [["w"]]
    assert {r["student"] for r in summary["health"]["not_answered"]} == {"stub_1", "stub_2"}
