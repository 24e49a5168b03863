"""``Tensor.resize_`` / ``resize_as_``: a new shape over the first elements (row-major) of the tensor's data;
growing appends zero elements (PyTorch leaves them uninitialised)."""
import math

from .._backend import xp_of
from ._util import shape_arg, tensor_method


@tensor_method
def resize_(self, *sizes, memory_format=None):
    """Gives this tensor the shape ``sizes`` in place, keeping its leading elements; returns self."""
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = tuple(shape_arg(sizes))
    if any(size < 0 for size in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    data, count = self._data, math.prod(shape)
    flat = data.reshape(-1)
    if count > flat.size:
        grown = xp_of(flat).zeros(count, data.dtype)
        grown[:flat.size] = flat
        flat = grown
    self._data = flat[:count].reshape(shape)
    self._version_counter[0] += 1
    return self


@tensor_method
def resize_as_(self, the_template, memory_format=None):
    """Gives this tensor the shape of ``the_template`` (see ``resize_``); returns self."""
    return resize_(self, *the_template.shape)
