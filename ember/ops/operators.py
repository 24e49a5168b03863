"""Tensor's Python operators as PyTorch's: ``+ - * / // % ** @ & | ^ << >>``, the comparisons, and their reflected
and in-place forms. An operand the ops do not take (a string, a list, None, a NumPy array) makes the operator return
NotImplemented, so Python tries the other operand's reflected operator (NumPy then computes ``tensor * array``, as it
does for torch) or raises its own "unsupported operand type(s)" error; ``tensor == array`` compares with the array
as a tensor, as PyTorch's does."""
import numpy

from .._tensor import Tensor
from .creation import as_tensor
from .pointwise.arithmetic import _FLOAT8_CHARS, Add, Mul, add, mul

__all__ = []

_OPERANDS = (Tensor, int, float, complex, numpy.generic)


def _takes(other):
    """Whether the ops take ``other`` as an operand: a tensor, a Python or NumPy scalar, or a tensor-like object."""
    return isinstance(other, _OPERANDS) or hasattr(type(other), "__torch_function__")


def _direct(function, primitive, refused=None):
    """``function`` as an operator that goes straight to ``primitive`` when both operands are tensors of one dtype
    and array type (operands ``promote_pair`` returns unchanged): the common case, one frame shorter. Arrays whose
    dtype character is in ``refused`` (the float8 types for add) take ``function``, which raises PyTorch's error."""
    def operator(input, other):
        if type(other) is Tensor and input._data.dtype is other._data.dtype and \
                type(input._data) is type(other._data):
            return primitive.apply(input, other)
        if not _takes(other):
            return NotImplemented
        return function(input, other)

    def refusing(input, other):
        if type(other) is Tensor and input._data.dtype is other._data.dtype and \
                type(input._data) is type(other._data) and input._data.dtype.char not in refused:
            return primitive.apply(input, other)
        if not _takes(other):
            return NotImplemented
        return function(input, other)
    return operator if refused is None else refusing


def _checked(function):
    def operator(input, other):
        if type(other) is not Tensor and not _takes(other):
            return NotImplemented
        return function(input, other)
    return operator


def _type_error_to_not_implemented(function):
    """For ``number / tensor``, computed as ``reciprocal(self) * other``: that product answers for other (an array
    still reaches NumPy), and its TypeError becomes NotImplemented, as PyTorch's wrapper makes it."""
    def operator(input, other):
        try:
            return function(input, other)
        except TypeError:
            return NotImplemented
    return operator


def _equal(function):
    def operator(input, other):
        if type(other) is not Tensor and not _takes(other):
            if not isinstance(other, numpy.ndarray):
                return NotImplemented
            other = as_tensor(other)
        return function(input, other)
    return operator


def _install(name, operator, function):
    operator.__name__, operator.__qualname__ = name, f"Tensor.{name}"   # pickles by reference, as torch's do
    operator.__doc__ = function.__doc__
    setattr(Tensor, name, operator)


_install("__add__", _direct(add, Add, _FLOAT8_CHARS), add)
_install("__mul__", _direct(mul, Mul), mul)
_install("__eq__", _equal(Tensor.__eq__), Tensor.__eq__)
for _base in ("add", "sub", "mul", "truediv", "floordiv", "mod", "pow", "matmul", "and", "or", "xor", "lshift",
              "rshift"):
    for _name in (f"__{_base}__", f"__r{_base}__", f"__i{_base}__"):
        if (_base not in ("add", "mul") or _name != f"__{_base}__") and _name != "__rtruediv__":
            _function = getattr(Tensor, _name, None)
            if _function is not None:   # (no __imatmul__, as in PyTorch)
                _install(_name, _checked(_function), _function)
_install("__rtruediv__", _type_error_to_not_implemented(Tensor.__rtruediv__), Tensor.__rtruediv__)
for _name in ("__lt__", "__le__", "__gt__", "__ge__", "__ne__"):
    _install(_name, _checked(getattr(Tensor, _name)), getattr(Tensor, _name))
del _base, _name, _function
