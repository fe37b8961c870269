"""python -m autograder grade SUBMISSIONS --out OUT (see autograder/cli.py)."""
import sys

from .cli import main

sys.exit(main())
