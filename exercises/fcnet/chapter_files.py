"""Which chapter a notebook file is, and which copy of a chapter to use.

The one home of these rules. Carry-forward (`fcnet.notebook_import`), `fcnet.submit()`
and every grading route (`autograder.submissions`, which the otter bundle and the
nbgrader course also read through) apply them:

1. **Identity.** A notebook is chapter X when its notebook metadata says so:
   ``metadata["fcnet"]["chapter"] == "X"``. Every notebook the course hands out (student,
   solution, nbgrader release) carries it, and Colab, Jupyter and nbgrader keep notebook
   metadata through *Save a copy in Drive*, downloads, renames and collection. So
   ``Copy of 01_affine_layer.ipynb`` and a file renamed ``alice_ch1.ipynb`` are both
   chapter ``01_affine_layer``. A notebook without a valid id is chapter X when its file
   name is ``X.ipynb`` once the marks that copying adds are removed: ``Copy of `` (Colab,
   Drive), `` (1)`` (a browser's second download), `` - Copy`` (Windows), `` copy`` and
   `` 2`` (macOS).
2. **Checkpoints are never used.** Files in ``.ipynb_checkpoints/`` or named
   ``*-checkpoint.ipynb`` are Jupyter's automatic snapshots, not the student's work.
3. **Several copies of one chapter.** Copies with identical contents count as one. A copy
   that is a readable notebook beats one that is not. Then:

   - *carry-forward and fcnet.submit()* (files on the disk the student works on): the
     newest (latest modification time) is used;
   - *grading*: modification times do not survive every route (otter and Gradescope
     unpack zips without them), so every grader decides from names alone, and all routes
     grade the same copy: the latest download (the highest `` (n)``) first.

   Still tied: the copy with the course's own file name, then the one nearest the top,
   then the first by path.
4. **The model file** is ``best_model.npz``, or a copy of it named as in rule 1
   (``best_model (1).npz``); several copies: rule 3.

When grading, a copy used under another name, or chosen among different copies, is named
in the student's feedback (`Choice.notes`).
"""
import json
import re
import time
from dataclasses import dataclass, field
from pathlib import PurePosixPath


METADATA_KEY = "fcnet"          # notebook metadata: {"fcnet": {"chapter": "<stem>"}}
MODEL_FILE = "best_model.npz"
# The assignment's name: nbgrader's assignment folder, and the hand-in zip's folder.
ASSIGNMENT = "two_layer_net"
CHECKPOINT_FOLDER = ".ipynb_checkpoints"

# Marks that copying adds to a file name (applied repeatedly, case-insensitively).
_PREFIXES = re.compile(r"^(copy of |copia de |kopie von |copie de )", re.IGNORECASE)
_SUFFIXES = re.compile(r"(\s*\(\d+\)| - copy| copy| \d+)$", re.IGNORECASE)


def chapter_in_metadata(document):
    """The chapter id a notebook's metadata names (a parsed notebook dict), else None."""
    if not isinstance(document, dict):
        return None
    metadata = document.get("metadata")
    own = metadata.get(METADATA_KEY) if isinstance(metadata, dict) else None
    stem = own.get("chapter") if isinstance(own, dict) else None
    return stem if isinstance(stem, str) and stem in _chapters() else None


def base_name(name):
    """A file name without the marks copying adds: `Copy of a (1).ipynb` -> `a.ipynb`."""
    name = PurePosixPath(str(name).replace("\\", "/")).name
    stem, dot, ext = name.rpartition(".")
    if not dot:
        stem, ext = name, ""
    previous = None
    while stem != previous:
        previous = stem
        stem = _PREFIXES.sub("", stem).strip()
        stem = _SUFFIXES.sub("", stem).strip()
    return f"{stem}.{ext}" if dot else stem


def is_checkpoint(path):
    """True for Jupyter's automatic snapshots (never used, rule 2)."""
    parts = PurePosixPath(str(path).replace("\\", "/")).parts
    return CHECKPOINT_FOLDER in parts or parts[-1].lower().endswith("-checkpoint.ipynb")


def chapter_in_name(name):
    """The chapter a file name stands for (rule 1's fallback), else None."""
    base = base_name(name)
    if not base.lower().endswith(".ipynb"):
        return None
    stem = base[:-len(".ipynb")]
    return stem if stem in _chapters() else None


def is_model_name(name):
    return base_name(name) == MODEL_FILE


def is_notebook_name(name):
    return str(name).lower().endswith(".ipynb")


def parse_notebook(data):
    """The notebook's JSON as a dict, or None when `data` (bytes) is not a notebook."""
    try:
        document = json.loads(data.decode("utf-8-sig"))
    except (UnicodeDecodeError, ValueError, RecursionError):
        return None
    return document if isinstance(document, dict) else None


