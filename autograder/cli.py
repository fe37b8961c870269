"""Command line: python -m autograder grade SUBMISSIONS --out OUT [options]."""
import argparse
import os
import sys
from pathlib import Path

from fcnet.chapters import CHAPTERS, QUESTION_IDS

from .points import COURSE_SEED, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, QUESTION_POINTS


def _wrapped(text, width=88):
    import textwrap

    return "\n".join(textwrap.wrap(text, width))


DESCRIPTION = f"""\
Grade the chapter notebooks of many students with the hidden checks.

SUBMISSIONS is a folder holding one folder per student (the folder name is the student
id) or one .zip per student (the file name without .zip is the id), such as the
two_layer_net_submission.zip that fcnet.submit() writes; or an nbgrader course folder
(its submitted/<student>/two_layer_net/); or a Gradescope "Export Submissions" folder
(student ids from its submission_metadata.yml). Each student's files hold the chapter
notebooks, found by the chapter id in their metadata, else by a name such as
{_wrapped(", ".join(s + ".ipynb" for s in CHAPTERS))}
(copies like "Copy of 01_affine_layer.ipynb" or "02_relu (1).ipynb" count; checkpoints
never; of several different copies the latest download, "(2)" over "(1)", is graded and
the feedback says so); any
may be missing. It may also hold best_model.npz (np.savez of W1, b1, W2, b2). Files may
sit in a subfolder; symbolic links are ignored; zips are read, never extracted.

Only definitions are taken from a notebook (imports, functions, classes, constants):
training runs, sweeps and plots never execute. Cells with IPython magics or syntax errors
are skipped and named in the feedback.

Every question of every student runs in its own worker process, inside a bubblewrap
sandbox (no network, no view of the repository, the answer key, this grader or other
students' files; /tmp, size-capped, the only writable place; own PID namespace; new
session) with limits on CPU time, memory (per sandbox by a cgroup where the machine
allows it), processes, file size and output. The first line of the run names the
isolation and the caps in force. Without bubblewrap the grader stops with exit status 2
and says how to install it; --no-sandbox runs the workers as separate processes of your
own user instead (no hiding of files or network: trusted code only; refused as root).
The hidden checks and all comparisons run in this process; a worker only sends back
numbers and arrays. A worker that hangs, crashes, exits, forks or floods its output
costs only that question. See autograder/SECURITY.md.

Decoupled grading: two_layer_net and training run the student's TwoLayerNet (and sgd)
on top of the answer key's layers, so a bug in a layer costs points only under that layer.

Questions and points (set in autograder/points.py):
{_wrapped(", ".join(f"{q} {QUESTION_POINTS[q]}" for q in QUESTION_IDS))};
total {sum(QUESTION_POINTS.values())}. training and best_model need CIFAR-10 (see below).
"""

EPILOG = """\
outputs:
  OUT/grades.csv            student, one column per question id, total
  OUT/grades.json           {"max_points": {qid: pts}, "grades": {student: {qid: pts, "total": t}}}
  OUT/feedback/<id>.md      per question: points, each check passed or failed, a hint
  OUT/feedback/<id>.html    the same, as a web page

determinism:
  Check inputs are drawn at grading time from seeds derived from --seed, the question
  and the check, so re-running gives the same grades.

data:
  training and best_model use CIFAR-10 through fcnet's loader: set CIFAR10_ARCHIVE to a
  local cifar-10-python.tar.gz (and CIFAR10_MD5 to its md5 when it is not the official
  file), or let it download once. best_model is scored on the full 10,000-image test batch.

exit status:
  0  every submission got a row in the grades, however badly it did
  2  misuse (missing folder, bad option, two submissions for one student, CIFAR-10
     unavailable when needed, bubblewrap unavailable without --no-sandbox), with a
     one-line reason

example:
  python -m autograder grade submissions/ --out grades/ --workers 2
"""


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="The fcnet course's instructor grader.")
    commands = parser.add_subparsers(dest="command", required=True, metavar="grade")
    grade = commands.add_parser("grade", help="grade a folder of submissions",
                                description=DESCRIPTION, epilog=EPILOG,
                                formatter_class=argparse.RawDescriptionHelpFormatter)
    grade.add_argument("submissions", metavar="SUBMISSIONS", type=Path,
                       help="folder with one folder or .zip per student, an nbgrader "
                            "course, or a Gradescope export")
    grade.add_argument("--out", required=True, type=Path, metavar="OUT",
                       help="folder for grades.csv, grades.json and feedback/ (created)")
    grade.add_argument("--workers", type=int, default=min(2, os.cpu_count() or 1),
                       metavar="N", help="students graded at the same time, each in its own "
                                         "sandbox (default: 2)")
    grade.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help=f"wall-clock limit of one question's worker; CPU time is "
                            f"limited to the same (default: {DEFAULT_TIMEOUT})")
    grade.add_argument("--memory", type=int, default=DEFAULT_MEMORY_MB, metavar="MB",
                       help=f"address-space limit of a worker process; a whole sandbox may use "
                            f"256 MB more (default: {DEFAULT_MEMORY_MB})")
    grade.add_argument("--seed", type=int, default=COURSE_SEED,
                       help="course seed of the hidden check inputs (default: the one in "
                            "autograder/points.py)")
    grade.add_argument("--questions", metavar="QID,QID",
                       help="grade only these question ids (default: all); the outputs then "
                            "have only their columns")
    grade.add_argument("--no-sandbox", action="store_true",
                       help="run student code as separate processes of your own user, "
                            "without bubblewrap: no isolation of files or network (trusted "
                            "code only; refused as root)")
    grade.add_argument("--no-progress", action="store_true", help="hide the progress bar")
    return parser


