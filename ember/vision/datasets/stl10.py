"""STL-10 from its binary archive: 96x96 colour images in column-major uint8 rows, labels 1..10 stored as bytes."""
import os

import numpy

from ..utils import _pil_image
from .utils import verify_str_arg
from .vision import _ArchivedImageArrays

__all__ = ["STL10"]


class STL10(_ArchivedImageArrays):
    """STL-10 from ``root/stl10_binary``; ``split`` is "train", "train+unlabeled", "unlabeled" or "test", ``folds``
    (0-9) selects one of the ten predefined training folds. Unlabeled samples have target -1."""

    base_folder = "stl10_binary"
    url = "http://ai.stanford.edu/~acoates/stl10/stl10_binary.tar.gz"
    filename = "stl10_binary.tar.gz"
    tgz_md5 = "91f7769df0f17e558f3565bffb0c7dfb"
    class_names_file = "class_names.txt"
    folds_list_file = "fold_indices.txt"
    train_list = [["train_X.bin", "918c2871b30a85fa023e0c44e0bee87f"],
                  ["train_y.bin", "5a34089d4802c674881badbb80307741"],
                  ["unlabeled_X.bin", "5242ba1fed5e4be9e1e742405eb56ca4"]]
    test_list = [["test_X.bin", "7f263ba9f9e0b06b93213547f721ac82"], ["test_y.bin", "36f9794fa4beb8a2c72628de14fa638e"]]
    splits = ("train", "train+unlabeled", "unlabeled", "test")

    def __init__(self, root, split="train", folds=None, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", self.splits)
        self.folds = self._verify_folds(folds)
        if download:
            self.download()
        elif not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        if self.split == "test":
            self.data, self.labels = self._load(self.test_list[0][0], self.test_list[1][0])
        elif self.split == "unlabeled":
            self.data, _ = self._load(self.train_list[2][0])
            self.labels = numpy.full(len(self.data), -1)
        else:
            self.data, self.labels = self._load(self.train_list[0][0], self.train_list[1][0])
            self._select_fold(folds)
            if self.split == "train+unlabeled":
                unlabeled, _ = self._load(self.train_list[2][0])
                self.data = numpy.concatenate((self.data, unlabeled))
                self.labels = numpy.concatenate((self.labels, numpy.full(len(unlabeled), -1)))
        class_file = os.path.join(self.root, self.base_folder, self.class_names_file)
        if os.path.isfile(class_file):
            with open(class_file) as f:
                self.classes = f.read().splitlines()

    @staticmethod
    def _verify_folds(folds):
        if folds is None:
            return folds
        if isinstance(folds, int):
            if folds in range(10):
                return folds
            raise ValueError(f"Value for argument folds should be in the range [0, 10), but got {folds}.")
        raise ValueError(f"Expected type None or int for argument folds, but got type {type(folds)}.")

    def _load(self, data_file, labels_file=None):
        labels = None
        if labels_file:
            labels = numpy.fromfile(os.path.join(self.root, self.base_folder, labels_file), dtype=numpy.uint8) - 1
        images = numpy.fromfile(os.path.join(self.root, self.base_folder, data_file), dtype=numpy.uint8)
        return numpy.reshape(images, (-1, 3, 96, 96)).transpose(0, 1, 3, 2), labels   # columns first: to (C, H, W)

    def _select_fold(self, folds):
        if folds is None:
            return
        with open(os.path.join(self.root, self.base_folder, self.folds_list_file)) as f:
            indices = numpy.array(f.read().splitlines()[folds].split(), dtype=numpy.int64)
        self.data, self.labels = self.data[indices], self.labels[indices]

    def _image(self, index):
        return _pil_image().fromarray(numpy.transpose(self.data[index], (1, 2, 0)))

    def _target(self, index):
        return None if self.labels is None else int(self.labels[index])

    def extra_repr(self):
        return f"Split: {self.split}"
