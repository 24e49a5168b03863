"""Index arithmetic: tril_indices, triu_indices, combinations, unravel_index, isin, fill_diagonal_, index_reduce and
the COO/CSR index conversions."""
import itertools
import numbers

import numpy

from .. import _backend, _dtype
from .._tensor import Tensor, _make
from ..autograd._jvp import refuse_duals
from ..autograd.function import composite
from ._inplace import assign_inplace, inplace_method
from ._util import int_arg, tensor_method, warn_once, wrap_dim, write_out
from .gather_scatter import scatter_reduce

__all__ = ["tril_indices", "triu_indices", "combinations", "unravel_index", "isin", "index_reduce",
           "_convert_indices_from_coo_to_csr", "_convert_indices_from_csr_to_coo"]


def _triangle_indices(name, numpy_indices, row, col, offset, dtype, device):
    dtype = _dtype.as_dtype(dtype)
    if dtype not in (_dtype.int32, _dtype.int64):
        raise NotImplementedError(f'"{name}" not implemented for \'{_dtype.scalar_type_name(dtype)}\'')
    row, col, offset = int_arg(row), int_arg(col), int_arg(offset)
    for label, value in (("row", row), ("col", col)):
        if value < 0:
            raise RuntimeError(f"{label} must be non-negative, got{value}")
    rows, cols = numpy_indices(row, offset, col)
    array = numpy.stack([rows, cols]).astype(dtype.numpy).reshape(2, -1)
    return _make(_backend.move(array, _backend.as_device(device)))


def tril_indices(row, col, offset=0, *, dtype=_dtype.int64, device=None, layout=None):
    """The 2 x N (row, column) coordinates of the lower triangle of a row x col matrix, below diagonal ``offset``."""
    return _triangle_indices("tril_indices", numpy.tril_indices, row, col, offset, dtype, device)


def triu_indices(row, col, offset=0, *, dtype=_dtype.int64, device=None, layout=None):
    """The 2 x N (row, column) coordinates of the upper triangle of a row x col matrix, above diagonal ``offset``."""
    return _triangle_indices("triu_indices", numpy.triu_indices, row, col, offset, dtype, device)


def combinations(input, r=2, with_replacement=False):
    """All length-``r`` combinations of the elements of a 1-D tensor, one per row, like ``itertools.combinations``
    (``combinations_with_replacement`` with ``with_replacement=True``); gradients flow to the chosen elements."""
    if input.ndim != 1:
        raise RuntimeError(f"Expect a 1D vector, but got shape {list(input.shape)}")
    if r < 0:
        raise RuntimeError(f"Expect a non-negative number, but got {r}")
    if r == 0:
        return input.new_empty((0,))
    choose = itertools.combinations_with_replacement if with_replacement else itertools.combinations
    index = numpy.array(list(choose(range(input.shape[0]), r)), dtype=numpy.int64).reshape(-1, r)
    return input[_make(_backend.move(index, input.device))]


