"""``Tensor.resize_`` / ``resize_as_``: a new shape over the first elements (row-major) of the tensor's data;
growing appends zero elements (PyTorch leaves them uninitialised; both fill them as ``empty`` does while
deterministic algorithms are on). The deprecated out-of-place ``resize`` / ``resize_as`` reshape, keeping the number
of elements. ``Tensor.set_`` makes a tensor view other memory (another tensor's, a storage's) in place."""
import math
import warnings

import numpy

from .._warnings import warn
from .. import _memory_format, _runtime
from .._backend import xp_of
from .._tensor import Tensor
from ..autograd.grad_mode import check_inference_write
from ..storage import TypedStorage, UntypedStorage, _allocation
from ._inplace import check_inplace_allowed
from ._kernel_dtypes import cpp_type_name
from ._util import shape_arg, tensor_method
from .shape import keyword_sizes


@tensor_method
def resize_(self, *sizes, memory_format=None, **keywords):
    """Gives this tensor the shape ``sizes`` in place, keeping its leading elements (laid out in ``memory_format``);
    returns self."""
    if keywords:
        sizes = keyword_sizes(sizes, keywords, "size", "resize_")
    check_inference_write(self)
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
    if memory_format is _memory_format.preserve_format:
        raise RuntimeError("Unsupported memory formatPreserve")
    order = None if memory_format is None else memory_format.order(len(shape))
    if order is None:
        self._data = flat[:count].reshape(shape)
    else:   # the kept elements lie in the format's order (PyTorch restrides the tensor)
        self._data = flat[:count].reshape([shape[axis] for axis in order]).transpose(tuple(numpy.argsort(order)))
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


@tensor_method
def set_(self, source=None, storage_offset=None, size=None, stride=None):
    """Makes this tensor view other memory in place: ``source``'s (a tensor: its storage, offset, sizes and strides;
    a storage: all of it as one dimension), or from ``storage_offset`` in ``size`` and ``stride`` (row-major when
    None); with no source, an empty tensor. Later writes through either show in both. Returns self."""
    check_inplace_allowed(self)
    dtype = self._data.dtype
    if source is None:
        data = xp_of(self._data).empty(0, dtype)
    elif isinstance(source, Tensor):
        if source._data.dtype != dtype:
            raise RuntimeError(f"Could not set tensor of type {cpp_type_name(source.dtype)} to a tensor of type "
                               f"{cpp_type_name(self.dtype)}")
        data = source._data if storage_offset is None else \
            _strided(_allocation(source._data), storage_offset, size, stride, "set_")
    elif isinstance(source, UntypedStorage):
        memory = source._data
        if isinstance(source, TypedStorage) and memory.dtype != dtype:
            raise RuntimeError(f"Expected a Storage of type {self.dtype} or an UntypedStorage, but got type "
                               f"{source.dtype} for argument 1 'storage'")
        if memory.dtype != dtype:   # bytes: as many whole elements as they hold
            memory = memory.view(numpy.uint8)[:memory.nbytes // dtype.itemsize * dtype.itemsize].view(dtype)
        data = memory if storage_offset is None and size is None else \
            _strided(memory, storage_offset or 0, size, stride, "set_")
    else:
        raise TypeError(f"set_(): argument 'source' must be Tensor or Storage, not {type(source).__name__}")
    self._data = data
    self.__dict__.pop("_base", None)   # no longer a view of what it viewed before
    self._version_counter[0] += 1
    return self


def _strided(memory, offset, size, stride, name):
    """``size`` elements of the flat ``memory`` from ``offset`` with ``stride`` (row-major when None), as a view."""
    size = tuple(shape_arg((size,))) if size is not None else (memory.size - offset,)
    if stride is None:
        stride, step = [], 1
        for extent in reversed(size):
            stride.insert(0, step)
            step *= extent
    stride = tuple(stride)
    last = offset + sum((n - 1) * s for n, s in zip(size, stride)) if all(size) else offset - 1
    if offset < 0 or last >= memory.size:
        raise RuntimeError(f"{name}: sizes {list(size)}, strides {list(stride)} and storage offset {offset} need "
                           f"{last + 1} elements, but the storage holds {memory.size}")
    return numpy.lib.stride_tricks.as_strided(memory[offset:], size, tuple(s * memory.itemsize for s in stride))


@tensor_method
def is_set_to(self, tensor):
    """True when both tensors view the same memory with the same offset, sizes and strides."""
    a, b = self._data, tensor._data
    return (a.dtype == b.dtype and a.shape == b.shape and a.strides == b.strides and
            _allocation(a).ctypes.data == _allocation(b).ctypes.data and
            a.__array_interface__["data"][0] == b.__array_interface__["data"][0])


@tensor_method
def is_distributed(self):
    """False: ember's tensors live whole on one device."""
    return False
