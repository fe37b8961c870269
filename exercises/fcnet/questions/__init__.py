"""The course's questions, one module each, in the order the chapters ask them.

A question module holds everything about its question, in one place:

    ID          the question id (grader.check(ID), the points table, the exports)
    CHAPTER     the notebook stem of the chapter that asks it
    ORDER       its place among its chapter's questions (1 for the first asked)
    POINTS      its points
    GRADES      the names it reads from the student's notebook
    LAYER       True for a layer a TwoLayerNet calls (graded on the answer key's copy of
                it when the network is graded: decoupling)
    CHECKS      its checks (fcnet.checking.Check): each one's case maker, seeded by an
                explicit case id; its probe (how the student's code is called, with the
                shapes it returns); its judge, weight and requirements; its views, and
                the question's known mistakes and their words (MISTAKES). A question
                judged on data only the grader holds has its checks in the grader
                (CHECKS = []) and declares its probe here all the same
    probes      the functions decorated with fcnet.probing.returns (the shapes of what
                they report): the grader's worker finds every probe by its name
    REFERENCES  {case id: (key, case) -> right values}: how the answer key `key` (a
                namespace of its layers, TwoLayerNet and inline answers) gives the right
                values of a case. The grader calls them on the hidden cases, the build
                on the public ones, which it ships to the notebooks as data.
    TRAITS      how the grader treats it, when not as plain code (fcnet.questions.traits)
    NOTEBOOK_CHECKS  checks only `grader.check` runs, where the graded case is data the
                grader keeps (training, best_model) or the answer never ships (the inline
                questions' format)
    CALLS       the names of other questions' code its own code calls in the notebook,
                when it is decoupled (fcnet.public_checks blames a failure on them)
    OPTIONS     the option letters a multiple-choice (inline) question offers

A question graded on data only the grader holds (training, best_model) keeps its checks
in the grader, which names it by its ID; its CHECKS are empty, and its module holds the
rest (its probe, its traits).

Everything else is derived from the modules: the chapters, the points table, the
hidden and public checks, the otter tests and the nbgrader cells. Adding a question is
adding a module here: MODULES finds it.

A module whose name starts with an underscore, or that declares no ID (traits.py), is
not a question: it holds what several questions share (_losses.py: the probe body, cases, judges and views of softmax_loss and
svm_loss; _inline.py: the multiple-choice questions' probe and judge), and is not in
MODULES.
"""
import importlib
import pkgutil

from .traits import Traits


def _question_modules():
    """Every module of this package that declares a question (an ID), in course order:
    by chapter, then by the ORDER it declares within its chapter."""
    found = [importlib.import_module(f"{__name__}.{info.name}")
             for info in pkgutil.iter_modules(__path__) if not info.name.startswith("_")]
    return tuple(sorted((m for m in found if hasattr(m, "ID")),
                        key=lambda m: (m.CHAPTER, m.ORDER)))


MODULES = _question_modules()

QUESTIONS = {module.ID: module for module in MODULES}


def checks():
    """Every check of every question, question by question."""
    return [check for module in MODULES for check in module.CHECKS]


def notebook_checks():
    """The checks only `grader.check` runs, on the notebook's own data or on an inline
    answer's format (a module's NOTEBOOK_CHECKS)."""
    return [check for module in MODULES for check in getattr(module, "NOTEBOOK_CHECKS", ())]


def traits_of(qid):
    """How the grader treats question `qid` (its module's TRAITS; plain code if none).
    (Not `traits`: that name is the submodule declaring the Traits class.)"""
    return getattr(QUESTIONS.get(qid), "TRAITS", Traits())


def questions_where(trait, ids=None):
    """The question ids (of `ids`, by default all) whose trait named `trait` is set."""
    return tuple(q for q in (QUESTIONS if ids is None else ids) if getattr(traits_of(q), trait))


def probes():
    """{probe name: probe} of every question: its checks' probes, and the functions its
    module declares with fcnet.probing.returns (a question whose checks are the
    grader's declares its probe all the same)."""
    declared = {value.__name__: value for module in MODULES for value in vars(module).values()
                if callable(value) and hasattr(value, "result_shapes")}
    return {**declared, **{check.probe.__name__: check.probe for check in checks()}}


def references():
    """{case id: (key, case) -> right values} of every question."""
    return {case_id: compute for module in MODULES
            for case_id, compute in getattr(module, "REFERENCES", {}).items()}


def options():
    """{question id: the option letters it offers} of the multiple-choice questions."""
    return {module.ID: module.OPTIONS for module in MODULES if hasattr(module, "OPTIONS")}


def layer_names():
    """The names of the layers a TwoLayerNet calls: decoupled grading binds these to the
    answer key's layers."""
    return tuple(name for module in MODULES if getattr(module, "LAYER", False)
                 for name in module.GRADES)


def catalogue():
    """Every known mistake of every question (fcnet.diagnosis.Mistake, ErrorMistake)."""
    from .. import mistakes as not_yet_moved

    return (*[m for module in MODULES for m in module.MISTAKES],
            *not_yet_moved.MISTAKES, *not_yet_moved.ERROR_MISTAKES)
