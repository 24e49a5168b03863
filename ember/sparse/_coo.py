"""Sparse COO tensors: ``indices`` (sparse_dim, nnz) and ``values`` (nnz, *dense dims) of a tensor of ``size``.

A ``SparseTensor`` is a Tensor whose data lives in two ember tensors; its ops are written with dense ember ops on
``values`` (index_add, index_select, ...), so autograd reaches the values (and the dense operands) unchanged. Ops
that do not support the sparse layout raise NotImplementedError naming the SparseCPU backend, as PyTorch does.
"""
import numpy

from .. import _alias, _dtype
from .._tensor import Size, Tensor, _make
from ._base import SparseBase, start_dispatch
from ._layout import sparse_coo

__all__ = ["SparseTensor", "sparse_coo_tensor", "check_sparse_tensor_invariants"]


class check_sparse_tensor_invariants:
    """Whether sparse constructors validate their indices when ``check_invariants`` is not given (off by default,
    as in PyTorch); usable as a context manager or through the static ``enable``/``disable``/``is_enabled``."""

    _enabled = None   # None: never set, so the checks are implicitly off (PyTorch then warns once, see below)

    def __init__(self, enable=True):
        self.state, self.saved = enable, None

    @staticmethod
    def is_enabled():
        return bool(check_sparse_tensor_invariants._enabled)

    @staticmethod
    def enable():
        check_sparse_tensor_invariants._enabled = True

    @staticmethod
    def disable():
        check_sparse_tensor_invariants._enabled = False

    def __enter__(self):
        self.saved = check_sparse_tensor_invariants._enabled
        check_sparse_tensor_invariants._enabled = self.state

    def __exit__(self, *exc):
        check_sparse_tensor_invariants._enabled = self.saved


def implicit_invariant_checks():
    """Whether a constructor given no ``check_invariants`` checks (the global switch); PyTorch warns once per
    process when that switch was never set either way."""
    if check_sparse_tensor_invariants._enabled is None:
        from ..ops._util import warn_once
        warn_once("sparse_invariants", "Sparse invariant checks are implicitly disabled. Memory errors (e.g. "
                  "SEGFAULT) will occur when operating on a sparse tensor which violates the invariants, but "
                  "checks incur performance overhead. To silence this warning, explicitly opt in or out. See "
                  "`torch.sparse.check_sparse_tensor_invariants.__doc__` for guidance. ")
    return check_sparse_tensor_invariants.is_enabled()


