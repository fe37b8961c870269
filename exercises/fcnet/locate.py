"""Finding a student's chapter notebooks (and best_model.npz) on this machine or on Drive.

Used by carry-forward (`import_notebook`) and by `fcnet.submit()`. Which file is which
chapter, and which copy wins, is decided by `fcnet.chapter_files` (read its rules there).
Where to look, in order; the first place that holds a copy is used:

1. the folder in `$FCNET_CHAPTERS_DIR`, when set;
2. the folder of the running notebook: Jupyter names it in `$JPY_SESSION_NAME`; otherwise
   the working folder, where Jupyter starts a notebook's kernel. On Colab the notebook
   lives on Google's servers, not in a folder, so this step is skipped there;
3. Google Drive, mounted by each chapter's first cell at `/content/drive`:
   `MyDrive/Colab Notebooks/` (where *File -> Save a copy in Drive* puts copies) and one
   level of folders in it, then the rest of `MyDrive/` down to DRIVE_DEPTH folders deep,
   for at most DRIVE_SECONDS seconds (Drive is a network disk);
4. on Colab, the working folder `/content` last (files uploaded to the session).

`$FCNET_DRIVE_ROOT` replaces `/content/drive/MyDrive` (tests point it at a folder).
"""
import hashlib
import os
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from .chapter_files import (CHECKPOINT_FOLDER, MODEL_FILE, Candidate, choose, identify,
                            is_checkpoint, is_model_name, is_notebook_name)

COLAB_DRIVE_ROOT = Path("/content/drive/MyDrive")
COLAB_NOTEBOOKS = "Colab Notebooks"
DRIVE_DEPTH = 4
DRIVE_SECONDS = 20.0
MAX_NOTEBOOK_BYTES = 50 * 2 ** 20    # larger files are identified by name only


def on_colab():
    """True inside a Google Colab runtime (its kernel imports google.colab at start)."""
    return "google.colab" in sys.modules


def drive_root():
    """Where My Drive is mounted: $FCNET_DRIVE_ROOT, else Colab's /content/drive/MyDrive."""
    return Path(os.environ.get("FCNET_DRIVE_ROOT") or COLAB_DRIVE_ROOT)


def notebook_folder():
    """The running notebook's folder, or None when it is unknown (as on Colab)."""
    session = os.environ.get("JPY_SESSION_NAME", "")
    if session and Path(session).is_absolute() and Path(session).is_file():
        return Path(session).parent
    return None if on_colab() else Path.cwd()


@dataclass
class Place:
    folder: Path
    depth: int = 0                       # folders below `folder` searched as well
    skip: tuple = ()                     # sub-folders searched already
    label: str = ""


@dataclass
class Search:
    """The outcome of a search: the copies found and where the search went."""
    found: list = field(default_factory=list)     # identified Candidates of one place
    place: Place = None
    looked: list = field(default_factory=list)    # labels of the places searched
    stopped: str = ""                             # why a search was cut short


def places(stem=None):
    """The places to search for `stem`, in order (see the module docstring)."""
    out = []
    if stem == MODEL_FILE and on_colab():  # chapter 6 saves the model in the working folder
        out.append(Place(Path.cwd(), label="the Colab session's folder"))
    if os.environ.get("FCNET_CHAPTERS_DIR"):
        out.append(Place(Path(os.environ["FCNET_CHAPTERS_DIR"]), label="$FCNET_CHAPTERS_DIR"))
    here = notebook_folder()
    if here is not None:
        out.append(Place(here, label="this notebook's folder"))
    drive = drive_root()
    if drive.is_dir():
        notebooks = drive / COLAB_NOTEBOOKS
        out.append(Place(notebooks, depth=1, label=f"Drive's {COLAB_NOTEBOOKS} folder"))
        out.append(Place(drive, depth=DRIVE_DEPTH, skip=(notebooks,), label="all of My Drive"))
    if on_colab() and stem != MODEL_FILE:
        out.append(Place(Path.cwd(), label="the Colab session's folder"))
    return out


