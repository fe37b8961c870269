"""What every probe shares: calling the student's code safely, and decoupling.

A probe (declared in its question's module, fcnet/questions/) gets the student's
namespace `ns` and a case of plain arrays and numbers, calls the student's objects, and
returns a dict of arrays and numbers. It never sees an expected answer: the comparisons
(`judge`) happen outside, in the grader's process or, in the notebook, after the probe
returns. Inputs are copied before each call (`copies`) so that a student function that
writes into its arguments cannot change the case, and the arrays as they are after the
call are reported for the "inputs left unmodified" checks.

In the grader's sandboxed worker the probes run next to the student's code; they may
import only numpy and fcnet. `returns` declares the shape of every array a probe reports
(the grader decodes nothing larger; autograder/result_shapes.py).
"""

import contextlib
import types

import numpy as np

PARAM_NAMES = ("W1", "b1", "W2", "b2")


# ------------------------------------------------------------------------- decoupling

def _student_functions(obj):
    """Plain functions that make up `obj` (a function, or a class and its bases)."""
    if isinstance(obj, type):
        found = []
        for klass in obj.__mro__:
            if klass is object or _is_library(klass):
                continue
            for member in vars(klass).values():
                if isinstance(member, (staticmethod, classmethod)):
                    member = member.__func__
                if isinstance(member, property):
                    found.extend(f for f in (member.fget, member.fset) if f is not None)
                elif callable(member) and hasattr(member, "__globals__"):
                    found.append(member)
        return found
    if callable(obj) and hasattr(obj, "__globals__") and not _is_library(obj):
        return [obj]
    return []


def _is_library(obj):
    module = getattr(obj, "__module__", None) or ""
    return module.split(".")[0] in ("numpy", "fcnet", "builtins", "answer_key", "autograder")


@contextlib.contextmanager
def decoupled(ns, reference, names):
    """Within the block: a view of `ns` in which the student's code sees `reference`'s
    layers under `names` (the layers a TwoLayerNet calls). Use the namespace it yields.

    The student's own namespaces are never changed, so the reference layers are never
    reachable from the student's own globals: every student function reachable from
    `ns` (through globals, closures, classes and their bases) is copied with globals that
    are a copy of its module's globals, in which the layer names are the reference's and
    the student's other functions and classes are copies too (a TwoLayerNet imported
    from chapter 4 looks its layers up in chapter 4's globals, a helper in its own).
    """
    yield _Rebinder(reference, names).namespace(ns)


class _Rebinder:
    def __init__(self, reference, names):
        self.layers = {n: reference[n] for n in names if n in reference}
        self.globals, self.copies, self.pending = {}, {}, []

    def namespace(self, ns):
        view = {name: self.copy(value) for name, value in ns.items()}
        view.update(self.layers)
        while self.pending:  # filled after the copies exist, so cycles end
            overlay = self.pending.pop()
            for name, value in list(overlay.items()):
                if name not in self.layers:
                    overlay[name] = self.copy(value)
        return view

    def copy(self, obj):
        if id(obj) in self.copies:
            return self.copies[id(obj)]
        if isinstance(obj, type) and _student_functions(obj) and not _is_library(obj):
            return self._copy_class(obj)
        if isinstance(obj, types.FunctionType) and not _is_library(obj):
            return self._copy_function(obj)
        return obj

    def _overlay(self, module_globals):
        key = id(module_globals)
        if key not in self.globals:
            overlay = {**module_globals, **self.layers}
            self.globals[key] = overlay
            self.pending.append(overlay)
        return self.globals[key]

    def _copy_function(self, func, class_cell=None):
        cells = None
        if func.__closure__:
            cells = tuple(class_cell if name == "__class__" and class_cell is not None
                          else types.CellType(self._cell_copy(cell))
                          for name, cell in zip(func.__code__.co_freevars, func.__closure__))
        clone = types.FunctionType(func.__code__, self._overlay(func.__globals__),
                                   func.__name__, func.__defaults__, cells)
        clone.__kwdefaults__ = func.__kwdefaults__
        clone.__dict__.update(func.__dict__)
        clone.__qualname__, clone.__module__ = func.__qualname__, func.__module__
        self.copies[id(func)] = clone
        return clone

    def _cell_copy(self, cell):
        try:
            return self.copy(cell.cell_contents)
        except ValueError:  # an empty cell
            return None

    def _copy_class(self, cls):
        self.copies[id(cls)] = cls  # while in progress (a class in its own closure)
        class_cell = types.CellType()
        slots = getattr(cls, "__slots__", ())
        slots = {slots} if isinstance(slots, str) else set(slots or ())
        body = {}
        for name, member in vars(cls).items():
            if name in ("__dict__", "__weakref__") or name in slots:
                continue
            body[name] = self._copy_member(member, class_cell)
        bases = tuple(self.copy(base) for base in cls.__bases__)
        clone = type(cls)(cls.__name__, bases, body)
        class_cell.cell_contents = clone
        self.copies[id(cls)] = clone
        return clone

    def _copy_member(self, member, class_cell):
        if isinstance(member, staticmethod):
            return staticmethod(self._copy_member(member.__func__, class_cell))
        if isinstance(member, classmethod):
            return classmethod(self._copy_member(member.__func__, class_cell))
        if isinstance(member, property):
            parts = [member.fget, member.fset, member.fdel]
            return property(*[p and self._copy_member(p, class_cell) for p in parts],
                            member.__doc__)
        if isinstance(member, types.FunctionType) and not _is_library(member):
            if id(member) in self.copies:
                return self.copies[id(member)]
            return self._copy_function(member, class_cell)
        return member


# ------------------------------------------------------------------------- helpers

def copies(case, *names):
    return [np.array(case[name], copy=True) for name in names]


def pair(result, what):
    """Unpack a (first, second) result, with a clear error when it is something else."""
    if not isinstance(result, tuple) or len(result) != 2:
        raise TypeError(f"{what} must return a tuple of two values, "
                        f"got {type(result).__name__}")
    return result


def triple(result, what):
    if not isinstance(result, tuple) or len(result) != 3:
        raise TypeError(f"{what} must return a tuple (dx, dw, db), got {type(result).__name__}")
    return result


# ------------------------------------------------------------------------- result shapes

def returns(shapes):
    """Declare what a probe reports: `shapes(case) -> {output name: shape}` for each
    array it returns (numbers and strings are not listed)."""
    def declare(probe):
        probe.result_shapes = shapes
        return probe
    return declare


def same_shapes(case, **outputs):
    """{output: the shape of case[input]} for outputs that keep an input's shape."""
    return {name: tuple(np.shape(case[key])) for name, key in outputs.items()}
