"""SVHN, STL10 (and the datasets after them) on tiny files written here in the real formats, against torchvision's
classes reading the same files (their checksums patched to the files' MD5s on both sides) and against NumPy."""
import io
import tarfile
import urllib.request

import numpy
import pytest

import ember.vision.datasets as ED
from tests.vision import tv_oracle
from tests.vision.test_datasets import FakeURLs, md5, write

Image = pytest.importorskip("PIL.Image")
rng = numpy.random.default_rng(0)


def _same_samples(ours, theirs):
    assert len(ours) == len(theirs) and repr(ours) == repr(theirs)
    for index in range(len(ours)):
        (a, x), (b, y) = ours[index], theirs[index]
        assert x == y and a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))


# --- SVHN -------------------------------------------------------------------------------------------------------------
def _svhn_mat(n):
    scipy_io = pytest.importorskip("scipy.io")
    images = rng.integers(0, 256, (32, 32, 3, n), dtype=numpy.uint8)
    labels = rng.integers(1, 11, (n, 1)).astype(numpy.uint8)
    buffer = io.BytesIO()
    scipy_io.savemat(buffer, {"X": images, "y": labels})
    return buffer.getvalue(), images, labels


def _patch_svhn(monkeypatch, cls, split, data):
    url, name, _ = cls.split_list[split]
    monkeypatch.setattr(cls, "split_list", {**cls.split_list, split: [url, name, md5(data)]})


@pytest.mark.parametrize("split", ["train", "test", "extra"])
def test_svhn_reads_the_mat_files_as_torchvision(tmp_path, monkeypatch, split):
    tv = tv_oracle.load()
    assert ED.SVHN.split_list == tv.datasets.SVHN.split_list
    data, images, labels = _svhn_mat(5)
    write(str(tmp_path / ED.SVHN.split_list[split][1]), data)
    _patch_svhn(monkeypatch, ED.SVHN, split, data)
    _patch_svhn(monkeypatch, tv.datasets.SVHN, split, data)
    ours, theirs = ED.SVHN(str(tmp_path), split=split), tv.datasets.SVHN(str(tmp_path), split=split)
    numpy.testing.assert_array_equal(ours.data, images.transpose(3, 2, 0, 1))
    numpy.testing.assert_array_equal(ours.labels, labels[:, 0] % 10)
    assert ours.labels.dtype == numpy.int64
    _same_samples(ours, theirs)


def test_svhn_split_checks_and_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown value 'valid' for argument split"):
        ED.SVHN(str(tmp_path), split="valid")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.SVHN(str(tmp_path))
    data, _, labels = _svhn_mat(3)
    _patch_svhn(monkeypatch, ED.SVHN, "test", data)
    fake = FakeURLs({ED.SVHN.split_list["test"][0]: data})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ds = ED.SVHN(str(tmp_path), split="test", download=True)
    assert fake.requested == ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat"]
    assert [ds[i][1] for i in range(3)] == (labels[:, 0] % 10).tolist()


# --- STL10 ------------------------------------------------------------------------------------------------------------
def _stl10_files():
    counts = {"train_X.bin": 4, "unlabeled_X.bin": 2, "test_X.bin": 3}
    files = {name: rng.integers(0, 256, n * 3 * 96 * 96, dtype=numpy.uint8).tobytes() for name, n in counts.items()}
    files["train_y.bin"] = rng.integers(1, 11, 4, dtype=numpy.uint8).tobytes()
    files["test_y.bin"] = rng.integers(1, 11, 3, dtype=numpy.uint8).tobytes()
    files["fold_indices.txt"] = "".join(f"{i % 4} {(i + 1) % 4}\n" for i in range(10)).encode()
    files["class_names.txt"] = "".join(f"class{i}\n" for i in range(10)).encode()
    return files


def _patch_stl10(monkeypatch, cls, files):
    monkeypatch.setattr(cls, "train_list", [[name, md5(files[name])] for name, _ in cls.train_list])
    monkeypatch.setattr(cls, "test_list", [[name, md5(files[name])] for name, _ in cls.test_list])


@pytest.mark.parametrize("split,folds", [("train", None), ("train", 3), ("train+unlabeled", 1), ("unlabeled", None),
                                         ("test", None)])
def test_stl10_splits_and_folds_as_torchvision(tmp_path, monkeypatch, split, folds):
    tv = tv_oracle.load()
    for attribute in ("url", "filename", "tgz_md5", "train_list", "test_list", "base_folder", "splits"):
        assert getattr(ED.STL10, attribute) == getattr(tv.datasets.STL10, attribute)
    files = _stl10_files()
    for name, data in files.items():
        write(str(tmp_path / ED.STL10.base_folder / name), data)
    _patch_stl10(monkeypatch, ED.STL10, files)
    _patch_stl10(monkeypatch, tv.datasets.STL10, files)
    ours = ED.STL10(str(tmp_path), split=split, folds=folds)
    theirs = tv.datasets.STL10(str(tmp_path), split=split, folds=folds)
    numpy.testing.assert_array_equal(ours.data, theirs.data)
    numpy.testing.assert_array_equal(ours.labels, theirs.labels)
    assert ours.classes == theirs.classes == [f"class{i}" for i in range(10)]
    _same_samples(ours, theirs)
    if split == "test":   # column-major rows: pixel (row 0, column 1) of channel 0 is the 97th byte
        assert ours.data[0, 0, 0, 1] == files["test_X.bin"][96]


def test_stl10_fold_errors_and_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match=r"should be in the range \[0, 10\), but got 10"):
        ED.STL10(str(tmp_path), folds=10)
    with pytest.raises(ValueError, match="Expected type None or int"):
        ED.STL10(str(tmp_path), folds="1")
    files = _stl10_files()
    archive = io.BytesIO()
    with tarfile.open(fileobj=archive, mode="w:gz") as tar:
        for name, data in files.items():
            info = tarfile.TarInfo(f"{ED.STL10.base_folder}/{name}")
            info.size = len(data)
            tar.addfile(info, io.BytesIO(data))
    _patch_stl10(monkeypatch, ED.STL10, files)
    monkeypatch.setattr(ED.STL10, "tgz_md5", md5(archive.getvalue()))
    fake = FakeURLs({ED.STL10.url: archive.getvalue()})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    assert len(ED.STL10(str(tmp_path), split="test", download=True)) == 3
    assert len(ED.STL10(str(tmp_path), split="unlabeled", download=True)) == 2
    assert fake.requested == ["http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"]
