"""Stereo matching datasets, in torchvision's module: left/right image pairs with their disparity maps (Carla,
KITTI 2012/2015, CREStereo, FallingThings, SceneFlow, Sintel, InStereo2k, ETH3D, Middlebury 2014)."""
import json
import os
import random
import shutil
from abc import ABC, abstractmethod
from glob import glob
from pathlib import Path

import numpy

from ..utils import _pil_image
from .optical_flow import _read_pfm
from .utils import download_and_extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ["CarlaStereo", "Kitti2012Stereo", "Kitti2015Stereo", "Middlebury2014Stereo", "CREStereo",
           "FallingThingsStereo", "SceneFlowStereo", "SintelStereo", "InStereo2k", "ETH3DStereo"]


def _read_pfm_disparity(file_path):
    """The first channel of a .pfm file as a positive (1, H, W) float32 disparity."""
    return numpy.abs(_read_pfm(file_path, slice_channels=1))


def _read_png(file_path, dtype=None):
    return numpy.asarray(_pil_image().open(file_path), dtype=dtype)


class StereoMatchingDataset(ABC, VisionDataset):
    """Base of the stereo datasets: ``_images`` of (left, right) paths and ``_disparities`` of (left, right) paths
    (None where a split has none). Samples are (left, right, disparity (1, H, W) array or None[, valid_mask (H, W)]);
    ``transforms`` takes and returns ((left, right), (disparities), (valid_masks))."""

    _has_built_in_disparity_mask = False

    def __init__(self, root, transforms=None):
        super().__init__(root=root)
        self.transforms = transforms
        self._images = []
        self._disparities = []

    def _read_img(self, file_path):
        img = _pil_image().open(file_path)
        img.load()   # reads the pixels and closes the file
        return img if img.mode == "RGB" else img.convert("RGB")

    def _scan_pairs(self, paths_left_pattern, paths_right_pattern=None):
        left_paths = sorted(glob(paths_left_pattern))
        right_paths = sorted(glob(paths_right_pattern)) if paths_right_pattern else [None] * len(left_paths)
        if not left_paths:
            raise FileNotFoundError(f"Could not find any files matching the patterns: {paths_left_pattern}")
        if not right_paths:
            raise FileNotFoundError(f"Could not find any files matching the patterns: {paths_right_pattern}")
        if len(left_paths) != len(right_paths):
            raise ValueError(f"Found {len(left_paths)} left files but {len(right_paths)} right files using:\n "
                             f"left pattern: {paths_left_pattern}\nright pattern: {paths_right_pattern}\n")
        return list(zip(left_paths, right_paths))

    @abstractmethod
    def _read_disparity(self, file_path):
        """The (disparity, valid_mask) stored at ``file_path`` (each may be None)."""

    def __getitem__(self, index):
        imgs = tuple(self._read_img(path) for path in self._images[index])
        left, right = (self._read_disparity(path) for path in self._disparities[index])
        dsp_maps, valid_masks = (left[0], right[0]), (left[1], right[1])
        if self.transforms is not None:
            imgs, dsp_maps, valid_masks = self.transforms(imgs, dsp_maps, valid_masks)
        if self._has_built_in_disparity_mask or valid_masks[0] is not None:
            return imgs[0], imgs[1], dsp_maps[0], valid_masks[0]
        return imgs[0], imgs[1], dsp_maps[0]

    def __len__(self):
        return len(self._images)


class CarlaStereo(StereoMatchingDataset):
    """Carla simulator scenes of CREStereo under ``root/carla-highres/trainingF/<scene>``: im0/im1.png with
    disp0GT/disp1GT.pfm disparities."""

    def __init__(self, root, transforms=None):
        super().__init__(root, transforms)
        root = Path(root) / "carla-highres" / "trainingF"
        self._images = self._scan_pairs(str(root / "*" / "im0.png"), str(root / "*" / "im1.png"))
        self._disparities = self._scan_pairs(str(root / "*" / "disp0GT.pfm"), str(root / "*" / "disp1GT.pfm"))

    def _read_disparity(self, file_path):
        return _read_pfm_disparity(file_path), None


class _KittiStereo(StereoMatchingDataset):
    """KITTI stereo: ``root/<folder>/<split>ing`` with 16-bit PNG disparities scaled by 256 (none for test)."""

    _has_built_in_disparity_mask = True

    def __init__(self, root, split, transforms, folder, images, disparities):
        super().__init__(root, transforms)
        verify_str_arg(split, "split", valid_values=("train", "test"))
        root = Path(root) / folder / (split + "ing")
        self._images = self._scan_pairs(*(str(root / pattern) for pattern in images))
        if split == "train":
            self._disparities = self._scan_pairs(*(str(root / p) if p else None for p in disparities))
        else:
            self._disparities = [(None, None)] * len(self._images)

    def _read_disparity(self, file_path):
        if file_path is None:
            return None, None
        return (_read_png(file_path) / 256.0)[None, :, :], None


