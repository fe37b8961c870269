"""The class report, similarity screening and LMS exports on a generated class of 39.

One run of `python -m autograder grade ... --similarity --export canvas` (the real
command, the real sandbox) grades the class of tests/class_submissions.py: honest
students with realistic mistakes in known numbers, missing chapters, a timeout, a damaged
and a renamed notebook, two untouched starter notebooks, and two planted copies (one with
renamed variables and reordered functions, one with changed comments). The tests then
hold the report against grades.json and the plan, and open the page in Chromium.
"""
import csv
import json
import statistics
import subprocess
import sys
from pathlib import Path

import pytest

from autograder_support import REPO
from class_submissions import MISTAKES, QUESTIONS, write_class
from ci_rules import require

pytestmark = [pytest.mark.slow]

SCREENSHOTS = REPO / "_build" / "screenshots"
TIMEOUT = 20  # seconds per question: the looping student's costs this, the others far less


def run(*args):
    return subprocess.run([sys.executable, "-m", "autograder", *map(str, args)],
                          capture_output=True, text=True, cwd=REPO, timeout=1200)


@pytest.fixture(scope="module")
def graded(tmp_path_factory, sandbox):
    """(plan, OUT) of the whole class, graded once with screening and a Canvas export."""
    root = tmp_path_factory.mktemp("class")
    plan = write_class(root / "submissions")
    out = root / "out"
    done = run("grade", root / "submissions", "--out", out, "--questions",
               ",".join(QUESTIONS), "--timeout", TIMEOUT, "--workers", "2", "--no-progress",
               "--similarity", "--export", "canvas")
    assert done.returncode == 0, done.stderr
    assert "class report:" in done.stdout and "similarity:" in done.stdout
    return plan, out


def _json(out, name):
    return json.loads((out / name).read_text(encoding="utf-8"))


def test_the_class_is_big_enough(graded):
    plan, out = graded
    assert len(plan.students) >= 30
    assert sorted(_json(out, "grades.json")["grades"]) == plan.students


def test_the_report_numbers_are_those_of_grades_json(graded):
    _, out = graded
    grades, report = _json(out, "grades.json"), _json(out, "report.json")
    students = list(grades["grades"])
    totals = [grades["grades"][s]["total"] for s in students]
    assert report["students"] == len(students)
    assert report["totals"]["values"] == totals
    assert report["totals"]["mean"] == pytest.approx(statistics.fmean(totals), abs=1e-3)
    assert report["totals"]["median"] == pytest.approx(statistics.median(totals))
    for qid in QUESTIONS:
        points = [grades["grades"][s][qid] for s in students]
        assert report["questions"][qid]["values"] == points
        assert report["questions"][qid]["mean"] == pytest.approx(statistics.fmean(points),
                                                                 abs=1e-3)
        assert report["questions"][qid]["median"] == pytest.approx(statistics.median(points))
    for row in report["checks"]:
        outcomes = [c for s in students for c in
                    grades["students"][s]["questions"][row["question"]]["checks"]
                    if c["name"] == row["check"]]
        passed = sum(c["status"] == "passed" for c in outcomes)
        unanswered = sum(c["status"] == "not answered" for c in outcomes)
        assert (row["passed"], row["not_answered"], row["failed"]) == \
            (passed, unanswered, len(outcomes) - passed - unanswered)
        assert sum(h["failed"] for h in row["hints"]) == row["failed"]
    rates = [row["pass_rate"] for row in report["checks"]]
    assert rates == sorted(rates), "checks are not ordered from most to least failed"


def test_each_planted_mistake_is_one_cluster_of_the_right_size(graded):
    plan, out = graded
    mistakes = _json(out, "report.json")["mistakes"]
    questions = {"affine_backward": "db_averaged", "relu_forward": "relu_in_place",
                 "softmax_loss": "softmax_unshifted", "two_layer_net": "no_regularisation",
                 "sgd": "sgd_default_rate"}
    for qid, mistake in questions.items():
        group = plan.mistakes[mistake]
        assert len(group) == MISTAKES[mistake][2]
        found = [c for c in mistakes if c["question"] == qid and group[0] in c["students"]]
        assert len(found) == 1, (mistake, found)
        elsewhere = [c for c in mistakes if c["question"] == qid and c is not found[0]
                     and set(group) & set(c["students"])]
        assert found[0]["count"] == len(group), (mistake, found[0], elsewhere)
        assert sorted(found[0]["students"]) == sorted(group), (mistake, found[0])
        # the cluster is named by the grader's diagnosis of that mistake (fcnet.mistakes)
        assert set(found[0]["diagnosis"]) == DIAGNOSES[mistake], (mistake, found[0])
        assert found[0]["hints"], f"{mistake}: the cluster does not say what the mistake is"


# What the grader names each planted mistake (tests/lms_submissions.WRONG's versions).
DIAGNOSES = {"db_averaged": {"db_averaged"}, "relu_in_place": {"relu_in_place"},
             "softmax_unshifted": {"softmax_no_max_shift"},
             "no_regularisation": {"reg_missing_in_gradient"},
             "sgd_default_rate": {"sgd_wrong_default_rate"}}


