"""``Tensor.resize_`` / ``resize_as_``: a new shape over the first elements (row-major) of the tensor's data;
growing appends zero elements (PyTorch leaves them uninitialised; both fill them as ``empty`` does while
deterministic algorithms are on). The deprecated out-of-place ``resize`` / ``resize_as`` reshape, keeping the number
of elements."""
import math
import warnings

from .._warnings import warn
from .. import _runtime
from .._backend import xp_of
from ._util import shape_arg, tensor_method
from .shape import keyword_sizes


@tensor_method
def resize_(self, *sizes, memory_format=None, **keywords):
    """Gives this tensor the shape ``sizes`` in place, keeping its leading elements; returns self."""
    if keywords:
        sizes = keyword_sizes(sizes, keywords, "size", "resize_")
    if self.requires_grad:
        raise RuntimeError("cannot resize variables that require grad")
    shape = tuple(shape_arg(sizes))
    if any(size < 0 for size in shape):
        raise RuntimeError(f"Trying to create tensor with negative dimension {min(shape)}: {list(shape)}")
    data, count = self._data, math.prod(shape)
    flat = data.reshape(-1)
    if count > flat.size:
        fill = _runtime.uninitialized_fill(data.dtype)
        grown = xp_of(flat).zeros(count, data.dtype) if fill is None else xp_of(flat).full(count, fill, data.dtype)
        grown[:flat.size] = flat
        flat = grown
    self._data = flat[:count].reshape(shape)
    self._version_counter[0] += 1
    return self


@tensor_method
def resize_as_(self, the_template, memory_format=None):
    """Gives this tensor the shape of ``the_template`` (see ``resize_``); returns self."""
    return resize_(self, *the_template.shape)


@tensor_method
def resize(self, *sizes):
    """Deprecated: this tensor's elements in the shape ``sizes``, which must hold as many (differentiable)."""
    warn("non-inplace resize is deprecated", stacklevel=2)
    shape = tuple(shape_arg(sizes))
    if math.prod(shape) != self.numel():
        raise RuntimeError(f"requested resize to {'x'.join(map(str, shape))} ({math.prod(shape)} elements in total), "
                           f"but the given tensor has a size of {'x'.join(map(str, self.shape))} ({self.numel()} "
                           f"elements). autograd's resize can only change the shape of a given tensor, while "
                           f"preserving the number of elements. ")
    return self.contiguous().view(shape)


@tensor_method
def resize_as(self, tensor):
    """Deprecated: this tensor's elements in the shape of ``tensor`` (see ``resize``)."""
    warn("non-inplace resize_as is deprecated", stacklevel=2)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return resize(self, *tensor.shape)
