"""CelebA: aligned face images with 40 binary attributes, identities, boxes and landmarks from its text files."""
import csv
import os
from collections import namedtuple

import ember

from ..utils import _pil_image
from .utils import check_integrity, download_file_from_google_drive, extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ["CelebA"]

CSV = namedtuple("CSV", ["header", "index", "data"])


class CelebA(VisionDataset):
    """CelebA from ``root/celeba`` (``img_align_celeba/`` and the annotation files). ``target_type`` is one of or a
    list of "attr" (40 attributes as 0/1), "identity", "bbox", "landmarks"; ``split`` is train, valid, test or all."""

    base_folder = "celeba"
    file_list = [  # (Google Drive id, MD5, file name)
        ("0B7EVK8r0v71pZjFTYXZWM3FlRnM", "00d2c5bc6d35e252742224ab0c1e8fcb", "img_align_celeba.zip"),
        ("0B7EVK8r0v71pblRyaVFSWGxPY0U", "75e246fa4810816ffd6ee81facbd244c", "list_attr_celeba.txt"),
        ("1_ee_0u7vcNLOfNLegJRHmolfH5ICW-XS", "32bd1bd63d3c78cd57e08160ec5ed1e2", "identity_CelebA.txt"),
        ("0B7EVK8r0v71pbThiMVRxWXZ4dU0", "00566efa6fedff7a56946cd1c10f1c16", "list_bbox_celeba.txt"),
        ("0B7EVK8r0v71pd0FJY3Blby1HUTQ", "cc24ecafdb5b50baae59b03474781f8c", "list_landmarks_align_celeba.txt"),
        ("0B7EVK8r0v71pY0NSMzRuSXJEVkk", "d32c9cbf5e040fd4025c592c306e6668", "list_eval_partition.txt"),
    ]

    def __init__(self, root, split="train", target_type="attr", transform=None, target_transform=None,
                 download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = split
        self.target_type = target_type if isinstance(target_type, list) else [target_type]
        if not self.target_type and self.target_transform is not None:
            raise RuntimeError("target_transform is specified but target_type is empty")
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        split_code = {"train": 0, "valid": 1, "test": 2, "all": None}[verify_str_arg(
            split.lower() if isinstance(split, str) else split, "split", ("train", "valid", "test", "all"))]
        splits = self._load_csv("list_eval_partition.txt")
        identity = self._load_csv("identity_CelebA.txt")
        bbox = self._load_csv("list_bbox_celeba.txt", header=1)
        landmarks_align = self._load_csv("list_landmarks_align_celeba.txt", header=1)
        attr = self._load_csv("list_attr_celeba.txt", header=1)
        if split_code is None:
            mask, self.filename = slice(None), splits.index
        else:
            mask = (splits.data == split_code).squeeze(-1)
            self.filename = [name for name, keep in zip(splits.index, mask.tolist()) if keep]
        self.identity = identity.data[mask]
        self.bbox = bbox.data[mask]
        self.landmarks_align = landmarks_align.data[mask]
        self.attr = ember.div(attr.data[mask] + 1, 2, rounding_mode="floor")   # -1/1 in the file -> 0/1
        self.attr_names = attr.header

    def _load_csv(self, filename, header=None):
        """A space-separated annotation file as (column names, first column, the other columns as an int tensor)."""
        with open(os.path.join(self.root, self.base_folder, filename)) as csv_file:
            rows = list(csv.reader(csv_file, delimiter=" ", skipinitialspace=True))
        headers = []
        if header is not None:
            headers, rows = rows[header], rows[header + 1:]
        return CSV(headers, [row[0] for row in rows], ember.tensor([[int(v) for v in row[1:]] for row in rows]))

    def _check_integrity(self):
        for _, md5, filename in self.file_list:
            if os.path.splitext(filename)[1] not in (".zip", ".7z") and not check_integrity(
                    os.path.join(self.root, self.base_folder, filename), md5):
                return False
        return os.path.isdir(os.path.join(self.root, self.base_folder, "img_align_celeba"))

    def download(self):
        """Downloads the images and annotation files from Google Drive (needs gdown) and extracts the images."""
        if self._check_integrity():
            return
        for file_id, md5, filename in self.file_list:
            download_file_from_google_drive(file_id, os.path.join(self.root, self.base_folder), filename, md5)
        extract_archive(os.path.join(self.root, self.base_folder, "img_align_celeba.zip"))

    def __getitem__(self, index):
        X = _pil_image().open(os.path.join(self.root, self.base_folder, "img_align_celeba", self.filename[index]))
        X.load()   # reads the pixels and closes the file
        columns = {"attr": lambda: self.attr[index, :], "identity": lambda: self.identity[index, 0],
                   "bbox": lambda: self.bbox[index, :], "landmarks": lambda: self.landmarks_align[index, :]}
        target = []
        for t in self.target_type:
            if t not in columns:
                raise ValueError(f'Target type "{t}" is not recognized.')
            target.append(columns[t]())
        if self.transform is not None:
            X = self.transform(X)
        if target:
            target = tuple(target) if len(target) > 1 else target[0]
            if self.target_transform is not None:
                target = self.target_transform(target)
        else:
            target = None
        return X, target

    def __len__(self):
        return len(self.attr)

    def extra_repr(self):
        return f"Target type: {self.target_type}\nSplit: {self.split}"
