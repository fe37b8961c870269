"""What a submission may import, the same in the notebook and in grading.

A grading worker offers Python's standard library and the packages below, nothing else
(autograder/sandbox binds exactly these). Display modules (matplotlib, IPython, ...) are
accepted everywhere but do nothing while grading, since only definitions are graded.
`grader.check` refuses code that uses anything else, with the same words, so that a
check passed in the notebook is passed in grading too.
"""
import dis
import sys
import types

GRADING_PACKAGES = ("numpy", "scipy", "fcnet", "tqdm")
DISPLAY_PACKAGES = ("matplotlib", "IPython", "otter", "google", "seaborn", "ipywidgets",
                    "PIL", "pandas")


def offered(name):
    """Whether the top-level package `name` can be imported while grading."""
    return (name in GRADING_PACKAGES or name in DISPLAY_PACKAGES
            or name in sys.stdlib_module_names or name in ("__main__", "builtins")
            or name.startswith("fcnet_notebook_"))


def foreign_packages(objects):
    """Sorted top-level packages that `objects` (the student's functions and classes)
    use, directly or through the student's own helpers, and grading does not offer."""
    found, seen = set(), set()
    for obj in objects:
        _walk(obj, found, seen)
    return sorted(name for name in found if not offered(name))


def _walk(obj, found, seen):
    if id(obj) in seen:
        return
    seen.add(id(obj))
    if isinstance(obj, types.ModuleType):
        found.add(obj.__name__.split(".")[0])
        return
    module = getattr(obj, "__module__", None)
    if isinstance(module, str) and module not in ("__main__",) and \
            not module.startswith("fcnet_notebook_") and not isinstance(obj, types.MethodType):
        found.add(module.split(".")[0])  # imported from a package: not followed further
        return
    if isinstance(obj, type):
        for value in vars(obj).values():
            _walk(getattr(value, "__func__", getattr(value, "fget", value)), found, seen)
    elif isinstance(obj, types.FunctionType):
        for code in _codes(obj.__code__):
            for ins in dis.get_instructions(code):
                if ins.opname == "IMPORT_NAME":
                    found.add(str(ins.argval).split(".")[0])
            for name in code.co_names:
                if name in obj.__globals__:
                    _walk(obj.__globals__[name], found, seen)


def _codes(code):
    yield code
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            yield from _codes(const)


def refusal(qid, packages):
    """The message of a check refused because the code uses `packages`."""
    return (f"[NOT AVAILABLE WHEN GRADED] {qid}: your code uses {', '.join(packages)}, "
            f"which grading does not offer (it has Python's standard library, numpy and "
            f"scipy). This check would fail when graded: use numpy or scipy instead.")
