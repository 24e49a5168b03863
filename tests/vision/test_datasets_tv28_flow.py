"""torchvision 0.28's optical flow datasets (Sintel, FlyingChairs, FlyingThings3D) on tiny trees of frames and
.flo/.pfm flows written here, against torchvision's classes reading the same files."""
import os

import numpy
import pytest

import ember.vision.datasets as ED
from ember.utils.data import ConcatDataset
from tests.vision import tv_oracle
from tests.vision.test_datasets import write

Image = pytest.importorskip("PIL.Image")


def _frame(path, seed, format="PNG"):
    pixels = numpy.random.default_rng(seed).integers(0, 256, (3, 4, 3), dtype=numpy.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels).save(path, format=format)
    return pixels


def _flo(path, seed):
    flow = numpy.random.default_rng(seed).normal(size=(3, 4, 2)).astype("<f4")
    write(path, b"PIEH" + numpy.array([4, 3], "<i4").tobytes() + flow.tobytes())
    return flow.transpose(2, 0, 1)


def _pfm(path, seed, channels=3, little=True):
    data = numpy.random.default_rng(seed).normal(size=(3, 4, channels)).astype("<f4" if little else ">f4")
    header = (b"PF" if channels == 3 else b"Pf") + b"\n4 3\n" + (b"-1.0\n" if little else b"1.0\n")
    write(path, header + data.tobytes())
    return numpy.flip(data.transpose(2, 0, 1), axis=1)[:2]   # rows are stored bottom up


def _same_pairs(ours, theirs):
    assert len(ours) == len(theirs) and ours._image_list == theirs._image_list and ours._flow_list == theirs._flow_list
    for index in range(len(ours)):
        a, b = ours[index], theirs[index]
        assert len(a) == len(b) == 3
        for x, y in zip(a[:2], b[:2]):
            numpy.testing.assert_array_equal(numpy.asarray(x), numpy.asarray(y))
        if b[2] is None:
            assert a[2] is None
        else:
            assert a[2].dtype == b[2].dtype == numpy.float32
            numpy.testing.assert_array_equal(a[2], b[2])


@pytest.mark.parametrize("split,pass_name", [("train", "clean"), ("train", "both"), ("test", "final")])
def test_sintel_as_torchvision(tmp_path, split, pass_name):
    tv = tv_oracle.load()
    root = tmp_path / "Sintel"
    flows = {}
    for folder in ("training", "test"):
        for p in ("clean", "final"):
            for scene, n in (("alley_1", 3), ("market_2", 2)):
                for i in range(1, n + 1):
                    _frame(str(root / folder / p / scene / f"frame_{i:04d}.png"), i)
    for scene, n in (("alley_1", 2), ("market_2", 1)):
        for i in range(1, n + 1):
            flows[scene, i] = _flo(str(root / "training" / "flow" / scene / f"frame_{i:04d}.flo"), 10 * i)
    ours = ED.Sintel(str(tmp_path), split=split, pass_name=pass_name)
    theirs = tv.datasets.Sintel(str(tmp_path), split=split, pass_name=pass_name)
    assert len(ours) == 3 * (2 if pass_name == "both" else 1)
    _same_pairs(ours, theirs)
    if split == "train":
        index = [i for i, path in enumerate(ours._flow_list) if "alley_1" in path and path.endswith("0002.flo")][0]
        numpy.testing.assert_array_equal(ours[index][2], flows["alley_1", 2])
    with pytest.raises(ValueError, match="Unknown value 'albedo' for argument pass_name"):
        ED.Sintel(str(tmp_path), pass_name="albedo")


@pytest.mark.parametrize("split", ["train", "val"])
def test_flying_chairs_as_torchvision(tmp_path, split):
    tv = tv_oracle.load()
    data = tmp_path / "FlyingChairs" / "data"
    for i in range(1, 4):
        _frame(str(data / f"{i:05d}_img1.ppm"), 2 * i, format="PPM")
        _frame(str(data / f"{i:05d}_img2.ppm"), 2 * i + 1, format="PPM")
        _flo(str(data / f"{i:05d}_flow.flo"), i)
    with pytest.raises(FileNotFoundError, match="The FlyingChairs_train_val.txt file was not found"):
        ED.FlyingChairs(str(tmp_path))
    write(str(tmp_path / "FlyingChairs" / "FlyingChairs_train_val.txt"), b"1\n2\n1\n")
    ours, theirs = ED.FlyingChairs(str(tmp_path), split=split), tv.datasets.FlyingChairs(str(tmp_path), split=split)
    assert len(ours) == (2 if split == "train" else 1)
    _same_pairs(ours, theirs)
    assert isinstance(2 * ours, ConcatDataset) and len(2 * ours) == 2 * len(ours)


@pytest.mark.parametrize("pass_name,camera", [("clean", "left"), ("both", "both")])
def test_flying_things_3d_forward_and_backward_as_torchvision(tmp_path, pass_name, camera):
    tv = tv_oracle.load()
    root = tmp_path / "FlyingThings3D"
    for p in ("frames_cleanpass", "frames_finalpass"):
        for cam in ("left", "right"):
            for i in range(6, 9):
                _frame(str(root / p / "TRAIN" / "A" / "0000" / cam / f"{i:04d}.png"), i)
    expected = {}
    for direction in ("into_future", "into_past"):
        for cam in ("left", "right"):
            for i in range(6, 9):
                name = f"OpticalFlowInto{'Future' if direction == 'into_future' else 'Past'}_{i:04d}_L.pfm"
                path = str(root / "optical_flow" / "TRAIN" / "A" / "0000" / direction / cam / name)
                expected[path] = _pfm(path, i, little=(i % 2 == 0))
    ours = ED.FlyingThings3D(str(tmp_path), pass_name=pass_name, camera=camera)
    theirs = tv.datasets.FlyingThings3D(str(tmp_path), pass_name=pass_name, camera=camera)
    assert len(ours) == 4 * (2 if pass_name == "both" else 1) * (2 if camera == "both" else 1)
    _same_pairs(ours, theirs)
    for index, path in enumerate(ours._flow_list):
        numpy.testing.assert_array_equal(ours[index][2], expected[path])
    with pytest.raises(FileNotFoundError, match="Could not find the FlyingThings3D flow images"):
        ED.FlyingThings3D(str(tmp_path), split="test")


def test_flow_file_errors(tmp_path):
    from ember.vision.datasets.optical_flow import _read_flo, _read_pfm
    write(str(tmp_path / "bad.flo"), b"PIEX" + bytes(8))
    with pytest.raises(ValueError, match="Magic number incorrect. Invalid .flo file"):
        _read_flo(str(tmp_path / "bad.flo"))
    write(str(tmp_path / "bad.pfm"), b"P6\n4 3\n1.0\n")
    with pytest.raises(ValueError, match="Invalid PFM file"):
        _read_pfm(str(tmp_path / "bad.pfm"))
    single = _pfm(str(tmp_path / "one.pfm"), 0, channels=1, little=False)
    numpy.testing.assert_array_equal(_read_pfm(str(tmp_path / "one.pfm")), single)
