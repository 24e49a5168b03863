"""MS COCO detection and captions through pycocotools (an optional dependency, imported when a dataset is made)."""
import os

from ..utils import _pil_image
from .vision import VisionDataset

__all__ = ["CocoDetection", "CocoCaptions"]


class CocoDetection(VisionDataset):
    """COCO images under ``root`` listed by the JSON annotation file ``annFile``, in image-id order; samples are
    (RGB PIL image, the image's annotation dicts). Needs pycocotools."""

    def __init__(self, root, annFile, transform=None, target_transform=None, transforms=None):
        super().__init__(root, transforms, transform, target_transform)
        from pycocotools.coco import COCO

        self.coco = COCO(annFile)
        self.ids = sorted(self.coco.imgs.keys())

    def _load_image(self, id):
        path = self.coco.loadImgs(id)[0]["file_name"]
        return _pil_image().open(os.path.join(self.root, path)).convert("RGB")

    def _load_target(self, id):
        return self.coco.loadAnns(self.coco.getAnnIds(id))

    def __getitem__(self, index):
        if not isinstance(index, int):
            raise ValueError(f"Index must be of type integer, got {type(index)} instead.")
        id = self.ids[index]
        image, target = self._load_image(id), self._load_target(id)
        if self.transforms is not None:
            image, target = self.transforms(image, target)
        return image, target

    def __len__(self):
        return len(self.ids)


class CocoCaptions(CocoDetection):
    """COCO images with their captions: samples are (RGB PIL image, list of caption strings). Needs pycocotools."""

    def _load_target(self, id):
        return [ann["caption"] for ann in super()._load_target(id)]
