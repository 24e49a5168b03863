"""USPS handwritten digits from the bz2-compressed libsvm files of LIBSVM's data page."""
import bz2
import os

import numpy

from ..utils import _image_fromarray
from .utils import download_url
from .vision import _ImageArrays

__all__ = ["USPS"]

_BASE = "https://www.csie.ntu.edu.tw/~cjlin/libsvmtools/datasets/multiclass/"


class USPS(_ImageArrays):
    """USPS's 16x16 digits from ``root/usps.bz2`` (train) or ``root/usps.t.bz2``: lines ``label index:value ...``
    with labels 1-10 and values in [-1, 1], read as targets 0-9 and uint8 pixels ``(v + 1) / 2 * 255``."""

    split_list = {
        "train": [_BASE + "usps.bz2", "usps.bz2", "ec16c51db3855ca6c91edd34d0e9b197"],
        "test": [_BASE + "usps.t.bz2", "usps.t.bz2", "8ea070ee2aca1ac39742fdd1ef5ed118"],
    }

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        url, filename, checksum = self.split_list["train" if train else "test"]
        full_path = os.path.join(self.root, filename)
        if download and not os.path.exists(full_path):
            download_url(url, self.root, filename, md5=checksum)
        with bz2.open(full_path) as fp:
            rows = [line.decode().split() for line in fp.readlines()]
        values = [[item.split(":")[-1] for item in row[1:]] for row in rows]
        images = numpy.asarray(values, dtype=numpy.float32).reshape((-1, 16, 16))
        self.data = ((images + 1) / 2 * 255).astype(numpy.uint8)
        self.targets = [int(row[0]) - 1 for row in rows]

    def _image(self, index):
        return _image_fromarray(self.data[index], mode="L")

    def _target(self, index):
        return int(self.targets[index])