class SparseTensor(SparseBase):
    """A sparse COO tensor (``layout=sparse_coo``)."""

    # --- what the tensor is (shape, dtype, device: SparseBase) ------------------------------------------------------
    def numel(self):
        return int(numpy.prod(self._size, dtype=numpy.int64))

    @property
    def layout(self):
        return sparse_coo

    @property
    def is_sparse(self):
        return True

    def sparse_dim(self):
        """How many leading dims are sparse (rows of ``indices``)."""
        return self._indices_.shape[0]

    def dense_dim(self):
        """How many trailing dims each value holds densely."""
        return self._values_.dim() - 1

    def is_coalesced(self):
        """True when indices are sorted and unique."""
        return self._coalesced

    def _coalesced_(self, coalesced):
        """Marks the tensor coalesced or not, in place, without checking its indices (PyTorch Geometric marks the
        COO tensors it builds from sorted edge indices); returns self."""
        if not isinstance(coalesced, bool):
            raise TypeError(f"_coalesced_(): argument 'coalesced' (position 1) must be bool, not "
                            f"{type(coalesced).__name__}")
        self._coalesced = coalesced
        return self

    def _nnz(self):
        return self._indices_.shape[1]

    def _with_values(self, values):
        """The same indices holding ``values`` instead."""
        return _build(self._indices_, values, self._size, self._coalesced)

    def _indices(self):
        return self._indices_

    def _values(self):
        return self._values_

    def indices(self):
        """The (sparse_dim, nnz) index matrix of a coalesced tensor."""
        self._require_coalesced("indices")
        return self._indices_

    def values(self):
        """The (nnz, *dense dims) values of a coalesced tensor."""
        self._require_coalesced("values")
        return self._values_

    def _require_coalesced(self, what):
        if not self._coalesced:
            raise RuntimeError(f"Cannot get {what} on an uncoalesced tensor, please call .coalesce() first")

    # --- autograd: through the values ----------------------------------------------------------------------------
    @property
    def requires_grad(self):
        return self._values_.requires_grad

    @requires_grad.setter
    def requires_grad(self, value):
        self._values_.requires_grad = value

    def requires_grad_(self, requires_grad=True):
        self._values_.requires_grad_(requires_grad)
        return self

    @property
    def grad_fn(self):
        return self._values_.grad_fn

    @property
    def is_leaf(self):
        """False when built from values that another computation's gradient flows to."""
        return self._values_.grad_fn is None and not self.__dict__.get("_borrowed", False)

    @property
    def grad(self):
        """The gradient of a leaf sparse tensor: sparse on its own indices (from sparse ops), dense where torch.mm
        gave it."""
        if not self.is_leaf:
            return None
        g = self._values_.grad
        sparse = None if g is None else _build(self._indices_, g, self._size, self._coalesced)
        dense = self.__dict__.get("_dense_grad")
        if dense is None:
            return sparse
        return dense if sparse is None else dense + sparse.to_dense()

    @grad.setter
    def grad(self, value):
        self._dense_grad = None
        if value is None:
            self._values_.grad = None
        elif value.is_sparse:
            self._values_.grad = value._values_
        else:
            self._dense_grad = value

    def _collect_dense_grad(self, grad):
        previous = self.__dict__.get("_dense_grad")
        self._dense_grad = grad.detach() if previous is None else previous + grad.detach()

    def detach(self):
        return _build(self._indices_, self._values_.detach(), self._size, self._coalesced)

    def clone(self, *, memory_format=None):
        return _build(self._indices_.clone(), self._values_.clone(), self._size, self._coalesced)

    def to(self, *args, **kwargs):
        return _build(self._indices_, self._values_.to(*args, **kwargs), self._size, self._coalesced)

    def float(self):
        return self.to(_dtype.float32)

    def double(self):
        return self.to(_dtype.float64)

    # --- conversions -------------------------------------------------------------------------------------------------
    def to_dense(self, dtype=None, *, masked_grad=True):
        """The same tensor in the strided layout (duplicate entries summed)."""
        from .. import zeros
        if dtype is not None:
            raise RuntimeError("dtype argument is not supported by sparse_to_dense")
        values = self._values_
        flat = _linear(self._indices_._data, self._size[:self.sparse_dim()])
        dense = zeros((self._sparse_numel(),) + tuple(values.shape[1:]), dtype=values.dtype, device=values.device)
        return dense.index_add(0, _make(flat), values).reshape(self._size)

    def _sparse_numel(self):
        return int(numpy.prod(self._size[:self.sparse_dim()], dtype=numpy.int64))

    def to_sparse(self, *args, layout=None, **kwargs):
        sparse_dim = args[0] if args else kwargs.get("sparse_dim")
        if sparse_dim is not None and sparse_dim != self.sparse_dim():
            raise RuntimeError("to_sparse: conversion from Sparse to Sparse with sparse_dim argument !=self.sparse_dim()"
                               " is not supported")
        if layout is None or layout is sparse_coo:
            return self
        from ._csr import to_sparse_csr
        return to_sparse_csr(self.to_dense())

    def to_sparse_csr(self, dense_dim=None):
        from ._csr import to_sparse_csr
        return to_sparse_csr(self.to_dense())

    def to_sparse_coo(self):
        return self

    def to_sparse_csc(self):
        from ._csc import to_sparse_csc
        return to_sparse_csc(self.to_dense())

    def coalesce(self):
        """Sorted, unique indices; values at repeated indices summed."""
        if self._coalesced:
            return self
        from .. import zeros
        flat = _linear(self._indices_._data, self._size[:self.sparse_dim()])
        unique, inverse = numpy.unique(flat, return_inverse=True)
        values = self._values_
        summed = zeros((len(unique),) + tuple(values.shape[1:]), dtype=values.dtype, device=values.device)
        summed = summed.index_add(0, _make(inverse.reshape(-1).astype(numpy.int64)), values)
        indices = numpy.array(numpy.unravel_index(unique, self._size[:self.sparse_dim()]), dtype=numpy.int64)
        return _build(_make(indices.reshape(self.sparse_dim(), len(unique))), summed, self._size, True)

    # --- arithmetic ------------------------------------------------------------------------------------------------
    def mul(self, other):
        """sparse * scalar, sparse * sparse, and sparse * dense (broadcast to this shape): sparse, on these indices
        (the dense operand read at them)."""
        if isinstance(other, Tensor) and other.is_sparse:
            return _build_from_dense(self.to_dense() * other.to_dense())
        if isinstance(other, Tensor) and other.dim() > 0:
            dense = other.expand(self._size)
            rows = tuple(self._indices_[d] for d in range(self.sparse_dim()))
            return _build(self._indices_, self._values_ * dense[rows], self._size, self._coalesced)
        return _build(self._indices_, self._values_ * other, self._size, self._coalesced)

    __mul__ = __rmul__ = mul

    def div(self, other, *, rounding_mode=None):
        """Division by a scalar (or 0-d tensor); a rounding mode makes it nonlinear, so the entries coalesce first."""
        if isinstance(other, Tensor) and other.dim() > 0:
            raise RuntimeError(f"Sparse division requires a scalar or zero-dim dense tensor divisor (got shape "
                               f"{list(other.shape)} for divisor)")
        if rounding_mode is None:
            return _build(self._indices_, self._values_ / other, self._size, self._coalesced)
        source = self.coalesce()
        return _build(source._indices_, source._values_.div(other, rounding_mode=rounding_mode), self._size, True)

    __truediv__ = div

    def floor_divide(self, other):
        return self.div(other, rounding_mode="floor")

    __floordiv__ = floor_divide

    # --- in place: the result of the out-of-place op becomes this tensor's entries --------------------------------
    def _become(self, result):
        if self._values_.requires_grad and self.is_leaf:
            raise RuntimeError("a leaf Variable that requires grad is being used in an in-place operation.")
        self._indices_, self._values_ = result._indices_, result._values_.to(self.dtype)
        self._size, self._coalesced = result._size, result._coalesced
        self._version_counter[0] += 1
        return self

    def mul_(self, other):
        result = self.mul(other)
        if not (isinstance(other, Tensor) and other.is_sparse):
            result._coalesced = False   # as PyTorch's in-place product by a scalar or dense tensor marks it
        return self._become(result)

    def div_(self, other, *, rounding_mode=None):
        return self._become(self.div(other, rounding_mode=rounding_mode))

    def floor_divide_(self, other):
        return self._become(self.floor_divide(other))

    def add_(self, other, *, alpha=1):
        return self._become(self.add(other, alpha=alpha))

    def sub_(self, other, *, alpha=1):
        return self._become(self.sub(other, alpha=alpha))

    def zero_(self):
        """No entries left (the size and dtype kept)."""
        empty = self._values_.detach().new_zeros((0,) + tuple(self._values_.shape[1:]))
        return self._become(_build(_make(numpy.zeros((self.sparse_dim(), 0), numpy.int64)), empty, self._size, True))

    def copy_(self, src, non_blocking=False):
        """The entries (and size) of the sparse ``src``, in this tensor's dtype."""
        if not getattr(src, "is_sparse", False):
            raise RuntimeError("copy_(sparse, dense) is not supported: the source of a sparse copy_ must be sparse")
        return self._become(_build(src._indices_.clone(), src._values_.detach().clone(), src._size, src._coalesced))

    def neg(self):
        return _build(self._indices_, -self._values_, self._size, self._coalesced)

    __neg__ = neg

    def add(self, other, *, alpha=1):
        """sparse + sparse is sparse (entries concatenated, then coalesced); dense + sparse is dense."""
        if not isinstance(other, Tensor) or not other.is_sparse:
            raise RuntimeError("add(sparse, dense) is not supported. Use add(dense, sparse) instead.")
        if tuple(other.shape) != self._size:
            raise RuntimeError(f"add: expected sizes of 'self' and 'other' to match, but {list(self._size)} != "
                               f"{list(other.shape)}")
        from .. import cat
        indices = cat([self._indices_, other._indices_], 1)
        values = cat([self._values_, other._values_ * alpha if alpha != 1 else other._values_], 0)
        return _build(indices, values, self._size, False).coalesce()

    __add__ = add

    def __radd__(self, other):
        if isinstance(other, Tensor) and not other.is_sparse:
            return other + self.to_dense()
        return self.add(other)

    def sub(self, other, *, alpha=1):
        return self.add(other, alpha=-alpha)

    __sub__ = sub

    def mm(self, mat2):
        from . import dense_product
        return dense_product(self, mat2)

    def mv(self, vec):
        """sparse matrix @ dense vector: a dense vector."""
        if self.dim() != 2 or vec.dim() != 1:
            raise RuntimeError(f"vector + matrix @ vector expected, got 1, {self.dim()}, {vec.dim()}")
        if self._size[1] != vec.shape[0]:
            raise RuntimeError("mv: expected self.size(-1) == vec.size(-1)")
        return self.mm(vec.unsqueeze(1)).squeeze(1)

    def matmul(self, other):
        """mm, or mv for a vector ``other``."""
        return self.mv(other) if isinstance(other, Tensor) and other.dim() == 1 else self.mm(other)

    __matmul__ = matmul

    def _dense_mm(self, dense, fold=False):
        """``dense @ self`` (a dense result), for mm and (``fold``: vectors and batches too) matmul with a sparse
        second operand."""
        from . import dense_times_sparse
        return dense_times_sparse(dense, self, fold)

    def __repr__(self):
        return _repr(self)

    def _torch_reduce(self):   # what torch.save writes for a sparse tensor
        return ("torch._utils", "_rebuild_sparse_tensor"), (sparse_coo, (self._indices_, self._values_, Size(self._size), self._coalesced))

    def __reduce_ex__(self, protocol):   # what torch pickles: torch._utils._rebuild_sparse_tensor
        if _alias.installed:   # under torch's names, so a real-PyTorch process loads it
            return _alias.torch_reduce(self)
        from ._layout import rebuild_sparse_tensor
        return rebuild_sparse_tensor, (sparse_coo, (self._indices_, self._values_, Size(self._size), self._coalesced))


