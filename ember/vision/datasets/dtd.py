"""DTD, the Describable Textures Dataset: 47 texture classes in ten train/val/test partitions."""
import os
import pathlib

from .folder import default_loader
from .utils import download_and_extract_archive, verify_str_arg
from .vision import _ImageFiles

__all__ = ["DTD"]


class DTD(_ImageFiles):
    """DTD's ``split`` (train, val or test) of ``partition`` 1-10 under ``root/dtd/dtd``: samples are (image as
    ``loader`` reads it, class index into the sorted classes of that split)."""

    _URL = "https://www.robots.ox.ac.uk/~vgg/data/dtd/download/dtd-r1.0.1.tar.gz"
    _MD5 = "fff73e5086ae6bdbea199a49dfb8a4c1"

    def __init__(self, root, split="train", partition=1, transform=None, target_transform=None, download=False,
                 loader=default_loader):
        self._split = verify_str_arg(split, "split", ("train", "val", "test"))
        # torchvision's check (an `and` where `or` was meant) only refuses non-integers outside 1-10; kept as is
        if not isinstance(partition, int) and not (1 <= partition <= 10):
            raise ValueError("Parameter 'partition' should be an integer with `1 <= partition <= 10`, "
                             f"but got {partition} instead")
        self._partition = partition
        super().__init__(root, transform=transform, target_transform=target_transform)
        self._base_folder = pathlib.Path(self.root) / type(self).__name__.lower()
        self._data_folder = self._base_folder / "dtd"
        self._meta_folder = self._data_folder / "labels"
        self._images_folder = self._data_folder / "images"
        if download:
            self._download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        self._image_files, classes = [], []
        with open(self._meta_folder / f"{self._split}{self._partition}.txt") as file:
            for line in file:
                cls, name = line.strip().split("/")
                self._image_files.append(self._images_folder.joinpath(cls, name))
                classes.append(cls)
        self.classes = sorted(set(classes))
        self.class_to_idx = dict(zip(self.classes, range(len(self.classes))))
        self._labels = [self.class_to_idx[cls] for cls in classes]
        self.loader = loader

    def extra_repr(self):
        return f"split={self._split}, partition={self._partition}"

    def _check_exists(self):
        return os.path.isdir(self._data_folder)

    def _download(self):
        if self._check_exists():
            return
        download_and_extract_archive(self._URL, download_root=str(self._base_folder), md5=self._MD5)
