"""What the book shows of each exercise: the stub a student starts from, and what
`grader.check` reports on it, before and after the work.

The chapter pages call these in hidden-input cells (`import excerpts`). They use the very
code the course uses: the stubs come from the transform that writes the exercise
notebooks (course_build.answers, student mode), and the check output from otter's own
`grader.check` on the public test files students get.
"""
import os
import tempfile
import types

import numpy as np

from course_build.answers import STUDENT, expand_solution, expand_solution_body


def stub_source(dotted):
    """What a student is given for `dotted` (e.g. "answer_key.layers.affine_forward"):
    the signature and docstring with the body stubbed, exactly as in the notebook."""
    if dotted.startswith("answer_key.walkthrough."):  # whole-cell exercises
        return expand_solution_body(dotted, STUDENT)
    return expand_solution(dotted, STUDENT)


def show_stub(*dotted):
    """Display the stubs of `dotted` objects as one highlighted Python block."""
    from IPython.display import Markdown, display
    code = "\n\n".join(stub_source(d).rstrip() for d in dotted)
    display(Markdown(f"```python\n{code}\n```"))


def grader_check(qid, ns):
    """What `grader.check(qid)` shows in a notebook whose names are `ns`.

    It is the notebooks' own `grader` (fcnet.otter_checks.Notebook, otter's check on the
    public test files students get), run in a scratch folder (otter writes a log file into
    the current one).
    """
    import fcnet
    from fcnet.otter_checks import Notebook

    here = os.getcwd()
    with tempfile.TemporaryDirectory() as scratch:
        os.chdir(scratch)
        try:
            grader = Notebook(tests_dir=str(fcnet.PUBLIC_TESTS_DIR))
            with np.errstate(all="ignore"):
                return grader.check(qid, global_env=ns)
        finally:
            os.chdir(here)


def as_notebook_code(objects, ns):
    """`objects` ({name: function, class or value}) as a notebook cell defines them: in
    module __main__, with the notebook's globals `ns`. grader.check refuses code imported
    from a package that grading does not offer, such as the answer key's own modules."""
    import builtins

    ns.setdefault("__builtins__", builtins)
    ns.setdefault("__name__", "__main__")
    defined = {}
    for name, obj in objects.items():
        if isinstance(obj, types.FunctionType):
            obj = types.FunctionType(obj.__code__, ns, obj.__name__, obj.__defaults__,
                                     obj.__closure__)
            obj.__module__ = "__main__"
        elif isinstance(obj, type):
            obj = type(obj.__name__, (obj,), {"__module__": "__main__", "__doc__": obj.__doc__})
        defined[name] = obj
    return defined


def answer_namespace():
    """The answer key's names, as a finished notebook would define them."""
    import answer_key.inline_questions
    import answer_key.layers
    import answer_key.optim
    from answer_key.classifiers.fc_net import TwoLayerNet
    ns, found = {"np": np}, {"TwoLayerNet": TwoLayerNet}
    for module in (answer_key.layers, answer_key.optim, answer_key.inline_questions):
        found.update({k: v for k, v in vars(module).items()
                      if not k.startswith("_") and not isinstance(v, types.ModuleType)})
    ns.update(as_notebook_code(found, ns))
    return ns


def stub_namespace(*dotted):
    """A namespace holding the stubs of `dotted` objects, as a fresh notebook would."""
    ns = {"np": np}
    for d in dotted:
        exec(compile(stub_source(d), f"<stub {d}>", "exec"), ns)
    return ns
