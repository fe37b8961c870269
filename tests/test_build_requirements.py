"""course_build.requirements: the one reader of the project's pins, used by the otter
bundle and the student release."""
import pytest

from course_build import student_release
from course_build.requirements import PinError, pin_lines, pinned_closure, read_pins


def _write(tmp_path, text):
    (tmp_path / "requirements.txt").write_text(text, encoding="utf-8")
    return tmp_path


def test_pins_are_read_with_canonical_names_and_comments_skipped(tmp_path):
    root = _write(tmp_path, "# the project's pins\nJinja2==3.1.4  # templates\n\n"
                            "otter_grader==7.0.0\n")
    pins = read_pins(root)
    assert sorted(pins) == ["jinja2", "otter-grader"]
    assert pin_lines(["jinja2", "Otter-Grader"], pins) == ["Jinja2==3.1.4", "otter_grader==7.0.0"]


@pytest.mark.parametrize("line", ["numpy>=2", "numpy", "numpy==2.0,<3", "num py==1"])
def test_a_line_that_is_not_an_exact_pin_is_named(tmp_path, line):
    with pytest.raises(PinError, match="line 2"):
        read_pins(_write(tmp_path, f"tqdm==4.0\n{line}\n"))


def test_a_missing_pin_is_named(tmp_path):
    pins = read_pins(_write(tmp_path, "tqdm==4.0\n"))
    with pytest.raises(PinError, match="numpy"):
        pin_lines(["tqdm", "numpy"], pins)
    with pytest.raises(PinError, match="packaging"):
        pinned_closure({"packaging"}, {})


def test_student_release_and_otter_bundle_pin_from_the_same_reader(tmp_path):
    """The release names an unpinned package; the closure ships exactly the pin."""
    root = _write(tmp_path, "tqdm==4.0\n")
    with pytest.raises(PinError, match="numpy"):
        student_release.requirements(root)
    shipped = pinned_closure({"packaging"}, read_pins(_write(tmp_path, "packaging==99.0\n")))
    assert shipped == ["packaging==99.0"]