def _fail(message):
    print(f"autograder: error: {message}", file=sys.stderr)
    return 2


def main(argv=None):
    """Run the command line; return the exit status (0: graded, 2: misuse)."""
    args = build_parser().parse_args(argv)
    from .submissions import UsageError

    try:
        questions = _checked_arguments(args)
    except UsageError as err:
        return _fail(str(err))
    return _grade(args, questions)


def _checked_arguments(args):
    """The question ids to grade, after checking the options and folders (and creating
    --out); UsageError with the reason for a bad one."""
    from .submissions import UsageError

    if args.workers < 1:
        raise UsageError("--workers must be at least 1")
    if not args.timeout > 0:
        raise UsageError("--timeout must be a positive number of seconds")
    if args.memory < 256:
        raise UsageError("--memory must be at least 256 MB")
    questions = QUESTION_IDS
    if args.questions:
        questions = tuple(q.strip() for q in args.questions.split(",") if q.strip())
        unknown = [q for q in questions if q not in QUESTION_IDS]
        if unknown:
            raise UsageError(f"unknown question id(s) {', '.join(unknown)}; known: "
                             f"{', '.join(QUESTION_IDS)}")
    submissions, out = args.submissions, args.out
    if not submissions.is_dir():
        raise UsageError(f"submissions folder {submissions} does not exist or is not a folder")
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out {out} exists and is not a folder")
    if _inside(out, submissions):
        raise UsageError("--out must not be inside SUBMISSIONS (it would be graded as a "
                         "student)")
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise UsageError(f"cannot create --out {out}: {err.strerror}") from None
    return questions


def _grade(args, questions):
    """Open the sandbox, make sure CIFAR-10 is there when needed, grade; the exit status."""
    from . import data, engine
    from .sandbox import SandboxUnavailable, open_sandbox
    from .submissions import UsageError

    try:
        sandbox = open_sandbox("process" if args.no_sandbox else "bubblewrap", args.memory)
    except SandboxUnavailable as err:
        return _fail(str(err))
    try:
        print(sandbox.description, flush=True)
        if {"training", "best_model"} & set(questions):
            try:
                data.ensure_available()
            except data.DataUnavailable as err:
                return _fail(f"{err}; training and best_model need CIFAR-10: set "
                             f"CIFAR10_ARCHIVE (and CIFAR10_MD5), or pass --questions "
                             f"without them")
        settings = engine.Settings(workers=args.workers, timeout=args.timeout,
                                   memory_mb=args.memory, course_seed=args.seed,
                                   questions=questions, sandbox=sandbox,
                                   progress=not args.no_progress)
        try:
            outcome = engine.grade(args.submissions, args.out, settings,
                                   announce=lambda line: None)
        except UsageError as err:
            return _fail(str(err))
    finally:
        sandbox.close()
    for problem in outcome.internal_errors:
        print(f"autograder: warning: {problem}", file=sys.stderr)
    count = len(outcome.grades)
    print(f"graded {count} submission{'s' if count != 1 else ''}: "
          f"{args.out / 'grades.csv'}, {args.out / 'grades.json'}, {args.out / 'feedback'}/")
    return 0


def _inside(path, folder):
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False
