"""Number theory on integer tensors: gcd and lcm (and their in-place forms), with PyTorch's type promotion."""
import numpy

from ..autograd.function import Primitive
from ._inplace import inplace_method
from ._util import check_same_device, promote_pair, tensor_method, write_out
from .pointwise._checks import _not_implemented, _require_tensors

__all__ = ["gcd", "gcd_", "lcm", "lcm_"]


class Gcd(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        return ctx.xp.gcd(a, b)


class Lcm(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        # |a / gcd * b| computed in int64 (C++'s promotion of small ints) and wrapped to the dtype, as in PyTorch
        xp = ctx.xp
        divisor = xp.gcd(a, b)
        quotient = xp.floor_divide(a, xp.where(divisor == 0, 1, divisor)).astype(numpy.int64)
        return xp.abs(quotient * b.astype(numpy.int64)).astype(divisor.dtype)


def _integer_operands(name, input, other):
    _require_tensors(name, input, other)
    check_same_device(input, other)
    input, other = promote_pair(input, other)
    if input._data.dtype.kind not in "iu":
        raise _not_implemented(f"{name}_cpu", input)
    return input, other


@tensor_method
def gcd(input, other, *, out=None):
    """Elementwise greatest common divisor (non-negative) of two integer tensors; gcd(0, 0) is 0."""
    return write_out(out, Gcd.apply(*_integer_operands("gcd", input, other)), "gcd")


@tensor_method
def lcm(input, other, *, out=None):
    """Elementwise least common multiple (non-negative) of two integer tensors; 0 when either is 0."""
    return write_out(out, Lcm.apply(*_integer_operands("lcm", input, other)), "lcm")


gcd_ = inplace_method(gcd)
lcm_ = inplace_method(lcm)
