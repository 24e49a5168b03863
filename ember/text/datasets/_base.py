"""What the text datasets share: torchtext's root directory and split handling, MD5-checked downloads, and an
iterable dataset over a file-reading generator."""
import os

from ember.utils.data import IterableDataset
from ember.vision.datasets.utils import check_integrity, download_url, extract_archive

DEFAULT_ROOT = os.path.expanduser(os.path.join("~", ".torchtext", "cache"))


class TextIterable(IterableDataset):
    """Iterates ``read()`` afresh on every pass; ``len`` is the split's documented number of lines."""

    def __init__(self, read, num_lines):
        super().__init__()
        self._read, self._num_lines = read, num_lines

    def __iter__(self):
        return iter(self._read())

    def __len__(self):
        return self._num_lines


def splits(name, split, allowed, make):
    """``make(split)`` for one split name, a tuple of them for a tuple (torchtext's split argument)."""
    names = (split,) if isinstance(split, str) else tuple(split)
    for item in names:
        if item not in allowed:
            raise ValueError(f"{name}: expected split to be one of {allowed}, but got {item!r}")
    datasets = tuple(make(item) for item in names)
    return datasets[0] if isinstance(split, str) else datasets


def ensure_file(path, url, md5):
    """Downloads ``url`` to ``path`` (checking ``md5``) unless ``path`` already holds it."""
    if not check_integrity(path):
        try:
            download_url(url, os.path.dirname(path), os.path.basename(path), md5)
        except RuntimeError:   # a corrupted download must not pass for the dataset next time
            if os.path.exists(path):
                os.remove(path)
            raise


def ensure_extracted(archive, url, md5, extracted):
    """Downloads and extracts the archive unless ``extracted`` (a path inside it) exists."""
    if not os.path.exists(extracted):
        ensure_file(archive, url, md5)
        extract_archive(archive, os.path.dirname(archive))
