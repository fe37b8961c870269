"""Hostile inputs that once cost the whole batch or a classmate's grade (issue 20), each
replayed on every route where it applies:

2. One zip stopped the whole batch: 60 entries `best_model (k).npz` of 256 MiB of zeros
   (15.7 MB zipped). Every candidate was read into memory before one was chosen; with
   12 entries the grader peaked at 3.5 GB, with 60 it was killed (no grades.csv).
   Now the model is chosen by its name, unread; a notebook is read once to learn its
   chapter and dropped; one student's reads stop at MAX_STUDENT_BYTES; a batch holds at
   most MAX_BATCH_BYTES of submission files at once.
3. A Gradescope display name put the attacker's grade in a classmate's Canvas row:
   Mallory named herself "Zoe Mallory (aadams)", aadams being Alice's login; the export
   matched any bracketed part, login column first, so Alice got two rows, the later one
   Mallory's 0, and the only warning said Mallory had no submission. Now a Gradescope
   student is matched by the sid or email of submission_metadata.yml, exactly, and two
   submissions for one roster row are refused, naming both.
4. A 0.25 MB result frame cost the grader 4.3 GB: a chapter-4 class body wrote its own
   result frame, a compressed .npz declaring a float16 W1 of shape (10000, 12800), right
   at the decode cap, which the judges turned into float64 several times. Now each
   array's .npy header is checked against what its probe returns on the case
   (autograder/result_shapes.py) before any of its data is decoded.
"""
import json
import struct
import subprocess
import sys
import threading
import zipfile
import zlib

import pytest

from autograder import submissions
from autograder.routes import lms_grading
from autograder.points import QUESTION_POINTS
from autograder.submissions import Submission, read_submission

from autograder_support import SOLUTIONS, write_submission

MODEL_MB = submissions.MAX_MODEL_BYTES // 2 ** 20
COPIES = 12   # enough to need 3 GiB when every copy is read; 60 killed a 6 GiB grader


