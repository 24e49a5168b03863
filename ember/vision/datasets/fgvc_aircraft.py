"""FGVC-Aircraft: aircraft photos labelled by variant, family or manufacturer."""
import os

from .folder import default_loader
from .utils import download_and_extract_archive, verify_str_arg
from .vision import _ImageFiles

__all__ = ["FGVCAircraft"]

_CLASS_FILES = {"variant": "variants.txt", "family": "families.txt", "manufacturer": "manufacturers.txt"}


class FGVCAircraft(_ImageFiles):
    """FGVC-Aircraft's ``split`` (train, val, trainval, test) under ``root/fgvc-aircraft-2013b`` at
    ``annotation_level`` variant, family or manufacturer: samples are (image as ``loader`` reads it, class index)."""

    _URL = "https://www.robots.ox.ac.uk/~vgg/data/fgvc-aircraft/archives/fgvc-aircraft-2013b.tar.gz"

    def __init__(self, root, split="trainval", annotation_level="variant", transform=None, target_transform=None,
                 download=False, loader=default_loader):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self._split = verify_str_arg(split, "split", ("train", "val", "trainval", "test"))
        self._annotation_level = verify_str_arg(annotation_level, "annotation_level", tuple(_CLASS_FILES))
        self._data_path = os.path.join(self.root, "fgvc-aircraft-2013b")
        if download:
            self._download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        with open(os.path.join(self._data_path, "data", _CLASS_FILES[self._annotation_level])) as f:
            self.classes = [line.strip() for line in f]
        self.class_to_idx = dict(zip(self.classes, range(len(self.classes))))
        images = os.path.join(self._data_path, "data", "images")
        labels_file = os.path.join(self._data_path, "data", f"images_{self._annotation_level}_{self._split}.txt")
        self._image_files, self._labels = [], []
        with open(labels_file) as f:
            for line in f:
                image_name, label_name = line.strip().split(" ", 1)
                self._image_files.append(os.path.join(images, f"{image_name}.jpg"))
                self._labels.append(self.class_to_idx[label_name])
        self.loader = loader

    def _download(self):
        if self._check_exists():
            return
        download_and_extract_archive(self._URL, self.root)   # torchvision gives no MD5 for this archive

    def _check_exists(self):
        return os.path.isdir(self._data_path)
