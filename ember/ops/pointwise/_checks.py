"""Argument checks and derivative-less wrappers shared by the elementwise ops."""


from ... import _dtype
from ..._tensor import Tensor
from ...autograd.function import Primitive
from ...autograd.grad_mode import no_grad
from .._util import promote_pair


# --- argument checks shared by many ops -------------------------------------------------------------------------
def _floating(input):
    """Integer and bool inputs of float-valued ops become the default float dtype, as in PyTorch."""
    if input.dtype.is_floating_point or input.dtype.is_complex:
        return input
    return input.to(_dtype.get_default_dtype())


def _is_bool(value):
    return isinstance(value, Tensor) and value._data.dtype.kind == "b"


def _is_bool_operand(value):
    """A bool tensor or a Python bool."""
    return value is True or value is False or _is_bool(value)


def _is_integral(value):
    """True for integer and bool tensors."""
    return isinstance(value, Tensor) and value._data.dtype.kind in "biu"


def _not_implemented(kernel, input):
    """PyTorch's error for a dtype an op's kernel does not handle; ``input`` is a tensor or a dtype."""
    dtype = input if isinstance(input, _dtype.dtype) else input.dtype
    return NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(dtype)}\'')


# The dtypes a kernel dispatches on, as letters: f float32/float64, h float16, B bfloat16, c complex, l int64,
# i the other signed integers, u unsigned integers, b bool
_DTYPE_LETTER = {d: "b" if d is _dtype.bool_ else "l" if d is _dtype.int64 else "h" if d is _dtype.float16 else
                 "B" if d is _dtype.bfloat16 else "c" if d.is_complex else "f" if d.is_floating_point else
                 "i" if d.is_signed else "u" for d in _dtype.ALL}
FLOATING = "fhB"   # AT_DISPATCH_FLOATING_TYPES_AND2(Half, BFloat16): most of PyTorch's CPU nn kernels


def require_dtype(kernel, input, dtypes=FLOATING):
    """Raises PyTorch's NotImplementedError for ``kernel`` when ``input``'s dtype is not among the letters
    ``dtypes`` (see ``_DTYPE_LETTER``) it dispatches on; a non-tensor ``input`` is left to the op's own checks."""
    if isinstance(input, Tensor) and _DTYPE_LETTER[input.dtype] not in dtypes:
        raise _not_implemented(kernel, input)


def require_common_dtype(kernel, input, other, dtypes=FLOATING):
    """``require_dtype`` for a kernel that runs in the promoted dtype of two tensors."""
    if isinstance(input, Tensor) and isinstance(other, Tensor):
        common = input.dtype if input.dtype is other.dtype else _dtype.promote_types(input.dtype, other.dtype)
        if _DTYPE_LETTER[common] not in dtypes:
            raise _not_implemented(kernel, common)


def require_real_clamp(input):
    """PyTorch's error for clamping (clamp, relu, hardtanh) a complex tensor."""
    if isinstance(input, Tensor) and input.dtype.is_complex:
        raise NotImplementedError("clamp is not supported for complex types")


def hardtanh_limits(input, min_val, max_val):
    """hardtanh's limits for ``input``: whole numbers (truncated) for an integer input, which keeps its dtype as in
    PyTorch; bool and complex inputs and negative limits on unsigned ones raise PyTorch's errors."""
    letter = _DTYPE_LETTER[input.dtype]
    if letter in "fhB":
        return min_val, max_val
    if letter == "b":
        raise RuntimeError("Bool inputs not supported for hardtanh")
    require_real_clamp(input)
    min_val, max_val = int(min_val), int(max_val)
    if letter == "u" and (min_val < 0 or max_val < 0):
        raise RuntimeError("cannot do hardtanh on an unsigned type with negative limits")
    return min_val, max_val


def _require_tensors(name, input, other):
    """PyTorch's TypeError for ops whose both operands must be tensors."""
    for position, (label, value) in enumerate((("input", input), ("other", other)), 1):
        if not isinstance(value, Tensor):
            raise TypeError(f"{name}(): argument '{label}' (position {position}) must be Tensor, not "
                            f"{type(value).__name__}")


def _promote_to_float(input, other):
    """Promotes two operands together, lifting an integer/bool result to the default float dtype."""
    input, other = promote_pair(input, other)
    if (input if isinstance(input, Tensor) else other)._data.dtype.kind in "biu":
        target = _dtype.get_default_dtype()
        input, other = (o.to(target) if isinstance(o, Tensor) else o for o in (input, other))
    return input, other


def _check_nonzero_divisor(divisor):
    """Integer division by zero is an error in PyTorch (NumPy returns 0 with a warning)."""
    if isinstance(divisor, Tensor):
        if divisor._data.dtype.kind in "iu" and not divisor._data.all():
            raise RuntimeError("ZeroDivisionError")
    elif isinstance(divisor, int) and divisor == 0:
        raise RuntimeError("ZeroDivisionError")


def _zero_grad(grad):
    return grad * 0


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
