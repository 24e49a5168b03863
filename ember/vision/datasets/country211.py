"""Country211: YFCC100M photos of 211 countries (OpenAI's CLIP benchmark), as image folders per split."""
from pathlib import Path

from .folder import ImageFolder, default_loader
from .utils import download_and_extract_archive, verify_str_arg

__all__ = ["Country211"]


class Country211(ImageFolder):
    """Country211's ``split`` (train, valid or test) from ``root/country211/<split>/<country code>/``, read as an
    :class:`ImageFolder`."""

    _URL = "https://openaipublic.azureedge.net/clip/data/country211.tgz"
    _MD5 = "84988d7644798601126c29e9877aab6a"

    def __init__(self, root, split="train", transform=None, target_transform=None, download=False,
                 loader=default_loader):
        self._split = verify_str_arg(split, "split", ("train", "valid", "test"))
        root = Path(root).expanduser()
        self.root = str(root)
        self._base_folder = root / "country211"
        if download:
            self._download()
        if not self._check_exists():
            raise RuntimeError("Dataset not found. You can use download=True to download it")
        super().__init__(str(self._base_folder / self._split), transform=transform,
                         target_transform=target_transform, loader=loader)
        self.root = str(root)

    def _check_exists(self):
        return self._base_folder.is_dir()

    def _download(self):
        if self._check_exists():
            return
        download_and_extract_archive(self._URL, download_root=self.root, md5=self._MD5)
