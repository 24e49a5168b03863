"""KITTI 2D object detection: camera images with one label text file per image."""
import csv
import os

from ..utils import _pil_image
from .utils import download_and_extract_archive
from .vision import VisionDataset

__all__ = ["Kitti"]


class Kitti(VisionDataset):
    """KITTI's training or testing images from ``root/Kitti/raw/{training,testing}/image_2``. Training targets are
    lists of dicts (type, truncated, occluded, alpha, bbox, dimensions, location, rotation_y) from ``label_2``;
    testing targets are ``None``."""

    data_url = "https://s3.eu-central-1.amazonaws.com/avg-kitti/"
    resources = ["data_object_image_2.zip", "data_object_label_2.zip"]
    image_dir_name = "image_2"
    labels_dir_name = "label_2"

    def __init__(self, root, train=True, transform=None, target_transform=None, transforms=None, download=False):
        super().__init__(root, transform=transform, target_transform=target_transform, transforms=transforms)
        self.images = []
        self.targets = []
        self.train = train
        self._location = "training" if self.train else "testing"
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You may use download=True to download it.")
        image_dir = os.path.join(self._raw_folder, self._location, self.image_dir_name)
        labels_dir = os.path.join(self._raw_folder, self._location, self.labels_dir_name)
        for img_file in os.listdir(image_dir):
            self.images.append(os.path.join(image_dir, img_file))
            if self.train:
                self.targets.append(os.path.join(labels_dir, f"{img_file.split('.')[0]}.txt"))

    def __getitem__(self, index):
        image = _pil_image().open(self.images[index])
        target = self._parse_target(index) if self.train else None
        if self.transforms:
            image, target = self.transforms(image, target)
        return image, target

    def _parse_target(self, index):
        with open(self.targets[index]) as inp:
            return [{"type": line[0], "truncated": float(line[1]), "occluded": int(line[2]), "alpha": float(line[3]),
                     "bbox": [float(x) for x in line[4:8]], "dimensions": [float(x) for x in line[8:11]],
                     "location": [float(x) for x in line[11:14]], "rotation_y": float(line[14])}
                    for line in csv.reader(inp, delimiter=" ")]

    def __len__(self):
        return len(self.images)

    @property
    def _raw_folder(self):
        return os.path.join(self.root, self.__class__.__name__, "raw")

    def _check_exists(self):
        folders = [self.image_dir_name] + ([self.labels_dir_name] if self.train else [])
        return all(os.path.isdir(os.path.join(self._raw_folder, self._location, name)) for name in folders)

    def download(self):
        """Downloads and extracts the image and label zips into ``root/Kitti/raw`` unless they are there."""
        if self._check_exists():
            return
        os.makedirs(self._raw_folder, exist_ok=True)
        for fname in self.resources:
            download_and_extract_archive(url=f"{self.data_url}{fname}", download_root=self._raw_folder, filename=fname)
