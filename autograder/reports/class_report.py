"""The class report: how the class did, where it got stuck, what went wrong while grading.

`write(out_dir)` reads what a finished run of `python -m autograder grade` left in
`out_dir` (grades.json, timings.json and, when screening ran, similarity.json) and writes

    report.json   every number of the report, for anyone's own analysis
    report.html   one self-contained page (figures inlined, no script, works offline)

`summarize` computes the numbers from those files alone, so `python -m autograder report
OUT` rebuilds the same page from a finished run. The figures are in class_figures.py.
"""
import json
import statistics
from collections import Counter, defaultdict
from pathlib import Path

from fcnet.questions import traits_of

# The statuses of scoring.py, as strings: the report reads plain JSON. It reads the
# results' data fields (QuestionResult.as_dict), never the notes' sentences.
PASSED, PARTIAL, NOT_DONE, CRASHED, UNEARNED = (
    "passed", "partial", "not answered", "crashed", "not counted")


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
        "measured": measured(students, max_points),
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
    """Per hidden check: who passed, who failed (each hint with the failures it was given
    for) and who did not answer; most failed first."""
    rows, hints = {}, defaultdict(Counter)
    for entry in students.values():
        for qid in max_points:
            for check in entry["questions"][qid]["checks"]:
                row = rows.setdefault((qid, check["name"]), {
                    "question": qid, "check": check["name"],
                    "description": check["description"],
                    "passed": 0, "failed": 0, "not_answered": 0})
                if check["status"] == PASSED:
                    row["passed"] += 1
                elif check["status"] == NOT_DONE:
                    row["not_answered"] += 1
                else:
                    row["failed"] += 1
                    hints[qid, check["name"]][(check.get("diagnosis_title", ""),
                                               check.get("hint", ""))] += 1
    for key, row in rows.items():
        answered = row["passed"] + row["failed"]
        row["pass_rate"] = round(row["passed"] / answered, 4) if answered else 0.0
        row["hints"] = [{"mistake": title, "hint": hint, "failed": n}
                        for (title, hint), n in sorted(hints[key].items(),
                                                       key=lambda item: -item[1])]
    return sorted(rows.values(), key=lambda r: (r["pass_rate"], r["question"], r["check"]))


def mistake_key(qid, checks):
    """What a failing answer to `qid` has in common with others: its named mistake (the
    checks' `diagnosis`) when the grader names one, else which checks failed and the
    hints they gave. None when nothing answered failed: checks left unanswered (stubs,
    missing names) are grading health's "not answered", never a mistake."""
    failed = [c for c in checks if c["status"] not in (PASSED, UNEARNED, NOT_DONE)]
    if not failed:
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
            diagnosed = [c for c in checks.values() if c.get("diagnosis") in parts]
            titles = sorted({c.get("diagnosis_title", "") for c in diagnosed} - {""})
            label, failed = " ".join(titles) or "a named mistake", []
            hints = sorted({c.get("hint", "") for c in diagnosed} - {""})
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


HEALTH_KINDS = ("not_answered", "timeouts", "crashes", "missing", "unreadable", "renamed")


def grading_health(students, timings):
    """Submissions the grading had trouble with, per kind, each with its feedback page,
    from the results' data fields: not answered (stubs or missing names: the question
    ids), timed out, crashed, missing and unreadable files, files used under another
    name."""
    kinds = {kind: [] for kind in HEALTH_KINDS}
    for student, entry in students.items():
        link = f"feedback/{entry['feedback']}.html"
        found = defaultdict(list)
        for qid, result in entry["questions"].items():
            statuses = {c["status"] for c in result["checks"]}
            if result.get("timed_out"):
                found["timeouts"].append(qid)
            elif CRASHED in statuses:
                found["crashes"].append(qid)
            if result.get("missing"):
                found["missing"].append(result["file"])
            elif result.get("unreadable"):
                found["unreadable"].append(f"{result['file']}: {result['unreadable']}")
            elif NOT_DONE in statuses:
                found["not_answered"].append(
                    qid if result.get("not_answered") else f"{qid} (in part)")
            if result.get("renamed_from"):
                found["renamed"].append(f"{result['renamed_from']} used as {result['file']}")
        for kind, items in found.items():
            kinds[kind].append({"student": student, "feedback": link,
                                "items": list(dict.fromkeys(items))})
    return kinds


def question_seconds(timings, max_points):
    """Per question: mean, median and largest seconds per student."""
    return {q: _stats([t[q] for t in timings.values() if q in t]) for q in max_points}


def measured(students, max_points):
    """Per question whose probe measures a number the report plots (its trait
    `measure`): every student's value from grades.json, its label and grading scale."""
    found = {}
    for qid in max_points:
        trait = traits_of(qid)
        if not trait.measure:
            continue
        values = {s: e["questions"][qid]["measures"][trait.measure]
                  for s, e in students.items()
                  if trait.measure in e["questions"][qid].get("measures", {})}
        zero, full = trait.scale or (None, None)
        found[qid] = {"measure": trait.measure, "label": trait.measure_label,
                      "no_points_below": zero, "full_points_from": full,
                      "values": values, **_stats(list(values.values()))}
    return found


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
