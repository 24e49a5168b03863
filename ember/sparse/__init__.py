"""``ember.sparse``: sparse COO, CSR and CSC tensors and the ops on them, as ``torch.sparse``."""
import numpy

from .. import _dtype
from .._tensor import Tensor, _make
from ._coo import SparseTensor, check_sparse_tensor_invariants, sparse_coo_tensor, to_dense, to_sparse
from ._csc import SparseCscTensor, sparse_csc_tensor, to_sparse_csc
from ._csr import SparseCsrTensor, sparse_csr_tensor, to_sparse_csr
from ._layout import jagged, layout, sparse_bsc, sparse_bsr, sparse_coo, sparse_csc, sparse_csr, strided

__all__ = ["addmm", "check_sparse_tensor_invariants", "log_softmax", "mm", "sampled_addmm", "softmax", "spdiags",
           "sum"]


def _check_mm(sparse, dense):
    if sparse.dim() != 2 or sparse.sparse_dim() != 2:
        raise RuntimeError(f"mm: expected a 2-D sparse matrix with 2 sparse and 0 dense dims, got "
                           f"{sparse.sparse_dim()} sparse and {sparse.dense_dim()} dense dims")
    if dense.dim() != 2:
        raise RuntimeError("mat2 must be a matrix")
    if sparse.shape[1] != dense.shape[0]:
        raise RuntimeError(f"addmm: Argument #3 (dense): Expected dim 0 size {sparse.shape[1]}, got {dense.shape[0]}")
    if sparse.dtype is not dense.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(sparse.dtype)} but found "
                           f"{_dtype.scalar_type_name(dense.dtype)}")


def _product(sparse, dense):
    """sparse (n, m) @ dense (m, k) from the stored entries: row i gathers value * dense[col] (differentiable in
    the values and the dense operand)."""
    from .. import zeros
    _check_mm(sparse, dense)
    values = sparse._values_
    rows, cols = (_make(r) for r in sparse._indices_._data)
    out = zeros((sparse.shape[0], dense.shape[1]), dtype=dense.dtype, device=dense.device)
    return out.index_add(0, rows, values.unsqueeze(1) * dense.index_select(0, cols))


def _reduced_product(csr, dense, reduce):
    """CSR (n, m) @ dense (m, k) with each row's products reduced by ``reduce`` (mean, amax/max, amin/min; a row
    without entries gives 0), as PyTorch's ``_sparse_mm_reduce_impl``; differentiable in the dense operand."""
    from .. import zeros
    from ..ops._util import name_node
    if reduce not in ("sum", "mean", "amax", "amin", "max", "min", "prod"):
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if reduce == "prod":
        raise RuntimeError("sparse_mm_reduce: reduce type of prod has not been enabled.")
    if dense.dim() != 2 or dense.shape[0] != csr.shape[1]:
        raise RuntimeError(f"Expected a tensor of dimension 2 and tensor.size[0] == {csr.shape[1]} but got: "
                           f"dimension {dense.dim()} and tensor.size[0] = {dense.shape[0]}")
    if dense.dtype is not csr.dtype:
        raise RuntimeError(f"Expected tensor for argument #1 'other' to have scalar type "
                           f"{_dtype.scalar_type_name(csr.dtype)}; but got torch.{_dtype.scalar_type_name(dense.dtype)}"
                           f"Tensor instead (while checking arguments for sparse_mm_reduce)")
    rows, cols = (_make(part) for part in csr._coo_indices())
    products = csr._values_.detach().unsqueeze(1) * dense.index_select(0, cols)
    out = zeros((csr.shape[0], dense.shape[1]), dtype=dense.dtype, device=dense.device)
    reduce = {"max": "amax", "min": "amin"}.get(reduce, reduce)
    out = out.scatter_reduce(0, rows.unsqueeze(1).expand(products.shape), products, reduce, include_self=False)
    return name_node(out, "SparseMmReduceImplBackward0")


