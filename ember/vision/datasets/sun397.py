"""SUN397: scene photos in 397 categories, nested folders named by ``ClassName.txt``."""
from pathlib import Path

from .folder import default_loader
from .utils import download_and_extract_archive
from .vision import _ImageFiles

__all__ = ["SUN397"]


class SUN397(_ImageFiles):
    """SUN397 under ``root/SUN397``: every ``sun_*.jpg`` below it, labelled by the folders between the letter folder
    and the file (``a/abbey/sun_1.jpg`` is class ``abbey``), named as ``ClassName.txt`` lists them after their
    ``/a/`` prefix."""

    _DATASET_URL = "http://vision.princeton.edu/projects/2010/SUN/SUN397.tar.gz"
    _DATASET_MD5 = "8ca2778205c41d23104230ba66911c7a"

    def __init__(self, root, transform=None, target_transform=None, download=False, loader=default_loader):
        super().__init__(root, transform=transform, target_transform=target_transform)
        self._data_dir = Path(self.root) / "SUN397"
        if download:
            self._download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        with open(self._data_dir / "ClassName.txt") as f:
            self.classes = [c[3:].strip() for c in f]
        self.class_to_idx = dict(zip(self.classes, range(len(self.classes))))
        self._image_files = list(self._data_dir.rglob("sun_*.jpg"))
        self._labels = [self.class_to_idx["/".join(path.relative_to(self._data_dir).parts[1:-1])]
                        for path in self._image_files]
        self.loader = loader

    def _check_exists(self):
        return self._data_dir.is_dir()

    def _download(self):
        if self._check_exists():
            return
        download_and_extract_archive(self._DATASET_URL, download_root=self.root, md5=self._DATASET_MD5)
