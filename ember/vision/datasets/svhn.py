"""SVHN (Street View House Numbers) from its MATLAB files, read with scipy.io (an optional dependency)."""
import os

import numpy

from ..utils import _pil_image
from .utils import check_integrity, download_url, verify_str_arg
from .vision import _ImageArrays

__all__ = ["SVHN"]


class SVHN(_ImageArrays):
    """SVHN's cropped 32x32 digits from ``root/{split}_32x32.mat``: ``data`` is uint8 (N, 3, 32, 32), ``labels``
    int64 with the digit 0 as label 0 (the files store it as 10). Samples are (PIL RGB image, int)."""

    split_list = {
        "train": ["http://ufldl.stanford.edu/housenumbers/train_32x32.mat", "train_32x32.mat",
                  "e26dedcc434d2e4c54c9b2d4a06d8373"],
        "test": ["http://ufldl.stanford.edu/housenumbers/test_32x32.mat", "test_32x32.mat",
                 "eb5a983be6a315427106f1b164d9cef3"],
        "extra": ["http://ufldl.stanford.edu/housenumbers/extra_32x32.mat", "extra_32x32.mat",
                  "a93ce644f1a588dc4d68dda5feec44a7"],
    }

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.split = verify_str_arg(split, "split", tuple(self.split_list))
        self.url, self.filename, self.file_md5 = self.split_list[split]
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        try:
            from scipy import io as sio
        except ImportError as error:
            raise ImportError("SVHN reads MATLAB files with scipy: pip install scipy") from error
        loaded = sio.loadmat(os.path.join(self.root, self.filename))
        self.labels = loaded["y"].astype(numpy.int64).squeeze()
        self.labels[self.labels == 10] = 0
        self.data = numpy.transpose(loaded["X"], (3, 2, 0, 1))   # stored (H, W, C, N)

    def _image(self, index):
        return _pil_image().fromarray(numpy.transpose(self.data[index], (1, 2, 0)))

    def _target(self, index):
        return int(self.labels[index])

    def _check_integrity(self):
        return check_integrity(os.path.join(self.root, self.filename), self.split_list[self.split][2])

    def download(self):
        """Downloads this split's .mat file into ``root`` (checked against its MD5)."""
        download_url(self.url, self.root, self.filename, self.split_list[self.split][2])

    def extra_repr(self):
        return f"Split: {self.split}"
