"""What each probe must return: the shape of every array it reports, from its case.

A result frame is written in the worker, where the student's code runs, so it is hostile
data: a class body can write its own, declaring a float16 W1 of shape (10000, 12800)
(256 MB, a quarter of a megabyte compressed) that the judges would then turn into float64
several times over. The grader therefore reads each array's .npy header first
(worker_runtime.decode_frame) and decodes the array only when `admits` says so: a real
number type of at most 8 bytes, and at most a few times the elements of the shape this
table declares. A wrong but honest answer (transposed, unflattened, a column for a
vector) stays within that and is judged as before, with its diagnosis; a far larger one
is not read, and the check says what was returned and what the case needs.

One entry per sandboxed probe (fcnet/probes.py), keyed by the probe's name:
{output name: expected shape}. Outputs that are not arrays (ints, strings) are not
listed, and an array under a name the probe does not return is never decoded.
"""
import numpy as np

from fcnet import questions

SLACK_FACTOR, SLACK_ELEMENTS = 4, 4096   # what an honest wrong shape may still hold
MAX_ITEMSIZE = 8                         # float64 / int64; no longdouble, no complex


# Each question module's probes declare theirs (fcnet.probing.returns).
RESULT_SHAPES = {name: probe.result_shapes for name, probe in questions.probes().items()}


def expected_shapes(probe, case):
    """{output name: shape} the probe `probe` returns on `case`; KeyError for a probe
    this table does not declare (a test keeps it complete)."""
    return RESULT_SHAPES[probe](case)


def admits(expected, name, shape, dtype):
    """Whether array `name`, declared (in its .npy header) as `shape` and `dtype`, may be
    decoded for a probe that returns `expected` ({name: shape})."""
    if name not in expected:
        return False
    if dtype.kind not in "biuf" or dtype.itemsize > MAX_ITEMSIZE:
        return False
    size = int(np.prod(shape, dtype=np.int64))
    return size <= SLACK_FACTOR * int(np.prod(expected[name], dtype=np.int64)) + SLACK_ELEMENTS


class Refused:
    """An array left undecoded: what its header declared (the check reports it)."""

    def __init__(self, name, shape, dtype, expected):
        self.name, self.shape, self.dtype, self.expected = name, tuple(shape), dtype, expected

    def message(self):
        needed = f"shape {self.expected}" if self.expected is not None else "no such array"
        return (f"the result {self.name!r} was declared as {self.dtype} of shape "
                f"{self.shape}; this case needs {needed}, so it was not read")
