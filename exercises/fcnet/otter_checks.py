"""The bridge between otter-grader's test files and the course's checks.

`grader.check("affine_forward")` makes otter run `public_tests/affine_forward.py`; each test
case there is one line calling `run_public_check`, so the checks themselves live in one
place (`fcnet.public_checks`) and the test files are generated from it.
"""
from .imports import foreign_packages, refusal
from .public_checks import checks_for


def run_public_check(qid, name, **values):
    """Run the public check `name` of question `qid` on the student's `values`.

    `values` maps each name the check needs to the student's object (otter passes None for a
    name the notebook has not defined). Returns None when the check passes; otherwise raises
    AssertionError whose message says what went wrong and, for a wrong answer, a hint.
    """
    check = next((c for c in checks_for(qid) if c.name == name), None)
    if check is None:
        raise KeyError(f"question {qid!r} has no public check {name!r}")
    unset = [key for key in check.needs if values.get(key) is None]
    if unset:
        raise AssertionError(
            f"[NOT IMPLEMENTED] {qid}: {', '.join(unset)} is not defined yet (or is None). "
            f"Write that part and run its cell, then check again.")
    foreign = foreign_packages(values.values())
    if foreign:
        raise AssertionError(refusal(qid, foreign))
    result = check.run(values)
    if not result.passed:
        raise AssertionError(str(result))
