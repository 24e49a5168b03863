"""``lightning.pytorch.core.saving``: the file helpers Lightning's checkpoint and hparams code uses (pytorch-tabular
opens its saved models through ``get_filesystem``)."""
from ..loggers.logger import save_hparams_to_yaml

__all__ = ["get_filesystem", "save_hparams_to_yaml"]


def get_filesystem(path, **kwargs):
    """The fsspec filesystem for ``path`` (a local path, or a URL such as ``s3://...``), as Lightning's (which needs
    fsspec: it is imported here, on use)."""
    from fsspec.core import url_to_fs
    filesystem, _ = url_to_fs(str(path), **kwargs)
    return filesystem
