"""Time `python -m autograder similarity` on a class of 300 students, and print the numbers.

    .venv/bin/python benchmarks/similarity_speed.py [--count 300]

The class is tests/class_submissions.py's generated class of 39 (solutions, planted
mistakes, missing chapters, a damaged notebook, starter notebooks, two originals and
their copies), written again and again under new student ids until there are `--count`
students. That is harder than a real class: each original's code is shared by one
student per repetition (8 for 300 students), few enough to stay evidence (code shared by
more than a tenth of the class is common), so every one of those pairs is compared in
full. The timed part is the whole command as an instructor runs it: reading every
notebook as data, fingerprinting, comparing, writing similarity.csv, .json and .html.
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
sys.path.insert(0, str(REPO / "tests"))


def build_class(root, count):
    from class_submissions import write_class

    root.mkdir(parents=True)
    made, batch = 0, 0
    while made < count:
        batch += 1
        staging = root.parent / f"batch{batch}"
        write_class(staging)
        for folder in sorted(staging.iterdir()):
            if made == count:
                break
            folder.rename(root / f"{folder.name}_{batch:02d}")
            made += 1
        shutil.rmtree(staging)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=300, help="students (default: 300)")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory(prefix="fcnet-similarity-") as tmp:
        subs, out = Path(tmp) / "class" / "submissions", Path(tmp) / "out"
        build_class(subs, args.count)
        load_before = os.getloadavg()
        started = time.perf_counter()
        done = subprocess.run([sys.executable, "-m", "autograder", "similarity", str(subs),
                               "--out", str(out)], capture_output=True, text=True, cwd=REPO)
        seconds = time.perf_counter() - started
        load_after = os.getloadavg()
        if done.returncode != 0:
            sys.exit(f"similarity failed:\n{done.stderr}")
        result = json.loads((out / "similarity.json").read_text())
    flagged = sum(p["score"] >= result["threshold"] for p in result["pairs"])
    import copydetect
    import numpy

    print(f"machine: {platform.processor() or platform.machine()}, {os.cpu_count()} cores, "
          f"Python {platform.python_version()}, numpy {numpy.__version__}, "
          f"copydetect {copydetect.__version__}")
    print(f"load average: {load_before[0]:.1f} before, {load_after[0]:.1f} after")
    print(f"students: {result['students']}, questions screened: {len(result['questions'])}, "
          f"common above {result['common']} students")
    print(f"pairs with shared uncommon code: {len(result['pairs'])}, flagged: {flagged}")
    print(f"wall time of python -m autograder similarity: {seconds:.1f} s")


if __name__ == "__main__":
    main()
