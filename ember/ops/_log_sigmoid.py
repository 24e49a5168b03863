"""log(sigmoid(x)) as PyTorch's CPU kernels compute it, value and gradient, so that both carry PyTorch's bits."""
import numpy

from ..autograd.function import Primitive
from ._unary import is_reduced
from ._util import quiet

__all__ = []


def log_sigmoid_array(xp, x):
    """PyTorch's log_sigmoid of an array: min(x, 0) - log1p(exp(-|x|))."""
    tail = xp.abs(x, out=xp.empty_like(x))   # an array for 0-d x too (NumPy returns a scalar), written in place
    xp.negative(tail, out=tail)
    xp.exp(tail, out=tail)
    xp.log1p(tail, out=tail)
    return xp.subtract(xp.clip(x, -xp.inf, 0), tail, out=tail)


class LogSigmoid(Primitive):
    """min(x, 0) - log1p(z), z = exp(-|x|); the gradient (m - s * z / (1 + z)) * grad, m = 1 and s = 1 where x < 0,
    else m = 0 and s = -1. PyTorch keeps z in the input's dtype (its ``buffer``: rounded to 16 bits for float16 and
    bfloat16) and computes the rest in float32 for those, rounding once; so does this."""

    @staticmethod
    @quiet
    def forward(ctx, a):
        xp = ctx.xp
        ctx.save_for_backward(a)
        if is_reduced(a):
            return log_sigmoid_array(xp, a.astype(numpy.float32)).astype(a.dtype)
        return log_sigmoid_array(xp, a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return LogSigmoidGrad.apply(grad, a)


class LogSigmoidGrad(Primitive):
    """log_sigmoid's gradient as a function of the incoming gradient and the input; its own gradient is PyTorch's
    (itself for the incoming gradient, grad * grad_output * (z - 1) * z, z = sigmoid(x), for the input)."""

    @staticmethod
    @quiet
    def forward(ctx, grad, a):
        ctx.save_for_backward(grad, a)
        return _log_sigmoid_grad(ctx.xp, grad, a)

    @staticmethod
    def backward(ctx, grad):
        incoming, a = ctx.saved_tensors
        z = a.sigmoid()
        return LogSigmoidGrad.apply(grad, a), grad * incoming * (z - 1) * z


def _log_sigmoid_grad(xp, grad, a):
    reduced = is_reduced(a)
    x = a.astype(numpy.float32) if reduced else a
    z = xp.exp(-xp.abs(x))
    if reduced:
        z = z.astype(a.dtype).astype(numpy.float32)   # PyTorch's buffer, kept in the input's dtype
    negative = xp.less(x, 0).astype(x.dtype)   # m; s = 2m - 1
    z /= z + 1
    z *= negative * 2 - 1
    result = xp.subtract(negative, z, out=z)
    result *= grad.astype(numpy.float32) if reduced else grad
    return result.astype(grad.dtype) if reduced else result


LogSigmoid._node_cls.__name__ = LogSigmoid._node_cls.__qualname__ = "LogSigmoidBackward0"
LogSigmoidGrad._node_cls.__name__ = LogSigmoidGrad._node_cls.__qualname__ = "LogSigmoidBackwardBackward0"
