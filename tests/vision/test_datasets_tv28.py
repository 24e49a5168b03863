"""Datasets torchvision 0.28 has beyond the first ones (QMNIST, USPS, ...), on tiny files written here in the real
formats, against torchvision's classes reading the same files and against NumPy; downloads served by a fake urlopen."""
import bz2
import lzma
import os
import urllib.request

import numpy
import pytest

import ember
import ember.vision.datasets as ED
from tests.vision import tv_oracle
from tests.vision.test_datasets import FakeURLs, gz, idx_bytes, md5, write

Image = pytest.importorskip("PIL.Image")
rng = numpy.random.default_rng(0)


def _same_samples(ours, theirs, indices=None):
    assert len(ours) == len(theirs)
    for index in range(len(ours)) if indices is None else indices:
        (a, x), (b, y) = ours[index], theirs[index]
        if hasattr(y, "numpy"):
            numpy.testing.assert_array_equal(x.numpy(), y.numpy())
        else:
            assert x == y and type(x) is type(y)
        assert a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))


# --- QMNIST -----------------------------------------------------------------------------------------------------------
def _qmnist_arrays(n):
    images = rng.integers(0, 256, (n, 28, 28), dtype=numpy.uint8)
    labels = rng.integers(-5, 70000, (n, 8)).astype(numpy.int32)
    labels[:, 0] = rng.integers(0, 10, n)
    return images, labels


def _write_qmnist(raw, name, n):
    images, labels = _qmnist_arrays(n)
    stem = {"train": "qmnist-train", "test": "qmnist-test", "nist": "xnist"}[name]
    write(os.path.join(raw, f"{stem}-images-idx3-ubyte"), idx_bytes(images))
    write(os.path.join(raw, f"{stem}-labels-idx2-int"), idx_bytes(labels))
    return images, labels


@pytest.mark.parametrize("what,compat", [("train", True), ("nist", False), (None, False)])
def test_qmnist_reads_the_idx_files_as_torchvision(tmp_path, what, compat):
    tv = tv_oracle.load()
    assert ED.QMNIST.resources == tv.datasets.QMNIST.resources and ED.QMNIST.classes == tv.datasets.QMNIST.classes
    raw = tmp_path / "QMNIST" / "raw"
    images, labels = _write_qmnist(raw, what or "test", 6)
    kwargs = {"what": what} if what else {"train": False}
    ours = ED.QMNIST(str(tmp_path), compat=compat, **kwargs)
    theirs = tv.datasets.QMNIST(str(tmp_path), compat=compat, **kwargs)
    assert ours.data.dtype == ember.uint8 and ours.targets.dtype == ember.int64 and tuple(ours.targets.shape) == (6, 8)
    numpy.testing.assert_array_equal(ours.data.numpy(), images)
    numpy.testing.assert_array_equal(ours.targets.numpy(), labels)
    _same_samples(ours, theirs)
    assert repr(ours) == repr(theirs) and ours.what == (what or "test")
    if not compat:
        assert isinstance(ours[0][1], ember.Tensor) and ours[0][1].tolist() == labels[0].tolist()


def test_qmnist_test10k_and_test50k_split_the_test_file(tmp_path):
    tv = tv_oracle.load()
    images, labels = _write_qmnist(tmp_path / "QMNIST" / "raw", "test", 10003)
    for what, rows in (("test10k", slice(0, 10000)), ("test50k", slice(10000, None))):
        ours, theirs = ED.QMNIST(str(tmp_path), what=what), tv.datasets.QMNIST(str(tmp_path), what=what)
        numpy.testing.assert_array_equal(ours.data.numpy(), images[rows])
        numpy.testing.assert_array_equal(ours.targets.numpy(), labels[rows])
        _same_samples(ours, theirs, indices=[0, len(theirs) - 1])


