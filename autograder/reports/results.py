"""Writing the results: grades.csv, grades.json and one feedback page per student.

Feedback shows, per question, the points, the named mistake in words, each hint once,
then every check with its outcome (symbol, word and colour), the reason a check failed
(measured differences and shapes, never an expected value) and the student's own error.
It never contains hidden-test or answer-key code, nor an internal id. Both pages are
rendered from one set of data (`feedback_page`) by the templates in
autograder/reports/templates/ (see autograder/reports/rendering.py).

grades.json holds, besides the points, everything the class report (class_report.py)
reads: each student's notes, each question's check outcomes and notes; timings.json the
seconds each question took per student.
"""
import csv
import hashlib
import json
import re
import sys
from collections import Counter
from pathlib import Path

from fcnet.chapters import QUESTION_IDS

from ..points import QUESTION_POINTS
from .rendering import render
from ..scoring import CRASHED, ERROR, FAILED, NOT_DONE, PARTIAL, PASSED, UNEARNED
# A student id taken from a file name that is not valid UTF-8 holds surrogate escapes;
# they are written as \udcxx rather than stopping the whole report.
_ERRORS = "backslashreplace"
# Feedback file names: the student id when it is short and plain, else a plain prefix of
# it and a hash of the whole id (NAME_MAX is 255 bytes; ids come from folder, zip and
# Gradescope names, which students choose).
_PLAIN_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9 ._()+@,-]{0,99}")
_PREFIX = 60


def csv_cell(text):
    """`text` safe in a spreadsheet cell: a leading =, +, -, @ (or tab, carriage return)
    would make Excel, LibreOffice or Google Sheets read it as a formula, so such a cell
    gets a leading apostrophe (OWASP's advice on CSV injection)."""
    text = str(text)
    return "'" + text if text.startswith(("=", "+", "-", "@", "\t", "\r")) else text


def _number(points):
    return f"{points:g}"


def total(results):
    return round(sum(r.points for r in results.values()), 2)


def write_all(out_dir, grades, sandbox_line, questions=QUESTION_IDS):
    """grades: {student: {qid: QuestionResult}} plus `notes` per student (see engine)."""
    out_dir = Path(out_dir)
    feedback_dir = out_dir / "feedback"
    feedback_dir.mkdir(parents=True, exist_ok=True)
    with open(out_dir / "grades.csv", "w", newline="", encoding="utf-8",
              errors=_ERRORS) as f:
        writer = csv.writer(f)
        writer.writerow(["student", *questions, "total"])
        for student, entry in grades.items():
            results = entry["results"]
            points = [_number(results[q].points) for q in questions]
            writer.writerow([csv_cell(student), *points, _number(total(results))])
    names = feedback_names(grades)
    document = grades_document(grades, sandbox_line, questions, names)
    (out_dir / "grades.json").write_text(json.dumps(document, indent=2) + "\n",
                                         encoding="utf-8", errors=_ERRORS)
    timings = {student: {q: round(s, 3) for q, s in entry.get("seconds", {}).items()}
               for student, entry in grades.items()}
    (out_dir / "timings.json").write_text(json.dumps(timings, indent=2) + "\n",
                                          encoding="utf-8", errors=_ERRORS)
    for student, entry in grades.items():
        try:
            write_feedback(feedback_dir, student, entry["results"], entry["notes"], questions,
                           name=names[student])
        except OSError as err:  # one student's page must not cost the others theirs
            print(f"feedback for {student!r} could not be written ({err.strerror or err})",
                  file=sys.stderr)


def grades_document(grades, sandbox_line, questions, names):
    """The content of grades.json.

    "max_points" and "grades" (points per question and the total) are what every route
    compares; "students" adds, per student, the feedback file stem, the notes about the
    submission, who handed it in ("submitters": a Gradescope export's name, sid and
    email, which exports match on; empty in the other layouts) and each question's result (QuestionResult.as_dict: points, check
    outcomes, notes). Re-running gives the same file; the seconds each question took,
    which vary from run to run, are in timings.json.
    """
    return {
        "max_points": {q: QUESTION_POINTS[q] for q in questions},
        "grades": {student: {**{q: entry["results"][q].points for q in questions},
                             "total": total(entry["results"])}
                   for student, entry in grades.items()},
        "sandbox": sandbox_line,
        "students": {student: {
            "feedback": names[student],
            "notes": [str(n) for n in entry["notes"]],
            "submitters": entry.get("submitters", []),
            "questions": {q: entry["results"][q].as_dict() for q in questions},
        } for student, entry in grades.items()},
    }


