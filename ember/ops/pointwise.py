"""Elementwise ops: arithmetic with broadcasting, unary math, rounding, bitwise and logical ops, and the in-place
helpers fill_/zero_/copy_. Each primitive's forward, backward and public function sit side by side."""
import math
import warnings

import numpy

from .. import _dtype
from .._backend import xp_of
from .._tensor import Tensor, _make
from ..autograd.function import Primitive, _broadcast_error
from ..autograd.grad_mode import no_grad
from ._inplace import assign_inplace, inplace_method
from ._util import quiet as _quiet
from ._util import check_same_device, name_node, promote, promote_pair, tensor_method, write_out
from .comparison import isfinite, isnan

__all__ = ["add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "fmod",
           "remainder", "neg", "negative", "positive", "reciprocal", "square", "abs", "absolute", "sign", "sgn",
           "exp", "exp2", "expm1", "log", "log2", "log10", "log1p", "sqrt", "rsqrt",
           "sin", "cos", "tan", "asin", "arcsin", "acos", "arccos", "atan", "arctan", "atan2", "arctan2",
           "sinh", "cosh", "tanh", "asinh", "arcsinh", "acosh", "arccosh", "atanh", "arctanh",
           "sigmoid", "logit", "relu", "erf", "erfc", "erfinv", "floor", "ceil", "round", "trunc", "fix", "frac",
           "clamp", "clip", "clamp_min", "clamp_max", "lerp", "where", "maximum", "minimum", "fmax", "fmin",
           "nan_to_num", "hypot", "logaddexp", "logaddexp2", "xlogy", "copysign", "deg2rad", "rad2deg",
           "addcmul", "addcdiv", "pow", "float_power", "logical_and", "logical_or", "logical_xor", "logical_not",
           "bitwise_and", "bitwise_or", "bitwise_xor", "bitwise_not", "bitwise_left_shift", "bitwise_right_shift"]

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
    return NoDerivative.apply(result._data, input, other, op)


