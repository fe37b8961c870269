"""The bridge between otter-grader and the course's checks.

`grader.check("affine_forward")` makes otter run `public_tests/affine_forward.py`; each test
case there is one line calling `run_public_check`, so the checks themselves live in one
place (`fcnet.public_checks`) and the test files are generated from it.

What the student reads is the course's own text for each check (fcnet.checking's
CheckResult: the diagnosis or hint first, then what the check saw, wrapped), shown by
`Notebook.check`. Otter's own rendering of a failing test case starts with the test
file's line that raised ("Error at line 19 in test dx: run_public_check(...)"), which
says nothing to a student, so `Notebook.check` shows the results the checks recorded
instead, and hands every other attribute to otter's result.
"""
import html
import inspect

import otter

from .checking import CheckResult
from .imports import foreign_packages, refusal
from .public_checks import checks_for, run_check

# The CheckResults of the question being checked, recorded by run_public_check in the
# order otter runs the test cases; Notebook.check reads them back (data, not otter's text).
_recorded = {}


def run_public_check(qid, name, **values):
    """Run the public check `name` of question `qid` on the student's `values`.

    `values` maps each name the check needs (and, for a question that calls other
    questions' code, theirs) to the student's object; otter passes None for a name the
    notebook has not defined. Returns None when the check passes; otherwise raises
    AssertionError whose message is the result as the student reads it.
    """
    check = next((c for c in checks_for(qid) if c.name == name), None)
    if check is None:
        raise KeyError(f"question {qid!r} has no public check {name!r}")
    unset = [key for key in check.needs if values.get(key) is None]
    if unset:
        result = CheckResult(check, "not implemented",
                             f"{', '.join(unset)} is not defined yet (or is None). Write "
                             f"that part and run its cell, then check again.")
    elif foreign_packages(values.values()):
        raise AssertionError(refusal(qid, foreign_packages(values.values())))
    else:
        result = run_check(check, values)
    _recorded.setdefault(qid, []).append(result)
    if not result.passed:
        raise AssertionError(str(result))


class Notebook(otter.Notebook):
    """otter's Notebook (`grader`), whose check() shows the course's words for each check."""

    def check(self, question, global_env=None):
        if global_env is None:  # the caller's globals, as otter's own check takes them
            global_env = inspect.currentframe().f_back.f_globals
        _recorded.pop(question, None)
        outcome = super().check(question, global_env=global_env)
        return CheckReport(question, _recorded.pop(question, []), outcome)


class CheckReport:
    """What `grader.check(qid)` shows: one line per passing check, and each other check
    with its diagnosis or hint first. Other attributes are otter's result's."""

    def __init__(self, qid, results, outcome):
        self.qid, self.results, self._outcome = qid, results, outcome

    def __getattr__(self, name):
        return getattr(self._outcome, name)

    def text(self):
        todo = [r for r in self.results if not r.passed]
        if not todo:  # otter's own words; for an inline question, with its note
            return self._outcome.summary()
        head = f"{self.qid}: {len(todo)} of {len(self.results)} public checks did not pass."
        passed = [str(r) for r in self.results if r.passed]
        return "\n\n".join([head, *[str(r) for r in todo], *(["\n".join(passed)] * bool(passed))])

    def __repr__(self):
        return self.text()

    def _repr_html_(self):
        return (f"<pre style='white-space: pre-wrap'>{html.escape(self.text())}</pre>")
