"""torchaudio.utils: ``download_asset``, the tutorial assets on download.pytorch.org/torchaudio cached under
``hub.get_dir()/torchaudio`` (torchaudio 2.9 on names it ``_download_asset``)."""
import hashlib
import logging
from pathlib import Path

__all__ = ["download_asset", "_download_asset"]

_LG = logging.getLogger(__name__)


def _get_local_path(key):
    from ember import hub
    path = Path(hub.get_dir()) / "torchaudio" / Path(key)
    path.parent.mkdir(parents=True, exist_ok=True)
    return path


def _get_hash(path, chunk_size=1028):
    digest = hashlib.sha256()
    with open(path, "rb") as file:
        while data := file.read(chunk_size):
            digest.update(data)
    return digest.hexdigest()


def download_asset(key, hash="", path="", *, progress=True):
    """The local path of asset ``key`` (its route under download.pytorch.org/torchaudio), downloaded unless the
    file exists; checked against the SHA-256 ``hash`` when one is given."""
    path = Path(path) if path else _get_local_path(key)
    if path.exists():
        _LG.info("The local file (%s) exists. Skipping the download.", path)
    else:
        from ember import hub
        _LG.info("Downloading %s to %s", key, path)
        hub.download_url_to_file(f"https://download.pytorch.org/torchaudio/{key}", path, progress=progress)
    if hash:
        _LG.info("Verifying the hash value.")
        digest = _get_hash(path)
        if digest != hash:
            raise ValueError(f"The hash value of the downloaded file ({path}), '{digest}' does not match the provided "
                             f"hash value, '{hash}'.")
        _LG.info("Hash validated.")
    return str(path)


_download_asset = download_asset
