"""fcnet.data_utils against small archives in the official format, written by the tests.

Each archive holds a few images per batch. It is used from a local path, a file:// URL
and a local HTTP server; broken variants check that every failure gives a clear
CIFAR10Error and leaves nothing half-written in the cache.
"""
import hashlib
import http.server
import io
import os
import pickle
import socket
import tarfile
import threading
import urllib.error
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest

from fcnet import data_utils
from fcnet.data_utils import CIFAR10Error, get_CIFAR10_data, load_CIFAR10

PER_BATCH, PER_TEST = 4, 6  # images in each training batch and in the test batch
NAME = "cifar-10-python.tar.gz"


# ----------------------------------------------------------------------------- helpers

def make_batches(seed=0):
    """Batches as the official archive stores them: data (n, 3072) uint8 in CHW order."""
    rng = np.random.default_rng(seed)
    batches = {}
    sizes = [(f"data_batch_{i}", PER_BATCH) for i in range(1, 6)] + [("test_batch", PER_TEST)]
    for name, n in sizes:
        batches[name] = {
            "batch_label": f"{name} of the test archive",
            "labels": [int(v) for v in rng.integers(0, 10, n)],
            "data": rng.integers(0, 256, size=(n, 3072), dtype=np.uint8),
            "filenames": [f"image_{i}.png" for i in range(n)],
        }
    return batches


def _add(tar, name, payload):
    info = tarfile.TarInfo(name)
    info.size = len(payload)
    tar.addfile(info, io.BytesIO(payload))


def archive_bytes(batches, skip=(), extra=()):
    """A .tar.gz of `batches` under cifar-10-batches-py/, minus `skip`, plus `extra`
    members: (name, payload) pairs or ready TarInfo headers (links)."""
    buf = io.BytesIO()
    with tarfile.open(fileobj=buf, mode="w:gz") as tar:
        for name, batch in batches.items():
            if name not in skip:
                _add(tar, f"cifar-10-batches-py/{name}", pickle.dumps(batch, protocol=2))
        meta = {"label_names": list(data_utils.CIFAR10_CLASSES), "num_vis": 3072}
        _add(tar, "cifar-10-batches-py/batches.meta", pickle.dumps(meta, protocol=2))
        for item in extra:
            if isinstance(item, tarfile.TarInfo):
                tar.addfile(item)
            else:
                _add(tar, *item)
    return buf.getvalue()


def md5(payload):
    return hashlib.md5(payload).hexdigest()


def expected_arrays(batches):
    """What load_CIFAR10 should return: NHWC images and labels."""
    train = [batches[f"data_batch_{i}"] for i in range(1, 6)]
    raw_tr = np.concatenate([b["data"] for b in train]).reshape(-1, 3, 32, 32)
    raw_te = batches["test_batch"]["data"].reshape(-1, 3, 32, 32)
    ytr = np.concatenate([b["labels"] for b in train])
    return raw_tr, ytr, raw_te, np.array(batches["test_batch"]["labels"])


def cache_files(cache):
    """Every path inside the cache folder, relative, sorted."""
    if not cache.exists():
        return []
    return sorted(str(p.relative_to(cache)) for p in cache.rglob("*"))


def assert_nothing_partial(cache):
    leftovers = [p for p in cache_files(cache) if ".part" in p or ".extract-" in p]
    assert leftovers == []


# ----------------------------------------------------------------------------- fixtures

@pytest.fixture
def cache(tmp_path, monkeypatch):
    """An empty cache folder, and no CIFAR10_* settings from the outside."""
    folder = tmp_path / "cache"
    monkeypatch.setenv("FCNET_CACHE_DIR", str(folder))
    monkeypatch.delenv("CIFAR10_ARCHIVE", raising=False)
    monkeypatch.delenv("CIFAR10_MD5", raising=False)
    return folder


@pytest.fixture
def batches():
    return make_batches()


