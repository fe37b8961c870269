"""The notebook build: directive expansion, stubs, determinism, and staleness of committed files."""
import json
import re
import shutil
import sys
import textwrap
from pathlib import Path

import jupytext
import nbformat
import pytest

from course_build import answers, nbgrader_course, notebooks, public_tests
from course_build.answers import NBGRADER, SOLUTION, STUDENT
from course_build.steps import STEPS, get_step, stale_files
from fcnet.chapters import CHAPTERS

REPO_ROOT = Path(__file__).resolve().parents[1]

FAKE_KEY = '''
"""A tiny answer key for the tests."""
import numpy as np

ANSWER = {"C", "A"}
SCALE = 3


def marked(x):
    """Double x, then add one.

    - x: array, any shape
    """
    y = np.asarray(x)
    # BEGIN SOLUTION
    y = 2 * y
    # END SOLUTION
    return y + 1


def docstring_only(x, w):
    """Multiply x (N, D) by w (D, M); returns (N, M)."""
    secret = x @ w
    return secret


class Model:
    """A model with two methods and no markers."""

    kind = "toy"

    def __init__(self, scale):
        """Remember scale."""
        self.scale = scale * 7

    def predict(self, x):
        return x * self.scale


def walkthrough(data):
    """Fit the toy model on `data`.
    Keep it in `fitted`.
    """
    fitted = Model(SCALE)
    fitted.data = data
    return fitted


def partly_marked(data):
    """Sweep, keeping the best in `best`."""
    best = None
    # BEGIN SOLUTION
    best = max(data)
    # END SOLUTION
    print(best)
'''


@pytest.fixture
def fake_key(tmp_path, monkeypatch):
    package = tmp_path / "fake_key_pkg"
    package.mkdir()
    (package / "__init__.py").write_text("")
    (package / "key.py").write_text(textwrap.dedent(FAKE_KEY))
    monkeypatch.syspath_prepend(str(tmp_path))
    for name in [m for m in sys.modules if m.startswith("fake_key_pkg")]:
        monkeypatch.delitem(sys.modules, name)
    return "fake_key_pkg.key"


def source_nb(text):
    return jupytext.reads(textwrap.dedent(text), fmt="py:percent")


def code_of(nb):
    return [c.source for c in nb.cells if c.cell_type == "code"]


def test_marked_regions_become_stubs_and_markers_vanish_from_solutions(fake_key):
    student = answers.expand_solution(f"{fake_key}.marked", STUDENT)
    solution = answers.expand_solution(f"{fake_key}.marked", SOLUTION)
    assert "y = 2 * y" not in student and "BEGIN SOLUTION" not in student
    assert "    # YOUR CODE HERE\n    raise NotImplementedError\n    return y + 1" in student
    assert "y = np.asarray(x)" in student and '"""Double x, then add one.' in student
    assert "y = 2 * y" in solution and "SOLUTION" not in solution
    namespace = {}
    exec("import numpy as np\n" + solution, namespace)
    assert namespace["marked"](3) == 7


def test_unmarked_function_keeps_signature_and_docstring_only(fake_key):
    student = answers.expand_solution(f"{fake_key}.docstring_only", STUDENT)
    assert student == textwrap.dedent('''\
        def docstring_only(x, w):
            """Multiply x (N, D) by w (D, M); returns (N, M)."""
            # YOUR CODE HERE
            raise NotImplementedError''')
    namespace = {}
    exec(student, namespace)
    with pytest.raises(NotImplementedError):
        namespace["docstring_only"](1, 2)


def test_unmarked_class_stubs_every_method_body(fake_key):
    student = answers.expand_solution(f"{fake_key}.Model", STUDENT)
    assert "scale * 7" not in student and "x * self.scale" not in student
    assert 'kind = "toy"' in student and '"""Remember scale."""' in student
    assert student.count("raise NotImplementedError") == 2
    namespace = {}
    exec(student, namespace)
    with pytest.raises(NotImplementedError):
        namespace["Model"](2)


def test_constants_are_sorted_literals_or_empty_answers(fake_key):
    assert answers.expand_solution(f"{fake_key}.ANSWER", SOLUTION) == "ANSWER = {'A', 'C'}"
    assert answers.expand_solution(f"{fake_key}.ANSWER", STUDENT) == \
        "ANSWER = set()  # YOUR ANSWER HERE"
    assert answers.expand_solution(f"{fake_key}.SCALE", SOLUTION) == "SCALE = 3"
    assert answers.expand_solution(f"{fake_key}.SCALE", STUDENT) == \
        "SCALE = None  # YOUR ANSWER HERE"


