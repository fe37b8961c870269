"""Every command that the README and the guides show in a shell block runs as written.

The pages: README.md, docs/instructors.md, docs/adopting.md, the book's For students and
For instructors pages, and CONTRIBUTING.md's "Before you push". Each command in their
```bash blocks is listed in COMMANDS below with how this file checks it:

- run: cheap, run for real (in a scratch folder or a copy where it writes anything);
- dry: `make -n` (what make would run) for the make targets, which take minutes;
- help: expensive or needs the user's own files (a student's upload, a class, the network):
  its program and subcommand resolve (`--help` lists the options it uses) and every
  repository path it names exists;
- placeholder: it sets a variable to a value the reader fills in; the variable is one the
  course reads;
- elsewhere: another test runs it for real (named).

A command on a page that is not in COMMANDS fails the first test, so a new command is never
left unchecked; an entry no page shows any more fails it too.
"""
import os
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PAGES = ["README.md", "docs/instructors.md", "docs/adopting.md", "book/for_students.md",
         "book/for_instructors.md", ("CONTRIBUTING.md", "## Before you push")]
SHELLS = ("bash", "sh", "shell")
VENV_PYTHON = ".venv/bin/python"


def page_text(page):
    if isinstance(page, tuple):
        path, section = page
        text = (ROOT / path).read_text(encoding="utf-8")
        return text.split(section, 1)[1].split("\n## ", 1)[0]
    return (ROOT / page).read_text(encoding="utf-8")


def fenced_commands(text):
    """The commands of the text's shell blocks: continuation lines joined, comments dropped,
    each as its shell words joined by single spaces."""
    commands, language, pending = [], None, ""
    for line in text.splitlines():
        stripped = line.strip()
        if language is None:
            if stripped.startswith("```"):
                language = stripped[3:].strip() or "text"
            continue
        if stripped.startswith("```"):
            language = None
            continue
        if language not in SHELLS:
            continue
        if stripped.endswith("\\"):
            pending += stripped[:-1] + " "
            continue
        words = shlex.split(pending + stripped, comments=True)
        pending = ""
        if words:
            commands.append(" ".join(words))
    return commands


def documented():
    return {command: page for page in PAGES for command in fenced_commands(page_text(page))}


# ----------------------------------------------------------------------------- the checks

def dry_make(target, *variables, shows):
    def check(tmp_path):
        run = subprocess.run(["make", "-n", target, *variables], cwd=ROOT, capture_output=True,
                             text=True)
        assert run.returncode == 0, run.stderr
        assert shows in run.stdout, run.stdout
    return check


def helps(args, options=(), paths=()):
    """`args --help` exits 0 and lists `options`; the repository paths exist."""
    def check(tmp_path):
        command = [sys.executable if a == VENV_PYTHON else a for a in args]
        # the pages put the course's environment first on PATH before such a command
        env = {**os.environ,
               "PATH": f"{Path(sys.executable).parent}{os.pathsep}{os.environ.get('PATH', '')}"}
        run = subprocess.run([*command, "--help"], cwd=ROOT, capture_output=True, text=True,
                             timeout=300, env=env)
        assert run.returncode == 0, run.stderr[-2000:]
        for option in options:
            assert option in run.stdout, (option, run.stdout)
        for path in paths:
            assert (ROOT / path).exists(), path
    return check


def course_reads(*variables):
    def check(tmp_path):
        source = (ROOT / "exercises" / "fcnet" / "data_utils.py").read_text()
        for variable in variables:
            assert f'"{variable}"' in source or variable in source, variable
    return check


def elsewhere(test_file, test_name):
    def check(tmp_path):
        assert f"def {test_name}(" in (ROOT / "tests" / test_file).read_text()
    return check


def venv_on_path(tmp_path):
    run = subprocess.run(["bash", "-c", 'export PATH="$PWD/.venv/bin:$PATH" && '
                          "command -v python nbgrader"], cwd=ROOT, capture_output=True,
                         text=True)
    assert run.returncode == 0, run.stderr
    assert all(line.startswith(str(ROOT / ".venv" / "bin")) for line in run.stdout.split())


def nbgrader_on_the_hub(tmp_path):
    """The guide's nbgrader block, for real in a scratch home: copy the course, release
    the assignment, export (autograde and feedback need a class: test_nbgrader_course)."""
    home = tmp_path / "home"
    home.mkdir()
    env = {**os.environ, "HOME": str(home),
           "PATH": f"{ROOT / '.venv' / 'bin'}{os.pathsep}{os.environ.get('PATH', '')}"}
    script = """set -e
cp -r autograder/dist/nbgrader ~/fcnet-course && cd ~/fcnet-course
nbgrader generate_assignment two_layer_net
nbgrader export
"""
    run = subprocess.run(["bash", "-c", script], cwd=ROOT, env=env, capture_output=True,
                         text=True, timeout=1800)
    assert run.returncode == 0, (run.stdout + run.stderr)[-3000:]
    course = home / "fcnet-course"
    assert sorted(p.name for p in (course / "release" / "two_layer_net").glob("*.ipynb")) == \
        sorted(p.name for p in (ROOT / "exercises").glob("[0-9][0-9]_*.ipynb"))
    assert (course / "grades.csv").is_file()


