"""Feedback text for the decoupled questions, written by the grader from categories.

The worker of `two_layer_net` and `training` holds the answer key's layers (compiled in
its memory), and the student's code runs beside them: anything it reads there, it could
write into an exception message, a note or a string output. So for these questions no
free text of the worker reaches the feedback. The grader keeps only categories it can
check (a known exception type, a line of a chapter it holds itself, a name it asked for,
one of Python's own messages whose names all occur in the chapter the student handed in
or in the probes) and writes the words:

    "TwoLayerNet is not defined in 04_two_layer_net.ipynb"
    "TypeError: TwoLayerNet.__init__() got an unexpected keyword argument 'hidden_dim'"
    "ValueError was raised (...)"
    "04_two_layer_net.ipynb: `self.params = {}` failed and was skipped (NameError)"
"""
import builtins
import functools
import inspect
import re
from pathlib import Path

from .worker_runtime import short_text

# Exception types the feedback may name: Python's own and numpy's. Any other class
# name (a student can define one named after anything) becomes a generic phrase.
KNOWN_ERRORS = frozenset(
    [name for name, obj in vars(builtins).items()
     if isinstance(obj, type) and issubclass(obj, BaseException)]
    + ["LinAlgError", "AxisError", "ComplexWarning", "UFuncTypeError"])
_UNKNOWN_ERROR = "an exception of a class defined in the notebook"
_HIDDEN = ("its message is not shown for this question, which runs your code on the "
           "answer key's layers; only Python's own messages about your names are")
# Python's own messages that a decoupled question's feedback may quote: their words are
# fixed, their slots hold names (each must occur in the student's own chapter code, which
# was handed in before grading, so no slot can carry anything read in the worker) or one
# digit. Any other message is withheld.
_SHOWN = [re.compile(p) for p in (
    r"(?P<n1>[\w.]+)\(\) got an unexpected keyword argument '(?P<n2>\w+)'",
    r"(?P<n1>[\w.]+)\(\) got multiple values for argument '(?P<n2>\w+)'",
    r"(?P<n1>[\w.]+)\(\) missing \d required (positional|keyword-only) arguments?: "
    r"(?P<n2>'\w+'(, '\w+')*(,? and '\w+')?)",
    r"(?P<n1>[\w.]+)\(\) takes (from \d to )?\d positional arguments? but \d (was|were) "
    r"given",
    r"name '(?P<n1>\w+)' is not defined",
    r"'(?P<n1>\w+)' object has no attribute '(?P<n2>\w+)'",
    r"'(?P<n1>\w+)' object is not (callable|subscriptable|iterable)",
)]
# Plausible result arrays: the probes return at most 2-D arrays of modest size; a shape
# is also text (a message may quote it), so anything else is refused.
MAX_NDIM, MAX_DIM = 4, 100_000
# Words a string output of these questions may keep (TwoLayerNet's parameter names).
WORDS = frozenset({"W1", "b1", "W2", "b2"})


@functools.lru_cache(maxsize=1)
def _probe_names():
    """The names in the probes' source: fcnet/probes.py, and each question module's
    probes with the helpers of their module they call (a keyword argument a probe passes
    may appear in Python's own message)."""
    from fcnet import probes, questions

    texts, seen = [Path(probes.__file__).read_text(encoding="utf-8")], set()
    for probe in questions.probes().values():
        texts += _sources(probe, seen)
    return frozenset(re.findall(r"\w+", "\n".join(texts)))


def _sources(func, seen):
    """The source of `func` and of the functions of its module it calls, each once."""
    if func in seen:
        return []
    seen.add(func)
    module = inspect.getmodule(func)
    found = [inspect.getsource(func)]
    for name in _names_used(func.__code__):
        helper = getattr(module, name, None)
        if inspect.isfunction(helper) and helper.__module__ == module.__name__:
            found += _sources(helper, seen)
    return found


