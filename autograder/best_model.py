"""Reading a submitted best_model.npz safely: data only, shapes checked before reading.

The file is untrusted. It is opened with allow_pickle=False (an object array is refused,
never unpickled), each member's header is read first and its shape and dtype validated,
so a hostile file cannot make the grader allocate gigabytes, and nothing of the student
runs: the grader evaluates the four arrays itself.
"""
import io
import zipfile

import numpy as np

from .points import BEST_MODEL_MAX_HIDDEN
from .worker_runtime import read_npy_header

MAX_FILE_BYTES = 256 * 2 ** 20
INPUT_DIM, NUM_CLASSES = 3 * 32 * 32, 10
KEYS = ("W1", "b1", "W2", "b2")


class InvalidModel(ValueError):
    """best_model.npz cannot be used; the message says why, for the student."""


def _expected_shapes(hidden):
    return {"W1": (INPUT_DIM, hidden), "b1": (hidden,), "W2": (hidden, NUM_CLASSES),
            "b2": (NUM_CLASSES,)}


def load_params(data):
    """{W1, b1, W2, b2} as float64 arrays from the bytes of a best_model.npz."""
    if len(data) > MAX_FILE_BYTES:
        raise InvalidModel(f"the file is larger than {MAX_FILE_BYTES // 2 ** 20} MB")
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except (zipfile.BadZipFile, ValueError) as err:
        raise InvalidModel(f"it is not an .npz file ({err}); save it with np.savez") from None
    with archive:
        members = {name[:-4]: name for name in archive.namelist() if name.endswith(".npy")}
        missing = [key for key in KEYS if key not in members]
        if missing:
            raise InvalidModel(f"it has no {', '.join(missing)}; save W1, b1, W2 and b2 "
                               f"with np.savez('best_model.npz', **best_model.params)")
        headers = {}
        for key in KEYS:
            try:
                with archive.open(members[key]) as member:
                    headers[key] = read_npy_header(member)
            except Exception as err:
                raise InvalidModel(f"{key} is not a readable array ({err})") from None
        w1_shape = headers["W1"][0]
        hidden = w1_shape[1] if len(w1_shape) == 2 else -1
        if not 1 <= hidden <= BEST_MODEL_MAX_HIDDEN:
            raise InvalidModel(f"W1 has shape {tuple(w1_shape)}; expected ({INPUT_DIM}, H) "
                               f"with 1 <= H <= {BEST_MODEL_MAX_HIDDEN}")
        params = {}
        for key, shape in _expected_shapes(hidden).items():
            got_shape, _, dtype = headers[key]
            if tuple(got_shape) != shape:
                raise InvalidModel(f"{key} has shape {tuple(got_shape)}, expected {shape}")
            if not np.issubdtype(dtype, np.floating):
                raise InvalidModel(f"{key} has dtype {dtype}; the weights must be floats")
            try:
                with archive.open(members[key]) as member:
                    value = np.lib.format.read_array(member, allow_pickle=False)
            except Exception as err:
                raise InvalidModel(f"{key} could not be read ({err})") from None
            value = np.asarray(value, dtype=np.float64)
            if not np.all(np.isfinite(value)):
                raise InvalidModel(f"{key} contains NaN or infinity")
            params[key] = value
    return params