def _install_shape_ops():
    from ._shape import METHODS, PROPERTIES
    for name, op in METHODS.items():
        setattr(SparseTensor, name, op)
    for name, op in PROPERTIES.items():
        setattr(SparseTensor, name, property(op, doc=f"``{name}`` of a sparse tensor (its indices permuted)."))


_install_shape_ops()


def _linear(indices, shape):
    """Row-major positions of index columns in ``shape``."""
    if not shape:
        return numpy.zeros(indices.shape[1], numpy.int64)
    return numpy.ravel_multi_index(tuple(indices), shape).astype(numpy.int64) if indices.shape[1] else \
        numpy.zeros(0, numpy.int64)


def _build(indices, values, size, coalesced):
    t = object.__new__(SparseTensor)
    t._version_counter = [0]
    t._indices_, t._values_, t._size, t._coalesced = indices, values, tuple(int(s) for s in size), bool(coalesced)
    return t


def _build_from_dense(dense, sparse_dim=None):
    start_dispatch()
    data = dense.detach()._data
    sparse_dim = dense.dim() if sparse_dim is None else sparse_dim
    if not 0 <= sparse_dim <= dense.dim():
        raise RuntimeError(f"dense_to_sparse: sparse_dim argument must be in [0,{dense.dim()}] range, but {sparse_dim} "
                           f"is given")
    if sparse_dim == 0 and dense.dim():
        raise RuntimeError("dense_to_sparse: sparse_dim argument must be in >0 when self.dim()>0")
    if sparse_dim == 0:   # a 0-d tensor: one entry holding it
        return _build(_make(numpy.zeros((0, 1), numpy.int64)), dense.unsqueeze(0), dense.shape, True)
    nonzero = data.reshape(data.shape[:sparse_dim] + (-1,)) != 0 if sparse_dim < dense.dim() else data != 0
    if sparse_dim < dense.dim():
        nonzero = nonzero.any(-1)
    positions = numpy.nonzero(nonzero)
    indices = numpy.array(positions, dtype=numpy.int64).reshape(sparse_dim, -1)
    values = dense[tuple(_make(p.astype(numpy.int64)) for p in positions)]
    return _build(_make(indices), values, dense.shape, True)


