"""LSUN scene categories from their LMDB databases (``<category>_<split>_lmdb`` folders), read with the optional
``lmdb`` package. Unlike torchvision, no key cache file is written into the working directory."""
import bisect
import io
import os
from collections.abc import Iterable

from ..utils import _pil_image
from .utils import verify_str_arg
from .vision import VisionDataset

__all__ = ["LSUN", "LSUNClass"]

CATEGORIES = ["bedroom", "bridge", "church_outdoor", "classroom", "conference_room", "dining_room", "kitchen",
              "living_room", "restaurant", "tower"]
SPLITS = ["train", "val", "test"]


def _lmdb():
    try:
        import lmdb
    except ImportError as error:
        raise ImportError("LSUN reads LMDB databases with the lmdb package: pip install lmdb") from error
    return lmdb


class LSUNClass(VisionDataset):
    """One LSUN database: samples are (RGB PIL image, None) in key order."""

    def __init__(self, root, transform=None, target_transform=None):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.env = _lmdb().open(root, max_readers=1, readonly=True, lock=False, readahead=False, meminit=False)
        with self.env.begin(write=False) as txn:
            self.length = txn.stat()["entries"]
            self.keys = list(txn.cursor().iternext(keys=True, values=False))

    def __getitem__(self, index):
        with self.env.begin(write=False) as txn:
            data = txn.get(self.keys[index])
        img, target = _pil_image().open(io.BytesIO(data)).convert("RGB"), None
        if self.transform is not None:
            img = self.transform(img)
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return self.length


class LSUN(VisionDataset):
    """LSUN: ``classes`` is "train", "val" (all ten categories of that split), "test", or a list such as
    ``["bedroom_train", "church_outdoor_train"]``; targets are the positions in that list."""

    def __init__(self, root, classes="train", transform=None, target_transform=None):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.classes = self._verify_classes(classes)
        self.dbs = [LSUNClass(root=os.path.join(root, f"{c}_lmdb"), transform=transform) for c in self.classes]
        self.indices, count = [], 0
        for db in self.dbs:
            count += len(db)
            self.indices.append(count)
        self.length = count

    @staticmethod
    def _verify_classes(classes):
        if isinstance(classes, str) and classes in SPLITS:
            return [classes] if classes == "test" else [f"{c}_{classes}" for c in CATEGORIES]
        if isinstance(classes, str) or not isinstance(classes, Iterable):
            if isinstance(classes, str):
                verify_str_arg(classes, "classes", SPLITS)
            raise ValueError(f"Expected type str or Iterable for argument classes, but got type {type(classes)}.")
        classes = list(classes)
        for c in classes:
            verify_str_arg(c, custom_msg=f"Expected type str for elements in argument classes, but got type "
                                         f"{type(c)}.")
            category, split = c.rpartition("_")[::2]
            verify_str_arg(category, valid_values=CATEGORIES, custom_msg=(
                f"Unknown value '{category}' for LSUN class. Valid values are {{{_listing(CATEGORIES)}}}."))
            verify_str_arg(split, valid_values=SPLITS, custom_msg=(
                f"Unknown value '{split}' for postfix. Valid values are {{{_listing(SPLITS)}}}."))
        return classes

    def __getitem__(self, index):
        target = bisect.bisect_right(self.indices, index)   # the database holding this index
        img, _ = self.dbs[target][index - (self.indices[target - 1] if target else 0)]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return self.length

    def extra_repr(self):
        return f"Classes: {self.classes}"


def _listing(values):
    return "'" + "', '".join(values) + "'"
