"""The Semantic Boundaries Dataset (SBD): VOC 2011 images with class masks and boundaries in MATLAB files, read with
scipy.io (an optional dependency)."""
import os
import shutil

import numpy

from ..utils import _pil_image
from .utils import download_and_extract_archive, download_url, verify_str_arg
from .vision import VisionDataset

__all__ = ["SBDataset"]


class SBDataset(VisionDataset):
    """SBD's ``image_set`` (train, val or train_noval, which leaves out VOC 2012 val) under ``root`` (``img``, ``cls``,
    ``<image_set>.txt``). Targets are the class mask as a PIL image (``mode='segmentation'``) or a (20, H, W) NumPy
    array of per-class boundaries (``mode='boundaries'``)."""

    url = "https://www2.eecs.berkeley.edu/Research/Projects/CS/vision/grouping/semantic_contours/benchmark.tgz"
    md5 = "82b4d87ceb2ed10f6038a1cba92111cb"
    filename = "benchmark.tgz"
    voc_train_url = "https://www.cs.cornell.edu/~bharathh/train_noval.txt"
    voc_split_filename = "train_noval.txt"
    voc_split_md5 = "79bff800c5f0b1ec6b21080a3c066722"

    def __init__(self, root, image_set="train", mode="boundaries", download=False, transforms=None):
        try:
            from scipy.io import loadmat
        except ImportError:
            raise RuntimeError("Scipy is not found. This dataset needs to have scipy installed: pip install scipy")
        self._loadmat = loadmat
        super().__init__(root, transforms)
        self.image_set = verify_str_arg(image_set, "image_set", ("train", "val", "train_noval"))
        self.mode = verify_str_arg(mode, "mode", ("segmentation", "boundaries"))
        self.num_classes = 20
        if download:
            download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.md5)
            extracted = os.path.join(self.root, "benchmark_RELEASE", "dataset")
            for name in ["cls", "img", "inst", "train.txt", "val.txt"]:
                shutil.move(os.path.join(extracted, name), self.root)
            if self.image_set == "train_noval":
                download_url(self.voc_train_url, self.root, self.voc_split_filename, self.voc_split_md5)
        if not os.path.isdir(self.root):
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        with open(os.path.join(self.root, image_set.rstrip("\n") + ".txt")) as fh:
            file_names = [line.strip() for line in fh.readlines()]
        self.images = [os.path.join(self.root, "img", name + ".jpg") for name in file_names]
        self.masks = [os.path.join(self.root, "cls", name + ".mat") for name in file_names]
        self._get_target = (self._get_segmentation_target if self.mode == "segmentation"
                            else self._get_boundaries_target)

    def _get_segmentation_target(self, filepath):
        return _pil_image().fromarray(self._loadmat(filepath)["GTcls"][0]["Segmentation"][0])

    def _get_boundaries_target(self, filepath):
        boundaries = self._loadmat(filepath)["GTcls"][0]["Boundaries"][0]
        return numpy.stack([boundaries[i][0].toarray() for i in range(self.num_classes)])

    def __getitem__(self, index):
        img = _pil_image().open(self.images[index]).convert("RGB")
        target = self._get_target(self.masks[index])
        if self.transforms is not None:
            img, target = self.transforms(img, target)
        return img, target

    def __len__(self):
        return len(self.images)

    def extra_repr(self):
        return f"Image set: {self.image_set}\nMode: {self.mode}"