@pytest.fixture
def server(tmp_path):
    """HTTP server on 127.0.0.1 serving tmp_path/served. /cutoff/<name> announces the
    full length of <name> but sends only half of it, then hangs up; /chunked-cutoff/<name>
    does the same inside one chunk of a chunked response."""
    root = tmp_path / "served"
    root.mkdir()
    requests = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, directory=str(root), **kwargs)

        def log_message(self, *args):
            pass

        def do_GET(self):
            requests.append(self.path)
            if self.path.startswith("/chunked-cutoff/"):  # dies inside a chunk
                body = (root / self.path[len("/chunked-cutoff/"):]).read_bytes()
                self.send_response(200)
                self.send_header("Transfer-Encoding", "chunked")
                self.end_headers()
                self.wfile.write(b"%x\r\n" % len(body) + body[: len(body) // 2])
                return
            if self.path.startswith("/cutoff/"):
                body = (root / self.path[len("/cutoff/"):]).read_bytes()
                self.send_response(200)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body[: len(body) // 2])
                return
            super().do_GET()

    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()

    def publish(payload, name=NAME):
        (root / name).write_bytes(payload)
        return f"http://127.0.0.1:{httpd.server_port}/{name}"

    yield SimpleNamespace(publish=publish, requests=requests, root=root,
                          url=f"http://127.0.0.1:{httpd.server_port}")
    httpd.shutdown()
    httpd.server_close()


def use(monkeypatch, source, checksum):
    monkeypatch.setenv("CIFAR10_ARCHIVE", str(source))
    monkeypatch.setenv("CIFAR10_MD5", checksum)


# ----------------------------------------------------------------------------- good archives

def check_loaded(folder, batches):
    Xtr, Ytr, Xte, Yte = load_CIFAR10(folder)
    raw_tr, ytr, raw_te, yte = expected_arrays(batches)
    assert Xtr.shape == (5 * PER_BATCH, 32, 32, 3) and Xtr.dtype == np.float64
    assert Xte.shape == (PER_TEST, 32, 32, 3)
    np.testing.assert_array_equal(Xtr, raw_tr.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(Xte, raw_te.transpose(0, 2, 3, 1))
    np.testing.assert_array_equal(Ytr, ytr)
    np.testing.assert_array_equal(Yte, yte)
    # Row layout: the first 1024 values of a row are the red channel of the image.
    first = batches["data_batch_1"]["data"][0]
    np.testing.assert_array_equal(Xtr[0, :, :, 0].ravel(), first[:1024])


def test_local_path_is_used_in_place(cache, batches, tmp_path, monkeypatch):
    payload = archive_bytes(batches)
    archive = tmp_path / NAME
    archive.write_bytes(payload)
    use(monkeypatch, archive, md5(payload))

    folder = data_utils.cifar10_dir()

    assert folder == cache / f"cifar-10-batches-py-{md5(payload)}"
    check_loaded(folder, batches)
    assert not (cache / NAME).exists()  # a local archive is not copied into the cache
    assert sorted(os.listdir(folder)) == ["batches.meta"] + sorted(batches)


def test_download_over_http_then_reuse(cache, batches, server, monkeypatch):
    payload = archive_bytes(batches)
    use(monkeypatch, server.publish(payload), md5(payload))

    folder = data_utils.cifar10_dir(progress=False)

    check_loaded(folder, batches)
    assert data_utils.file_md5(cache / NAME) == md5(payload)
    assert server.requests == ["/" + NAME]
    assert data_utils.cifar10_dir() == folder
    assert server.requests == ["/" + NAME]  # the second call downloads nothing
    assert_nothing_partial(cache)


def test_file_url_goes_through_the_download(cache, batches, tmp_path, monkeypatch):
    payload = archive_bytes(batches)
    archive = tmp_path / NAME
    archive.write_bytes(payload)
    use(monkeypatch, archive.as_uri(), md5(payload))

    check_loaded(data_utils.cifar10_dir(progress=False), batches)
    assert (cache / NAME).read_bytes() == payload


def test_cached_archive_failing_its_checksum_is_downloaded_again(
        cache, batches, server, monkeypatch, capsys):
    payload = archive_bytes(batches)
    use(monkeypatch, server.publish(payload), md5(payload))
    cache.mkdir()
    (cache / NAME).write_bytes(payload[:100])  # e.g. left by an old interrupted tool

    check_loaded(data_utils.cifar10_dir(progress=False), batches)

    err = capsys.readouterr().err
    assert f"has md5 {md5(payload[:100])}, not the expected {md5(payload)}" in err
    assert "downloading it again" in err
    assert (cache / NAME).read_bytes() == payload


def test_default_source_is_the_official_url(cache, monkeypatch):
    tried = []

    def offline(url, timeout=None):
        tried.append(url)
        raise urllib.error.URLError("no network in this test")

    monkeypatch.setattr(data_utils.urllib.request, "urlopen", offline)
    with pytest.raises(CIFAR10Error, match="Could not download CIFAR-10"):
        data_utils.cifar10_dir(progress=False)
    assert tried == ["https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"]
    assert data_utils.CIFAR10_MD5 == "c58f30108f718f92721af3b95e74349a"
    assert cache_files(cache) == []


# ----------------------------------------------------------------------------- bad sources

def test_wrong_md5_local(cache, batches, tmp_path, monkeypatch):
    payload = archive_bytes(batches)
    archive = tmp_path / NAME
    archive.write_bytes(payload)
    use(monkeypatch, archive, "0" * 32)
    with pytest.raises(CIFAR10Error, match=f"has md5 {md5(payload)}, but 0{{32}} was expected"):
        data_utils.cifar10_dir()
    assert archive.read_bytes() == payload  # the user's file is left alone
    assert cache_files(cache) == []


def test_wrong_md5_download(cache, batches, server, monkeypatch):
    payload = archive_bytes(batches)
    use(monkeypatch, server.publish(payload), "0" * 32)
    with pytest.raises(CIFAR10Error, match="the download is incomplete or is a different file"):
        data_utils.cifar10_dir(progress=False)
    assert cache_files(cache) == []


def test_truncated_download_fails_its_checksum(cache, batches, server, monkeypatch):
    payload = archive_bytes(batches)
    use(monkeypatch, server.publish(payload[: len(payload) // 2]), md5(payload))
    with pytest.raises(CIFAR10Error, match=f"has md5 .* but {md5(payload)} was expected"):
        data_utils.cifar10_dir(progress=False)
    assert cache_files(cache) == []


def test_connection_cut_off_mid_download(cache, batches, server, monkeypatch):
    payload = archive_bytes(batches)
    server.publish(payload)
    use(monkeypatch, f"{server.url}/cutoff/{NAME}", md5(payload))
    with pytest.raises(CIFAR10Error, match=f"stopped after {len(payload) // 2:,} of "
                                           f"{len(payload):,} bytes"):
        data_utils.cifar10_dir(progress=False)
    assert cache_files(cache) == []


def test_connection_cut_off_inside_a_chunk(cache, batches, server, monkeypatch):
    payload = archive_bytes(batches)
    server.publish(payload)
    use(monkeypatch, f"{server.url}/chunked-cutoff/{NAME}", md5(payload))
    with pytest.raises(CIFAR10Error, match="broke off after .*IncompleteRead.*Run this again"):
        data_utils.cifar10_dir(progress=False)
    assert cache_files(cache) == []


def test_truncated_archive_with_its_own_md5(cache, batches, server, monkeypatch, capsys):
    # The checksum matches, so the damage only shows when unpacking.
    payload = archive_bytes(batches)[:-200]
    use(monkeypatch, server.publish(payload), md5(payload))
    with pytest.raises(CIFAR10Error, match="not a readable .tar.gz archive .*damaged or truncated"):
        data_utils.cifar10_dir(progress=False)
    assert f"Deleted {cache / NAME}" in capsys.readouterr().err
    assert cache_files(cache) == []


def test_corrupt_bytes_local(cache, tmp_path, monkeypatch):
    payload = b"<html>Not found, but served with status 200</html>"
    archive = tmp_path / NAME
    archive.write_bytes(payload)
    use(monkeypatch, archive, md5(payload))
    with pytest.raises(CIFAR10Error, match="is not a readable .tar.gz archive"):
        data_utils.cifar10_dir()
    assert archive.exists()  # never delete the user's own file
    assert_nothing_partial(cache)
    assert cache_files(cache) == []


def test_http_404(cache, server, monkeypatch):
    use(monkeypatch, f"{server.url}/no-such-file.tar.gz", "0" * 32)
    with pytest.raises(CIFAR10Error, match="HTTP 404"):
        data_utils.cifar10_dir(progress=False)
    assert cache_files(cache) == []


def test_connection_refused_says_what_to_do(cache, monkeypatch):
    with socket.socket() as s:  # a port that was free a moment ago: nobody listens
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    use(monkeypatch, f"http://127.0.0.1:{port}/{NAME}", "0" * 32)
    with pytest.raises(CIFAR10Error) as info:
        data_utils.cifar10_dir(progress=False)
    message = str(info.value)
    assert "Could not download CIFAR-10" in message and "refused" in message
    assert "set CIFAR10_ARCHIVE=/path/to/cifar-10-python.tar.gz" in message
    assert cache_files(cache) == []


def test_missing_members(cache, batches, tmp_path, monkeypatch):
    payload = archive_bytes(batches, skip=("test_batch", "data_batch_3"))
    archive = tmp_path / NAME
    archive.write_bytes(payload)
    use(monkeypatch, archive, md5(payload))
    with pytest.raises(CIFAR10Error, match="lacks cifar-10-batches-py/data_batch_3, "
                                           "cifar-10-batches-py/test_batch"):
        data_utils.cifar10_dir()
    assert cache_files(cache) == []


def test_bad_local_path(cache, tmp_path, monkeypatch):
    use(monkeypatch, tmp_path / "nowhere" / NAME, "0" * 32)
    with pytest.raises(CIFAR10Error, match="No CIFAR-10 archive at .*nowhere"):
        data_utils.cifar10_dir()


def test_malformed_md5_setting(cache, monkeypatch):
    monkeypatch.setenv("CIFAR10_MD5", "not-a-checksum")
    with pytest.raises(CIFAR10Error, match="not an md5 checksum"):
        data_utils.cifar10_dir()


def test_extraction_writes_only_inside_its_folder(cache, batches, tmp_path, monkeypatch):
    hostile = [("cifar-10-batches-py/../../escaped.txt", b"x"),  # would land in tmp_path
               ("cifar-10-batches-py/../../../escaped.txt", b"x"),
               ("../escaped.txt", b"x"),
               (str(tmp_path / "absolute.txt"), b"x"),
               ("cifar-10-batches-py/sub/data_batch_1", b"x")]
    link = tarfile.TarInfo("cifar-10-batches-py/readme.html")
    link.type, link.linkname = tarfile.SYMTYPE, "/etc/passwd"
    payload = archive_bytes(batches, extra=hostile + [link])
    archive = tmp_path / "archives" / NAME
    archive.parent.mkdir()
    archive.write_bytes(payload)
    use(monkeypatch, archive, md5(payload))

    folder = data_utils.cifar10_dir()

    assert sorted(os.listdir(folder)) == ["batches.meta"] + sorted(batches)
    assert not any(p.name in ("escaped.txt", "absolute.txt") for p in tmp_path.rglob("*"))
    assert not (tmp_path.parent / "escaped.txt").exists()
    check_loaded(folder, batches)  # data_batch_1 is the real one, not sub/data_batch_1


def test_a_batch_that_runs_code_is_refused(cache, batches, tmp_path, monkeypatch):
    class Payload:
        def __reduce__(self):
            return (os.getcwd, ())

    batches["data_batch_2"]["filenames"] = Payload()
    payload = archive_bytes(batches)
    archive = tmp_path / NAME
    archive.write_bytes(payload)
    use(monkeypatch, archive, md5(payload))
    with pytest.raises(CIFAR10Error, match="data_batch_2 is not a CIFAR-10 batch.*refusing "
                                           "to load posix.getcwd"):
        load_CIFAR10(data_utils.cifar10_dir())


def test_load_from_a_folder_without_batches(tmp_path):
    with pytest.raises(CIFAR10Error, match="data_batch_1 is missing"):
        load_CIFAR10(tmp_path)


# ----------------------------------------------------------------------------- get_CIFAR10_data

@pytest.fixture
def small_cifar(cache, batches, tmp_path, monkeypatch):
    payload = archive_bytes(batches)
    archive = tmp_path / NAME
    archive.write_bytes(payload)
    use(monkeypatch, archive, md5(payload))
    return expected_arrays(batches)


def test_splits_and_mean_subtraction(small_cifar):
    raw_tr, ytr, raw_te, yte = small_cifar
    data = get_CIFAR10_data(num_training=15, num_validation=3, num_test=4)

    assert sorted(data) == ["X_test", "X_train", "X_val", "y_test", "y_train", "y_val"]
    mean = raw_tr[:15].astype(np.float64).mean(axis=0)  # training images only
    np.testing.assert_allclose(data["X_train"], raw_tr[:15] - mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(data["X_val"], raw_tr[15:18] - mean, rtol=0, atol=1e-12)
    np.testing.assert_allclose(data["X_test"], raw_te[:4] - mean, rtol=0, atol=1e-12)
    np.testing.assert_array_equal(data["y_train"], ytr[:15])
    np.testing.assert_array_equal(data["y_val"], ytr[15:18])
    np.testing.assert_array_equal(data["y_test"], yte[:4])
    assert data["X_train"].shape == (15, 3, 32, 32) and data["X_train"].dtype == np.float64
    assert data["X_val"].shape == (3, 3, 32, 32) and data["X_test"].shape == (4, 3, 32, 32)
    assert all(v.flags.c_contiguous and v.flags.writeable for v in data.values())


def test_without_mean_subtraction_and_in_float32(small_cifar):
    raw_tr, _, raw_te, _ = small_cifar
    plain = get_CIFAR10_data(num_training=10, num_validation=2, num_test=3, subtract_mean=False)
    np.testing.assert_array_equal(plain["X_train"], raw_tr[:10])
    np.testing.assert_array_equal(plain["X_val"], raw_tr[10:12])
    np.testing.assert_array_equal(plain["X_test"], raw_te[:3])

    f32 = get_CIFAR10_data(num_training=10, num_validation=2, num_test=3, dtype=np.float32)
    f64 = get_CIFAR10_data(num_training=10, num_validation=2, num_test=3)
    assert all(f32[k].dtype == np.float32 for k in ("X_train", "X_val", "X_test"))
    np.testing.assert_allclose(f32["X_val"], f64["X_val"], atol=1e-4)


def test_changing_the_result_does_not_change_the_next_one(small_cifar):
    first = get_CIFAR10_data(num_training=10, num_validation=2, num_test=3)
    first["X_train"][:] = 0
    first["y_train"][:] = -1
    again = get_CIFAR10_data(num_training=10, num_validation=2, num_test=3)
    assert np.abs(again["X_train"]).sum() > 0 and (again["y_train"] >= 0).all()


@pytest.mark.parametrize("kwargs, error, message", [
    (dict(num_training=49001, num_validation=1000), ValueError,
     "num_training \\+ num_validation = 50001, but CIFAR-10 has only 50000"),
    (dict(num_test=10001), ValueError, "only 10000 test images"),
    (dict(num_training=0), ValueError, "num_training must be at least 1"),
    (dict(num_validation=-1), ValueError, "num_validation must be at least 0"),
    (dict(num_training=2.5), TypeError, "num_training must be a whole number"),
    (dict(dtype=np.int32), ValueError, "dtype must be a floating type"),
])
def test_bad_arguments_fail_before_any_download(cache, monkeypatch, kwargs, error, message):
    monkeypatch.setenv("CIFAR10_ARCHIVE", "/nowhere/cifar-10-python.tar.gz")
    with pytest.raises(error, match=message):
        get_CIFAR10_data(**kwargs)


def test_asking_for_more_images_than_a_small_copy_has(small_cifar):
    with pytest.raises(ValueError, match="this copy of CIFAR-10 has 20 and 6"):
        get_CIFAR10_data(num_training=18, num_validation=3, num_test=1)


# ----------------------------------------------------------------------------- real CIFAR-10

@pytest.mark.slow
@pytest.mark.cifar
def test_real_cifar10_splits(cifar10_archive):
    data = get_CIFAR10_data(num_training=2000, num_validation=500, num_test=500,
                            dtype=np.float32)
    assert data["X_train"].shape == (2000, 3, 32, 32)
    assert data["X_val"].shape == (500, 3, 32, 32)
    assert data["y_test"].shape == (500,)
    assert abs(float(data["X_train"].mean())) < 1e-3  # centred by the training mean
    assert set(np.unique(data["y_train"])) == set(range(10))
    Xtr, Ytr, Xte, Yte = load_CIFAR10(data_utils.cifar10_dir(), dtype=np.float32)
    assert Xtr.shape == (50000, 32, 32, 3) and Xte.shape == (10000, 32, 32, 3)
    assert np.bincount(Ytr).tolist() == [5000] * 10 and np.bincount(Yte).tolist() == [1000] * 10


@pytest.mark.slow
@pytest.mark.cifar
def test_real_archive_downloaded_from_a_local_server(cifar10_archive, server, tmp_path,
                                                     monkeypatch):
    """The real download path end to end: HTTP, progress bar, md5, unpacking, loading."""
    if "://" in cifar10_archive:
        pytest.skip("CIFAR10_ARCHIVE is a URL already; this test serves a local file")
    (server.root / NAME).symlink_to(Path(cifar10_archive).resolve())
    cache = tmp_path / "cache"
    monkeypatch.setenv("FCNET_CACHE_DIR", str(cache))
    monkeypatch.setenv("CIFAR10_ARCHIVE", f"{server.url}/{NAME}")  # CIFAR10_MD5 stays

    folder = data_utils.cifar10_dir()

    assert server.requests == ["/" + NAME]
    assert (cache / NAME).stat().st_size == Path(cifar10_archive).stat().st_size
    assert sorted(os.listdir(folder)) == sorted(["batches.meta", "readme.html",
                                                 *data_utils.REQUIRED_MEMBERS])
    _, Ytr, _, Yte = data_utils.load_CIFAR10_raw(folder)
    assert len(Ytr) == 50000 and len(Yte) == 10000
    assert_nothing_partial(cache)
