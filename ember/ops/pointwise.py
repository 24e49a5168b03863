"""Elementwise ops: arithmetic with broadcasting, and unary math. Each primitive's forward, backward and public
function sit side by side."""
from .._tensor import Tensor
from ..autograd.function import Primitive
from ._util import inplace_method, promote_pair, tensor_method, write_out

__all__ = ["add", "sub", "subtract", "mul", "multiply", "div", "divide", "true_divide", "neg", "negative", "exp",
           "log", "relu", "sigmoid", "tanh", "pow"]


class Add(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        return a + b

    @staticmethod
    def backward(ctx, grad):
        return grad, grad


class Sub(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        return a - b

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None


class Mul(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a * b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        return (grad * b if ctx.needs_input_grad[0] else None,
                grad * a if ctx.needs_input_grad[1] else None)


class Div(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a / b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad / b
        return (grad_a if ctx.needs_input_grad[0] else None,
                -grad_a * a / b if ctx.needs_input_grad[1] else None)


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
    input, other = promote_pair(input, _alpha(other, alpha))
    return write_out(out, Add.apply(input, other), "add")


@tensor_method("__sub__")
def sub(input, other, *, alpha=1, out=None):
    """input - alpha * other, broadcasting."""
    input, other = promote_pair(input, _alpha(other, alpha))
    return write_out(out, Sub.apply(input, other), "sub")


subtract = sub
tensor_method("__rsub__")(lambda self, other: sub(other, self))


@tensor_method("__mul__", "__rmul__")
def mul(input, other, *, out=None):
    """input * other, broadcasting."""
    input, other = promote_pair(input, other)
    return write_out(out, Mul.apply(input, other), "mul")


multiply = mul


@tensor_method("__truediv__")
def div(input, other, *, rounding_mode=None, out=None):
    """input / other; integer inputs give a float result unless ``rounding_mode`` is 'trunc' or 'floor'."""
    input, other = promote_pair(input, other)
    if rounding_mode is not None:
        from .pointwise_math import _rounded_div
        return write_out(out, _rounded_div(input, other, rounding_mode), "div")
    if getattr(input, "dtype", None) is not None and not (input.dtype.is_floating_point or input.dtype.is_complex):
        from .. import _dtype
        input = input.to(_dtype.get_default_dtype())
    elif not hasattr(input, "dtype") and not (other.dtype.is_floating_point or other.dtype.is_complex):
        from .. import _dtype
        other = other.to(_dtype.get_default_dtype())
    return write_out(out, Div.apply(input, other), "div")


divide = true_divide = div
tensor_method("__rtruediv__")(lambda self, other: div(other, self))


@tensor_method("__neg__")
def neg(input, *, out=None):
    """-input."""
    return write_out(out, Neg.apply(input), "neg")


negative = neg

for _function in (add, sub, mul, div, neg):
    inplace_method(_function)


class Exp(Primitive):
    @staticmethod
    def forward(ctx, a):
        result = ctx.xp.exp(a)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * result


class Log(Primitive):
    @staticmethod
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return ctx.xp.log(a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad / a


class Relu(Primitive):
    @staticmethod
    def forward(ctx, a):
        result = ctx.xp.maximum(a, 0)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * (result > 0)


class Sigmoid(Primitive):
    @staticmethod
    def forward(ctx, a):
        xp = ctx.xp
        result = xp.exp(-xp.logaddexp(0, -a)).astype(a.dtype, copy=False)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * result * (1 - result)


class Tanh(Primitive):
    @staticmethod
    def forward(ctx, a):
        result = ctx.xp.tanh(a)
        ctx.save_for_backward(result)
        return result

    @staticmethod
    def backward(ctx, grad):
        result, = ctx.saved_tensors
        return grad * (1 - result * result)


def _floating(input):
    """Integer and bool inputs of float-valued unary ops become the default float dtype, as in PyTorch."""
    if input.dtype.is_floating_point or input.dtype.is_complex:
        return input
    from .. import _dtype
    return input.to(_dtype.get_default_dtype())


@tensor_method
def exp(input, *, out=None):
    """e to the power of each element."""
    return write_out(out, Exp.apply(_floating(input)), "exp")


@tensor_method
def log(input, *, out=None):
    """Natural logarithm of each element."""
    return write_out(out, Log.apply(_floating(input)), "log")


@tensor_method
def relu(input):
    """max(input, 0) elementwise."""
    return Relu.apply(input)


@tensor_method
def sigmoid(input, *, out=None):
    """1 / (1 + exp(-input)), computed without overflow."""
    return write_out(out, Sigmoid.apply(_floating(input)), "sigmoid")


@tensor_method
def tanh(input, *, out=None):
    """Hyperbolic tangent."""
    return write_out(out, Tanh.apply(_floating(input)), "tanh")


for _function in (exp, log, relu, sigmoid, tanh):
    inplace_method(_function)


class Pow(Primitive):
    @staticmethod
    def forward(ctx, a, b):
        ctx.save_for_backward(a, b)
        return a ** b

    @staticmethod
    def backward(ctx, grad):
        a, b = ctx.saved_tensors
        grad_a = grad_b = None
        if ctx.needs_input_grad[0]:
            grad_a = grad * b * a ** (b - 1)
        if ctx.needs_input_grad[1]:
            grad_b = grad * a ** b * log(a)
        return grad_a, grad_b


@tensor_method("__pow__")
def pow(input, exponent, *, out=None):
    """input raised to ``exponent``, elementwise and broadcasting."""
    input, exponent = promote_pair(input, exponent)
    return write_out(out, Pow.apply(input, exponent), "pow")


tensor_method("__rpow__")(lambda self, other: pow(other, self))
inplace_method(pow)

for _name in ("add", "sub", "mul", "div", "pow"):
    setattr(Tensor, f"__i{'truediv' if _name == 'div' else _name}__", getattr(Tensor, _name + "_"))
