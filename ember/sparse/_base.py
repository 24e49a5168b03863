"""What the sparse layouts share: a Tensor described by its logical size and its values' dtype and device."""
from .._tensor import Size, Tensor


class SparseBase(Tensor):
    """Shape, dtype and device of a sparse tensor (``_size`` and ``_values_`` are set by each layout)."""

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
