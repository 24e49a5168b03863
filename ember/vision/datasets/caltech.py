"""Caltech 101 and Caltech 256 object categories (Caltech 101's outline annotations read with scipy.io)."""
import os
import shutil

from ..utils import _pil_image
from .utils import download_and_extract_archive, extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ["Caltech101", "Caltech256"]

# Caltech 101's annotation folders name four categories differently from its image folders.
_ANNOTATION_NAMES = {"Faces": "Faces_2", "Faces_easy": "Faces_3", "Motorbikes": "Motorbikes_16",
                     "airplanes": "Airplanes_Side_2"}


class Caltech101(VisionDataset):
    """Caltech 101 under ``root/caltech101``: ``101_ObjectCategories/<category>/image_NNNN.jpg``, without
    BACKGROUND_Google. ``target_type`` 'category' (index), 'annotation' (the outline array from
    ``Annotations/<category>/annotation_NNNN.mat``, needs scipy) or a list of both, giving a tuple."""

    def __init__(self, root, target_type="category", transform=None, target_transform=None, download=False):
        super().__init__(os.path.join(root, "caltech101"), transform=transform, target_transform=target_transform)
        os.makedirs(self.root, exist_ok=True)
        if isinstance(target_type, str):
            target_type = [target_type]
        self.target_type = [verify_str_arg(t, "target_type", ("category", "annotation")) for t in target_type]
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        self.categories = sorted(os.listdir(os.path.join(self.root, "101_ObjectCategories")))
        self.categories.remove("BACKGROUND_Google")   # not a real class
        self.annotation_categories = [_ANNOTATION_NAMES.get(c, c) for c in self.categories]
        self.index, self.y = [], []
        for i, category in enumerate(self.categories):
            n = len(os.listdir(os.path.join(self.root, "101_ObjectCategories", category)))
            self.index.extend(range(1, n + 1))
            self.y.extend(n * [i])

    def __getitem__(self, index):
        category, number = self.y[index], self.index[index]
        img = _pil_image().open(os.path.join(self.root, "101_ObjectCategories", self.categories[category],
                                             f"image_{number:04d}.jpg"))
        target = []
        for kind in self.target_type:
            if kind == "category":
                target.append(category)
            else:
                import scipy.io

                target.append(scipy.io.loadmat(os.path.join(self.root, "Annotations",
                                                            self.annotation_categories[category],
                                                            f"annotation_{number:04d}.mat"))["obj_contour"])
        target = tuple(target) if len(target) > 1 else target[0]
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _check_integrity(self):
        return os.path.exists(os.path.join(self.root, "101_ObjectCategories"))

    def __len__(self):
        return len(self.index)

    def download(self):
        """Downloads Caltech's zip and extracts its images and annotations archives into ``root/caltech101``."""
        if self._check_integrity():
            return
        download_and_extract_archive("https://data.caltech.edu/records/mzrjq-6wc02/files/caltech-101.zip",
                                     download_root=self.root, filename="caltech-101.zip",
                                     md5="3138e1922a9193bfa496528edbbc45d0")
        gzip_folder = os.path.join(self.root, "caltech-101")
        for name in os.listdir(gzip_folder):
            if name.endswith(".gz"):
                extract_archive(os.path.join(gzip_folder, name), self.root)
        shutil.rmtree(gzip_folder)
        os.remove(os.path.join(self.root, "caltech-101.zip"))

    def extra_repr(self):
        return f"Target type: {self.target_type}"


class Caltech256(VisionDataset):
    """Caltech 256 under ``root/caltech256/256_ObjectCategories/<NNN.category>/NNN_MMMM.jpg``: samples are (PIL
    image, category index)."""

    def __init__(self, root, transform=None, target_transform=None, download=False):
        super().__init__(os.path.join(root, "caltech256"), transform=transform, target_transform=target_transform)
        os.makedirs(self.root, exist_ok=True)
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        self.categories = sorted(os.listdir(os.path.join(self.root, "256_ObjectCategories")))
        self.index, self.y = [], []
        for i, category in enumerate(self.categories):
            n = len([name for name in os.listdir(os.path.join(self.root, "256_ObjectCategories", category))
                     if name.endswith(".jpg")])
            self.index.extend(range(1, n + 1))
            self.y.extend(n * [i])

    def __getitem__(self, index):
        category = self.y[index]
        img = _pil_image().open(os.path.join(self.root, "256_ObjectCategories", self.categories[category],
                                             f"{category + 1:03d}_{self.index[index]:04d}.jpg"))
        target = category
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def _check_integrity(self):
        return os.path.exists(os.path.join(self.root, "256_ObjectCategories"))

    def __len__(self):
        return len(self.index)

    def download(self):
        """Downloads and extracts Caltech 256's tar into ``root/caltech256``."""
        if self._check_integrity():
            return
        download_and_extract_archive("https://data.caltech.edu/records/nyy15-4j048/files/256_ObjectCategories.tar",
                                     self.root, filename="256_ObjectCategories.tar",
                                     md5="67b4f42ca05d46448c6bb8ecd2220f6d")
