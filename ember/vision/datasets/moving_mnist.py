"""Moving MNIST: 10,000 sequences of 20 frames of two digits moving in 64x64, from one NumPy file."""
import os

import numpy

import ember

from .utils import download_url, verify_str_arg
from .vision import VisionDataset

__all__ = ["MovingMNIST"]


class MovingMNIST(VisionDataset):
    """Moving MNIST from ``root/MovingMNIST/mnist_test_seq.npy`` (frames, sequences, 64, 64): samples are uint8
    videos (T, 1, 64, 64). ``split`` 'train' keeps the first ``split_ratio`` frames of each, 'test' the rest."""

    _URL = "http://www.cs.toronto.edu/~nitish/unsupervised_video/mnist_test_seq.npy"

    def __init__(self, root, split=None, split_ratio=10, download=False, transform=None):
        super().__init__(root, transform=transform)
        self._base_folder = os.path.join(self.root, self.__class__.__name__)
        self._filename = self._URL.split("/")[-1]
        if split is not None:
            verify_str_arg(split, "split", ("train", "test"))
        self.split = split
        if not isinstance(split_ratio, int):
            raise TypeError(f"`split_ratio` should be an integer, but got {type(split_ratio)}")
        if not 1 <= split_ratio <= 19:
            raise ValueError(f"`split_ratio` should be `1 <= split_ratio <= 19`, but got {split_ratio} instead.")
        self.split_ratio = split_ratio
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it.")
        data = numpy.load(os.path.join(self._base_folder, self._filename))
        frames = {"train": slice(None, split_ratio), "test": slice(split_ratio, None)}.get(split, slice(None))
        self.data = ember.from_numpy(numpy.ascontiguousarray(data[frames].swapaxes(0, 1)[:, :, None]))

    def __getitem__(self, idx):
        data = self.data[idx]
        return self.transform(data) if self.transform is not None else data

    def __len__(self):
        return len(self.data)

    def _check_exists(self):
        return os.path.exists(os.path.join(self._base_folder, self._filename))

    def download(self):
        """Downloads the NumPy file into ``root/MovingMNIST`` unless it is there."""
        if self._check_exists():
            return
        download_url(url=self._URL, root=self._base_folder, filename=self._filename,
                     md5="be083ec986bfe91a449d63653c411eb2")
