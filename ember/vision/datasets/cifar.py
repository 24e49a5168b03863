"""CIFAR10 and CIFAR100 from the "python version" archives (pickled batches of uint8 rows)."""
import os
import pickle

import numpy

from ..utils import _pil_image
from .utils import check_integrity
from .vision import _ArchivedImageArrays

__all__ = ["CIFAR10", "CIFAR100"]


class CIFAR10(_ArchivedImageArrays):
    """CIFAR-10 from ``root/cifar-10-batches-py``: ``data`` is a uint8 array (N, 32, 32, 3), ``targets`` a list.

    Samples are (PIL RGB image, int). Every batch file is checked against its MD5 before loading.
    """

    base_folder = "cifar-10-batches-py"
    url = "https://www.cs.toronto.edu/~kriz/cifar-10-python.tar.gz"
    filename = "cifar-10-python.tar.gz"
    tgz_md5 = "c58f30108f718f92721af3b95e74349a"
    train_list = [
        ["data_batch_1", "c99cafc152244af753f735de768cd75f"],
        ["data_batch_2", "d4bba439e000b95fd0a9bffe97cbabec"],
        ["data_batch_3", "54ebc095f3ab1f0389bbae665268c751"],
        ["data_batch_4", "634d18415352ddfa80567beed471001a"],
        ["data_batch_5", "482c414d41f54cd18b22e5b47cb7c3cb"],
    ]
    test_list = [["test_batch", "40351d587109b95175f43aff81a1287e"]]
    meta = {"filename": "batches.meta", "key": "label_names", "md5": "5ff9c542aee3614f3951f8cda6e48888"}

    def __init__(self, root, train=True, transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.train = train
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        batches, self.targets = [], []
        for file_name, _ in self.train_list if self.train else self.test_list:
            entry = self._unpickle(file_name)
            batches.append(entry["data"])
            self.targets.extend(entry["labels"] if "labels" in entry else entry["fine_labels"])
        self.data = numpy.vstack(batches).reshape(-1, 3, 32, 32).transpose((0, 2, 3, 1))  # rows are CHW; keep HWC
        self._load_meta()

    def _unpickle(self, file_name):
        # The archives were pickled by Python 2; latin1 maps their byte strings one to one.
        with open(os.path.join(self.root, self.base_folder, file_name), "rb") as f:
            return pickle.load(f, encoding="latin1")

    def _load_meta(self):
        path = os.path.join(self.root, self.base_folder, self.meta["filename"])
        if not check_integrity(path, self.meta["md5"]):
            raise RuntimeError("Dataset metadata file not found or corrupted. You can use download=True to download it")
        self.classes = self._unpickle(self.meta["filename"])[self.meta["key"]]
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}

    def _image(self, index):
        return _pil_image().fromarray(self.data[index])

    def _target(self, index):
        return self.targets[index]

    def extra_repr(self):
        return f"Split: {'Train' if self.train is True else 'Test'}"


class CIFAR100(CIFAR10):
    """CIFAR-100 from ``root/cifar-100-python``, with the 100 fine labels as targets."""

    base_folder = "cifar-100-python"
    url = "https://www.cs.toronto.edu/~kriz/cifar-100-python.tar.gz"
    filename = "cifar-100-python.tar.gz"
    tgz_md5 = "eb9058c3a382ffc7106e4002c42a8d85"
    train_list = [["train", "16019d7e3df5f24257cddd939b257f8d"]]
    test_list = [["test", "f0ef6b0ae62326f3e7ffdfab6717acfc"]]
    meta = {"filename": "meta", "key": "fine_label_names", "md5": "7973b15100ade9c7d40fb424638fde48"}