def to_sparse(self, *args, layout=None, blocksize=None, dense_dim=None):
    """The tensor in the sparse COO layout (or ``layout``); ``to_sparse(sparse_dim)`` keeps trailing dims dense."""
    if layout is not None and layout is not sparse_coo:
        from ._csc import to_sparse_csc
        from ._csr import to_sparse_csr
        return (to_sparse_csc if layout.name == "sparse_csc" else to_sparse_csr)(self)
    sparse_dim = args[0] if args else None
    return _build_from_dense(self, sparse_dim)


def to_dense(self, dtype=None, *, masked_grad=True):
    """A strided tensor is already dense: returns itself (cast to ``dtype`` if given)."""
    return self if dtype is None else self.to(dtype)


def sparse_coo_tensor(indices, values, size=None, *, dtype=None, device=None, pin_memory=False, requires_grad=False,
                      check_invariants=None, is_coalesced=None):
    """A sparse COO tensor with ``values`` at the columns of ``indices`` (sparse_dim, nnz); ``size`` is inferred
    from the largest index when omitted."""
    from .. import tensor
    start_dispatch()
    indices = indices if isinstance(indices, Tensor) else tensor(indices, dtype=_dtype.int64, device=device)
    values = values if isinstance(values, Tensor) else tensor(values, dtype=dtype, device=device)
    if dtype is not None and values.dtype is not dtype:
        values = values.to(dtype)
    if indices.dtype is not _dtype.int64:   # PyTorch's factory casts any index tensor to int64 (floats truncated)
        indices = indices.long()
    if indices.dim() != 2:
        raise RuntimeError(f"indices must be sparse_dim x nnz, but got: {list(indices.shape)}")
    if values.dim() == 0:   # a 0-d value counts as one, as PyTorch's check reads it
        if indices.shape[1] != 1:
            raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {indices.shape[1]}, "
                               f"nnz from values: 1")
        raise RuntimeError("values must be at least 1-D")
    if indices.shape[1] != values.shape[0]:
        raise RuntimeError(f"indices and values must have same nnz, but got nnz from indices: {indices.shape[1]}, "
                           f"nnz from values: {values.shape[0]}")
    sparse_dim = indices.shape[0]
    raw = indices.detach()._data
    if size is None:
        size = tuple(int(m) + 1 for m in raw.max(1)) if raw.shape[1] else (0,) * sparse_dim
        size = size + tuple(values.shape[1:])
    size = tuple(int(s) for s in size)
    if len(size) != sparse_dim + values.dim() - 1:
        raise RuntimeError(f"'len(size) == sparse_dim + dense_dim' is not satisfied: len(size) = {len(size)}, "
                           f"sparse_dim = {sparse_dim}, dense_dim = {values.dim() - 1}")
    if tuple(values.shape[1:]) != size[sparse_dim:]:
        raise RuntimeError(f"values has incorrect size, expected {[values.shape[0], *size[sparse_dim:]]}, got "
                           f"{list(values.shape)}")
    if check_invariants is None:
        check_invariants = implicit_invariant_checks()
    if check_invariants and raw.shape[1]:
        for d in range(sparse_dim):
            low, high = int(raw[d].min()), int(raw[d].max())
            if low < 0:
                raise RuntimeError(f"found negative index {low} for dim {d}")
            if high >= size[d]:
                raise RuntimeError(f"size is inconsistent with indices: for dim {d}, size is {size[d]} but found "
                                   f"index {high}")
    borrowed = values.requires_grad   # gradients flow on to the values' own graph: the result is no leaf
    if not borrowed:
        values = values.detach().requires_grad_(requires_grad)   # a requires_grad_ later must not touch the caller's
    coalesced = bool(is_coalesced) if is_coalesced is not None else raw.shape[1] <= 1
    result = _build(indices, values, size, coalesced)
    if borrowed:
        result._borrowed = True
    return result


