"""Grades in the import formats of learning management systems, from grades.json.

    canvas   Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section,
             then one column for the assignment, and a "Points Possible" row. With
             `roster` (the gradebook CSV exported from Canvas) each student id is matched
             to its Canvas row by SIS Login ID, SIS User ID, ID or name, so Canvas
             recognises every student; without it the id goes in SIS Login ID.
    plain    two columns, the student id under `id_column` ("id" or "email") and the
             grade: what Moodle, Blackboard, Brightspace and most others import.

Grades are the total points, or with scale="percent" the share of the maximum in percent.
Every cell that could read as a spreadsheet formula is escaped (report.csv_cell).
"""
import csv
import json
import re
from pathlib import Path

from .report import csv_cell

FORMATS = ("canvas", "plain")
SCALES = ("points", "percent")
ID_COLUMNS = ("id", "email")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
_EMAIL = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


class ExportError(Exception):
    """The export cannot be written as asked (the CLI prints it and exits 2)."""


def grade_values(grades, scale):
    """{student: grade} and the maximum, in points or percent."""
    top = sum(grades["max_points"].values())
    if scale == "points":
        return {s: g["total"] for s, g in grades["grades"].items()}, top
    if scale == "percent":
        return {s: round(100 * g["total"] / top, 2) if top else 0.0
                for s, g in grades["grades"].items()}, 100
    raise ExportError(f"unknown scale {scale!r}; choose one of {', '.join(SCALES)}")


def export(out_dir, fmt, scale="points", id_column="id", assignment="Two-layer net",
           roster=None):
    """Write OUT/<fmt>_grades.csv from OUT/grades.json; return (path, warnings)."""
    out_dir = Path(out_dir)
    try:
        grades = json.loads((out_dir / "grades.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ExportError(f"{out_dir / 'grades.json'} could not be read ({err})") from None
    values, top = grade_values(grades, scale)
    path = out_dir / f"{fmt}_grades.csv"
    if fmt == "canvas":
        rows, warnings = canvas_rows(values, top, assignment, roster)
    elif fmt == "plain":
        rows, warnings = plain_rows(values, id_column)
    else:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        csv.writer(f).writerows([[csv_cell(c) for c in row] for row in rows])
    return path, warnings


def _number(value):
    return f"{value:g}"


def plain_rows(values, id_column):
    if id_column not in ID_COLUMNS:
        raise ExportError(f"unknown id column {id_column!r}; choose one of "
                          f"{', '.join(ID_COLUMNS)}")
    warnings = []
    if id_column == "email":
        odd = [s for s in values if not _EMAIL.match(s)]
        if odd:
            warnings.append(f"{len(odd)} student ids are not email addresses (e.g. "
                            f"{odd[0]!r}); the LMS will not match them")
    return [[id_column, "grade"]] + [[s, _number(v)] for s, v in values.items()], warnings


def canvas_rows(values, top, assignment, roster=None):
    header = [*CANVAS_IDENTITY, assignment]
    rows = [header, ["Points Possible", "", "", "", "", _number(top)]]
    if roster is None:
        rows += [["", "", "", s, "", _number(v)] for s, v in values.items()]
        return rows, ["no Canvas roster given: each student id was put in SIS Login ID; "
                      "pass the gradebook exported from Canvas (--roster) to match students"]
    people = read_roster(roster)
    warnings, matched = [], set()
    for student, value in values.items():
        person = match(student, people)
        if person is None:
            warnings.append(f"{student!r} is not in the Canvas roster; left out")
            continue
        matched.add(id(person))
        rows.append([person.get(k, "") for k in CANVAS_IDENTITY] + [_number(value)])
    missing = [p.get("Student", "") for p in people if id(p) not in matched]
    if missing:
        warnings.append(f"{len(missing)} students of the roster have no submission "
                        f"(their grade is left empty): {', '.join(missing[:5])}")
    return rows, warnings


def read_roster(path):
    """The student rows of a gradebook CSV exported from Canvas."""
    try:
        with open(path, newline="", encoding="utf-8-sig") as f:
            rows = list(csv.DictReader(f))
    except (OSError, UnicodeDecodeError, csv.Error) as err:
        raise ExportError(f"the roster {path} could not be read ({err})") from None
    if not rows or not {"Student", "SIS Login ID"} <= set(rows[0]):
        raise ExportError(f"the roster {path} is not a Canvas gradebook export (it needs "
                          f"the columns Student and SIS Login ID)")
    return [r for r in rows if (r.get("Student") or "").strip() not in
            ("", "Points Possible", "Student, Test")]


def match(student, people):
    """The roster row whose SIS Login ID, SIS User ID, ID or name is `student` (or is
    named in it, as in a Gradescope id "Name (sid)")."""
    key = student.strip().lower()
    inner = re.findall(r"\(([^()]+)\)", key)
    for column in ("SIS Login ID", "SIS User ID", "ID", "Student"):
        for person in people:
            value = (person.get(column) or "").strip().lower()
            if value and (value == key or value in inner):
                return person
    return None
