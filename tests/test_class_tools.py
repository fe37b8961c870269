"""Fast tests of the instructor's class tools, without grading: similarity screening on
code, the exports, and the escaping of student-controlled text in every page."""
import csv
import json

import nbformat
import pytest

from autograder.reports import class_report, lms_exports, similarity
from autograder.reports.results import write_all
from autograder.scoring import CheckOutcome, score_question

from autograder_support import notebook, write_submission
from class_submissions import ORIGINAL_1, ORIGINAL_2, recomment, rename, reorder

HOSTILE_ID = '<script>alert("id")</script><img src=x onerror=alert(1)>'


def _codes(students):
    """{student: {qid: code}} from {student: {stem: chapter source}}."""
    questions = similarity.screened_questions()
    return {s: {q: similarity.question_code("\n\n".join(chapters.values()),
                                            similarity._names(q)) for q in questions}
            for s, chapters in students.items()}, questions


def _pairs(result):
    return {frozenset((p["student_a"], p["student_b"])): p for p in result.pairs}


def test_renamed_reordered_and_recommented_copies_score_high():
    codes, questions = _codes({
        "original": ORIGINAL_1,
        "renamed": {k: reorder(rename(v)) for k, v in ORIGINAL_1.items()},
        "other": ORIGINAL_2,
        "recommented": {k: recomment(v) for k, v in ORIGINAL_2.items()}})
    result = similarity.screen_codes(codes, questions, common=4)
    pairs = _pairs(result)
    assert pairs[frozenset(("original", "renamed"))]["score"] >= result.threshold
    assert pairs[frozenset(("other", "recommented"))]["score"] >= 0.99
    assert frozenset(("original", "other")) not in pairs or \
        pairs[frozenset(("original", "other"))]["score"] < result.threshold


def test_starter_code_and_docstrings_are_not_evidence():
    stub = similarity.starter_code("01_affine_layer")
    codes, questions = _codes({"a": {"01_affine_layer": stub}, "b": {"01_affine_layer": stub}})
    assert codes["a"]["affine_forward"].startswith("def affine_forward")
    assert '"""' not in codes["a"]["affine_forward"]  # the docstring is gone
    assert similarity.screen_codes(codes, questions).pairs == []


def test_code_that_many_students_share_is_common(tmp_path):
    same = {f"s{i}": ORIGINAL_1 for i in range(6)}
    codes, questions = _codes(same)
    assert similarity.screen_codes(codes, questions, common=4).pairs == []
    assert similarity.screen_codes(codes, questions, common=10).pairs  # a ring of six


def test_screening_never_runs_student_code(tmp_path):
    marker = tmp_path / "RAN"
    payload = (f"def affine_forward(x, w, b, _=open({str(marker)!r}, 'w')):\n"
               f"    return x\n\nopen({str(marker)!r}, 'w')\n")
    nb = notebook("01_affine_layer")
    nb.cells.append(nbformat.v4.new_code_cell(payload))
    subs = tmp_path / "subs"
    write_submission(subs, "mallory", {"01_affine_layer": nb})
    write_submission(subs, "alice")
    similarity.screen(subs, tmp_path / "out")
    assert not marker.exists()
    assert (tmp_path / "out" / "similarity.csv").is_file()


def test_the_similarity_page_escapes_ids_and_code(tmp_path):
    hostile = {k: v.replace("n = x.shape[0]", "n = x.shape[0]  # </pre><script>bad()</script>")
               for k, v in ORIGINAL_1.items()}
    codes, questions = _codes({HOSTILE_ID: ORIGINAL_1, "b": hostile})
    codes["b"]["sgd"] += "\n# </pre><script>bad()</script>"
    codes["b"]["affine_forward"] += '\nx = "</pre><script>bad()</script>"'
    similarity.write(similarity.screen_codes(codes, questions), tmp_path)
    page = (tmp_path / "similarity.html").read_text()
    assert "<script" not in page and "<img" not in page
    assert "&lt;script&gt;" in page
    rows = list(csv.reader(open(tmp_path / "similarity.csv", newline="")))
    assert rows[1][:2] in ([HOSTILE_ID, "b"], ["b", HOSTILE_ID])


def _grades(tmp_path, students):
    from autograder import hidden_checks

    grades = {}
    for student, status in students.items():
        results = {}
        for qid in ("affine_forward", "best_model"):
            outcomes = [CheckOutcome(c.name, c.description, c.weight, status,
                                     1.0 if status == "passed" else 0.0,
                                     "" if status == "passed" else "<b>off</b>", c.hint)
                        for c in hidden_checks.checks_for(qid)]
            results[qid] = score_question(qid, outcomes)
        results["best_model"].measures = {"accuracy_test": 0.4512}
        grades[student] = {"results": results, "notes": [HOSTILE_ID], "seconds": {}}
    write_all(tmp_path, grades, "test", ("affine_forward", "best_model"))
    return grades