def similarity_for_real(tmp_path):
    """Two students who handed in the solution notebooks: screened, nothing executed."""
    for student in ("alice", "bob"):
        shutil.copytree(ROOT / "solutions" / "notebooks", tmp_path / "submissions" / student)
    run = subprocess.run([sys.executable, "-m", "autograder", "similarity", "submissions/",
                          "--out", "grades/"], cwd=tmp_path, capture_output=True, text=True,
                         timeout=600)
    assert run.returncode == 0, run.stderr[-2000:]
    assert (tmp_path / "grades" / "similarity.csv").is_file()


def publish_resolves(tmp_path):
    """The adopters' publish command, with --root at an unbuilt course: it parses, and stops
    before touching the network (test_publish.py publishes for real, to a local repository)."""
    run = subprocess.run([sys.executable, "-m", "course_build", "publish", "--to",
                          "git@github.com:your-university/nn-course.git", "--root",
                          str(tmp_path)], cwd=ROOT, capture_output=True, text=True)
    assert run.returncode == 2 and "make all" in run.stderr, run.stderr


def student_clone_url(tmp_path):
    """The page writes the placeholder repository; the book shows the one the build
    publishes to (_config.yml), and an adopter's URL replaces it, folder name included."""
    sys.path.insert(0, str(ROOT / "book" / "_ext"))
    from course_book import name_the_student_repository
    from course_build.notebooks import DEFAULT_REPOSITORY_URL, repository

    page = (ROOT / "book" / "for_students.md").read_text(encoding="utf-8")
    url, _ = repository(ROOT)
    assert f"git clone {url}.git" in name_the_student_repository(page, url)
    adopted = name_the_student_repository(page, "https://github.com/uni/nn-course/")
    assert "git clone https://github.com/uni/nn-course.git" in adopted
    assert "cd nn-course\n" in adopted and DEFAULT_REPOSITORY_URL not in adopted


def student_setup(tmp_path):
    """The student's local setup, in a copy of the student release: the folder is named as
    the clone would be, the venv is made for real, the files pip and jupyter read exist."""
    from course_build import student_release
    from course_build.notebooks import repository

    student_release.build(ROOT, ROOT)
    name = repository(ROOT)[0].rsplit("/", 1)[-1]
    clone = tmp_path / name
    shutil.copytree(ROOT / student_release.RELEASE_DIR, clone)
    run = subprocess.run(["python3", "-m", "venv", "--without-pip", ".venv"], cwd=clone,
                         capture_output=True, text=True)
    assert run.returncode == 0, run.stderr
    assert (clone / ".venv" / "bin" / "activate").is_file()
    for needed in ("requirements.txt", "pyproject.toml", "exercises"):
        assert (clone / needed).exists(), needed


def git_status(tmp_path):
    run = subprocess.run(["git", "status", "--porcelain"], cwd=ROOT, capture_output=True)
    assert run.returncode == 0


