"""YESNO: 60 recordings of a man saying yes or no in Hebrew, eight words each (OpenSLR 1)."""
import os
from pathlib import Path

from ember.utils.data import Dataset

from .._backend import load
from .utils import fetch_archive

_RELEASE_CONFIGS = {"release1": {
    "folder_in_archive": "waves_yesno",
    "url": "http://www.openslr.org/resources/1/waves_yesno.tar.gz",
    "checksum": "c3f49e0cca421f96b75b41640749167b52118f232498667ca7a5f9416aef8e73",
}}


class YESNO(Dataset):
    """Items are (waveform, sample_rate, labels), labels a list of eight 0 (no) / 1 (yes) from the file name."""

    def __init__(self, root, url=_RELEASE_CONFIGS["release1"]["url"],
                 folder_in_archive=_RELEASE_CONFIGS["release1"]["folder_in_archive"], download=False):
        self._path = os.path.join(os.fspath(root), folder_in_archive)
        if download and not os.path.isdir(self._path):
            checksum = _RELEASE_CONFIGS["release1"]["checksum"] if url == _RELEASE_CONFIGS["release1"]["url"] else None
            fetch_archive(url, os.fspath(root), checksum)
        if not os.path.isdir(self._path):
            raise RuntimeError("Dataset not found. Please use `download=True` to download it.")
        self._walker = sorted(str(p.stem) for p in Path(self._path).glob("*.wav"))

    def get_metadata(self, n):
        """(relative path, sample rate, labels) of item n, without loading audio."""
        fileid = self._walker[n]
        return os.path.join(fileid + ".wav"), 8000, [int(c) for c in fileid.split("_")]

    def __getitem__(self, n):
        fileid = self._walker[n]
        waveform, sample_rate = load(os.path.join(self._path, fileid + ".wav"))
        return waveform, sample_rate, [int(c) for c in fileid.split("_")]

    def __len__(self):
        return len(self._walker)