def sparse_zeros(size, layout, dtype=None, device=None, requires_grad=False, sparse_dim=None):
    """A sparse tensor of ``size`` with no entries, in the COO or CSR ``layout`` (torch.zeros(..., layout=...),
    torch.zeros_like of a sparse tensor, which keeps its ``sparse_dim``; all dims sparse by default)."""
    from .. import zeros
    from ._layout import sparse_csr
    size = tuple(int(s) for s in size)
    sparse_dim = len(size) if sparse_dim is None else sparse_dim
    values = zeros((0,) + size[sparse_dim:], dtype=dtype, device=device)
    if layout is sparse_csr:
        from ._csr import sparse_csr_tensor
        if len(size) != 2:
            raise RuntimeError(f"sparse CSR tensors must be 2-D in ember, got size {size}")
        return sparse_csr_tensor(zeros(size[0] + 1, dtype=_dtype.int64), zeros(0, dtype=_dtype.int64), values, size,
                                 requires_grad=requires_grad)
    start_dispatch()
    return _build(_make(numpy.zeros((sparse_dim, 0), numpy.int64)), values.requires_grad_(requires_grad), size, True)


def _repr(t):
    from .._tensor_str import PRINT_OPTS, tensor_str
    indent = len("tensor(")
    suffixes = [f"size={tuple(t._size)}", f"nnz={t._nnz()}"]
    default = _dtype.get_default_dtype()
    if t.dtype not in (default, _dtype.default_complex(), _dtype.int64, _dtype.bool_):
        suffixes.append(f"dtype={t.dtype!r}")
    parts = []
    for name, part in (("indices", t._indices_.detach()), ("values", t._values_.detach())):
        prefix = f"{name}=tensor("
        text = tensor_str(part, indent + len(prefix)) if part.numel() else "[]"
        if part.numel() == 0:
            text += f", size={tuple(part.shape)}"
        parts.append(prefix + text + ")")
    body = "tensor(" + (",\n" + " " * indent).join(parts)
    suffixes.append(f"layout={sparse_coo!r}")
    if t.grad_fn is not None:
        suffixes.append(f"grad_fn=<{type(t.grad_fn).__name__}>")
    elif t.requires_grad:
        suffixes.append("requires_grad=True")
    out = [body, ",\n" + " " * indent + suffixes[0]]   # sparse tensors start their suffixes on a new line
    line = indent + len(suffixes[0])
    for suffix in suffixes[1:]:
        if line + len(suffix) + 2 > PRINT_OPTS.linewidth:
            out.append(",\n" + " " * indent + suffix)
            line = indent + len(suffix)
        else:
            out.append(", " + suffix)
            line += len(suffix) + 2
    return "".join(out) + ")"