GRADE = [VENV_PYTHON, "-m", "autograder", "grade"]
COMMANDS = {
    # README, docs/adopting.md, CONTRIBUTING.md
    "make all": ("dry", dry_make("all", shows="-m course_build all")),
    "make test": ("dry", dry_make("test", shows="-m pytest")),
    "make test-fast": ("dry", dry_make("test-fast", shows="-m pytest -m \"not slow and not cifar and not sandbox\"")),
    "git status --porcelain": ("run", git_status),
    ".venv/bin/python -m course_build publish --to git@github.com:your-university/nn-course.git":
        ("help", publish_resolves),
    # book/for_instructors.md
    "make all BUILD_FLAGS=--instructor": ("dry", dry_make("all", "BUILD_FLAGS=--instructor",
                                                          shows="all --instructor")),
    # docs/instructors.md
    "export PATH=$PWD/.venv/bin:$PATH": ("run", venv_on_path),
    "export CIFAR10_ARCHIVE=/path/to/cifar-10-python.tar.gz CIFAR10_MD5=<its md5>":
        ("placeholder", course_reads("CIFAR10_ARCHIVE", "CIFAR10_MD5")),
    "export CIFAR10_ARCHIVE=/path/to/cifar-10-python.tar.gz":
        ("placeholder", course_reads("CIFAR10_ARCHIVE")),
    "export CIFAR10_MD5=<md5 of that file>": ("placeholder", course_reads("CIFAR10_MD5")),
    "python -m autograder.routes.otter_route run alice.zip -a "
    "autograder/dist/otter/two_layer_net-autograder.zip -o results/":
        ("help", helps(["python", "-m", "autograder.routes.otter_route", "run"], ["-a", "-o"],
                       ["autograder/dist/otter/two_layer_net-autograder.zip"])),
    "cp -r autograder/dist/nbgrader ~/fcnet-course && cd ~/fcnet-course":
        ("run", nbgrader_on_the_hub),
    "nbgrader generate_assignment two_layer_net": ("run", nbgrader_on_the_hub),
    "nbgrader autograde two_layer_net":
        ("elsewhere", elsewhere("test_nbgrader_course.py",
                                "test_every_question_agrees_with_python_m_autograder")),
    "nbgrader generate_feedback two_layer_net":
        ("elsewhere", elsewhere("test_nbgrader_course.py",
                                "test_feedback_shows_each_questions_checks")),
    "nbgrader export": ("run", nbgrader_on_the_hub),
    ".venv/bin/python -m autograder grade submissions/ --out grades/ --workers 2 --timeout 60":
        ("help", helps(GRADE, ["--out", "--workers", "--timeout"])),
    ".venv/bin/python -m autograder grade ~/fcnet-course/ --out grades/":
        ("elsewhere", elsewhere("test_submission_layouts.py",
                                "test_guide_layout_commands_work_as_written")),
    ".venv/bin/python -m autograder grade gradescope_export/ --out grades/":
        ("elsewhere", elsewhere("test_submission_layouts.py",
                                "test_guide_layout_commands_work_as_written")),
    ".venv/bin/python -m autograder similarity submissions/ --out grades/":
        ("run", similarity_for_real),
    # book/for_students.md (the student's machine, from the public repository)
    "git clone https://github.com/fcnet-course/fcnet-student.git": ("help", student_clone_url),
    "cd fcnet-student": ("run", student_setup),
    "python3 -m venv .venv": ("run", student_setup),
    "source .venv/bin/activate": ("run", student_setup),
    "pip install -r requirements.txt": ("help", student_setup),
    "pip install -e .": ("help", student_setup),
    "pip install jupyterlab": ("help", helps(["pip", "install"])),
    "jupyter lab exercises/": ("help", helps(["jupyter", "lab"])),
}
SLOW_CHECKS = {nbgrader_on_the_hub}  # about a minute: nbgrader's database and conversions


def test_every_documented_command_is_checked():
    shown = documented()
    unchecked = sorted(set(shown) - set(COMMANDS))
    assert not unchecked, "commands shown but not checked here (add them to COMMANDS):\n" + \
        "\n".join(f"  {shown[c]}: {c}" for c in unchecked)
    assert not set(COMMANDS) - set(shown), set(COMMANDS) - set(shown)


def _checks(slow):
    seen, params = set(), []
    for command, (how, check) in COMMANDS.items():
        if check in seen or (check in SLOW_CHECKS) != slow:
            continue
        seen.add(check)
        params.append(pytest.param(check, id=f"{how}: {command[:60]}"))
    return params


@pytest.mark.parametrize("check", _checks(slow=False))
def test_documented_command(check, tmp_path):
    check(tmp_path)


@pytest.mark.slow
@pytest.mark.parametrize("check", _checks(slow=True))
def test_documented_command_that_takes_a_minute(check, tmp_path):
    check(tmp_path)


@pytest.mark.parametrize("page", ["README.md", "docs/instructors.md", "docs/adopting.md",
                                  "benchmarks/README.md"])
def test_every_relative_link_resolves(page):
    """The README's one page per reader, and the guides' links, lead somewhere."""
    import re

    text = re.sub(r"`[^`\n]*`", "", (ROOT / page).read_text(encoding="utf-8"))
    links = [m[1] for m in re.finditer(r"\]\(([^)#\s]+)(?:#[^)]*)?\)", text)
             if "://" not in m[1]]
    broken = [link for link in links if not ((ROOT / page).parent / link).exists()]
    assert not broken, broken
    if page == "README.md":
        for reader_page in ("book/for_students.md", "docs/instructors.md", "docs/adopting.md",
                            "CONTRIBUTING.md", "autograder/SECURITY.md", "benchmarks/README.md"):
            assert f"]({reader_page})" in text, reader_page
        assert len((ROOT / page).read_text(encoding="utf-8").splitlines()) < 150


def test_the_readme_holds_no_dated_measurement_and_bubblewrap_is_required_everywhere():
    import re

    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert not re.search(r"\b20\d\d-\d\d-\d\d\b|load average", readme)
    for page in ("README.md", "docs/instructors.md", "docs/adopting.md", "CONTRIBUTING.md",
                 "autograder/SECURITY.md", "book/for_instructors.md"):
        text = " ".join((ROOT / page).read_text(encoding="utf-8").split()).lower()
        assert not re.search(r"prefer\w* `?bubblewrap|bubblewrap`? (is )?preferred", text), page