def mm(mat1, mat2, reduce=None):
    """sparse @ dense (dense result) or sparse @ sparse (sparse result); mat1's gradient is sparse, on its own
    indices, as torch.sparse.mm gives it. Given ``reduce`` ('sum', 'mean', 'amax', 'amin'), a CSR mat1 with a
    dense mat2 reduces each row's products by it (PyG's spmm with ``reduce='mean'``)."""
    if reduce is not None:   # PyTorch's (sparse, dense, reduce) overload: _sparse_mm_reduce_impl
        if getattr(mat1, "is_sparse_csr", False) and not getattr(mat2, "is_sparse", False):
            return _reduced_product(mat1, mat2, reduce)
        raise NotImplementedError(f"Could not run 'aten::_sparse_mm_reduce_impl' with arguments from the "
                                  f"'{'SparseCPU' if getattr(mat1, 'is_sparse', False) else 'CPU'}' backend.")
    if not mat1.is_sparse:
        return mat1.mm(mat2.to_dense() if mat2.is_sparse else mat2)
    if mat2.is_sparse:
        return _product(mat1, mat2.to_dense()).to_sparse()
    return _product(mat1, mat2)


def dense_product(mat1, mat2):
    """torch.mm / torch.matmul with a sparse COO mat1: a dense result, and a dense gradient for a leaf mat1 (as
    PyTorch's mm gives), collected through a dense stand-in of mat1; sparse @ sparse is sparse."""
    if getattr(mat2, "is_sparse", False):
        return mm(mat1, mat2)
    if mat1.requires_grad and mat1.is_leaf:
        _check_mm(mat1, mat2)
        stand_in = mat1.to_dense().detach().requires_grad_(True)
        stand_in.register_hook(mat1._collect_dense_grad)
        return stand_in.mm(mat2.to_dense() if mat2.is_sparse else mat2)
    return _product(mat1, mat2.to_dense() if mat2.is_sparse else mat2)


def dense_times_sparse(mat1, mat2, fold=False):
    """torch.mm / torch.matmul of a dense mat1 (a matrix; a vector or a batch where ``fold``, for matmul) by a sparse
    mat2: a dense result, computed as PyTorch does, (mat2ᵀ @ mat1ᵀ)ᵀ from mat2's stored entries (so its errors name
    that product's operands); a leaf mat2 gets a dense gradient, as PyTorch's mm gives it."""
    if mat1.dim() != 2:   # a vector, or a batch of matrices folded into rows (matmul)
        if not fold:
            raise RuntimeError(f"addmm: matrices expected, got {mat1.dim()}D tensor")
        rows = mat1.reshape(-1, mat1.shape[-1])
        return dense_times_sparse(rows, mat2, fold).reshape(tuple(mat1.shape[:-1]) + (mat2.shape[-1],))
    coo = (mat2 if mat2.is_sparse else mat2.to_sparse()).t()
    _check_mm(coo, mat1.t())
    if mat2.requires_grad and mat2.is_leaf and mat2.is_sparse:
        stand_in = mat2.to_dense().detach().requires_grad_(True)
        stand_in.register_hook(mat2._collect_dense_grad)
        return mat1.mm(stand_in)
    return _product(coo, mat1.t()).t()


spmm = mm


def smm(input, mat2):
    """sparse @ dense as a sparse COO tensor (torch.smm): every row of input with entries gives a full row."""
    if not getattr(input, "is_sparse", False):
        raise RuntimeError("tensor.sspaddmm(...) can only be called on sparse tensors")
    rows = hspmm(input, mat2)
    entries = rows._indices_._data[0].repeat(mat2.shape[1])
    columns = numpy.tile(numpy.arange(mat2.shape[1], dtype=numpy.int64), rows._nnz())
    order = numpy.argsort(entries, kind="stable")
    from ._coo import _build
    indices = numpy.stack([entries[order], columns])
    return _build(_make(indices), rows._values_.reshape(-1), (input.shape[0], mat2.shape[1]), False)


