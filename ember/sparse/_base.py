"""What the sparse layouts share: a Tensor described by its logical size and its values' dtype and device."""
from typing import ClassVar

from .._tensor import Size, Tensor


def start_dispatch():
    """Installs ember's dispatching wrappers (once), so that public functions given a sparse tensor reach its
    ``__torch_function__``; called where a program makes a sparse tensor, not where ember makes one for it (the sparse
    gradient of an embedding), as the wrappers slow every later call a little (~17 us of ~48 us for a small
    forward and backward)."""
    from .. import overrides
    if not overrides._installed:
        overrides.enable_torch_function_dispatch()


class SparseBase(Tensor):
    """Shape, dtype and device of a sparse tensor (``_size`` and ``_values_`` are set by each layout); public
    functions called with one reach ``__torch_function__`` (see ``_dispatch``)."""

    _takes_over_calls = True   # ember's own subclass that still takes calls through __torch_function__
    _backend = "SparseCPU"   # the dispatch key PyTorch's errors name
    _no_pointwise: ClassVar[dict] = {}   # zero-preserving ops PyTorch does not run on this layout: name -> the kernel its error names

    @classmethod
    def __torch_function__(cls, func, types, args=(), kwargs=None):
        from ._dispatch import torch_function
        return torch_function(func, args, kwargs or {})

    @property
    def _data(self):
        from ._dispatch import NoStridedData
        raise NoStridedData(f"Could not run this operator with arguments from the '{self._backend}' backend: a "
                            f"sparse tensor has no strided data. Call .to_dense() first.")

    @property
    def shape(self):
        return Size(self._size)

    def size(self, dim=None):
        return Size(self._size) if dim is None else self._size[dim]

    @property
    def dtype(self):
        return self._values_.dtype

    @property
    def device(self):
        return self._values_.device

    @property
    def ndim(self):
        return len(self._size)

    def dim(self):
        return len(self._size)

    ndimension = dim

    def nelement(self):
        return self.numel()