def unravel_index(indices, shape):
    """The coordinates, one tensor per dim of ``shape``, of flat (row-major) ``indices``; out-of-range indices
    wrap around, as in PyTorch."""
    if not isinstance(indices, Tensor):
        indices = _make(numpy.asarray(indices))
    if indices.dtype.is_floating_point or indices.dtype.is_complex or indices.dtype is _dtype.bool_:
        raise TypeError(f"expected 'indices' to be integer dtype, but got {indices.dtype}")
    shape = (int(shape),) if isinstance(shape, numbers.Integral) else tuple(int(s) for s in shape)
    if any(s < 0 for s in shape):
        raise ValueError(f"'shape' cannot have negative values, but got {shape}")
    if not shape:
        return ()
    coordinates, stride = [], 1
    for size in reversed(shape):   # like PyTorch, indices out of range wrap around (floor division and modulo)
        coordinates.append(indices // stride % size if indices.numel() else indices)
        stride *= size
    return tuple(c.to(_dtype.int64) for c in reversed(coordinates))


def _isin_operand(value, name):
    if isinstance(value, Tensor):
        if value.dtype is _dtype.bool_ or value.dtype.is_complex:
            raise RuntimeError(f"Unsupported input type encountered for isin(): {_dtype.scalar_type_name(value.dtype)}")
        return value
    if not isinstance(value, numbers.Number):
        raise TypeError(f"isin(): argument '{name}' must be Tensor or Number, not {type(value).__name__}")
    return None


@composite("isin")   # seen whole at dispatch: computed on the arrays
def isin(elements, test_elements, *, assume_unique=False, invert=False, out=None):
    """A bool tensor shaped like ``elements``: True where the element occurs in ``test_elements`` (either may be a
    number); ``invert=True`` negates it. Compares in the promoted dtype."""
    left, right = _isin_operand(elements, "elements"), _isin_operand(test_elements, "test_elements")
    if left is None and right is None:
        raise TypeError("isin() received an invalid combination of arguments - got "
                        f"({type(elements).__name__}, {type(test_elements).__name__}), but expected at least one "
                        "Tensor")
    like = left if left is not None else right
    target = _dtype.result_type(elements, test_elements)
    xp = _backend.xp_of(like._data)
    a = (left._data if left is not None else xp.asarray(elements)).astype(target.numpy)
    b = (right._data if right is not None else xp.asarray(test_elements)).astype(target.numpy)
    found = xp.isin(a, b, assume_unique=assume_unique, invert=invert)
    if out is not None and out.dtype is not _dtype.bool_:
        raise RuntimeError(f"Expected out tensor to have dtype bool, but got {out.dtype} instead")
    return write_out(out, _make(xp.asarray(found)), "isin")


@tensor_method
def fill_diagonal_(self, fill_value, wrap=False):
    """Writes ``fill_value`` on the main diagonal (all dims of equal length when more than 2); ``wrap=True``
    restarts the diagonal every ``cols + 1`` rows of a tall matrix, as NumPy's ``fill_diagonal``."""
    if isinstance(fill_value, Tensor) and fill_value.ndim:   # a 0-d tensor passes as a number, as in PyTorch
        raise TypeError("fill_diagonal_(): argument 'fill_value' (position 1) must be Number, not Tensor")
    if self.ndim < 2:
        raise RuntimeError("dimensions must larger than 1")
    if self.ndim > 2 and len(set(self.shape)) != 1:
        raise RuntimeError("all dimensions of input must be of equal length")
    mask = numpy.zeros(self.shape, dtype=bool)
    numpy.fill_diagonal(mask, True, wrap=wrap and self.ndim == 2)
    return assign_inplace(self, self.masked_fill(_make(_backend.move(mask, self.device)), fill_value))


@tensor_method
def index_reduce(input, dim, index, source, reduce, *, include_self=True, out=None):
    """A copy of ``input`` with the slices of ``source`` along ``dim`` reduced into the slices ``index`` names:
    'prod', 'mean', 'amax' or 'amin' (``include_self=False`` leaves input's values out); differentiable as
    scatter_reduce."""
    if reduce not in ("prod", "mean", "amax", "amin"):
        raise RuntimeError(f"index_reduce(): Expected reduce to be one of prod, mean, amax or amin but got {reduce}.")
    refuse_duals("index_reduce", input, source)   # PyTorch has no forward derivative for it
    if index.dtype not in (_dtype.int32, _dtype.int64):
        raise RuntimeError(f"index_reduce_(): Expected dtype int32/int64 for index but got: "
                           f"{_dtype.scalar_type_name(index.dtype)}")
    if index.ndim > 1:
        raise IndexError("index_reduce_(): Index is supposed to be a vector")
    if source.dtype is not input.dtype:
        raise RuntimeError(f"index_reduce_(): self ({_dtype.scalar_type_name(input.dtype)}) and source "
                           f"({_dtype.scalar_type_name(source.dtype)}) must have the same scalar type")
    dim = wrap_dim(dim, input.ndim)
    count = source.shape[dim] if source.ndim else 1
    if index.numel() != count:
        raise RuntimeError(f"index_reduce_(): Number of indices ({index.numel()}) should be equal to "
                           f"source.size(dim): ({count}), for dim: {dim}")
    size = input.shape[dim] if input.ndim else 1
    if index.numel() and (int(index._data.min()) < 0 or int(index._data.max()) >= size):
        raise IndexError("index out of range in self")
    warn_once("index_reduce", "index_reduce() is in beta and the API may change at any time.")
    spread = index.to(_dtype.int64).reshape((-1,) + (1,) * (source.ndim - dim - 1)).expand(source.shape) \
        if source.ndim else index.to(_dtype.int64).reshape(())
    return write_out(out, scatter_reduce(input, dim, spread, source, reduce, include_self=include_self),
                     "index_reduce")


inplace_method(index_reduce)


def _index_kind(name, tensor):
    if tensor.dtype not in (_dtype.int32, _dtype.int64):
        raise NotImplementedError(f'"{name}" not implemented for \'{_dtype.scalar_type_name(tensor.dtype)}\'')


def _convert_indices_from_coo_to_csr(input, size, *, out_int32=False):
    """CSR row pointers (``size + 1`` of them) from the sorted row indices of COO entries: pointer ``i`` counts the
    entries in rows before ``i`` (PyG's ``index2ptr``)."""
    _index_kind("convert_indices_from_coo_to_csr_cpu", input)
    if input.dim() > 1:
        raise RuntimeError(f"Input is supposed to be a vector, but got {input.dim()} dimensional tensor.")
    xp = _backend.xp_of(input._data)
    rows = input._data.reshape(-1)
    kind = numpy.int32 if out_int32 else numpy.int64
    if rows.size and bool((rows[1:] < rows[:-1]).any()):   # unsorted: PyTorch's kernel, step by step
        host = _backend.move(rows, _backend.CPU).tolist()
        out = [0] * (size + 1)
        for i in range(len(host) - 1):
            for value in range(host[i], host[i + 1]):
                out[value + 1] = i + 1
        out[:host[0] + 1] = [0] * (host[0] + 1)
        out[host[-1] + 1:] = [len(host)] * (size - host[-1])
        return _make(xp.asarray(numpy.array(out[:size + 1], kind)))
    return _make(xp.searchsorted(rows, xp.arange(size + 1), side="left").astype(kind))


def _convert_indices_from_csr_to_coo(crow_indices, col_indices, *, out_int32=False, transpose=False):
    """The (2, nnz) COO indices (row, column; column first with ``transpose``) of a CSR tensor's row pointers and
    column indices; batched pointers (B, rows + 1) give (3, B * nnz) with the batch first."""
    _index_kind("convert_indices_from_csr_to_coo_cpu", crow_indices)
    xp = _backend.xp_of(crow_indices._data)
    pointers = crow_indices._data.astype(numpy.int64).reshape(-1, crow_indices.shape[-1])
    columns = col_indices._data.reshape(pointers.shape[0], -1)
    counts = pointers[:, 1:] - pointers[:, :-1]
    rows = xp.concatenate([xp.repeat(xp.arange(counts.shape[1]), count) for count in counts]) \
        if counts.shape[0] else xp.zeros(0, numpy.int64)
    parts = [rows, columns.reshape(-1)]
    if transpose:
        parts = parts[::-1]
    if crow_indices.dim() > 1:
        parts.insert(0, xp.repeat(xp.arange(pointers.shape[0]), columns.shape[1]))
    return _make(xp.stack([part.astype(numpy.int64) for part in parts]).astype(numpy.int32 if out_int32 else
                                                                               numpy.int64))