def test_solution_body_inlines_the_body_without_its_return(fake_key):
    solution = answers.expand_solution_body(f"{fake_key}.walkthrough", SOLUTION)
    assert solution == "fitted = Model(SCALE)\nfitted.data = data"
    student = answers.expand_solution_body(f"{fake_key}.walkthrough", STUDENT)
    assert student == ("# Fit the toy model on `data`.\n# Keep it in `fitted`.\n\n"
                       "# YOUR CODE HERE\nraise NotImplementedError")
    partly = answers.expand_solution_body(f"{fake_key}.partly_marked", STUDENT)
    assert partly.splitlines()[-4:] == ["best = None", "# YOUR CODE HERE",
                                        "raise NotImplementedError", "print(best)"]


def test_transform_writes_both_versions_from_one_source(fake_key):
    src = source_nb(f'''\
        # %%
        # @colab-setup

        # %% [markdown]
        # # Title

        # %%
        import numpy as np
        # @solution {fake_key}.docstring_only

        # %%
        answer = None
        # @solution-body {fake_key}.walkthrough

        # %% [markdown] tags=["solution-only"]
        # Only for instructors.
        ''')
    student = notebooks.transform(src, "99_toy", STUDENT, repository_url="https://x/r",
                                  branch="dev")
    solution = notebooks.transform(src, "99_toy", SOLUTION, repository_url="https://x/r",
                                   branch="dev")
    assert len(student.cells) == 4 and len(solution.cells) == 5
    assert [c.id for c in student.cells] == [f"99_toy-{i:02d}" for i in range(4)]
    assert "git+https://x/r@dev" in student.cells[0].source
    assert student.cells[1].source.startswith("<!-- Generated from exercises/source/99_toy.py")
    assert "Solution notebook, generated from `exercises/source/99_toy.py`" in \
        solution.cells[1].source
    assert "import numpy as np\ndef docstring_only" in student.cells[2].source
    assert "secret = x @ w" not in "".join(code_of(student))
    assert "secret = x @ w" in solution.cells[2].source
    assert solution.cells[4].source == "Only for instructors."
    for nb, kind in ((student, "student"), (solution, "solution")):
        assert nb.metadata["kernelspec"]["name"] == "python3"
        assert nb.metadata["fcnet"]["kind"] == kind
        assert all(c.get("outputs", []) == [] for c in nb.cells)
        nbformat.validate(nb)


def test_nbgrader_mode_marks_exactly_the_regions_the_student_mode_stubs(fake_key):
    """One transform: nbgrader's markers stand where the stubs stand, around the solution."""
    for name in ("marked", "docstring_only", "Model", "ANSWER"):
        marked = answers.expand_solution(f"{fake_key}.{name}", NBGRADER)
        assert marked.count("### BEGIN SOLUTION") == marked.count("### END SOLUTION") >= 1
        stripped = "\n".join(l for l in marked.splitlines() if "### " not in l)
        assert stripped == answers.expand_solution(f"{fake_key}.{name}", SOLUTION), name
        if name != "ANSWER":  # the inline answer's student line is its own (set())
            assert nbgrader_course.clear_solutions(marked) == \
                answers.expand_solution(f"{fake_key}.{name}", STUDENT), name
    assert answers.expand_solution(f"{fake_key}.marked", NBGRADER).splitlines()[-4:] == [
        "    ### BEGIN SOLUTION", "    y = 2 * y", "    ### END SOLUTION", "    return y + 1"]
    body = answers.expand_solution_body(f"{fake_key}.walkthrough", NBGRADER)
    assert body == ("# Fit the toy model on `data`.\n# Keep it in `fitted`.\n\n"
                    "### BEGIN SOLUTION\nfitted = Model(SCALE)\nfitted.data = data\n"
                    "### END SOLUTION")
    partly = answers.expand_solution_body(f"{fake_key}.partly_marked", NBGRADER)
    assert nbgrader_course.clear_solutions(partly) == \
        answers.expand_solution_body(f"{fake_key}.partly_marked", STUDENT)