def test_the_planted_copies_are_the_top_two_pairs(graded):
    plan, out = graded
    similarity = _json(out, "similarity.json")
    pairs = similarity["pairs"]
    top = {frozenset((p["student_a"], p["student_b"])) for p in pairs[:2]}
    assert top == {frozenset(pair) for pair in plan.copies}
    assert all(p["score"] >= similarity["threshold"] for p in pairs[:2])
    assert all(p["score"] < similarity["threshold"] for p in pairs[2:])
    with open(out / "similarity.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0] == ["student_a", "student_b", "score", *similarity["questions"]]
    scores = [float(r[2]) for r in rows[1:]]
    assert scores == sorted(scores, reverse=True)
    page = (out / "similarity.html").read_text(encoding="utf-8")
    assert "not proof" in page
    assert "relu_forward" in similarity["short_questions"]  # "the score means little"
    assert "two_layer_net" not in similarity["short_questions"]
    assert f"For {', '.join(similarity['short_questions'])}, most answers are a few" in page
    for pair in plan.copies:
        assert all(student in page for student in pair)


def test_pairs_that_share_only_the_starter_code_are_not_flagged(graded):
    plan, out = graded
    similarity = _json(out, "similarity.json")
    scores = {frozenset((p["student_a"], p["student_b"])): p["score"]
              for p in similarity["pairs"]}
    stub_pair = frozenset(plan.stubs)
    assert scores.get(stub_pair, 0.0) < similarity["threshold"]
    for stub in plan.stubs:  # a stub shares nothing of its own with anybody
        assert not [pair for pair in scores if stub in pair]


def test_grading_health_names_every_problem_with_its_feedback(graded):
    plan, out = graded
    health = _json(out, "report.json")["health"]

    def listed(kind):
        return {row["student"]: row for row in health[kind]}

    assert "relu_backward" in listed("timeouts")[plan.timeout]["items"]
    # Students who handed in the starter notebooks: not answered, never a mistake.
    for stub in plan.stubs:
        assert sorted(listed("not_answered")[stub]["items"]) == sorted(QUESTIONS)
    clustered = {s for c in _json(out, "report.json")["mistakes"] for s in c["students"]}
    assert not clustered & set(plan.stubs)
    assert set(listed("timeouts")) == {plan.timeout}
    missing = listed("missing")
    for student, files in plan.missing.items():
        assert files == missing[student]["items"]
    assert plan.damaged in listed("unreadable")
    assert any("Copy of 02_relu.ipynb" in item for item in listed("renamed")[plan.renamed]["items"])
    for rows in health.values():
        for row in rows:
            assert (out / row["feedback"]).is_file()
    page = (out / "report.html").read_text(encoding="utf-8")
    assert 'href="feedback/s_timeout.html"' in page
    assert 'href="similarity.html"' in page
    seconds = _json(out, "report.json")["seconds"]
    assert seconds["relu_backward"]["max"] >= TIMEOUT  # the timeout, measured


def test_the_canvas_export_has_every_student(graded):
    plan, out = graded
    with open(out / "canvas_grades.csv", newline="", encoding="utf-8") as f:
        rows = list(csv.reader(f))
    assert rows[0][:5] == ["Student", "ID", "SIS User ID", "SIS Login ID", "Section"]
    assert rows[1][0] == "Points Possible"
    totals = _json(out, "grades.json")["grades"]
    assert {r[3]: float(r[5]) for r in rows[2:]} == {s: g["total"] for s, g in totals.items()}


def test_the_report_command_rebuilds_the_same_numbers(graded, tmp_path):
    import shutil

    _, out = graded
    copy = tmp_path / "out"
    shutil.copytree(out, copy)
    (copy / "report.html").unlink()
    (copy / "report.json").unlink()
    done = run("report", copy)
    assert done.returncode == 0, done.stderr
    assert _json(copy, "report.json") == _json(out, "report.json")
    assert (copy / "report.html").is_file()
    assert run("report", tmp_path / "nothing").returncode == 2


# ----------------------------------------------------------------------------- browser

from test_book_browser import CHROMIUM, CHROMIUM_ARGS  # noqa: E402  (one home for both)


@pytest.mark.browser
@pytest.mark.parametrize("page", ["report.html", "similarity.html"])
def test_the_pages_load_in_chromium_offline(graded, page):
    if not CHROMIUM.exists():
        require("browser", "Debian's chromium is not installed (apt-get install chromium)")
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        require("browser", "playwright is not installed")
    _, out = graded
    errors, requests = [], []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=str(CHROMIUM), args=CHROMIUM_ARGS,
                                    headless=True)
        try:
            tab = browser.new_page(viewport={"width": 1280, "height": 900})
            tab.on("console", lambda m: errors.append(m.text) if m.type == "error" else None)
            tab.on("pageerror", lambda e: errors.append(str(e)))
            tab.on("request", lambda r: requests.append(r.url))
            tab.goto((out / page).as_uri())
            tab.wait_for_load_state("load")
            images = tab.eval_on_selector_all(
                "img", "els => els.map(e => [e.alt, e.complete && e.naturalWidth > 0])")
            SCREENSHOTS.mkdir(parents=True, exist_ok=True)
            tab.screenshot(path=str(SCREENSHOTS / f"class_{Path(page).stem}.png"),
                           full_page=True)
        finally:
            browser.close()
    assert not errors, errors
    assert all(url.startswith(("file:", "data:")) for url in requests), requests
    if page == "report.html":
        assert len(images) >= 4, images
    assert all(loaded and alt for alt, loaded in images), images
