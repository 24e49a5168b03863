"""Sign, magnitude and rounding; binary maxima and minima, clamping, where and nan_to_num."""

import numpy

from ..._warnings import warn
from ... import _dtype
from ..._backend import xp_of
from ..._tensor import Tensor, _make
from ...autograd.function import Primitive
from .. import _quantized
from .._inplace import inplace_method
from .._kernel_dtypes import (real_scalar, refuse_complex_autograd, require_common_dtype, require_real_clamp,
                              same_dtype_out, wrapped_scalar)
from .._parallel import ufunc
from .._parallel import where as parallel_where
from .._util import argument_error, name_node, promote, promote_pair, tensor_method, write_out
from .._util import quiet as _quiet
from ..comparison import isfinite, isnan
from ._checks import _is_bool, _not_implemented, _require_tensors, _zero_grad

__all__ = ["abs", "absolute", "sign", "sgn", "floor", "ceil", "round", "trunc", "fix", "frac", "clamp", "clip",
           "clamp_min", "clamp_max", "where", "maximum", "minimum", "fmax", "fmin", "nan_to_num"]


# --- sign, magnitude and rounding --------------------------------------------------------------------------------
class Abs(Primitive):
    saved_names = ("self",)   # PyTorch's names of what forward saves (the node's _saved_* attributes)

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
        if a.dtype.kind == "f":   # (a > 0) - (a < 0): 0 for NaN and +-0, as PyTorch; no per-element branch
            result = xp.greater(a, 0).astype(a.dtype)
            result -= xp.less(a, 0)
            return result
        return xp.sign(a)

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
    result = Abs.apply(input)
    if not input.dtype.is_complex or out is not None and out.dtype.is_complex:   # |complex| may go to any float
        same_dtype_out(out, input.dtype)
    return write_out(out, result, "abs")


absolute = abs
Tensor.absolute = abs


@tensor_method
def sign(input, *, out=None):
    """-1, 0 or 1 by the sign of each element (0 for NaN, as in PyTorch)."""
    try:
        complex_input = input._data.dtype.kind == "c"
    except AttributeError:   # not a tensor
        argument_error()
        raise
    if complex_input:
        raise NotImplementedError("Unlike NumPy, torch.sign is not intended to support complex numbers. Please use "
                                  "torch.sgn instead.")
    same_dtype_out(out, input.dtype)
    return write_out(out, Sign.apply(input), "sign")


@tensor_method
def sgn(input, *, out=None):
    """sign for real inputs; input / |input| for complex ones."""
    same_dtype_out(out, input.dtype)
    if input.dtype.is_complex:
        magnitude = abs(input)
        return write_out(out, name_node(where(magnitude == 0, 0, input / magnitude), "SgnBackward0"), "sgn")
    return write_out(out, name_node(sign(input), "SgnBackward0"), "sgn")


def _rounding(mode, input, decimals=0):
    try:
        kind = input._data.dtype.kind
    except AttributeError:   # not a tensor
        argument_error()
        raise
    if kind == "c" and mode != "round":
        raise NotImplementedError(f"{mode} is not supported for complex inputs")
    if kind == "b" or kind == "c" and not decimals:
        raise _not_implemented(f"{mode}_vml_cpu", input)
    if decimals and not input.dtype.is_floating_point:
        raise _not_implemented(f"{mode}_cpu", input)
    result = Round.apply(input, mode, decimals)
    return name_node(result, "RoundBackward1" if decimals else mode.capitalize() + "Backward0")


@tensor_method
def floor(input, *, out=None):
    """The largest integer not greater than each element."""
    result = _rounding("floor", input)
    same_dtype_out(out, input.dtype)
    return write_out(out, result, "floor")


@tensor_method
def ceil(input, *, out=None):
    """The smallest integer not less than each element."""
    result = _rounding("ceil", input)
    same_dtype_out(out, input.dtype)
    return write_out(out, result, "ceil")


@tensor_method
def trunc(input, *, out=None):
    """Each element rounded toward zero."""
    result = _rounding("trunc", input)
    same_dtype_out(out, input.dtype)
    return write_out(out, result, "trunc")


fix = trunc
Tensor.fix = trunc


@tensor_method
def round(input, *, decimals=0, out=None):
    """Each element rounded to ``decimals`` decimal places, halves to even."""
    result = _rounding("round", input, decimals)
    same_dtype_out(out, input.dtype)
    return write_out(out, result, "round")


