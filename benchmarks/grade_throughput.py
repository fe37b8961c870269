"""Time python -m autograder on 100 full submissions with --workers 2, and print the numbers.

    CIFAR10_ARCHIVE=../shared/data/cifar-10-python.tar.gz \\
    CIFAR10_MD5=f6a5bb329491051f72ffb4c31a1b03bf \\
        .venv/bin/python benchmarks/grade_throughput.py [--count 100] [--workers 2]

Each submission is a copy of the six solution notebooks (solutions/notebooks/) and a
best_model.npz with full points (56.6% measured: trained first with a short run of the
answer key's recipe, or given with --model), so every question runs to the end: ten sandboxed questions, the
training run on CIFAR-10 and the evaluation of the model on the 10,000 test images.
The timed part is the whole command as an instructor runs it (start-up, loading
CIFAR-10, grading, writing grades and feedback). Load average and core count are printed
too: on a shared machine they explain most of the variation.

Then, for where the time goes, `--breakdown N` submissions (default 10) are graded once
more in this process with `--workers 1`, and the wall time of each question (its sandbox
session start included, where it is the session's first task) is printed per submission.
"""
import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]


def _model(path):
    if path:
        return Path(path).read_bytes()
    import io

    import numpy as np

    from answer_key.best_model import train_best_model
    from fcnet.data_utils import get_CIFAR10_data

    print("training a best_model.npz for the submissions (not timed)...", flush=True)
    data = get_CIFAR10_data(dtype=np.float32, num_test=10)
    model, info = train_best_model(data, seed=0, hidden_dim=512, num_components=256,
                                   epochs=3, shift=0, flip=False, fold_flip=True,
                                   verbose=False)
    buffer = io.BytesIO()
    np.savez(buffer, **model.params)
    return buffer.getvalue()


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--count", type=int, default=100, help="submissions (default 100)")
    parser.add_argument("--workers", type=int, default=2, help="--workers (default 2)")
    parser.add_argument("--model", help="a best_model.npz to put in every submission")
    parser.add_argument("--keep", help="keep the submissions and the output in this folder")
    parser.add_argument("--breakdown", type=int, default=10,
                        help="submissions graded again with --workers 1 for the per-question "
                             "breakdown (default 10; 0 skips it)")
    args = parser.parse_args(argv)

    notebooks = sorted((REPO / "solutions" / "notebooks").glob("*.ipynb"))
    if not notebooks:
        parser.error("solutions/notebooks/ is empty: run `make all` first")
    model = _model(args.model)
    work = Path(args.keep or tempfile.mkdtemp(prefix="grade-throughput-"))
    submissions, out = work / "submissions", work / "out"
    shutil.rmtree(submissions, ignore_errors=True)
    shutil.rmtree(out, ignore_errors=True)
    for i in range(args.count):
        folder = submissions / f"student{i:03d}"
        folder.mkdir(parents=True)
        for nb in notebooks:
            shutil.copy(nb, folder / nb.name)
        (folder / "best_model.npz").write_bytes(model)

    load_before = os.getloadavg()
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-m", "autograder", "grade", str(submissions),
                           "--out", str(out), "--workers", str(args.workers),
                           "--no-progress"], capture_output=True, text=True, cwd=REPO)
    seconds = time.perf_counter() - start
    load_after = os.getloadavg()
    if done.returncode != 0:
        print(done.stdout, done.stderr, file=sys.stderr)
        raise SystemExit(f"the grader failed with exit code {done.returncode}")
    grades = json.loads((out / "grades.json").read_text())["grades"]
    totals = sorted({g["total"] for g in grades.values()})

    print(done.stdout.splitlines()[0])
    print(f"submissions:            {args.count} (solution notebooks + best_model.npz)")
    print(f"workers:                {args.workers}")
    print(f"wall time:              {seconds:.1f} s")
    print(f"per submission:         {seconds / args.count:.2f} s")
    print(f"submissions per minute: {60 * args.count / seconds:.1f}")
    print(f"totals seen:            {totals} (every one should be 100)")
    print(f"machine:                {os.cpu_count()} cores, {platform.processor() or platform.machine()}, "
          f"Python {platform.python_version()}")
    print(f"load average:           {load_before[0]:.2f} before, {load_after[0]:.2f} after")
    if args.breakdown:
        _breakdown(submissions, work / "breakdown", args.breakdown)
    if not args.keep:
        shutil.rmtree(work, ignore_errors=True)


def _breakdown(submissions, work, count):
    """Grade `count` of the submissions in this process, one at a time; print where the
    time went, question by question."""
    from autograder import engine

    folder = work / "submissions"
    folder.mkdir(parents=True, exist_ok=True)
    for student in sorted(submissions.iterdir())[:count]:
        shutil.copytree(student, folder / student.name)
    load_before = os.getloadavg()
    start = time.perf_counter()
    outcome = engine.grade(folder, work / "out", engine.Settings(workers=1, progress=False),
                           announce=lambda line: None)
    seconds = time.perf_counter() - start
    print(f"\nbreakdown: {count} submissions, --workers 1, {seconds:.1f} s in all "
          f"({seconds / count:.2f} s per submission; load {load_before[0]:.2f} before, "
          f"{os.getloadavg()[0]:.2f} after)")
    print("  question          seconds per submission")
    for qid, total in sorted(outcome.seconds.items(), key=lambda item: -item[1]):
        print(f"  {qid:<17} {total / count:.3f}")
    print(f"  {'(all questions)':<17} {sum(outcome.seconds.values()) / count:.3f}")


if __name__ == "__main__":
    main()
