"""Omniglot: 1623 handwritten characters from 50 alphabets, 20 drawings each, as PNGs under alphabet/character."""
from os.path import join

from ..utils import _pil_image
from .utils import check_integrity, download_and_extract_archive, list_dir, list_files
from .vision import VisionDataset

__all__ = ["Omniglot"]


class Omniglot(VisionDataset):
    """Omniglot from ``root/omniglot-py/images_background`` (``background=True``) or ``images_evaluation``; samples
    are (grey PIL image, character index), characters numbered alphabet by alphabet in the folders' listing order."""

    folder = "omniglot-py"
    download_url_prefix = "https://raw.githubusercontent.com/brendenlake/omniglot/master/python"
    zips_md5 = {"images_background": "68d2efa1b9178cc56df9314c21c6e718",
                "images_evaluation": "6b91aef0f799c5bb55b94e3f2daec811"}

    def __init__(self, root, background=True, transform=None, target_transform=None, download=False, loader=None):
        super().__init__(join(root, self.folder), transform=transform, target_transform=target_transform)
        self.background = background
        if download:
            self.download()
        if not self._check_integrity():
            raise RuntimeError("Dataset not found or corrupted. You can use download=True to download it")
        self.target_folder = join(self.root, self._get_target_folder())
        self._alphabets = list_dir(self.target_folder)
        self._characters = [join(a, c) for a in self._alphabets for c in list_dir(join(self.target_folder, a))]
        self._character_images = [[(image, idx) for image in list_files(join(self.target_folder, character), ".png")]
                                  for idx, character in enumerate(self._characters)]
        self._flat_character_images = [pair for images in self._character_images for pair in images]
        self.loader = loader

    def __len__(self):
        return len(self._flat_character_images)

    def __getitem__(self, index):
        image_name, character_class = self._flat_character_images[index]
        image_path = join(self.target_folder, self._characters[character_class], image_name)
        if self.loader is None:
            with _pil_image().open(image_path, mode="r") as image:
                image = image.convert("L")
        else:
            image = self.loader(image_path)
        if self.transform:
            image = self.transform(image)
        if self.target_transform:
            character_class = self.target_transform(character_class)
        return image, character_class

    def _check_integrity(self):
        name = self._get_target_folder()
        return check_integrity(join(self.root, name + ".zip"), self.zips_md5[name])

    def download(self):
        """Downloads and extracts this half's zip unless it is already there and intact."""
        if self._check_integrity():
            return
        name = self._get_target_folder()
        download_and_extract_archive(f"{self.download_url_prefix}/{name}.zip", self.root, filename=name + ".zip",
                                     md5=self.zips_md5[name])

    def _get_target_folder(self):
        return "images_background" if self.background else "images_evaluation"
