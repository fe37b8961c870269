"""The class report: how the class did, where it got stuck, what went wrong while grading.

`write(out_dir)` reads what a finished run of `python -m autograder grade` left in
`out_dir` (grades.json, timings.json and, when screening ran, similarity.json) and writes

    report.json   every number of the report, for anyone's own analysis
    report.html   one self-contained page (figures inlined, no script, works offline)

`summarize` computes the numbers from those files alone, so `python -m autograder report
OUT` rebuilds the same page from a finished run. The figures are in class_figures.py.
"""
import json
import re
import statistics
from collections import defaultdict
from pathlib import Path

from .points import BEST_MODEL_FULL, BEST_MODEL_ZERO

# The statuses of scoring.py, as strings: the report reads plain JSON.
PASSED, PARTIAL, NOT_DONE, CRASHED, UNEARNED = (
    "passed", "partial", "not answered", "crashed", "not counted")
# What a finished run's grades.json notes look like (engine, submissions, grading).
ACCURACY = re.compile(r"test accuracy of best_model\.npz: ([0-9.]+)")
TIMEOUT = re.compile(r"longer than the time limit|CPU time limit")
MISSING = re.compile(r"^no (\S+) in the submission$")
RENAMED = re.compile(r" was used as | different copies of ")
UNREADABLE = re.compile(r"could not be read|not a readable zip|not valid|may be damaged|"
                        r"is not a (text file|Jupyter notebook)|encrypted|was refused|"
                        r"no cells")


class ReportError(Exception):
    """OUT is not a finished grading run (the CLI prints it and exits 2)."""