# --- arithmetic ----------------------------------------------------------------------------------------------------
class Add(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None


class Mul(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        needs = ctx.needs_input_grad
        if needs[0] or needs[1]:
            ctx.save_for_backward(a if needs[1] else None, b if needs[0] else None)   # only what backward reads
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad * _conj(b) if ctx.needs_input_grad[0] else None,
                grad * _conj(a) if ctx.needs_input_grad[1] else None)


class Div(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad / _conj(b)
        return (grad_a if ctx.needs_input_grad[0] else None,
                -grad_a * _conj(a / b) if ctx.needs_input_grad[1] else None)


def _conj(t):
    """Complex conjugate where it matters (gradients of complex products); the operand itself otherwise."""
    if isinstance(t, Tensor):
        return t.conj() if t._data.dtype.kind == "c" else t
    return t.conjugate() if isinstance(t, complex) else t


class RoundedDiv(Primitive):
    """Division rounded toward zero ('trunc') or down ('floor'); its gradient is zero, as in PyTorch (DivBackward2)."""

    @staticmethod
    @_quiet
    def forward(ctx, a, b, rounding_mode):
        xp = ctx.xp
        integral = xp.asarray(a).dtype.kind in "iub" and xp.asarray(b).dtype.kind in "iub"
        if rounding_mode == "floor":
            return xp.floor_divide(a, b)
        if not integral:
            return xp.trunc(xp.true_divide(a, b))
        quotient = xp.floor_divide(a, b)
        return quotient + ((xp.remainder(a, b) != 0) & ((a < 0) != (b < 0)))

    @staticmethod
    def backward(ctx, grad):
        return _zero_grad(grad), _zero_grad(grad)


RoundedDiv._node_cls.__name__ = RoundedDiv._node_cls.__qualname__ = "DivBackward2"


class Neg(Primitive):
    @staticmethod
    def forward(ctx, a):
        return -a

    @staticmethod
    def backward(ctx, grad):
        return -grad


def _alpha(other, alpha):
    return other if alpha == 1 else other * alpha


@tensor_method("__add__", "__radd__")
def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting."""
    input, other = promote_pair(input, other if alpha == 1 else other * alpha)
    result = Add.apply(input, other)
    return result if out is None else write_out(out, result, "add")


def _check_bool_subtraction(input, other):
    if _is_bool_operand(input) and _is_bool_operand(other):
        raise RuntimeError("Subtraction, the `-` operator, with two bool tensors is not supported. Use the `^` or "
                           "`logical_xor()` operator instead.")
    if _is_bool_operand(input) or _is_bool_operand(other):
        raise RuntimeError("Subtraction, the `-` operator, with a bool tensor is not supported. If you are trying "
                           "to invert a mask, use the `~` or `logical_not()` operator instead.")


@tensor_method("__sub__")
def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other, broadcasting."""
    if _is_bool_operand(input) or _is_bool_operand(other):
        _check_bool_subtraction(input, other)
    input, other = promote_pair(input, _alpha(other, alpha))
    result = Sub.apply(input, other)
    return result if out is None else write_out(out, result, "sub")


subtract = sub


@tensor_method("__rsub__")
def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    result = sub(other, input, alpha=alpha)
    return name_node(result, "RsubBackward0" if isinstance(other, Tensor) else "RsubBackward1")


@tensor_method("__mul__", "__rmul__")
def mul(input, other, *, out=None):
    """input * other, broadcasting."""
    input, other = promote_pair(input, other)
    result = Mul.apply(input, other)
    return result if out is None else write_out(out, result, "mul")


multiply = mul


@tensor_method("__truediv__")
def div(input, other, *, rounding_mode=None, out=None):
    """input / other; integer inputs give a float result unless ``rounding_mode`` is 'trunc' or 'floor'."""
    if rounding_mode is None:
        input, other = _promote_to_float(input, other)
        return write_out(out, Div.apply(input, other), "div")
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    input, other = promote_pair(input, other)
    if _is_bool(input) or _is_bool(other):
        raise _not_implemented("div_" + rounding_mode + "_cpu", input if _is_bool(input) else other)
    _check_nonzero_divisor(other)
    return write_out(out, RoundedDiv.apply(input, other, rounding_mode), "div")


divide = true_divide = div
tensor_method("__rtruediv__")(lambda self, other: reciprocal(self) * other)   # as PyTorch computes ``number / x``


@tensor_method("__floordiv__")
def floor_divide(input, other, *, out=None):
    """input / other rounded down (Python's ``//``); not differentiable, as in PyTorch."""
    result = _without_derivative("floor_divide", lambda a, b: div(a, b, rounding_mode="floor"), input, other)
    return write_out(out, result, "floor_divide")


tensor_method("__rfloordiv__")(lambda self, other: floor_divide(other, self))


class Fmod(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.fmod(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad, -grad * div(a, b, rounding_mode="trunc") if ctx.needs_input_grad[1] else None


class Remainder(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return grad, -grad * div(a, b, rounding_mode="floor") if ctx.needs_input_grad[1] else None


def _modulo(name, primitive, input, other, out):
    input, other = promote_pair(input, other)
    bool_operand = input if _is_bool(input) else other if _is_bool(other) else None
    if bool_operand is not None:
        raise _not_implemented(name + "_cpu", bool_operand)
    _check_nonzero_divisor(other)
    if not isinstance(input, Tensor):   # number % tensor: PyTorch has no derivative for it
        return write_out(out, _without_derivative(name, primitive.apply, input, other), name)
    result = primitive.apply(input, other)
    if isinstance(other, Tensor):
        name_node(result, primitive.__name__ + "Backward1")
    return write_out(out, result, name)


@tensor_method
def fmod(input, other, *, out=None):
    """C-style remainder of input / other: the result has the sign of ``input``."""
    if not isinstance(input, Tensor):
        raise TypeError(f"fmod() received an invalid combination of arguments - got ({type(input).__name__}, "
                        f"{type(other).__name__}), but expected (Tensor input, Tensor other, *, Tensor out = None)")
    return _modulo("fmod", Fmod, input, other, out)


@tensor_method("__mod__")
def remainder(input, other, *, out=None):
    """Python-style remainder of input / other: the result has the sign of ``other``."""
    return _modulo("remainder", Remainder, input, other, out)


tensor_method("__rmod__")(lambda self, other: remainder(other, self))


@tensor_method("__neg__")
def neg(input, *, out=None):
    """-input."""
    if _is_bool(input):
        raise RuntimeError("Negation, the `-` operator, on a bool tensor is not supported. If you are trying to "
                           "invert a mask, use the `~` or `logical_not()` operator instead.")
    return write_out(out, Neg.apply(input), "neg")


negative = neg


@tensor_method("__pos__")
def positive(input):
    """input itself (unary plus); an error for bool tensors, as in PyTorch."""
    if _is_bool(input):
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


@tensor_method
def reciprocal(input, *, out=None):
    """1 / input; integer inputs give the default float dtype."""
    return write_out(out, name_node(div(1.0, _floating(input)), "ReciprocalBackward0"), "reciprocal")


@tensor_method
def square(input, *, out=None):
    """input * input; bool inputs give int64, as in PyTorch."""
    if _is_bool(input):
        input = input.to(_dtype.int64)
    return write_out(out, pow(input, 2), "square")


@tensor_method
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    for operand in (input, tensor1, tensor2):
        if _is_bool(operand):
            raise _not_implemented("addcmul_cpu_out", operand)
    if _dtype.result_type(input, tensor1, tensor2)._category == _dtype._INT:
        value = int(value)   # PyTorch casts ``value`` to the integer result type
    return write_out(out, name_node(add(input, mul(tensor1, tensor2), alpha=value), "AddcmulBackward0"), "addcmul")


@tensor_method
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2 (floating tensor1 and tensor2 only, as in PyTorch)."""
    if _is_integral(tensor1) and _is_integral(tensor2):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")
    return write_out(out, name_node(add(input, div(tensor1, tensor2), alpha=value), "AddcdivBackward0"), "addcdiv")


def _check_same_dtype(name, input, value):
    if isinstance(value, Tensor) and value.dtype is not input.dtype:
        raise RuntimeError(f"expected dtype {_dtype.scalar_type_name(input.dtype).lower()} for `{name}` but got "
                           f"dtype {_dtype.scalar_type_name(value.dtype).lower()}")


@tensor_method
def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); ``weight`` is a number or a tensor of input's dtype."""
    if not input.dtype.is_floating_point:
        raise _not_implemented("lerp_kernel_scalar", input)
    _check_same_dtype("end", input, end)
    _check_same_dtype("weight", input, weight)
    variant = 1 if isinstance(weight, Tensor) else 0
    result = name_node(input + weight * (end - input), f"LerpBackward{variant}")
    return write_out(out, result, "lerp")


for _function in (add, sub, mul, div, neg, floor_divide, fmod, remainder, reciprocal, square, addcmul, addcdiv,
                  lerp):
    inplace_method(_function)
for _alias, _function in (("subtract_", sub), ("multiply_", mul), ("divide_", div), ("true_divide_", div),
                          ("negative_", neg)):
    inplace_method(_function, _alias)


# --- powers ----------------------------------------------------------------------------------------------------------
class Pow(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        xp = ctx.xp
        if hasattr(b, "dtype") and b.dtype.kind in "iu" and xp.asarray(a).dtype.kind in "iu":
            # PyTorch's integer powers: negative exponents give 0 except for bases 1 and -1; NumPy raises.
            result = xp.where((b < 0) & (xp.abs(a) != 1), 0, xp.power(a, xp.abs(b))).astype(b.dtype, copy=False)
        else:
            result = xp.asarray(a ** b)
        ctx.save_for_backward(a, b, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, b, result = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = _pow_base_grad(grad, a, b)
        if ctx.needs_input_grad[1]:
            grad_b = _pow_exponent_grad(grad, a, b, result)
        return grad_a, grad_b


def _pow_base_grad(grad, a, b):
    if not isinstance(b, Tensor):
        return _zero_grad(grad) if b == 0 else grad * (b * a ** (b - 1))
    return where(b == 0, 0.0, grad * (b * a ** (b - 1)))


def _pow_exponent_grad(grad, a, b, result):
    """d(a**b)/db = a**b * log(a), taken as 0 where a == 0 and b >= 0 (PyTorch's convention)."""
    if not isinstance(a, Tensor):
        log_a = math.log(a) if a > 0 else float("nan") if a < 0 else float("-inf")
        return grad * where(b >= 0, 0.0, result * log_a) if a == 0 else grad * (result * log_a)
    return grad * where((a == 0) & (b >= 0), 0.0, result * log(a))


@tensor_method("__pow__")
def pow(input, exponent, *, out=None):
    """input raised to ``exponent``, elementwise and broadcasting; either may be a number."""
    input, exponent = promote_pair(input, exponent)
    for operand in (input, exponent):
        if _is_bool(operand):
            raise _not_implemented("pow", operand)
    if _is_integral(input) and isinstance(exponent, int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    result = Pow.apply(input, exponent)
    if not isinstance(input, Tensor):
        name_node(result, "PowBackward2")
    elif isinstance(exponent, Tensor):
        name_node(result, "PowBackward1")
    return write_out(out, result, "pow")


tensor_method("__rpow__")(lambda self, other: pow(other, self))
inplace_method(pow)


def _as_float64(value):
    if isinstance(value, Tensor):
        return value.to(_dtype.complex128 if value.dtype.is_complex else _dtype.float64)
    return complex(value) if isinstance(value, complex) else float(value)


@tensor_method
def float_power(input, exponent, *, out=None):
    """input ** exponent computed in double precision (float64 result)."""
    return write_out(out, pow(_as_float64(input), _as_float64(exponent)), "float_power")


def float_power_(self, exponent):
    """In-place float_power; self must already be float64."""
    if self.dtype is not _dtype.float64:
        raise RuntimeError(f"the base given to float_power_ has dtype {_dtype.scalar_type_name(self.dtype)} but "
                           "the operation's result requires dtype Double")
    return self.pow_(_as_float64(exponent))


Tensor.float_power_ = float_power_


# --- exponentials and logarithms -------------------------------------------------------------------------------------
class Exp(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        result = ctx.xp.asarray(ctx.xp.exp(a))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * result


class Exp2(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        result = ctx.xp.asarray(ctx.xp.exp2(a))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * (result * math.log(2.0))


class Expm1(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        result = ctx.xp.asarray(ctx.xp.expm1(a))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * (result + 1)


class Log(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.log(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / a


class Log2(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.log2(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (a * math.log(2.0))


class Log10(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.log10(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (a * math.log(10.0))


class Log1p(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.log1p(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (a + 1)


Log1p._node_cls.__name__ = Log1p._node_cls.__qualname__ = "Log1PBackward0"


class Sqrt(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        result = ctx.xp.asarray(ctx.xp.sqrt(a))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad / (2 * result)


class Rsqrt(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        result = ctx.xp.asarray(1 / ctx.xp.sqrt(a))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * (-0.5 * result * result * result)


# --- trigonometric and hyperbolic functions --------------------------------------------------------------------------
class Sin(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.sin(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * cos(a)


class Cos(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.cos(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * -sin(a)


class Tan(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        result = ctx.xp.asarray(ctx.xp.tan(a))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * (1 + result * result)


class Asin(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.arcsin(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * rsqrt(1 - a * a)


class Acos(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.arccos(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * -rsqrt(1 - a * a)


class Atan(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.arctan(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (1 + a * a)


class Atan2(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.arctan2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        scale = grad / (a * a + b * b)
        return (scale * b if ctx.needs_input_grad[0] else None,
                scale * -a if ctx.needs_input_grad[1] else None)


class Sinh(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.sinh(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * cosh(a)


class Cosh(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.cosh(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * sinh(a)


class Tanh(Primitive):
    @staticmethod
    def forward(ctx, a):
        result = ctx.xp.asarray(ctx.xp.tanh(a))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * (1 - result * result)


class Asinh(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.arcsinh(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * rsqrt(a * a + 1)


class Acosh(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.arccosh(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * rsqrt(a * a - 1)


class Atanh(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.arctanh(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / (1 - a * a)


# --- special functions ---------------------------------------------------------------------------------------------
class Sigmoid(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        xp = ctx.xp
        result = xp.asarray(xp.exp(-xp.logaddexp(0, -a)).astype(a.dtype, copy=False))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * result * (1 - result)


class Logit(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, eps):
        ctx.save_for_backward(a)
        ctx.eps = eps
        z = a if eps is None else ctx.xp.clip(a, eps, 1 - eps)
        return ctx.xp.log(z / (1 - z))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        low, high = (0.0, 1.0) if ctx.eps is None else (ctx.eps, 1 - ctx.eps)
        outside = 0.0 if ctx.eps is not None else float("nan")
        return where((a < low) | (a > high), outside, grad / (a * (1 - a)))


class Relu(Primitive):
    @staticmethod
    def forward(ctx, a):
        result = ctx.xp.asarray(ctx.xp.maximum(a, 0).astype(a.dtype, copy=False))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return ReluGrad.apply(grad, result)


class ReluGrad(Primitive):
    """``grad`` where relu's ``result`` is positive, else 0; one op instead of a comparison and a product."""

    @staticmethod
    def forward(ctx, grad, result):
        ctx.save_for_backward(result)
        return grad * (result > 0)

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return ReluGrad.apply(grad, result), None


ReluGrad._node_cls.__name__ = ReluGrad._node_cls.__qualname__ = "ThresholdBackwardBackward0"   # PyTorch's name


# Cephes' rational approximations of erf and erfc (double precision), evaluated on whole arrays.
_ERF_T = (9.60497373987051638749E0, 9.00260197203842689217E1, 2.23200534594684319226E3, 7.00332514112805075473E3,
          5.55923013010394962768E4)
_ERF_U = (1.0, 3.35617141647503099647E1, 5.21357949780152679795E2, 4.59432382970980127987E3,
          2.26290000613890934246E4, 4.92673942608635921086E4)
_ERFC_P = (2.46196981473530512524E-10, 5.64189564831068821977E-1, 7.46321056442269912687E0,
           4.86371970985681366614E1, 1.96520832956077098242E2, 5.26445194995477358631E2, 9.34528527171957607540E2,
           1.02755188689515710272E3, 5.57535335369399327526E2)
_ERFC_Q = (1.0, 1.32281951154744992508E1, 8.67072140885989742329E1, 3.54937778887819891062E2,
           9.75708501743205489753E2, 1.82390916687909736289E3, 2.24633760818710981792E3, 1.65666309194161350182E3,
           5.57535340817727675546E2)
_ERFC_R = (5.64189583547755073984E-1, 1.27536670759978104416E0, 5.01905042251180477414E0, 6.16021097993053585195E0,
           7.40974269950448939160E0, 2.97886665372100240670E0)
_ERFC_S = (1.0, 2.26052863220117276590E0, 9.39603524938001434673E0, 1.20489539808096656605E1,
           1.70814450747565897222E1, 9.60896809063285878198E0, 3.36907645100081516050E0)
# Giles' single-precision erfinv ("Approximating the erfinv function", 2010), refined by Newton steps.
_ERFINV_CENTRAL = (2.81022636e-08, 3.43273939e-07, -3.5233877e-06, -4.39150654e-06, 0.00021858087,
                   -0.00125372503, -0.00417768164, 0.246640727, 1.50140941)
_ERFINV_TAIL = (-0.000200214257, 0.000100950558, 0.00134934322, -0.00367342844, 0.00573950773, -0.0076224613,
                0.00943887047, 1.00167406, 2.83297682)


def _polynomial(x, coefficients):
    """Horner's rule; coefficients from the highest power down."""
    result = coefficients[0]
    for c in coefficients[1:]:
        result = result * x + c
    return result


def _erf_small(x):
    """erf(x) for |x| <= 1."""
    z = x * x
    return x * _polynomial(z, _ERF_T) / _polynomial(z, _ERF_U)


def _erfc_large(xp, ax):
    """erfc(ax) for ax >= 1."""
    ax = xp.minimum(ax, 40.0)   # erfc underflows to 0 long before; keeps inf out of the ratios
    near = _polynomial(ax, _ERFC_P) / _polynomial(ax, _ERFC_Q)
    far = _polynomial(ax, _ERFC_R) / _polynomial(ax, _ERFC_S)
    return xp.exp(-ax * ax) * xp.where(ax < 8.0, near, far)


def _erf64(xp, x):
    ax = xp.abs(x)
    return xp.where(ax <= 1.0, _erf_small(x), xp.copysign(1.0 - _erfc_large(xp, ax), x))


def _erfc64(xp, x):
    ax = xp.abs(x)
    tail = _erfc_large(xp, ax)
    return xp.where(ax < 1.0, 1.0 - _erf_small(x), xp.where(x < 0, 2.0 - tail, tail))


def _erfinv64(xp, y):
    w = -xp.log((1.0 - y) * (1.0 + y))
    central = _polynomial(w - 2.5, _ERFINV_CENTRAL)
    tail = _polynomial(xp.sqrt(w) - 3.0, _ERFINV_TAIL)
    x = xp.where(w < 5.0, central, tail) * y
    ay, sign = xp.abs(y), xp.sign(y)
    for _ in range(4):   # from single-precision accuracy (or worse beyond its range) to double
        x = xp.where(ay <= 0.5, _erf_newton_step(xp, x, y), sign * _log_erfc_newton_step(xp, xp.abs(x), 1.0 - ay))
    return xp.where(ay == 1.0, sign * math.inf, x)


def _erf_newton_step(xp, x, y):
    return x - (_erf64(xp, x) - y) / (2.0 / math.sqrt(math.pi) * xp.exp(-x * x))


def _log_erfc_newton_step(xp, ax, target):
    """Newton on log(erfc(ax)) = log(target): near |y| = 1 the residual keeps its digits and converges fast."""
    tail = _erfc64(xp, ax)
    slope = -2.0 / math.sqrt(math.pi) * xp.exp(-ax * ax) / tail
    return ax - (xp.log(tail) - xp.log(target)) / slope


def _in_float64(function, xp, a):
    """Runs an array function in float64 and returns the result in a's dtype."""
    return function(xp, a.astype(numpy.float64, copy=False)).astype(a.dtype, copy=False)


class Erf(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _in_float64(_erf64, ctx.xp, a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * (2 / math.sqrt(math.pi) * exp(-a * a))


class Erfc(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _in_float64(_erfc64, ctx.xp, a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * (-2 / math.sqrt(math.pi) * exp(-a * a))


class Erfinv(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        result = ctx.xp.asarray(_in_float64(_erfinv64, ctx.xp, a))
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * (math.sqrt(math.pi) / 2 * exp(result * result))


def _float_unary(primitive, name, doc):
    """Defines the public function of a float-valued unary primitive, its Tensor method and in-place variant."""
    def function(input, *, out=None):
        return write_out(out, primitive.apply(_floating(input)), name)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    tensor_method(function)
    inplace_method(function)
    return function


exp = _float_unary(Exp, "exp", "e to the power of each element.")
exp2 = _float_unary(Exp2, "exp2", "2 to the power of each element.")
expm1 = _float_unary(Expm1, "expm1", "exp(input) - 1, accurate for small inputs.")
log = _float_unary(Log, "log", "Natural logarithm of each element.")
log2 = _float_unary(Log2, "log2", "Base-2 logarithm of each element.")
log10 = _float_unary(Log10, "log10", "Base-10 logarithm of each element.")
log1p = _float_unary(Log1p, "log1p", "log(1 + input), accurate for small inputs.")
sqrt = _float_unary(Sqrt, "sqrt", "Square root of each element.")
rsqrt = _float_unary(Rsqrt, "rsqrt", "1 / sqrt(input).")
sin = _float_unary(Sin, "sin", "Sine (radians).")
cos = _float_unary(Cos, "cos", "Cosine (radians).")
tan = _float_unary(Tan, "tan", "Tangent (radians).")
asin = _float_unary(Asin, "asin", "Inverse sine.")
acos = _float_unary(Acos, "acos", "Inverse cosine.")
atan = _float_unary(Atan, "atan", "Inverse tangent.")
sinh = _float_unary(Sinh, "sinh", "Hyperbolic sine.")
cosh = _float_unary(Cosh, "cosh", "Hyperbolic cosine.")
tanh = _float_unary(Tanh, "tanh", "Hyperbolic tangent.")
asinh = _float_unary(Asinh, "asinh", "Inverse hyperbolic sine.")
acosh = _float_unary(Acosh, "acosh", "Inverse hyperbolic cosine.")
atanh = _float_unary(Atanh, "atanh", "Inverse hyperbolic tangent.")
sigmoid = _float_unary(Sigmoid, "sigmoid", "1 / (1 + exp(-input)), computed without overflow.")
erf = _float_unary(Erf, "erf", "The Gauss error function.")
erfc = _float_unary(Erfc, "erfc", "1 - erf(input), accurate where erf(input) is near 1.")
erfinv = _float_unary(Erfinv, "erfinv", "The inverse of erf, on [-1, 1].")
arcsin, arccos, arctan, arcsinh, arccosh, arctanh = asin, acos, atan, asinh, acosh, atanh
for _alias, _function in (("arcsin", asin), ("arccos", acos), ("arctan", atan), ("arcsinh", asinh),
                          ("arccosh", acosh), ("arctanh", atanh)):
    setattr(Tensor, _alias, _function)
    inplace_method(_function, _alias + "_")


@tensor_method
def atan2(input, other, *, out=None):
    """The angle of the point (other, input), in (-pi, pi]."""
    _require_tensors("atan2", input, other)
    input, other = _promote_to_float(input, other)
    return write_out(out, Atan2.apply(input, other), "atan2")


arctan2 = atan2
Tensor.arctan2 = atan2
inplace_method(atan2)
inplace_method(atan2, "arctan2_")


@tensor_method
def logit(input, eps=None, *, out=None):
    """log(p / (1 - p)); with ``eps``, p is first clamped to [eps, 1 - eps]."""
    return write_out(out, Logit.apply(_floating(input), eps), "logit")


@tensor_method
def relu(input):
    """max(input, 0) elementwise."""
    if input._data.dtype.kind == "b":
        raise RuntimeError("Boolean inputs not supported for relu")
    return Relu.apply(input)


@tensor_method
def deg2rad(input, *, out=None):
    """Degrees to radians."""
    return write_out(out, name_node(_floating(input) * (math.pi / 180), "Deg2RadBackward0"), "deg2rad")


@tensor_method
def rad2deg(input, *, out=None):
    """Radians to degrees."""
    return write_out(out, name_node(_floating(input) * (180 / math.pi), "Rad2DegBackward0"), "rad2deg")


for _function in (logit, relu, deg2rad, rad2deg):
    inplace_method(_function)


# --- sign, magnitude and rounding --------------------------------------------------------------------------------
class Abs(Primitive):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.abs(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        if a.is_complex():   # sgn(a) = a / |a| varies with a, so it must stay in the graph for double backward
            magnitude = abs(a)
            return grad * (a / magnitude.where(magnitude != 0, 1.0))
        return grad * sign(a)


class Sign(Primitive):
    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        if a.dtype.kind == "b":
            return a.copy()
        result = xp.sign(a)
        return xp.where(xp.isnan(result), 0, result).astype(a.dtype, copy=False) if a.dtype.kind == "f" else result

    @staticmethod
    def backward(ctx, grad):
        return _zero_grad(grad)


class Round(Primitive):
    """floor, ceil, trunc and round (with decimals) as one primitive: all have zero gradient."""

    @staticmethod
    @_quiet
    def forward(ctx, a, mode, decimals):
        xp = ctx.xp
        if a.dtype.kind in "iu":
            return a.copy()
        if mode == "round":
            return xp.round(a, decimals)
        return getattr(xp, mode)(a)

    @staticmethod
    def backward(ctx, grad):
        return _zero_grad(grad)


class Frac(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a):
        return a - ctx.xp.trunc(a)

    @staticmethod
    def backward(ctx, grad):
        return grad


@tensor_method("__abs__")
def abs(input, *, out=None):
    """Absolute value of each element."""
    if _is_bool(input):
        raise _not_implemented("abs_cpu", input)
    return write_out(out, Abs.apply(input), "abs")


absolute = abs
Tensor.absolute = abs


@tensor_method
def sign(input, *, out=None):
    """-1, 0 or 1 by the sign of each element (0 for NaN, as in PyTorch)."""
    return write_out(out, Sign.apply(input), "sign")


@tensor_method
def sgn(input, *, out=None):
    """sign for real inputs; input / |input| for complex ones."""
    if input.dtype.is_complex:
        magnitude = abs(input)
        return write_out(out, name_node(where(magnitude == 0, 0, input / magnitude), "SgnBackward0"), "sgn")
    return write_out(out, name_node(sign(input), "SgnBackward0"), "sgn")


def _rounding(mode, input, decimals=0):
    if _is_bool(input):
        raise _not_implemented(f"{mode}_vml_cpu", input)
    if decimals and not input.dtype.is_floating_point:
        raise _not_implemented(f"{mode}_cpu", input)
    result = Round.apply(input, mode, decimals)
    return name_node(result, "RoundBackward1" if decimals else mode.capitalize() + "Backward0")


@tensor_method
def floor(input, *, out=None):
    """The largest integer not greater than each element."""
    return write_out(out, _rounding("floor", input), "floor")


@tensor_method
def ceil(input, *, out=None):
    """The smallest integer not less than each element."""
    return write_out(out, _rounding("ceil", input), "ceil")


@tensor_method
def trunc(input, *, out=None):
    """Each element rounded toward zero."""
    return write_out(out, _rounding("trunc", input), "trunc")


fix = trunc
Tensor.fix = trunc


@tensor_method
def round(input, *, decimals=0, out=None):
    """Each element rounded to ``decimals`` decimal places, halves to even."""
    return write_out(out, _rounding("round", input, decimals), "round")


@tensor_method
def frac(input, *, out=None):
    """The fractional part: input - trunc(input)."""
    if not input.dtype.is_floating_point:
        raise _not_implemented("frac_cpu", input)
    return write_out(out, Frac.apply(input), "frac")


for _function in (abs, sign, sgn, floor, ceil, trunc, round, frac):
    inplace_method(_function)
inplace_method(abs, "absolute_")
inplace_method(trunc, "fix_")


# --- binary maxima, clamping and selection ---------------------------------------------------------------------------
class Maximum(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.maximum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _tie_split_grads(ctx, grad, a, b, a < b, a > b)


class Minimum(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.minimum(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _tie_split_grads(ctx, grad, a, b, a > b, a < b)


def _tie_split_grads(ctx, grad, a, b, a_loses, b_loses):
    """Where a == b each side gets half the gradient; the losing side gets none (PyTorch's rule)."""
    shared = where(a == b, grad / 2, grad)
    return (where(a_loses, 0.0, shared) if ctx.needs_input_grad[0] else None,
            where(b_loses, 0.0, shared) if ctx.needs_input_grad[1] else None)


class Fmax(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.fmax(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _nan_ignoring_grads(ctx, grad, (a >= b) | isnan(b))


class Fmin(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.fmin(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return _nan_ignoring_grads(ctx, grad, (a <= b) | isnan(b))


def _nan_ignoring_grads(ctx, grad, a_wins):
    return (where(a_wins, grad, 0.0) if ctx.needs_input_grad[0] else None,
            where(a_wins, 0.0, grad) if ctx.needs_input_grad[1] else None)


def _binary_tensor_op(name, primitive):
    def function(input, other, *, out=None):
        _require_tensors(name, input, other)
        input, other = promote_pair(input, other)
        return write_out(out, primitive.apply(input, other), name)
    function.__name__ = function.__qualname__ = name
    return tensor_method(function)


maximum = _binary_tensor_op("maximum", Maximum)
maximum.__doc__ = "Elementwise maximum of two tensors (NaN if either is NaN)."
minimum = _binary_tensor_op("minimum", Minimum)
minimum.__doc__ = "Elementwise minimum of two tensors (NaN if either is NaN)."
fmax = _binary_tensor_op("fmax", Fmax)
fmax.__doc__ = "Elementwise maximum of two tensors, ignoring a NaN when the other value is a number."
fmin = _binary_tensor_op("fmin", Fmin)
fmin.__doc__ = "Elementwise minimum of two tensors, ignoring a NaN when the other value is a number."


class Clamp(Primitive):
    @staticmethod
    def forward(ctx, a, low, high):
        ctx.save_for_backward(a, low, high)
        result = a if low is None else ctx.xp.maximum(a, low)
        return result if high is None else ctx.xp.minimum(result, high)

    @staticmethod
    def backward(ctx, grad):
        a, low, high = ctx.saved_tensors
        above, below = (None if low is None else a >= low), (None if high is None else a <= high)
        inside = above if below is None else below if above is None else above & below
        grad_low = grad_high = None
        if ctx.needs_input_grad[1]:
            clamped_low = ~above if high is None else ~above & (low < high)
            grad_low = where(clamped_low, grad, 0.0)
        if ctx.needs_input_grad[2]:
            clamped_high = ~below if low is None else ~below | (high < low)
            grad_high = where(clamped_high, grad, 0.0)
        return where(inside, grad, 0.0) if ctx.needs_input_grad[0] else None, grad_low, grad_high


@tensor_method
def clamp(input, min=None, max=None, *, out=None):
    """Each element limited to [min, max]; bounds are numbers or tensors, and either may be None."""
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    input, low, high = promote(input, min, max)
    result = Clamp.apply(input, low, high)
    tensor_bounds = isinstance(min, Tensor) or isinstance(max, Tensor)
    return write_out(out, name_node(result, "ClampBackward0" if tensor_bounds else "ClampBackward1"), "clamp")


clip = clamp
Tensor.clip = clamp


@tensor_method
def clamp_min(input, min, *, out=None):
    """Each element limited from below by ``min``."""
    result = name_node(clamp(input, min, None), "ClampMinBackward1" if isinstance(min, Tensor) else "ClampMinBackward0")
    return write_out(out, result, "clamp_min")


@tensor_method
def clamp_max(input, max, *, out=None):
    """Each element limited from above by ``max``."""
    result = name_node(clamp(input, None, max), "ClampMaxBackward1" if isinstance(max, Tensor) else "ClampMaxBackward0")
    return write_out(out, result, "clamp_max")


for _function in (clamp, clamp_min, clamp_max):
    inplace_method(_function)
inplace_method(clamp, "clip_")


class Where(Primitive):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        return ctx.xp.where(condition, a, b)

    @staticmethod
    def backward(ctx, grad):
        condition, = ctx.saved_tensors
        return (None,
                where(condition, grad, 0.0) if ctx.needs_input_grad[1] else None,
                where(condition, 0.0, grad) if ctx.needs_input_grad[2] else None)


def where(condition, input=None, other=None, *, out=None):
    """Elements of ``input`` where ``condition`` holds, else of ``other`` (either may be a number).

    With only ``condition``, the indices of its nonzero elements as a tuple of 1-d tensors.
    """
    if input is None and other is None:
        data = condition._data.reshape(1) if condition.ndim == 0 else condition._data
        return tuple(_make(index.astype(numpy.int64, copy=False)) for index in data.nonzero())
    if condition.dtype is _dtype.uint8:
        warnings.warn("where received a uint8 condition tensor. This behavior is deprecated and will be removed in "
                      "a future version of PyTorch. Use a boolean condition instead.", UserWarning, stacklevel=2)
        condition = condition.to(_dtype.bool_)
    elif condition.dtype is not _dtype.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_dtype.scalar_type_name(condition.dtype)}")
    target = _dtype.result_type(input, other)
    xp = xp_of(condition._data)
    input, other = (v.to(target) if isinstance(v, Tensor) else _make(xp.asarray(v, dtype=target.numpy))
                    for v in (input, other))
    return write_out(out, Where.apply(condition, input, other), "where")


Tensor.where = lambda self, condition, other: where(condition, self, other)
Tensor.where.__doc__ = "``where(condition, self, other)``."


class NanToNum(Primitive):
    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        ctx.save_for_backward(a)
        return ctx.xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * isfinite(a)


@tensor_method
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: the dtype's extremes)."""
    if not input.dtype.is_floating_point:
        return write_out(out, input.clone(), "nan_to_num")
    return write_out(out, NanToNum.apply(input, nan, posinf, neginf), "nan_to_num")


inplace_method(nan_to_num)


# --- other binary math ---------------------------------------------------------------------------------------------
class Hypot(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        result = ctx.xp.asarray(ctx.xp.hypot(a, b))
        ctx.save_for_backward(a, b, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, b, result = ctx.saved_tensors
        return (grad * a / result if ctx.needs_input_grad[0] else None,
                grad * b / result if ctx.needs_input_grad[1] else None)


class Logaddexp(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.logaddexp(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad / (1 + exp(b - a)) if ctx.needs_input_grad[0] else None,
                grad / (1 + exp(a - b)) if ctx.needs_input_grad[1] else None)


class Logaddexp2(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return ctx.xp.logaddexp2(a, b)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad / (1 + exp2(b - a)) if ctx.needs_input_grad[0] else None,
                grad / (1 + exp2(a - b)) if ctx.needs_input_grad[1] else None)


class Xlogy(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        xp = ctx.xp
        ctx.save_for_backward(a, b)
        return xp.where((a == 0) & ~xp.isnan(b), 0, a * xp.log(b)).astype(xp.result_type(a, b), copy=False)

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = where((a == 0) & (b <= 0), 0.0, xlogy(grad, b))
        if ctx.needs_input_grad[1]:
            grad_b = grad * a / b
        return grad_a, grad_b


class Copysign(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        result = ctx.xp.asarray(ctx.xp.copysign(a, b))
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        return (where(a == 0, 0.0, grad * (result / a)) if ctx.needs_input_grad[0] else None,
                _zero_grad(grad) if ctx.needs_input_grad[1] else None)


def _float_binary(name, primitive, input, other, out):
    _require_tensors(name, input, other)
    input, other = promote_pair(input, other)
    if not input.dtype.is_floating_point:
        raise _not_implemented(name + "_cpu", input)
    return write_out(out, primitive.apply(input, other), name)


@tensor_method
def hypot(input, other, *, out=None):
    """sqrt(input**2 + other**2) without overflow."""
    return _float_binary("hypot", Hypot, input, other, out)


@tensor_method
def logaddexp(input, other, *, out=None):
    """log(exp(input) + exp(other)) without overflow."""
    return _float_binary("logaddexp", Logaddexp, input, other, out)


@tensor_method
def logaddexp2(input, other, *, out=None):
    """log2(2**input + 2**other) without overflow."""
    return _float_binary("logaddexp2", Logaddexp2, input, other, out)


@tensor_method
def xlogy(input, other, *, out=None):
    """input * log(other), taken as 0 where input == 0 (unless other is NaN); either may be a number."""
    input, other = _promote_to_float(input, other)
    return write_out(out, Xlogy.apply(input, other), "xlogy")


@tensor_method
def copysign(input, other, *, out=None):
    """|input| with the sign of ``other``; integer inputs give the default float dtype."""
    if not isinstance(input, Tensor):
        raise TypeError(f"copysign() received an invalid combination of arguments - got ({type(input).__name__}, "
                        f"{type(other).__name__}), but expected (Tensor input, Tensor other, *, Tensor out = None)")
    input, other = _promote_to_float(input, other)
    return write_out(out, Copysign.apply(input, other), "copysign")


for _function in (hypot, xlogy, copysign):
    inplace_method(_function)


# --- logical and bitwise ops -----------------------------------------------------------------------------------------
def _elementwise_result(array_function, input, other):
    """A non-differentiable result of ``xp.<array_function>`` on two operands (tensors or numbers), with PyTorch's
    message when the shapes do not broadcast."""
    a = input._data if isinstance(input, Tensor) else input
    b = other._data if isinstance(other, Tensor) else other
    xp = xp_of(a if isinstance(input, Tensor) else b)
    try:
        return _make(xp.asarray(getattr(xp, array_function)(a, b)))
    except ValueError as error:
        raise _broadcast_error((input, other)) or error


def _logical(name):
    def function(input, other, *, out=None):
        _require_tensors(name, input, other)
        check_same_device(input, other)
        return write_out(out, _elementwise_result(name, input, other), name)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise {name.split('_')[1].upper()} of the truth values of input and other (bool)."
    tensor_method(function)
    inplace_method(function)
    return function


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


@tensor_method
def logical_not(input, *, out=None):
    """Elementwise NOT of the truth values of input (a bool tensor)."""
    return write_out(out, _make(xp_of(input._data).asarray(~input._data.astype(bool))), "logical_not")


inplace_method(logical_not)


def _check_bitwise_operand(name, value):
    if isinstance(value, Tensor) and value._data.dtype.kind not in "biu":
        raise _not_implemented(f"{name}_cpu", value)
    if isinstance(value, float):
        raise _not_implemented(f"{name}_cpu", _dtype.get_default_dtype())


def _integer_operands(input, other):
    """Both operands promoted together, a Python number as a 0-d array of the result dtype (wrapping around like
    PyTorch's cast of an out-of-range number, where NumPy would raise)."""
    input, other = promote_pair(input, other)
    tensor = input if isinstance(input, Tensor) else other
    xp = xp_of(tensor._data)
    as_array = (lambda v: v if isinstance(v, Tensor) else xp.asarray(v).astype(tensor._data.dtype))
    return as_array(input), as_array(other)


def _bitwise(name, symbol, operator_name):
    def function(input, other, *, out=None):
        _check_bitwise_operand(name, input)
        _check_bitwise_operand(name, other)
        return write_out(out, _elementwise_result(name, *_integer_operands(input, other)), name)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = f"Elementwise ``input {symbol} other`` on integer or bool tensors."
    tensor_method(f"__{operator_name}__")(function)
    setattr(Tensor, f"__r{operator_name}__", lambda self, other: function(other, self))
    setattr(Tensor, f"__i{operator_name}__", inplace_method(function))
    return function


bitwise_and = _bitwise("bitwise_and", "&", "and")
bitwise_or = _bitwise("bitwise_or", "|", "or")
bitwise_xor = _bitwise("bitwise_xor", "^", "xor")


@tensor_method
def bitwise_not(input, *, out=None):
    """Elementwise bitwise NOT (logical NOT for bool tensors)."""
    _check_bitwise_operand("bitwise_not", input)
    return write_out(out, _make(xp_of(input._data).invert(input._data)), "bitwise_not")


def _invert(self):
    """``~self``: bitwise NOT of an integer or bool tensor."""
    if self._data.dtype.kind not in "biu":
        raise TypeError("~ (operator.invert) is only implemented on integer and Boolean-type tensors")
    return bitwise_not(self)


Tensor.__invert__ = _invert
inplace_method(bitwise_not)


def _shift(name, kernel, array_function, operator_name):
    def function(input, other, *, out=None):
        input, other = _integer_operands(input, other)
        dtype = (input if isinstance(input, Tensor) else other).dtype
        if dtype._category != _dtype._INT:
            raise _not_implemented(kernel, dtype)
        return write_out(out, _elementwise_result(array_function, input, other), name)
    function.__name__ = function.__qualname__ = name
    direction = "left" if operator_name == "lshift" else "right"
    function.__doc__ = f"Shifts the bits of integer ``input`` {direction} by ``other`` (arithmetic shift, as in C)."
    tensor_method(f"__{operator_name}__")(function)
    setattr(Tensor, f"__r{operator_name}__", lambda self, other: function(other, self))
    setattr(Tensor, f"__i{operator_name}__", inplace_method(function))
    return function


bitwise_left_shift = _shift("bitwise_left_shift", "lshift_cpu", "left_shift", "lshift")
bitwise_right_shift = _shift("bitwise_right_shift", "rshift_cpu", "right_shift", "rshift")


# --- filling and copying in place ------------------------------------------------------------------------------------
class Fill(Primitive):
    @staticmethod
    def forward(ctx, a, value):
        return ctx.xp.full(a.shape, value, dtype=a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return (_zero_grad(grad) if ctx.needs_input_grad[0] else None,
                grad.sum() if ctx.needs_input_grad[1] else None)


class CopyFrom(Primitive):
    @staticmethod
    def forward(ctx, a, source):
        return ctx.xp.broadcast_to(source, a.shape).astype(a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return _zero_grad(grad) if ctx.needs_input_grad[0] else None, grad


def fill_(self, value):
    """Sets every element to ``value`` (a number or a 0-d tensor, through which gradients flow)."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions.")
        value = value.to(self.device)
    return assign_inplace(self, Fill.apply(self, value))


def zero_(self):
    """Sets every element to zero."""
    return fill_(self, 0)


def copy_(self, src, non_blocking=False):
    """Copies ``src`` into self, broadcasting it and casting to self's dtype; gradients flow back to ``src``."""
    if not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    broadcast = numpy.broadcast_shapes(self._data.shape, src._data.shape) if _broadcastable(self, src) else None
    if broadcast is not None and broadcast != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(broadcast)}")
    src = src.to(self.device)
    return assign_inplace(self, CopyFrom.apply(self, src))


def _broadcastable(a, b):
    try:
        numpy.broadcast_shapes(a._data.shape, b._data.shape)
        return True
    except ValueError:
        return False


Tensor.fill_, Tensor.zero_, Tensor.copy_ = fill_, zero_, copy_

for _name in ("add", "sub", "mul", "pow", "floordiv", "mod"):
    setattr(Tensor, f"__i{_name}__", getattr(Tensor, {"floordiv": "floor_divide", "mod": "remainder"}.get(_name, _name)
                                             + "_"))
Tensor.__itruediv__ = Tensor.div_


class Conj(Primitive):
    @staticmethod
    def forward(ctx, a):
        return ctx.xp.conj(a)

    @staticmethod
    def backward(ctx, grad):
        return grad.conj()


@tensor_method("conj_physical")
def conj(input):
    """The complex conjugate (the input itself for real tensors, as in PyTorch)."""
    if not input.is_complex():
        return input
    return Conj.apply(input)


@tensor_method
def is_conj(input):
    """Always False: ember conjugates eagerly."""
    return False


__all__ += ["conj", "conj_physical"]
conj_physical = conj


# --- aliases PyTorch also offers: Tensor methods for its function aliases, in-place functions on the namespace ----
for _alias, _function in (("subtract", sub), ("multiply", mul), ("divide", div), ("true_divide", div),
                          ("negative", neg)):
    setattr(Tensor, _alias, _function)

_INPLACE_FUNCTIONS = ("abs_", "acos_", "acosh_", "arccos_", "arccosh_", "arcsin_", "arcsinh_", "arctan_",
                      "arctanh_", "asin_", "asinh_", "atan_", "atanh_", "ceil_", "clamp_", "clamp_max_",
                      "clamp_min_", "clip_", "cos_", "cosh_", "deg2rad_", "erf_", "erfc_", "exp2_", "exp_", "expm1_",
                      "fill_", "fix_", "floor_", "frac_", "log10_", "log1p_", "log2_", "log_", "logit_",
                      "nan_to_num_", "neg_", "negative_", "rad2deg_", "reciprocal_", "relu_", "round_", "rsqrt_",
                      "sigmoid_", "sin_", "sinh_", "sqrt_", "square_", "tan_", "tanh_", "trunc_", "xlogy_", "zero_")
for _name in _INPLACE_FUNCTIONS:   # torch.exp_(x) is x.exp_()
    globals()[_name] = getattr(Tensor, _name)
__all__ += list(_INPLACE_FUNCTIONS)
