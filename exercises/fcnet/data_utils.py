"""CIFAR-10: download once, check it, unpack it safely, load it as numpy arrays.

The usual entry point is `get_CIFAR10_data()`, which returns the train / validation /
test splits ready for a network. Under the hood:

1. `fetch_cifar10()` finds the archive: the official URL by default, or whatever the
   environment variable CIFAR10_ARCHIVE names (a local path, or a file://, http:// or
   https:// URL). Downloads go to the cache folder (`$FCNET_CACHE_DIR`, default
   `~/.cache/fcnet/`). The archive's md5 must equal the official one, or CIFAR10_MD5 when
   that is set; a file that fails the check is never used.
2. The archive is unpacked into the cache, into a folder named after its md5, so two
   different copies of CIFAR-10 never mix.
3. `load_CIFAR10(root)` reads the six pickled batches from that folder.

Every problem raises `CIFAR10Error` with a message that says what to do next.
"""
import gzip
import hashlib
import http.client
import operator
import os
import pickle
import shutil
import sys
import tarfile
import tempfile
import urllib.error
import urllib.parse
import urllib.request
import zlib
from pathlib import Path

import numpy as np
from tqdm.auto import tqdm

CIFAR10_URL = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
CIFAR10_MD5 = "c58f30108f718f92721af3b95e74349a"
CIFAR10_CLASSES = ("airplane", "automobile", "bird", "cat", "deer",
                   "dog", "frog", "horse", "ship", "truck")

ARCHIVE_FOLDER = "cifar-10-batches-py"  # every member of the archive lives in here
TRAIN_BATCHES = tuple(f"data_batch_{i}" for i in range(1, 6))
TEST_BATCH = "test_batch"
REQUIRED_MEMBERS = TRAIN_BATCHES + (TEST_BATCH,)
OPTIONAL_MEMBERS = ("batches.meta", "readme.html")

NUM_TRAIN, NUM_TEST = 50000, 10000
_CHUNK = 1 << 20  # bytes read at a time when downloading or hashing


class CIFAR10Error(RuntimeError):
    """CIFAR-10 could not be found, downloaded, verified, unpacked or read."""


# --------------------------------------------------------------------------- fetching

def cache_dir():
    """The folder for downloads and unpacked data: $FCNET_CACHE_DIR or ~/.cache/fcnet."""
    return Path(os.environ.get("FCNET_CACHE_DIR") or Path.home() / ".cache" / "fcnet")


def file_md5(path):
    """Hex md5 digest of the file at `path`, read in chunks (the archive is 170 MB)."""
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(_CHUNK), b""):
            digest.update(chunk)
    return digest.hexdigest()


def _is_url(source):
    return urllib.parse.urlsplit(str(source)).scheme.lower() in ("http", "https", "ftp", "file")


def _say(message):
    print(message, file=sys.stderr)


def _check_md5(md5):
    md5 = str(md5).strip().lower()
    if len(md5) != 32 or any(c not in "0123456789abcdef" for c in md5):
        raise CIFAR10Error(f"{md5!r} is not an md5 checksum (32 hex digits). "
                           "Fix CIFAR10_MD5 or unset it to use the official checksum.")
    return md5


def _resolve(source, md5):
    """The archive's source and md5: the arguments, else the environment, else official."""
    source = str(source or os.environ.get("CIFAR10_ARCHIVE") or CIFAR10_URL)
    return source, _check_md5(md5 or os.environ.get("CIFAR10_MD5") or CIFAR10_MD5)


