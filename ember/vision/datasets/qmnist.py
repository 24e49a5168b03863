"""QMNIST: MNIST's digits with their full NIST provenance, from IDX files under ``root/QMNIST/raw``."""
import os

import numpy

import ember

from .mnist import MNIST, read_sn3_pascalvincent_array
from .utils import check_integrity, download_and_extract_archive, verify_str_arg

__all__ = ["QMNIST"]

_BASE = "https://raw.githubusercontent.com/facebookresearch/qmnist/master/"


class QMNIST(MNIST):
    """QMNIST's ``what`` subset (train, test, test10k, test50k or nist; by default train or test after ``train``).

    ``data`` is uint8 (N, 28, 28) and ``targets`` int64 (N, 8); a sample's target is the class (``compat=True``) or
    the row of eight QMNIST fields as a tensor. ``download=True`` fetches only the files of ``what``.
    """

    subsets = {"train": "train", "test": "test", "test10k": "test", "test50k": "test", "nist": "nist"}
    resources = {
        "train": [(_BASE + "qmnist-train-images-idx3-ubyte.gz", "ed72d4157d28c017586c42bc6afe6370"),
                  (_BASE + "qmnist-train-labels-idx2-int.gz", "0058f8dd561b90ffdd0f734c6a30e5e4")],
        "test": [(_BASE + "qmnist-test-images-idx3-ubyte.gz", "1394631089c404de565df7b7aeaf9412"),
                 (_BASE + "qmnist-test-labels-idx2-int.gz", "5b5b05890a5e13444e108efe57b788aa")],
        "nist": [(_BASE + "xnist-images-idx3-ubyte.xz", "7f124b3b8ab81486c9d8c2749c17f834"),
                 (_BASE + "xnist-labels-idx2-int.xz", "5ed0e788978e45d4a8bd4b7caec3d79d")],
    }

    def __init__(self, root, what=None, compat=True, train=True, **kwargs):
        if what is None:
            what = "train" if train else "test"
        self.what = verify_str_arg(what, "what", tuple(self.subsets))
        self.compat = compat
        super().__init__(root, train, **kwargs)

    def _raw_file(self, position):
        url, _ = self.resources[self.subsets[self.what]][position]
        return os.path.join(self.raw_folder, os.path.splitext(os.path.basename(url))[0])

    @property
    def images_file(self):
        """The decompressed IDX file of the images of ``what``."""
        return self._raw_file(0)

    @property
    def labels_file(self):
        """The decompressed IDX file of the (N, 8) int32 labels of ``what``."""
        return self._raw_file(1)

    def _check_exists(self):
        return all(check_integrity(path) for path in (self.images_file, self.labels_file))

    def _load_data(self):
        data = read_sn3_pascalvincent_array(self.images_file)
        if data.dtype != numpy.uint8:
            raise TypeError(f"data should be of dtype ember.uint8 instead of {data.dtype}")
        if data.ndim != 3:
            raise ValueError(f"data should have 3 dimensions instead of {data.ndim}")
        targets = read_sn3_pascalvincent_array(self.labels_file).astype(numpy.int64)
        if targets.ndim != 2:
            raise ValueError(f"targets should have 2 dimensions instead of {targets.ndim}")
        rows = {"test10k": slice(0, 10000), "test50k": slice(10000, None)}.get(self.what, slice(None))
        return ember.from_numpy(data[rows].copy()), ember.from_numpy(targets[rows].copy())

    def download(self):
        """Downloads and decompresses the two files of ``what`` into ``raw_folder`` unless they are there."""
        if self._check_exists():
            return
        os.makedirs(self.raw_folder, exist_ok=True)
        for url, md5 in self.resources[self.subsets[self.what]]:
            download_and_extract_archive(url, self.raw_folder, md5=md5)

    def _target(self, index):
        target = self.targets[index]
        return int(target[0]) if self.compat else target

    def extra_repr(self):
        return f"Split: {self.what}"
