"""The in-place helpers fill_, zero_ and copy_ (and ``fill``, their out-of-place form) and the complex conjugate."""
import numpy

from ... import _dtype
from ..._tensor import Tensor, _make
from ...autograd.function import Primitive
from .._inplace import assign_inplace, discard_imaginary
from .._kernel_dtypes import real_scalar
from .._util import argument_error, name_node, tensor_method
from ._checks import _zero_grad

__all__ = ["fill", "conj", "conj_physical"]


class Fill(Primitive):
    graph_inputs = (0,)   # the input (value is the fill number)

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
        if source.dtype.kind == "c" and a.dtype.kind != "c":
            source = discard_imaginary(source)
        return _dtype.cast_array(ctx.xp.broadcast_to(source, a.shape), a.dtype)

    @staticmethod
    def backward(ctx, grad):
        return _zero_grad(grad) if ctx.needs_input_grad[0] else None, grad


def fill(input, value):
    """A new tensor shaped like ``input`` with every element ``value`` (a number or a 0-d tensor, through which
    gradients flow)."""
    if isinstance(value, Tensor):
        if value.ndim:
            raise RuntimeError(f"fill_ only supports 0-dimension value tensor but got tensor with {value.ndim} "
                               "dimensions.")
        value = value.to(input.device)
        return name_node(Fill.apply(input, value), "FillBackward1", (input, value))
    if not isinstance(value, (int, float, complex, numpy.generic)):
        argument_error()   # PyTorch's parser refuses it (fill_('a'), fill_(None))
        raise TypeError(f"fill(): value must be a number or a 0-d tensor, not {type(value).__name__}")
    return name_node(Fill.apply(input, real_scalar(value, input.dtype)), "FillBackward0")


def fill_(self, value):
    """Sets every element to ``value`` (a number or a 0-d tensor, through which gradients flow); also where elements
    share memory (an expanded tensor), as PyTorch's fill_."""
    result = fill(self, value)   # PyTorch's in-place fill nodes: FillBackward2 (a number), FillBackward3 (a tensor)
    return assign_inplace(self, name_node(result, "FillBackward3" if isinstance(value, Tensor) else "FillBackward2"),
                          overlap_ok=True)


def zero_(self):
    """Sets every element to zero (also where elements share memory, as ``fill_``)."""
    return assign_inplace(self, name_node(fill(self, 0), "ZeroBackward0"), overlap_ok=True)


_WRAPPED_NUMBER_DTYPES = {bool: numpy.bool_, int: numpy.int64, float: numpy.float64, complex: numpy.complex128}


def copy_(self, src, non_blocking=False):
    """Copies ``src`` into self, broadcasting it and casting to self's dtype; gradients flow back to ``src``."""
    if isinstance(src, (int, float, complex, numpy.generic)):   # PyTorch wraps a number (int64, double, ...)
        if type(src) is int and not -2 ** 63 <= src < 2 ** 63:
            raise OverflowError("int too big to convert")
        src = _make(numpy.asarray(src, dtype=_WRAPPED_NUMBER_DTYPES.get(type(src))))
    elif not isinstance(src, Tensor):
        raise TypeError(f"copy_(): argument 'other' (position 1) must be Tensor, not {type(src).__name__}")
    broadcast = numpy.broadcast_shapes(self._data.shape, src._data.shape) if _broadcastable(self, src) else None
    if broadcast is not None and broadcast != self._data.shape:
        raise RuntimeError(f"output with shape {list(self._data.shape)} doesn't match the broadcast shape "
                           f"{list(broadcast)}")
    src = src.to(self.device)
    return assign_inplace(self, name_node(CopyFrom.apply(self, src), "torch::autograd::CopyBackwards"))


def _broadcastable(a, b):
    try:
        numpy.broadcast_shapes(a._data.shape, b._data.shape)
        return True
    except ValueError:
        return False


Tensor.fill_, Tensor.zero_, Tensor.copy_ = fill_, zero_, copy_



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


conj_physical = conj
