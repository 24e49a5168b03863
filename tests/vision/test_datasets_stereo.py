"""torchvision 0.28's stereo matching datasets on tiny trees of image pairs, disparities (PFM, scaled PNG, depth,
RGB-encoded) and masks written here, against torchvision's classes reading the same files."""
import json
import os
import random

import numpy
import pytest

import ember.vision.datasets as ED
from tests.vision import tv_oracle
from tests.vision.test_datasets import write

Image = pytest.importorskip("PIL.Image")

H, W = 3, 4


def _image(path, seed, format="PNG", mode="RGB"):
    rng = numpy.random.default_rng(seed)
    pixels = rng.integers(0, 256, (H, W, 3) if mode == "RGB" else (H, W), dtype=numpy.uint8)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(pixels).save(path, format=format)
    return pixels


def _png16(path, seed, low=1):
    values = numpy.random.default_rng(seed).integers(low, 60000, (H, W)).astype(numpy.uint16)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    Image.fromarray(values).save(path, format="PNG")
    return values


def _pfm(path, seed, channels=1, little=True, inf_at=None):
    data = numpy.random.default_rng(seed).normal(size=(H, W, channels)).astype("<f4" if little else ">f4")
    if inf_at is not None:
        data[inf_at] = numpy.inf
    header = (b"PF" if channels == 3 else b"Pf") + f"\n{W} {H}\n".encode() + (b"-1.0\n" if little else b"1.0\n")
    write(path, header + data.tobytes())
    return numpy.abs(numpy.flip(data.transpose(2, 0, 1), axis=1)[:1]).astype(numpy.float32)   # rows bottom up


def _same(a, b):
    if b is None:
        assert a is None
    elif isinstance(b, numpy.ndarray):
        assert isinstance(a, numpy.ndarray) and a.dtype == b.dtype and a.shape == b.shape
        numpy.testing.assert_array_equal(a, b)
    else:
        assert a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))


def _same_samples(ours, theirs):
    assert len(ours) == len(theirs) > 0
    assert ours._images == theirs._images and ours._disparities == theirs._disparities
    for index in range(len(ours)):
        a, b = ours[index], theirs[index]
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _same(x, y)


def _both(tv, name, *args, **kwargs):
    return getattr(ED, name)(*args, **kwargs), getattr(tv.datasets, name)(*args, **kwargs)


def _same_error(tv, name, *args, **kwargs):
    with pytest.raises(Exception) as theirs:
        getattr(tv.datasets, name)(*args, **kwargs)
    with pytest.raises(theirs.type) as ours:
        getattr(ED, name)(*args, **kwargs)
    assert str(ours.value) == str(theirs.value)


def test_carla_pfm_disparities_and_transforms_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    scenes = tmp_path / "carla-highres" / "trainingF"
    expected = {}
    for s, scene in enumerate(("town01", "town02")):
        for i in (0, 1):
            _image(str(scenes / scene / f"im{i}.png"), 10 * s + i)
            expected[scene, i] = _pfm(str(scenes / scene / f"disp{i}GT.pfm"), 10 * s + i, little=bool(i))
    ours, theirs = _both(tv, "CarlaStereo", str(tmp_path))
    _same_samples(ours, theirs)
    assert len(ours[0]) == 3
    numpy.testing.assert_array_equal(ours[1][2], expected["town02", 0])

    def transforms(imgs, disparities, masks):
        assert len(imgs) == 2 and masks == (None, None)
        return imgs, disparities, tuple(d[0] > 0.5 for d in disparities)
    ours, theirs = _both(tv, "CarlaStereo", str(tmp_path), transforms=transforms)
    _same_samples(ours, theirs)
    assert len(ours[0]) == 4 and ours[0][3].shape == (H, W)
    write(str(scenes / "town03" / "im0.png"), b"")
    _same_error(tv, "CarlaStereo", str(tmp_path))
    _same_error(tv, "CarlaStereo", str(tmp_path / "missing"))


@pytest.mark.parametrize("split", ["train", "test"])
def test_kitti_2012_and_2015_png_disparities_as_torchvision(tmp_path, split):
    tv = tv_oracle.load()
    expected = {}
    for n, name in enumerate(("000000", "000001")):
        for folder in ("training", "testing"):
            for camera in ("colored_0", "colored_1"):
                _image(str(tmp_path / "Kitti2012" / folder / camera / f"{name}_10.png"), n, mode="L")
                _image(str(tmp_path / "Kitti2012" / folder / camera / f"{name}_11.png"), n + 5, mode="L")
            for camera in ("image_2", "image_3"):
                _image(str(tmp_path / "Kitti2015" / folder / camera / f"{name}_10.png"), n)
        expected[name] = _png16(str(tmp_path / "Kitti2012" / "training" / "disp_noc" / f"{name}_10.png"), n)
        for side in (0, 1):
            _png16(str(tmp_path / "Kitti2015" / "training" / f"disp_occ_{side}" / f"{name}_10.png"), n + side)
    for name in ("Kitti2012Stereo", "Kitti2015Stereo"):
        ours, theirs = _both(tv, name, str(tmp_path), split=split)
        assert len(ours) == 2
        _same_samples(ours, theirs)
        assert len(ours[0]) == 4 and ours[0][3] is None and ours[0][0].mode == "RGB"
        if split == "train" and name == "Kitti2012Stereo":
            numpy.testing.assert_array_equal(ours[1][2], expected["000001"][None] / 256.0)
        if split == "test":
            assert ours[0][2] is None
    _same_error(tv, "Kitti2015Stereo", str(tmp_path), split="val")


