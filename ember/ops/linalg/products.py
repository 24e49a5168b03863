"""Matrix products: matmul and its friends (mm, bmm, addmm, ...), einsum, tensordot and multi_dot."""
import collections
import math
import string

import numpy

from ... import _dtype
from ..._tensor import Tensor, _make
from ...autograd.function import Primitive, composite, dispatch_hooks, shown_node
from .. import _blas, _buffers, _parallel
from .._inplace import inplace_method
from .._unary import is_reduced
from .._kernel_dtypes import exact_out_dtype
from .._summation import sum_array
from .._util import name_node, quiet, shown_edge, tensor_method, warn_once, wrap_dim, write_out
from ._common import (
    _CPP_NAMES,
    _batch_shape,
    _check_bmm,
    _check_dot,
    _check_mm_dtypes,
    _check_mm_shapes,
    _check_mv,
    _check_not_bool,
    _check_scalar_type,
    _conj,
    _mH,
    _name,
    _xp,
)

__all__ = ["Matmul", "matmul", "mm", "dsmm", "bmm", "mv", "dot", "vdot", "inner", "outer", "ger", "Tensor", "addmm",
           "addmv", "addbmm", "baddbmm", "addr", "Einsum", "einsum", "tensordot", "multi_dot", "chain_matmul"]


def folded_matmul(xp, a, b):
    """``xp.matmul(a, b)``, with a stack of matrices times one matrix done as one product of the stacked rows
    (NumPy otherwise multiplies matrix by matrix, and with a transposed ``b`` off BLAS: up to 30x slower)."""
    if a.ndim > 2 and b.ndim == 2:
        rows = math.prod(a.shape[:-1])
        return matrix_product(xp, a.reshape(rows, a.shape[-1]), b).reshape(a.shape[:-1] + b.shape[-1:])
    return matrix_product(xp, a, b) if a.ndim == 2 and b.ndim == 2 else xp.matmul(a, b)


def matrix_product(xp, a, b):
    """``xp.matmul(a, b)`` of two matrices; a large real floating product of NumPy arrays of one dtype is written
    into a pooled array (``_buffers``: a fresh one faults its pages in each step), in parts on the intra-op threads
    where it is long (``_blas.matmul``)."""
    if xp is numpy and a.dtype == b.dtype and a.dtype.kind == "f" and \
            a.shape[0] * b.shape[1] * a.dtype.itemsize >= _buffers.MIN_BYTES:
        return _blas.matmul(a, b, _buffers.empty(xp, (a.shape[0], b.shape[1]), a.dtype))
    return xp.matmul(a, b)


_FOLDED, _EXPANDED = 1, 2


def _torch_nodes(node, edges):
    """Matmul's node as PyTorch records the product, for ``next_functions``: the mm of an input of more dims viewed
    as a matrix (``_layout`` _FOLDED), the bmm of both stacks expanded to the batch and viewed (_EXPANDED), else
    the two operands."""
    layout = node.__dict__.get("_layout")
    if layout == _FOLDED:
        return (_shown("MmBackward0", _shown("ViewBackward0", edges[0]), edges[1]),)
    if layout == _EXPANDED:
        return (_shown("BmmBackward0", _shown("ViewBackward0", _shown("ExpandBackward0", edges[0])),
                       _shown("ViewBackward0", _shown("ExpandBackward0", edges[1]))),)
    return edges


def _shown(name, *edges):
    node = shown_node(name, edges)
    return None if node is None else (node, 0)


class Matmul(Primitive):
    graph_inputs = staticmethod(_torch_nodes)
    saved_names = ("self", "mat2")   # PyTorch's mm and bmm names of what forward saves (_saved_* attributes)

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        # each operand only where the other's gradient is wanted, as PyTorch saves them: changing the other in place
        # before backward is then no error
        needs = ctx.needs_input_grad
        ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)
        ctx.ranks = (a.ndim, b.ndim)
        if a.dtype.kind == "f" and a.ndim > 1 and b.ndim > 1:   # matrix products: one BLAS thread when busy
            result = _blas.product(a.shape[-1], folded_matmul, ctx.xp, a, b)
        else:
            result = folded_matmul(ctx.xp, a, b)
        if result.dtype != a.dtype:   # ml_dtypes' float8 products come out in float32: rounded once, as PyTorch's
            result = result.astype(a.dtype)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        a_rank, b_rank = ctx.ranks
        if a_rank == 1 and b_rank == 1:   # dot
            return (grad * _conj(b) if ctx.needs_input_grad[0] else None,
                    grad * _conj(a) if ctx.needs_input_grad[1] else None)
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = Matmul.apply(grad, _mH(b))
        if ctx.needs_input_grad[1]:
            if b_rank == 2 and a.ndim > 2:
                # Fold the batch into the rows: one (k x rows) @ (rows x n) product instead of a batch to sum.
                rows = math.prod(a.shape[:-1])   # explicit: reshape cannot infer -1 when a's last dim is 0
                grad_b = Matmul.apply(_mH(a.reshape(rows, a.shape[-1])), grad.reshape(rows, grad.shape[-1]))
            else:
                grad_b = Matmul.apply(_mH(a), grad)
        return grad_a, grad_b


