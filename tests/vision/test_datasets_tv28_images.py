"""More of torchvision 0.28's image datasets (Moving MNIST, SEMEION, ...) on tiny files written here in the real
formats, against torchvision's classes reading the same files; downloads served by a fake urlopen."""
import io
import urllib.request

import numpy
import pytest

import ember
import ember.vision.datasets as ED
from tests.vision import tv_oracle
from tests.vision.test_datasets import FakeURLs, md5, write

Image = pytest.importorskip("PIL.Image")
rng = numpy.random.default_rng(1)


def _same_samples(ours, theirs):
    assert len(ours) == len(theirs) and repr(ours) == repr(theirs)
    for index in range(len(ours)):
        (a, x), (b, y) = ours[index], theirs[index]
        assert x == y and type(x) is type(y) and a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))


# --- MovingMNIST ------------------------------------------------------------------------------------------------------
def _npy(array):
    buffer = io.BytesIO()
    numpy.save(buffer, array)
    return buffer.getvalue()


@pytest.mark.parametrize("split,ratio", [(None, 10), ("train", 3), ("test", 19)])
def test_moving_mnist_splits_frames_as_torchvision(tmp_path, split, ratio):
    tv = tv_oracle.load()
    assert ED.MovingMNIST._URL == tv.datasets.MovingMNIST._URL
    frames = rng.integers(0, 256, (20, 4, 64, 64), dtype=numpy.uint8)
    write(str(tmp_path / "MovingMNIST" / "mnist_test_seq.npy"), _npy(frames))
    def drop_first(video):
        return video[1:]
    ours = ED.MovingMNIST(str(tmp_path), split=split, split_ratio=ratio, transform=drop_first)
    theirs = tv.datasets.MovingMNIST(str(tmp_path), split=split, split_ratio=ratio, transform=drop_first)
    kept = {None: frames, "train": frames[:ratio], "test": frames[ratio:]}[split]
    assert ours.data.dtype == ember.uint8 and tuple(ours.data.shape) == (4, len(kept), 1, 64, 64)
    numpy.testing.assert_array_equal(ours.data.numpy(), kept.swapaxes(0, 1)[:, :, None])
    numpy.testing.assert_array_equal(ours.data.numpy(), theirs.data.numpy())
    assert len(ours) == len(theirs) == 4 and repr(ours) == repr(theirs)
    numpy.testing.assert_array_equal(ours[2].numpy(), theirs[2].numpy())


def test_moving_mnist_arguments_and_download(tmp_path, monkeypatch):
    with pytest.raises(ValueError, match="Unknown value 'val' for argument split"):
        ED.MovingMNIST(str(tmp_path), split="val")
    with pytest.raises(TypeError, match="`split_ratio` should be an integer, but got <class 'float'>"):
        ED.MovingMNIST(str(tmp_path), split_ratio=2.0)
    with pytest.raises(ValueError, match=r"`split_ratio` should be `1 <= split_ratio <= 19`, but got 20 instead."):
        ED.MovingMNIST(str(tmp_path), split_ratio=20)
    with pytest.raises(RuntimeError, match="^Dataset not found. You can use download=True to download it.$"):
        ED.MovingMNIST(str(tmp_path))
    data = _npy(rng.integers(0, 256, (20, 2, 64, 64), dtype=numpy.uint8))
    fake = FakeURLs({ED.MovingMNIST._URL: data})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    with pytest.raises(RuntimeError, match="File not found or corrupted"):   # torchvision's MD5, not this file's
        ED.MovingMNIST(str(tmp_path), download=True)
    assert fake.requested == ["http://www.cs.toronto.edu/~nitish/unsupervised_video/mnist_test_seq.npy"]


# --- SEMEION ----------------------------------------------------------------------------------------------------------
def _semeion_text(n):
    pixels = rng.integers(0, 2, (n, 256)).astype(float)
    labels = rng.integers(0, 10, n)
    onehot = numpy.eye(10)[labels]
    lines = [" ".join(f"{v:.4f}" for v in row) + " " for row in numpy.concatenate([pixels, onehot], axis=1)]
    return ("\n".join(lines) + "\n").encode(), pixels, labels


def test_semeion_as_torchvision_and_download(tmp_path, monkeypatch):
    tv = tv_oracle.load()
    assert (ED.SEMEION.url, ED.SEMEION.md5_checksum) == (tv.datasets.SEMEION.url, tv.datasets.SEMEION.md5_checksum)
    data, pixels, labels = _semeion_text(6)
    for cls in (ED.SEMEION, tv.datasets.SEMEION):
        monkeypatch.setattr(cls, "md5_checksum", md5(data))
    fake = FakeURLs({ED.SEMEION.url: data})
    monkeypatch.setattr(urllib.request, "urlopen", fake)
    ours = ED.SEMEION(str(tmp_path))
    assert fake.requested == [ED.SEMEION.url]
    theirs = tv.datasets.SEMEION(str(tmp_path), download=False)
    numpy.testing.assert_array_equal(ours.data, (pixels * 255).astype(numpy.uint8).reshape(-1, 16, 16))
    numpy.testing.assert_array_equal(ours.labels, labels)
    _same_samples(ours, theirs)
    write(str(tmp_path / "semeion.data"), data + b"\n0 1\n")
    with pytest.raises(RuntimeError, match="Dataset not found or corrupted"):
        ED.SEMEION(str(tmp_path), download=False)
