"""Vector and matrix norms, cdist, vecdot, cross and diagonal."""
import math
import string

import numpy

from ... import _dtype, _compat
from ..._tensor import _make
from ...autograd.function import Primitive, composite
from .._kernel_dtypes import _not_implemented, exact_out_dtype
from .._util import int_arg, name_node, quiet, wrap_dim, wrap_dims, write_out
from ._common import (_batch_shape, _check_dot, _check_floating, _check_scalar_type, _conj, _low_precision, _name,
                      _sgn, _xp)
from .decompositions import svdvals
from .products import einsum

__all__ = ["cdist", "VectorNorm", "vector_norm", "matrix_norm", "norm", "vecdot", "cross", "diagonal"]


@composite("cdist", trace_inside=True)
def cdist(x1, x2, p=2.0, compute_mode="use_mm_for_euclid_dist_if_necessary"):
    """p-norm distances between each row of ``x1`` and each row of ``x2`` (batched, broadcasting)."""
    if compute_mode not in ("use_mm_for_euclid_dist_if_necessary", "use_mm_for_euclid_dist",
                            "donot_use_mm_for_euclid_dist"):
        raise ValueError(f"{compute_mode} is not a valid value for compute_mode")
    for name, x in (("X1", x1), ("X2", x2)):
        if x.ndim < 2:
            raise RuntimeError(f"cdist only supports at least 2D tensors, {name} got: {x.ndim}D")
    if x1.shape[-1] != x2.shape[-1]:
        raise RuntimeError(f"X1 and X2 must have the same number of columns. X1: {x1.shape[-1]} X2: {x2.shape[-1]}")
    for name, x in (("X1", x1), ("X2", x2)):
        if not x.dtype.is_floating_point:
            raise RuntimeError(f"cdist only supports floating-point dtypes, {name} got: {_name(x)}")
    if p < 0:
        raise RuntimeError("cdist only supports non-negative p values")
    _check_scalar_type(x1, x2)
    batch = _batch_shape(x1.shape[:-2], x2.shape[:-2])
    rows1, rows2 = x1.shape[-2], x2.shape[-2]
    by_product = compute_mode == "use_mm_for_euclid_dist" or (
        compute_mode == "use_mm_for_euclid_dist_if_necessary" and (rows1 > 25 or rows2 > 25))
    if p == 2 and by_product and x1.numel() and x2.numel():
        batch = tuple(batch)
        result = EuclideanDist.apply(x1.expand(batch + x1.shape[-2:]), x2.expand(batch + x2.shape[-2:]))
        return result.view(result.shape)   # PyTorch's result is a view (its grad_fn ViewBackward0)
    difference = x1.unsqueeze(-2) - x2.unsqueeze(-3)
    return name_node(vector_norm(difference, p, -1), "CdistBackward0")