def copies_zip(path, names, size, extra=()):
    """A zip whose entries `names` each hold `size` bytes of zeros. The zeros are deflated
    once and that stream is written for every entry by hand (zipfile would compress each
    copy again); `extra` [(name, bytes)] are then added by zipfile."""
    squeeze, crc, chunk = zlib.compressobj(9, zlib.DEFLATED, -15), 0, bytes(2 ** 20)
    parts = []
    for _ in range(size // len(chunk)):
        parts.append(squeeze.compress(chunk))
        crc = zlib.crc32(chunk, crc)
    deflated = b"".join(parts) + squeeze.flush()
    local, central = bytearray(), bytearray()
    for name in names:
        encoded = name.encode()
        fields = (20, 0, 8, 0, 0x21, crc, len(deflated), size, len(encoded))
        central += struct.pack("<4s6H3L5H2L", b"PK\x01\x02", 20, *fields, 0, 0, 0, 0, 0,
                               len(local)) + encoded
        local += struct.pack("<4s5H3L2H", b"PK\x03\x04", *fields, 0) + encoded + deflated
    end = struct.pack("<4s4H2LH", b"PK\x05\x06", 0, 0, len(names), len(names), len(central),
                      len(local), 0)
    path.write_bytes(bytes(local + central + end))
    with zipfile.ZipFile(path, "a") as archive:
        for name, data in extra:
            archive.writestr(name, data)
    return path


def _model_names(count):
    return [f"two_layer_net/best_model ({k}).npz" for k in range(1, count + 1)]


def _affine_notebook():
    return (SOLUTIONS / "01_affine_layer.ipynb").read_bytes()


@pytest.fixture(scope="module")
def hostile_zip(tmp_path_factory):
    path = tmp_path_factory.mktemp("bomb") / "mallory.zip"
    copies_zip(path, _model_names(COPIES), submissions.MAX_MODEL_BYTES,
               extra=[("two_layer_net/01_affine_layer.ipynb", _affine_notebook())])
    assert path.stat().st_size < 4 * 2 ** 20  # small to upload
    return path


def _spy(monkeypatch, name):
    """Record the bytes each call of submissions.`name` returns."""
    real, sizes = getattr(submissions, name), []

    def spy(*args):
        data = real(*args)
        sizes.append(len(data) if isinstance(data, bytes) else 0)
        return data

    monkeypatch.setattr(submissions, name, spy)
    return sizes


def test_the_model_is_chosen_by_name_and_only_it_is_read(hostile_zip, monkeypatch):
    sizes = _spy(monkeypatch, "_member_bytes")
    submission = Submission("mallory", hostile_zip)
    chapters = read_submission(submission)
    assert "01_affine_layer" in chapters and not chapters["01_affine_layer"].error
    assert submission.used["best_model.npz"] == f"two_layer_net/best_model ({COPIES}).npz"
    assert len(submission.files["best_model.npz"]) == submissions.MAX_MODEL_BYTES
    models = [s for s in sizes if s >= submissions.MAX_MODEL_BYTES]
    assert len(models) == 1, sizes  # one copy decompressed, not twelve
    assert sum(sizes) <= submissions.MAX_STUDENT_BYTES


def test_a_folder_of_model_copies_is_read_once(tmp_path, monkeypatch):
    """The nbgrader route: the instructor unzipped the upload, so the copies are files
    (sparse here: no disk used). The engine reads one, and the route stages the copies
    the engine would choose first, within one student's cap."""
    folder = tmp_path / "submitted" / "mallory" / "two_layer_net"
    folder.mkdir(parents=True)
    (folder / "01_affine_layer.ipynb").write_bytes(_affine_notebook())
    for k in range(1, COPIES + 1):
        with open(folder / f"best_model ({k}).npz", "wb") as f:
            f.truncate(submissions.MAX_MODEL_BYTES)
    sizes = _spy(monkeypatch, "_read_capped")
    submission = Submission("mallory", folder)
    read_submission(submission)
    assert submission.used["best_model.npz"] == f"best_model ({COPIES}).npz"
    assert [s for s in sizes if s >= submissions.MAX_MODEL_BYTES] == [
        submissions.MAX_MODEL_BYTES]
    staged = [(source.rsplit("/", 1)[-1], size) for source, _, size
              in lms_grading._staged_files(folder, tmp_path / "staged", ())]
    assert staged[0][0] == "01_affine_layer.ipynb"
    assert staged[1][0] == f"best_model ({COPIES}).npz"  # the engine's choice first
    copied = lms_grading.stage_submission(folder, tmp_path / "staged")
    assert copied < COPIES
    assert sum(p.stat().st_size for p in (tmp_path / "staged").iterdir()) \
        <= submissions.MAX_STUDENT_BYTES


def test_otter_stages_the_engines_choice_of_model_not_every_copy(hostile_zip, tmp_path):
    """The otter route stages the upload before grading: the copies of the model come
    last, the one the engine grades first, and the rest are left out unread (the whole
    upload was refused before, costing the notebooks' points too)."""
    from autograder.routes import otter_route

    report = otter_route.stage_upload(hostile_zip, tmp_path / "staged.zip")
    assert report["refused"] is None
    names = zipfile.ZipFile(tmp_path / "staged.zip").namelist()
    staged = f"{otter_route.STAGED_FOLDER}/two_layer_net"
    assert f"{staged}/01_affine_layer.ipynb" in names
    assert [n for n in names if "best_model" in n] == [f"{staged}/best_model ({COPIES}).npz"]
    assert any(n.startswith("some copies of the model were not staged") for n in
               report["notes"]), report["notes"]


def test_many_large_notebooks_stop_at_the_students_cap(tmp_path, monkeypatch):
    """Candidates read to learn their chapter count against one cap per student; the
    rest are left out with a note, and none is kept once its chapter is known."""
    monkeypatch.setattr(submissions, "MAX_STUDENT_BYTES", 5 * 2 ** 20)
    path = tmp_path / "mallory.zip"
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("a/01_affine_layer.ipynb", _affine_notebook())
        for k in range(1, 9):
            archive.writestr(f"b/02_relu ({k}).ipynb", b" " * 2 ** 20)
    submission = Submission("mallory", path)
    chapters = read_submission(submission)
    assert not chapters["01_affine_layer"].error
    assert any("more than 5 MB in all" in note for note in submission.notes), submission.notes


def test_a_batch_holds_at_most_its_cap_of_files():
    held = submissions.HeldBytes(limit=100)
    first = held.reserve(80)
    started = threading.Event()
    second = threading.Thread(target=lambda: (started.set(), held.reserve(80)))
    second.start()
    started.wait()
    second.join(0.5)
    assert second.is_alive() and held.held == 80  # waits: 160 would pass the cap
    held.release(first)
    second.join(10)
    assert not second.is_alive() and held.held == 80
    held.release(80)
    assert held.reserve(500) == 500  # one file larger than the cap still passes alone


def _peak_grading(root, out, questions):
    """Run `python -m autograder grade` in a child of a fresh interpreter; return its
    completed process and the child's peak resident memory in bytes."""
    probe = ("import resource, subprocess, sys\n"
             "run = subprocess.run(sys.argv[1:], capture_output=True, text=True)\n"
             "sys.stdout.write(run.stdout + run.stderr)\n"
             "print('PEAK', resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss)\n"
             "sys.exit(run.returncode)\n")
    run = subprocess.run([sys.executable, "-c", probe, sys.executable, "-m", "autograder",
                          "grade", str(root), "--out", str(out), "--questions", questions,
                          "--no-progress", "--timeout", "60"],
                         capture_output=True, text=True, timeout=1800)
    peak = int(run.stdout.rsplit("PEAK", 1)[1].split()[0]) * 1024
    return run, peak


def test_one_zip_of_model_copies_never_stops_the_batch(sandbox, hostile_zip, tmp_path):
    root = tmp_path / "submissions"
    root.mkdir()
    (root / "mallory.zip").write_bytes(hostile_zip.read_bytes())
    write_submission(root, "alice")
    run, peak = _peak_grading(root, tmp_path / "out", "affine_forward")
    assert run.returncode == 0, run.stdout[-3000:]
    document = json.loads((tmp_path / "out" / "grades.json").read_text())
    full = QUESTION_POINTS["affine_forward"]
    assert document["grades"]["alice"]["affine_forward"] == full
    assert document["grades"]["mallory"]["affine_forward"] == full
    notes = " ".join(document["students"]["mallory"]["notes"])
    assert f"best_model ({COPIES}).npz was used as the model file" in notes
    # One model copy in memory, not twelve (3 GiB before): the cap, not a timing.
    assert peak < 2 * submissions.MAX_MODEL_BYTES + 600 * 2 ** 20, peak


# ----------------------------------------------------------------------------- attack 3

GRADESCOPE_METADATA = """\
submission_3001:
  :submitters:
  - :name: Alice Adams
    :sid: '1001'
    :email: aadams@uni.edu
  :created_at: 2026-11-30 15:00:00.000000000 -08:00
  :score: 0.0
submission_3002:
  :submitters:
  - :name: Zoe Mallory (aadams)
    :sid: '1002'
    :email: zmallory@uni.edu
  :created_at: 2026-11-30 15:05:00.000000000 -08:00
  :score: 0.0
"""
# Canvas's gradebook export: SIS Login ID is the university login.
CANVAS_ROSTER = """\
Student,ID,SIS User ID,SIS Login ID,Section,Two-layer net (12345)
    Points Possible,,,,,100
"Adams, Alice",501,1001,aadams,CS 189 A,
"Mallory, Zoe",502,1002,zmallory,CS 189 A,
"""


@pytest.fixture(scope="module")
def gradescope_run(sandbox, tmp_path_factory):
    """A Gradescope export graded by the real engine: Alice hands in chapter 1, Mallory,
    whose display name names Alice's login, hands in nothing that earns points."""
    from autograder import engine

    root, out = tmp_path_factory.mktemp("export"), tmp_path_factory.mktemp("out")
    alice = root / "submission_3001" / "two_layer_net"
    alice.mkdir(parents=True)
    (alice / "01_affine_layer.ipynb").write_bytes(_affine_notebook())
    (root / "submission_3002").mkdir()
    (root / "submission_3002" / "notes.txt").write_text("nothing here")
    (root / "submission_metadata.yml").write_text(GRADESCOPE_METADATA)
    settings = engine.Settings(workers=1, timeout=60, questions=("affine_forward",),
                               sandbox=sandbox, progress=False)
    engine.grade(root, out, settings, announce=lambda line: None)
    return root, out


def _csv(path):
    import csv

    with open(path, newline="", encoding="utf-8") as f:
        return list(csv.reader(f))


def test_a_display_name_never_takes_a_classmates_canvas_row(gradescope_run, tmp_path):
    from autograder.reports import lms_exports

    _, out = gradescope_run
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER)
    path, warnings = lms_exports.export(out, "canvas", roster=roster)
    rows = _csv(path)
    alice = [r for r in rows if r[0] == "Adams, Alice"]
    mallory = [r for r in rows if r[0] == "Mallory, Zoe"]
    full = QUESTION_POINTS["affine_forward"]
    assert alice == [["Adams, Alice", "501", "1001", "aadams", "CS 189 A", f"{full:g}"]]
    assert mallory == [["Mallory, Zoe", "502", "1002", "zmallory", "CS 189 A", "0"]]
    assert warnings == []


