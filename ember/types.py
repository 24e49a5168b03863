"""``ember.types``: the type aliases PyTorch's annotations use (``Number``, ``Device``, ``FileLike``...), for code
that imports them from ``torch.types``. ember has no symbolic sizes, so the ``*LikeType`` aliases are Python's."""
import os
import typing

from ._backend import device as _device
from ._tensor import Size, Tensor
from .storage import UntypedStorage as Storage

__all__ = ["Number", "Device", "FileLike", "IntLikeType", "FloatLikeType", "BoolLikeType", "Size", "Storage",
           "Tensor"]

Number = typing.Union[int, float, bool]
Device = typing.Optional[typing.Union[_device, str, int]]
FileLike = typing.Union[str, os.PathLike, typing.IO[bytes]]
IntLikeType, FloatLikeType, BoolLikeType = int, float, bool
