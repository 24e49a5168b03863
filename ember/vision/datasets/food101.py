"""Food-101: 101 food categories, split by the dataset's ``meta/<split>.json``."""
import json
from pathlib import Path

from .folder import default_loader
from .utils import download_and_extract_archive, verify_str_arg
from .vision import _ImageFiles

__all__ = ["Food101"]


class Food101(_ImageFiles):
    """Food-101's ``split`` (train or test) under ``root/food-101``: samples are (image as ``loader`` reads it, class
    index into the sorted ``classes``)."""

    _URL = "http://data.vision.ee.ethz.ch/cvl/food-101.tar.gz"
    _MD5 = "85eeb15f3717b99a5da872d97d918f87"

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False,
                 loader=default_loader):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self._split = verify_str_arg(split, "split", ("train", "test"))
        self._base_folder = Path(self.root) / "food-101"
        self._meta_folder = self._base_folder / "meta"
        self._images_folder = self._base_folder / "images"
        if download:
            self._download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        with open(self._meta_folder / f"{split}.json") as f:
            metadata = json.loads(f.read())
        self.classes = sorted(metadata.keys())
        self.class_to_idx = dict(zip(self.classes, range(len(self.classes))))
        self._labels, self._image_files = [], []
        for class_label, paths in metadata.items():
            self._labels += [self.class_to_idx[class_label]] * len(paths)
            self._image_files += [self._images_folder.joinpath(*f"{path}.jpg".split("/")) for path in paths]
        self.loader = loader

    def extra_repr(self):
        return f"split={self._split}"

    def _check_exists(self):
        return all(folder.exists() and folder.is_dir() for folder in (self._meta_folder, self._images_folder))

    def _download(self):
        if self._check_exists():
            return
        download_and_extract_archive(self._URL, download_root=self.root, md5=self._MD5)