def _middlebury(root):
    for calibration in ("perfect", "imperfect"):
        for s, scene in enumerate(("Adirondack", "Piano")):
            folder = root / "Middlebury2014" / "train" / f"{scene}-{calibration}"
            for view in ("im0", "im1", "im1E", "im1L"):
                _image(str(folder / f"{view}.png"), hash((calibration, s, view)) % 1000)
            for i in (0, 1):
                _pfm(str(folder / f"disp{i}.pfm"), s + i, inf_at=(0, 1, 0))
    for scene in ("Plants", "Hoops"):
        for i in (0, 1):
            _image(str(root / "Middlebury2014" / "test" / scene / f"im{i}.png"), i)


@pytest.mark.parametrize("split,calibration", [("train", "perfect"), ("train", "both"), ("test", None)])
def test_middlebury_2014_calibrations_and_masks_as_torchvision(tmp_path, split, calibration):
    tv = tv_oracle.load()
    _middlebury(tmp_path)
    ours, theirs = _both(tv, "Middlebury2014Stereo", str(tmp_path), split=split, calibration=calibration)
    assert len(ours) == (4 if calibration == "both" else 2)
    _same_samples(ours, theirs)
    if split == "train":
        disparity, mask = ours[0][2:]
        assert disparity[0, 2, 1] == 0 and not mask[2, 1]   # the inf stored first row up, so last row down
        numpy.testing.assert_array_equal(mask, disparity[0] > 0)


def test_middlebury_2014_ambient_views_and_errors_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    _middlebury(tmp_path)
    ours, theirs = _both(tv, "Middlebury2014Stereo", str(tmp_path), use_ambient_views=True)
    for seed in range(4):
        random.seed(seed)
        a = ours[seed % 2]
        random.seed(seed)
        b = theirs[seed % 2]
        for x, y in zip(a, b):
            _same(x, y)
    assert ours.splits == theirs.splits
    _same_error(tv, "Middlebury2014Stereo", str(tmp_path), calibration=None)
    _same_error(tv, "Middlebury2014Stereo", str(tmp_path), split="test")
    _same_error(tv, "Middlebury2014Stereo", str(tmp_path), split="additional")
    _same_error(tv, "Middlebury2014Stereo", str(tmp_path), calibration="blurry")
    os.makedirs(tmp_path / "Middlebury2014" / "additional" / "Unknown-perfect")
    _same_error(tv, "Middlebury2014Stereo", str(tmp_path), split="additional")


def test_crestereo_jpg_pairs_and_png_disparities_as_torchvision(tmp_path):
    tv = tv_oracle.load()
    expected = {}
    for d, folder in enumerate(("shapenet", "reflective", "tree", "hole")):
        for side in ("left", "right"):
            _image(str(tmp_path / "CREStereo" / folder / f"a_{side}.jpg"), d, format="JPEG")
            expected[folder, side] = _png16(str(tmp_path / "CREStereo" / folder / f"a_{side}.disp.png"), d)
    ours, theirs = _both(tv, "CREStereo", str(tmp_path))
    assert len(ours) == 4
    _same_samples(ours, theirs)
    index = [i for i, pair in enumerate(ours._disparities) if "/tree/" in pair[0]][0]
    numpy.testing.assert_allclose(ours[index][2], expected["tree", "left"][None] / 32.0)
    assert ours[index][3] is None
    os.remove(tmp_path / "CREStereo" / "hole" / "a_right.disp.png")
    _same_error(tv, "CREStereo", str(tmp_path))


@pytest.mark.parametrize("variant", ["single", "mixed", "both"])
def test_falling_things_depth_to_disparity_as_torchvision(tmp_path, variant):
    tv = tv_oracle.load()
    focal = 768.16
    depths = {}
    for folder in (tmp_path / "FallingThings" / "single" / "mug" / "kitchen_0", tmp_path / "FallingThings" / "mixed"
                   / "kitchen_1"):
        write(str(folder / "_camera_settings.json"),
              json.dumps({"camera_settings": [{"intrinsic_settings": {"fx": focal}}]}).encode())
        for i in range(2):
            for side in ("left", "right"):
                _image(str(folder / f"{i:06d}.{side}.jpg"), i, format="JPEG")
                depths[str(folder / f"{i:06d}.{side}.depth.png")] = _png16(
                    str(folder / f"{i:06d}.{side}.depth.png"), i)
    ours, theirs = _both(tv, "FallingThingsStereo", str(tmp_path), variant=variant)
    assert len(ours) == (4 if variant == "both" else 2)
    _same_samples(ours, theirs)
    path = ours._disparities[1][0]
    numpy.testing.assert_allclose(ours[1][2][0], 6 * focal * 100 / depths[path].astype(numpy.float32), rtol=1e-6)
    _same_error(tv, "FallingThingsStereo", str(tmp_path), variant="all")