@tensor_method
def frac(input, *, out=None):
    """The fractional part: input - trunc(input)."""
    if not input.dtype.is_floating_point:
        raise _not_implemented("frac_cpu", input)
    result = Frac.apply(input)
    same_dtype_out(out, input.dtype)
    return write_out(out, result, "frac")


def _abs_inplace(name):
    write = inplace_method(abs, name)

    def method(self):
        if self._data.dtype.kind == "c":   # the magnitude is real: it cannot be written back into a complex tensor
            raise RuntimeError("In-place abs is not supported for complex tensors.")
        return write(self)
    method.__name__, method.__doc__ = write.__name__, write.__doc__
    setattr(Tensor, name, method)


for _function in (sign, sgn, floor, ceil, trunc, round, frac):
    inplace_method(_function)
_abs_inplace("abs_")
_abs_inplace("absolute_")
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
        if input._data.dtype.kind == "c":
            raise RuntimeError(f"{name} not implemented for complex tensors.")
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


try:   # an import, not an attribute: NumPy 1.26's numpy._core package only has umath once it is imported
    from numpy._core import umath as _umath
except ImportError:   # NumPy < 1.26
    from numpy.core import umath as _umath
_CLIP = _umath.clip
"""The ufunc ``numpy.clip`` calls with both bounds given, without its four Python frames (``_wrapfunc``, ``_clip``)."""

CLIP_ELEMENTS = 4096
"""Elements from which ``clipped`` takes NumPy's clip: its vector loop runs 3.4x faster than maximum against a
scalar (1M float32: 112 against 384 us, which has none), below this its Python wrapper costs more than it saves."""

_infinities = {}


def _infinity(dtype, sign):
    """A 0-d infinity of a floating ``dtype``, +inf or -inf by ``sign``."""
    key = dtype, sign
    infinity = _infinities.get(key)
    if infinity is None:
        infinity = _infinities[key] = numpy.full((), sign * numpy.inf, dtype)
    return infinity


def clipped(xp, a, low, high, out=None):
    """``a`` limited to [low, high] (either may be None) as PyTorch's clamp: a bound replaces an element only where
    it lies strictly beyond it (clamp(-0.0, min=0.0) keeps -0.0), NaN stays NaN, and high wins where low > high.
    ``out``: an array of a's shape and dtype to write the result into (a itself for an in-place clamp)."""
    char = a.dtype.char
    if xp is numpy and char in "efd" and (a.size >= CLIP_ELEMENTS or char == "e") and \
            (low is None or getattr(low, "size", 1) == 1) and (high is None or getattr(high, "size", 1) == 1):
        return ufunc(_CLIP, a, _infinity(a.dtype, -1) if low is None else low,
                     _infinity(a.dtype, 1) if high is None else high, out=out)
    # the bound first: NumPy's float32/float64 maxima then keep a's element where the two are equal (its float16
    # loop keeps the first, so float16 always takes clip above)
    result = a if low is None else ufunc(xp.maximum, low, a, out=out)
    return result if high is None else ufunc(xp.minimum, high, result, out=out)


class Clamp(Primitive):
    @staticmethod
    def forward(ctx, a, low, high):
        ctx.save_for_backward(a, low, high)
        return clipped(ctx.xp, a, low, high)

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


_REAL_LETTERS = "fhBliub"
"""Every dtype but complex (see ``_kernel_dtypes``): a tensor bound clamps by PyTorch's maximum/minimum kernels."""


@tensor_method
def clamp(input, min=None, max=None, *, out=None):
    """Each element limited to [min, max]; bounds are numbers or tensors, and either may be None."""
    if getattr(input, "is_quantized", False):   # QuantizedCPU: the integers, with the input's qparams
        return _quantized.kernels["clamp"](input, min, max)
    require_real_clamp(input)
    require_common_dtype("maximum_cpu", input, min, _REAL_LETTERS)
    require_common_dtype("minimum_cpu", input, max, _REAL_LETTERS)
    if min is None and max is None:
        raise RuntimeError("torch.clamp: At least one of 'min' or 'max' must not be None")
    input, low, high = promote(input, min, max)
    for bound in (min, max):   # a number bound is converted to the result's dtype with PyTorch's range check
        real_scalar(bound, input.dtype)
    result = Clamp.apply(input, low, high)
    tensor_bounds = isinstance(min, Tensor) or isinstance(max, Tensor)
    if tensor_bounds:   # PyTorch's node lists the input and both bounds
        return write_out(out, name_node(result, "ClampBackward0", (input, min, max)), "clamp")
    same_dtype_out(out, result.dtype)   # (the tensor-bounds overload above casts into out, as PyTorch's)
    return write_out(out, name_node(result, "ClampBackward1"), "clamp")


