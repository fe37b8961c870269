"""Red-team findings, round 4 (newest changes: one module per question, found by the
registry with pkgutil; the worker's probes imported through fcnet.probes): each test
replays an attack and asserts the safe behaviour, so it fails while the attack works."""
import py_compile
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BUNDLE = ROOT / "autograder" / "dist" / "otter" / "two_layer_net-autograder.zip"

# What the upload's module does when the grading kernel imports it: here, leave a mark.
# A real attack would write the sealed result (the kernel holds the key) or patch the
# judges: it runs as the grader, outside every sandbox.
FORGED = 'import pathlib\npathlib.Path("FORGED_RAN").write_text("the upload ran in the kernel")\n'


def _driver_prologue(files):
    """The bundle driver's source up to the point where it imports the grader: the part
    that checks the packages beside it before anything is imported from them."""
    text = (files / "grade_two_layer_net.py").read_text(encoding="utf-8")
    return text.split("from autograder.routes.otter_route import", 1)[0]


def _otter_layout(tmp_path):
    """otter's folders: the unpacked bundle in source/files, and the submission folder
    where otter copies the bundle's files and unpacks the upload (a raw `otter run`)."""
    with zipfile.ZipFile(BUNDLE) as bundle:
        bundle.extractall(tmp_path / "source")
    submission = tmp_path / "submission"
    shutil.copytree(tmp_path / "source" / "files", submission)
    return submission


def _upload_pyc(submission, variant):
    """The upload's extra bytecode inside fcnet/questions/, which the driver's byte-for-byte
    comparison skips (it ignores .pyc files and __pycache__ folders)."""
    source = submission.parent / "forged.py"
    source.write_text(FORGED, encoding="utf-8")
    questions = submission / "fcnet" / "questions"
    if variant == "new question module":
        # A sourceless module: pkgutil.iter_modules lists it, so the registry imports it.
        target = questions / "zz_forged.pyc"
        mode = py_compile.PycInvalidationMode.TIMESTAMP
    else:
        # An unchecked hash-based .pyc (PEP 552) is used whatever the source beside it says.
        tag = sys.implementation.cache_tag
        target = questions / "__pycache__" / f"affine_forward.{tag}.pyc"
        mode = py_compile.PycInvalidationMode.UNCHECKED_HASH
        source.write_text(FORGED + (questions / "affine_forward.py").read_text(), "utf-8")
    py_compile.compile(str(source), cfile=str(target), doraise=True, invalidation_mode=mode)


@pytest.mark.parametrize("variant", ["new question module", "cached bytecode of a question"])
def test_uploaded_bytecode_in_fcnet_questions_never_runs_in_the_otter_kernel(tmp_path, variant):
    """Attack: a zip handed to `otter run` holds fcnet/questions/zz_forged.pyc (or
    fcnet/questions/__pycache__/affine_forward.cpython-3X.pyc). otter unpacks it beside the
    bundle's fcnet; the driver checks that fcnet is the bundle's own, byte for byte, then
    imports the grader, whose fcnet.questions finds its modules with pkgutil. The upload's
    code must not run in the grading kernel."""
    submission = _otter_layout(tmp_path)
    _upload_pyc(submission, variant)
    script = _driver_prologue(submission) + "import fcnet.questions\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=submission,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert not (submission / "FORGED_RAN").exists()


def test_an_honest_bundle_with_its_own_caches_is_kept_as_it_is(tmp_path):
    """The other side of the check above: the unpacked bundle's own bytecode caches (as an
    import from source/files would leave them) are not a difference: nothing is put right."""
    submission = _otter_layout(tmp_path)
    subprocess.run([sys.executable, "-m", "compileall", "-q", "fcnet"], check=True,
                   cwd=tmp_path / "source" / "files", timeout=120)
    assert list((tmp_path / "source" / "files" / "fcnet").rglob("__pycache__"))
    script = _driver_prologue(submission) + "print(_replaced)\n"
    done = subprocess.run([sys.executable, "-c", script], cwd=submission,
                          capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "[]"