def hspmm(mat1, mat2):
    """sparse @ dense as a hybrid COO tensor (torch.hspmm): one entry per row of mat1 that has entries, holding
    that row of the product."""
    if not getattr(mat1, "is_sparse", False):
        raise NotImplementedError("Could not run 'aten::hspmm' with arguments from the 'CPU' backend.")
    product = mm(mat1, mat2)
    rows = numpy.unique(mat1.coalesce()._indices_._data[0])
    from ._coo import _build
    return _build(_make(rows.reshape(1, -1)), product.index_select(0, _make(rows)), (mat1.shape[0], mat2.shape[1]),
                  False)


def addmm(mat, mat1, mat2, *, beta=1.0, alpha=1.0):
    """beta * mat + alpha * (sparse mat1 @ dense mat2)."""
    return mat * beta + mm(mat1, mat2) * alpha


def sampled_addmm(input, mat1, mat2, *, beta=1.0, alpha=1.0, out=None):
    """beta * input + alpha * (mat1 @ mat2) at the stored entries of the CSR ``input`` only (a CSR result),
    differentiable in all three."""
    if not getattr(input, "is_sparse_csr", False):
        raise NotImplementedError(f"Could not run 'aten::sparse_sampled_addmm' with arguments from the "
                                  f"'{'SparseCPU' if getattr(input, 'is_sparse', False) else 'CPU'}' backend.")
    rows, cols = (_make(part) for part in input._coo_indices())
    sampled = (mat1.index_select(0, rows) * mat2.t().index_select(0, cols)).sum(-1)
    return input._with_values(input._values_ * beta + sampled * alpha)


def spdiags(diagonals, offsets, shape, layout=None):  # noqa: F811  (torch's keyword shadows the layout class)
    """A sparse matrix of ``shape`` with row k of ``diagonals`` on the diagonal ``offsets[k]`` (0 main, > 0 above,
    < 0 below): element j of it lands in column j, as scipy's spdiags; COO, or ``layout``."""
    diagonals = diagonals.unsqueeze(0) if diagonals.dim() == 1 else diagonals
    offsets = [int(o) for o in offsets.reshape(-1).tolist()]
    if len(offsets) != diagonals.shape[0]:
        raise RuntimeError(f"Number of diagonals ({diagonals.shape[0]}) does not match the number of offsets "
                           f"({len(offsets)})")
    if len(set(offsets)) != len(offsets):
        raise RuntimeError("Offset tensor contains duplicate values")
    rows_count, cols_count = (int(s) for s in shape)
    rows, cols, picks = [], [], []
    for k, offset in enumerate(offsets):
        columns = numpy.arange(min(cols_count, diagonals.shape[1]), dtype=numpy.int64)
        columns = columns[(columns - offset >= 0) & (columns - offset < rows_count)]
        rows.append(columns - offset)
        cols.append(columns)
        picks.append(k * diagonals.shape[1] + columns)
    from ._base import start_dispatch
    from ._coo import _build
    start_dispatch()
    indices = numpy.stack([numpy.concatenate(rows), numpy.concatenate(cols)]).astype(numpy.int64)
    values = diagonals.reshape(-1).index_select(0, _make(numpy.concatenate(picks).astype(numpy.int64)))
    result = _build(_make(indices), values, (rows_count, cols_count), indices.shape[1] <= 1)
    return result if layout is None or layout is sparse_coo else result.to_sparse(layout=layout)