@pytest.mark.parametrize("variant,pass_name", [("FlyingThings3D", "clean"), ("Monkaa", "both"), ("Driving", "final")])
def test_scene_flow_variants_and_passes_as_torchvision(tmp_path, variant, pass_name):
    tv = tv_oracle.load()
    prefix = {"Monkaa": ("a_rain",), "FlyingThings3D": ("TRAIN", "A", "0000"),
              "Driving": ("15mm_focallength", "scene_forwards", "fast")}[variant]
    root = tmp_path / "SceneFlow" / variant
    for p in ("frames_cleanpass", "frames_finalpass"):
        for side in ("left", "right"):
            for i in range(2):
                _image(str(root.joinpath(p, *prefix, side, f"{i:04d}.png")), i)
    for side in ("left", "right"):
        for i in range(2):
            _pfm(str(root.joinpath("disparity", *prefix, side, f"{i:04d}.pfm")), i, channels=3, little=bool(i))
    ours, theirs = _both(tv, "SceneFlowStereo", str(tmp_path), variant=variant, pass_name=pass_name)
    assert len(ours) == (4 if pass_name == "both" else 2)
    _same_samples(ours, theirs)
    assert ours[0][2].shape == (1, H, W) and (ours[0][2] >= 0).all()
    _same_error(tv, "SceneFlowStereo", str(tmp_path), variant="Sintel")


@pytest.mark.parametrize("pass_name", ["final", "clean", "both"])
def test_sintel_rgb_disparities_and_occlusion_masks_as_torchvision(tmp_path, pass_name):
    tv = tv_oracle.load()
    training = tmp_path / "Sintel" / "training"
    for scene in ("alley_1", "bamboo_2"):
        for i in range(1, 3):
            name = f"frame_{i:04d}.png"
            for p in ("final_left", "final_right", "clean_left", "clean_right"):
                _image(str(training / p / scene / name), i)
            _image(str(training / "disparities" / scene / name), 7 * i)
            _image(str(training / "occlusions" / scene / name), i, mode="L")
            _image(str(training / "outofframe" / scene / name), i + 1, mode="L")
    ours, theirs = _both(tv, "SintelStereo", str(tmp_path), pass_name=pass_name)
    assert len(ours) == (8 if pass_name == "both" else 4)
    _same_samples(ours, theirs)
    rgb = numpy.asarray(Image.open(training / "disparities" / "alley_1" / "frame_0002.png"), dtype=numpy.float32)
    numpy.testing.assert_allclose(ours[1][2][0], rgb[..., 0] * 4 + rgb[..., 1] / 64 + rgb[..., 2] / 16384)
    os.remove(training / "outofframe" / "bamboo_2" / "frame_0001.png")
    with pytest.raises(FileNotFoundError, match="Out of frame mask .* does not exist"):
        ours[2]


@pytest.mark.parametrize("split", ["train", "test"])
def test_instereo2k_and_eth3d_as_torchvision(tmp_path, split):
    tv = tv_oracle.load()
    for s, scene in enumerate(("000001", "000002")):
        folder = tmp_path / "InStereo2k" / split / scene
        for side in ("left", "right"):
            _image(str(folder / f"{side}.png"), s)
            _png16(str(folder / f"{side}_disp.png"), s + 3)
        for image_dir in ("two_view_training", "two_view_test"):
            for i in (0, 1):
                _image(str(tmp_path / "ETH3D" / image_dir / scene / f"im{i}.png"), s + i)
        _pfm(str(tmp_path / "ETH3D" / "two_view_training_gt" / scene / "disp0GT.pfm"), s)
        _image(str(tmp_path / "ETH3D" / "two_view_training_gt" / scene / "mask0nocc.png"), s, mode="L")
    for name in ("InStereo2k", "ETH3DStereo"):
        ours, theirs = _both(tv, name, str(tmp_path), split=split)
        assert len(ours) == 2
        _same_samples(ours, theirs)
    ours = ED.InStereo2k(str(tmp_path), split=split)
    disparity = numpy.asarray(Image.open(tmp_path / "InStereo2k" / split / "000002" / "left_disp.png"))
    numpy.testing.assert_allclose(ours[1][2][0], disparity / 1024.0)
    ours = ED.ETH3DStereo(str(tmp_path), split=split)
    if split == "train":
        mask = numpy.asarray(Image.open(tmp_path / "ETH3D" / "two_view_training_gt" / "000001" / "mask0nocc.png"))
        assert ours[0][3].dtype == bool and (ours[0][3] == (mask != 0)).all()
    else:
        assert ours[0][2:] == (None, None)
    _same_error(tv, "InStereo2k", str(tmp_path), split="val")
