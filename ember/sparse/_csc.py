"""Sparse CSC tensors: ``ccol_indices`` (columns + 1), ``row_indices`` and ``values`` of a 2-D tensor in column-major
order, held as the CSR arrays of its transpose, so the CSR tensor's ops serve both."""
import numpy

from .._tensor import Tensor, _make
from ._csr import SparseCsrTensor, _build_csr, sparse_csr_tensor, to_sparse_csr
from ._layout import sparse_csc, strided

__all__ = ["SparseCscTensor", "sparse_csc_tensor", "to_sparse_csc"]


class SparseCscTensor(SparseCsrTensor):
    """A 2-D sparse tensor in compressed sparse column layout (``layout=sparse_csc``)."""

    _layout_name = "SparseCsc"
    _index_names = ("ccol_indices", "row_indices")

    @property
    def layout(self):
        return sparse_csc

    @property
    def is_sparse_csr(self):   # as PyTorch: True for the CSR layout only
        return False

    def ccol_indices(self):
        """Column pointers: column j's entries are ``values[ccol[j]:ccol[j + 1]]``."""
        return self._crow

    def row_indices(self):
        """The row of each stored value."""
        return self._col

    def crow_indices(self):
        raise RuntimeError(f"crow_indices expected sparse row compressed tensor layout but got {self._layout_name}")

    def col_indices(self):
        raise RuntimeError(f"col_indices expected sparse row compressed tensor layout but got {self._layout_name}")

    def _coo_indices(self):
        columns = numpy.repeat(numpy.arange(self._size[1], dtype=numpy.int64), numpy.diff(self._crow._data))
        return numpy.stack([self._col._data.astype(numpy.int64), columns])

    def to_sparse(self, *args, **kwargs):
        """The COO tensor of the same entries, in column-major order (PyTorch leaves it uncoalesced)."""
        from ._coo import _build
        sparse_dim = args[0] if args else kwargs.get("sparse_dim")
        if sparse_dim is not None and sparse_dim != 2:
            raise RuntimeError("sparse_compressed_to_sparse: conversion from SparseCsc to Sparse with sparse_dim "
                               "argument !=2 is not supported")
        return _build(_make(self._coo_indices()), self._values_, self._size, self._nnz() <= 1)

    def to_sparse_csr(self, dense_dim=None):
        return to_sparse_csr(self.to_dense())

    def to_sparse_csc(self):
        return self

    def _from_coo(self, coo):
        return to_sparse_csc(coo.to_dense())


def sparse_csc_tensor(ccol_indices, col_indices_or_rows, values, size=None, *, dtype=None, device=None,
                      pin_memory=False, requires_grad=False, check_invariants=None):
    """A CSC tensor from column pointers, row indices and values (2-D, no dense dims)."""
    from .. import _dtype, tensor
    rows = col_indices_or_rows if isinstance(col_indices_or_rows, Tensor) else \
        tensor(col_indices_or_rows, dtype=_dtype.int64)
    if size is None:
        pointers = ccol_indices if isinstance(ccol_indices, Tensor) else tensor(ccol_indices, dtype=_dtype.int64)
        size = (int(rows.max()) + 1 if rows.numel() else 0, pointers.shape[0] - 1)
    transposed = sparse_csr_tensor(ccol_indices, rows, values, (int(size[1]), int(size[0])), dtype=dtype,
                                   device=device, requires_grad=requires_grad, check_invariants=check_invariants)
    return _build_csr(transposed._crow, transposed._col, transposed._values_, tuple(int(s) for s in size),
                      SparseCscTensor)


def to_sparse_csc(self, dense_dim=None):
    """The 2-D tensor in the CSC layout."""
    if getattr(self, "layout", None) is sparse_csc:
        return self
    if self.dim() != 2:
        raise RuntimeError(f"to_sparse_csc: ember supports 2-D tensors, got {self.dim()}-D")
    dense = self.to_dense() if self.layout is not strided else self
    transposed = to_sparse_csr(dense.t())
    return _build_csr(transposed._crow, transposed._col, transposed._values_, tuple(self.shape), SparseCscTensor)