class Kitti2012Stereo(_KittiStereo):
    """KITTI 2012 stereo under ``root/Kitti2012``: colored_0/colored_1 ``*_10.png`` pairs of ``split`` (train or
    test), with disp_noc left disparities for train."""

    def __init__(self, root, split="train", transforms=None):
        super().__init__(root, split, transforms, "Kitti2012", ("colored_0/*_10.png", "colored_1/*_10.png"),
                         ("disp_noc/*.png", None))


class Kitti2015Stereo(_KittiStereo):
    """KITTI 2015 stereo under ``root/Kitti2015``: image_2/image_3 pairs of ``split`` (train or test), with
    disp_occ_0/disp_occ_1 disparities for train."""

    def __init__(self, root, split="train", transforms=None):
        super().__init__(root, split, transforms, "Kitti2015", ("image_2/*.png", "image_3/*.png"),
                         ("disp_occ_0/*.png", "disp_occ_1/*.png"))


class Middlebury2014Stereo(StereoMatchingDataset):
    """Middlebury 2014 scenes under ``root/Middlebury2014/<split>`` (train, additional: ``<scene>-perfect`` or
    ``-imperfect`` by ``calibration``; test: no calibration, no disparities); ``use_ambient_views`` draws the right
    image among im1.png, im1E.png and im1L.png."""

    splits = {
        "train": ["Adirondack", "Jadeplant", "Motorcycle", "Piano", "Pipes", "Playroom", "Playtable", "Recycle",
                  "Shelves", "Vintage"],
        "additional": ["Backpack", "Bicycle1", "Cable", "Classroom1", "Couch", "Flowers", "Mask", "Shopvac",
                       "Sticks", "Storage", "Sword1", "Sword2", "Umbrella"],
        "test": ["Plants", "Classroom2E", "Classroom2", "Australia", "DjembeL", "CrusadeP", "Crusade", "Hoops",
                 "Bicycle2", "Staircase", "Newkuba", "AustraliaP", "Djembe", "Livingroom", "Computer"],
    }

    _has_built_in_disparity_mask = True

    def __init__(self, root, split="train", calibration="perfect", use_ambient_views=False, transforms=None,
                 download=False):
        super().__init__(root, transforms)
        verify_str_arg(split, "split", valid_values=("train", "test", "additional"))
        self.split = split
        if calibration:
            verify_str_arg(calibration, "calibration", valid_values=("perfect", "imperfect", "both", None))
            if split == "test":
                raise ValueError("Split 'test' has only no calibration settings, please set `calibration=None`.")
        elif split != "test":
            raise ValueError(f"Split '{split}' has calibration settings, however None was provided as an argument."
                             f"\nSetting calibration to 'perfect' for split '{split}'. Available calibration "
                             "settings are: 'perfect', 'imperfect', 'both'.")
        if download:
            self._download_dataset(root)
        root = Path(root) / "Middlebury2014"
        if not os.path.exists(root / split):
            raise FileNotFoundError(f"The {split} directory was not found in the provided root directory")
        if not any(scene.startswith(s) for scene in os.listdir(root / split) for s in self.splits[split]):
            raise FileNotFoundError(f"Provided root folder does not contain any scenes from the {split} split.")
        suffixes = {None: [""], "perfect": ["-perfect"], "imperfect": ["-imperfect"],
                    "both": ["-perfect", "-imperfect"]}[calibration]
        for suffix in suffixes:
            scenes = root / split / ("*" + suffix)
            self._images += self._scan_pairs(str(scenes / "im0.png"), str(scenes / "im1.png"))
            if split == "test":
                self._disparities = [(None, None)] * len(self._images)
            else:
                self._disparities += self._scan_pairs(str(scenes / "disp0.pfm"), str(scenes / "disp1.pfm"))
        self.use_ambient_views = use_ambient_views

    def _read_img(self, file_path):
        file_path = Path(file_path)
        if file_path.name == "im1.png" and self.use_ambient_views:
            views = [file_path.parent / name for name in ("im1E.png", "im1L.png")]
            file_path = random.choice([view for view in views if os.path.exists(view)] + [file_path])
        return super()._read_img(file_path)

    def _read_disparity(self, file_path):
        if file_path is None:
            return None, None
        disparity_map = _read_pfm_disparity(file_path)
        disparity_map[disparity_map == numpy.inf] = 0
        return disparity_map, (disparity_map > 0).squeeze(0)

    def _download_dataset(self, root):
        base_url = "https://vision.middlebury.edu/stereo/data/scenes2014/zip"
        root = Path(root) / "Middlebury2014"
        if self.split != "test":
            split_root = root / self.split
            for scene in self.splits[self.split]:
                for calibration in ("perfect", "imperfect"):
                    scene_name = f"{scene}-{calibration}"
                    if not (split_root / scene_name).exists():
                        download_and_extract_archive(url=f"{base_url}/{scene_name}.zip", filename=f"{scene_name}.zip",
                                                     download_root=str(split_root), remove_finished=True)
            return
        os.makedirs(root / "test")
        if any(s not in os.listdir(root / "test") for s in self.splits["test"]):
            # the test scenes come from MiddEval3's testF folder, moved up into test/
            download_and_extract_archive(url="https://vision.middlebury.edu/stereo/submit3/zip/MiddEval3-data-F.zip",
                                         download_root=str(root), remove_finished=True)
            for scene_dir, scene_names, _ in os.walk(str(root / "MiddEval3" / "testF")):
                for scene in scene_names:
                    shutil.move(str(Path(scene_dir) / scene), str(root / "test"))
            shutil.rmtree(str(root / "MiddEval3"))