def load(out_dir):
    """(grades.json, timings.json or {}, similarity.json or None) of a finished run."""
    out_dir = Path(out_dir)
    try:
        grades = json.loads((out_dir / "grades.json").read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ReportError(f"{out_dir / 'grades.json'} could not be read ({err}); run "
                          f"python -m autograder grade first") from None
    if "students" not in grades:
        raise ReportError(f"{out_dir / 'grades.json'} was written by an older grader "
                          f"without check outcomes; grade again to get a report")
    timings, similarity = {}, None
    if (out_dir / "timings.json").is_file():
        timings = json.loads((out_dir / "timings.json").read_text(encoding="utf-8"))
    if (out_dir / "similarity.json").is_file():
        similarity = json.loads((out_dir / "similarity.json").read_text(encoding="utf-8"))
    return grades, timings, similarity


def summarize(grades, timings=None, similarity=None):
    """Every number of the class report, as plain JSON data."""
    max_points = grades["max_points"]
    students = grades["students"]
    totals = [grades["grades"][s]["total"] for s in students]
    return {
        "students": len(students),
        "max_total": round(sum(max_points.values()), 2),
        "totals": {**_stats(totals), "values": totals},
        "questions": {q: {**_stats([grades["grades"][s][q] for s in students]),
                          "max_points": max_points[q],
                          "values": [grades["grades"][s][q] for s in students]}
                      for q in max_points},
        "checks": check_pass_rates(students, max_points),
        "mistakes": common_mistakes(students, max_points),
        "health": grading_health(students, timings or {}),
        "seconds": question_seconds(timings or {}, max_points),
        "best_model": best_model_accuracies(students),
        "similarity": similarity_summary(similarity),
        "feedback": {s: f"feedback/{e['feedback']}.html" for s, e in students.items()},
    }


def _stats(values):
    if not values:
        return {"mean": None, "median": None, "min": None, "max": None}
    return {"mean": round(statistics.fmean(values), 3),
            "median": round(statistics.median(values), 3),
            "min": min(values), "max": max(values)}


def check_pass_rates(students, max_points):
    """Per hidden check: the share of students who passed it; most failed first."""
    rows = {}
    for entry in students.values():
        for qid in max_points:
            for check in entry["questions"][qid]["checks"]:
                row = rows.setdefault((qid, check["name"]), {
                    "question": qid, "check": check["name"],
                    "description": check["description"], "hint": "",
                    "passed": 0, "failed": 0})
                if check["status"] == PASSED:
                    row["passed"] += 1
                else:
                    row["failed"] += 1
                    row["hint"] = row["hint"] or check.get("hint", "")
    for row in rows.values():
        row["pass_rate"] = round(row["passed"] / max(1, row["passed"] + row["failed"]), 4)
    return sorted(rows.values(), key=lambda r: (r["pass_rate"], r["question"], r["check"]))


def mistake_key(qid, checks):
    """What a failing answer to `qid` has in common with others: its named mistake (the
    checks' `diagnosis`) when the grader names one, else which checks failed and the
    hints they gave. None when the answer did not fail, or was not answered at all."""
    failed = [c for c in checks if c["status"] not in (PASSED, UNEARNED)]
    if not failed or all(c["status"] == NOT_DONE for c in checks):
        return None
    diagnoses = sorted({c.get("diagnosis", "") for c in failed} - {""})
    if diagnoses:
        return (qid, "diagnosis", tuple(diagnoses))
    return (qid, "checks", tuple((c["name"], c["status"] == CRASHED, c.get("hint", ""))
                                 for c in failed))


def common_mistakes(students, max_points):
    """Failing students of each question, clustered by mistake_key; largest first."""
    clusters = defaultdict(list)
    for student, entry in students.items():
        for qid in max_points:
            key = mistake_key(qid, entry["questions"][qid]["checks"])
            if key is not None:
                clusters[key].append(student)
    found = []
    for (qid, kind, parts), members in clusters.items():
        checks = {c["name"]: c for c in students[members[0]]["questions"][qid]["checks"]}
        if kind == "diagnosis":  # the hint of a diagnosed check is the mistake's explanation
            label, failed = "; ".join(p.replace("_", " ") for p in parts), []
            hints = sorted({c.get("hint", "") for c in checks.values()
                            if c.get("diagnosis") in parts} - {""})
        else:
            failed = [checks[name]["description"] for name, _, _ in parts]
            hints = sorted({hint for _, _, hint in parts if hint})
            stopped = all(crashed for _, crashed, _ in parts)
            label = ("stopped (time limit or crash) in: " if stopped else "failed: ") + \
                "; ".join(failed)
        found.append({"question": qid, "kind": kind, "label": label,
                      "diagnosis": list(parts) if kind == "diagnosis" else [],
                      "checks": [name for name, _, _ in parts] if kind == "checks" else [],
                      "failed": failed, "hints": hints, "count": len(members),
                      "students": sorted(members)})
    return sorted(found, key=lambda c: (-c["count"], c["question"], c["label"]))


def grading_health(students, timings):
    """Submissions the grading had trouble with, per kind, each with its feedback page."""
    kinds = {"timeouts": [], "crashes": [], "missing": [], "unreadable": [], "renamed": []}
    for student, entry in students.items():
        link = f"feedback/{entry['feedback']}.html"
        found = defaultdict(list)
        for qid, result in entry["questions"].items():
            texts = list(result["notes"]) + [c["message"] for c in result["checks"]]
            statuses = {c["status"] for c in result["checks"]}
            if any(TIMEOUT.search(t) for t in texts):
                found["timeouts"].append(qid)
            elif CRASHED in statuses:
                found["crashes"].append(qid)
            if statuses == {NOT_DONE}:
                message = result["checks"][0]["message"]
                missing = MISSING.match(message)
                if missing:
                    found["missing"].append(missing.group(1))
                elif message in entry["notes"] or UNREADABLE.search(message):
                    found["unreadable"].append(message)
        for note in entry["notes"]:
            if RENAMED.search(note):
                found["renamed"].append(note)
            elif UNREADABLE.search(note):
                found["unreadable"].append(note)
        for kind, items in found.items():
            kinds[kind].append({"student": student, "feedback": link,
                                "items": sorted(set(items))})
    return kinds


def question_seconds(timings, max_points):
    """Per question: mean, median and largest seconds per student."""
    return {q: _stats([t[q] for t in timings.values() if q in t]) for q in max_points}


def best_model_accuracies(students):
    values = {}
    for student, entry in students.items():
        result = entry["questions"].get("best_model")
        for note in (result or {}).get("notes", []):
            match = ACCURACY.search(note)
            if match:
                values[student] = float(match.group(1))
    return {"full_points_from": BEST_MODEL_FULL, "no_points_below": BEST_MODEL_ZERO,
            "accuracies": values, **_stats(list(values.values()))}


def similarity_summary(similarity):
    if similarity is None:
        return None
    return {"threshold": similarity["threshold"], "pairs": similarity["pairs"][:20],
            "flagged": sum(p["score"] >= similarity["threshold"]
                           for p in similarity["pairs"]),
            "page": "similarity.html", "table": "similarity.csv"}


def write(out_dir):
    """report.json and report.html in `out_dir` from its finished run; returns the summary."""
    from . import class_figures
    from .rendering import render

    out_dir = Path(out_dir)
    summary = summarize(*load(out_dir))
    (out_dir / "report.json").write_text(json.dumps(summary, indent=2) + "\n",
                                         encoding="utf-8", errors="backslashreplace")
    page = render("class_report.html.j2", report=summary,
                  figures=class_figures.all_figures(summary))
    (out_dir / "report.html").write_text(page, encoding="utf-8", errors="backslashreplace")
    return summary
