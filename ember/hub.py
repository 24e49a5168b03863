"""``ember.hub``: download checkpoints into PyTorch's cache (``$TORCH_HOME/hub/checkpoints``, by default
``~/.cache/torch/hub/checkpoints``) and load them; a file already there (for instance from torchvision) is used as
is. File names ending ``-<hex>.<ext>`` carry a SHA-256 prefix that ``check_hash`` verifies. ``load``, ``list`` and
``help`` run a repository's ``hubconf.py`` entrypoints (``_hub_repos``)."""
import hashlib
import os
import re
import shutil
import sys
import tempfile
import uuid
from urllib.parse import urlparse

__all__ = ["download_url_to_file", "get_dir", "help", "list", "load", "load_state_dict_from_url", "set_dir"]

HASH_REGEX = re.compile(r"-([a-f0-9]*)\.")
_CHUNK = 128 * 1024
_hub_dir = None


def _get_torch_home():
    return os.path.expanduser(os.getenv("TORCH_HOME", os.path.join(os.getenv("XDG_CACHE_HOME", "~/.cache"), "torch")))


def get_dir():
    """The hub cache directory: the one ``set_dir`` chose, else ``$TORCH_HOME/hub``."""
    if _hub_dir is not None:
        return _hub_dir
    return os.path.join(_get_torch_home(), "hub")


def set_dir(d):
    """Makes ``d`` the hub cache directory for this process."""
    global _hub_dir
    _hub_dir = os.path.expanduser(d)


def urlopen(request):
    """Opens ``request`` with urllib (imported on first use: it pulls in the HTTP and SSL stacks)."""
    from urllib.request import urlopen as open_url
    return open_url(request)


class _Faketqdm:
    """PyTorch's stand-in for tqdm when it is not installed: percentages (or bytes) written to stderr."""

    def __init__(self, total=None, disable=False, unit=None, *args, **kwargs):
        self.total, self.disable, self.n = total, disable, 0

    def update(self, n):
        """Counts ``n`` more units and rewrites the progress line."""
        if self.disable:
            return
        self.n += n
        done = f"{self.n:.1f} bytes" if self.total is None else f"{100 * self.n / float(self.total):.1f}%"
        sys.stderr.write(f"\r{done}")
        sys.stderr.flush()

    def set_description(self, *args, **kwargs):
        """Ignored, as PyTorch's."""

    def write(self, s):
        """Writes a line to stderr."""
        sys.stderr.write(f"{s}\n")

    def close(self):
        """Stops further updates."""
        self.disable = True

    def __enter__(self):
        return self

    def __exit__(self, exc_type, exc_val, exc_tb):
        if not self.disable:
            sys.stderr.write("\n")


def __getattr__(name):
    """``tqdm``: tqdm's class when installed, else PyTorch's stand-in (resolved on use, so import ember stays light)."""
    if name == "tqdm":
        try:
            from tqdm import tqdm
        except ImportError:
            return _Faketqdm
        return tqdm
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _progress_bar(total, enabled):
    if not enabled:
        return None
    try:
        from tqdm import tqdm
    except ImportError:
        return None
    return tqdm(total=total, disable=False, unit="B", unit_scale=True, unit_divisor=1024)


def download_url_to_file(url, dst, hash_prefix=None, progress=True):
    """Downloads ``url`` to the file ``dst`` (through a temporary file in the same folder, moved into place when
    complete); with ``hash_prefix``, the SHA-256 of the content must start with it."""
    from urllib.request import Request
    request = Request(url, headers={"User-Agent": "torch.hub"})
    with urlopen(request) as response:
        meta = response.info()
        length = meta.get_all("Content-Length") if hasattr(meta, "get_all") else meta.getheaders("Content-Length")
        file_size = int(length[0]) if length else None
        dst = os.path.expanduser(dst)
        folder = os.path.dirname(os.path.abspath(dst))
        partial = None
        try:
            with tempfile.NamedTemporaryFile(delete=False, dir=folder, prefix=os.path.basename(dst) + "." +
                                             uuid.uuid4().hex, suffix=".partial") as f:
                partial = f.name
                digest = _copy(response, f, file_size, progress, hash_prefix is not None)
            if hash_prefix is not None and digest[:len(hash_prefix)] != hash_prefix:
                raise RuntimeError(f'invalid hash value (expected "{hash_prefix}", got "{digest}")')
            shutil.move(partial, dst)
        finally:
            if partial is not None and os.path.exists(partial):
                os.remove(partial)


def _copy(response, f, file_size, progress, hashing):
    """Copies the response body into ``f`` in chunks; returns its SHA-256 hex digest when ``hashing``."""
    sha256 = hashlib.sha256() if hashing else None
    bar = _progress_bar(file_size, progress)
    try:
        while True:
            buffer = response.read(_CHUNK)
            if not buffer:
                break
            f.write(buffer)
            if sha256 is not None:
                sha256.update(buffer)
            if bar is not None:
                bar.update(len(buffer))
    finally:
        if bar is not None:
            bar.close()
    return sha256.hexdigest() if sha256 is not None else None


def load_state_dict_from_url(url, model_dir=None, map_location=None, progress=True, check_hash=False, file_name=None,
                             weights_only=False):
    """Loads the object saved at ``url``, downloading it into ``model_dir`` (default ``get_dir()/checkpoints``) unless
    a file of that name is already there."""
    if os.getenv("TORCH_MODEL_ZOO"):
        import warnings
        warnings.warn("TORCH_MODEL_ZOO is deprecated, please use env TORCH_HOME instead", stacklevel=2)
    if model_dir is None:
        model_dir = os.path.join(get_dir(), "checkpoints")
    os.makedirs(model_dir, exist_ok=True)
    filename = file_name or os.path.basename(urlparse(url).path)
    cached_file = os.path.join(model_dir, filename)
    if not os.path.exists(cached_file):
        sys.stderr.write(f'Downloading: "{url}" to {cached_file}\n')
        hash_prefix = None
        if check_hash:
            match = HASH_REGEX.search(filename)
            hash_prefix = match.group(1) if match else None
        download_url_to_file(url, cached_file, hash_prefix, progress=progress)
    from .serialization import load
    return load(cached_file, map_location=map_location, weights_only=weights_only)


from ._hub_repos import help, list, load  # noqa: E402,A004  (after the names it uses from here)
