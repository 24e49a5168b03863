"""Shape ops of sparse COO tensors, as PyTorch runs them: index_select, narrow_copy, select (and integer indexing),
unsqueeze, transpose, permute, T/mT/H, sum with keepdim, cat/stack and sparse_mask. A sparse dim is handled on the indices, a dense dim on the
values; gradients reach the values through ember's dense ops."""
import numpy

from .._tensor import Tensor, _make

__all__ = ["METHODS", "PROPERTIES", "cat", "sparse_mask", "stack", "wrap_dim"]


def wrap_dim(self, dim, size=None):
    """``dim`` wrapped into range of a tensor of ``size`` dims (this one's by default), with PyTorch's IndexError."""
    size = self.dim() if size is None else size
    low, high = -max(size, 1), max(size, 1) - 1
    if not low <= dim <= high:
        raise IndexError(f"Dimension out of range (expected to be in range of [{low}, {high}], but got {dim})")
    return dim % max(size, 1)


def _build(indices, values, size, coalesced):
    """A COO result; PyTorch marks the results of these ops coalesced only where narrowing keeps the order, or where
    they hold at most one entry."""
    from ._coo import _build as build
    indices = indices if isinstance(indices, Tensor) else _make(numpy.ascontiguousarray(indices, numpy.int64))
    return build(indices, values, size, coalesced or indices.shape[1] <= 1)


def _rows(self):
    return self._indices_._data


def index_select(self, dim, index):
    """The entries at ``index`` along ``dim`` (repeats allowed); PyTorch leaves the result uncoalesced."""
    dim = wrap_dim(self, dim)
    if not isinstance(index, Tensor) or index.dim() > 1 or index.dtype.is_floating_point or index.is_sparse:
        raise IndexError("index_select() argument index must be 1-D strided (non-sparse) long-tensor.")
    wanted = index._data.reshape(-1).astype(numpy.int64)
    if wanted.size and (wanted.min() < -self.shape[dim] or wanted.max() >= self.shape[dim]):
        bad = next(int(i) for i in wanted if not -self.shape[dim] <= i < self.shape[dim])
        raise IndexError(f"index_select(): index contains {bad} that is out of range for tensor of size "
                         f"{list(self.shape)} at dimension {dim}")
    wanted = wanted % max(self.shape[dim], 1)
    size = list(self.shape)
    size[dim] = len(wanted)
    if dim >= self.sparse_dim():
        return _build(self._indices_, self._values_.index_select(dim - self.sparse_dim() + 1, _make(wanted)), size,
                      False)
    entries, positions = numpy.nonzero(_rows(self)[dim][:, None] == wanted[None, :])
    indices = _rows(self)[:, entries].copy()
    indices[dim] = positions
    return _build(indices, self._values_.index_select(0, _make(entries.astype(numpy.int64))), size, False)


def narrow_copy(self, dim, start, length):
    """The entries with ``start <= index < start + length`` along ``dim``, shifted to start at 0."""
    if not 0 <= dim < self.dim():
        raise RuntimeError(f"Dimension {dim} out of range. Expecting 0 <= dim < {self.dim()}.")
    if start < 0 or length < 0 or start + length > self.shape[dim]:
        raise RuntimeError(f"Invalid range to narrow. range(start, start+length) must be a subset of range(0, "
                           f"{self.shape[dim]}).")
    size = list(self.shape)
    size[dim] = length
    if dim >= self.sparse_dim():
        values = self._values_.narrow(dim - self.sparse_dim() + 1, start, length).clone()
        return _build(self._indices_, values, size, self._coalesced)
    column = _rows(self)[dim]
    keep = numpy.nonzero((column >= start) & (column < start + length))[0]
    indices = _rows(self)[:, keep].copy()
    indices[dim] -= start
    return _build(indices, self._values_.index_select(0, _make(keep.astype(numpy.int64))), size, self._coalesced)


