"""EuroSAT: Sentinel-2 RGB land-cover patches in ten class folders."""
import os

from .folder import ImageFolder, default_loader
from .utils import download_and_extract_archive

__all__ = ["EuroSAT"]


class EuroSAT(ImageFolder):
    """EuroSAT's RGB images from ``root/eurosat/2750/<class>/``, read as an :class:`ImageFolder`."""

    def __init__(self, root, transform=None, target_transform=None, download=False, loader=default_loader):
        self.root = os.path.expanduser(root)
        self._base_folder = os.path.join(self.root, "eurosat")
        self._data_folder = os.path.join(self._base_folder, "2750")
        if download:
            self.download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        super().__init__(self._data_folder, transform=transform, target_transform=target_transform, loader=loader)
        self.root = os.path.expanduser(root)

    def __len__(self):
        return len(self.samples)

    def _check_exists(self):
        return os.path.exists(self._data_folder)

    def download(self):
        """Downloads and extracts EuroSAT's zip into ``root/eurosat`` unless it is there."""
        if self._check_exists():
            return
        os.makedirs(self._base_folder, exist_ok=True)
        download_and_extract_archive(
            "https://huggingface.co/datasets/torchgeo/eurosat/resolve/c877bcd43f099cd0196738f714544e355477f3fd/"
            "EuroSAT.zip", download_root=self._base_folder, md5="c8fa014336c82ac7804f0398fcb19387")
