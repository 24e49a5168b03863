"""SEMEION handwritten digits: 16x16 binary images with one-hot labels in one text file."""
import os

import numpy

from ..utils import _image_fromarray
from .utils import check_integrity, download_url
from .vision import _ImageArrays

__all__ = ["SEMEION"]


class SEMEION(_ImageArrays):
    """SEMEION from ``root/semeion.data`` (rows of 256 pixel values then 10 one-hot label columns): samples are
    (PIL image of mode 'L', int)."""

    url = "http://archive.ics.uci.edu/ml/machine-learning-databases/semeion/semeion.data"
    filename = "semeion.data"
    md5_checksum = "cb545d371d2ce14ec121470795a77432"

    def __init__(self, root, transform=None, target_transform=None, download=True):
        super().__init__(root, transform=transform, target_transform=target_transform)
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        data = numpy.loadtxt(os.path.join(self.root, self.filename))
        self.data = (data[:, :256] * 255).astype("uint8").reshape((-1, 16, 16))
        self.labels = numpy.nonzero(data[:, 256:])[1]

    def _image(self, index):
        return _image_fromarray(self.data[index], mode="L")

    def _target(self, index):
        return int(self.labels[index])

    def _check_integrity(self):
        return check_integrity(os.path.join(self.root, self.filename), self.md5_checksum)

    def download(self):
        """Downloads ``semeion.data`` into ``root`` unless it is there."""
        if self._check_integrity():
            return
        download_url(self.url, self.root, self.filename, self.md5_checksum)
