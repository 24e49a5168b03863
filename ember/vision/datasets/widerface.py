"""WIDER FACE: face detection boxes with blur, expression, illumination, occlusion, pose and invalid flags."""
import os

import ember

from ..utils import _pil_image
from .utils import download_and_extract_archive, download_file_from_google_drive, extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ["WIDERFace"]

_ATTRIBUTES = ("blur", "expression", "illumination", "occlusion", "pose", "invalid")


class WIDERFace(VisionDataset):
    """WIDER FACE's ``split`` under ``root/widerface``: train/val targets are dicts of int64 tensors (``bbox`` as
    x, y, width, height, and one per attribute) from ``wider_face_split``; test targets are ``None``."""

    BASE_FOLDER = "widerface"
    FILE_LIST = [
        ("15hGDLhsx8bLgLcIRD5DhYt5iBxnjNF1M", "3fedf70df600953d25982bcd13d91ba2", "WIDER_train.zip"),
        ("1GUCogbp16PMGa39thoMMeWxp7Rp5oM8Q", "dfa7d7e790efa35df3788964cf0bbaea", "WIDER_val.zip"),
        ("1HIfDbVEWKmsYKJZm4lchTBDLW5N7dY5T", "e5d8f4248ed24c334bbd12f49c29dd40", "WIDER_test.zip"),
    ]
    ANNOTATIONS_FILE = ("http://shuoyang1213.me/WIDERFACE/support/bbx_annotation/wider_face_split.zip",
                        "0e3767bcf0e326556d407bf5bff5d27c", "wider_face_split.zip")

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False):
        super().__init__(root=os.path.join(root, self.BASE_FOLDER), transform=transform,
                         target_transform=target_transform)
        self.split = verify_str_arg(split, "split", ("train", "val", "test"))
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download and prepare it")
        self.img_info = []
        if self.split in ("train", "val"):
            self.parse_train_val_annotations_file()
        else:
            self.parse_test_annotations_file()

    def __getitem__(self, index):
        img = _pil_image().open(self.img_info[index]["img_path"])
        if self.transform is not None:
            img = self.transform(img)
        target = None if self.split == "test" else self.img_info[index]["annotations"]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.img_info)

    def extra_repr(self):
        return f"Split: {self.split}"

    def _image_path(self, line):
        return os.path.abspath(os.path.expanduser(os.path.join(self.root, "WIDER_" + self.split, "images", line)))

    def parse_train_val_annotations_file(self):
        """Fills ``img_info`` from the blocks of ``wider_face_<split>_bbx_gt.txt``: a file name, a box count, then
        that many lines of ten integers (one line of zeros when the count is 0); an unfinished last block is dropped."""
        filename = "wider_face_train_bbx_gt.txt" if self.split == "train" else "wider_face_val_bbx_gt.txt"
        filepath = os.path.join(self.root, "wider_face_split", filename)
        with open(filepath) as f:
            lines = iter([line.rstrip() for line in f])
        for name in lines:
            num_boxes = int(next(lines, "0"))
            rows = [[int(x) for x in line.split(" ")] for _, line in zip(range(max(num_boxes, 1)), lines)]
            if len(rows) < max(num_boxes, 1):
                break
            labels = ember.tensor(rows)
            annotations = {"bbox": labels[:, 0:4].clone()}   # x, y, width, height
            annotations.update({attribute: labels[:, 4 + i].clone() for i, attribute in enumerate(_ATTRIBUTES)})
            self.img_info.append({"img_path": self._image_path(name), "annotations": annotations})

    def parse_test_annotations_file(self):
        """Fills ``img_info`` with the image paths of ``wider_face_test_filelist.txt``."""
        filepath = os.path.join(self.root, "wider_face_split", "wider_face_test_filelist.txt")
        with open(os.path.abspath(os.path.expanduser(filepath))) as f:
            self.img_info = [{"img_path": self._image_path(line.rstrip())} for line in f]

    def _check_integrity(self):
        return all(os.path.exists(os.path.join(self.root, os.path.splitext(filename)[0]))
                   for _, _, filename in self.FILE_LIST + [self.ANNOTATIONS_FILE])

    def download(self):
        """Downloads the three image zips from Google Drive (through gdown) and the annotations zip, extracting all."""
        if self._check_integrity():
            return
        for file_id, md5, filename in self.FILE_LIST:
            download_file_from_google_drive(file_id, self.root, filename, md5)
            extract_archive(os.path.join(self.root, filename))
        download_and_extract_archive(url=self.ANNOTATIONS_FILE[0], download_root=self.root,
                                     md5=self.ANNOTATIONS_FILE[1])
