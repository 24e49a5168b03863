"""PASCAL VOC 2007-2012: segmentation masks (VOCSegmentation) and object annotations (VOCDetection)."""
import collections
import os

from ..utils import _pil_image
from .utils import download_and_extract_archive, verify_str_arg
from .vision import VisionDataset

__all__ = ["VOCDetection", "VOCSegmentation"]

DATASET_YEAR_DICT = {   # as torchvision's table (including its 2008 file name), so its downloads are recognised
    "2012": {"url": "https://thor.robots.ox.ac.uk/pascal/VOC/voc2012/VOCtrainval_11-May-2012.tar",
             "filename": "VOCtrainval_11-May-2012.tar", "md5": "6cd6e144f989b92b3379bac3b3de84fd",
             "base_dir": os.path.join("VOCdevkit", "VOC2012")},
    "2011": {"url": "https://thor.robots.ox.ac.uk/pascal/VOC/voc2011/VOCtrainval_25-May-2011.tar",
             "filename": "VOCtrainval_25-May-2011.tar", "md5": "6c3384ef61512963050cb5d687e5bf1e",
             "base_dir": os.path.join("TrainVal", "VOCdevkit", "VOC2011")},
    "2010": {"url": "https://thor.robots.ox.ac.uk/pascal/VOC/voc2010/VOCtrainval_03-May-2010.tar",
             "filename": "VOCtrainval_03-May-2010.tar", "md5": "da459979d0c395079b5c75ee67908abb",
             "base_dir": os.path.join("VOCdevkit", "VOC2010")},
    "2009": {"url": "https://thor.robots.ox.ac.uk/pascal/VOC/voc2009/VOCtrainval_11-May-2009.tar",
             "filename": "VOCtrainval_11-May-2009.tar", "md5": "a3e00b113cfcfebf17e343f59da3caa1",
             "base_dir": os.path.join("VOCdevkit", "VOC2009")},
    "2008": {"url": "https://thor.robots.ox.ac.uk/pascal/VOC/voc2008/VOCtrainval_14-Jul-2008.tar",
             "filename": "VOCtrainval_11-May-2012.tar", "md5": "2629fa636546599198acfcfbfcf1904a",
             "base_dir": os.path.join("VOCdevkit", "VOC2008")},
    "2007": {"url": "https://thor.robots.ox.ac.uk/pascal/VOC/voc2007/VOCtrainval_06-Nov-2007.tar",
             "filename": "VOCtrainval_06-Nov-2007.tar", "md5": "c52e279531787c972589f7e41ab4ae64",
             "base_dir": os.path.join("VOCdevkit", "VOC2007")},
    "2007-test": {"url": "https://thor.robots.ox.ac.uk/pascal/VOC/voc2007/VOCtest_06-Nov-2007.tar",
                  "filename": "VOCtest_06-Nov-2007.tar", "md5": "b6e924de25625d8de591ea690078ad9f",
                  "base_dir": os.path.join("VOCdevkit", "VOC2007")},
}


def _xml_parse(path):
    try:   # defusedxml guards against entity expansion attacks where it is installed, as torchvision does
        from defusedxml.ElementTree import parse
    except ImportError:
        from xml.etree.ElementTree import parse
    return parse(path)


def _open_image(path, mode=None):
    image = _pil_image().open(path)
    image.load()   # reads the pixels and closes the file
    return image.convert(mode) if mode else image


class _VOCBase(VisionDataset):
    _SPLITS_DIR = _TARGET_DIR = _TARGET_FILE_EXT = None

    def __init__(self, root, year="2012", image_set="train", download=False, transform=None, target_transform=None,
                 transforms=None):
        super().__init__(root, transforms, transform, target_transform)
        self.year = verify_str_arg(year, "year", valid_values=[str(y) for y in range(2007, 2013)])
        valid_image_sets = ["train", "trainval", "val"] + (["test"] if year == "2007" else [])
        self.image_set = verify_str_arg(image_set, "image_set", valid_image_sets)
        entry = DATASET_YEAR_DICT["2007-test" if year == "2007" and image_set == "test" else year]
        self.url, self.filename, self.md5 = entry["url"], entry["filename"], entry["md5"]
        voc_root = os.path.join(self.root, entry["base_dir"])
        if download:
            download_and_extract_archive(self.url, self.root, filename=self.filename, md5=self.md5)
        if not os.path.isdir(voc_root):
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        with open(os.path.join(voc_root, "ImageSets", self._SPLITS_DIR, image_set.rstrip("\n") + ".txt")) as f:
            file_names = [line.strip() for line in f.readlines()]
        self.images = [os.path.join(voc_root, "JPEGImages", name + ".jpg") for name in file_names]
        self.targets = [os.path.join(voc_root, self._TARGET_DIR, name + self._TARGET_FILE_EXT) for name in file_names]

    def __len__(self):
        return len(self.images)


class VOCSegmentation(_VOCBase):
    """VOC segmentation: samples are (RGB image, palette PNG mask of class indices, 255 on borders)."""

    _SPLITS_DIR = "Segmentation"
    _TARGET_DIR = "SegmentationClass"
    _TARGET_FILE_EXT = ".png"

    @property
    def masks(self):
        return self.targets

    def __getitem__(self, index):
        img, target = _open_image(self.images[index], "RGB"), _open_image(self.masks[index])
        if self.transforms is not None:
            img, target = self.transforms(img, target)
        return img, target


class VOCDetection(_VOCBase):
    """VOC detection: samples are (RGB image, the annotation XML as nested dicts, ``object`` always a list)."""

    _SPLITS_DIR = "Main"
    _TARGET_DIR = "Annotations"
    _TARGET_FILE_EXT = ".xml"

    @property
    def annotations(self):
        return self.targets

    def __getitem__(self, index):
        img = _open_image(self.images[index], "RGB")
        target = self.parse_voc_xml(_xml_parse(self.annotations[index]).getroot())
        if self.transforms is not None:
            img, target = self.transforms(img, target)
        return img, target

    @staticmethod
    def parse_voc_xml(node):
        """An XML element as {tag: text} for a leaf, {tag: {child tag: value or list of values}} otherwise."""
        voc_dict = {}
        children = list(node)
        if children:
            grouped = collections.defaultdict(list)
            for child in map(VOCDetection.parse_voc_xml, children):
                for tag, value in child.items():
                    grouped[tag].append(value)
            if node.tag == "annotation":
                grouped["object"] = [grouped["object"]]
            voc_dict = {node.tag: {tag: v[0] if len(v) == 1 else v for tag, v in grouped.items()}}
        if node.text:
            text = node.text.strip()
            if not children:
                voc_dict[node.tag] = text
        return voc_dict