def download(url, dest, md5, progress=True):
    """Download `url` to the file `dest`, keeping it only if its md5 equals `md5`.

    The bytes go to a temporary file next to `dest`, which replaces `dest` in one atomic
    step after the checks pass, so `dest` is either absent or complete and verified;
    on any failure the temporary file is deleted.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=dest.parent, prefix=f".{dest.name}.", suffix=".part")
    try:
        with os.fdopen(fd, "wb") as out:
            received, expected, got = _copy_url(url, out, progress)
        if expected is not None and received != expected:
            raise CIFAR10Error(
                f"The download of {url} stopped after {received:,} of {expected:,} bytes. "
                "The connection was probably interrupted: run this again to retry.")
        if got != md5:
            raise CIFAR10Error(
                f"The file downloaded from {url} ({received:,} bytes) has md5 {got}, but "
                f"{md5} was expected: the download is incomplete or is a different file. "
                "Run this again to retry; if you deliberately use another copy of "
                "CIFAR-10, set CIFAR10_MD5 to that copy's md5.")
        os.chmod(tmp, 0o644)  # mkstemp makes it private; a cache may be shared
        os.replace(tmp, dest)
    finally:
        if os.path.exists(tmp):
            os.remove(tmp)
    return dest


def _copy_url(url, out, progress):
    """Stream `url` into the open file `out`.

    Returns (bytes received, length the server announced or None, md5 of the bytes).
    """
    try:
        response = urllib.request.urlopen(url, timeout=60)
    except urllib.error.HTTPError as err:
        raise CIFAR10Error(
            f"The server answered HTTP {err.code} ({err.reason}) for {url}. Check the "
            "address; or download cifar-10-python.tar.gz yourself and set "
            "CIFAR10_ARCHIVE=/path/to/cifar-10-python.tar.gz.") from err
    except (urllib.error.URLError, OSError, ValueError) as err:
        reason = getattr(err, "reason", err)
        raise CIFAR10Error(
            f"Could not download CIFAR-10 from {url}: {reason}. Check your internet "
            "connection and run this again; without internet, copy "
            "cifar-10-python.tar.gz to this machine and set "
            "CIFAR10_ARCHIVE=/path/to/cifar-10-python.tar.gz.") from err
    with response:
        length = response.headers.get("Content-Length")
        expected = int(length) if length and length.isdigit() else None
        received, digest = 0, hashlib.md5()  # hash while writing: no second pass
        with tqdm(total=expected, unit="B", unit_scale=True, unit_divisor=1024,
                  desc="Downloading CIFAR-10", disable=not progress) as bar:
            while True:
                try:
                    chunk = response.read(_CHUNK)
                except (OSError, EOFError, http.client.HTTPException) as err:
                    raise CIFAR10Error(
                        f"The download of {url} broke off after {received:,} bytes "
                        f"({err!r}). Run this again to retry.") from err
                if not chunk:
                    break
                out.write(chunk)
                digest.update(chunk)
                received += len(chunk)
                bar.update(len(chunk))
    return received, expected, digest.hexdigest()


def fetch_cifar10(source=None, md5=None, progress=True):
    """Return the path of a verified CIFAR-10 archive, downloading it if needed.

    Inputs:
    - source: local path or URL of cifar-10-python.tar.gz; default $CIFAR10_ARCHIVE,
      else the official URL. A local path is used where it is (never copied or changed).
    - md5: expected md5 of the archive; default $CIFAR10_MD5, else the official one.
    - progress: show a progress bar while downloading.
    """
    source, md5 = _resolve(source, md5)
    if not _is_url(source):
        path = Path(source).expanduser()
        if not path.is_file():
            raise CIFAR10Error(
                f"No CIFAR-10 archive at {path} (named by CIFAR10_ARCHIVE). Point "
                "CIFAR10_ARCHIVE at cifar-10-python.tar.gz, or unset it to download "
                f"from {CIFAR10_URL}.")
        got = file_md5(path)
        if got != md5:
            raise CIFAR10Error(
                f"{path} has md5 {got}, but {md5} was expected: the file is damaged or "
                "incomplete, or is another copy of CIFAR-10. Replace the file; if this "
                "copy is the one you mean to use, set CIFAR10_MD5 to its md5.")
        return path

    name = Path(urllib.parse.urlsplit(source).path).name or "cifar-10-python.tar.gz"
    cached = cache_dir() / name
    if cached.is_file():
        got = file_md5(cached)
        if got == md5:
            return cached
        # Never use a file that fails its check; a fresh download replaces it.
        _say(f"The cached file {cached} has md5 {got}, not the expected {md5}; "
             "deleting it and downloading it again.")
        cached.unlink()
    return download(source, cached, md5, progress=progress)


# --------------------------------------------------------------------------- unpacking

def extract_cifar10(archive, dest):
    """Unpack the batches of `archive` into the new folder `dest` and return `dest`.

    Only regular files directly inside cifar-10-batches-py/ are written, under their
    own base name, so a hostile archive cannot write anywhere else (no '..', no
    absolute paths, no links). The files go to a temporary folder first that is renamed
    to `dest` once everything is in place: `dest` is complete or absent.
    """
    dest = Path(dest)
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(dir=dest.parent, prefix=".extract-"))
    try:
        found = set()
        try:
            with tarfile.open(archive, "r:gz") as tar:
                for member in tar:
                    folder, _, base = member.name.strip("/").partition("/")
                    wanted = base in REQUIRED_MEMBERS + OPTIONAL_MEMBERS
                    if folder != ARCHIVE_FOLDER or not wanted or not member.isfile():
                        continue  # not one of ours: skip rather than trust its path
                    with tar.extractfile(member) as src, open(tmp / base, "wb") as dst:
                        shutil.copyfileobj(src, dst, _CHUNK)
                    found.add(base)
        except (tarfile.TarError, EOFError, zlib.error, gzip.BadGzipFile) as err:
            raise CIFAR10Error(
                f"{archive} is not a readable .tar.gz archive ({err}): it is damaged or "
                "truncated. Delete it and download it again, or point CIFAR10_ARCHIVE at "
                "a good copy.") from err
        missing = [m for m in REQUIRED_MEMBERS if m not in found]
        if missing:
            raise CIFAR10Error(
                f"{archive} lacks {', '.join(ARCHIVE_FOLDER + '/' + m for m in missing)}: "
                "it is not the CIFAR-10 python archive. Use cifar-10-python.tar.gz from "
                f"{CIFAR10_URL}.")
        os.chmod(tmp, 0o755)  # mkdtemp makes it private; a cache may be shared
        try:
            os.rename(tmp, dest)
        except OSError:
            if not _is_complete(dest):  # lost a race with another process? fine if so
                raise
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return dest


def _is_complete(folder):
    return all((Path(folder) / m).is_file() for m in REQUIRED_MEMBERS)


def cifar10_dir(source=None, md5=None, progress=True):
    """Return the folder holding the unpacked batches, fetching and unpacking if needed.

    Arguments as for `fetch_cifar10`. The folder is `<cache>/cifar-10-batches-py-<md5>`,
    so data unpacked from one archive is never mistaken for another's.
    """
    source, md5 = _resolve(source, md5)
    folder = cache_dir() / f"{ARCHIVE_FOLDER}-{md5}"
    if _is_complete(folder):
        return folder
    if folder.exists():
        _say(f"{folder} is incomplete; unpacking CIFAR-10 again.")
        shutil.rmtree(folder)
    archive = fetch_cifar10(source, md5, progress=progress)
    try:
        return extract_cifar10(archive, folder)
    except CIFAR10Error:
        if _is_url(source):  # our own download is useless: do not keep it
            archive.unlink(missing_ok=True)
            _say(f"Deleted {archive}.")
        raise


# --------------------------------------------------------------------------- loading

class _BatchUnpickler(pickle.Unpickler):
    """Unpickles CIFAR-10 batches only: plain containers and numpy arrays.

    A pickle can name any function to call while loading; a batch only needs numpy's
    array rebuilding, so anything else is refused instead of run.
    """

    ALLOWED = {("numpy", "ndarray"), ("numpy", "dtype"), ("_codecs", "encode"),
               ("numpy.core.multiarray", "_reconstruct"),
               ("numpy._core.multiarray", "_reconstruct")}

    def find_class(self, module, name):
        if (module, name) not in self.ALLOWED:
            raise pickle.UnpicklingError(f"refusing to load {module}.{name}")
        return super().find_class(module, name)


def _read_batch(filename):
    """Return the raw batch `filename`: data (N, 3, 32, 32) uint8, labels (N,) int64."""
    try:
        with open(filename, "rb") as f:
            batch = _BatchUnpickler(f, encoding="latin1").load()
        data = np.asarray(batch["data"], dtype=np.uint8)
        labels = np.asarray(batch["labels"], dtype=np.int64)
        # Each row holds 1024 red, then 1024 green, then 1024 blue values (CHW order).
        data = data.reshape(len(labels), 3, 32, 32)
    except FileNotFoundError as err:
        raise CIFAR10Error(f"{filename} is missing. Pass the cifar-10-batches-py folder, "
                           "or call get_CIFAR10_data() to download CIFAR-10.") from err
    except Exception as err:
        raise CIFAR10Error(f"{filename} is not a CIFAR-10 batch ({type(err).__name__}: "
                           f"{err}). Delete the folder it is in and load again.") from err
    return data, labels


def load_CIFAR_batch(filename, dtype=np.float64):
    """Load one batch file.

    Returns:
    - X: images, shape (N, 32, 32, 3) (height, width, RGB), values 0..255 as `dtype`
    - Y: labels, shape (N,), int64 in 0..9
    """
    data, labels = _read_batch(filename)
    return data.transpose(0, 2, 3, 1).astype(dtype), labels


def load_CIFAR10_raw(root):
    """All of CIFAR-10 as stored: (Xtr (50000, 3, 32, 32) uint8, Ytr (50000,),
    Xte (10000, 3, 32, 32) uint8, Yte (10000,)), read-only. Kept for the last root read,
    since tuning runs call get_CIFAR10_data again and again (and the grader reads its
    images from here too)."""
    root = Path(root)
    key = (str(root.resolve()), [_mtime(root / m) for m in REQUIRED_MEMBERS])
    if _RAW_CACHE.get("key") != key:
        _RAW_CACHE.clear()
        train = [_read_batch(root / name) for name in TRAIN_BATCHES]
        Xtr = np.concatenate([x for x, _ in train])
        Ytr = np.concatenate([y for _, y in train])
        Xte, Yte = _read_batch(root / TEST_BATCH)
        for a in (Xtr, Ytr, Xte, Yte):
            a.flags.writeable = False  # shared between calls: nobody may change it
        _RAW_CACHE.update(key=key, arrays=(Xtr, Ytr, Xte, Yte))
    return _RAW_CACHE["arrays"]


_RAW_CACHE = {}


def _mtime(path):
    try:
        return os.stat(path).st_mtime_ns
    except OSError:
        return None


def load_CIFAR10(root, dtype=np.float64):
    """Load all of CIFAR-10 from `root`, the unpacked cifar-10-batches-py folder.

    Returns a tuple:
    - Xtr: training images, shape (50000, 32, 32, 3), values 0..255 as `dtype`
    - Ytr: training labels, shape (50000,), int64 in 0..9
    - Xte: test images, shape (10000, 32, 32, 3)
    - Yte: test labels, shape (10000,)
    """
    Xtr, Ytr, Xte, Yte = load_CIFAR10_raw(root)
    as_hwc = lambda X: X.transpose(0, 2, 3, 1).astype(dtype)  # noqa: E731
    return as_hwc(Xtr), Ytr.copy(), as_hwc(Xte), Yte.copy()


def mean_image(X_train):
    """The mean of the training images X_train (N, 3, 32, 32), in float64.

    Sums of up to 50,000 bytes are exact in float64, so this is the mean of the images
    in any float type. get_CIFAR10_data subtracts it from every split, and so does the
    grader (autograder/data.py).
    """
    return X_train.mean(axis=0, dtype=np.float64)


def get_CIFAR10_data(num_training=49000, num_validation=1000, num_test=1000,
                     subtract_mean=True, dtype=np.float64, root=None):
    """CIFAR-10 split and centred, ready for a classifier (downloaded on first use).

    Inputs:
    - num_training: the first num_training training images form the training split
    - num_validation: the next num_validation training images form the validation split
    - num_test: the first num_test test images form the test split
    - subtract_mean: subtract the mean training image from every split
    - dtype: floating type of the images (np.float32 halves memory and time)
    - root: an unpacked cifar-10-batches-py folder; default: fetch via cifar10_dir()

    Returns a dict; with Ntr, Nval, Nte the three sizes:
    - X_train (Ntr, 3, 32, 32), y_train (Ntr,)
    - X_val (Nval, 3, 32, 32),  y_val (Nval,)
    - X_test (Nte, 3, 32, 32),  y_test (Nte,)
    Images are `dtype` (channels first); labels are int64 in 0..9.
    """
    num_training = _count("num_training", num_training, low=1)
    num_validation = _count("num_validation", num_validation)
    num_test = _count("num_test", num_test)
    if num_training + num_validation > NUM_TRAIN:
        raise ValueError(
            f"num_training + num_validation = {num_training + num_validation}, but "
            f"CIFAR-10 has only {NUM_TRAIN} training images to split between them.")
    if num_test > NUM_TEST:
        raise ValueError(f"num_test = {num_test}, but CIFAR-10 has only {NUM_TEST} test images.")
    if not np.issubdtype(dtype, np.floating):
        raise ValueError(f"dtype must be a floating type such as np.float32, not {dtype}.")

    Xtr, Ytr, Xte, Yte = load_CIFAR10_raw(root if root is not None else cifar10_dir())
    if num_training + num_validation > len(Xtr) or num_test > len(Xte):  # a smaller copy
        raise ValueError(f"Asked for {num_training} + {num_validation} training and "
                         f"{num_test} test images, but this copy of CIFAR-10 has "
                         f"{len(Xtr)} and {len(Xte)}.")
    val = slice(num_training, num_training + num_validation)
    data = {
        "X_train": Xtr[:num_training].astype(dtype), "y_train": Ytr[:num_training].copy(),
        "X_val": Xtr[val].astype(dtype), "y_val": Ytr[val].copy(),
        "X_test": Xte[:num_test].astype(dtype), "y_test": Yte[:num_test].copy(),
    }
    if subtract_mean:
        mean = mean_image(Xtr[:num_training]).astype(dtype)
        for key in ("X_train", "X_val", "X_test"):
            data[key] -= mean  # in place: no other copy of the data
    return data


def _count(name, value, low=0):
    try:
        value = operator.index(value)
    except TypeError:
        raise TypeError(f"{name} must be a whole number, not {value!r}.") from None
    if value < low:
        raise ValueError(f"{name} must be at least {low}, not {value}.")
    return value
