"""Download, checksum and archive helpers for the datasets, with torchvision's names and behaviour."""
import bz2
import gzip
import hashlib
import lzma
import os
import pathlib
import tarfile
import urllib.request
import zipfile

__all__ = ["calculate_md5", "check_md5", "check_integrity", "download_url", "download_file_from_google_drive",
           "extract_archive", "download_and_extract_archive", "list_dir", "list_files", "verify_str_arg"]

USER_AGENT = "pytorch/vision"
_CHUNK = 1024 * 32
_COMPRESSED_FILE_OPENERS = {".bz2": bz2.open, ".gz": gzip.open, ".xz": lzma.open}
_ARCHIVE_TYPES = (".tar", ".zip")
_FILE_TYPE_ALIASES = {".tbz": (".tar", ".bz2"), ".tbz2": (".tar", ".bz2"), ".tgz": (".tar", ".gz")}


def calculate_md5(fpath, chunk_size=1024 * 1024):
    """The hex MD5 digest of the file at ``fpath``."""
    md5 = hashlib.md5(usedforsecurity=False)
    with open(fpath, "rb") as f:
        while chunk := f.read(chunk_size):
            md5.update(chunk)
    return md5.hexdigest()


def check_md5(fpath, md5, **kwargs):
    """Whether the file at ``fpath`` has MD5 digest ``md5``."""
    return md5 == calculate_md5(fpath, **kwargs)


def check_integrity(fpath, md5=None):
    """Whether ``fpath`` is a file and, when ``md5`` is given, has that digest."""
    if not os.path.isfile(fpath):
        return False
    return md5 is None or check_md5(fpath, md5)


def _urlretrieve(url, filename):
    request = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    with urllib.request.urlopen(request) as response, open(filename, "wb") as fh:
        while chunk := response.read(_CHUNK):
            fh.write(chunk)


def download_url(url, root, filename=None, md5=None):
    """Downloads ``url`` to ``root/filename`` unless a file with digest ``md5`` is already there.

    Raises RuntimeError when the downloaded file does not match ``md5``.
    """
    root = os.path.expanduser(root)
    fpath = os.fspath(os.path.join(root, filename or os.path.basename(url)))
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    try:
        _urlretrieve(url, fpath)
    except OSError:  # urllib.error.URLError is an OSError; some hosts refuse https but serve http
        if not url.startswith("https:"):
            raise
        _urlretrieve(url.replace("https:", "http:", 1), fpath)
    if not check_integrity(fpath, md5):
        raise RuntimeError("File not found or corrupted.")


def list_dir(root, prefix=False):
    """The folders directly under ``root`` in the order the file system lists them (joined to ``root`` if
    ``prefix``)."""
    root = os.path.expanduser(root)
    directories = [p for p in os.listdir(root) if os.path.isdir(os.path.join(root, p))]
    return [os.path.join(root, d) for d in directories] if prefix else directories


def list_files(root, suffix, prefix=False):
    """The files directly under ``root`` whose names end with ``suffix`` (a string or tuple), in listing order."""
    root = os.path.expanduser(root)
    files = [p for p in os.listdir(root) if os.path.isfile(os.path.join(root, p)) and p.endswith(suffix)]
    return [os.path.join(root, f) for f in files] if prefix else files


def download_file_from_google_drive(file_id, root, filename=None, md5=None):
    """Downloads Google Drive file ``file_id`` to ``root/filename`` through gdown (an optional dependency) unless a
    file with digest ``md5`` is already there; RuntimeError when the download does not match ``md5``."""
    try:
        import gdown
    except ModuleNotFoundError as error:
        raise RuntimeError("To download files from GDrive, 'gdown' is required. You can install it with "
                           "'pip install gdown'.") from error
    root = os.path.expanduser(root)
    fpath = os.fspath(os.path.join(root, filename or file_id))
    os.makedirs(root, exist_ok=True)
    if check_integrity(fpath, md5):
        return
    gdown.download(id=file_id, output=fpath, quiet=False, user_agent=USER_AGENT)
    if not check_integrity(fpath, md5):
        raise RuntimeError("File not found or corrupted.")


def _detect_file_type(file):
    """(suffix, archive type, compression) of ``file`` from its name."""
    suffixes = pathlib.Path(file).suffixes
    if not suffixes:
        raise RuntimeError(
            f"File '{file}' has no suffixes that could be used to detect the archive type and compression.")
    suffix = suffixes[-1]
    if suffix in _FILE_TYPE_ALIASES:
        return (suffix, *_FILE_TYPE_ALIASES[suffix])
    if suffix in _ARCHIVE_TYPES:
        return suffix, suffix, None
    if suffix in _COMPRESSED_FILE_OPENERS:
        if len(suffixes) > 1 and suffixes[-2] in _ARCHIVE_TYPES:
            return suffixes[-2] + suffix, suffixes[-2], suffix
        return suffix, None, suffix
    valid = sorted(set(_FILE_TYPE_ALIASES) | set(_ARCHIVE_TYPES) | set(_COMPRESSED_FILE_OPENERS))
    raise RuntimeError(f"Unknown compression or archive type: '{suffix}'.\nKnown suffixes are: '{valid}'.")


def _extract_tar(from_path, to_path, compression):
    with tarfile.open(from_path, f"r:{compression[1:]}" if compression else "r") as tar:
        # The "data" filter refuses members that would land outside to_path (absolute paths, "..", device files).
        tar.extractall(to_path, filter="data")


def _extract_zip(from_path, to_path, compression):
    with zipfile.ZipFile(from_path) as archive:
        archive.extractall(to_path)  # zipfile drops absolute paths and ".." components itself


def extract_archive(from_path, to_path=None, remove_finished=False):
    """Extracts a .tar/.zip archive (optionally compressed) or decompresses a .gz/.bz2/.xz file into ``to_path``."""
    to_path = os.path.dirname(from_path) if to_path is None else to_path
    suffix, archive_type, compression = _detect_file_type(from_path)
    if archive_type is None:
        target = os.path.join(to_path, os.path.basename(from_path).replace(suffix, ""))
        with _COMPRESSED_FILE_OPENERS[compression](from_path, "rb") as rfh, open(target, "wb") as wfh:
            while chunk := rfh.read(1024 * 1024):
                wfh.write(chunk)
        result = target
    else:
        (_extract_tar if archive_type == ".tar" else _extract_zip)(from_path, to_path, compression)
        result = to_path
    if remove_finished:
        os.remove(from_path)
    return result


def download_and_extract_archive(url, download_root, extract_root=None, filename=None, md5=None,
                                 remove_finished=False):
    """Downloads ``url`` into ``download_root`` (checking ``md5``) and extracts it into ``extract_root``."""
    download_root = os.path.expanduser(download_root)
    extract_root = download_root if extract_root is None else extract_root
    filename = filename or os.path.basename(url)
    download_url(url, download_root, filename, md5)
    extract_archive(os.path.join(download_root, filename), extract_root, remove_finished)


def verify_str_arg(value, arg=None, valid_values=None, custom_msg=None):
    """Returns ``value`` after checking it is a string among ``valid_values``; raises ValueError otherwise."""
    if not isinstance(value, str):
        where = "" if arg is None else f" for argument {arg}"
        raise ValueError(f"Expected type str{where}, but got type {type(value)}.")
    if valid_values is None or value in valid_values:
        return value
    if custom_msg is not None:
        raise ValueError(custom_msg)
    valid = "'" + "', '".join(str(v) for v in valid_values) + "'"
    raise ValueError(f"Unknown value '{value}' for argument {arg}. Valid values are {{{valid}}}.")