@tensor_method("__matmul__")
@composite("matmul", trace_inside=True)
def matmul(input, other, *, out=None):
    """Matrix product with PyTorch's rules for 1-D operands (vectors) and broadcast batch dims."""
    if type(input) is not Tensor and (input.is_sparse or getattr(input, "is_sparse_csr", False)):   # sparse
        return input.mm(other)
    if type(other) is not Tensor and (other.is_sparse or getattr(other, "is_sparse_csr", False)):   # dense @ sparse
        return other._dense_mm(input, fold=True)
    a, b = input, other
    if a.ndim == 0 or b.ndim == 0:
        raise RuntimeError(f"both arguments to matmul need to be at least 1D, but they are {a.ndim}D and {b.ndim}D")
    if a.ndim == 2 and b.ndim == 2:
        if a._data.dtype != b._data.dtype:
            _check_mm_dtypes(a, b)
        if a.shape[1] != b.shape[0]:
            _check_mm_shapes(a, b)
        _check_not_bool(a, "addmm_impl_cpu_")
        exact_out_dtype(out, a.dtype)
        return write_out(out, name_node(Matmul.apply(a, b), "MmBackward0"), "matmul")
    if a.ndim == 1 and b.ndim == 1:
        result = dot(a, b)
        _check_dot_out(out, a)
        return write_out(out, result, "matmul")
    if out is not None and a.dtype is b.dtype:
        exact_out_dtype(out, a.dtype)
    if b.ndim <= 2 and (a.ndim >= 3 or b.ndim == 1):
        return write_out(out, _fold_matmul(a, b), "matmul")
    return write_out(out, _batched_matmul(a, b), "matmul")


def _fold_matmul(a, b):
    """``a`` (..., n, k) or (n, k) times a matrix or vector ``b``: checked as one 2-D product, as PyTorch folds it.
    The result's node has PyTorch's name: mv's, the in-place squeeze_ of a vector times a matrix, or the
    ``_unsafe_view`` of a folded product."""
    rows = math.prod(a.shape[:-1])
    if b.ndim == 1:
        folded = _Folded((rows, a.shape[-1]), a.dtype)
        _check_mv(folded, b)
        _check_not_bool(a, "addmv_impl_cpu")
        result = (Matmul.apply(a, b.unsqueeze(-1))).squeeze(-1)
        if a.ndim == 2:
            return name_node(result, "MvBackward0", (a, b))
        mv = shown_edge("MvBackward0", (shown_edge("ViewBackward0", (a,)), b))   # of the stack viewed as a matrix
        return name_node(result, "UnsafeViewBackward0", (mv,))
    if a.ndim == 1:
        _check_mm_dtypes(a, b)
        _check_mm_shapes(_Folded((1, a.shape[0])), b)
        return name_node(name_node(Matmul.apply(a.unsqueeze(0), b), "MmBackward0").squeeze(-2), "SqueezeBackward4")
    _check_mm_dtypes(a, b)
    _check_mm_shapes(_Folded((rows, a.shape[-1])), b)
    _check_not_bool(a, "addmm_impl_cpu_")
    result = Matmul.apply(a, b)
    if result.grad_fn is not None:
        result.grad_fn._layout = _FOLDED   # PyTorch's mm of the input viewed as a matrix
    return name_node(result, "UnsafeViewBackward0")


class _Folded:
    """The shape and dtype PyTorch's error messages report for a folded operand."""

    def __init__(self, shape, dtype=None):
        self.shape, self.dtype = shape, dtype


def _batched_matmul(a, b):
    a_vector, b_vector = a.ndim == 1, b.ndim == 1
    if a_vector and b.ndim == 2:   # PyTorch's mm of the vector as a row: mm's dtype check first
        _check_mm_dtypes(a, b)
    a3 = a.unsqueeze(0) if a_vector else a
    b3 = b.unsqueeze(-1) if b_vector else b
    batch = _batch_shape(a3.shape[:-2], b3.shape[:-2])
    _check_bmm(a3, b3, batch)
    _check_scalar_type(a3, b3)
    _check_not_bool(a, "bmm")
    result = Matmul.apply(a3, b3)
    if result.grad_fn is not None:
        if a_vector and b.ndim == 2:   # PyTorch's mm of the vector as a row
            name_node(result, "MmBackward0")
        elif not (a_vector or b_vector) and _batched_node_name(a, b) == "UnsafeViewBackward0":
            result.grad_fn._layout = _EXPANDED   # PyTorch's bmm of both stacks expanded to the batch
    if a_vector:
        result = result.squeeze(-2)
    if b_vector:
        result = result.squeeze(-1)
    return name_node(result, _batched_node_name(a, b))


