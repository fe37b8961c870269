"""Command line of the instructor's grader.

    python -m autograder grade SUBMISSIONS --out OUT [options]   grades, feedback, report.html
    python -m autograder report OUT                              rebuild OUT/report.html
    python -m autograder similarity SUBMISSIONS --out OUT        similarity screening
    python -m autograder export OUT --format canvas|plain        grades for an LMS
"""
import argparse
import os
import sys
from pathlib import Path

from fcnet.chapters import CHAPTERS, QUESTION_IDS

from .points import COURSE_SEED, DEFAULT_MEMORY_MB, DEFAULT_TIMEOUT, QUESTION_POINTS
from fcnet.questions import questions_where
from .reports import lms_exports


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
  OUT/grades.json           {"max_points": {qid: pts}, "grades": {student: {qid: pts, "total": t}},
                             "students": {student: {"notes", "questions": check outcomes}}}
  OUT/feedback/<id>.md      per question: points, each check passed or failed, a hint
  OUT/feedback/<id>.html    the same, as a web page
  OUT/timings.json          seconds each question took, per student
  OUT/report.html           the class report: grade distributions, the checks most
                            failed, the common mistakes, grading health, best_model
  OUT/report.json           the report's numbers
  OUT/similarity.*          with --similarity: see python -m autograder similarity -h
  OUT/<format>_grades.csv   with --export: see python -m autograder export -h

determinism:
  Check inputs are drawn at grading time from seeds derived from --seed, the question
  and the check, so re-running gives the same grades.

data:
  training and best_model use CIFAR-10 through fcnet's loader: set CIFAR10_ARCHIVE to a
  local cifar-10-python.tar.gz (and CIFAR10_MD5 to its md5 when it is not the official
  file), or let it download once. best_model is scored on the full 10,000-image test batch.

exit status:
  0  every submission got a row in the grades, however badly it did
  1  the grades and feedback were written, but the class report, the screening or the
     export failed (a warning says why)
  2  misuse (missing folder, bad option, two submissions for one student, CIFAR-10
     unavailable when needed, bubblewrap unavailable without --no-sandbox), with a
     one-line reason

example:
  python -m autograder grade submissions/ --out grades/ --workers 2