def sum(input, dim=None, dtype=None):
    """Sum of a sparse tensor: over everything (a 0-d dense tensor), or over ``dim`` (sparse while sparse dims
    remain, dense once all of them are summed)."""
    if isinstance(input, SparseCsrTensor):
        if dim is None:
            raise RuntimeError(f"coalesce expected sparse coordinate tensor layout but got {input._layout_name}")
        raise NotImplementedError(f"Could not run 'aten::_indices' with arguments from the '{input._backend}' "
                                  f"backend.")
    if not input.is_sparse:
        return input.sum(dim, dtype=dtype) if dim is not None else input.sum(dtype=dtype)
    values = input._values_ if dtype is None else input._values_.to(dtype)
    if dim is None:
        return values.sum()
    from ._shape import wrap_dim
    dims = [wrap_dim(input, d) for d in ((dim,) if isinstance(dim, int) else dim)]
    repeated = next((d for d in dims if dims.count(d) > 1), None)
    if repeated is not None:
        raise RuntimeError(f"dim {repeated} appears multiple times in the list of dims")
    dims = sorted(dims)
    sparse_dim = input.sparse_dim()
    dense_dims = [d - sparse_dim + 1 for d in dims if d >= sparse_dim]
    if dense_dims:
        values = values.sum(dense_dims)
    kept = [d for d in range(sparse_dim) if d not in dims]
    if not kept:
        return values.sum(0)
    from ._coo import _build
    size = [s for d, s in enumerate(input.shape) if d not in dims]
    return _build(input._indices_[kept], values, size, False).coalesce()


def _softmax(input, dim, log):
    if isinstance(input, SparseCsrTensor):
        raise NotImplementedError(f"Could not run 'aten::_sparse_{'log_' if log else ''}softmax' with arguments "
                                  f"from the '{input._backend}' backend.")
    if not input.is_sparse:
        return input.log_softmax(dim) if log else input.softmax(dim)
    from ._shape import wrap_dim
    dim = wrap_dim(input, dim)
    coalesced = input.coalesce()
    sparse_dim = input.sparse_dim()
    if dim >= sparse_dim:   # along a dense dim: each stored entry's values on their own
        values = coalesced._values_
        out = values.log_softmax(dim - sparse_dim + 1) if log else values.softmax(dim - sparse_dim + 1)
        from ._coo import _build
        return _build(coalesced._indices_, out, input.shape, True)
    indices = coalesced._indices_._data
    others = numpy.delete(indices, dim, axis=0)
    _, group = numpy.unique(others.T, axis=0, return_inverse=True) if others.shape[0] else \
        (None, numpy.zeros(indices.shape[1], numpy.int64))
    group = _make(group.reshape(-1).astype(numpy.int64))
    values = coalesced._values_
    from .. import zeros
    count = int(group._data.max()) + 1 if values.shape[0] else 0
    peak = numpy.full((count,) + tuple(values.shape[1:]), -numpy.inf, values.detach().numpy().dtype)
    numpy.maximum.at(peak, group._data, values.detach().numpy())   # a constant per group keeps exp in range
    shifted = values - _make(peak).index_select(0, group)
    total = zeros((count,) + tuple(values.shape[1:]), dtype=values.dtype).index_add(0, group, shifted.exp())
    out = shifted - total.log().index_select(0, group) if log else shifted.exp() / total.index_select(0, group)
    from ._coo import _build
    return _build(coalesced._indices_, out, input.shape, True)


def softmax(input, dim, *, dtype=None):
    """Softmax along ``dim`` over the stored entries only (unstored entries count as -inf, as torch.sparse)."""
    return _softmax(input if dtype is None else input.to(dtype), dim, log=False)


def log_softmax(input, dim, *, dtype=None):
    """Log-softmax along ``dim`` over the stored entries only."""
    return _softmax(input if dtype is None else input.to(dtype), dim, log=True)


def _install():
    Tensor.layout = property(lambda self: strided, doc="How the tensor's elements are stored (ember.strided).")
    Tensor.to_sparse = to_sparse
    Tensor.to_dense = to_dense
    Tensor.to_sparse_csr = to_sparse_csr
    Tensor.to_sparse_csc = to_sparse_csc
    Tensor.to_sparse_coo = to_sparse
    from ._shape import sparse_mask
    Tensor.sparse_mask = sparse_mask
    Tensor.is_sparse_csr = property(lambda self: False)
    SparseTensor.smm = smm


_install()
