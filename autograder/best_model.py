"""Reading a submitted best_model.npz safely: data only, shapes checked before reading.

The file is untrusted. It is opened with allow_pickle=False (an object array is refused,
never unpickled), each member's header is read first and its shape and dtype validated,
so a hostile file cannot make the grader allocate gigabytes, and nothing of the student
runs: the grader evaluates the four arrays itself.
"""
import io
import threading
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


# ------------------------------------------------------------------------- graded views
#
# CIFAR-10's test labels are public: a closed-form fit to the 10,000 test images (a ridge
# regression onto their labels) reaches about 70% on them while it generalises like any
# linear model. So the test accuracy counts only up to BEST_MODEL_VIEW_MARGIN above the
# accuracy on two other views, which a model fit to the test images does not know:
# - "test_mirrored": the test images mirrored left-right, which CIFAR-10's classes do not
#   tell apart (honest models measured: within about a point of the test accuracy; a fit
#   to the test images loses what it memorised);
# - "training_sample": 10,000 of get_CIFAR10_data()'s 49,000 training images, drawn at
#   grading time. A model trained on them scores at least as well there as on the test
#   set; a model fit to the test images alone scores like a model that never saw them.
# benchmarks/best_model_views.py measures every view for honest models and for fits to
# the test labels; benchmarks/README.md records the result.
VIEW_SIZE = 10_000
GRADED_VIEWS = ("test", "test_mirrored", "training_sample")
_BATCH = 1000
_views_cache = {}
_views_lock = threading.Lock()


class View:
    """Images (float32, centred, shared: never written or copied whole), their labels, and
    how each batch is presented to the model: mirrored, and/or shifted per image."""

    def __init__(self, images, labels, mirror=False, offsets=None):
        self.images, self.labels = images, labels
        self.mirror, self.offsets = mirror, offsets

    def batches(self):
        for start in range(0, len(self.labels), _BATCH):
            x = self.images[start:start + _BATCH]
            if self.mirror:
                x = x[..., ::-1]
            if self.offsets is not None:
                x = _shifted(x, self.offsets[start:start + _BATCH])
            yield np.ascontiguousarray(x).reshape(len(x), -1), self.labels[start:start + _BATCH]

    def accuracy(self, params):
        """Share of the view a two-layer net with float32 `params` classifies right."""
        correct = 0
        for x, y in self.batches():
            hidden = np.maximum(x @ params["W1"] + params["b1"], 0)
            scores = hidden @ params["W2"] + params["b2"]
            correct += int(np.sum(np.argmax(scores, axis=1) == y))
        return correct / len(self.labels)


def _shifted(images, offsets, pad=2):
    """Each image moved by its (dy, dx) in [-pad, pad]; uncovered pixels are 0 (the mean
    image, as in answer_key.best_model.augment)."""
    n, _, height, width = images.shape
    padded = np.pad(images, ((0, 0), (0, 0), (pad, pad), (pad, pad)))
    windows = np.lib.stride_tricks.sliding_window_view(padded, (height, width), axis=(2, 3))
    return windows[np.arange(n), :, pad - offsets[:, 0], pad - offsets[:, 1]]


def make_views(rng, every_view=False):
    """{name: View} for GRADED_VIEWS (with `every_view`, also the shifted test images, for
    benchmarks/best_model_views.py). Uses the grading data loaded once per process."""
    from . import data

    X, y = data.test_set()
    views = {"test": View(X, y), "test_mirrored": View(X, y, mirror=True)}
    if every_view:
        for pad in (1, 2):
            offsets = rng.integers(-pad, pad + 1, size=(len(y), 2))
            views[f"test_shifted_{pad}"] = View(X, y, offsets=offsets)
    indices = np.sort(rng.choice(data.NUM_MEAN, size=VIEW_SIZE, replace=False))
    views["training_sample"] = View(*data.training_images(indices))
    return views


def graded_views(seed):
    """The graded views of one grading run (seeded by the case): built once per batch."""
    with _views_lock:
        if seed not in _views_cache:
            _views_cache.clear()  # one batch's views at a time: 123 MB of training images
            _views_cache[seed] = make_views(np.random.default_rng(seed))
        return _views_cache[seed]


def graded_accuracy(by_view):
    """The accuracy that counts: the test accuracy, at most BEST_MODEL_VIEW_MARGIN above
    the lowest of the other views."""
    from .points import BEST_MODEL_VIEW_MARGIN

    others = min(by_view[name] for name in GRADED_VIEWS if name != "test")
    return min(by_view["test"], others + BEST_MODEL_VIEW_MARGIN)


def points(accuracy, zero=None, full=None):
    """The share of best_model's points an accuracy earns: none below `zero`, all from
    `full`, linear between (default: points.py's BEST_MODEL_ZERO and BEST_MODEL_FULL;
    benchmarks/best_model_baseline.py passes other scales to compare them)."""
    from .points import BEST_MODEL_FULL, BEST_MODEL_ZERO

    zero = BEST_MODEL_ZERO if zero is None else zero
    full = BEST_MODEL_FULL if full is None else full
    return float(np.clip((accuracy - zero) / (full - zero), 0.0, 1.0))


# ------------------------------------------------------------------------- the check

VIEW_WORDS = {"test": "test accuracy", "test_mirrored": "on the mirrored test images",
              "training_sample": "on 10,000 training images"}


def best_model_case(rng):
    """The graded views (built once per batch, before any student is graded), under a
    key starting with "_": grader-only, like everything of this grader-side question."""
    seed = int(rng.integers(2 ** 62))
    views = graded_views(seed)
    return {"view_seed": seed, "_views": {name: views[name] for name in GRADED_VIEWS}}


def judge_best_model(case, out):
    """Points on points.py's linear scale for graded_accuracy over GRADED_VIEWS."""
    from fcnet.checking import CheckFailed, PartialCredit

    from .points import BEST_MODEL_FULL, BEST_MODEL_VIEW_MARGIN, BEST_MODEL_ZERO

    by_view = {}
    for name in GRADED_VIEWS:
        value = out.get(f"accuracy_{name}")
        if not isinstance(value, float):
            raise CheckFailed(f"no accuracy measured: {VIEW_WORDS[name]}")
        by_view[name] = value
    accuracy = graded_accuracy(by_view)
    if accuracy >= BEST_MODEL_FULL:
        return
    others = ", ".join(f"{VIEW_WORDS[n]} {by_view[n]:.4f}" for n in GRADED_VIEWS if n != "test")
    capped = "" if accuracy == by_view["test"] else \
        f", counted as {accuracy:.4f}: at most {BEST_MODEL_VIEW_MARGIN:.2f} above the others"
    raise PartialCredit(points(accuracy),
                        f"test accuracy {by_view['test']:.4f}{capped} ({others}); full points "
                        f"from {BEST_MODEL_FULL:.2f}, none below {BEST_MODEL_ZERO:.2f}")
