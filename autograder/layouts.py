"""The folder layouts instructors receive, and who each submission belongs to.

`find_submissions(root)` recognises, in this order:

- **a Gradescope "Export Submissions" folder**: `submission_metadata.yml` next to one
  `submission_<id>/` folder per submission. The metadata maps each folder to its
  submitters (`:submitters:` with `:name:`, `:sid:`, `:email:`); the student id is the
  submitter's name with their `:sid:` (else `:email:`), as "Alice Adams (1001)" (group
  members joined by " + "); display names are chosen by students, so the sid tells two
  "Alice Adams" apart. An id that still repeats gets its submission folder appended, and
  a collision never stops the batch. Folders the metadata does not name keep their
  folder name.
- **an nbgrader course folder** (it holds `submitted/`, `nbgrader_config.py` or
  `gradebook.db`) or its `submitted/` folder: `submitted/<student>/two_layer_net/`.
- **a folder with one folder or one .zip per student** (for example of the
  `two_layer_net_submission.zip` files `fcnet.submit()` writes): the name, without
  `.zip`, is the student id.

In every layout, a student's folder that holds nothing but one .zip is read from that zip
(an upload of the submission zip). Returns [(student id, path)] sorted by student id;
raises LayoutError on misuse (the CLI turns it into a one-line error).
"""
import re
from pathlib import Path

from fcnet.chapter_files import ASSIGNMENT

GRADESCOPE_METADATA = "submission_metadata.yml"
NBGRADER_ASSIGNMENT = ASSIGNMENT
NBGRADER_MARKERS = ("nbgrader_config.py", "gradebook.db")


class LayoutError(ValueError):
    """The submissions folder cannot be read as any known layout."""


def find_submissions(root):
    root = Path(root)
    if not root.exists():
        raise LayoutError(f"submissions folder {root} does not exist")
    if not root.is_dir():
        raise LayoutError(f"{root} is not a folder (give the folder that holds one folder "
                          f"or .zip per student)")
    if (root / GRADESCOPE_METADATA).is_file():
        found = gradescope_export(root)
    elif _is_nbgrader_course(root):
        found = nbgrader_submitted(root / "submitted")
    elif _is_nbgrader_submitted(root):
        found = nbgrader_submitted(root)
    else:
        found = one_per_student(root)
    return sorted(found.items())


def _entries(root, links=False):
    """Folders and .zip files directly in `root` (hidden ones, stray files and, unless
    `links`, symbolic links not)."""
    for entry in sorted(root.iterdir()):
        name = entry.name
        if name.startswith(".") or name == "__MACOSX" or \
                (entry.is_symlink() and not links):
            continue
        if links and entry.is_symlink():
            yield entry
            continue
        if entry.is_dir() or (entry.is_file() and name.lower().endswith(".zip")):
            yield entry


def _add(found, student, path):
    if student in found:
        raise LayoutError(f"two submissions for student {student!r} "
                          f"({found[student].name} and {path.name}); keep one")
    found[student] = _unwrap(path)


def _unwrap(path):
    """A folder holding nothing but one .zip stands for that zip (an uploaded zip).
    A link stays a link: reading refuses it, with a note (submissions.read_files)."""
    if path.is_symlink() or not path.is_dir():
        return path
    try:
        entries = [e for e in path.iterdir() if not e.name.startswith(".")
                   and e.name != "__MACOSX"]
    except OSError:
        return path
    if len(entries) == 1 and entries[0].is_file() and not entries[0].is_symlink() \
            and entries[0].name.lower().endswith(".zip"):
        return entries[0]
    return path


def one_per_student(root):
    found = {}
    for entry in _entries(root):
        student = entry.name[:-4] if entry.is_file() else entry.name
        _add(found, student, entry)
    return found


# ----------------------------------------------------------------------------- nbgrader

def _is_nbgrader_course(root):
    return (root / "submitted").is_dir() and (
        any((root / m).exists() for m in NBGRADER_MARKERS) or (root / "source").is_dir())


