"""Logical and bitwise ops, including shifts."""


from ... import _dtype
from ..._backend import xp_of
from ..._tensor import Tensor, _make
from ...autograd.function import _broadcast_error, composite
from .._inplace import inplace_method
from .._kernel_dtypes import same_dtype_out
from .._util import check_same_device, promote_pair, tensor_method, write_out
from ._checks import _not_implemented, _require_tensors

__all__ = ["logical_and", "logical_or", "logical_xor", "logical_not", "bitwise_and", "bitwise_or", "bitwise_xor",
           "bitwise_not", "bitwise_left_shift", "bitwise_right_shift"]


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
    function = composite(name)(function)   # seen whole at dispatch, so vmap batches it and traces record it
    tensor_method(function)
    inplace_method(function)
    return function


logical_and = _logical("logical_and")
logical_or = _logical("logical_or")
logical_xor = _logical("logical_xor")


@tensor_method
@composite("logical_not")
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
    function = composite(name)(function)
    tensor_method(f"__{operator_name}__")(function)
    setattr(Tensor, f"__r{operator_name}__", lambda self, other: function(other, self))
    setattr(Tensor, f"__i{operator_name}__", inplace_method(function))
    return function


bitwise_and = _bitwise("bitwise_and", "&", "and")
bitwise_or = _bitwise("bitwise_or", "|", "or")
bitwise_xor = _bitwise("bitwise_xor", "^", "xor")


@tensor_method
@composite("bitwise_not")
def bitwise_not(input, *, out=None):
    """Elementwise bitwise NOT (logical NOT for bool tensors)."""
    _check_bitwise_operand("bitwise_not", input)
    xp = xp_of(input._data)
    result = _make(xp.asarray(xp.invert(input._data)))
    same_dtype_out(out, input.dtype)
    return write_out(out, result, "bitwise_not")   # 0-d stays an array


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
    function = composite(name)(function)
    tensor_method(f"__{operator_name}__")(function)
    setattr(Tensor, f"__r{operator_name}__", lambda self, other: function(other, self))
    setattr(Tensor, f"__i{operator_name}__", inplace_method(function))
    return function


bitwise_left_shift = _shift("bitwise_left_shift", "lshift_cpu", "left_shift", "lshift")
bitwise_right_shift = _shift("bitwise_right_shift", "rshift_cpu", "right_shift", "rshift")
