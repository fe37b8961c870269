"""Turning check outcomes into points: one function, used by every grader.

The engine of `python -m autograder` (which the otter and nbgrader bundles also grade
through), the in-process route of autograder.grading and the tests all score a question
with `score_question`, so the routes cannot disagree on arithmetic.
"""
from dataclasses import dataclass, field, replace

from fcnet.checking import CheckFailed, NotAnswered, PartialCredit

from .points import QUESTION_POINTS
from .worker_runtime import short_text

# A judge's verdicts besides passing and CheckFailed (fcnet.checking, where the judges
# of the question modules find them): PartialCredit, a share of the check's weight;
# NotAnswered, nothing to judge (an empty inline answer), which scores like a stub.


# Statuses of a check outcome, in the words the feedback uses.
PASSED = "passed"
PARTIAL = "partial"
FAILED = "failed"          # ran, wrong answer
ERROR = "error"            # the student's code raised
NOT_DONE = "not answered"  # stub, empty answer, or the name is not defined
CRASHED = "crashed"        # the worker died, hung or flooded its output
UNEARNED = "not counted"   # passed, but a check it requires did not (Check.requires)


@dataclass
class CheckOutcome:
    name: str
    description: str
    weight: float
    status: str
    fraction: float = 0.0
    message: str = ""
    hint: str = ""
    requires: tuple = ()      # names of checks that must pass for this one to count
    diagnosis: str = ""       # id of the named mistake (fcnet.mistakes) behind a failure
    diagnosis_title: str = ""  # that mistake in one plain sentence (its explanation is `hint`)
    error_type: str = ""      # ERROR: the exception the student's code raised ("TypeError")
    error_message: str = ""   # ERROR: its message, bounded ("" where it is withheld)

    @property
    def passed(self):
        return self.status == PASSED


@dataclass
class QuestionResult:
    """A question's points, its check outcomes, and the facts reports read as data.

    `notes` are sentences for the student; nothing reads them back. Everything a report,
    a feedback page or an export needs is a field: the file the question needs and what
    happened to it, whether the worker ran out of time, and what a grader-side probe
    measured (best_model's accuracy on each view).
    """
    qid: str
    points: float
    max_points: float
    checks: list = field(default_factory=list)
    notes: list = field(default_factory=list)   # about the submission, not one check
    file: str = ""            # the submitted file this question reads ("" when none)
    missing: bool = False     # that file is not in the submission
    unreadable: str = ""      # why that file could not be used ("" when it could)
    renamed_from: str = ""    # the path of the file used, when not named `file`
    timed_out: bool = False   # the worker ran out of time
    measures: dict = field(default_factory=dict)  # numbers a probe measured (accuracy_test)

    @property
    def not_answered(self):
        """Every check is unanswered (stubs, no definitions, no file)."""
        return bool(self.checks) and all(c.status == NOT_DONE for c in self.checks)

    def as_dict(self):
        return {"qid": self.qid, "points": self.points, "max_points": self.max_points,
                "checks": [{**vars(c), "requires": list(c.requires)} for c in self.checks],
                "notes": list(self.notes),  # plain JSON data: lists, not tuples
                "file": self.file, "missing": self.missing, "unreadable": self.unreadable,
                "renamed_from": self.renamed_from, "timed_out": self.timed_out,
                "not_answered": self.not_answered,
                "measures": {k: float(v) for k, v in self.measures.items()}}


def judge_outcome(check, case, outputs):
    """Judge `outputs` (plain data from a probe) for `check`; return a CheckOutcome."""
    base = dict(name=check.name, description=check.description, weight=check.weight,
                requires=tuple(check.requires))
    try:
        check.judge(case, outputs)
    except NotAnswered as verdict:
        return CheckOutcome(**base, status=NOT_DONE, message=str(verdict))
    except PartialCredit as verdict:
        status = PARTIAL if verdict.fraction > 0 else FAILED
        return CheckOutcome(**base, status=status, fraction=verdict.fraction,
                            message=str(verdict), **_advice(check, case, outputs))
    except CheckFailed as verdict:
        return CheckOutcome(**base, status=FAILED, message=str(verdict),
                            **_advice(check, case, outputs))
    except Exception as err:  # malformed outputs (e.g. a missing key): the student's failure
        return CheckOutcome(**base, status=FAILED,
                            message=f"the result could not be checked ({type(err).__name__}: "
                                    f"{short_text(err, 300)})", **_advice(check, case, outputs))
    return CheckOutcome(**base, status=PASSED, fraction=1.0)


