"""Writing the results: grades.csv, grades.json and one feedback page per student.

Feedback shows, per question, the points, every check with its outcome, the reason a
check failed (measured differences and shapes, never an expected value) and a hint in
words. It never contains hidden-test or answer-key code.
"""
import csv
import hashlib
import html
import json
import re
import sys
from pathlib import Path

from fcnet.chapters import QUESTION_IDS

from .points import QUESTION_POINTS
from .scoring import CRASHED, ERROR, PARTIAL, PASSED, UNEARNED

_MARK = {PASSED: "passed", PARTIAL: "partly passed"}
_CSS = {PASSED: "passed", PARTIAL: "partial", ERROR: "error", CRASHED: "crashed",
        UNEARNED: "unearned"}
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
    document = {
        "max_points": {q: QUESTION_POINTS[q] for q in questions},
        "grades": {student: {**{q: entry["results"][q].points for q in questions},
                             "total": total(entry["results"])}
                   for student, entry in grades.items()},
    }
    (out_dir / "grades.json").write_text(json.dumps(document, indent=2) + "\n",
                                         encoding="utf-8", errors=_ERRORS)
    names = feedback_names(grades)
    for student, entry in grades.items():
        try:
            write_feedback(feedback_dir, student, entry["results"], entry["notes"], questions,
                           name=names[student])
        except OSError as err:  # one student's page must not cost the others theirs
            print(f"feedback for {student!r} could not be written ({err.strerror or err})",
                  file=sys.stderr)


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
    max_total = sum(QUESTION_POINTS[q] for q in questions)
    lines = [f"# Feedback for {_md_name(student)}", "",
             f"**Total: {_number(total(results))} / {_number(max_total)}**", ""]
    if notes:
        lines += ["## About your submission", ""]
        lines += [f"- {_md(n)}" for n in notes] + [""]
    for qid in questions:
        result = results[qid]
        lines += [f"## {qid}: {_number(result.points)} / {_number(result.max_points)}", ""]
        for note in result.notes:
            lines.append(f"- Note: {_md(note)}")
        for check in result.checks:
            mark = "x" if check.status == PASSED else " "
            status = _MARK.get(check.status, check.status)
            line = f"- [{mark}] {_md(check.description)}: **{status}**"
            if check.status == PARTIAL:
                line += f" ({check.fraction:.0%} of this check)"
            if check.message and check.status != PASSED:
                line += f". {_md(check.message)}"
            if check.hint and check.status != PASSED:
                line += f"  \n  Hint: {_md(check.hint)}"
            lines.append(line)
        lines.append("")
    return "\n".join(lines)


def feedback_html(student, results, notes, questions=QUESTION_IDS):
    esc = html.escape
    max_total = sum(QUESTION_POINTS[q] for q in questions)
    parts = ["<!DOCTYPE html>", "<html lang=\"en\"><head><meta charset=\"utf-8\">",
             f"<title>Feedback for {esc(student)}</title>",
             "<style>body{font-family:sans-serif;max-width:50em;margin:2em auto;"
             "line-height:1.4}.passed{color:#17663a}.failed,.error,.crashed{color:#a31515}"
             ".partial,.unearned{color:#8a5a00}.hint{color:#444;font-style:italic}"
             "li{margin:.3em 0}</style></head><body>",
             f"<h1>Feedback for {esc(student)}</h1>",
             f"<p><strong>Total: {_number(total(results))} / {_number(max_total)}</strong></p>"]
    if notes:
        parts.append("<h2>About your submission</h2><ul>")
        parts += [f"<li>{esc(n)}</li>" for n in notes]
        parts.append("</ul>")
    for qid in questions:
        result = results[qid]
        parts.append(f"<h2>{esc(qid)}: {_number(result.points)} / "
                     f"{_number(result.max_points)}</h2><ul>")
        parts += [f"<li>Note: {esc(n)}</li>" for n in result.notes]
        for check in result.checks:
            css = _CSS.get(check.status, "failed")
            status = _MARK.get(check.status, check.status)
            item = (f"<li class=\"{esc(css)}\">{esc(check.description)}: "
                    f"<strong>{esc(status)}</strong>")
            if check.status == PARTIAL:
                item += f" ({check.fraction:.0%} of this check)"
            if check.message and check.status != PASSED:
                item += f". {esc(check.message)}"
            if check.hint and check.status != PASSED:
                item += f"<br><span class=\"hint\">Hint: {esc(check.hint)}</span>"
            parts.append(item + "</li>")
        parts.append("</ul>")
    parts.append("</body></html>")
    return "\n".join(parts) + "\n"


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


def _md_name(text):
    """A student id safe in a Markdown heading, as readable as can be: an underscore
    inside a word is never emphasis (CommonMark), so only the others are escaped."""
    return re.sub(r"(?<=[A-Za-z0-9])\\_(?=[A-Za-z0-9])", "_", _md(text))


def _md(text):
    """Plain text safe inside a Markdown list item (no HTML, no stray emphasis)."""
    text = " ".join(str(text).split())
    text = text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
    for char in ("\\", "`", "*", "_", "[", "]", "#"):
        text = text.replace(char, "\\" + char)
    return text