def _files(place, deadline):
    """(path, depth) of the files in `place`, breadth first, hidden folders skipped."""
    frontier, depth = [place.folder], 0
    while frontier and depth <= place.depth:
        next_frontier = []
        for folder in frontier:
            if time.monotonic() > deadline:
                raise TimeoutError(folder)
            try:
                entries = sorted(os.scandir(folder), key=lambda e: e.name)
            except OSError:
                continue
            for entry in entries:
                if entry.is_dir(follow_symlinks=False):
                    if not entry.name.startswith(".") and Path(entry.path) not in place.skip:
                        next_frontier.append(Path(entry.path))
                elif entry.is_file():
                    yield Path(entry.path), depth
        frontier, depth = next_frontier, depth + 1


# (path, mtime, size) -> (stem, by, readable, digest): each notebook on Drive is read
# once per session, not at every import (Drive is a network disk).
_identified = {}


def _candidate(path, depth, root):
    try:
        stat = path.stat()
    except OSError:
        return None
    rel = str(path.relative_to(root))
    key = (str(path), stat.st_mtime_ns, stat.st_size)
    if key not in _identified:
        data = None
        if is_notebook_name(path.name) and stat.st_size <= MAX_NOTEBOOK_BYTES:
            try:
                data = path.read_bytes()
            except OSError:
                return None
        found = identify(Candidate(rel, stat.st_mtime, depth, data))
        digest = hashlib.sha256(data).digest() if data is not None else None
        _identified[key] = (found.stem, found.by, found.readable, digest)
    stem, by, readable, digest = _identified[key]
    # the digest stands in for the contents: identical copies count as one
    return Candidate(rel, stat.st_mtime, depth, digest, stem, by, readable)


def search(stem, seconds=DRIVE_SECONDS):
    """Find the copies of chapter `stem` (or MODEL_FILE) in the first place holding any."""
    result = Search()
    deadline = time.monotonic() + seconds
    for place in places(stem):
        result.looked.append(f"{place.label} ({place.folder})")
        found = []
        try:
            for path, depth in _files(place, deadline):
                if is_checkpoint(path) or not _may_be(stem, path.name):
                    continue
                candidate = _candidate(path, depth, place.folder)
                if candidate is not None and candidate.stem == stem:
                    found.append(candidate)
        except TimeoutError as stop:
            result.stopped = (f"the search stopped after {seconds:g} seconds in {stop}; "
                              f"keep the chapters in My Drive/{COLAB_NOTEBOOKS}")
        if found:
            result.found, result.place = found, place
            return result
        if result.stopped:
            return result
    return result


def _may_be(stem, name):
    return is_model_name(name) if stem == MODEL_FILE else is_notebook_name(name)


def best(stem):
    """(path, Choice) of the copy of `stem` to use, or (None, Search) when none was found."""
    result = search(stem)
    if not result.found:
        return None, result
    choice = choose(result.found)[stem]
    return result.place.folder / choice.chosen.path, choice


def missing_message(stem, result):
    """What to do when chapter `stem` (or the model) was not found, for Colab or not."""
    what = "best_model.npz" if stem == MODEL_FILE else f"your chapter {stem} notebook"
    looked = "; ".join(result.looked) or "nowhere (no folder to search)"
    lines = [f"Could not find {what}. Looked in: {looked}."]
    if result.stopped:
        lines.append(result.stopped[0].upper() + result.stopped[1:] + ".")
    if on_colab() and not drive_root().is_dir():
        lines.append("Google Drive is not mounted: run the first cell of this notebook "
                     "(it mounts Drive and asks for permission), then run this cell again.")
    elif on_colab() and stem != MODEL_FILE:
        lines.append(
            f"On Colab: open chapter {stem} from the book's Colab button, choose File -> "
            f"Save a copy in Drive (the copy goes to My Drive/{COLAB_NOTEBOOKS}; its name "
            f"'Copy of {stem}.ipynb' is fine), do the exercises there and save (Ctrl+S). "
            f"Then run this cell again. If your chapters are in another Drive folder, run "
            f"os.environ['FCNET_CHAPTERS_DIR'] = '/content/drive/MyDrive/<that folder>' first.")
    elif stem == MODEL_FILE:
        lines.append("Run chapter 6's training cells, which save best_model.npz next to the "
                     "notebook (on Colab in /content, which is lost when the session ends).")
    else:
        lines.append(f"Keep all chapter notebooks in one folder and open this one from "
                     f"there, or set FCNET_CHAPTERS_DIR to the folder holding {stem}.ipynb.")
    return " ".join(lines)


__all__ = ["best", "search", "places", "drive_root", "on_colab", "missing_message",
           "CHECKPOINT_FOLDER"]