clip = clamp
Tensor.clip = clamp


@tensor_method
def clamp_min(input, min, *, out=None):
    """Each element limited from below by ``min``."""
    require_common_dtype("maximum_cpu", input, min, _REAL_LETTERS)   # before clamp's check of a complex input
    result = clamp(input, min, None)
    result = name_node(result, "ClampMinBackward1", (input, min)) if isinstance(min, Tensor) else \
        name_node(result, "ClampMinBackward0")
    return write_out(out, result, "clamp_min")


@tensor_method
def clamp_max(input, max, *, out=None):
    """Each element limited from above by ``max``."""
    require_common_dtype("minimum_cpu", input, max, _REAL_LETTERS)
    result = clamp(input, None, max)
    result = name_node(result, "ClampMaxBackward1", (input, max)) if isinstance(max, Tensor) else \
        name_node(result, "ClampMaxBackward0")
    return write_out(out, result, "clamp_max")


for _function in (clamp, clamp_min, clamp_max):
    inplace_method(_function)
inplace_method(clamp, "clip_")


class Where(Primitive):
    @staticmethod
    def forward(ctx, condition, a, b):
        ctx.save_for_backward(condition)
        return parallel_where(ctx.xp, condition, a, b)

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
        return condition.nonzero(as_tuple=True)
    if condition.dtype is _dtype.uint8:
        warn("where received a uint8 condition tensor. This behavior is deprecated and will be removed in "
             "a future version of PyTorch. Use a boolean condition instead.", UserWarning, stacklevel=2)
        condition = condition.to(_dtype.bool_)
    elif condition.dtype is not _dtype.bool_:
        raise RuntimeError("where expected condition to be a boolean tensor, but got a tensor with dtype "
                           f"{_dtype.scalar_type_name(condition.dtype)}")
    target = _dtype.result_type(input, other)
    if isinstance(out, Tensor) and out.dtype is not target:
        raise RuntimeError(f"Expected out type to be {_dtype.scalar_type_name(target)} but got "
                           f"{_dtype.scalar_type_name(out.dtype)}")
    xp = xp_of(condition._data)
    with numpy.errstate(over="ignore"):
        input, other = (v.to(target) if isinstance(v, Tensor) else
                        _make(xp.asarray(wrapped_scalar(v, target), dtype=target.numpy)) for v in (input, other))
    return write_out(out, Where.apply(condition, input, other), "where")


Tensor.where = lambda self, condition, other: where(condition, self, other)
Tensor.where.__doc__ = "``where(condition, self, other)``."


class NanToNum(Primitive):
    @staticmethod
    def forward(ctx, a, nan, posinf, neginf):
        ctx.save_for_backward(a)
        if a.dtype.kind == "V":   # bfloat16: NumPy's nan_to_num passes a dtype it does not know as floating through
            import ml_dtypes
            largest = float(ml_dtypes.finfo(a.dtype).max)
            with numpy.errstate(over="ignore"):   # a replacement beyond float32 is inf, silently, as in PyTorch
                wide = ctx.xp.nan_to_num(a.astype(numpy.float32), nan=nan,
                                         posinf=largest if posinf is None else posinf,
                                         neginf=-largest if neginf is None else neginf)
            return wide.astype(a.dtype)
        return ctx.xp.nan_to_num(a, nan=nan, posinf=posinf, neginf=neginf)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * isfinite(a)


@tensor_method
def nan_to_num(input, nan=0.0, posinf=None, neginf=None, *, out=None):
    """NaN, +inf and -inf replaced by ``nan``, ``posinf`` and ``neginf`` (default: the dtype's extremes)."""
    if input._data.dtype.kind == "c":   # each part on its own, as PyTorch's; no derivative there
        refuse_complex_autograd("nan_to_num", input)
    elif not input.dtype.is_floating_point:
        return write_out(out, input.clone(), "nan_to_num")
    if input._data.dtype.itemsize == 2:   # c10 makes 16-bit replacements from a float
        nan, posinf, neginf = (v if v is None else _dtype.float32_rounded(float(v)) for v in (nan, posinf, neginf))
    return write_out(out, NanToNum.apply(input, nan, posinf, neginf), "nan_to_num")


inplace_method(nan_to_num)