def _batched_node_name(a, b):
    """The name of the node PyTorch's matmul ends a product with a stack of matrices with: the ``_unsafe_view`` of
    its bmm, except for a vector times a matrix, and where it folds a matrix that requires grad times a stack (a
    3-D operand with one batch beside a longer batch first loses it) into one product and transposes the result
    back, which ``contiguous`` copies unless a side is 1."""
    if b.ndim == 2:   # a vector times a matrix: the product of its row, squeezed in place
        return "SqueezeBackward4"
    if a.ndim == 3 and b.ndim == 3 and a.shape[0] != b.shape[0]:
        if a.shape[0] == 1 and a.requires_grad:
            a = a[0]
        elif b.shape[0] == 1 and b.requires_grad:
            return "UnsafeViewBackward0"
    if a.ndim == 2 and a.requires_grad:
        rows, columns = a.shape[0], b.shape[-1]
        if rows <= 1 or columns <= 1 or 0 in b.shape[:-2]:
            return "TransposeBackward0"
        return "CloneBackward0"
    return "UnsafeViewBackward0"


tensor_method("__rmatmul__")(lambda self, other: matmul(other, self))


@tensor_method
@composite("mm", trace_inside=True)
def mm(input, mat2, *, out=None):
    """Product of two 2-D matrices (no broadcasting)."""
    if type(input) is not Tensor and (input.is_sparse or getattr(input, "is_sparse_csr", False)):   # sparse
        return input.mm(mat2)
    if type(mat2) is not Tensor and (mat2.is_sparse or getattr(mat2, "is_sparse_csr", False)):   # dense @ sparse
        return mat2._dense_mm(input)
    if input.ndim != 2:
        raise RuntimeError("self must be a matrix")
    if mat2.ndim != 2:
        raise RuntimeError("mat2 must be a matrix")
    _check_mm_dtypes(input, mat2)
    _check_mm_shapes(input, mat2)
    _check_not_bool(input, "addmm_impl_cpu_")
    exact_out_dtype(out, input.dtype)
    return write_out(out, name_node(Matmul.apply(input, mat2), "MmBackward0"), "mm")


def dsmm(input, mat2):
    """A sparse (COO) ``input`` times a dense ``mat2``, as a dense matrix: ``mm``'s product under the name PyTorch
    keeps for it (linear_operator's sparse interpolation calls it)."""
    return mm(input, mat2)


@tensor_method
@composite("bmm", trace_inside=True)
def bmm(input, mat2, *, out=None):
    """Batched product of (b, n, m) and (b, m, p) tensors (no broadcasting)."""
    if input.ndim != 3:
        raise RuntimeError("batch1 must be a 3D tensor")
    if mat2.ndim != 3:
        raise RuntimeError("batch2 must be a 3D tensor")
    if mat2.shape[0] != input.shape[0] or mat2.shape[1] != input.shape[2]:
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{input.shape[0]}, "
                           f"{input.shape[2]}] but got: [{mat2.shape[0]}, {mat2.shape[1]}].")
    _check_scalar_type(input, mat2)
    _check_not_bool(input, "bmm")
    exact_out_dtype(out, input.dtype)
    return write_out(out, name_node(Matmul.apply(input, mat2), "BmmBackward0"), "bmm")


@tensor_method
@composite("mv", trace_inside=True)
def mv(input, vec, *, out=None):
    """Product of a matrix and a vector."""
    if input.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got 1, {input.ndim}, {vec.ndim}")
    _check_mv(input, vec)
    _check_not_bool(input, "addmv_impl_cpu")
    return write_out(out, name_node(Matmul.apply(input, vec.unsqueeze(-1)).squeeze(-1), "MvBackward0", (input, vec)),
                     "mv")


@tensor_method
@composite("dot", trace_inside=True)
def dot(input, tensor, *, out=None):
    """Inner product of two 1-D tensors of the same dtype (no conjugation)."""
    _check_dot(input, tensor)
    _check_dot_out(out, input)
    return write_out(out, name_node(Matmul.apply(input, tensor), "DotBackward0"), "dot")


def _check_dot_out(out, input):
    """PyTorch's check of the inner products' ``out=``: the inputs' dtype."""
    if isinstance(out, Tensor) and out.dtype is not input.dtype:
        raise RuntimeError(f"result dtype {_name(out)} does not match input dtype {_name(input)}")


@tensor_method
@composite("vdot", trace_inside=True)
def vdot(input, other, *, out=None):
    """Inner product of two 1-D tensors, conjugating the first."""
    _check_dot(input, other)
    _check_dot_out(out, input)
    return write_out(out, name_node(Matmul.apply(_conj(input), other), "VdotBackward0"), "vdot")


