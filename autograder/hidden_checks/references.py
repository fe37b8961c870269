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
from fcnet.gradient_check import eval_numerical_gradient
from fcnet.probes import PARAM_NAMES

_memo = {}
_memo_lock = threading.Lock()


def _net(case, reg):
    model = ReferenceNet(input_dim=case["D"], hidden_dim=case["H"], num_classes=case["C"],
                         reg=reg)
    model.params = {key: np.array(case[key], copy=True) for key in PARAM_NAMES}
    return model


def _two_layer_net(case, numeric=True):
    X, y, reg = case["X"], case["y"], float(case["reg"])
    loss_reg, grads = _net(case, reg).loss(X, y)
    found = {"d" + key: grads[key] for key in PARAM_NAMES}
    if numeric:
        plain = _net(case, 0.0)
        found.update(scores=plain.loss(X), loss=float(plain.loss(X, y)[0]),
                     loss_reg=float(loss_reg))
        model = _net(case, reg)
        for key in PARAM_NAMES:
            found[f"d{key}_numeric"] = eval_numerical_gradient(
                lambda _: model.loss(X, y)[0], model.params[key], verbose=False)
    return found


# Case id -> the answer key's values for a case of that id. Ids not listed (sgd, whose
# right step is arithmetic on the case; init; training and best_model, judged from data
# the grader keeps) need none. The moved questions' own come from fcnet.questions.
REFERENCES = {
    "two_layer_net.net": _two_layer_net,
    "two_layer_net.net_no_reg": _two_layer_net,
    "two_layer_net.at_scale": lambda case: _two_layer_net(case, numeric=False),
}


def answer_key():
    """The answer key as the questions' REFERENCES read it: its layers, its TwoLayerNet
    and its inline answers (inline_q1, ...: sets of letters)."""
    from answer_key import inline_questions, layers

    public = {name: getattr(module, name) for module in (layers, inline_questions)
              for name in dir(module) if not name.startswith("_")}
    return SimpleNamespace(**public, TwoLayerNet=ReferenceNet)


REFERENCES.update({case_id: partial(compute, answer_key())
                   for case_id, compute in questions.references().items()})


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
