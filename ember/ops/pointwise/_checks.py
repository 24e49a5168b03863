"""Argument checks and derivative-less wrappers shared by the elementwise ops."""


from ... import _dtype
from ..._tensor import Tensor
from ...autograd.function import Primitive
from ...autograd.grad_mode import no_grad
from .._kernel_dtypes import _not_implemented  # noqa: F401 (shared with the elementwise ops)
from .._util import argument_error, promote_pair


# --- argument checks shared by many ops -------------------------------------------------------------------------
def _floating(input):
    """Integer and bool inputs of float-valued ops become the default float dtype, as in PyTorch."""
    try:
        if input.dtype.is_floating_point or input.dtype.is_complex:
            return input
    except AttributeError:   # not a tensor
        argument_error()
        raise
    return input.to(_dtype.get_default_dtype())


def _is_bool(value):
    return isinstance(value, Tensor) and value._data.dtype.kind == "b"


def _is_bool_operand(value):
    """A bool tensor or a Python bool."""
    return value is True or value is False or _is_bool(value)


def _is_integral(value):
    """True for integer and bool tensors."""
    return isinstance(value, Tensor) and value._data.dtype.kind in "biu"


def _require_tensors(name, input, other):
    """PyTorch's TypeError for ops whose both operands must be tensors."""
    for position, (label, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{label}' (position {position}) must be Tensor, not "
                            f"{type(value).__name__}")


def _promote_to_float(input, other):
    """Promotes two operands together, lifting an integer/bool result to the default float dtype."""
    promoted = promote_pair(input, other)
    if (promoted[0] if isinstance(promoted[0], Tensor) else promoted[1])._data.dtype.kind in "biu":
        target = _dtype.get_default_dtype()   # a number keeps its value (promote_pair wraps it into an int dtype)
        return tuple(p.to(target) if isinstance(p, Tensor) else float(o) for p, o in zip(promoted, (input, other)))
    return promoted


def _check_nonzero_divisor(divisor):
    """Integer division by zero is an error in PyTorch (NumPy returns 0 with a warning)."""
    if isinstance(divisor, Tensor):
        if divisor._data.dtype.kind in "iu" and not divisor._data.all():
            raise RuntimeError("ZeroDivisionError")
    elif isinstance(divisor, int) and divisor == 0:
        raise RuntimeError("ZeroDivisionError")


def _zero_grad(grad):
    """The zero derivative of a piecewise-constant op (round, sign, ...): zeros like ``grad``, as PyTorch's
    ``zeros_like`` (+0, also where ``grad`` is negative or NaN, which ``grad * 0`` would make -0 or NaN)."""
    return grad.new_zeros(grad.shape)


class NoDerivative(Primitive):
    """Passes an op's result through for an op PyTorch has no derivative for: its backward raises, naming the op."""

    @staticmethod
    def forward(ctx, result, input, other, op):
        ctx.op = op
        return result

    @staticmethod
    def backward(ctx, grad):
        raise RuntimeError(f"derivative for aten::{ctx.op} is not implemented")


def _not_implemented_name(node):
    return "torch::autograd::NotImplemented"


NoDerivative._node_cls.__name__ = NoDerivative._node_cls.__qualname__ = "NotImplemented"   # PyTorch's names
NoDerivative._node_cls.name = _not_implemented_name


def _without_derivative(op, function, input, other):
    """``function(input, other)`` computed outside the graph, its result linked to a node that raises in backward."""
    with no_grad():
        result = function(input, other)
    return NoDerivative.apply(result, input, other, op)   # the result as a tensor: a trace records how it was made