def feedback_names(students):
    """{student id: file name stem for feedback/}: the id itself when it is plain and
    short, else a plain prefix of it and 10 hex digits of its SHA-256. Unique among
    `students` even on case-insensitive file systems."""
    names, taken = {}, set()
    for student in students:
        text = str(student)
        if _PLAIN_NAME.fullmatch(text) and not text.endswith((" ", ".")):
            stem = text
        else:
            digest = hashlib.sha256(text.encode("utf-8", "surrogateescape")).hexdigest()
            prefix = re.sub(r"[^A-Za-z0-9._-]+", "_", text)[:_PREFIX].strip("._")
            stem = f"{prefix or 'student'}-{digest[:10]}"
        base, n = stem, 1
        while stem.lower() in taken:
            n += 1
            stem = f"{base}-{n}"
        taken.add(stem.lower())
        names[student] = stem
    return names


def feedback_markdown(student, results, notes, questions=QUESTION_IDS):
    """The feedback page in Markdown. `results`: {qid: QuestionResult or its as_dict()}."""
    return render("feedback.md.j2", page=feedback_page(student, results, notes, questions)
                  ).rstrip("\n") + "\n"


def feedback_html(student, results, notes, questions=QUESTION_IDS):
    """The same page in HTML, from the same data (autoescaped: ids and texts are data)."""
    return render("feedback.html.j2", page=feedback_page(student, results, notes, questions))


def _get(result, key, default=None):
    if isinstance(result, dict):
        return result.get(key, default)
    return getattr(result, key, default)


# Each check status as the page shows it: a symbol, a word, and a style (colour) class,
# so the status reads without colour.
_STATUS_LOOK = {
    PASSED: ("\u2713", "passed", "pass"),
    PARTIAL: ("\u25d1", "partly passed", "partial"),
    FAILED: ("\u2717", "failed", "fail"),
    ERROR: ("\u2717", "error", "fail"),
    CRASHED: ("\u2717", "stopped", "fail"),
    NOT_DONE: ("\u25cb", "not answered", "todo"),
    UNEARNED: ("\u2298", "not counted", "uncounted"),
}
# Longest message or error text a page shows; longer ones end at a sentence or word.
MAX_SHOWN = 400

# Words for the measures the probes return (QuestionResult.measures), for feedback pages.
MEASURE_WORDS = {
    "accuracy_test": "accuracy on the 10,000 CIFAR-10 test images",
    "accuracy_test_mirrored": "accuracy on the same images, mirrored",
    "accuracy_training_sample": "accuracy on 10,000 training images",
}


def bounded(text, limit=MAX_SHOWN):
    """`text` on one line, at most `limit` characters, never cut inside a word: when it
    must be cut, at the last sentence end that keeps half of it, else at a space, with
    an ellipsis."""
    text = " ".join(str(text).split())
    if len(text) <= limit:
        return text
    head = text[:limit]
    sentence = max(head.rfind(". "), head.rfind("; "))
    cut = sentence + 1 if sentence >= limit // 2 else head.rfind(" ")
    return (head[:cut] if cut > 0 else head).rstrip(" ,;:") + " \u2026"


def feedback_page(student, results, notes, questions=QUESTION_IDS):
    """What a feedback page shows, as plain data for both templates.

    Per question: its points and state, the named mistakes in plain words (each once),
    the hints (each once, not once per failed check), then every check with its status
    as symbol, word and style, and what went wrong (the student's exception type and
    message included). A note that several questions carry (a damaged chapter, say) is
    shown once, at the top. No internal id (a check's or a mistake's name) is shown.
    """
    per_question = [[str(n) for n in _get(results[q], "notes", [])] for q in questions]
    counts = Counter(n for notes_of in per_question for n in dict.fromkeys(notes_of))
    shared = [n for n, count in counts.items() if count > 1]
    top = list(dict.fromkeys([str(n) for n in notes] + shared))
    pages = [question_page(results[q], [n for n in notes_of if counts[n] == 1], top)
             for q, notes_of in zip(questions, per_question)]
    return {"student": student,
            "total": round(sum(_get(results[q], "points") for q in questions), 2),
            "max_total": sum(QUESTION_POINTS[q] for q in questions),
            "notes": [bounded(n, 2 * MAX_SHOWN) for n in top], "questions": pages}