def _advice(check, case=None, outputs=None, error=None):
    """{"hint", "diagnosis"} of a failed check: the named mistake's explanation when
    fcnet.diagnosis recognises one (from the outputs, or from the error message of a
    probe that raised), else the check's general hint."""
    from .mistakes import diagnosis_of, error_diagnosis

    found = error_diagnosis(check, error) if error is not None else \
        diagnosis_of(check, case, outputs) if outputs is not None else None
    if found is None:
        return {"hint": check.hint, "diagnosis": ""}
    return {"hint": found.explanation, "diagnosis": found.name,
            "diagnosis_title": first_sentence(found.explanation)}


def first_sentence(text):
    """The first sentence of `text` (a diagnosis's explanation opens with what went wrong)."""
    text = " ".join(str(text).split())
    for end in (". ", ": "):
        cut = text.find(end)
        if 0 < cut:
            text = text[:cut + 1]
            break
    return text.rstrip(":") + ("" if text.endswith((".", "!", "?")) else ".")


def failed_outcome(check, status, message, error_type="", error_message=None):
    """An outcome for a check whose probe did not produce outputs. For ERROR,
    `error_type` names the exception and `error_message` is its message as the student may
    read it (None: `message` itself; "" where the grader withholds it)."""
    if status == ERROR:
        advice = _advice(check, error=message)
        if error_message is None:  # the worker's message: "TypeError: what it said"
            error_message = message.split(": ", 1)[1] \
                if error_type and message.startswith(error_type + ": ") else message
        error = {"error_type": error_type, "error_message": error_message}
    else:
        advice = {"hint": check.hint if status in (CRASHED, FAILED) else "", "diagnosis": ""}
        error = {}
    return CheckOutcome(name=check.name, description=check.description, weight=check.weight,
                        status=status, message=message, requires=tuple(check.requires),
                        **advice, **error)


def score_question(qid, outcomes, notes=(), **facts):
    """Points for `qid` from its check outcomes: weighted share of QUESTION_POINTS[qid].
    `facts` are QuestionResult's data fields (file, missing, timed_out, measures...)."""
    max_points = QUESTION_POINTS[qid]
    outcomes = at_scale_advice(apply_requirements(outcomes))
    total = sum(o.weight for o in outcomes)
    earned = sum(o.weight * o.fraction for o in outcomes)
    points = round(max_points * earned / total, 2) if total else 0.0
    return QuestionResult(qid, points, max_points, list(outcomes), list(notes), **facts)


def apply_requirements(outcomes):
    """`outcomes` where a check whose required checks did not all pass earns nothing.

    "x is left unmodified", "dx has the shape of x", "float32 in, float32 out": a function
    that only returns zeros of the right shape has these properties, so they count only
    next to the values they accompany (the checks named in `requires`).
    """
    by_name = {o.name: o for o in outcomes}
    counted = []
    for outcome in outcomes:
        missing = [by_name[name].description for name in outcome.requires
                   if name in by_name and by_name[name].status != PASSED]
        unknown = [name for name in outcome.requires if name not in by_name]
        if unknown:
            raise KeyError(f"check {outcome.name!r} requires unknown checks {unknown}")
        if missing and outcome.status in (PASSED, PARTIAL):
            outcome = replace(outcome, status=UNEARNED, fraction=0.0, hint="", diagnosis="",
                              diagnosis_title="",
                              message="this counts only when these checks pass too: "
                                      + "; ".join(missing))
        counted.append(outcome)
    return counted


def at_scale_advice(outcomes):
    """`outcomes` where a failed at-scale check blames a numeric gradient only when the
    small gradient checks that require it pass: when one of them fails on its own, the
    gradient is simply wrong, and the at-scale check says so instead."""
    from fcnet.judging import AT_SCALE_HINT, AT_SCALE_WRONG_HINT

    def wrong_on_small_cases(name):
        return any(name in o.requires and o.status in (FAILED, ERROR, PARTIAL)
                   for o in outcomes)

    return [replace(o, hint=AT_SCALE_WRONG_HINT)
            if o.hint == AT_SCALE_HINT and o.status != PASSED and wrong_on_small_cases(o.name)
            else o for o in outcomes]
