"""The catalogue of common mistakes, question by question, with what to tell the student.

Each mistake is recognised from the numbers alone: the student's output next to the right
one (a `View`, see fcnet.diagnosis) and the inputs of the check. A test here never
computes a graded function: it relates arrays (a factor, a difference equal to a known
term, a property such as "rows sum to 1"). A few mistakes need the answer key to be
recognised (a network without its ReLU); their test lives in the grader
(autograder/mistakes.py) and is None here, so their words stay in one place.

(The questions moved to fcnet/questions/ declare their mistakes in their own modules; the
rules every question shares, and the relations several use, stay here.)

Explanations say what the numbers show and how to fix it, in words, never in code.
"""
import re

import numpy as np

from .diagnosis import ErrorMistake, Mistake, as_array, close, differs_by


def _n(view):
    return float(view.context["N"])


def _penalty(view, names):
    """The sum of squares of the parameters `names` (context "params")."""
    params = view.context["params"]
    return sum(float(np.sum(np.square(np.asarray(params[k], dtype=np.float64))))
               for k in names)


# ----------------------------------------------------------------------------- two-layer net

def _reg_term(view, names, factor):
    return differs_by(view, 0.5 * view.context["reg"] * _penalty(view, names), factor)


def _grad_term(view, factor):
    return differs_by(view, view.context["reg"] * as_array(view.context["param"]), factor)


def _std_is_not_scale(view):
    scale = view.context["weight_scale"]
    got = as_array(view.got)
    return got is not None and got.size > 1 and abs(got.std() - scale) > 0.1 * scale and \
        abs(got.mean()) < 5 * got.std() / np.sqrt(got.size)


def _not_centred(view):
    got = as_array(view.got)
    return got is not None and got.size > 1 and \
        abs(got.mean()) > 5 * max(got.std(), 1e-12) / np.sqrt(got.size)


def _relu_on_scores(view):
    expected = as_array(view.expected)
    return expected is not None and bool(np.any(expected < 0)) and \
        close(view.got, np.maximum(expected, 0), view.tol)


def _probabilities(view):
    """Rows of positive numbers that sum to 1, ordered as the right scores are."""
    got, expected = as_array(view.got), as_array(view.expected)
    if got is None or expected is None or got.shape != expected.shape or got.ndim != 2:
        return False
    return bool(np.all(got > 0) and np.allclose(got.sum(axis=1), 1.0) and
                np.array_equal(np.argsort(got, axis=1), np.argsort(expected, axis=1)))


# ----------------------------------------------------------------------------- sgd

def _sgd_rate(view):
    """The k for which got = w - k * dw, or None when got is not of that form."""
    got, w, dw = (as_array(v) for v in (view.got, view.context["w"], view.context["dw"]))
    if got is None or got.shape != w.shape or not np.all(np.isfinite(got)):
        return None
    k = float(np.vdot(w - got, dw) / max(np.vdot(dw, dw), 1e-300))
    return k if close(got, w - k * dw, 1e-9) else None


def _sgd_rate_is(test):
    def match(view):
        k = _sgd_rate(view)
        return k is not None and test(k, float(view.context["lr"]))
    return match


def _returned_old_weights(view):
    return view.got is None or close(view.got, view.context["w"], 1e-12)


# ----------------------------------------------------------------------------- the course's rules

def _came_back(view):
    """An input array came back (changed: diagnose only asks about views that differ)."""
    return as_array(view.got) is not None


def _dtype_changed(view):
    """A numeric array of another dtype than its inputs', with the right values when
    they are known."""
    got = view.got
    if not isinstance(got, np.ndarray) or not np.issubdtype(got.dtype, np.number) or \
            got.dtype == view.context["dtype"]:
        return False
    return view.expected is None or close(got, view.expected, view.tol)


_UNCHANGED = ("The course's functions leave the arrays they are given unchanged (the "
              "grading section of the chapter states this rule): the caller, or another "
              "layer, may still need them.")


def input_modified_rule(qid, role, writes, fix="Compute into a new array (or into a copy "
                                                "you make first)."):
    """The mistake of a function that writes into an array it is given: `writes` says
    which ("Your relu_forward writes into x"), `fix` what to do instead."""
    return Mistake(qid, role, "input_modified",
                   f"{writes}, so the caller's array has changed after the call. "
                   f"{_UNCHANGED} {fix}", _came_back)


def dtype_changed_rule(qid, what):
    """The mistake of a layer `what` that returns float64 for float32 inputs."""
    return Mistake(qid, "dtype", "dtype_changed",
                   f"Your {what} returns float64 values for float32 inputs: some array in it "
                   f"is made without a dtype (a fresh array of zeros, or a conversion to "
                   f"Python's float), and numpy then computes in float64. The course's layers "
                   f"keep their inputs' dtype (the grading section of the chapter states this "
                   f"rule), because chapter 5 trains in float32. Build the result from the "
                   f"inputs themselves, or give new arrays the inputs' dtype.", _dtype_changed)


