"""Writing the results: grades.csv, grades.json and one feedback page per student.

Feedback shows, per question, the points, every check with its outcome, the reason a
check failed (measured differences and shapes, never an expected value) and a hint in
words. It never contains hidden-test or answer-key code. The pages are rendered from the
templates in autograder/templates/ (see autograder/rendering.py), the HTML page from the
Markdown one.

grades.json holds, besides the points, everything the class report (class_report.py)
reads: each student's notes, each question's check outcomes and notes; timings.json the
seconds each question took per student.
"""
import csv
import hashlib
import json
import re
import sys
from pathlib import Path

from fcnet.chapters import QUESTION_IDS
from markupsafe import Markup

from .points import QUESTION_POINTS
from .rendering import markdown_html, render
from .scoring import PARTIAL, PASSED

_STATUS_WORDS = {PASSED: "passed", PARTIAL: "partly passed"}
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
    max_total = sum(QUESTION_POINTS[q] for q in questions)
    points = round(sum(_get(results[q], "points") for q in questions), 2)
    return render("feedback.md.j2", student=student, total=points, max_total=max_total,
                  notes=list(notes), results=[results[q] for q in questions],
                  status_words=_STATUS_WORDS).rstrip("\n") + "\n"


def feedback_html(student, results, notes, questions=QUESTION_IDS):
    """The same page as HTML: the Markdown rendered by markdown-it-py, raw HTML off."""
    body = markdown_html(feedback_markdown(student, results, notes, questions))
    return render("feedback.html.j2", student=student, body=Markup(body))  # escaped by markdown-it-py already


def _get(result, key):
    return result[key] if isinstance(result, dict) else getattr(result, key)


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