def test_the_plain_export_uses_each_submitters_email(gradescope_run):
    from autograder.reports import lms_exports

    _, out = gradescope_run
    rows = _csv(lms_exports.export(out, "plain", id_column="email")[0])
    full = QUESTION_POINTS["affine_forward"]
    assert sorted(rows[1:]) == [["aadams@uni.edu", f"{full:g}"], ["zmallory@uni.edu", "0"]]


def test_two_submissions_for_one_roster_row_are_refused_naming_both(gradescope_run,
                                                                    tmp_path):
    """Alice is also in a second submission (a group upload): which grade counts is the
    instructor's call, so nothing is written and both submissions are named."""
    from autograder.reports import lms_exports

    _, out = gradescope_run
    document = json.loads((out / "grades.json").read_text())
    alice = next(s for s in document["grades"] if s.startswith("Alice Adams"))
    document["grades"]["Alice Adams (1001) + Bo Li (1003)"] = document["grades"][alice]
    document["students"]["Alice Adams (1001) + Bo Li (1003)"] = {"submitters": [
        {"name": "Alice Adams", "sid": "1001", "email": "aadams@uni.edu"},
        {"name": "Bo Li", "sid": "1003", "email": "bli@uni.edu"}]}
    (tmp_path / "grades.json").write_text(json.dumps(document))
    roster = tmp_path / "roster.csv"
    roster.write_text(CANVAS_ROSTER)
    with pytest.raises(lms_exports.ExportError) as refused:
        lms_exports.export(tmp_path, "canvas", roster=roster)
    assert "'Adams, Alice'" in str(refused.value)
    assert alice in str(refused.value) and "Alice Adams (1001) + Bo Li (1003)" \
        in str(refused.value)
    assert not (tmp_path / "canvas_grades.csv").exists()


