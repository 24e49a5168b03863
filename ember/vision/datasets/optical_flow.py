"""Optical flow datasets: pairs of frames with the flow between them (Sintel, FlyingChairs, FlyingThings3D, KittiFlow,
HD1K)."""
import itertools
from abc import ABC, abstractmethod
import os
import re
from glob import glob
from pathlib import Path

import numpy

import ember
from ember.utils.data import ConcatDataset

from ..io import decode_png, read_file
from .folder import default_loader
from .utils import verify_str_arg
from .vision import VisionDataset

__all__ = ["KittiFlow", "Sintel", "FlyingThings3D", "FlyingChairs", "HD1K"]


class FlowDataset(ABC, VisionDataset):
    """Base of the flow datasets: ``_image_list`` of frame pairs and ``_flow_list`` of flow files (empty for test
    splits). Samples are (img1, img2, flow (2, H, W) float32 NumPy array or None), with a (H, W) bool valid-flow mask
    (None for test splits) last where the files hold one (``_has_builtin_flow_mask``) or a transform makes one."""

    _has_builtin_flow_mask = False

    def __init__(self, root, transforms=None, loader=default_loader):
        super().__init__(root=root)
        self.transforms = transforms
        self._flow_list = []
        self._image_list = []
        self._loader = loader

    def _read_img(self, file_name):
        return self._loader(file_name)

    @abstractmethod
    def _read_flow(self, file_name):
        """The flow stored in ``file_name``."""

    def __getitem__(self, index):
        img1 = self._read_img(self._image_list[index][0])
        img2 = self._read_img(self._image_list[index][1])
        flow = valid_flow_mask = None
        if self._flow_list:
            flow = self._read_flow(self._flow_list[index])
            if self._has_builtin_flow_mask:
                flow, valid_flow_mask = flow
        if self.transforms is not None:
            img1, img2, flow, valid_flow_mask = self.transforms(img1, img2, flow, valid_flow_mask)
        if self._has_builtin_flow_mask or valid_flow_mask is not None:
            return img1, img2, flow, valid_flow_mask
        return img1, img2, flow

    def __len__(self):
        return len(self._image_list)

    def __rmul__(self, v):
        return ConcatDataset([self] * v)


class Sintel(FlowDataset):
    """MPI Sintel under ``root/Sintel``: consecutive frames of each scene of ``split`` (train or test) in
    ``pass_name`` (clean, final or both), with ``training/flow`` .flo flows for train."""

    def __init__(self, root, split="train", pass_name="clean", transforms=None, loader=default_loader):
        super().__init__(root=root, transforms=transforms, loader=loader)
        verify_str_arg(split, "split", valid_values=("train", "test"))
        verify_str_arg(pass_name, "pass_name", valid_values=("clean", "final", "both"))
        passes = ["clean", "final"] if pass_name == "both" else [pass_name]
        root = Path(root) / "Sintel"
        flow_root = root / "training" / "flow"
        for pass_name in passes:
            image_root = root / ("training" if split == "train" else split) / pass_name
            for scene in os.listdir(image_root):
                image_list = sorted(glob(str(image_root / scene / "*.png")))
                self._image_list += [[a, b] for a, b in zip(image_list, image_list[1:])]
                if split == "train":
                    self._flow_list += sorted(glob(str(flow_root / scene / "*.flo")))

    def _read_flow(self, file_name):
        return _read_flo(file_name)


class FlyingChairs(FlowDataset):
    """FlyingChairs under ``root/FlyingChairs``: ``data/*.ppm`` image pairs and ``*.flo`` flows, split by
    ``FlyingChairs_train_val.txt`` (1 train, 2 val). Images are read with the default loader."""

    def __init__(self, root, split="train", transforms=None):
        super().__init__(root=root, transforms=transforms)
        verify_str_arg(split, "split", valid_values=("train", "val"))
        root = Path(root) / "FlyingChairs"
        images = sorted(glob(str(root / "data" / "*.ppm")))
        flows = sorted(glob(str(root / "data" / "*.flo")))
        split_file_name = "FlyingChairs_train_val.txt"
        if not os.path.exists(root / split_file_name):
            raise FileNotFoundError("The FlyingChairs_train_val.txt file was not found - please download it from the "
                                    "dataset page (see docstring).")
        split_list = numpy.loadtxt(str(root / split_file_name), dtype=numpy.int32)
        wanted = 1 if split == "train" else 2
        for i in range(len(flows)):
            if split_list[i] == wanted:
                self._flow_list += [flows[i]]
                self._image_list += [[images[2 * i], images[2 * i + 1]]]

    def _read_flow(self, file_name):
        return _read_flo(file_name)


class FlyingThings3D(FlowDataset):
    """FlyingThings3D under ``root/FlyingThings3D``: ``split`` (train or test), ``pass_name`` (clean, final, both)
    and ``camera`` (left, right, both) frame pairs, forward and backward, with .pfm flows."""

    def __init__(self, root, split="train", pass_name="clean", camera="left", transforms=None, loader=default_loader):
        super().__init__(root=root, transforms=transforms, loader=loader)
        verify_str_arg(split, "split", valid_values=("train", "test"))
        split = split.upper()
        verify_str_arg(pass_name, "pass_name", valid_values=("clean", "final", "both"))
        passes = {"clean": ["frames_cleanpass"], "final": ["frames_finalpass"],
                  "both": ["frames_cleanpass", "frames_finalpass"]}[pass_name]
        verify_str_arg(camera, "camera", valid_values=("left", "right", "both"))
        cameras = ["left", "right"] if camera == "both" else [camera]
        root = Path(root) / "FlyingThings3D"
        for pass_name, camera, direction in itertools.product(passes, cameras, ("into_future", "into_past")):
            image_dirs = sorted(Path(d) / camera for d in sorted(glob(str(root / pass_name / split / "*/*"))))
            flow_dirs = sorted(Path(d) / direction / camera
                               for d in sorted(glob(str(root / "optical_flow" / split / "*/*"))))
            if not image_dirs or not flow_dirs:
                raise FileNotFoundError("Could not find the FlyingThings3D flow images. "
                                        "Please make sure the directory structure is correct.")
            for image_dir, flow_dir in zip(image_dirs, flow_dirs):
                images = sorted(glob(str(image_dir / "*.png")))
                flows = sorted(glob(str(flow_dir / "*.pfm")))
                for i in range(len(flows) - 1):
                    if direction == "into_future":
                        self._image_list += [[images[i], images[i + 1]]]
                        self._flow_list += [flows[i]]
                    else:
                        self._image_list += [[images[i + 1], images[i]]]
                        self._flow_list += [flows[i + 1]]

    def _read_flow(self, file_name):
        return _read_pfm(file_name)