def test_nbgrader_mode_writes_solution_and_test_cells(fake_key):
    src = source_nb(f'''\
        # %% [markdown]
        # # Title

        # %%
        import numpy as np
        # @solution {fake_key}.docstring_only

        # %%
        # @solution {fake_key}.marked

        # %%
        x = 1

        # %%
        grader.check("sgd")

        # %% [markdown] tags=["solution-only"]
        # Only for instructors.
        ''')
    nb = notebooks.transform(src, "99_toy", NBGRADER)
    meta = [c.metadata.get("nbgrader", {}) for c in nb.cells]
    assert len(nb.cells) == 5 and "Only for instructors" not in str(nb.cells)
    assert [m.get("grade_id") for m in meta] == [None, "answer_docstring_only", "answer_marked",
                                                   None, "test_sgd"]
    assert meta[1]["solution"] and not meta[1]["locked"] and not meta[1]["grade"]
    assert "### BEGIN SOLUTION\n    secret = x @ w" in nb.cells[1].source
    test = nb.cells[4]
    assert meta[4]["locked"] and meta[4]["grade"] and not meta[4]["solution"]
    assert 'run_question("sgd"' in test.source and notebooks.check_cell_qids(test.source) is None
    public, hidden = test.source.split("### BEGIN HIDDEN TESTS\n")
    assert "autograder" not in public
    assert hidden == ('from autograder.routes.nbgrader_route import hidden_score\n'
                      'hidden_score("sgd")\n### END HIDDEN TESTS')
    assert nb.metadata["fcnet"]["kind"] == "nbgrader-source"
    assert [c.id for c in nb.cells] == [f"99_toy-nbg-{i:02d}" for i in range(5)]
    student = notebooks.transform(src, "99_toy", STUDENT)
    assert student.cells[4].metadata["nbgrader"]["grade_id"] == "test_sgd"
    assert student.cells[0].source == nb.cells[0].source  # nbgrader releases it to students


@pytest.mark.parametrize("stem", list(CHAPTERS))
def test_nbgrader_release_code_is_the_student_code(stem):
    """nbgrader's ClearSolutions, applied to the nbgrader version, gives the student's code
    (inline answers aside: nbgrader's stub replaces their `set()` line)."""
    source = notebooks.read_chapters(REPO_ROOT)[stem]
    marked = notebooks.transform(source, stem, NBGRADER)
    student = notebooks.transform(source, stem, STUDENT)
    pairs = [(m, s) for m, s in zip(marked.cells, student.cells)
             if m.metadata.get("nbgrader", {}).get("solution")]
    assert pairs and len(marked.cells) == len(student.cells)
    for m, s in pairs:
        if answers.ANSWER_MARK not in s.source:
            assert nbgrader_course.clear_solutions(m.source) == s.source


@pytest.mark.parametrize("line, message", [
    ("# @solutoin fake_key_pkg.key.marked", "unknown directive"),
    ("# @solution", "needs a dotted name"),
    ("# @colab-setup now", "takes no argument"),
    ("# @solution fake_key_pkg.key.nothing_here", "nothing_here"),
])
def test_bad_directives_name_the_file_and_cell(fake_key, line, message):
    src = source_nb(f"# %% [markdown]\n# Title\n\n# %%\n{line}\n")
    with pytest.raises(notebooks.DirectiveError, match=message) as err:
        notebooks.transform(src, "99_toy", STUDENT)
    assert "exercises/source/99_toy.py, cell 2" in str(err.value)


@pytest.mark.parametrize("cells", [
    ['x = 1\ngrader.check("sgd")', 'grader.check("training")'],  # a check buried in code
    ['grader.check("sgd")', 'grader.check("sgd")\ngrader.check("training")'],  # twice
    ['grader.check("sgd")'],  # a question never checked
])
def test_each_question_is_checked_once_in_a_cell_of_its_own(cells):
    """Such a cell becomes nbgrader's test cell: anything else would lose or double it."""
    src = source_nb("# %% [markdown]\n# Title\n" + "".join(f"\n# %%\n{c}\n" for c in cells))
    with pytest.raises(notebooks.DirectiveError, match="each to be checked once"):
        notebooks.check_chapter_source("05_solver", src)
    good = source_nb('# %% [markdown]\n# T\n\n# %%\ngrader.check("sgd")\n\n# %%\n'
                     '# the graded run\ngrader.check("training")\n')
    notebooks.check_chapter_source("05_solver", good)


def test_colab_cell_reads_the_repository_from_config(tmp_path):
    assert notebooks.repository(tmp_path) == (notebooks.DEFAULT_REPOSITORY_URL, "main")
    (tmp_path / "_config.yml").write_text(
        "repository:\n  url: https://example.org/me/course/\n  branch: release\n")
    url, branch = notebooks.repository(tmp_path)
    assert (url, branch) == ("https://example.org/me/course", "release")
    code = notebooks.colab_setup_source(url, branch)
    compile(code, "colab", "exec")  # plain Python: no magics that other tools cannot parse
    assert '"google.colab" in sys.modules' in code
    assert "git+https://example.org/me/course@release" in code


def test_rebuild_is_byte_identical(tmp_path):
    first, second = tmp_path / "a", tmp_path / "b"
    written = get_step("notebooks").run(REPO_ROOT, first)
    get_step("notebooks").run(REPO_ROOT, second)
    assert len(written) == 2 * 6
    for rel in written:
        assert (first / rel).read_bytes() == (second / rel).read_bytes(), rel
        json.loads((first / rel).read_text())  # well-formed JSON