# ----------------------------------------------------------------------------- attack 4

def forged_frame(key, arrays):
    """A result frame as a student's code can write it: a compressed .npz whose arrays
    are streamed in (a 256 MB W1 of zeros zips to a quarter of a megabyte)."""
    import io

    import numpy as np

    blob = io.BytesIO()
    with zipfile.ZipFile(blob, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, (shape, dtype) in arrays.items():
            with archive.open(f"{name}.npy", "w", force_zip64=True) as member:
                np.lib.format.write_array_header_1_0(
                    member, {"descr": np.dtype(dtype).str, "fortran_order": False,
                             "shape": shape})
                left = int(np.prod(shape)) * np.dtype(dtype).itemsize
                chunk = bytes(2 ** 20)
                while left > 0:
                    member.write(chunk[:left])
                    left -= len(chunk)
    header = json.dumps({"kind": "result", "key": key, "status": "ok",
                         "scalars": {"param_names": "W1 W2 b1 b2"}}).encode()
    return struct.pack("<Q", len(header)) + header + blob.getvalue()


ATTACK_SHAPE = ((10000, 12800), "float16")   # 256 MB declared, at the decode cap


def _tln_init():
    from autograder import grading, hidden_checks

    tasks = grading.probe_tasks("two_layer_net")
    task = next(t for t in tasks if t.probe == "tln_init_probe")
    return tasks, hidden_checks.make_cases("two_layer_net", 7), task


def test_a_forged_frame_is_refused_before_its_data_is_read():
    import tracemalloc

    from autograder.engine import _parse_frames, _refuse_unexpected

    tasks, cases, task = _tln_init()
    body = forged_frame(task.key, {"W1": ATTACK_SHAPE, "b1": ((7,), "float64")})
    assert len(body) < 2 ** 20
    tracemalloc.start()
    try:
        results, _, _ = _parse_frames([body], None, _refuse_unexpected(tasks, cases))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    result = results[task.key]
    assert result.status == "error"
    assert "'W1'" in result.message and "(10000, 12800)" in result.message
    case = cases[task.case]
    assert f"({case['D']}, {case['H']})" in result.message
    assert peak < 16 * 2 ** 20, peak  # nothing of the 256 MB was decoded


def test_an_honest_wrong_shape_is_still_read_and_judged():
    """A transposed W1 is a mistake to diagnose, not an attack: it is decoded."""
    from autograder.engine import _parse_frames, _refuse_unexpected

    tasks, cases, task = _tln_init()
    case = cases[task.case]
    body = forged_frame(task.key, {"W1": ((case["H"], case["D"]), "float64")})
    results, _, _ = _parse_frames([body], None, _refuse_unexpected(tasks, cases))
    assert results[task.key].status == "ok"
    assert results[task.key].outputs["W1"].shape == (case["H"], case["D"])


def _sandboxed_probes():
    from autograder import grading
    from fcnet.chapters import QUESTION_IDS

    return [q for q in QUESTION_IDS if q not in grading.GRADER_SIDE and q != "training"]


@pytest.mark.parametrize("qid", _sandboxed_probes())
def test_every_probe_declares_the_shapes_the_answer_key_returns(qid):
    """The table is complete and right: the answer key's outputs on every case of the
    question have exactly the declared arrays and shapes (training, which needs
    CIFAR-10 and minutes, is declared from the same parameter shapes)."""
    import numpy as np

    from autograder import grading, hidden_checks, result_shapes
    from fcnet import probes
    from test_diagnosis import reference_namespace

    cases = hidden_checks.make_cases(qid, 7)
    for task in grading.probe_tasks(qid, 7):
        case = dict(cases[task.case], np_seed=task.np_seed, qid=qid)
        out = getattr(probes, task.probe)(reference_namespace(), case)
        arrays = {k: v.shape for k, v in out.items() if isinstance(v, np.ndarray)}
        assert arrays == result_shapes.expected_shapes(task.probe, cases[task.case]), task.key


def test_a_forged_frame_costs_the_grader_what_the_case_does(sandbox, tmp_path):
    """The real attack through `python -m autograder grade`: chapter 4's class body
    writes the frame in the worker. The grader once peaked at 4.3 GB on it."""
    import autograder_support as support
    from lms_submissions import FORGED_FRAME

    root = tmp_path / "submissions"
    root.mkdir()
    write_submission(root, "alice", {stem: None for stem in
                                     ("05_solver", "06_tuning")})
    forged = support.append_cell(support.notebook("04_two_layer_net", "solution"),
                                 FORGED_FRAME)
    write_submission(root, "mallory", {"04_two_layer_net": forged, "05_solver": None,
                                       "06_tuning": None})
    run, peak = _peak_grading(root, tmp_path / "out", "two_layer_net")
    assert run.returncode == 0, run.stdout[-3000:]
    document = json.loads((tmp_path / "out" / "grades.json").read_text())
    full = QUESTION_POINTS["two_layer_net"]
    assert document["grades"]["alice"]["two_layer_net"] == full
    assert document["grades"]["mallory"]["two_layer_net"] < full
    assert peak < 1024 * 2 ** 20, peak   # 256 MB declared would cost gigabytes as float64


def test_a_forged_frame_is_refused_on_the_otter_and_nbgrader_routes(sandbox, tmp_path):
    """Both routes grade through lms_grading.grade_submission (the otter bundle's tests and
    nbgrader's autograde step call it), in the process that holds their test code: the
    same check applies there, and that process stays small."""
    import autograder_support as support
    from lms_submissions import FORGED_FRAME

    folder = tmp_path / "mallory"
    forged = support.append_cell(support.notebook("04_two_layer_net", "solution"),
                                 FORGED_FRAME)
    write_submission(tmp_path, "mallory", {"04_two_layer_net": forged, "05_solver": None,
                                           "06_tuning": None})
    # ru_maxrss would report pytest's own peak: a child started by vfork and exec keeps
    # its parent's high-water mark. Writing 5 to clear_refs resets VmHWM to this process.
    probe = ("import json, re, sys\n"
             "open('/proc/self/clear_refs', 'w').write('5')\n"
             "from autograder.routes import lms_grading\n"
             "graded = lms_grading.grade_submission(sys.argv[1], questions=('two_layer_net',),"
             " announce=lambda line: None)\n"
             "status = open('/proc/self/status').read()\n"
             "peak = int(re.search(r'VmHWM:\\s+(\\d+) kB', status).group(1)) * 1024\n"
             "print(json.dumps({'graded': graded, 'peak': peak}))\n")
    run = subprocess.run([sys.executable, "-c", probe, str(folder)], capture_output=True,
                         text=True, timeout=1800)
    assert run.returncode == 0, run.stderr[-3000:]
    answer = json.loads(run.stdout.strip().splitlines()[-1])
    result = answer["graded"]["results"]["two_layer_net"]
    init = next(c for c in result["checks"] if c["name"] == "init_shapes")
    assert init["status"] != "passed"
    assert result["points"] < QUESTION_POINTS["two_layer_net"]
    assert answer["peak"] < 1024 * 2 ** 20, answer["peak"]