class CREStereo(StereoMatchingDataset):
    """CREStereo's synthetic scenes under ``root/CREStereo/{shapenet,reflective,tree,hole}``: ``*_left.jpg``/
    ``*_right.jpg`` with ``*.disp.png`` disparities scaled by 32."""

    _has_built_in_disparity_mask = True

    def __init__(self, root, transforms=None):
        super().__init__(root, transforms)
        root = Path(root) / "CREStereo"
        for s in ("shapenet", "reflective", "tree", "hole"):
            self._images += self._scan_pairs(str(root / s / "*_left.jpg"), str(root / s / "*_right.jpg"))
            self._disparities += self._scan_pairs(str(root / s / "*_left.disp.png"),
                                                  str(root / s / "*_right.disp.png"))

    def _read_disparity(self, file_path):
        return _read_png(file_path, numpy.float32)[None, :, :] / 32.0, None


class FallingThingsStereo(StereoMatchingDataset):
    """FallingThings under ``root/FallingThings/{single/<dir>,mixed}/<scene>`` (``variant`` single, mixed or both):
    ``*.left.jpg``/``*.right.jpg`` with depth PNGs turned into disparities by the scene's camera focal length."""

    def __init__(self, root, variant="single", transforms=None):
        super().__init__(root, transforms)
        root = Path(root) / "FallingThings"
        verify_str_arg(variant, "variant", valid_values=("single", "mixed", "both"))
        variants = ["single", "mixed"] if variant == "both" else [variant]
        prefix = {"single": Path("*") / "*", "mixed": Path("*")}
        for s in variants:
            scenes = root / s / prefix[s]
            self._images += self._scan_pairs(str(scenes / "*.left.jpg"), str(scenes / "*.right.jpg"))
            self._disparities += self._scan_pairs(str(scenes / "*.left.depth.png"), str(scenes / "*.right.depth.png"))

    def _read_disparity(self, file_path):
        depth = _read_png(file_path)
        with open(Path(file_path).parent / "_camera_settings.json") as f:
            focal = json.load(f)["camera_settings"][0]["intrinsic_settings"]["fx"]
        baseline, pixel_constant = 6, 100   # depth = baseline * focal * pixel_constant / disparity (readme_0.txt)
        return ((baseline * focal * pixel_constant) / depth.astype(numpy.float32))[None, :, :], None


class SceneFlowStereo(StereoMatchingDataset):
    """SceneFlow under ``root/SceneFlow/<variant>`` (FlyingThings3D, Driving or Monkaa): left/right frames of
    ``pass_name`` (clean, final or both) with .pfm disparities."""

    def __init__(self, root, variant="FlyingThings3D", pass_name="clean", transforms=None):
        super().__init__(root, transforms)
        root = Path(root) / "SceneFlow"
        verify_str_arg(variant, "variant", valid_values=("FlyingThings3D", "Driving", "Monkaa"))
        verify_str_arg(pass_name, "pass_name", valid_values=("clean", "final", "both"))
        passes = {"clean": ["frames_cleanpass"], "final": ["frames_finalpass"],
                  "both": ["frames_cleanpass", "frames_finalpass"]}[pass_name]
        root = root / variant
        prefix = Path("*") if variant == "Monkaa" else Path("*") / "*" / "*"
        for p in passes:
            self._images += self._scan_pairs(str(root / p / prefix / "left" / "*.png"),
                                             str(root / p / prefix / "right" / "*.png"))
            self._disparities += self._scan_pairs(str(root / "disparity" / prefix / "left" / "*.pfm"),
                                                  str(root / "disparity" / prefix / "right" / "*.pfm"))

    def _read_disparity(self, file_path):
        return _read_pfm_disparity(file_path), None


