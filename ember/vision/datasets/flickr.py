"""Flickr8k (captions from its HTML page) and Flickr30k (tab-separated captions) image-caption datasets."""
import collections
import glob
import os
from html.parser import HTMLParser

from .folder import default_loader
from .vision import VisionDataset

__all__ = ["Flickr8k", "Flickr30k", "Flickr8kParser"]


class Flickr8kParser(HTMLParser):
    """Reads Flickr8k's caption page: in its table, each link names an image (found as ``root/<id>_*.jpg``) and the
    list items after it are that image's captions; ``annotations`` maps image path to captions."""

    def __init__(self, root):
        super().__init__()
        self.root = root
        self.annotations = {}
        self.in_table = False
        self.current_tag = None
        self.current_img = None

    def handle_starttag(self, tag, attrs):
        self.current_tag = tag
        if tag == "table":
            self.in_table = True

    def handle_endtag(self, tag):
        self.current_tag = None
        if tag == "table":
            self.in_table = False

    def handle_data(self, data):
        if not self.in_table:
            return
        if data == "Image Not Found":
            self.current_img = None
        elif self.current_tag == "a":
            image_id = data.split("/")[-2]
            self.current_img = glob.glob(os.path.join(self.root, image_id + "_*.jpg"))[0]
            self.annotations[self.current_img] = []
        elif self.current_tag == "li" and self.current_img:
            self.annotations[self.current_img].append(data.strip())


class _Captions(VisionDataset):
    def __getitem__(self, index):
        img_id = self.ids[index]
        img = self.loader(self._image_path(img_id))
        if self.transform is not None:
            img = self.transform(img)
        target = self.annotations[img_id]
        if self.target_transform is not None:
            target = self.target_transform(target)
        return img, target

    def __len__(self):
        return len(self.ids)


class Flickr8k(_Captions):
    """Flickr8k: images under ``root`` with their captions from the HTML page ``ann_file``; samples are (image as
    ``loader`` reads it, list of captions), in sorted path order."""

    def __init__(self, root, ann_file, transform=None, target_transform=None, loader=default_loader):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.ann_file = os.path.expanduser(ann_file)
        parser = Flickr8kParser(self.root)
        with open(self.ann_file) as fh:
            parser.feed(fh.read())
        self.annotations = parser.annotations
        self.ids = sorted(self.annotations)
        self.loader = loader

    def _image_path(self, img_id):
        return img_id


class Flickr30k(_Captions):
    """Flickr30k: images under ``root`` with captions from ``ann_file`` (lines ``<image>#<n>\\t<caption>``);
    samples are (image as ``loader`` reads it, list of captions), in sorted file-name order."""

    def __init__(self, root, ann_file, transform=None, target_transform=None, loader=default_loader):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self.ann_file = os.path.expanduser(ann_file)
        self.annotations = collections.defaultdict(list)
        with open(self.ann_file) as fh:
            for line in fh:
                img_id, caption = line.strip().split("\t")
                self.annotations[img_id[:-2]].append(caption)
        self.ids = sorted(self.annotations)
        self.loader = loader

    def _image_path(self, img_id):
        return os.path.join(self.root, img_id)
