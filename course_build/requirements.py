"""The project's pinned versions (requirements.txt): read once, for every step that ships pins.

The otter bundle pins everything grading imports, with its dependencies
(`pinned_closure`); the student release pins what a student's machine needs (`pin_lines`).
Both take the versions from the project's own requirements.txt, so a bundle or a release
installs exactly what the test suite ran on.
"""
import importlib.metadata
from pathlib import Path

from packaging.requirements import InvalidRequirement, Requirement
from packaging.utils import canonicalize_name

REQUIREMENTS_FILE = "requirements.txt"


class PinError(ValueError):
    """requirements.txt is malformed, or does not pin something that must be pinned."""


def read_pins(root):
    """{canonical name: Requirement} of every `name==version` line of root/requirements.txt.

    Comments and blank lines are skipped; any other line must be an exact pin.
    """
    path = Path(root) / REQUIREMENTS_FILE
    pins = {}
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        text = line.split("#", 1)[0].strip()
        if not text:
            continue
        try:
            req = Requirement(text)
        except InvalidRequirement as err:
            raise PinError(f"{path.name}, line {number}: {err}") from None
        specs = list(req.specifier)
        if len(specs) != 1 or specs[0].operator != "==":
            raise PinError(f"{path.name}, line {number}: {text!r} is not an exact pin "
                           "(name==version)")
        pins[canonicalize_name(req.name)] = req
    return pins


def pin_line(req):
    """`name==version` of a pinned Requirement."""
    return f"{req.name}{req.specifier}"


def pin_lines(names, pins):
    """The sorted pin lines of `names`; a PinError names any that requirements.txt lacks."""
    missing = sorted(n for n in names if canonicalize_name(n) not in pins)
    if missing:
        raise PinError(f"{REQUIREMENTS_FILE} pins no version of {', '.join(missing)}")
    return sorted(pin_line(pins[canonicalize_name(n)]) for n in names)


def pinned_closure(direct, pins):
    """Exact pins of the distributions `direct` and of everything they require (with the
    extras asked for), as installed here; a PinError names what is not pinned."""
    seen, todo = {}, [(d, ()) for d in sorted(direct)]
    while todo:
        name, extras = todo.pop()
        key = canonicalize_name(name)
        if key in seen and set(extras) <= seen[key]:
            continue
        seen[key] = seen.get(key, set()) | set(extras)
        try:
            requires = importlib.metadata.requires(name) or []
        except importlib.metadata.PackageNotFoundError:
            raise PinError(f"{name} is needed but not installed") from None
        for text in requires:
            req = Requirement(text)
            wanted = [{"extra": e} for e in (set(extras) | {""})]
            if req.marker is None or any(req.marker.evaluate(env) for env in wanted):
                todo.append((req.name, tuple(sorted(req.extras))))
    missing = sorted(k for k in seen if k not in pins)
    if missing:
        raise PinError("needed but not pinned in requirements.txt: " + ", ".join(missing))
    return [pin_line(pins[k]) for k in sorted(seen)]