def test_qmnist_errors_and_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown value 'val' for argument what"):
        ED.QMNIST(str(tmp_path), what="val")
    with pytest.raises(RuntimeError, match="^Dataset not found. You can use download=True to download it$"):
        ED.QMNIST(str(tmp_path))
    raw = tmp_path / "QMNIST" / "raw"
    write(str(raw / "qmnist-train-images-idx3-ubyte"), idx_bytes(numpy.zeros((2, 28, 28), numpy.uint8)))
    write(str(raw / "qmnist-train-labels-idx2-int"), idx_bytes(numpy.zeros(2, numpy.int32)))
    with pytest.raises(ValueError, match="targets should have 2 dimensions instead of 1"):
        ED.QMNIST(str(tmp_path))
    images, labels = _qmnist_arrays(3)
    payloads = {"xnist-images-idx3-ubyte.xz": lzma.compress(idx_bytes(images)),
                "xnist-labels-idx2-int.xz": lzma.compress(idx_bytes(labels))}
    base = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
    monkeypatch.setattr(ED.QMNIST, "resources", {**ED.QMNIST.resources,
                                                 "nist": [(base + k, md5(v)) for k, v in payloads.items()]})
    fake = FakeURLs({base + k: v for k, v in payloads.items()})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.QMNIST(str(tmp_path), what="nist", download=True, compat=False)
    assert fake.requested == [base + k for k in payloads]
    numpy.testing.assert_array_equal(ds.targets.numpy(), labels)
    fake.requested.clear()
    ED.QMNIST(str(tmp_path), what="nist", download=True)
    assert fake.requested == []


def test_qmnist_downloads_gzip_files(tmp_path, monkeypatch):
    images, labels = _qmnist_arrays(2)
    payloads = {"qmnist-train-images-idx3-ubyte.gz": gz(idx_bytes(images)),
                "qmnist-train-labels-idx2-int.gz": gz(idx_bytes(labels))}
    base = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"
    monkeypatch.setattr(ED.QMNIST, "resources", {**ED.QMNIST.resources,
                                                 "train": [(base + k, md5(v)) for k, v in payloads.items()]})
    monkeypatch.setattr(urllib.request, "urlopen", FakeURLs({base + k: v for k, v in payloads.items()}))
    ds = ED.QMNIST(str(tmp_path), download=True)
    numpy.testing.assert_array_equal(ds.data.numpy(), images)
    assert [ds[i][1] for i in range(2)] == labels[:, 0].tolist()


# --- USPS -------------------------------------------------------------------------------------------------------------
def _usps_bz2(n):
    values = rng.uniform(-1, 1, (n, 256)).round(6)
    values[0, :3] = (-1, 1, 0)
    labels = rng.integers(1, 11, n)
    lines = [f"{label} " + " ".join(f"{i + 1}:{v:.6f}" for i, v in enumerate(row))
             for label, row in zip(labels, values)]
    return bz2.compress(("\n".join(lines) + "\n").encode()), values, labels


@pytest.mark.parametrize("train", [True, False])
def test_usps_reads_the_libsvm_files_as_torchvision(tmp_path, train):
    tv = tv_oracle.load()
    assert ED.USPS.split_list == tv.datasets.USPS.split_list
    data, values, labels = _usps_bz2(5)
    write(str(tmp_path / ("usps.bz2" if train else "usps.t.bz2")), data)
    ours, theirs = ED.USPS(str(tmp_path), train=train), tv.datasets.USPS(str(tmp_path), train=train)
    expected = ((values.astype(numpy.float32) + 1) / 2 * 255).astype(numpy.uint8).reshape(-1, 16, 16)
    numpy.testing.assert_array_equal(ours.data, expected)
    assert ours.data[0, 0, :3].tolist() == [0, 255, 127] and ours.targets == (labels - 1).tolist()
    _same_samples(ours, theirs)
    assert repr(ours) == repr(theirs)


def test_usps_missing_file_and_download(tmp_path, monkeypatch):
    with pytest.raises(FileNotFoundError):
        ED.USPS(str(tmp_path))
    data, _, labels = _usps_bz2(3)
    url = ED.USPS.split_list["test"][0]
    monkeypatch.setattr(ED.USPS, "split_list", {**ED.USPS.split_list, "test": [url, "usps.t.bz2", md5(data)]})
    fake = FakeURLs({url: data})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.USPS(str(tmp_path), train=False, download=True, target_transform=str)
    assert fake.requested == ["https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/usps.t.bz2"]
    assert [ds[i][1] for i in range(3)] == [str(v - 1) for v in labels]
    monkeypatch.setattr(ED.USPS, "split_list", {**ED.USPS.split_list, "train": [url, "usps.bz2", "0" * 32]})
    with pytest.raises(RuntimeError, match="File not found or corrupted"):
        ED.USPS(str(tmp_path), download=True)
