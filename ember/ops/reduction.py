"""Reductions over dims: sum, mean and friends, each with PyTorch's ``dim``/``keepdim`` arguments."""
from .. import _dtype
from ..autograd.function import Primitive
from ._util import tensor_method, wrap_dims, write_out

__all__ = ["sum", "mean"]


def _unsqueeze_to(grad, shape, dims, keepdim):
    """Reshapes a reduced gradient so it broadcasts against the input of shape ``shape``."""
    if keepdim or not dims:
        return grad
    return grad.reshape(tuple(1 if i in dims else s for i, s in enumerate(shape)))


class Sum(Primitive):
    @staticmethod
    def forward(ctx, a, dims, keepdim, dtype):
        ctx.shape, ctx.dims, ctx.keepdim = a.shape, dims, keepdim
        return a.sum(axis=dims, keepdims=keepdim, dtype=dtype)

    @staticmethod
    def backward(ctx, grad):
        return _unsqueeze_to(grad, ctx.shape, ctx.dims, ctx.keepdim).expand(ctx.shape)


def _sum_dtype(input, dtype):
    if dtype is not None:
        return _dtype.as_dtype(dtype).numpy
    if input.dtype._category <= _dtype._INT:
        return _dtype.int64.numpy   # PyTorch sums bool and integer tensors in int64
    return None


@tensor_method
def sum(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Sum of elements over ``dim`` (all dims when None)."""
    dims = wrap_dims(dim, input.ndim) if dim != () else tuple(range(input.ndim))
    return write_out(out, Sum.apply(input, dims, keepdim, _sum_dtype(input, dtype)), "sum")


@tensor_method
def mean(input, dim=None, keepdim=False, *, dtype=None, out=None):
    """Mean of elements over ``dim`` (all dims when None); floating inputs only, as in PyTorch."""
    if dtype is not None:
        input = input.to(dtype)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"mean(): could not infer output dtype. Input dtype must be either a floating point or "
                           f"complex dtype. Got: {_dtype.scalar_type_name(input.dtype)}")
    dims = wrap_dims(dim, input.ndim) if dim != () else tuple(range(input.ndim))
    count = 1
    for d in dims:
        count *= input.shape[d]
    return write_out(out, sum(input, dims, keepdim) / count if count else sum(input, dims, keepdim) * float("nan"),
                     "mean")
