"""The CIFAR-10 data the grader controls: the training subset and the held-out images.

Loaded once per grading process by fcnet's own loader (`fcnet.data_utils`: the archive
CIFAR10_ARCHIVE and CIFAR10_MD5 name, else the official download). Images are centred as
`fcnet.data_utils.get_CIFAR10_data()` centres them with its defaults: minus its
`mean_image` of the first 49,000 training images. That is what a student's best_model.npz
was trained on.

What it hands out:
- the training question's images, drawn at grading time by their positions in the
  archive's order (`training_images`; autograder/training_question.py draws them);
- best_model's views: the 10,000 test images (float32, stored once), and training images
  drawn like the above (autograder/best_model.py).
"""
import threading

import numpy as np

NUM_MEAN = 49000       # get_CIFAR10_data()'s default num_training: the images of the mean

_lock = threading.Lock()
_cache = {}


class DataUnavailable(RuntimeError):
    """CIFAR-10 could not be loaded; the message says why."""


def _raw():
    """(Xtr (50000, 3, 32, 32) uint8, ytr, Xte (10000, 3, 32, 32) uint8, yte, mean image),
    read by fcnet.data_utils (read-only arrays) once per grading process."""
    with _lock:
        if "raw" not in _cache:
            from fcnet import data_utils

            try:
                root = data_utils.cifar10_dir(progress=False)
                Xtr, ytr, Xte, yte = data_utils.load_CIFAR10_raw(root)
            except Exception as err:
                raise DataUnavailable(f"CIFAR-10 could not be loaded ({err})") from err
            _cache["raw"] = (Xtr, ytr, Xte, yte, data_utils.mean_image(Xtr[:NUM_MEAN]))
        return _cache["raw"]


def _centred(images, mean):
    return images.astype(np.float64) - mean


def training_images(indices, dtype=np.float32):
    """(X, y): the training images at `indices` (positions in the archive's order), centred
    as get_CIFAR10_data() centres them, a thousand at a time (never float64 whole)."""
    Xtr, ytr, _, _, mean = _raw()
    indices = np.asarray(indices)
    X = np.empty((len(indices), *Xtr.shape[1:]), dtype=dtype)
    for start in range(0, len(indices), 1000):
        X[start:start + 1000] = Xtr[indices[start:start + 1000]] - mean
    return X, ytr[indices]


def test_set():
    """The full test batch: X (10000, 3, 32, 32) float32 centred, y (10000,).

    float32, as best_model is evaluated: centred in float64 a thousand images at a time
    and stored once per grading process, so the 10,000 images are never held in float64
    (245 MB) and never copied per student.
    """
    with _lock:
        if "test" in _cache:
            return _cache["test"]
    _, _, Xte, yte, mean = _raw()
    X = np.empty(Xte.shape, dtype=np.float32)
    for start in range(0, len(Xte), 1000):
        X[start:start + 1000] = Xte[start:start + 1000] - mean
    value = (X, yte.copy())
    with _lock:
        return _cache.setdefault("test", value)


def ensure_available():
    """Load CIFAR-10 now, raising DataUnavailable with the reason when it cannot be."""
    _raw()