def question_page(result, notes, top_notes=()):
    """One question's part of feedback_page (also nbgrader's and otter's text)."""
    checks = [c if isinstance(c, dict) else {**vars(c), "requires": list(c.requires)}
              for c in _get(result, "checks", [])]
    points, max_points = _get(result, "points"), _get(result, "max_points")
    reason = _unanswered_reason(result, checks, top_notes)
    mistakes, hints, errors = {}, {}, {}
    for check in checks:
        if check["status"] in (PASSED, UNEARNED, NOT_DONE):
            continue
        if check["status"] == ERROR and check.get("error_type"):
            errors.setdefault((check["error_type"],
                               bounded(check.get("error_message", ""), 300)), None)
        if check.get("diagnosis"):
            mistakes.setdefault(check.get("hint", ""), check.get("diagnosis_title", ""))
        elif check.get("hint") and check["status"] != ERROR:  # the error comes first
            hints.setdefault(check["hint"], None)
    statuses = {c["status"] for c in checks}
    state = ("pass" if points >= max_points else "todo" if statuses <= {NOT_DONE}
             else "partial" if points > 0 else "fail")
    measures = _get(result, "measures", {}) or {}
    return {"qid": _get(result, "qid"), "points": points, "max_points": max_points,
            "state": state, "reason": reason,
            "errors": [{"type": t, "message": m} for t, m in errors],
            "mistakes": [{"title": t, "explanation": e} for e, t in mistakes.items()],
            "hints": list(hints), "notes": [bounded(n) for n in notes],
            "measures": [{"words": MEASURE_WORDS.get(k, k.replace("_", " ")), "value": v}
                         for k, v in measures.items()],
            "checks": [_check_line(c, reason) for c in checks]}


def _unanswered_reason(result, checks, top_notes=()):
    """One sentence for a question none of whose checks could run for the same reason
    (its file missing or unreadable, no definitions): said once, not under each check;
    a reason the top of the page already gives is referred to, not repeated."""
    name, why = _get(result, "file"), _get(result, "unreadable")
    if _get(result, "missing"):
        return f"{name} is not in your submission."
    if why:
        if why in top_notes:
            return f"{name} could not be used (see \u201cAbout your submission\u201d above)."
        return bounded(why) if name in why else f"{name} could not be used: {bounded(why)}"
    messages = {c.get("message", "") for c in checks}
    if checks and {c["status"] for c in checks} == {NOT_DONE} and len(messages) == 1:
        return bounded(messages.pop())
    return ""


def _check_line(check, reason):
    symbol, word, style = _STATUS_LOOK.get(check["status"], ("?", check["status"], "fail"))
    line = {"description": check["description"], "symbol": symbol, "word": word,
            "style": style, "message": "", "fraction": None}
    if check["status"] == PARTIAL:
        line["fraction"] = check.get("fraction", 0.0)
    said_above = (check["status"] == ERROR and check.get("error_type")  # the error box
                  or check["status"] == NOT_DONE and reason)            # the reason
    if check["status"] != PASSED and check.get("message") and not said_above:
        line["message"] = bounded(check["message"])
    return line


def write_feedback(feedback_dir, student, results, notes, questions=QUESTION_IDS, name=None):
    """feedback/<name>.md and .html; `name` defaults to feedback_names' choice for one id."""
    name = name or feedback_names([student])[student]
    folder = Path(feedback_dir)
    (folder / (name + ".md")).write_text(
        feedback_markdown(student, results, notes, questions), encoding="utf-8",
        errors=_ERRORS)
    (folder / (name + ".html")).write_text(
        feedback_html(student, results, notes, questions), encoding="utf-8",
        errors=_ERRORS)
