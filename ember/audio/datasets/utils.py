"""Downloading with torch.hub's SHA-256 check, and extracting archives, for the audio datasets."""
import hashlib
import os
import urllib.request

from ember.vision.datasets.utils import extract_archive

__all__ = ["download_url_to_file", "extract_archive", "sha256"]


def sha256(path, chunk_size=1 << 20):
    """The hex SHA-256 digest of the file at ``path``."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(chunk_size):
            digest.update(chunk)
    return digest.hexdigest()


def download_url_to_file(url, dst, hash_prefix=None):
    """Downloads ``url`` to ``dst`` (through a temporary file) and checks that its SHA-256 starts with
    ``hash_prefix``; RuntimeError on a mismatch, leaving no file behind."""
    partial = f"{dst}.partial"
    with urllib.request.urlopen(url) as response, open(partial, "wb") as out:
        while chunk := response.read(1 << 20):
            out.write(chunk)
    if hash_prefix is not None and not sha256(partial).startswith(hash_prefix):
        os.remove(partial)
        raise RuntimeError(f'invalid hash value (expected "{hash_prefix}")')
    os.replace(partial, dst)


def fetch_archive(url, root, checksum):
    """Downloads the archive at ``url`` into ``root`` unless it is there, then extracts it in ``root``."""
    archive = os.path.join(root, os.path.basename(url))
    if not os.path.isfile(archive):
        os.makedirs(root, exist_ok=True)
        download_url_to_file(url, archive, hash_prefix=checksum)
    extract_archive(archive, root)
