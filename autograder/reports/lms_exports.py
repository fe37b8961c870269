"""Grades in the import formats of learning management systems, from grades.json.

    canvas   Canvas's gradebook import: Student, ID, SIS User ID, SIS Login ID, Section,
             then one column for the assignment, and a "Points Possible" row. With
             `roster` (the gradebook CSV exported from Canvas) each student is matched
             to its Canvas row exactly, so Canvas recognises every student; without it
             the id goes in SIS Login ID.
    plain    two columns, the student id under `id_column` ("id" or "email") and the
             grade: what Moodle, Blackboard, Brightspace and most others import.

Who a grade belongs to: for a Gradescope export, each submitter's sid and email as its
submission_metadata.yml states them (grades.json keeps them, "submitters"), never the
display name, which students choose ("Zoe Mallory (aadams)" is not aadams); for the other
layouts, the student id (the folder or zip name the instructor has). A roster row is the
one whose SIS User ID, SIS Login ID or ID equals one of those, exactly (emails ignoring
case). Two submissions for one roster row are refused, naming both.

Grades are the total points, or with scale="percent" the share of the maximum in percent.
Every cell that could read as a spreadsheet formula is escaped (results.csv_cell).
"""
import csv
import json
import re
from pathlib import Path

from .results import csv_cell

FORMATS = ("canvas", "plain")
SCALES = ("points", "percent")
ID_COLUMNS = ("id", "email")
CANVAS_IDENTITY = ("Student", "ID", "SIS User ID", "SIS Login ID", "Section")
ROSTER_IDS = ("SIS User ID", "SIS Login ID", "ID")   # Canvas's id columns, in that order
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
    who = {student: entry.get("submitters") or []
           for student, entry in (grades.get("students") or {}).items()}
    path = out_dir / f"{fmt}_grades.csv"
    if fmt == "canvas":
        rows, warnings = canvas_rows(values, top, assignment, roster, who)
    elif fmt == "plain":
        rows, warnings = plain_rows(values, id_column, who)
    else:
        raise ExportError(f"unknown format {fmt!r}; choose one of {', '.join(FORMATS)}")
    with open(path, "w", newline="", encoding="utf-8", errors="backslashreplace") as f:
        csv.writer(f).writerows([[csv_cell(c) for c in row] for row in rows])
    return path, warnings


def _number(value):
    return f"{value:g}"


def plain_rows(values, id_column, who=None):
    """Rows of the plain format: a Gradescope submission gives one row per submitter,
    under their sid or email; any other submission one row under its id."""
    if id_column not in ID_COLUMNS:
        raise ExportError(f"unknown id column {id_column!r}; choose one of "
                          f"{', '.join(ID_COLUMNS)}")
    field = "sid" if id_column == "id" else "email"
    rows, warnings, owner = [[id_column, "grade"]], [], {}
    for student, value in values.items():
        people = (who or {}).get(student) or []
        ids = [p.get(field) for p in people if p.get(field)] if people else [student]
        if len(ids) < max(len(people), 1):
            warnings.append(f"{student!r}: Gradescope's metadata gives no {field} for "
                            f"every submitter; left out")
        for i in ids:
            if _key(i) in owner:
                raise ExportError(
                    f"two submissions give a grade to {i!r}: {owner[_key(i)]!r} and "
                    f"{student!r}; nothing was written. Check both submissions' sid and "
                    f"email in Gradescope, then export again")
            owner[_key(i)] = student
            rows.append([i, _number(value)])
    if id_column == "email":
        odd = [r[0] for r in rows[1:] if not _EMAIL.match(r[0])]
        if odd:
            warnings.append(f"{len(odd)} student ids are not email addresses (e.g. "
                            f"{odd[0]!r}); the LMS will not match them")
    return rows, warnings


def canvas_rows(values, top, assignment, roster=None, who=None):
    header = [*CANVAS_IDENTITY, assignment]
    rows = [header, ["Points Possible", "", "", "", "", _number(top)]]
    if roster is None:
        rows += [["", "", "", s, "", _number(v)] for s, v in values.items()]
        return rows, ["no Canvas roster given: each student id was put in SIS Login ID; "
                      "pass the gradebook exported from Canvas (--roster) to match students"]
    people = read_roster(roster)
    warnings, owner = [], {}
    for student, value in values.items():
        for keys, columns, shown in _identities(student, (who or {}).get(student)):
            person = match(keys, people, columns)
            if person is None:
                warnings.append(f"{shown} is not in the Canvas roster (no "
                                f"{' or '.join(columns)} is {' or '.join(map(repr, keys))}); "
                                f"the grade of {student!r} is left out for them")
                continue
            if id(person) in owner:
                raise ExportError(
                    f"two submissions match the Canvas student {person.get('Student')!r}: "
                    f"{owner[id(person)]!r} and {student!r}; nothing was written. Check "
                    f"both students' sid and email in Gradescope, then export again")
            owner[id(person)] = student
            rows.append([person.get(k, "") for k in CANVAS_IDENTITY] + [_number(value)])
    missing = [p.get("Student", "") for p in people if id(p) not in owner]
    if missing:
        warnings.append(f"{len(missing)} students of the roster have no submission "
                        f"(their grade is left empty): {', '.join(missing[:5])}")
    return rows, warnings


def _identities(student, submitters):
    """[(exact keys, roster columns, how to name them)] for one submission: each
    Gradescope submitter's sid and email, looked up as an institution's ids (SIS User ID,
    SIS Login ID: Canvas's own ID is another numbering, which a sid could equal), or, in
    the other layouts, the student id itself in any id column."""
    if not submitters:
        return [([student.strip()], ROSTER_IDS, repr(student))]
    found = []
    for person in submitters:
        keys = [k for k in (person.get("sid"), person.get("email")) if k]
        if keys:
            found.append((keys, ROSTER_IDS[:2],
                          f"{person.get('name', '')!r} ({', '.join(keys)})"))
    return found


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


def match(keys, people, columns=ROSTER_IDS):
    """The one roster row one of whose `columns` equals one of `keys` exactly (an email
    ignoring case), or None. Never a part of a name: a display name is the student's
    choice. Raises ExportError when two rows match."""
    wanted = {_key(k) for k in keys if k and k.strip()}
    found = [p for p in people
             if any(_key(p.get(column) or "") in wanted for column in columns)]
    if len(found) > 1:
        raise ExportError(f"{' or '.join(map(repr, keys))} matches {len(found)} students "
                          f"of the Canvas roster ("
                          f"{', '.join(repr(p.get('Student')) for p in found)}); "
                          f"nothing was written")
    return found[0] if found else None


def _key(value):
    value = value.strip()
    return value.lower() if "@" in value else value