class SintelStereo(StereoMatchingDataset):
    """Sintel stereo under ``root/Sintel/training``: ``<pass>_left``/``<pass>_right`` frames (``pass_name`` final,
    clean or both) with RGB-encoded disparities, valid where neither occluded nor out of frame."""

    _has_built_in_disparity_mask = True

    def __init__(self, root, pass_name="final", transforms=None):
        super().__init__(root, transforms)
        verify_str_arg(pass_name, "pass_name", valid_values=("final", "clean", "both"))
        root = Path(root) / "Sintel" / "training"
        for p in ["final", "clean"] if pass_name == "both" else [pass_name]:
            self._images += self._scan_pairs(str(root / f"{p}_left" / "*" / "*.png"),
                                             str(root / f"{p}_right" / "*" / "*.png"))
            self._disparities += self._scan_pairs(str(root / "disparities" / "*" / "*.png"), None)

    def _get_occlussion_mask_paths(self, file_path):
        file_path = Path(file_path)
        training = file_path.parent.parent.parent
        occlusion_path = str(training / "occlusions" / file_path.parent.name / file_path.name)
        outofframe_path = str(training / "outofframe" / file_path.parent.name / file_path.name)
        if not os.path.exists(occlusion_path):
            raise FileNotFoundError(f"Occlusion mask {occlusion_path} does not exist")
        if not os.path.exists(outofframe_path):
            raise FileNotFoundError(f"Out of frame mask {outofframe_path} does not exist")
        return occlusion_path, outofframe_path

    def _read_disparity(self, file_path):
        if file_path is None:
            return None, None
        r, g, b = numpy.split(_read_png(file_path, numpy.float32), 3, axis=-1)
        disparity_map = numpy.transpose(r * 4 + g / 2 ** 6 + b / 2 ** 14, (2, 0, 1))   # Sintel's README decoding
        occlusion_path, out_of_frame_path = self._get_occlussion_mask_paths(file_path)
        valid_mask = numpy.logical_and(_read_png(out_of_frame_path) == 0, _read_png(occlusion_path) == 0)
        return disparity_map, valid_mask


class InStereo2k(StereoMatchingDataset):
    """InStereo2k under ``root/InStereo2k/<split>/<scene>`` (train or test): left/right.png with
    left_disp/right_disp.png disparities scaled by 1024."""

    def __init__(self, root, split="train", transforms=None):
        super().__init__(root, transforms)
        root = Path(root) / "InStereo2k" / split
        verify_str_arg(split, "split", valid_values=("train", "test"))
        self._images = self._scan_pairs(str(root / "*" / "left.png"), str(root / "*" / "right.png"))
        self._disparities = self._scan_pairs(str(root / "*" / "left_disp.png"), str(root / "*" / "right_disp.png"))

    def _read_disparity(self, file_path):
        return _read_png(file_path, numpy.float32)[None, :, :] / 1024.0, None


class ETH3DStereo(StereoMatchingDataset):
    """ETH3D low-res two-view under ``root/ETH3D``: two_view_training (or two_view_test) im0/im1.png, with
    two_view_training_gt disp0GT.pfm disparities and mask0nocc.png valid masks for train."""

    _has_built_in_disparity_mask = True

    def __init__(self, root, split="train", transforms=None):
        super().__init__(root, transforms)
        verify_str_arg(split, "split", valid_values=("train", "test"))
        root = Path(root) / "ETH3D"
        img_dir = root / ("two_view_training" if split == "train" else "two_view_test")
        self._images = self._scan_pairs(str(img_dir / "*" / "im0.png"), str(img_dir / "*" / "im1.png"))
        if split == "test":
            self._disparities = [(None, None)] * len(self._images)
        else:
            self._disparities = self._scan_pairs(str(root / "two_view_training_gt" / "*" / "disp0GT.pfm"), None)

    def _read_disparity(self, file_path):
        if file_path is None:
            return None, None
        valid_mask = _read_png(Path(file_path).parent / "mask0nocc.png").astype(bool)
        return _read_pfm_disparity(file_path), valid_mask