class EuclideanDist(Primitive):
    """PyTorch's ``_euclidean_dist``: sqrt(max(|a|^2 - 2 a.b + |b|^2, 0)) as one matrix product of ``a`` and ``b``
    padded with their squared norms and ones."""

    @staticmethod
    def forward(ctx, a, b):
        xp = ctx.xp
        norms_a, norms_b = (xp.einsum("...i,...i->...", x, x)[..., None] for x in (a, b))
        left = xp.concatenate([a * -2, norms_a, xp.ones_like(norms_a)], axis=-1)
        right = xp.concatenate([b, xp.ones_like(norms_b), norms_b], axis=-1)
        result = xp.matmul(left, xp.swapaxes(right, -1, -2))
        xp.maximum(result, 0, out=result)
        xp.sqrt(result, out=result)
        ctx.save_for_backward(a, b, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, b, result = ctx.saved_tensors
        ratio = (grad / result).masked_fill(result == 0, 0)   # a zero distance's subgradient 0, as PyTorch's
        return (a * ratio.sum(-1, keepdim=True) - ratio.matmul(b) if ctx.needs_input_grad[0] else None,
                b * ratio.sum(-2).unsqueeze(-1) - ratio.mT.matmul(a) if ctx.needs_input_grad[1] else None)


class VectorNorm(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, ord, dims, keepdim):
        xp = ctx.xp
        ctx.ord, ctx.dims, ctx.keepdim, ctx.shape = ord, dims, keepdim, a.shape
        size = xp.abs(a)
        real = size.dtype
        if real.itemsize == 2 and real.kind in "fV":   # 16-bit (V: ml_dtypes' bfloat16): PyTorch sums in float32
            size = size.astype("float32")
        if ord == math.inf:
            result = _compat.amax(xp, size, axis=dims, keepdims=keepdim, initial=0)
        elif ord == -math.inf:
            result = size.min(axis=dims, keepdims=keepdim)
        elif ord == 0:
            result = (size != 0).sum(axis=dims, keepdims=keepdim).astype(size.dtype)
        elif ord == 1:
            result = size.sum(axis=dims, keepdims=keepdim)
        elif ord == 2:
            result = xp.sqrt((size * size).sum(axis=dims, keepdims=keepdim))
        else:
            result = ((size ** ord).sum(axis=dims, keepdims=keepdim)) ** (1.0 / ord)
        result = xp.asarray(result, dtype=real)
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, norm = ctx.saved_tensors
        ord = ctx.ord
        if not ctx.keepdim:
            shape = tuple(1 if i in ctx.dims else s for i, s in enumerate(ctx.shape))
            grad, norm = grad.reshape(shape), norm.reshape(shape)
        xp = _xp(a)
        if ord == 0:   # PyTorch's gradient is undefined: the input gets none (grad stays None)
            return None
        if ord == 2:
            zero = _make(xp.asarray(norm._data == 0).astype(norm._data.dtype))
            return a * (grad / (norm + zero))
        if ord == 1:
            return _sgn(a) * grad
        if ord in (math.inf, -math.inf):
            hit = xp.abs(a._data) == norm._data
            count = _make(xp.asarray(hit.sum(axis=ctx.dims, keepdims=True)).astype(norm._data.dtype))
            # PyTorch's order of products, so zeros carry its signs: (sgn(a) * mask) * (grad / count)
            return _sgn(a) * _make(xp.asarray(hit).astype(norm._data.dtype)) * (grad / count)
        size = a.abs()
        if ord < 1:   # |a|^(ord - 1) is infinite at zeros, whose gradient is 0 (sgn), as PyTorch's
            nonzero = _make(xp.asarray(a._data != 0).astype(norm._data.dtype))
            scaled = _sgn(a) * size.where(nonzero.bool(), 1) ** (ord - 1)
            return scaled * grad * norm ** (1 - ord)
        scaled = _sgn(a) * size ** (ord - 1)
        zero = xp.asarray(norm._data == 0).astype(norm._data.dtype)
        return scaled * (grad / (norm + _make(zero)) ** (ord - 1)) * _make(xp.asarray(1 - zero))


VectorNorm._node_cls.__name__ = VectorNorm._node_cls.__qualname__ = "LinalgVectorNormBackward0"   # PyTorch's name


@composite("linalg_vector_norm", trace_inside=True)
def vector_norm(x, ord=2, dim=None, keepdim=False, *, dtype=None, out=None):
    """The ``ord``-norm of ``x`` over ``dim`` (all elements when None), treating it as a vector."""
    if isinstance(ord, str) or not isinstance(ord, (int, float, numpy.number)):
        raise TypeError(f"linalg_vector_norm(): argument 'ord' must be Number, not {type(ord).__name__}")
    if dtype is not None:
        dtype = _dtype.as_dtype(dtype)
        if not (dtype.is_floating_point or dtype.is_complex):
            raise RuntimeError(f"linalg.vector_norm: dtype should be floating point or complex, but got "
                               f"{_dtype.scalar_type_name(dtype)}")
        if _dtype.promote_types(x.dtype, dtype) is not dtype:
            raise RuntimeError(f"linalg.vector_norm: the dtype of the input ({_name(x)}) should be convertible "
                               f"without narrowing to the specified dtype ({_dtype.scalar_type_name(dtype)})")
        x = x.to(dtype)
    _check_floating(x, "linalg.vector_norm")
    dims = wrap_dims(dim, x.ndim) if dim is not None else tuple(range(x.ndim))
    if isinstance(dim, (list, tuple)) and len(dim) == 0 or x.ndim == 0:   # a 0-d input's dim 0 or -1 is itself
        dims = tuple(range(x.ndim))
    if ord in (math.inf, -math.inf) and any(x.shape[d] == 0 for d in dims) if x.ndim else False:
        raise RuntimeError(f"linalg.vector_norm cannot compute the {'inf' if ord > 0 else '-inf'} norm on an empty "
                           "tensor because the operation does not have an identity")
    return write_out(out, VectorNorm.apply(x, float(ord), dims, keepdim), "linalg.vector_norm")


@composite("linalg_matrix_norm", trace_inside=True)
def matrix_norm(A, ord="fro", dim=(-2, -1), keepdim=False, *, dtype=None, out=None):
    """A matrix norm over the two ``dim`` dims: 'fro', 'nuc', inf, -inf, 1, -1, 2 or -2."""
    if isinstance(ord, str) and ord not in ("fro", "nuc"):   # PyTorch checks a named order first
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    if A.ndim < 2:
        raise RuntimeError("linalg.matrix_norm: The input tensor A must have at least 2 dimensions.")
    if len(dim) != 2:
        raise RuntimeError("linalg.matrix_norm: dim must be a 2-tuple. Got " + " ".join(str(d) for d in dim))
    if dtype is not None:
        A = A.to(dtype)
    _check_floating(A, "linalg.matrix_norm")
    d0, d1 = (wrap_dim(d, A.ndim) for d in dim)
    if d0 == d1:
        raise RuntimeError(f"linalg.matrix_norm: dims must be different. Got ({dim[0]}, {dim[1]})")
    if ord == "fro":
        return write_out(out, vector_norm(A, 2, (d0, d1), keepdim), "linalg.matrix_norm")
    if ord not in ("nuc", math.inf, -math.inf, 1, -1, 2, -2):
        raise RuntimeError(f"linalg.matrix_norm: Order {ord} not supported.")
    # orders 1 and inf: sums along one dim, then PyTorch's amax/amin over the other
    sum_dim, max_dim = (d1, d0) if ord in (math.inf, -math.inf) else (d0, d1)
    if ord != "nuc" and (A.shape[max_dim] == 0 or ord in (2, -2) and A.shape[d0] * A.shape[d1] == 0):
        if ord > 0:   # the largest of no values: PyTorch's 0, outside the graph
            return write_out(out, vector_norm(A.detach(), 2, (d0, d1), keepdim), "linalg.matrix_norm")
        # the smallest of no values: PyTorch's amin error, naming the dim as its kernel counts it (the singular
        # values' last for -2; the one left after the sums otherwise)
        named = -1 if ord == -2 else max_dim - 1 if sum_dim < max_dim and not keepdim else max_dim
        raise IndexError(f"amin(): Expected reduction dim {named} to have non-zero size.")
    if ord in ("nuc", 2, -2):
        if _low_precision(A):
            raise RuntimeError(f"linalg.matrix_norm: Low precision dtypes not supported. Got {_name(A)}")
        moved = A.permute([d for d in range(A.ndim) if d not in (d0, d1)] + [d0, d1])
        values = svdvals(moved)
        result = values.sum(-1) if ord == "nuc" else (values.narrow(-1, 0 if ord == 2 else
                                                                       values.shape[-1] - 1, 1)).squeeze(-1)
        if keepdim:
            for d in sorted((d0, d1)):
                result = result.unsqueeze(d)
        elif ord != "nuc":   # PyTorch's amax / amin of the singular values
            name_node(result, "AmaxBackward0" if ord == 2 else "AminBackward0")
        return write_out(out, result, "linalg.matrix_norm")
    sums = vector_norm(A, 1, sum_dim, keepdim=True)
    result = vector_norm(sums, math.inf if ord > 0 else -math.inf, max_dim, keepdim=True)
    if not keepdim:
        result = result.reshape(tuple(s for i, s in enumerate(result.shape) if i not in (d0, d1)))
    return write_out(out, name_node(result, "AmaxBackward0" if ord > 0 else "AminBackward0"), "linalg.matrix_norm")


def norm(input, ord=None, dim=None, keepdim=False, *, dtype=None, out=None):
    """A vector or matrix norm, chosen from ``ord`` and ``dim`` as ``torch.linalg.norm`` does."""
    if dim is not None:
        dims = [dim] if isinstance(dim, int) else list(dim)
        if len(dims) not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is specified, it must be of length 1 or 2. Got {dims}")
    elif ord is not None:
        if input.ndim not in (1, 2):
            raise RuntimeError(f"linalg.norm: If dim is not specified but ord is, the input must be 1D or 2D. Got "
                               f"{input.ndim}D.")
        dims = list(range(input.ndim))
    if isinstance(ord, str) or (dim is not None and len(dims) == 2) or (ord is not None and dim is None and
                                                                        input.ndim == 2):
        return matrix_norm(input, "fro" if ord is None else ord, dims if dim is not None else (-2, -1), keepdim,
                           dtype=dtype, out=out)
    return vector_norm(input, 2 if ord is None else ord, dim, keepdim, dtype=dtype, out=out)


@composite("linalg_vecdot", trace_inside=True)
def vecdot(x, y, *, dim=-1, out=None):
    """Dot products of vectors along ``dim`` (conjugating ``x``), broadcasting the rest."""
    if x.dtype is not y.dtype:
        raise RuntimeError(f"linalg.vecdot: Expected x and y to have the same dtype, but found x of type {_name(x)} "
                           f"and y of type {_name(y)} instead")
    _check_floating(x, "linalg.vecdot")
    if x.ndim == 1 and y.ndim == 1 and x.shape != y.shape:
        _check_dot(x, y)
    return write_out(out, (_conj(x) * y).sum(dim), "linalg.vecdot")


@composite("linalg_cross", trace_inside=True)   # seen whole by autocast: PyTorch's is one kernel, not einsum
def cross(input, other, *, dim=-1, out=None):
    """Cross products of 3-vectors along ``dim``, broadcasting the other dims."""
    dim = int_arg(dim)
    _check_scalar_type(input, other)
    shape = _batch_shape(tuple(input.shape), tuple(other.shape))
    if input.shape[dim] != 3 or other.shape[dim] != 3:
        raise RuntimeError(f"linalg.cross: inputs dimension {dim} must have length 3. Got {input.shape[dim]} and "
                           f"{other.shape[dim]}")
    dim = wrap_dim(dim, len(shape))
    if input.dtype is _dtype.bool_:
        raise _not_implemented("cross", input)
    exact_out_dtype(out, input.dtype)
    levi_civita = numpy.zeros((3, 3, 3), dtype=numpy.int8)
    for i, j, k in ((0, 1, 2), (1, 2, 0), (2, 0, 1)):
        levi_civita[i, j, k], levi_civita[j, i, k] = 1, -1
    levi_civita = levi_civita.astype(input._data.dtype)   # -1 wraps for uint8, as PyTorch's kernel subtracts
    letters = string.ascii_letters[:len(shape)]
    subs = [letters[:dim] + v + letters[dim + 1:] for v in "XYZ"]
    epsilon = _make(_xp(input).asarray(levi_civita))
    product = einsum(f"{subs[0]},{subs[1]},XYZ->{subs[2]}", input.expand(shape), other.expand(shape), epsilon)
    return write_out(out, name_node(product, "LinalgCrossBackward0"), "linalg.cross")


def diagonal(A, *, offset=0, dim1=-2, dim2=-1):
    """The diagonal (shifted by ``offset``) of the matrices in dims ``dim1`` and ``dim2``, as the last dim."""
    d1, d2 = wrap_dim(dim1, A.ndim), wrap_dim(dim2, A.ndim)
    if d1 == d2:
        raise RuntimeError(f"diagonal dimensions cannot be identical {dim1}, {dim2}")
    return A.diagonal(offset, d1, d2)
