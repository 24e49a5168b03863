"""Sparse CSR tensors: ``crow_indices`` (rows + 1), ``col_indices`` and ``values`` of a 2-D tensor, converted to and
from the strided and COO layouts."""
from typing import ClassVar

import numpy

from .. import _alias, _dtype
from .._tensor import Size, Tensor, _make
from ._base import SparseBase, start_dispatch
from ._coo import implicit_invariant_checks
from ._layout import sparse_csr

__all__ = ["SparseCsrTensor", "sparse_csr_tensor", "to_sparse_csr"]


class SparseCsrTensor(SparseBase):
    """A 2-D sparse tensor in compressed sparse row layout (``layout=sparse_csr``)."""

    _backend = "SparseCsrCPU"
    _layout_name = "SparseCsr"   # what PyTorch's layout checks call it
    _index_names = ("crow_indices", "col_indices")
    _no_pointwise: ClassVar[dict] = {"square": None, "nan_to_num": "nan_to_num.out", "nan_to_num_": "nan_to_num_"}   # COO only

    @property
    def layout(self):
        return sparse_csr

    @property
    def is_sparse(self):   # as PyTorch: is_sparse is True for the COO layout only
        return False

    @property
    def is_sparse_csr(self):
        return True

    @property
    def requires_grad(self):
        return self._values_.requires_grad

    @property
    def grad_fn(self):
        return self._values_.grad_fn

    def crow_indices(self):
        """Row pointers: row i's entries are ``values[crow[i]:crow[i + 1]]``."""
        return self._crow

    def col_indices(self):
        """The column of each stored value."""
        return self._col

    def ccol_indices(self):
        raise RuntimeError(f"ccol_indices expected sparse column compressed tensor layout but got {self._layout_name}")

    row_indices = ccol_indices

    def t(self):
        """The transpose: the same arrays read in the other compressed layout (CSR <-> CSC)."""
        from ._csc import SparseCscTensor
        cls = SparseCsrTensor if isinstance(self, SparseCscTensor) else SparseCscTensor
        return _build_csr(self._crow, self._col, self._values_, self._size[::-1], cls)

    def transpose(self, dim0, dim1):
        if (dim0 % 2) == (dim1 % 2):
            return self
        return self.t()

    def to_sparse_csc(self):
        from ._csc import to_sparse_csc
        return to_sparse_csc(self.to_dense())

    def _from_coo(self, coo):
        """A COO result of an op on this tensor, in this layout."""
        return coo.to_sparse_csr()

    def values(self):
        return self._values_

    def _nnz(self):
        return self._col.shape[0]

    def _with_values(self, values):
        """The same row pointers and columns holding ``values`` instead."""
        return _build_csr(self._crow, self._col, values, self._size, type(self))

    def sparse_dim(self):
        """The two compressed dims (ember's CSR tensors are not batched)."""
        return 2

    def dense_dim(self):
        """No dense dims (ember's CSR tensors are not hybrid)."""
        return 0

    def to(self, *args, **kwargs):
        return self._with_values(self._values_.to(*args, **kwargs))

    def clone(self, *, memory_format=None):
        return _build_csr(self._crow.clone(), self._col.clone(), self._values_.clone(), self._size, type(self))

    def detach(self):
        return self._with_values(self._values_.detach())

    def sum(self, dim=None, keepdim=False, dtype=None):
        """The sum of the stored values (a 0-d dense tensor); sums over dims are not supported on CSR."""
        if dim is not None:
            from ._dispatch import unsupported
            raise unsupported("sum.dim_IntList", self)
        return self._values_.sum(dtype=dtype)

    def _coo_indices(self):
        rows = numpy.repeat(numpy.arange(self._size[0], dtype=numpy.int64), numpy.diff(self._crow._data))
        return numpy.stack([rows, self._col._data.astype(numpy.int64)])

    def to_sparse(self, *args, **kwargs):
        from ._coo import _build
        sparse_dim = args[0] if args else kwargs.get("sparse_dim")
        if sparse_dim is not None and sparse_dim != 2:
            raise RuntimeError("sparse_compressed_to_sparse: conversion from SparseCsr to Sparse with sparse_dim "
                               "argument !=2 is not supported")
        return _build(_make(self._coo_indices()), self._values_, self._size, True)

    def to_sparse_coo(self):
        return self.to_sparse()

    def to_dense(self, dtype=None, *, masked_grad=True):
        if dtype is not None:
            raise RuntimeError("dtype argument is not supported by sparse_csr_to_dense")
        return self.to_sparse().to_dense()

    def to_sparse_csr(self, dense_dim=None):
        return self

    def mm(self, mat2):
        """``self @ mat2``: a dense result for a dense mat2; a CSR result for a CSR mat2 (PyG's GraphUNet squares
        its adjacency so)."""
        if getattr(mat2, "is_sparse_csr", False):
            return self.to_sparse().mm(mat2.to_sparse()).to_sparse_csr()
        return self.to_sparse().mm(mat2)

    def matmul(self, other):
        """mm, or a matrix-vector product for a vector ``other``."""
        if isinstance(other, Tensor) and other.dim() == 1:
            return self.to_sparse().mv(other)
        return self.mm(other)

    __matmul__ = matmul

    def mv(self, vec):
        return self.to_sparse().mv(vec)

    # --- arithmetic: on the values where the pattern stays, else through the COO layout --------------------------
    def mul(self, other):
        """CSR * scalar (or 0-d tensor) scales the values; CSR * dense or CSR keeps this pattern's entries."""
        if not isinstance(other, Tensor) or (other.dim() == 0 and not isinstance(other, SparseBase)):
            return self._with_values(self._values_ * other)
        other = other.to_sparse() if isinstance(other, SparseCsrTensor) else other
        return self._from_coo(self.to_sparse().mul(other))

    __mul__ = __rmul__ = mul

    def add(self, other, *, alpha=1):
        """CSR + CSR is CSR; CSR + dense is dense."""
        if isinstance(other, SparseCsrTensor) and other.layout is self.layout:
            return self._from_coo(self.to_sparse().add(other.to_sparse(), alpha=alpha))
        if isinstance(other, Tensor) and not isinstance(other, SparseBase):
            return self.to_dense().add(other, alpha=alpha)
        from ._dispatch import unsupported
        raise unsupported("add", self)

    __add__ = __radd__ = add

    def mul_(self, other):
        """In place: this tensor takes the product's entries."""
        result = self.mul(other)
        self._crow, self._col, self._values_ = result._crow, result._col, result._values_.to(self.dtype)
        self._version_counter[0] += 1
        return self

    def _dense_mm(self, dense, fold=False):
        """``dense @ self`` (a dense result), for mm and (``fold``: vectors and batches too) matmul with a sparse
        second operand."""
        from . import dense_times_sparse
        return dense_times_sparse(dense, self, fold)

    def __repr__(self):
        from .._tensor_str import PRINT_OPTS, tensor_str
        indent = len("tensor(")
        parts = []
        for name, part in ((self._index_names[0], self._crow), (self._index_names[1], self._col),
                           ("values", self._values_.detach())):
            prefix = f"{name}=tensor("
            text = tensor_str(part, indent + len(prefix)) if part.numel() else "[]"
            if part.numel() == 0:
                text += f", size={tuple(part.shape)}"
            parts.append(prefix + text + ")")
        text = "tensor(" + (",\n" + " " * indent).join(parts)
        suffixes = [f"size={tuple(self._size)}", f"nnz={self._nnz()}"]
        if self.dtype not in (_dtype.get_default_dtype(), _dtype.default_complex(), _dtype.int64, _dtype.bool_):
            suffixes.append(f"dtype={self.dtype!r}")
        suffixes.append(f"layout={self.layout!r}")
        if self.grad_fn is not None:
            suffixes.append(f"grad_fn=<{type(self.grad_fn).__name__}>")
        elif self.requires_grad:
            suffixes.append("requires_grad=True")
        line = len(text) - text.rfind("\n") + 1
        out = [text]
        for suffix in suffixes:
            if line + len(suffix) + 2 > PRINT_OPTS.linewidth:
                out.append(",\n" + " " * indent + suffix)
                line = indent + len(suffix)
            else:
                out.append(", " + suffix)
                line += len(suffix) + 2
        return "".join(out) + ")"

    def _torch_reduce(self):   # what torch.save writes for a sparse tensor
        return ("torch._utils", "_rebuild_sparse_tensor"), (self.layout, (self._crow, self._col, self._values_,
                                                                          Size(self._size)))

    def __reduce_ex__(self, protocol):
        if _alias.installed:   # under torch's names (torch._utils._rebuild_sparse_tensor), as PyTorch pickles it
            return _alias.torch_reduce(self)
        from ._layout import rebuild_sparse_tensor
        return rebuild_sparse_tensor, (self.layout, (self._crow, self._col, self._values_, Size(self._size)))