@tensor_method
@composite("inner", trace_inside=True)
def inner(input, other, *, out=None):
    """Sum of products over the last dims of both tensors (a 0-d operand multiplies)."""
    if input.ndim == 0 or other.ndim == 0:
        return write_out(out, input * other, "inner")
    if input.shape[-1] != other.shape[-1]:
        raise RuntimeError(f"inner() the last dimension must match on both input tensors but got shapes "
                           f"{list(input.shape)} and {list(other.shape)}")
    if input.dtype is not other.dtype:
        raise RuntimeError("both inputs should have same dtype")
    return write_out(out, tensordot(input, other, ([-1], [-1])), "inner")


UNBUFFERED_ROW = 256
"""Row length from which ``outer_product`` turns NumPy's buffering off (shorter rows: per-row calls cost more)."""


def outer_product(xp, a, b):
    """``a[:, None] * b`` of two vectors. NumPy 2.4 iterates a broadcast product with rows under half its buffer
    (8192 elements) through copies into its buffers: 1024 x 1024 float32 0.29 ms, against 0.10 ms with the
    buffer size set below the row length (0.19 against 0.29 at 4096 x 256; rows under 256 gain nothing)."""
    if xp is not numpy or b.shape[0] < UNBUFFERED_ROW or a.size * b.size < 1 << 15:
        return xp.multiply(a[:, None], b)
    out = _buffers.empty(xp, a.shape + b.shape, numpy.result_type(a, b))

    def rows(part, column, row):
        size = numpy.setbufsize(16)   # the smallest NumPy allows; a context variable: this thread's call only
        try:
            numpy.multiply(column, row, out=part)
        finally:
            numpy.setbufsize(size)
    return _parallel.map_chunks(rows, out, a[:, None], b)


