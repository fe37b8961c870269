"""The right values of every case, computed from the answer key: what the judges compare
the student's outputs with (fcnet.judging.expected).

`expected_values(case_id, case)` gives them for one case. The grader calls it on the
hidden cases at grading time (memoised: every student of a run is graded on the same
cases); the build calls it on the public cases and ships the result to the notebooks as
data (course_build.public_tests), so that the two sides compare with the same values.
"""
import threading
from functools import partial
from types import SimpleNamespace

import numpy as np

from answer_key.classifiers.fc_net import TwoLayerNet as ReferenceNet
from fcnet import questions
from fcnet.judging import case_digest

_memo = {}
_memo_lock = threading.Lock()


# Case id -> the answer key's values for a case of that id, from each question's
# REFERENCES (fcnet.questions). Ids not listed (sgd, whose right step is arithmetic on the
# case; init; training and best_model, judged from data the grader keeps) need none.
def answer_key():
    """The answer key as the questions' REFERENCES read it: its layers, its TwoLayerNet
    and its inline answers (inline_q1, ...: sets of letters)."""
    from answer_key import inline_questions, layers

    public = {name: getattr(module, name) for module in (layers, inline_questions)
              for name in dir(module) if not name.startswith("_")}
    return SimpleNamespace(**public, TwoLayerNet=ReferenceNet)


REFERENCES = {case_id: partial(compute, answer_key())
              for case_id, compute in questions.references().items()}


def expected_values(case_id, case):
    """{name: value} the judges of `case_id`'s checks compare with, for `case`."""
    compute = REFERENCES.get(case_id)
    if compute is None:
        return {}
    key = (case_id, case_digest({k: v for k, v in case.items() if not k.startswith("_")}))
    with _memo_lock:
        if key in _memo:
            return _memo[key]
    with np.errstate(all="ignore"):
        value = compute(case)
    with _memo_lock:
        if len(_memo) > 512:
            _memo.clear()
        return _memo.setdefault(key, value)


def judging_case(check, case):
    """`case` with its right values under "expected", as `check`'s judge reads it."""
    return {**case, "expected": expected_values(check.case_id, case)}