def select(self, dim, index):
    """The slice at ``index`` along ``dim``: sparse while sparse dims remain, else the dense sum of its entries."""
    dim = wrap_dim(self, dim)
    if not -self.shape[dim] <= index < self.shape[dim]:
        raise IndexError(f"select(): index {index} out of range for tensor of size {list(self.shape)} at dimension "
                         f"{dim}")
    index %= self.shape[dim]
    size = [s for d, s in enumerate(self.shape) if d != dim]
    sparse_dim = self.sparse_dim()
    if dim >= sparse_dim:
        return _build(self._indices_, self._values_.select(dim - sparse_dim + 1, index), size, False)
    keep = numpy.nonzero(_rows(self)[dim] == index)[0]
    values = self._values_.index_select(0, _make(keep.astype(numpy.int64)))
    if sparse_dim == 1:   # no sparse dim left: the (dense) sum of the matching entries
        return values.sum(0)
    indices = numpy.delete(_rows(self)[:, keep], dim, axis=0)
    return _build(indices, values, size, False)


def getitem(self, key):
    """Integer indexing (``s[1]``, ``s[:, 2]``, ``s[0, 1]``): selects; other keys are not supported on sparse
    tensors."""
    from ._dispatch import unsupported
    keys = key if isinstance(key, tuple) else (key,)
    result, dim = self, 0
    for item in keys:
        if isinstance(item, slice) and item == slice(None):
            dim += 1
        elif isinstance(item, int) and not isinstance(item, bool):
            result = result.select(dim, item) if result.is_sparse else result[(slice(None),) * dim + (item,)]
        else:
            raise unsupported("index.Tensor" if isinstance(item, Tensor) else "slice", self)
    return result


def unsqueeze(self, dim):
    """A new size-1 dim at ``dim``: a sparse one (a row of zeros in the indices) before the dense dims."""
    dim = wrap_dim(self, dim, self.dim() + 1)
    size = list(self.shape)
    size.insert(dim, 1)
    sparse_dim = self.sparse_dim()
    if dim > sparse_dim:
        return _build(self._indices_, self._values_.unsqueeze(dim - sparse_dim + 1), size, False)
    indices = numpy.insert(_rows(self), dim, 0, axis=0)
    return _build(indices, self._values_, size, False)


def transpose(self, dim0, dim1):
    """Two sparse dims swapped in the indices (PyTorch refuses to swap dense dims of a sparse tensor)."""
    dim0, dim1 = wrap_dim(self, dim0), wrap_dim(self, dim1)
    if dim0 == dim1:
        return self
    sparse_dim = self.sparse_dim()
    if dim0 >= sparse_dim or dim1 >= sparse_dim:
        raise RuntimeError(f"sparse transpose: transposed dimensions must be sparse Got sparse_dim: {sparse_dim}, "
                           f"d0: {dim0}, d1: {dim1}")
    order = list(range(self.dim()))
    order[dim0], order[dim1] = dim1, dim0
    return _permuted(self, order)


def t(self):
    """The transpose of a tensor of at most 2 sparse dims and no dense dims (a 1-D tensor is returned as is)."""
    if self.dim() > 2 or self.dense_dim():
        raise RuntimeError(f"t() expects a tensor with <= 2 sparse and 0 dense dimensions, but self is "
                           f"{self.sparse_dim()} sparse and {self.dense_dim()} dense dimensions")
    return self if self.dim() < 2 else transpose(self, 0, 1)


def permute(self, *dims):
    """Sparse dims permuted among themselves, dense dims among themselves."""
    dims = tuple(dims[0]) if len(dims) == 1 and isinstance(dims[0], (list, tuple)) else dims
    if len(dims) != self.dim():
        raise RuntimeError(f"permute(sparse_coo): number of dimensions in the tensor input does not match the "
                           f"length of the desired ordering of dimensions i.e. input.dim() = {self.dim()} is not "
                           f"equal to len(dims) = {len(dims)}")
    order = [wrap_dim(self, d) for d in dims]
    if len(set(order)) != len(order):
        raise RuntimeError("permute(sparse_coo): duplicate dims are not allowed.")
    sparse_dim = self.sparse_dim()
    if any((d < sparse_dim) != (i < sparse_dim) for i, d in enumerate(order)):
        raise RuntimeError("permute(sparse_coo): transpositions between sparse and dense dimensions are not "
                           "allowed. Only transpositions within sparse and within dense dimensions are allowed.")
    return _permuted(self, order)


