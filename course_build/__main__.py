"""Command line of the course build.

    python -m course_build all              run every step, in order
    python -m course_build notebooks        run one step (see --help for the names)
    python -m course_build all --check      regenerate into a temporary folder and list the
                                            committed files that are stale; exit 1 if any
    python -m course_build all --instructor the book step builds the instructor edition
    python -m course_build book --synthetic-data
                                            figures from synthetic images, not CIFAR-10
    python -m course_build publish --to URL push the student release (main) and the student
                                            book (gh-pages) to the public repository
"""
import argparse
import os
import sys
import tempfile
from pathlib import Path

from .publish import PublishError, placeholder_warning, publish
from .steps import STEPS, get_step, run_steps, stale_files

REPO_ROOT = Path(__file__).resolve().parents[1]


def main(argv=None):
    names = [s.name for s in STEPS]
    parser = argparse.ArgumentParser(
        prog="python -m course_build",
        description="Build the course's generated files from their single sources.",
        epilog="steps, in order:\n" + "\n".join(f"  {s.name:<14} {s.help}" for s in STEPS),
        formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("step", nargs="?", default="all", choices=["all", *names, "publish"],
                        help="the step to run (default: all), or publish what was built")
    parser.add_argument("--to", metavar="GIT_URL",
                        help="publish: the public student repository to push to")
    parser.add_argument("--check", action="store_true",
                        help="write nothing; report committed files that a build would change")
    parser.add_argument("--root", type=Path, default=REPO_ROOT,
                        help="repository root (default: the one holding this package)")
    parser.add_argument("--instructor", action="store_true",
                        help="book step: build the instructor edition (solution notebooks "
                             "in place of the exercises) into _build/instructor/html")
    parser.add_argument("--synthetic-data", action="store_true",
                        help="book step: compute the figures from synthetic stand-in images "
                             "instead of CIFAR-10 (a preview: every page says so)")
    args = parser.parse_args(argv)
    if args.instructor:
        os.environ["COURSE_BOOK_EDITION"] = "instructor"  # read by course_build.book
    if args.synthetic_data:
        os.environ["COURSE_BOOK_DATA"] = "synthetic"  # read by course_build.book, the figures

    root = args.root.resolve()
    if args.step == "publish":
        return _publish(root, args.to, parser)
    if args.to:
        parser.error("--to belongs to publish")
    steps = list(STEPS) if args.step == "all" else [get_step(args.step)]
    if not args.check:
        run_steps(steps, root)
        warning = placeholder_warning(root)
        if warning:
            print(warning, file=sys.stderr)
        return 0

    with tempfile.TemporaryDirectory(prefix="course_build_check_") as scratch:
        stale = stale_files(steps, root, scratch)
    if not stale:
        print("All generated files are up to date.")
        return 0
    print("Stale generated files (they differ from what the build writes now):")
    for rel in stale:
        print(f"  {rel}")
    print(f"Fix: python -m course_build {args.step}   (then commit the files above)")
    return 1


def _publish(root, url, parser):
    if not url:
        parser.error("publish needs --to GIT_URL (the public student repository)")
    try:
        publish(root, url)
    except PublishError as error:
        print(f"publish: {error}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main())
