"""GTSRB, the German Traffic Sign Recognition Benchmark: PPM images in class folders (train) or in a CSV (test)."""
import csv
import pathlib

from ..utils import _pil_image
from .folder import make_dataset
from .utils import download_and_extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ["GTSRB"]

_BASE_URL = "https://sid.erda.dk/public/archives/daaeac0d7ce1152aea9b61d9f1e19370/"


class GTSRB(VisionDataset):
    """GTSRB's ``split`` under ``root/gtsrb``: train from ``GTSRB/Training/<class>/*.ppm``, test from
    ``GTSRB/Final_Test/Images`` with labels from ``GT-final_test.csv``; samples are (RGB PIL image, class id)."""

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self._split = verify_str_arg(split, "split", ("train", "test"))
        self._base_folder = pathlib.Path(root) / "gtsrb"
        self._target_folder = self._base_folder / "GTSRB" / ("Training" if self._split == "train"
                                                             else "Final_Test/Images")
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        if self._split == "train":
            self._samples = make_dataset(str(self._target_folder), extensions=(".ppm",))
        else:
            with open(self._base_folder / "GT-final_test.csv") as csv_file:
                self._samples = [(str(self._target_folder / row["Filename"]), int(row["ClassId"]))
                                 for row in csv.DictReader(csv_file, delimiter=";", skipinitialspace=True)]

    def __len__(self):
        return len(self._samples)

    def __getitem__(self, index):
        path, target = self._samples[index]
        sample = _pil_image().open(path).convert("RGB")
        if self.transform is not None:
            sample = self.transform(sample)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return sample, target

    def _check_exists(self):
        return self._target_folder.is_dir()

    def download(self):
        """Downloads and extracts the archives of ``split`` into ``root/gtsrb`` unless they are there."""
        if self._check_exists():
            return
        archives = ([("GTSRB-Training_fixed.zip", "513f3c79a4c5141765e10e952eaa2478")] if self._split == "train" else
                    [("GTSRB_Final_Test_Images.zip", "c7e4e6327067d32654124b0fe9e82185"),
                     ("GTSRB_Final_Test_GT.zip", "fe31e9c9270bbcd7b84b7f21a9d9d9e5")])
        for name, md5 in archives:
            download_and_extract_archive(f"{_BASE_URL}{name}", download_root=str(self._base_folder), md5=md5)