def _is_nbgrader_submitted(root):
    students = [e for e in _entries(root) if e.is_dir()]
    return bool(students) and root.name == "submitted" and \
        all((s / NBGRADER_ASSIGNMENT).is_dir() for s in students)


def nbgrader_submitted(submitted):
    """submitted/<student>/two_layer_net/ (students without that folder are left out).

    A student's folder or assignment folder that is a symbolic link (a zip can unpack
    `two_layer_net -> ../bob/two_layer_net`) is listed as that link, so the student gets
    a row and a note saying it was not followed, and is never graded through it.
    """
    found = {}
    for student in _entries(submitted, links=True):
        folder = student / NBGRADER_ASSIGNMENT
        if student.is_symlink():
            _add(found, student.name, student)
        elif folder.is_symlink() or (student.is_dir() and folder.exists()):
            _add(found, student.name, folder)
    return found


# ----------------------------------------------------------------------------- Gradescope

def _safe_id(text):
    """A student id usable as a file name (feedback/<id>.md)."""
    text = re.sub(r"[\x00-\x1f/\\:*?\"<>|]+", "_", str(text)).strip(" .")
    return text[:120] or "unnamed"


def _submitters(entry):
    """[{"name", "sid", "email"}] of one metadata entry (missing fields are "")."""
    if not isinstance(entry, dict):
        return []
    people = entry.get(":submitters") or entry.get("submitters") or []
    found = []
    for person in people if isinstance(people, list) else []:
        if not isinstance(person, dict):
            continue
        sid, email = (str(person.get(f":{key}") or person.get(key) or "").strip()
                      for key in ("sid", "email"))
        name = str(person.get(":name") or person.get("name") or sid or email)
        if name:
            found.append({"name": name, "sid": sid, "email": email})
    return found


def read_gradescope_metadata(root):
    """{folder name: [{"name", "sid", "email"}]} from the export's
    submission_metadata.yml."""
    import yaml

    path = Path(root) / GRADESCOPE_METADATA
    try:
        metadata = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (OSError, UnicodeDecodeError, yaml.YAMLError) as err:
        raise LayoutError(f"{path} could not be read ({type(err).__name__}); re-download "
                          f"the export from Gradescope") from None
    if not isinstance(metadata, dict):
        raise LayoutError(f"{path} is not Gradescope's submission metadata (expected one "
                          f"entry per submission folder)")
    return {str(folder): _submitters(entry) for folder, entry in metadata.items()}


def _person(person):
    name, sid = _safe_id(person["name"]), person["sid"] or person["email"]
    sid = _safe_id(sid)[:60] if sid else ""
    return f"{name} ({sid})" if sid and sid != name else name


def gradescope_export(root):
    """{student id: path}. Ids are "Name (sid)" per submitter (display names are chosen
    by students, so two can match); an id that still repeats after cleaning gets its
    submission folder name, and, should that repeat too, a counter. Nothing here stops
    the batch."""
    return {student: path for student, (path, _) in _gradescope_students(root).items()}


def submitters(root):
    """{student id: [{"name", "sid", "email"}]} of the submitters behind each id, as the
    Gradescope export's metadata states them (exports match students by these, never by
    the display name); {} for the other layouts, whose ids are the instructor's."""
    root = Path(root)
    if not (root / GRADESCOPE_METADATA).is_file():
        return {}
    return {student: people for student, (_, people) in _gradescope_students(root).items()}


def _gradescope_students(root):
    """{student id: (path, submitters)} of a Gradescope export (see gradescope_export)."""
    people = read_gradescope_metadata(root)
    wanted = [(entry, " + ".join(_person(p) for p in people.get(entry.name, []))
               or _safe_id(entry.name)) for entry in _entries(root)]
    counts = {}
    for _, student in wanted:
        counts[student] = counts.get(student, 0) + 1
    found = {}
    for entry, student in wanted:
        if counts[student] > 1:
            student += f" ({_safe_id(entry.name)})"
        unique, n = student, 1
        while unique in found:
            n += 1
            unique = f"{student} ({n})"
        found[unique] = (_unwrap(entry), people.get(entry.name, []))
    return found