# One rule per (question, role of the view that shows it): an input written into, a dtype
# not kept. Its own name, so that points lost to a rule always say which rule.
_RULES = (
    *[Mistake(qid, "input", "input_modified",
              f"Your {what} writes into an array it is given ({inputs}), so the caller's "
              f"array has changed after the call. {_UNCHANGED} Compute into a new array "
              f"(or into a copy you make first).", _came_back)
      for qid, what, inputs in (
          ("two_layer_net", "loss", "X or a parameter array"),
          ("sgd", "sgd", "dw"))],
    Mistake("two_layer_net", "dtype", "dtype_changed",
            "With dtype=np.float32 some of your parameters are not float32. Convert every "
            "parameter, the biases too, to the dtype argument (chapter 5 trains in float32).",
            _dtype_changed),
)

# ----------------------------------------------------------------------------- catalogue

MISTAKES = (
    # two_layer_net
    Mistake("two_layer_net", "W", "wrong_weight_scale",
            "Your initial weights do not have standard deviation weight_scale. Multiply "
            "standard-normal draws by weight_scale itself (the argument: not 1, not its "
            "square or square root, not a constant of your own).", _std_is_not_scale),
    Mistake("two_layer_net", "W", "weights_not_centred",
            "Your initial weights are not centred on zero: draw them from a normal "
            "distribution (standard-normal draws), not a uniform one on [0, 1).", _not_centred),
    Mistake("two_layer_net", "b", "biases_not_zero",
            "Your biases do not start at zero. Only the weights are random; start b1 and "
            "b2 at zero.", lambda v: True),
    Mistake("two_layer_net", "scores", "scores_after_softmax",
            "loss(X) returns probabilities (rows that sum to 1), not scores: the softmax "
            "belongs to the loss. When y is None, return the raw class scores.",
            _probabilities),
    Mistake("two_layer_net", "scores", "relu_on_scores",
            "Your scores are the right ones with every negative score replaced by 0: a ReLU "
            "is applied after the second affine layer. The ReLU belongs between the two "
            "layers only; the class scores come straight from the last affine layer and "
            "may be negative.", _relu_on_scores),
    Mistake("two_layer_net", "scores", "relu_missing",
            "Your scores match a network with no ReLU between the two affine layers: the "
            "hidden layer must be affine, then ReLU (the affine-ReLU sandwich), before the "
            "second affine layer.", None),
    Mistake("two_layer_net", "loss", "relu_missing",
            "Your loss matches a network with no ReLU between the two affine layers: the "
            "hidden layer must be affine, then ReLU (the affine-ReLU sandwich), before the "
            "second affine layer.", None),
    Mistake("two_layer_net", "loss", "reg_missing_in_loss",
            "Your loss lacks the regularisation term: add 0.5 * reg times the sum of the "
            "squares of W1 and W2, using self.reg.",
            lambda v: _reg_term(v, ("W1", "W2"), -1.0)),
    Mistake("two_layer_net", "loss", "reg_factor",
            "Your regularisation term has the wrong factor: it should be 0.5 * reg times the "
            "sum of the squares of W1 and W2 (the 0.5 makes its gradient reg * W).",
            lambda v: _reg_term(v, ("W1", "W2"), 1.0) or _reg_term(v, ("W1", "W2"), -0.5)),
    Mistake("two_layer_net", "loss", "biases_regularised",
            "Your loss also penalises the biases. Regularise the weights W1 and W2 only.",
            lambda v: _reg_term(v, ("b1", "b2"), 1.0) or _reg_term(v, ("b1", "b2"), 2.0)),
    Mistake("two_layer_net", "dW", "reg_missing_in_gradient",
            "Your weight gradient lacks the regularisation: add reg * W to the gradient of "
            "each weight matrix.", lambda v: _grad_term(v, -1.0)),
    Mistake("two_layer_net", "dW", "reg_factor",
            "Your weight gradient's regularisation has the wrong factor: the derivative of "
            "0.5 * reg * W**2 is reg * W.", lambda v: _grad_term(v, 1.0) or _grad_term(v, -0.5)),
    Mistake("two_layer_net", "db", "biases_regularised",
            "Your bias gradient includes a regularisation term. Regularise the weights W1 "
            "and W2 only.", lambda v: _grad_term(v, 1.0) or _grad_term(v, 2.0)),
    # sgd
    Mistake("sgd", "next_w", "sgd_sign_flipped",
            "Your step goes up the gradient: the new weights are w + learning_rate * dw. "
            "Gradient descent subtracts the step.", _sgd_rate_is(lambda k, lr: close(k, -lr, 1e-9))),
    Mistake("sgd", "next_w", "sgd_weights_not_returned",
            "sgd does not return the new weights: it returns the old ones (or None). Return "
            "the updated weights as the first value.", _returned_old_weights),
    Mistake("sgd", "next_w", "sgd_rate_not_from_config",
            "Your step uses another learning rate than the one in config. Read the "
            "learning_rate entry of config on every call.",
            _sgd_rate_is(lambda k, lr: k > 0 and not close(k, lr, 1e-9))),
    Mistake("sgd", "next_w_default", "sgd_wrong_default_rate",
            "Without a learning rate in config, sgd must step with the default 1e-2.",
            _sgd_rate_is(lambda k, lr: k > 0 and not close(k, lr, 1e-9))),
    *_RULES,
)

ERROR_MISTAKES = (
    ErrorMistake("sgd", "sgd_no_default_config",
                 "sgd fails when config is None or has no learning_rate. Start from an empty "
                 "dict when config is None and use the default 1e-2 when the rate is missing.",
                 re.compile(r"NoneType|KeyError: '?learning_rate|"
                            r"missing 1 required positional argument: 'config'").search),
)
