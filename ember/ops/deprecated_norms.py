"""PyTorch's deprecated ATen norms kept for JIT compatibility: ``frobenius_norm`` and ``nuclear_norm``."""
import operator

from .. import _dtype
from ..autograd.function import composite
from ._util import warn_once, wrap_dim, wrap_dims, write_out
from .linalg._common import _CPP_NAMES
from .linalg.norms import matrix_norm, vector_norm

__all__ = ["frobenius_norm", "nuclear_norm"]

_FROBENIUS_WARNING = ("at::frobenius_norm is deprecated and it is just left for JIT compatibility. It will be removed "
                      "in a future PyTorch release. Please use `linalg.vector_norm(A, 2., dim, keepdim)` instead")
_NUCLEAR_WARNING = ("at::nuclear_norm is deprecated and it is just left for JIT compatibility. It will be removed in "
                    "a future PyTorch release. Please use `linalg.matrix_norm(A, 'nuc', dim, keepdim)` instead")


def _int_list(dim, name, length):
    """``dim`` as a list of ints; a single int repeats ``length`` times, as PyTorch's ``int[length]`` arguments."""
    if isinstance(dim, bool) or dim is None or isinstance(dim, (str, float, complex)):
        raise TypeError(f"{name}(): argument 'dim' (position 2) must be tuple of ints, not {type(dim).__name__}")
    try:
        return [operator.index(dim)] * length
    except TypeError:
        pass
    dims = []
    for position, d in enumerate(dim):
        if isinstance(d, bool):
            raise TypeError(f"{name}(): argument 'dim' (position 2) must be tuple of ints, but found element of type "
                            f"bool at pos {position}")
        try:
            dims.append(operator.index(d))
        except TypeError:
            raise TypeError(f"{name}(): argument 'dim' failed to unpack the object at pos 2 with error \"type must be "
                            f"tuple of ints,but got {type(d).__name__}\"") from None
    return dims


@composite("frobenius_norm", trace_inside=True)   # named for autocast's float32 list
def frobenius_norm(input, dim, keepdim=False, *, out=None):
    """Deprecated (PyTorch keeps it for TorchScript): the 2-norm of ``input`` over at most two dims ``dim``, as
    ``linalg.vector_norm(input, 2, dim, keepdim)``; warns once, as PyTorch."""
    dims = _int_list(dim, "frobenius_norm", 1)
    warn_once(("frobenius_norm", out is not None), _FROBENIUS_WARNING)
    if len(dims) > 2:
        raise RuntimeError(f"Expected at most 2 dimensions, but got {len(dims)} dimensions instead.")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"norm(): input dtype should be either floating point or complex. Got "
                           f"{_dtype.scalar_type_name(input.dtype)} instead.")
    if out is not None and out.dtype is not input.dtype.to_real():
        raise RuntimeError(f"Expected out tensor to have dtype {_CPP_NAMES[input.dtype.to_real().name]}, but got "
                           f"{_CPP_NAMES[out.dtype.name]} instead")
    if input.ndim == 0:   # checked here and taken as a 1-vector: vector_norm of a 0-d tensor fails for a dim 0 / -1
        wrap_dims(dims, 0)   # and its backward returns a NumPy scalar
        return write_out(out, vector_norm(input.unsqueeze(0), 2, 0), "frobenius_norm")
    return write_out(out, vector_norm(input, 2, dims, keepdim), "frobenius_norm")


@composite("nuclear_norm", trace_inside=True)   # named for autocast's float32 list
def nuclear_norm(input, dim=None, keepdim=False, *, out=None):
    """Deprecated (PyTorch keeps it for TorchScript): the nuclear norm (sum of singular values) of the matrices over
    the two dims ``dim`` (the last two when left out; ``nuclear_norm(input, keepdim)`` as PyTorch's overload), as
    ``linalg.matrix_norm(input, 'nuc', dim, keepdim)``; warns once, as PyTorch."""
    if isinstance(dim, bool):   # the overload nuclear_norm(input, keepdim)
        dim, keepdim = None, dim
    dims = [-2, -1] if dim is None else _int_list(dim, "nuclear_norm", 2)
    # PyTorch's sites: both overloads share one, and each overload's out= form has its own
    warn_once(("nuclear_norm",) if out is None else ("nuclear_norm", "out", dim is not None), _NUCLEAR_WARNING)
    if input.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"linalg.matrix_norm: Expected a floating point or complex tensor as input. Got "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    if input.dtype in (_dtype.float16, _dtype.bfloat16):
        raise RuntimeError(f"linalg.matrix_norm: Low precision dtypes not supported. Got "
                           f"{_dtype.scalar_type_name(input.dtype)}")
    if len(dims) != 2:
        raise RuntimeError(f"linalg.matrix_norm: dim must be a 2-tuple. Got {' '.join(map(str, dims))}")
    d0, d1 = (wrap_dim(d, input.ndim) for d in dims)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({d0}, {d1})")
    if out is not None and out.dtype is not input.dtype.to_real():
        expected = _dtype.scalar_type_name(input.dtype.to_real())
        raise RuntimeError(f"linalg.matrix_norm expected out tensor dtype {expected} but got: "
                           f"{_dtype.scalar_type_name(out.dtype)}")
    return write_out(out, matrix_norm(input, "nuc", (d0, d1), keepdim), "nuclear_norm")
