"""Every committed generated file says, in its first lines, that it is generated and from what.

A contributor who opens one must learn at once not to edit it and where to edit instead
(d2l's "do not edit" banners). The files are the ones the build steps own
(course_build.steps.STEPS, `owns`), so a new kind of generated file is covered too; the
otter zip is checked entry by entry for the files the build writes into it.
"""
import json
import re
import zipfile
from pathlib import Path

import pytest

from course_build.steps import STEPS

ROOT = Path(__file__).resolve().parents[1]
SOURCE = re.compile(r"(?:exercises|course_build|autograder|solutions)[\w./]*\.py|"
                    r"autograder\.hidden_checks")
# Entries of the otter zip that the build writes itself (the rest is otter's own output).
OUR_ZIP_ENTRIES = ("files/grade_two_layer_net.py", "tests/")


def generated_files():
    files = []
    for step in STEPS:
        for pattern in step.owns:
            files += sorted(ROOT.glob(pattern))
    return files


def head(text, lines=6):
    return "\n".join(text.splitlines()[:lines])


def says_generated_from_a_source(text):
    text = " ".join(text.split())
    generated = re.search(r"generated", text, re.IGNORECASE)
    edit_elsewhere = re.search(r"do not edit|not this (file|one|notebook)", text, re.IGNORECASE)
    return bool(generated and edit_elsewhere and SOURCE.search(text))


def test_every_step_owns_some_committed_files():
    committed = [s for s in STEPS if s.committed]
    assert committed and all(s.owns for s in committed)
    assert len(generated_files()) > 20


@pytest.mark.parametrize("path", generated_files(), ids=lambda p: p.relative_to(ROOT).as_posix())
def test_generated_file_carries_a_banner_naming_its_source(path):
    if path.suffix == ".ipynb":
        nb = json.loads(path.read_text(encoding="utf-8"))
        first = next(c for c in nb["cells"] if c["cell_type"] == "markdown")
        assert says_generated_from_a_source(head("".join(first["source"]), 2)), path
        assert nb["metadata"]["fcnet"]["generated_from"].startswith("exercises/source/")
    elif path.suffix == ".py":
        assert says_generated_from_a_source(head(path.read_text(encoding="utf-8"))), path
    elif path.suffix == ".zip":
        with zipfile.ZipFile(path) as bundle:
            assert says_generated_from_a_source(bundle.comment.decode()), "zip comment"
            ours = [n for n in bundle.namelist() if n.startswith(OUR_ZIP_ENTRIES)]
            assert len(ours) > 5
            for name in ours:
                assert says_generated_from_a_source(head(bundle.read(name).decode())), name
    elif path.suffix == ".npz":  # numpy's format: the banner is its "__meta__" entry
        import numpy as np

        with np.load(path, allow_pickle=False) as data:
            meta = json.loads(str(data["__meta__"]))
        assert says_generated_from_a_source(f"{meta['note']} {meta['source']}"), path
    else:
        pytest.fail(f"no banner rule for {path.suffix} files: add one here")