@dataclass
class Candidate:
    """One file that may be a chapter notebook or the model."""
    path: str                  # as shown to the student: relative to the searched folder
    mtime: float = 0.0         # seconds since the epoch
    depth: int = 0             # folders below the searched folder
    data: bytes = None         # the file's contents, when read
    stem: str = None           # chapter id (MODEL_FILE for the model), set by identify
    by: str = ""               # "metadata" or "file name"
    readable: bool = True      # parses as JSON (notebooks)
    fingerprint: object = None  # stands for the contents when `data` is not kept (a hash)

    @property
    def name(self):
        return PurePosixPath(self.path.replace("\\", "/")).name

    @property
    def contents(self):
        """What tells identical copies apart: the fingerprint, else the data, else None."""
        return self.fingerprint if self.fingerprint is not None else self.data


def identify(candidate):
    """Set `candidate.stem` and `.by` from its data (metadata) or its name; return it."""
    candidate.stem, candidate.by = None, ""
    if is_checkpoint(candidate.path):
        return candidate
    if is_model_name(candidate.name):
        candidate.stem, candidate.by = MODEL_FILE, "file name"
        return candidate
    if not is_notebook_name(candidate.name):
        return candidate
    document = parse_notebook(candidate.data) if candidate.data is not None else None
    candidate.readable = document is not None or candidate.data is None
    stem = chapter_in_metadata(document)
    if stem:
        candidate.stem, candidate.by = stem, "metadata"
    elif chapter_in_name(candidate.name):
        candidate.stem, candidate.by = chapter_in_name(candidate.name), "file name"
    return candidate


def _canonical(stem):
    return stem if stem == MODEL_FILE else f"{stem}.ipynb"


_DOWNLOAD_NUMBER = re.compile(r"\((\d+)\)")


def download_number(name):
    """The n of a browser's `name (n).ipynb` (0 when there is none)."""
    numbers = _DOWNLOAD_NUMBER.findall(PurePosixPath(str(name)).stem)
    return max((int(n) for n in numbers), default=0)


def _order(candidate, by_time):
    """Sort key of rule 3: the copy to use comes first."""
    return (not candidate.readable, -candidate.mtime if by_time else 0,
            -download_number(candidate.name), candidate.name != _canonical(candidate.stem),
            candidate.depth, candidate.path)


def _when(mtime):
    return time.strftime("%Y-%m-%d %H:%M", time.localtime(mtime)) if mtime else "unknown"


@dataclass
class Choice:
    """The copy used for one chapter (or the model), and the different copies left out."""
    stem: str
    chosen: Candidate
    others: list = field(default_factory=list)
    by_time: bool = True

    def notes(self):
        """Sentences for the student's feedback: a renamed file, several copies."""
        return [n for n in (self.renamed_note(), self.copies_note()) if n]

    def renamed_note(self):
        chosen = self.chosen
        if chosen.name == _canonical(self.stem):
            return ""
        how = ("its notebook metadata names the chapter" if chosen.by == "metadata"
               else "its file name marks a copy of " + _canonical(self.stem))
        return f"{chosen.path} was used as {_describe(self.stem)} ({how})"

    def _reason(self):
        return _reason_text(self)

    def copies_note(self):
        if not self.others:
            return ""
        chosen = self.chosen
        left = "; ".join(f"{c.path} (modified {_when(c.mtime)})" for c in self.others)
        reason = self._reason()
        return (f"{len(self.others) + 1} different copies of {_describe(self.stem)} were "
                f"found: used {chosen.path} (modified {_when(chosen.mtime)}, {reason}); "
                f"ignored {left}")


def _reason_text(choice):
    chosen, others = choice.chosen, choice.others
    if choice.by_time and all(c.mtime < chosen.mtime for c in others):
        return "the newest"
    if not choice.by_time and all(download_number(c.name) < download_number(chosen.name)
                                  for c in others):
        return "the latest download"
    return "by the rules in fcnet/chapter_files.py"


def _describe(stem):
    return "the model file" if stem == MODEL_FILE else f"chapter {stem}"


def choose(candidates, by_time=True):
    """{stem: Choice} over identified candidates (rules 2 and 3); others are ignored.
    by_time=False is the graders' rule: names only, never modification times."""
    groups = {}
    for candidate in candidates:
        if candidate.stem:
            groups.setdefault(candidate.stem, []).append(candidate)
    choices = {}
    for stem, group in groups.items():
        ordered = sorted(group, key=lambda c: _order(c, by_time))
        chosen, others, seen = ordered[0], [], {ordered[0].contents}
        for candidate in ordered[1:]:
            if candidate.contents is not None and candidate.contents in seen:
                continue  # an identical copy is not a different one
            seen.add(candidate.contents)
            others.append(candidate)
        choices[stem] = Choice(stem, chosen, others, by_time)
    return choices


def checkpoint_notes(candidates, choices):
    """Notes for chapters found only as Jupyter checkpoints (which are never used)."""
    notes = []
    for candidate in candidates:
        stem = chapter_in_name(candidate.name.replace("-checkpoint", "")) \
            if is_checkpoint(candidate.path) else None
        if stem and stem not in choices:
            notes.append(f"{candidate.path} is a Jupyter checkpoint (an automatic snapshot) "
                         f"and is never graded; hand in the notebook itself")
    return notes


def _chapters():
    # Imported when first needed: the question modules, which fcnet.chapters reads,
    # import this module for MODEL_FILE.
    from .chapters import CHAPTERS

    return CHAPTERS
