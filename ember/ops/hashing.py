"""``hash_tensor``: a tensor's elements, widened to 64 bits and read as uint64, reduced by exclusive or (PyTorch's
only hash mode, 0), over all dims or the given ones."""
import numpy

from .. import _dtype
from .._tensor import _make
from ._kernel_dtypes import _not_implemented
from ._util import tensor_method, wrap_dim, wrap_dims, write_out

__all__ = ["hash_tensor"]


def _as_words(array):
    """The elements as PyTorch's xor_sum reads them: floats widened to float64, bools and signed integers to int64,
    then the 64 bits as uint64."""
    wide = array.astype(numpy.float64 if array.dtype.kind in "fV" else numpy.int64)
    return wide.view(numpy.uint64)


@tensor_method
def hash_tensor(input, dim=None, *, keepdim=False, mode=0, out=None):
    """The exclusive or of the elements' 64-bit patterns (floats as float64, integers as int64) over ``dim``
    (every dim when None or empty), as a uint64 tensor."""
    if mode != 0:
        raise RuntimeError(f"Unknown hash_tensor mode: {mode}")
    kind = input._data.dtype
    if kind.kind in "cu" and kind != numpy.uint8 or kind.char in _dtype.FLOAT8_CHARS:
        raise _not_implemented("xor_sum_cpu", input)
    whole = dim is None or (not isinstance(dim, int) and len(dim) == 0)
    if whole and input.numel() == 0:
        raise RuntimeError("hash_tensor: Expected reduction dim to be specified for input.numel() == 0. Specify the "
                           "reduction dim with the 'dim' argument.")
    dims = tuple(range(input.ndim)) if whole else wrap_dims(dim, input.ndim)
    if not whole and input.ndim:
        for given in (dim,) if isinstance(dim, int) else dim:
            if input.shape[wrap_dim(given, input.ndim)] == 0:
                raise IndexError(f"hash_tensor: Expected reduction dim {given} to have non-zero size.")
    words = _as_words(numpy.asarray(input.detach().cpu()._data))
    result = numpy.bitwise_xor.reduce(words, axis=dims, keepdims=keepdim) if words.ndim else words
    if out is not None and out.dtype is not _dtype.uint64:
        raise RuntimeError(f"Expected result to be of dtype uint64, but got {_dtype.scalar_type_name(out.dtype)}")
    return write_out(out, _make(numpy.asarray(result, numpy.uint64)).to(input.device), "hash_tensor")
