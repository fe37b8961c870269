"""The hidden checks, as instructors and students meet them, against a recorded snapshot.

tests/hidden_checks_snapshot.json records every check in order, with its name, weight,
requirements, words, probe and case id, and the cases drawn from one course seed. The
cases are seeded by explicit case ids ("affine_backward.small"), never by a function's
name, so a refactor that renames functions changes nothing here.

The cases changed once, on purpose, on 2026-12-06, when the seeds moved from the case
functions' names to the case ids (and the checks moved to the question modules, shared with the
notebook's public checks): every hidden case of every question was drawn anew then.
Four at-scale cases changed on 2026-12-07 (affine_backward, relu_backward and both
losses), so that a numeric gradient taken a column at a time cannot pass them
(docs/instructors.md, "Changes that move grades").

A deliberate change to a check changes the snapshot too. Rewrite it with

    .venv/bin/python tests/test_hidden_checks_snapshot.py --update

and let the diff of the JSON file show the change in review.
"""
import json
import sys
from pathlib import Path


from fcnet.judging import case_digest

SNAPSHOT = Path(__file__).with_name("hidden_checks_snapshot.json")
# These questions' cases are CIFAR-10 images; the rest are drawn from the seed alone.
DATA_QUESTIONS = ("training", "best_model")
SEED = 20240611


def snapshot():
    from autograder import hidden_checks
    checks = [{"qid": c.qid, "name": c.name, "weight": c.weight,
               "requires": list(c.requires), "needs": list(c.needs),
               "description": c.description, "hint": c.hint,
               "case_id": c.case_id, "probe": c.probe.__name__}
              for c in hidden_checks.CHECKS]
    qids = list(dict.fromkeys(c.qid for c in hidden_checks.CHECKS))
    cases = {qid: {name: case_digest(case)
                   for name, case in hidden_checks.make_cases(qid, SEED).items()}
             for qid in qids if qid not in DATA_QUESTIONS}
    return {"checks": checks, "cases": cases}


def test_the_hidden_checks_match_the_snapshot():
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    actual = snapshot()
    assert [(c["qid"], c["name"]) for c in actual["checks"]] == \
        [(c["qid"], c["name"]) for c in expected["checks"]]
    for now, then in zip(actual["checks"], expected["checks"]):
        assert now == then, (now["qid"], now["name"])
    assert actual["cases"] == expected["cases"]


def test_the_snapshot_test_can_fail(monkeypatch):
    from autograder import hidden_checks
    first = hidden_checks.CHECKS[0]
    monkeypatch.setattr(hidden_checks, "CHECKS",
                        [type(first)(**{**vars(first), "weight": first.weight + 1}),
                         *hidden_checks.CHECKS[1:]])
    expected = json.loads(SNAPSHOT.read_text(encoding="utf-8"))
    assert snapshot()["checks"] != expected["checks"]


if __name__ == "__main__":
    if sys.argv[1:] != ["--update"]:
        sys.exit(f"usage: python {sys.argv[0]} --update")
    SNAPSHOT.write_text(json.dumps(snapshot(), indent=1) + "\n", encoding="utf-8")
    print(f"wrote {SNAPSHOT}")
