"""Elementwise comparisons and value tests (isnan, isclose, ...); results are bool tensors outside the graph."""
import numbers

from .. import _dtype, _meta
from .._backend import xp_of
from .._tensor import Tensor, _make
from ..autograd.function import _broadcast_error, composite
from ._inplace import inplace_method
from ._kernel_dtypes import FLOATING, require_dtype
from ._parallel import ufunc
from ._util import promote_pair, tensor_method, write_out

__all__ = ["eq", "ne", "lt", "le", "gt", "ge", "greater", "greater_equal", "less", "less_equal", "not_equal",
           "equal", "isclose", "allclose", "isnan", "isinf", "isposinf", "isneginf", "isfinite", "isreal", "signbit"]


def _comparison(name, function, symbol):
    """``input <symbol> other`` as the array module's ufunc named ``function``."""
    ordered = name not in ("eq", "ne")   # their kernels refuse complex dtypes

    def compare(input, other, *, out=None):
        if other is None:   # ``tensor == None`` is plainly False in PyTorch
            return name == "ne"
        a, b = promote_pair(input, other)
        if ordered:
            require_dtype(f"{name}_cpu", a if isinstance(a, Tensor) else b, FLOATING + "liub")
        a = a._data if isinstance(a, Tensor) else a
        b = b._data if isinstance(b, Tensor) else b
        xp = xp_of(a if isinstance(input, Tensor) else b)
        try:
            result = ufunc(getattr(xp, function), a, b)
        except ValueError as error:
            raise _broadcast_error((input, other)) or error
        return write_out(out, _make(xp.asarray(result)), name)
    compare.__name__ = compare.__qualname__ = name
    compare.__doc__ = f"Elementwise ``input {symbol} other`` as a bool tensor, broadcasting."
    compare = composite(name)(compare)
    tensor_method(f"__{name}__")(compare)
    inplace_method(lambda self, other: compare(self, other).to(self.dtype), name + "_", promotes=False)
    return compare


eq = _comparison("eq", "equal", "==")
ne = _comparison("ne", "not_equal", "!=")
lt = _comparison("lt", "less", "<")
le = _comparison("le", "less_equal", "<=")
gt = _comparison("gt", "greater", ">")
ge = _comparison("ge", "greater_equal", ">=")
greater, greater_equal, less, less_equal, not_equal = gt, ge, lt, le, ne
for _alias, _function in (("greater", gt), ("greater_equal", ge), ("less", lt), ("less_equal", le),
                          ("not_equal", ne)):
    setattr(Tensor, _alias, _function)
    setattr(Tensor, _alias + "_", getattr(Tensor, _function.__name__ + "_"))


@tensor_method
def __contains__(self, element):
    """``element in tensor``: whether any element equals ``element`` (a number, or a tensor compared broadcasting)."""
    if not isinstance(element, (Tensor, numbers.Number)):
        raise RuntimeError(f"Tensor.__contains__ only supports Tensor or scalar, but you passed in a {type(element)}.")
    return eq(self, element).any().item()


@tensor_method
def equal(input, other):
    """True when both tensors have the same shape and the same values (a Python bool)."""
    _meta.refuse_data_dependent("equal", input, other)
    if input.shape != other.shape:
        return False
    return bool(eq(input, other)._data.all())


def _check_tolerances(rtol, atol):
    if rtol < 0:
        raise RuntimeError(f"rtol must be greater than or equal to zero, but got {rtol}")
    if atol < 0:
        raise RuntimeError(f"atol must be greater than or equal to zero, but got {atol}")


@tensor_method
@composite("isclose")
def isclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """|input - other| <= atol + rtol * |other| elementwise (infinities close only to themselves)."""
    if input.dtype is not other.dtype:
        raise RuntimeError(f"{_dtype.scalar_type_name(input.dtype)} did not match "
                           f"{_dtype.scalar_type_name(other.dtype)}")
    _check_tolerances(rtol, atol)
    a, b = input._data, other._data
    xp = xp_of(a)
    if a.dtype.kind == "b":
        return _make(xp.asarray(a == b))
    if a.dtype.kind in "iu":
        a, b = a.astype("float64"), b.astype("float64")
    try:
        return _make(xp.asarray(xp.isclose(a, b, rtol=rtol, atol=atol, equal_nan=equal_nan)))
    except ValueError as error:
        raise _broadcast_error((input, other)) or error


@tensor_method
def allclose(input, other, rtol=1e-05, atol=1e-08, equal_nan=False):
    """True when every element of ``input`` is close to ``other`` (see ``isclose``)."""
    close = isclose(input, other, rtol, atol, equal_nan)._data
    if isinstance(close, _meta.MetaArray):
        close.item()   # PyTorch's error: a meta tensor has no values to read
    return bool(close.all())


def _value_test(name, test, doc, complex_error=None, takes_out=False):
    """A bool-valued elementwise test; ``complex_error``, ``(type, message)``, is PyTorch's error for a complex
    input where it refuses one; ``takes_out``: it has PyTorch's ``out=``, which must be bool."""
    def function(input):
        if complex_error is not None and input._data.dtype.kind == "c":
            raise complex_error[0](complex_error[1])
        return _make(xp_of(input._data).asarray(test(xp_of(input._data), input._data)))

    if takes_out:
        test_only = function

        def function(input, *, out=None):
            if out is not None and out.dtype is not _dtype.bool_:
                raise RuntimeError(f"{name} does not support non-boolean outputs.")
            return write_out(out, test_only(input), name)
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return tensor_method(composite(name)(function))   # seen whole at dispatch: vmap batches it, traces record it


def _is_float(a):
    return a.dtype.kind in "fc" or a.dtype.name == "bfloat16"


isnan = _value_test("isnan", lambda xp, a: xp.isnan(a) if _is_float(a) else xp.zeros(a.shape, bool),
                    "True where the element is NaN.")
isinf = _value_test("isinf", lambda xp, a: xp.isinf(a) if _is_float(a) else xp.zeros(a.shape, bool),
                    "True where the element is +inf or -inf.")
isposinf = _value_test("isposinf", lambda xp, a: a == float("inf") if _is_float(a) else xp.zeros(a.shape, bool),
                       "True where the element is +inf.",
                       (RuntimeError, "isposinf does not support complex inputs."), True)
isneginf = _value_test("isneginf", lambda xp, a: a == float("-inf") if _is_float(a) else xp.zeros(a.shape, bool),
                       "True where the element is -inf.",
                       (RuntimeError, "isneginf does not support complex inputs."), True)
isfinite = _value_test("isfinite", lambda xp, a: xp.isfinite(a) if _is_float(a) else xp.ones(a.shape, bool),
                       "True where the element is neither infinite nor NaN.")
isreal = _value_test("isreal", lambda xp, a: a.imag == 0 if a.dtype.kind == "c" else xp.ones(a.shape, bool),
                     "True where the element has no imaginary part (always for real dtypes).")
signbit = _value_test("signbit", lambda xp, a: xp.signbit(a) if _is_float(a) else a < 0,
                      "True where the sign bit is set (negative numbers, -0.0 and negative NaNs).",
                      (NotImplementedError, "signbit is not implemented for complex tensors."), True)