def sparse_csr_tensor(crow_indices, col_indices, values, size=None, *, dtype=None, device=None, pin_memory=False,
                      requires_grad=False, check_invariants=None):
    """A CSR tensor from row pointers, column indices and values (2-D, no dense dims)."""
    from .. import tensor
    start_dispatch()
    crow, col = (t if isinstance(t, Tensor) else tensor(t, dtype=_dtype.int64) for t in (crow_indices, col_indices))
    values = values if isinstance(values, Tensor) else tensor(values, dtype=dtype, device=device)
    if dtype is not None and values.dtype is not dtype:
        values = values.to(dtype)
    if crow.dim() != 1 or col.dim() != 1 or values.dim() != 1:
        raise RuntimeError("crow_indices, col_indices and values must be 1-D (batched and hybrid CSR tensors are not "
                           "supported in ember)")
    pointers, columns = crow._data.astype(numpy.int64), col._data.astype(numpy.int64)
    if size is None:
        size = (len(pointers) - 1, int(columns.max()) + 1 if len(columns) else 0)
    size = tuple(int(s) for s in size)
    if len(size) != 2:
        raise RuntimeError(f"sparse CSR tensors must be 2-D in ember, got size {size}")
    if len(pointers) != size[0] + 1:
        raise RuntimeError(f"crow_indices.size(-1) must be equal to self.size(-2) + 1 (={size[0] + 1}), but got "
                           f"{len(pointers)}")
    if pointers[0] != 0 or (numpy.diff(pointers) < 0).any() or pointers[-1] != len(columns) \
            or len(columns) != values.shape[0]:
        raise RuntimeError("`crow_indices[..., 0] == 0`, `crow_indices` nondecreasing and `crow_indices[..., -1] == "
                           "nnz` must hold, with one column index and value per stored element")
    if len(columns) and (columns.min() < 0 or columns.max() >= size[1]):
        raise RuntimeError(f"`0 <= col_indices < ncols` is not satisfied (ncols = {size[1]})")
    if requires_grad:
        values = values.detach().requires_grad_(True)
    if check_invariants is None:
        implicit_invariant_checks()   # (the checks above always run)
    from ..ops._util import warn_once
    warn_once("sparse_csr", "Sparse CSR tensor support is in beta state. If you miss a functionality in the sparse "
              "tensor support, please submit a feature request to https://github.com/pytorch/pytorch/issues.")
    return _build_csr(_make(pointers), _make(columns), values, size)


def _build_csr(crow, col, values, size, cls=None):
    t = object.__new__(cls or SparseCsrTensor)
    t._version_counter = [0]
    t._crow, t._col, t._values_, t._size = crow, col, values, tuple(size)
    return t


def to_sparse_csr(self, dense_dim=None):
    """The 2-D tensor in the CSR layout."""
    if self.dim() != 2:
        raise RuntimeError(f"to_sparse_csr: ember supports 2-D tensors, got {self.dim()}-D")
    coo = self if getattr(self, "is_sparse", False) else self.to_sparse()
    coo = coo.coalesce()
    rows, cols = coo._indices_._data
    crow = numpy.zeros(self.shape[0] + 1, numpy.int64)
    numpy.add.at(crow, rows + 1, 1)
    return sparse_csr_tensor(_make(numpy.cumsum(crow)), _make(cols.copy()), coo._values_, tuple(self.shape))