class Outer(Primitive):
    """``outer_product`` of two vectors of one dtype; the gradients are matrix-vector products (grad @ conj(b) and
    conj(a) @ grad), shown as PyTorch's MulBackward0 (its outer is a broadcast product of ``a`` viewed as a column)."""

    graph_inputs = staticmethod(lambda node, edges: (_shown("ViewBackward0", edges[0]), edges[1]))

    @staticmethod
    @quiet
    def forward(ctx, a, b):
        needs = ctx.needs_input_grad
        ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)   # what the other's gradient reads
        return outer_product(ctx.xp, a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (Matmul.apply(grad, _conj(b).unsqueeze(1)).squeeze(1) if ctx.needs_input_grad[0] else None,
                Matmul.apply(_conj(a).unsqueeze(0), grad).squeeze(0) if ctx.needs_input_grad[1] else None)


Outer._node_cls.__name__ = Outer._node_cls.__qualname__ = "MulBackward0"


@tensor_method
def outer(input, vec2, *, out=None):
    """Outer product of two vectors; the dtypes promote."""
    if input.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument self, but got {input.ndim}-D")
    if vec2.ndim != 1:
        raise RuntimeError(f"outer: Expected 1-D argument vec2, but got {vec2.ndim}-D")
    kind = input._data.dtype
    if not dispatch_hooks and input.dtype is vec2.dtype and (kind.kind in "biu" or kind.char in "fdFD"):
        return write_out(out, Outer.apply(input, vec2), "outer")
    # mixed or 16-bit float dtypes, and tracing, vmap and autocast: the broadcast product they know
    return write_out(out, input.reshape(-1, 1) * vec2, "outer")   # as PyTorch's: the input viewed as a column


ger = outer


Tensor.ger = outer


def _scaled_sum(name, input, product, beta, alpha, operands):
    """beta * input + alpha * product, with beta == 0 ignoring input (even NaNs) as PyTorch does; its node is
    PyTorch's for the op ``name`` (``AddmmBackward0``), listing ``input`` and the product's two ``operands``."""
    if alpha != 1:
        product = product * alpha
    if beta == 0:
        result = product + input * 0 if input.requires_grad else product.expand(_broadcast(input, product))
    else:
        result = product + (input if beta == 1 else input * beta)
    return name_node(result, name.capitalize() + "Backward0", (input,) + operands)


def _broadcast(input, product):
    return tuple(numpy.broadcast_shapes(tuple(input.shape), tuple(product.shape)))


def _expand_input(input, shape):
    """PyTorch's expand error when ``input`` does not broadcast to the product's ``shape``."""
    if tuple(input.shape) != tuple(shape):
        input.expand(shape)


def _check_addmm_dtypes(input, mat1, mat2):
    """PyTorch's addmm checks, in its order: the added tensor against mat2, then mat1 against mat2."""
    if input.dtype is not mat2.dtype:
        raise RuntimeError(f"self and mat2 must have the same dtype, but got {_name(input)} and {_name(mat2)}")
    if mat1.dtype is not mat2.dtype:
        raise RuntimeError(f"mat1 and mat2 must have the same dtype, but got {_name(mat1)} and {_name(mat2)}")


@tensor_method
@composite("addmm", trace_inside=True)
def addmm(input, mat1, mat2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat1 @ mat2)."""
    _check_addmm_dtypes(input, mat1, mat2)
    for name, m in (("mat1", mat1), ("mat2", mat2)):
        if m.ndim != 2:
            raise RuntimeError(f"{name} must be a matrix, got {m.ndim}-D tensor")
    _check_mm_shapes(mat1, mat2)
    _expand_input(input, (mat1.shape[0], mat2.shape[1]))
    if is_reduced(mat2._data):   # 16-bit floats: product and sum in float32, rounded once, as PyTorch's kernel
        result = _scaled_sum("addmm", input.float(), Matmul.apply(mat1.float(), mat2.float()), beta, alpha,
                             (mat1, mat2)).to(mat2.dtype)
        return write_out(out, name_node(result, "AddmmBackward0", (input, mat1, mat2)), "addmm")
    return write_out(out, _scaled_sum("addmm", input, Matmul.apply(mat1, mat2), beta, alpha, (mat1, mat2)), "addmm")


@tensor_method
@composite("addmv", trace_inside=True)
def addmv(input, mat, vec, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * (mat @ vec)."""
    if mat.ndim != 2 or vec.ndim != 1:
        raise RuntimeError(f"vector + matrix @ vector expected, got {input.ndim}, {mat.ndim}, {vec.ndim}")
    if not (input.dtype is mat.dtype is vec.dtype):
        raise RuntimeError(f"addmv input tensors must have the same dtype, but got {_name(input)}, {_name(mat)}, "
                           f"and {_name(vec)}")
    _check_mv(mat, vec)
    _expand_input(input, (mat.shape[0],))
    product = (Matmul.apply(mat, vec.unsqueeze(-1))).squeeze(-1)
    return write_out(out, _scaled_sum("addmv", input, product, beta, alpha, (mat, vec)), "addmv")


@tensor_method
@composite("addbmm", trace_inside=True)
def addbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * sum_i (batch1[i] @ batch2[i])."""
    for name, b in (("batch1", batch1), ("batch2", batch2)):
        if b.ndim != 3:
            wrap_dim(2, b.ndim)
            raise RuntimeError(f"{name} must be a 3D tensor")
    if batch1.shape[0] != batch2.shape[0]:
        raise RuntimeError(f"batch1 and batch2 must have same number of batches, got {batch1.shape[0]} and "
                           f"{batch2.shape[0]}")
    if batch1.shape[2] != batch2.shape[1]:
        raise RuntimeError(f"Incompatible matrix sizes for bmm ({batch1.shape[1]}x{batch1.shape[2]} and "
                           f"{batch2.shape[1]}x{batch2.shape[2]})")
    _check_addmm_dtypes(input, batch1, batch2)
    _expand_input(input, (batch1.shape[1], batch2.shape[2]))
    # The batch sum is a single (n x b*m) @ (b*m x p) product.
    left = batch1.permute((1, 0, 2)).reshape(batch1.shape[1], -1)
    right = batch2.reshape(-1, batch2.shape[2])
    return write_out(out, _scaled_sum("addbmm", input, Matmul.apply(left, right), beta, alpha,
                                          (batch1, batch2)), "addbmm")


@tensor_method
@composite("baddbmm", trace_inside=True)
def baddbmm(input, batch1, batch2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * bmm(batch1, batch2)."""
    for name, b in (("batch1", batch1), ("batch2", batch2)):
        if b.ndim != 3:
            wrap_dim(2, b.ndim)
            raise RuntimeError(f"{name} must be a 3D tensor")
    if not (input.dtype is batch1.dtype is batch2.dtype):
        raise RuntimeError(f"Input dtypes must be the same, got: input {_CPP_NAMES[input.dtype.name]}, batch1: "
                           f"{_CPP_NAMES[batch1.dtype.name]}, batch2: {_CPP_NAMES[batch2.dtype.name]}")
    product = bmm(batch1, batch2)
    _expand_input(input, product.shape)
    return write_out(out, _scaled_sum("baddbmm", input, product, beta, alpha, (batch1, batch2)), "baddbmm")


@tensor_method
@composite("addr", trace_inside=True)
def addr(input, vec1, vec2, *, beta=1, alpha=1, out=None):
    """beta * input + alpha * outer(vec1, vec2); dtypes promote."""
    for name, v in (("vec1", vec1), ("vec2", vec2)):
        if v.ndim != 1:
            raise RuntimeError(f"addr: Expected 1-D argument {name}, but got {v.ndim}-D")
    product = outer(vec1, vec2)
    _expand_input(input, product.shape)
    if product.dtype is _dtype.bool_ and input.dtype is _dtype.bool_:
        product = product if alpha else product & False
        return write_out(out, product | input if beta else product, "addr")
    return write_out(out, _scaled_sum("addr", input, product, beta, alpha, (vec1, vec2)), "addr")


for _function in (addmm, addmv, addbmm, baddbmm, addr):
    inplace_method(_function)


class Einsum(Primitive):
    """einsum on an equation with explicit output, one letter per dim and equal sizes for each letter."""

    @staticmethod
    def forward(ctx, *args):
        equation, operands = args[-1], args[:-1]
        ctx.equation = equation
        ctx.shapes = [op.shape for op in operands]
        needs = ctx.needs_input_grad
        # an operand is read only for the others' gradients: kept where one of them needs it, as PyTorch's node
        ctx.save_for_backward(*(op if any(needs[j] for j in range(len(operands)) if j != i) else None
                                for i, op in enumerate(operands)))
        if len(operands) == 1:
            subscripts, output = equation.split("->")
            summed = tuple(i for i, letter in enumerate(subscripts) if letter not in output)
            if summed and len(set(subscripts)) == len(subscripts):   # a sum: Sum's adds (einsum's lose ~n ulps)
                # of the operand permuted to the output's letters, then the summed ones (uppercase first), as
                # PyTorch's einsum sums it
                summed = sorted(summed, key=lambda i: (subscripts[i].islower(), subscripts[i]))
                view = ctx.xp.transpose(operands[0], [subscripts.index(letter) for letter in output] + summed)
                return sum_array(view, tuple(range(len(output), len(subscripts))))
            # a view where the equation only permutes or takes a diagonal, as PyTorch's
            return ctx.xp.einsum(equation, *operands)
        # PyTorch's products give row-major results in the common orders ("bij,bjk->bik"), which code views
        # (Longformer's context.view(...)); NumPy's come out in its contraction's own layout
        result = ctx.xp.einsum(equation, *operands, optimize=True)
        return ctx.xp.ascontiguousarray(result) if getattr(result, "ndim", 0) > 1 else result

    @staticmethod
    def backward(ctx, grad):
        operands = ctx.saved_tensors
        inputs, output = ctx.equation.split("->")
        inputs = inputs.split(",")
        sizes = {}
        for subs, shape in zip(inputs, ctx.shapes):
            sizes.update(zip(subs, shape))
        grads = []
        for k, subs in enumerate(inputs):
            if not ctx.needs_input_grad[k]:
                grads.append(None)
                continue
            others = [(s, _conj(op)) for i, (s, op) in enumerate(zip(inputs, operands)) if i != k]
            grads.append(_einsum_adjoint(grad, output, others, subs, sizes))
        return tuple(grads) + (None,)


def _einsum_adjoint(grad, output, others, target, sizes):
    """The gradient for an operand with subscripts ``target``, as one einsum of grad and the other operands.

    A letter repeated in ``target`` (a diagonal) gets a fresh letter tied to the first by an identity matrix; a
    letter that was summed away in the operand alone is brought back by a vector of ones.
    """
    seen_letters = set(output).union(*(s for s, _ in others))
    pool = iter(sorted(set(string.ascii_letters) - set(output).union(target, *(s for s, _ in others))))
    terms = [(output, grad)] + others
    renamed = []
    xp = _xp(grad)
    dtype = grad._data.dtype
    for letter in target:
        if letter in renamed:
            fresh = next(pool)
            terms.append((letter + fresh, _make(xp.eye(sizes[letter], dtype=dtype))))
            renamed.append(fresh)
            continue
        if letter not in seen_letters:
            terms.append((letter, _make(xp.ones(sizes[letter], dtype=dtype))))
            seen_letters.add(letter)
        renamed.append(letter)
    equation = ",".join(s for s, _ in terms) + "->" + "".join(renamed)
    return Einsum.apply(*(t for _, t in terms), equation)


@composite("einsum", trace_inside=True)
def einsum(*args):
    """Sums products of operands over the subscripts an equation names ('ij,jk->ik', implicit output, '...')."""
    if not args:
        raise ValueError("einsum(): must specify the equation string and at least one operand, or at least one "
                        "operand and its subscripts list")
    if isinstance(args[0], str):
        equation = args[0]
        operands = args[1:]
        if len(operands) == 1 and isinstance(operands[0], (list, tuple)):
            operands = tuple(operands[0])
    else:
        equation, operands = _sublist_equation(args)
    equation = equation.replace(" ", "")
    inputs, output = _parse_equation(equation, operands)
    operands = _broadcast_operands(inputs, operands)
    shared = {c for c in set("".join(inputs)) if sum(c in term for term in inputs) > 1}
    if shared - set(output):   # a contraction of two operands: PyTorch's bmm wants one dtype
        for op in operands[1:]:
            _check_scalar_type(operands[0], op)
    elif any(op.dtype is not operands[0].dtype for op in operands[1:]):   # products only: mul promotes
        common = operands[0].dtype
        for op in operands[1:]:
            common = _dtype.promote_types(common, op.dtype)
        operands = tuple(op.to(common) for op in operands)
    if len(operands) == 1 and inputs[0] == output:
        return operands[0]
    return Einsum.apply(*operands, ",".join(inputs) + "->" + output)


def _sublist_equation(args):
    """Turns einsum(op1, [0, 1], op2, [1, 2], [0, 2]) into 'ab,bc->ac' and the operands."""
    def letters(sublist):
        return "".join("..." if s is Ellipsis else string.ascii_letters[s] for s in sublist)
    operands, parts = args[0::2], args[1::2]
    output = None
    if len(args) % 2:
        operands, output = args[0:-1:2], args[-1]
    equation = ",".join(letters(p) for p in parts)
    if output is not None:
        equation += "->" + letters(output)
    return equation, operands


def _parse_equation(equation, operands):
    """Explicit subscripts for each operand and the output, with '...' expanded to fresh letters."""
    lhs, arrow, rhs = equation.partition("->")
    inputs = lhs.split(",")
    if len(inputs) > len(operands):
        raise RuntimeError("einsum(): fewer operands were provided than specified in the equation")
    if len(inputs) < len(operands):
        raise RuntimeError("einsum(): more operands were provided than specified in the equation")
    for subs in inputs + ([rhs] if arrow else []):
        bad = set(subs.replace("...", "")) - set(string.ascii_letters)
        if bad:
            raise RuntimeError(f"einsum(): invalid subscript given at index {equation.index(bad.pop())} in the "
                               "equation string, subscripts must be in [a-zA-Z]")
    pool = sorted(set(string.ascii_letters) - set(equation))
    ellipsis = 0
    for subs, op in zip(inputs, operands):
        named = len(subs.replace("...", ""))
        if "..." in subs:
            ellipsis = max(ellipsis, op.ndim - named)
        elif named != op.ndim:
            raise RuntimeError(f"einsum(): the number of subscripts in the equation ({named}) does not match the "
                               f"number of dimensions ({op.ndim}) for operand {inputs.index(subs)} and no ellipsis "
                               "was given")
    ellipsis_letters = "".join(pool[:ellipsis])
    expanded = []
    for subs, op in zip(inputs, operands):
        count = op.ndim - len(subs.replace("...", ""))
        expanded.append(subs.replace("...", ellipsis_letters[ellipsis - count:]))
    if arrow:
        output = rhs.replace("...", ellipsis_letters)
        for letter in output:
            if output.count(letter) > 1:
                raise RuntimeError(f"einsum(): output subscript {letter} appears more than once in the output")
            if letter not in lhs and letter not in ellipsis_letters:
                raise RuntimeError(f"einsum(): output subscript {letter} does not appear in the equation for any "
                                   "input operand")
    else:
        counts = collections.Counter(lhs.replace("...", "").replace(",", ""))
        output = ellipsis_letters + "".join(sorted(letter for letter, n in counts.items() if n == 1))
    return expanded, output


def _broadcast_operands(inputs, operands):
    """Checks each letter's sizes and expands size-1 dims so every operand agrees (PyTorch broadcasts them)."""
    sizes = {}
    for k, (subs, op) in enumerate(zip(inputs, operands)):
        for letter, size in zip(subs, op.shape):
            if subs.count(letter) > 1 and op.shape[subs.index(letter)] != size:
                raise RuntimeError(f"einsum(): subscript {letter} is repeated for operand {k} but the sizes don't "
                                   f"match, {op.shape[subs.index(letter)]} != {size}")
            previous = sizes.get(letter, 1)
            if size != previous and 1 not in (size, previous):
                raise RuntimeError(f"einsum(): subscript {letter} has size {size} for operand {k} which does not "
                                   f"broadcast with previously seen size {previous}")
            sizes[letter] = max(previous, size) if size and previous else min(previous, size) if letter in sizes \
                else size
    result = []
    for subs, op in zip(inputs, operands):
        target = tuple(sizes[letter] for letter in subs)
        result.append(op if tuple(op.shape) == target else op.expand(target))
    return result


@composite("tensordot", trace_inside=True)
def tensordot(a, b, dims=2, out=None):
    """Contracts ``dims`` trailing dims of ``a`` with leading dims of ``b`` (or the listed dim pairs)."""
    if isinstance(dims, Tensor):
        dims = dims.item() if dims.ndim == 0 else dims.tolist()
    if isinstance(dims, (int, numpy.integer)):
        if dims < 0:
            raise RuntimeError(f"tensordot expects dims >= 0, but got dims={dims}")
        if dims > a.ndim or dims > b.ndim:
            raise RuntimeError(f"tensordot expects dims < ndim_a or ndim_b, but got dims={dims}")
        dims_a, dims_b = list(range(a.ndim - dims, a.ndim)), list(range(dims))
    else:
        dims_a, dims_b = ([d] if isinstance(d, int) else list(d) for d in dims)
    if len(dims_a) != len(dims_b):
        raise RuntimeError("both dimension lists should have same length")
    if a.dtype is not b.dtype:
        raise RuntimeError("both inputs should have same dtype")
    dims_a = [wrap_dim(d, a.ndim) for d in dims_a]
    dims_b = [wrap_dim(d, b.ndim) for d in dims_b]
    for da, db in zip(dims_a, dims_b):
        if a.shape[da] != b.shape[db] and 1 not in (a.shape[da], b.shape[db]):
            raise RuntimeError(f"contracted dimensions need to match, but first has size {a.shape[da]} in dim {da} "
                               f"and second has size {b.shape[db]} in dim {db}")
    free_a = [d for d in range(a.ndim) if d not in dims_a]
    free_b = [d for d in range(b.ndim) if d not in dims_b]
    size = math.prod(a.shape[d] for d in dims_a)
    left = a.permute(free_a + dims_a).reshape(math.prod(a.shape[d] for d in free_a), size)
    right = b.permute(dims_b + free_b).reshape(size, math.prod(b.shape[d] for d in free_b))
    result = Matmul.apply(left, right).reshape(tuple(a.shape[d] for d in free_a) + tuple(b.shape[d] for d in free_b))
    return write_out(out, result, "tensordot")


@composite("linalg_multi_dot", trace_inside=True)
def multi_dot(tensors, *, out=None):
    """The product of a chain of matrices (the first may be a row vector, the last a column vector)."""
    tensors = list(tensors)
    if len(tensors) < 2:
        raise RuntimeError(f"multi_dot(): expected at least 2 tensors but got {len(tensors)}")
    first, last = tensors[0], tensors[-1]
    if first.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the first tensor must be 1D or 2D but got {first.ndim}D")
    if last.ndim not in (1, 2):
        raise RuntimeError(f"multi_dot(): the last tensor must be 1D or 2D but got {last.ndim}D")
    for i, t in enumerate(tensors[1:-1], 1):
        if t.ndim != 2:
            raise RuntimeError(f"multi_dot(): tensor {i} must be 2D but got {t.ndim}D")
    for i, t in enumerate(tensors[1:], 1):
        if t.dtype is not first.dtype:
            raise RuntimeError(f"multi_dot(): all tensors must have be the same dtype but tensor 0 is "
                               f"{_CPP_NAMES[first.dtype.name]} and tensor {i} {_CPP_NAMES[t.dtype.name]}")
    matrices = [first.unsqueeze(0) if first.ndim == 1 else first] + tensors[1:-1] + \
        [last.unsqueeze(1) if last.ndim == 1 else last]
    for i in range(len(matrices) - 1):
        if matrices[i].shape[1] != matrices[i + 1].shape[0]:
            raise RuntimeError(f"multi_dot(): tensors {i} and {i + 1} with shapes {list(matrices[i].shape)} and "
                               f"{list(matrices[i + 1].shape)} cannot be multiplied")
    result = _chain_product(matrices, 0, len(matrices) - 1, _chain_order(matrices))
    if last.ndim == 1:
        result = result.squeeze(1)
    if first.ndim == 1:
        result = result.squeeze(0)
    return write_out(out, name_node(result, "ViewBackward0"), "multi_dot")


def _chain_order(matrices):
    """The cheapest parenthesization (classic dynamic programme over the chain's dimensions)."""
    n = len(matrices)
    sizes = [m.shape[0] for m in matrices] + [matrices[-1].shape[1]]
    cost = [[0] * n for _ in range(n)]
    split = [[0] * n for _ in range(n)]
    for length in range(1, n):
        for i in range(n - length):
            j = i + length
            cost[i][j] = math.inf
            for k in range(i, j):
                c = cost[i][k] + cost[k + 1][j] + sizes[i] * sizes[k + 1] * sizes[j + 1]
                if c < cost[i][j]:
                    cost[i][j], split[i][j] = c, k
    return split


def _chain_product(matrices, i, j, split):
    if i == j:
        return matrices[i]
    k = split[i][j]
    return Matmul.apply(_chain_product(matrices, i, k, split), _chain_product(matrices, k + 1, j, split))


@composite("chain_matmul", trace_inside=True)
def chain_matmul(*matrices, out=None):
    """Deprecated alias of ``linalg.multi_dot`` taking the matrices as arguments."""
    warn_once("chain_matmul", "torch.chain_matmul is deprecated and will be removed in a future PyTorch release. "
              "Use torch.linalg.multi_dot instead, which accepts a list of two or more tensors rather than multiple "
              "parameters.")
    for matrix in matrices:
        if matrix.ndim != 2:
            raise RuntimeError(f"Tensor dimension is {matrix.ndim}, expected 2 instead.")
    if not matrices:
        raise RuntimeError("chain_matmul(): Expected one or more matrices")
    if len(matrices) == 1:   # a copy, as PyTorch's
        return write_out(out, matrices[0].clone(), "chain_matmul")
    return multi_dot(matrices, out=out)
