"""torchvision 0.28's KittiFlow and HD1K (flows in 16-bit RGB PNGs) on tiny trees written here, against torchvision's
classes reading the same files; torchvision's own PNG decoder is a compiled op that cannot load beside CPU torch, so
its decode_png/read_file are given the samples each test encoded."""
import os

import numpy
import pytest

import ember.vision.datasets as ED
from tests.vision import tv_oracle
from tests.vision.test_io_png16 import png16

Image = pytest.importorskip("PIL.Image")
torch = pytest.importorskip("torch")


def _frame(path, seed):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(numpy.random.default_rng(seed).integers(0, 256, (3, 5, 3), dtype=numpy.uint8)).save(path)


@pytest.fixture
def flow_files(monkeypatch):
    """A writer of KITTI-style flow PNGs; torchvision's decoder returns the samples written."""
    tv = tv_oracle.load()
    module = tv.datasets._optical_flow
    samples_of = {}

    def write(path, seed):
        rng = numpy.random.default_rng(seed)
        samples = numpy.concatenate([rng.integers(0, 65536, (3, 5, 2)), rng.integers(0, 2, (3, 5, 1))], 2)
        data = png16(samples.astype(numpy.uint16))
        samples_of[data] = samples
        os.makedirs(os.path.dirname(path), exist_ok=True)
        with open(path, "wb") as f:
            f.write(data)

    def read_file(path):
        with open(path, "rb") as f:
            return torch.from_numpy(numpy.frombuffer(f.read(), numpy.uint8).copy())

    def decode_png(data):
        return torch.from_numpy(samples_of[data.numpy().tobytes()].astype(numpy.uint16).transpose(2, 0, 1).copy())

    monkeypatch.setattr(module, "read_file", read_file)
    monkeypatch.setattr(module, "decode_png", decode_png)
    return tv, write


def _same(ours, theirs):
    assert len(ours) == len(theirs) > 0
    assert ours._image_list == theirs._image_list and ours._flow_list == theirs._flow_list
    for index in range(len(ours)):
        a, b = ours[index], theirs[index]
        assert len(a) == len(b) == 4
        for x, y in zip(a[:2], b[:2]):
            numpy.testing.assert_array_equal(numpy.asarray(x), numpy.asarray(y))
        for x, y in zip(a[2:], b[2:]):
            if y is None:
                assert x is None
            else:
                assert x.dtype == y.dtype and x.shape == y.shape
                numpy.testing.assert_array_equal(x, y)


@pytest.mark.parametrize("split", ["train", "test"])
def test_kitti_flow_as_torchvision(tmp_path, flow_files, split):
    tv, write = flow_files
    for folder in ("training", "testing"):
        for i in range(3):
            for frame in (10, 11):
                _frame(str(tmp_path / "KittiFlow" / folder / "image_2" / f"{i:06d}_{frame}.png"), 10 * i + frame)
    for i in range(3):
        write(str(tmp_path / "KittiFlow" / "training" / "flow_occ" / f"{i:06d}_10.png"), i)
    ours, theirs = ED.KittiFlow(str(tmp_path), split=split), tv.datasets.KittiFlow(str(tmp_path), split=split)
    _same(ours, theirs)
    if split == "train":
        flow, valid = ours[1][2:]
        assert flow.dtype == numpy.float32 and flow.shape == (2, 3, 5) and valid.dtype == bool


@pytest.mark.parametrize("split", ["train", "test"])
def test_hd1k_as_torchvision(tmp_path, flow_files, split):
    tv, write = flow_files
    root = tmp_path / "hd1k"
    for seq, n in ((0, 3), (1, 1), (7, 2)):
        for i in range(n):
            _frame(str(root / "hd1k_input" / "image_2" / f"{seq:06d}_{i:04d}.png"), 100 * seq + i)
            write(str(root / "hd1k_flow_gt" / "flow_occ" / f"{seq:06d}_{i:04d}.png"), 100 * seq + i)
    for i in range(2):
        for frame in (10, 11):
            _frame(str(root / "hd1k_challenge" / "image_2" / f"{i:06d}_{frame}.png"), 1000 + 10 * i + frame)
    ours, theirs = ED.HD1K(str(tmp_path), split=split), tv.datasets.HD1K(str(tmp_path), split=split)
    _same(ours, theirs)
    assert len(ours) == (3 if split == "train" else 2)   # 2 pairs in sequence 0, 1 in 7, none across sequences


def test_flow_masks_reach_transforms_and_missing_trees_raise(tmp_path, flow_files):
    tv, write = flow_files
    for frame in (10, 11):
        _frame(str(tmp_path / "KittiFlow" / "training" / "image_2" / f"000000_{frame}.png"), frame)
    write(str(tmp_path / "KittiFlow" / "training" / "flow_occ" / "000000_10.png"), 5)
    seen = []

    def transforms(img1, img2, flow, valid):
        seen.append(valid)
        return img1, img2, flow * 2, ~valid

    ours = ED.KittiFlow(str(tmp_path), transforms=transforms)[0]
    theirs = tv.datasets.KittiFlow(str(tmp_path), transforms=transforms)[0]
    numpy.testing.assert_array_equal(ours[2], theirs[2])
    numpy.testing.assert_array_equal(ours[3], theirs[3])
    assert seen[0].dtype == bool
    for cls, message in ((ED.KittiFlow, "Could not find the Kitti flow images"), (ED.HD1K, "Could not find the HD1K")):
        with pytest.raises(FileNotFoundError, match=message):
            cls(str(tmp_path / "empty"))
    with pytest.raises(ValueError, match="split"):
        ED.KittiFlow(str(tmp_path), split="val")