def _permuted(self, order):
    sparse_dim = self.sparse_dim()
    indices = _rows(self)[order[:sparse_dim]]
    values = self._values_
    if self.dense_dim():
        values = values.permute(0, *[d - sparse_dim + 1 for d in order[sparse_dim:]])
    return _build(indices, values, [self.shape[d] for d in order], False)


def _conj_t(self):
    return t(self).conj_physical() if self.dtype.is_complex else t(self)


def sum(self, dim=None, keepdim=False, dtype=None):
    """torch.sparse.sum, keeping the summed dims as size 1 where ``keepdim`` (PyTorch leaves that uncoalesced)."""
    from . import sum as sparse_sum
    if dim is None:
        return self._values_.sum(dtype=dtype)
    dims = [dim] if isinstance(dim, int) else list(dim)
    result = sparse_sum(self, dims, dtype=dtype)
    if keepdim:
        for d in sorted(wrap_dim(self, d) for d in dims):
            result = result.unsqueeze(d)
    return result


def cat(tensors, dim=0, *, out=None):
    """Sparse tensors joined along ``dim``: a sparse dim offsets the indices, a dense dim pads each one's values with
    zeros to the joined size (PyTorch leaves the result uncoalesced)."""
    from .. import cat as dense_cat
    tensors = list(tensors)
    for position, tensor in enumerate(tensors):
        if not getattr(tensor, "is_sparse", False):
            raise RuntimeError(f"Concatenating sparse tensors, but a dense tensor was found at position {position}.")
    first = tensors[0]
    dim = wrap_dim(first, dim)
    sparse_dim = first.sparse_dim()
    sizes = [t.shape[dim] for t in tensors]
    size = list(first.shape)
    size[dim] = int(numpy.sum(sizes))
    indices, values, offset = [], [], 0
    for tensor, extent in zip(tensors, sizes):
        rows, part = _rows(tensor).copy(), tensor._values_
        if dim < sparse_dim:
            rows[dim] += offset
        else:   # a dense dim: the values padded to the joined extent
            axis = dim - sparse_dim + 1
            shape = list(part.shape)
            before, after = list(shape), list(shape)
            before[axis], after[axis] = offset, size[dim] - offset - extent
            part = dense_cat([part.new_zeros(before), part, part.new_zeros(after)], axis)
        indices.append(rows)
        values.append(part)
        offset += extent
    return _build(numpy.concatenate(indices, axis=1), dense_cat(values, 0), size, False)


def stack(tensors, dim=0, *, out=None):
    """Sparse tensors stacked along a new dim ``dim``."""
    tensors = list(tensors)
    dim = wrap_dim(tensors[0], dim, tensors[0].dim() + 1)
    return cat([unsqueeze(t, dim) for t in tensors], dim)


def sparse_mask(self, mask):
    """This tensor's values (dense or sparse) at the indices of the sparse COO ``mask``, as a sparse tensor."""
    if not getattr(mask, "is_sparse", False):
        raise NotImplementedError(f"Could not run 'aten::sparse_mask' with arguments from the "
                                  f"'{'SparseCPU' if self.is_sparse else 'CPU'}' backend.")
    if tuple(self.shape) != tuple(mask.shape):
        raise RuntimeError(f"sparse_mask(): operands have incompatible sizes; self has size {list(self.shape)} but "
                           f"mask has size {list(mask.shape)}")
    dense = self.to_dense() if self.is_sparse else self
    rows = tuple(mask._indices_[d] for d in range(mask.sparse_dim()))
    return _build(mask._indices_, dense[rows] if rows else dense.unsqueeze(0), mask.shape, mask.is_coalesced())


METHODS = {"index_select": index_select, "narrow_copy": narrow_copy, "select": select, "__getitem__": getitem,
           "unsqueeze": unsqueeze, "transpose": transpose, "swapaxes": transpose, "swapdims": transpose, "t": t,
           "permute": permute, "sum": sum, "sparse_mask": sparse_mask}
PROPERTIES = {"T": t, "mT": lambda self: transpose(self, -2, -1), "H": _conj_t}
