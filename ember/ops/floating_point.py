"""Floating-point representation and steps: ldexp, frexp (mantissa and exponent), nextafter and heaviside, with
PyTorch's dtype rules; in-place forms where PyTorch has them."""
import numpy

from .. import _dtype
from .._backend import xp_of
from .._tensor import Tensor, _make
from ..autograd.function import Primitive, composite
from ._inplace import inplace_method
from ._util import check_same_device, promote_pair, quiet, tensor_method, write_out
from .pointwise._checks import _not_implemented, _require_tensors, _without_derivative
from .reduction import return_type
from .tuple_out import write_tuple

__all__ = ["ldexp", "ldexp_", "frexp", "nextafter", "heaviside"]

_frexp = return_type("frexp", ("mantissa", "exponent"))


@tensor_method
def ldexp(input, other, *, out=None):
    """``input * 2 ** other`` in the promoted floating dtype (the default float dtype for integer operands)."""
    _require_tensors("ldexp", input, other)
    floating = [t.dtype.is_floating_point or t.dtype.is_complex for t in (input, other)]
    if floating == [True, False] and (other.dtype is _dtype.bool_ or other.dtype.name in ("uint16", "uint32",
                                                                                        "uint64")):
        raise _not_implemented("ldexp_cpu_exp", other)   # PyTorch's kernel for a floating input's integer exponent
    # (an integer input's is input * 2.0 ** other: any integer or bool types, the default float dtype)
    target = _dtype.result_type(input, other) if any(floating) else _dtype.get_default_dtype()
    exponent = other.to(target)
    return write_out(out, input.to(target) * exponent.new_full((), 2.0).pow(exponent), "ldexp")


ldexp_ = inplace_method(ldexp)


class FrexpMantissa(Primitive):
    """The mantissa in [0.5, 1) of ``a = mantissa * 2 ** exponent``; the gradient is ``grad / 2 ** exponent``."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        # 16- and 32-bit floats through float64, where their subnormals are normal (CUDA's float32 frexp flushes
        # them to zero)
        wide = a.astype(numpy.float64) if a.dtype.itemsize <= 4 else a
        mantissa, exponent = ctx.xp.frexp(wide)
        ctx.scale = ctx.xp.exp2(-exponent.astype(wide.dtype)).astype(a.dtype)
        return mantissa.astype(a.dtype, copy=False)

    @staticmethod
    def backward(ctx, grad):
        return grad * _make(ctx.scale)


@tensor_method
@composite("frexp")   # seen whole at dispatch: the exponent is computed on the arrays
def frexp(input, *, out=None):
    """(mantissa, exponent) with ``input = mantissa * 2 ** exponent``, ``|mantissa|`` in [0.5, 1) and an int32
    exponent (both 0 for 0; inf and NaN keep their value with exponent 0)."""
    if not input.dtype.is_floating_point:
        raise RuntimeError("torch.frexp() only supports floating-point dtypes")
    data = input._data
    wide = data.astype(numpy.float64) if data.dtype.itemsize <= 4 else data
    if out is not None and out[1].dtype is not _dtype.int32:
        raise RuntimeError(f"torch.frexp() expects exponent to have int dtype but got {out[1].dtype}")
    exponent = _make(xp_of(wide).frexp(wide)[1].astype(numpy.int32))
    return write_tuple(out, _frexp(FrexpMantissa.apply(input), exponent))


class Nextafter(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, b):
        ctx.moved = a != b
        return ctx.xp.nextafter(a, b)

    @staticmethod
    def backward(ctx, grad):   # PyTorch's: grad passes to ``input`` where it moved, ``other`` gets zeros
        to_input = grad.where(_make(ctx.moved), 0.0) if ctx.needs_input_grad[0] else None
        return to_input, grad.new_zeros(grad.shape) if ctx.needs_input_grad[1] else None


@tensor_method
def nextafter(input, other, *, out=None):
    """The next representable float after ``input`` towards ``other``, elementwise (promoted float dtype)."""
    _require_tensors("nextafter", input, other)
    check_same_device(input, other)
    input, other = promote_pair(input, other)
    if not input.dtype.is_floating_point:
        raise _not_implemented("nextafter_cpu", input)
    return write_out(out, Nextafter.apply(input, other), "nextafter")


nextafter_ = inplace_method(nextafter)


@tensor_method
def heaviside(input, values, *, out=None):
    """The step function: 0 where ``input`` < 0, ``values`` where it is 0, 1 where > 0 (and 0 at NaN); both
    tensors must share a dtype. PyTorch defines no gradient for it."""
    for position, (label, value) in enumerate((("input", input), ("values", values)), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"heaviside(): argument '{label}' (position {position}) must be Tensor, not "
                            f"{type(value).__name__}")
    check_same_device(input, values)
    if input.dtype.is_complex or values.dtype.is_complex:
        raise RuntimeError("heaviside is not yet implemented for complex tensors.")
    if input.dtype is not values.dtype:
        raise RuntimeError("heaviside is not yet implemented for tensors with different dtypes.")

    def step(x, v):
        return v.where(x == 0, (x > 0).to(x.dtype))
    return write_out(out, _without_derivative("heaviside", step, input, values), "heaviside")


heaviside_ = inplace_method(heaviside)