def test_student_notebooks_hold_no_solution_code(tmp_path):
    get_step("notebooks").run(REPO_ROOT, tmp_path)
    for path in sorted((REPO_ROOT / "exercises" / "source").glob("*.py")):
        source = path.read_text()
        student_nb = nbformat.read(tmp_path / "exercises" / f"{path.stem}.ipynb", as_version=4)
        student_lines = {line.strip() for cell in code_of(student_nb)
                         for line in cell.splitlines()}
        assert not any(line.startswith(("# @", "# BEGIN SOLUTION", "# END SOLUTION"))
                       for line in student_lines), path.name
        # Every line that only the solution has must be absent from the student notebook.
        for kind, name in re.findall(r"^\s*# @(solution|solution-body) (\S+)", source, re.M):
            expand = answers.expand_solution if kind == "solution" \
                else answers.expand_solution_body
            only_solution = {line.strip() for line in expand(name, SOLUTION).splitlines()} \
                - {line.strip() for line in expand(name, STUDENT).splitlines()}
            leaked = sorted(line for line in only_solution & student_lines if line)
            assert not leaked, f"{path.stem}.ipynb shows solution lines of {name}: {leaked}"


def test_public_test_files_run_the_checks_through_otter(tmp_path):
    import inspect

    import numpy as np

    from otter.test_files import ExceptionTestFile

    import answer_key.layers as key

    def as_notebook_code(source, name="affine_forward"):
        """`source` defined as a notebook cell defines it (module __main__): the public
        checks refuse functions imported from packages that grading does not offer."""
        namespace = {"__name__": "__main__", "np": np}
        exec(source, namespace)
        return namespace[name]

    text = public_tests.render_test_file(
        "affine_forward", [c for c in public_tests.CHECKS if c.qid == "affine_forward"])
    assert "do not edit" in text and "OK_FORMAT = False" in text
    path = tmp_path / "affine_forward.py"
    path.write_text(text)
    test_file = ExceptionTestFile.from_file(str(path))

    test_file.run({"affine_forward": as_notebook_code(inspect.getsource(key.affine_forward))})
    assert test_file.passed_all

    test_file.run({"affine_forward": as_notebook_code(
        "def affine_forward(x, w, b):\n    raise NotImplementedError\n")})
    assert not test_file.passed_all and "NOT IMPLEMENTED" in test_file.summary()

    # A mistake the diagnosis recognises is named; any other wrong answer gets the hint.
    test_file.run({"affine_forward": as_notebook_code(
        "def affine_forward(x, w, b):\n    return x.reshape(len(x), -1) @ w, None\n")})
    assert not test_file.passed_all and "Diagnosis: Your output is exactly the right one " \
        "minus b" in " ".join(test_file.summary().split())
    test_file.run({"affine_forward": as_notebook_code(
        "def affine_forward(x, w, b):\n    return 2 * x.reshape(len(x), -1) @ w + b, None\n")})
    assert not test_file.passed_all and "Hint:" in test_file.summary()

    # A function imported from a package that grading does not offer is refused, as in
    # grading: here the answer key's own module.
    test_file.run({"affine_forward": key.affine_forward})
    assert not test_file.passed_all and "NOT AVAILABLE WHEN GRADED" in test_file.summary()

    test_file.run({})
    assert not test_file.passed_all and "not defined yet" in test_file.summary()


def test_staleness_check_reports_changed_missing_and_orphaned_files(tmp_path):
    root = tmp_path / "repo"
    shutil.copytree(REPO_ROOT / "exercises" / "source", root / "exercises" / "source")
    steps = [s for s in STEPS if s.name in ("public-tests", "notebooks")]
    for step in steps:
        step.run(root, root)
    assert stale_files(steps, root, tmp_path / "scratch1") == []

    (root / "exercises" / "02_relu.ipynb").write_text("{}")
    (root / "solutions" / "notebooks" / "03_losses.ipynb").unlink()
    (root / "solutions" / "notebooks" / "07_gone.ipynb").write_text("{}")
    assert stale_files(steps, root, tmp_path / "scratch2") == [
        "exercises/02_relu.ipynb", "solutions/notebooks/03_losses.ipynb",
        "solutions/notebooks/07_gone.ipynb"]


def test_committed_generated_files_are_up_to_date(tmp_path):
    stale = stale_files(STEPS, REPO_ROOT, tmp_path)
    assert not stale, (
        "These generated files are stale (they differ from what the build writes now):\n  "
        + "\n  ".join(stale)
        + "\nFix: run `.venv/bin/python -m course_build all` and commit the files above.")