class KittiFlow(FlowDataset):
    """KITTI 2015 optical flow under ``root/KittiFlow/{training,testing}``: ``image_2/*_10.png`` and ``*_11.png``
    pairs, with ``flow_occ/*_10.png`` 16-bit flows and valid masks for train."""

    _has_builtin_flow_mask = True

    def __init__(self, root, split="train", transforms=None, loader=default_loader):
        super().__init__(root=root, transforms=transforms, loader=loader)
        verify_str_arg(split, "split", valid_values=("train", "test"))
        root = Path(root) / "KittiFlow" / (split + "ing")
        images1 = sorted(glob(str(root / "image_2" / "*_10.png")))
        images2 = sorted(glob(str(root / "image_2" / "*_11.png")))
        if not images1 or not images2:
            raise FileNotFoundError(
                "Could not find the Kitti flow images. Please make sure the directory structure is correct.")
        self._image_list += [[a, b] for a, b in zip(images1, images2)]
        if split == "train":
            self._flow_list = sorted(glob(str(root / "flow_occ" / "*_10.png")))

    def _read_flow(self, file_name):
        return _read_16bits_png_with_flow_and_valid_mask(file_name)


class HD1K(FlowDataset):
    """HD1K under ``root/hd1k``: for train, consecutive frames of each of its 36 sequences (``hd1k_input/image_2``)
    with ``hd1k_flow_gt/flow_occ`` 16-bit flows and valid masks; for test, ``hd1k_challenge/image_2`` pairs."""

    _has_builtin_flow_mask = True

    def __init__(self, root, split="train", transforms=None, loader=default_loader):
        super().__init__(root=root, transforms=transforms, loader=loader)
        verify_str_arg(split, "split", valid_values=("train", "test"))
        root = Path(root) / "hd1k"
        if split == "train":
            for seq_idx in range(36):   # pairs never span two sequences
                flows = sorted(glob(str(root / "hd1k_flow_gt" / "flow_occ" / f"{seq_idx:06d}_*.png")))
                images = sorted(glob(str(root / "hd1k_input" / "image_2" / f"{seq_idx:06d}_*.png")))
                for i in range(len(flows) - 1):
                    self._flow_list += [flows[i]]
                    self._image_list += [[images[i], images[i + 1]]]
        else:
            images1 = sorted(glob(str(root / "hd1k_challenge" / "image_2" / "*10.png")))
            images2 = sorted(glob(str(root / "hd1k_challenge" / "image_2" / "*11.png")))
            self._image_list += [[a, b] for a, b in zip(images1, images2)]
        if not self._image_list:
            raise FileNotFoundError(
                "Could not find the HD1K images. Please make sure the directory structure is correct.")

    def _read_flow(self, file_name):
        return _read_16bits_png_with_flow_and_valid_mask(file_name)


def _read_16bits_png_with_flow_and_valid_mask(file_name):
    """A KITTI-style flow PNG (16-bit RGB: u and v as 64 * flow + 2**15, then validity) as a (2, H, W) float32 flow
    and a (H, W) bool valid mask."""
    flow_and_valid = decode_png(read_file(file_name)).to(ember.float32)
    flow = (flow_and_valid[:2] - 2**15) / 64
    return flow.numpy(), flow_and_valid[2].bool().numpy()


def _read_flo(file_name):
    """A Middlebury .flo file ('PIEH', width, height, then float32 u, v pairs) as a (2, H, W) float32 array."""
    with open(file_name, "rb") as f:
        if f.read(4) != b"PIEH":
            raise ValueError("Magic number incorrect. Invalid .flo file")
        w = numpy.fromfile(f, "<i4", count=1).item()
        h = numpy.fromfile(f, "<i4", count=1).item()
        data = numpy.fromfile(f, "<f4", count=2 * w * h)
    return data.reshape(h, w, 2).transpose(2, 0, 1)


def _read_pfm(file_name, slice_channels=2):
    """The first ``slice_channels`` channels of a .pfm file (rows stored bottom up) as a (C, H, W) float32 array."""
    with open(file_name, "rb") as f:
        header = f.readline().rstrip()
        if header not in (b"PF", b"Pf"):
            raise ValueError("Invalid PFM file")
        dim_match = re.match(rb"^(\d+)\s(\d+)\s$", f.readline())
        if not dim_match:
            raise Exception("Malformed PFM header.")
        w, h = (int(dim) for dim in dim_match.groups())
        endian = "<" if float(f.readline().rstrip()) < 0 else ">"   # a negative scale means little-endian
        data = numpy.fromfile(f, dtype=endian + "f")
    data = data.reshape(h, w, 3 if header == b"PF" else 1).transpose(2, 0, 1)
    return numpy.flip(data, axis=1)[:slice_channels, :, :].astype(numpy.float32)