"""


def build_parser():
    parser = argparse.ArgumentParser(prog="python -m autograder",
                                     description="The fcnet course's instructor grader.")
    commands = parser.add_subparsers(dest="command", required=True,
                                     metavar="{grade,report,similarity,export}")
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
    grade.add_argument("--similarity", action="store_true",
                       help="also screen the submissions for similar code (see the "
                            "similarity command); the class report links to it")
    grade.add_argument("--export", choices=lms_exports.FORMATS,
                       help="also write the grades for an LMS (see the export command)")
    _export_options(grade)
    _similarity_options(grade)
    _add_report(commands)
    _add_similarity(commands)
    export = commands.add_parser(
        "export", help="write the grades of a finished run for an LMS",
        description=lms_exports.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    export.add_argument("out", metavar="OUT", type=Path, help="the --out folder of a run")
    export.add_argument("--format", required=True, choices=lms_exports.FORMATS)
    _export_options(export)
    return parser


def _export_options(parser):
    parser.add_argument("--scale", choices=lms_exports.SCALES, default="points",
                        help="grades as total points or as a percentage (default: points)")
    parser.add_argument("--id-column", choices=lms_exports.ID_COLUMNS, default="id",
                        help="plain format: name of the student id column (default: id)")
    parser.add_argument("--assignment", default="Two-layer net",
                        help="canvas format: the assignment's column name (default: "
                             "%(default)s; Canvas adds an assignment of that name)")
    parser.add_argument("--roster", type=Path, metavar="CSV",
                        help="canvas format: the gradebook CSV exported from Canvas, to "
                             "match the student ids to Canvas students")


def _add_report(commands):
    report = commands.add_parser(
        "report", help="rebuild OUT/report.html and report.json from a finished run",
        description="Rebuild the class report (OUT/report.html, OUT/report.json) from what "
                    "python -m autograder grade wrote in OUT (grades.json, timings.json and, "
                    "after screening, similarity.json). Nothing is graded again.")
    report.add_argument("out", metavar="OUT", type=Path, help="the --out folder of a run")


def _add_similarity(commands):
    from .reports import similarity

    screen = commands.add_parser(
        "similarity", help="screen submissions for code that looks copied",
        description=similarity.__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    screen.add_argument("submissions", metavar="SUBMISSIONS", type=Path,
                        help="the same folder python -m autograder grade takes")
    screen.add_argument("--out", required=True, type=Path, metavar="OUT",
                        help="folder for similarity.csv, .json and .html (created); when it "
                             "holds a graded run, its report.html is rebuilt to link them")
    _similarity_options(screen)


def _similarity_options(parser):
    from .reports import similarity

    parser.add_argument("--threshold", type=float, default=similarity.THRESHOLD,
                        help="flag pairs scoring at least this (default: %(default)s)")
    parser.add_argument("--common", type=int, metavar="N",
                        help="code shared by more than N students is common, not evidence "
                             "(default: a tenth of the class, at least 4)")


def _fail(message):
    print(f"autograder: error: {message}", file=sys.stderr)
    return 2


def main(argv=None):
    """Run the command line; return the exit status (0: done, 1: grades written but a
    later step failed, 2: misuse)."""
    args = build_parser().parse_args(argv)
    command = {"grade": _grade, "report": _report, "similarity": _similarity,
               "export": _export}[args.command]
    return command(args)


def _grade(args):
    """Check the options, grade, then write the class report (and, if asked, the
    similarity screening and the LMS export)."""
    from .submissions import UsageError

    try:
        questions = _checked_arguments(args)
    except UsageError as err:
        return _fail(str(err))
    status = _run_grading(args, questions)
    if status:
        return status
    return _class_outputs(args, args.out)


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
    if _check_class_options(args):
        raise UsageError(_check_class_options(args))
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


def _run_grading(args, questions):
    """Open the sandbox, make sure CIFAR-10 is there when needed, grade; 0 when the
    grades are written, else the exit status."""
    from . import data, engine
    from .sandbox import SandboxUnavailable, open_sandbox
    from .submissions import UsageError

    try:
        sandbox = open_sandbox("process" if args.no_sandbox else "bubblewrap", args.memory)
    except SandboxUnavailable as err:
        return _fail(str(err))
    try:
        print(sandbox.description, flush=True)
        needing = questions_where("needs_cifar", questions)
        if needing:
            try:
                data.ensure_available()
            except data.DataUnavailable as err:
                return _fail(f"{err}; {' and '.join(needing)} need CIFAR-10: set "
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
    out = args.out
    print(f"graded {count} submission{'s' if count != 1 else ''}: {out / 'grades.csv'}, "
          f"{out / 'grades.json'}, {out / 'feedback'}/")
    return 0


def _class_outputs(args, out):
    """The class report, and the screening and export when asked; the exit status."""
    try:  # the grades and feedback are written: a failure below must not hide them
        if args.similarity and _similarity(args, out=out, report=False):
            return 2
        if args.export and _export(args, out=out, fmt=args.export):
            return 2
        return _report(args, out=out)
    except Exception as err:
        print(f"autograder: warning: the class report, screening or export failed "
              f"({type(err).__name__}: {err}); grades.csv, grades.json and feedback/ are "
              f"complete", file=sys.stderr)
        return 1


def _check_class_options(args):
    """A one-line reason when --threshold, --common or --roster cannot work, else ""."""
    if args.common is not None and args.common < 1:
        return "--common must be at least 1"
    if not 0 < args.threshold <= 1:
        return "--threshold must be above 0 and at most 1"
    if getattr(args, "roster", None) is not None and not args.roster.is_file():
        return f"--roster {args.roster} is not a file"
    return ""


def _report(args, out=None):
    from .reports.class_report import ReportError, write

    out = out or args.out
    try:
        write(out)
    except ReportError as err:
        return _fail(str(err))
    print(f"class report: {out / 'report.html'} (numbers in {out / 'report.json'})")
    return 0


def _similarity(args, out=None, report=True):
    from .reports import similarity
    from .submissions import UsageError

    out = out or args.out
    if _check_class_options(args):
        return _fail(_check_class_options(args))
    if not args.submissions.is_dir():
        return _fail(f"submissions folder {args.submissions} does not exist or is not a "
                     f"folder")
    if _inside(out, args.submissions):
        return _fail("--out must not be inside SUBMISSIONS")
    try:
        result = similarity.screen(args.submissions, out, common=args.common,
                                   threshold=args.threshold)
    except UsageError as err:
        return _fail(str(err))
    flagged = sum(p["score"] >= result.threshold for p in result.pairs)
    print(f"similarity: {len(result.students)} submissions, {flagged} pairs at or above "
          f"{result.threshold}: {out / 'similarity.html'}, {out / 'similarity.csv'} "
          f"(a reason to look, not proof)")
    if report and (out / "grades.json").is_file():
        return _report(args, out=out)
    return 0


def _export(args, out=None, fmt=None):
    out = out or args.out
    try:
        path, warnings = lms_exports.export(out, fmt or args.format, args.scale,
                                            args.id_column, args.assignment, args.roster)
    except lms_exports.ExportError as err:
        return _fail(str(err))
    for warning in warnings:
        print(f"autograder: warning: {warning}", file=sys.stderr)
    print(f"grades for the LMS: {path}")
    return 0


def _inside(path, folder):
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False