def _names_used(code):
    """The global names a code object and the code nested in it (comprehensions) use."""
    nested = (c for c in code.co_consts if inspect.iscode(c))
    return {*code.co_names, *(name for c in nested for name in _names_used(c))}


class FixedTexts:
    """Messages and notes of one decoupled question, from the grader's own words."""

    IMPLAUSIBLE = (f"an array it returned has more than {MAX_NDIM} dimensions or a "
                   f"dimension over {MAX_DIM}")

    def __init__(self, stem, chapters, tasks):
        self.stem = stem
        self.lines = {f"{s}.ipynb": ch.code.splitlines() for s, ch in chapters.items()
                      if not ch.error and isinstance(ch.code, str)}
        self.needs = {t.key: tuple(t.needs) for t in tasks}
        code = ch.code if (ch := chapters.get(stem)) is not None and \
            isinstance(ch.code, str) else ""
        # Names the student wrote, and names the grader's probes pass (keyword arguments).
        self.names = frozenset(re.findall(r"\w+", code)) | _probe_names()

    @staticmethod
    def error_name(name):
        """`name` when it is a known exception type, else "" (or a generic phrase)."""
        if not isinstance(name, str) or not name:
            return ""
        return name if name in KNOWN_ERRORS else _UNKNOWN_ERROR

    def message(self, header):
        status = header.get("status")
        if status == "missing":
            needs = self.needs.get(header.get("key"), ())
            said = header.get("missing") if isinstance(header.get("missing"), list) else []
            names = [n for n in needs if n in said] or list(needs)
            return f"{', '.join(names)} is not defined in {self.stem}.ipynb"
        if status == "not implemented":
            return "still raises NotImplementedError"
        name = self.error_name(header.get("error")) or _UNKNOWN_ERROR
        shown = self.shown_message(header)
        return f"{name}: {shown}" if shown else f"{name} was raised ({_HIDDEN})"

    def shown_message(self, header):
        """The exception's message when it is one of Python's own (_SHOWN) about names
        the student's chapter defines or uses; else "" (withheld)."""
        if header.get("status") != "error" or not self.error_name(header.get("error")) \
                or self.error_name(header.get("error")) == _UNKNOWN_ERROR:
            return ""
        message = str(header.get("message", ""))
        prefix = f"{header.get('error')}: "
        message = message[len(prefix):] if message.startswith(prefix) else message
        for pattern in _SHOWN:
            found = pattern.fullmatch(message)
            if found and all(set(re.findall(r"\w+", slot)) <= self.names
                             for slot in found.groupdict().values() if slot):
                return message
        return ""

    def notes(self, failures):
        """Notes from the worker's categories of failed statements; unknown files or
        lines are dropped."""
        notes = []
        for failure in failures if isinstance(failures, list) else []:
            if not isinstance(failure, dict):
                continue
            filename, line = failure.get("file"), failure.get("line")
            lines = self.lines.get(filename)
            if lines is None or type(line) is not int or not 0 <= line <= len(lines):
                continue
            name = self.error_name(failure.get("error")) or _UNKNOWN_ERROR
            if line == 0:
                notes.append(f"{filename} could not be loaded ({name})")
                continue
            first = short_text(lines[line - 1], 80)  # as the worker quotes it
            notes.append(f"{filename}: `{first}` failed and was skipped ({name})")
        return list(dict.fromkeys(notes))

    @staticmethod
    def words(text):
        """A string output reduced to known words: the rest is counted, not quoted."""
        tokens = re.split(r"\s+", str(text).strip()) if str(text).strip() else []
        kept = [t for t in tokens if t in WORDS]
        others = len(tokens) - len(kept)
        return " ".join(kept + ([f"({others}-other-keys)"] if others else []))

    @staticmethod
    def plausible(arrays):
        return all(a.ndim <= MAX_NDIM and all(d <= MAX_DIM for d in a.shape)
                   for a in arrays.values())
