"""What the book shows of each exercise: the stub a student starts from, and what
`grader.check` reports on it, before and after the work.

The chapter pages call these in hidden-input cells (`import excerpts`). They use the very
code the course uses: the stubs come from the transform that writes the exercise
notebooks (course_build.answers, student mode), and the check output from otter's own
`grader.check` on the public test files students get.
"""
import os
import tempfile

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


def answer_namespace():
    """The answer key's names, as a finished notebook would define them."""
    import answer_key.inline_questions
    import answer_key.layers
    import answer_key.optim
    from answer_key.classifiers.fc_net import TwoLayerNet
    ns = {"np": np, "TwoLayerNet": TwoLayerNet}
    for module in (answer_key.layers, answer_key.optim, answer_key.inline_questions):
        ns.update({k: v for k, v in vars(module).items() if not k.startswith("_")})
    return ns


def stub_namespace(*dotted):
    """A namespace holding the stubs of `dotted` objects, as a fresh notebook would."""
    ns = {"np": np}
    for d in dotted:
        exec(compile(stub_source(d), f"<stub {d}>", "exec"), ns)
    return ns