def test_every_page_escapes_student_ids_and_messages(tmp_path):
    _grades(tmp_path, {HOSTILE_ID: "failed", "bob": "passed", "carol": "failed"})
    summary = class_report.write(tmp_path)
    assert summary["measured"]["best_model"]["values"][HOSTILE_ID] == 0.4512
    pages = [tmp_path / "report.html"] + sorted((tmp_path / "feedback").glob("*.html"))
    for page in pages:
        text = page.read_text()
        assert "<script" not in text and "<img src=x" not in text and "<b>" not in text, page
        assert "&lt;script&gt;" in text, page
    markdown = "".join(p.read_text() for p in (tmp_path / "feedback").glob("*.md"))
    assert "<script" not in markdown and "<b>" not in markdown
    assert {c["count"] for c in summary["mistakes"]} == {2}


def test_report_refuses_a_folder_without_a_run(tmp_path):
    with pytest.raises(class_report.ReportError):
        class_report.write(tmp_path)


def _run(tmp_path):
    document = {"max_points": {"a": 10, "b": 10},
                "grades": {"alice@uni.edu": {"a": 10, "b": 5, "total": 15},
                           "=HYPERLINK(\"x\")": {"a": 0, "b": 0, "total": 0},
                           "Bob Brown (1002)": {"a": 10, "b": 10, "total": 20}},
                "students": {"Bob Brown (1002)": {"submitters": [
                    {"name": "Bob Brown", "sid": "1002", "email": "bob@uni.edu"}]}}}
    (tmp_path / "grades.json").write_text(json.dumps(document))


def _rows(path):
    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_plain_export_in_points_and_percent(tmp_path):
    _run(tmp_path)
    path, warnings = lms_exports.export(tmp_path, "plain", "percent", "email")
    rows = _rows(path)
    assert rows[0] == ["email", "grade"]
    assert rows[1] == ["alice@uni.edu", "75"]
    assert rows[2][0].startswith("'=")  # never a formula in a spreadsheet
    assert warnings and "not email" in warnings[0]
    assert rows[3] == ["bob@uni.edu", "100"]  # a Gradescope submitter: their own email
    rows = _rows(lms_exports.export(tmp_path, "plain", "points", "id")[0])
    assert rows[3] == ["1002", "20"]


def test_canvas_export_matches_the_roster(tmp_path):
    _run(tmp_path)
    roster = tmp_path / "roster.csv"
    with open(roster, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(["Student", "ID", "SIS User ID", "SIS Login ID", "Section", "HW1"])
        writer.writerow(["Points Possible", "", "", "", "", "10"])
        writer.writerow(["Adams, Alice", "11", "1001", "alice@uni.edu", "A", ""])
        writer.writerow(["Brown, Bob", "12", "1002", "bbrown", "A", ""])
        writer.writerow(["Cole, Cy", "13", "1003", "ccole", "B", ""])
    path, warnings = lms_exports.export(tmp_path, "canvas", "points",
                                        assignment="Two-layer net", roster=roster)
    rows = _rows(path)
    assert rows[0] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section",
                       "Two-layer net"]
    assert rows[1] == ["Points Possible", "", "", "", "", "20"]
    assert ["Adams, Alice", "11", "1001", "alice@uni.edu", "A", "15"] in rows
    assert ["Brown, Bob", "12", "1002", "bbrown", "A", "20"] in rows  # by its sid
    assert any("not in the Canvas roster" in w for w in warnings)
    assert any("Cole, Cy" in w for w in warnings)
    with pytest.raises(lms_exports.ExportError):
        lms_exports.export(tmp_path, "canvas", roster=tmp_path / "grades.json")


def _cli(*args):
    import subprocess
    import sys

    from autograder_support import REPO

    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, timeout=300)


def test_the_class_commands_refuse_misuse_with_one_line(tmp_path):
    (tmp_path / "subs").mkdir()
    cases = [("similarity", tmp_path / "none", "--out", tmp_path / "o"),
             ("similarity", tmp_path / "subs", "--out", tmp_path / "o", "--threshold", "2"),
             ("similarity", tmp_path / "subs", "--out", tmp_path / "subs" / "o"),
             ("export", tmp_path, "--format", "plain"),
             ("report", tmp_path),
             ("grade", tmp_path / "subs", "--out", tmp_path / "o", "--common", "0")]
    for args in cases:
        done = _cli(*args)
        assert done.returncode == 2, (args, done.stderr)
        assert done.stderr.startswith("autograder: error: "), (args, done.stderr)
        assert len(done.stderr.strip().splitlines()) == 1, (args, done.stderr)
    (tmp_path / "grades.json").write_text(json.dumps({"max_points": {}, "grades": {}}))
    done = _cli("report", tmp_path)
    assert done.returncode == 2 and "older grader" in done.stderr


def test_the_measured_scale_is_the_points_tables(tmp_path, monkeypatch):
    """best_model's module declares its scale (TRAITS); the class report shows the scale
    the module holds when it runs, so an instructor edits one place."""
    from dataclasses import replace

    from fcnet.questions import best_model

    monkeypatch.setattr(best_model, "TRAITS", replace(best_model.TRAITS, scale=(0.4, 0.61)))
    _grades(tmp_path, {"bob": "passed"})
    section = class_report.write(tmp_path)["measured"]["best_model"]
    assert (section["no_points_below"], section["full_points_from"]) == (0.4, 0.61)
