"""Arithmetic with broadcasting (add, sub, mul, div, remainders, powers, lerp, addcmul) and its in-place operators
(``x += y``); fill_/zero_/copy_ and conj are in ``filling``."""
import cmath
import functools
import math

import numpy

from ... import _backend, _dtype
from ...backends.cpu import get_cpu_capability
from ..._tensor import Tensor, _make
from ...autograd.function import Primitive, composite
from .. import _blas, _buffers
from .._inplace import inplace_method
from .._kernel_dtypes import cpp_type_name, real_scalar, same_dtype_out
from .._parallel import binary
from .._unary import is_reduced, unary_primitive
from .._util import name_node, promote, promote_pair, tensor_method, write_out
from .._util import quiet as _quiet
from ._checks import (
    _check_nonzero_divisor,
    _floating,
    _is_bool,
    _is_bool_operand,
    _is_integral,
    _not_implemented,
    _promote_to_float,
    _without_derivative,
    _zero_grad,
)
from .rounding import where
from .transcendental import log

__all__ = ["add", "sub", "subtract", "rsub", "mul", "multiply", "div", "divide", "true_divide", "floor_divide", "fmod",
           "remainder", "neg", "negative", "positive", "reciprocal", "square", "lerp", "addcmul", "addcdiv", "pow",
           "float_power"]

_ndarray = numpy.ndarray


# --- arithmetic ----------------------------------------------------------------------------------------------------
class Add(Primitive):
    saved_values = {"alpha": 1}   # PyTorch's saved argument (an alpha other than 1 is a product before the add)

    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        return binary(ctx.xp.add, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, grad

    array_backward = backward


class Sub(Primitive):
    saved_values = {"alpha": 1}

    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        return binary(ctx.xp.subtract, a, b)

    @staticmethod
    def backward(ctx, grad):
        return grad, -grad if ctx.needs_input_grad[1] else None

    array_backward = backward


class Mul(Primitive):
    saved_names = ("other", "self")   # PyTorch's names for what forward saves (the node's _saved_* attributes)

    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        needs = ctx.needs_input_grad
        if needs[0] or needs[1]:   # only what backward reads, other first (the order PyTorch packs and unpacks them)
            ctx._saved = (b if needs[0] else None, a if needs[1] else None)
        if type(b) is float and is_reduced(a):
            return _in_float32(ctx.xp.multiply, a, b)
        return binary(ctx.xp.multiply, a, b)

    @staticmethod
    def backward(ctx, grad):
        return _product_gradients(ctx, grad, *ctx.saved_tensors)

    @staticmethod
    @_quiet
    def array_backward(ctx, grad):
        return _product_gradients(ctx, grad, *ctx.saved_arrays)


def _product_gradients(ctx, grad, b, a):
    """Mul's gradients from what its forward saved (b, then a): tensors (backward) or arrays (array_backward)
    alike."""
    needs = ctx.needs_input_grad
    return _times(grad, b) if needs[0] else None, _times(grad, a) if needs[1] else None


def _times(grad, other):
    """grad times conj(other); real arrays through ``binary`` (large products in parts at once, into pooled
    arrays)."""
    if type(other) is _ndarray and other.dtype.kind != "c":
        return binary(numpy.multiply, grad, other) if type(grad) is _ndarray else grad * other
    if type(other) is float and type(grad) is _ndarray and is_reduced(grad):
        return _in_float32(numpy.multiply, grad, other)
    return grad * _conj(other)


def _in_float32(function, a, b):
    """``function(a, b)`` of a 16-bit float array and a Python number as PyTorch's CPU kernels compute a product or
    quotient with a scalar: in float32, the number in float32 (not rounded to 16 bits first, as NumPy and ml_dtypes
    do), rounded once to the array's dtype."""
    xp = _backend.xp_of(a)
    return function(a.astype(xp.float32), xp.float32(b)).astype(a.dtype)


def _reduced_scalar(input, other, kernel):
    """``other`` as the float a 16-bit float tensor ``input`` is multiplied or divided by (see ``_in_float32``), or
    None when these are other operands; a float8 ``input`` raises PyTorch's error for ``kernel`` (no float8 loop).
    A 0-d tensor (not complex, needing no gradient) is such a scalar too: PyTorch's kernel reads it in float32,
    not rounded to the 16-bit result dtype first."""
    if type(other) in (float, int) and isinstance(input, Tensor):
        if is_reduced(input._data):
            return float(other)
        if input._data.dtype.char in _FLOAT8_CHARS:
            raise _not_implemented(kernel, input)
    elif (type(other) is Tensor and other.ndim == 0 and isinstance(input, Tensor) and is_reduced(input._data)
          and not other.requires_grad and not other.dtype.is_complex and other.device.type != "meta"):
        return float(other.item())
    return None


class Div(Primitive):
    saved_names = ("self", "other")   # PyTorch's names for what forward saves (the node's _saved_* attributes)

    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        ctx.save_for_backward(a if ctx.needs_input_grad[1] else None, b)
        if type(b) is float and is_reduced(a):
            return _in_float32(ctx.xp.true_divide, a, b)
        return binary(ctx.xp.true_divide, a, b)

    @staticmethod
    def backward(ctx, grad):
        return _quotient_gradients(ctx, grad, *ctx.saved_tensors)

    @staticmethod
    @_quiet
    def array_backward(ctx, grad):
        return _quotient_gradients(ctx, grad, *ctx.saved_arrays)


def _quotient_gradients(ctx, grad, a, b):
    """Div's gradients from what its forward saved: tensors (backward) or arrays (array_backward) alike."""
    if type(b) is float and type(grad) is _ndarray and is_reduced(grad):
        grad_a = _in_float32(numpy.true_divide, grad, b)
    else:
        grad_a = grad / _conj(b)
    return (grad_a if ctx.needs_input_grad[0] else None,   # PyTorch's order: -grad * ((a / b) / b)
            -grad * _conj(a / b / b) if ctx.needs_input_grad[1] else None)


def _conj(t):
    """Complex conjugate where it matters (gradients of complex products); the operand itself otherwise (a Tensor,
    an array or a number)."""
    if isinstance(t, Tensor):
        return t.conj() if t._data.dtype.kind == "c" else t
    if hasattr(t, "dtype"):
        return t.conj() if t.dtype.kind == "c" else t
    return t.conjugate() if isinstance(t, complex) else t


class RoundedDiv(Primitive):
    """Division rounded toward zero ('trunc') or down ('floor'); its gradient is zero, as in PyTorch (DivBackward2)."""

    @staticmethod
    @_quiet
    def forward(ctx, a, b, rounding_mode):
        xp = ctx.xp
        integral = xp.asarray(a).dtype.kind in "iub" and xp.asarray(b).dtype.kind in "iub"
        if rounding_mode == "floor":
            operands = _float32_operands(xp, a, b)
            return xp.floor_divide(a, b) if operands is None else _floor_divide32(*operands)
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

    array_backward = backward


def _scaled(input, other, alpha):
    """``input`` and ``alpha * other`` in their result dtype, as PyTorch's add and sub compute them: alpha checked
    against that dtype (its alpha_check) and cast to it, the product taken after promotion (a uint8 ``other`` must
    not wrap before an int64 sum; a bool sum ORs ``other`` in where alpha is nonzero)."""
    target = _dtype.result_type(input, other)
    if isinstance(alpha, (bool, numpy.bool_)) and target is not _dtype.bool_:
        raise RuntimeError("Boolean alpha only supported for Boolean results.")
    if target._category <= _dtype._INT and isinstance(alpha, (float, complex, numpy.inexact)):
        raise RuntimeError("For integral input tensors, argument alpha must not be a floating point number.")
    if not target.is_complex and isinstance(alpha, (complex, numpy.complexfloating)):
        raise RuntimeError("For non-complex input tensors, argument alpha must not be a complex number.")
    input, other = promote_pair(input, other)
    if target is _dtype.bool_:
        return input, other if alpha else other & False
    return input, other * alpha


def _check_scale(input, other, alpha):
    """PyTorch's range check of an int ``alpha`` (add/sub) or ``value`` (addcmul) in the integer result dtype,
    which a product with a Python int would wrap instead."""
    if type(alpha) is int:
        target = _dtype.result_type(input, other)
        if target._category == _dtype._INT:
            real_scalar(alpha, target)


class AddScaled(Primitive):
    """input + alpha * other of float32 tensors as PyTorch's CPU add kernel computes it: ``other`` times ``alpha``
    (rounded to float32) added to ``input`` in one fused multiply-add. The float32 product is exact in float64, so
    the sum in float64 rounded to float32 is the fused result (as in ``Addcmul``; ``_cephes.fma``'s midpoint checks
    cost 4x more). sub passes ``-alpha``. float16 and bfloat16 likewise in float32, rounded once, with alpha cast
    to their dtype first (as PyTorch casts it)."""
    saved_values = {"alpha": lambda node: abs(node.alpha) if node.name() == "SubBackward0" else node.alpha}

    @staticmethod
    @_quiet
    def forward(ctx, a, b, alpha):
        ctx.alpha = alpha
        xp = ctx.xp
        if a.dtype != numpy.float32:
            alpha = float(numpy.asarray(_dtype.float32_rounded(alpha), a.dtype))
        elif xp is numpy and alpha and a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous:
            axpy = _blas.fused_axpy("f")   # one pass where BLAS rounds once too: ~5x faster than the float64 sum
            if axpy is not None:
                result = a.copy()
                axpy(result.size, float(numpy.float32(alpha)), b.ctypes.data, 1, result.ctypes.data, 1)
                return result
        fused = xp.multiply(b, float(numpy.float32(alpha)), dtype=numpy.float64) + a.astype(numpy.float64)
        result = xp.asarray(fused).astype(numpy.float32).astype(a.dtype, copy=False)
        if a.dtype != numpy.float32 and xp is numpy:
            _scalar_loop_tails(result, a, b, alpha)
        elif xp is numpy and result.ndim and (b.ndim == 0 or b.shape[-1] == 1 < result.shape[-1]):
            _hoisted_product_tails(result, a, b, alpha)
        return result

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad
        return grad if needs[0] else None, grad * ctx.alpha if needs[1] else None


@functools.cache
def _sixteen_bit_lanes():
    """16-bit lanes of PyTorch's CPU vectors here (the CPU's capability does not change while running)."""
    return 32 if get_cpu_capability() == "AVX512" else 16


def _scalar_loop_tails(result, a, b, alpha):
    """Rewrites, in a 16-bit ``result`` of ``a + alpha * b``, the elements PyTorch's CPU kernel leaves to its scalar
    loop: those past the last full vector of each innermost run (the whole tensor when ``a`` and ``b`` are alike and
    contiguous, else each row), where it rounds ``alpha * b`` to the 16-bit type before adding."""
    lanes = _sixteen_bit_lanes()
    alike = a.shape == b.shape and a.flags.c_contiguous and b.flags.c_contiguous and result.flags.c_contiguous
    run = result.size if alike else (result.shape[-1] if result.ndim else 1)
    tail = run % lanes
    if not tail or not result.size:
        return
    rows = result.reshape(-1, run)
    a_rows, b_rows = (numpy.broadcast_to(x, result.shape).reshape(-1, run) for x in (a, b))
    product = (b_rows[:, -tail:].astype(numpy.float32) * numpy.float32(alpha)).astype(result.dtype)
    rows[:, -tail:] = (a_rows[:, -tail:].astype(numpy.float32) + product.astype(numpy.float32)).astype(result.dtype)


def _hoisted_product_tails(result, a, b, alpha):
    """Rewrites, in a float32 ``result`` of ``a + alpha * b`` where ``b`` is constant along each innermost run (a
    scalar, or broadcast along the last dimension), the elements PyTorch's AVX512 kernel adds unfused: past the last
    full 16-lane vector of a run, the compiler's vectorised remainder loop (4 lanes, after one scalar element) adds
    ``alpha * b`` computed once and rounded; its scalar leftovers stay fused (measured for every run length up to
    130). The AVX2 kernel's remainder is unmeasured and left fused."""
    if get_cpu_capability() != "AVX512":
        return
    if b.size == 1 and a.shape == result.shape and a.flags.f_contiguous and not a.flags.c_contiguous:
        result, a = result.T, a.T   # the kernel walks memory order
    whole = b.size == 1 and a.shape == result.shape and a.flags.c_contiguous
    if not result.flags.c_contiguous or not whole and \
            numpy.broadcast_to(a, result.shape).strides[-1] != a.itemsize:   # strided runs: the scalar loop, fused
        return
    run = result.size if whole else result.shape[-1]
    tail = run % 16
    unfused = (tail - 1) // 4 * 4 if tail else 0
    if not unfused or not result.size:
        return
    start = run - tail + 1
    rows = result.reshape(-1, run)
    a_rows, b_rows = (numpy.broadcast_to(x, result.shape).reshape(-1, run)[:, start:start + unfused] for x in (a, b))
    rows[:, start:start + unfused] = a_rows + b_rows * numpy.float32(alpha)


def _scaled_add(input, other, alpha, name):
    """input + alpha * other through ``AddScaled`` when both are float32 tensors (after type promotion), or both
    float16 or both bfloat16 tensors, and alpha a real number, shown as PyTorch's node ``name``; None otherwise."""
    if type(alpha) not in (int, float):
        return None
    input, other = promote_pair(input, other)
    if isinstance(input, Tensor) and isinstance(other, Tensor) and input._data.dtype == other._data.dtype and \
            is_reduced(input._data):
        result = AddScaled.apply(input, other, float(alpha))
        return name_node(result, name) if result.grad_fn is not None else result
    tensor = input if isinstance(input, Tensor) else other
    if not (isinstance(tensor, Tensor) and tensor._data.dtype == numpy.float32):
        return None
    input, other = (operand if isinstance(operand, Tensor) else _float32_scalar(tensor, operand)
                    for operand in (input, other))
    if input is None or other is None or other._data.dtype != numpy.float32 or input._data.dtype != numpy.float32:
        return None
    result = AddScaled.apply(input, other, float(alpha))
    return name_node(result, name) if result.grad_fn is not None else result


def _float32_scalar(tensor, value):
    """A Python number as the float32 0-d tensor PyTorch wraps it in beside a float32 ``tensor``; None for others."""
    if type(value) not in (int, float):
        return None
    return _make(_backend.xp_of(tensor._data).asarray(value, dtype=numpy.float32))


@tensor_method("__add__", "__radd__")
def add(input, other, *, alpha=1, out=None):
    """input + alpha * other, broadcasting."""
    if alpha != 1 or type(alpha) is not int:   # one node of input and other, as PyTorch's
        _refuse_float8_add(input, other)
        _check_scale(input, other, alpha)
        fused = _scaled_add(input, other, alpha, "AddBackward0")
        if fused is not None:
            return fused if out is None else write_out(out, fused, "add")
        return name_node(add(*_scaled(input, other, alpha), out=out), "AddBackward0", (input, other))
    input, other = promote_pair(input, other)
    _refuse_float8_add(input, other)
    result = Add.apply(input, other)
    return result if out is None else write_out(out, result, "add")


_FLOAT8_CHARS = _dtype.FLOAT8_CHARS   # one test of the array's dtype on the add path


def _refuse_float8_add(input, other):
    """PyTorch's add kernel (subtraction's too) has no float8 loop."""
    operand = input if isinstance(input, Tensor) else other
    if isinstance(operand, Tensor) and operand._data.dtype.char in _FLOAT8_CHARS:
        raise _not_implemented("add_stub", operand)


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
    operands = input, other
    _refuse_float8_add(input, other)
    _check_scale(input, other, -alpha if type(alpha) is int else alpha)   # PyTorch's sub adds -alpha * other
    if alpha != 1 and type(alpha) in (int, float):
        fused = _scaled_add(input, other, -alpha, "SubBackward0")
        if fused is not None:
            return fused if out is None else write_out(out, fused, "sub")
    scaled = alpha != 1 or type(alpha) is not int
    input, other = _scaled(input, other, alpha) if scaled else promote_pair(input, other)
    result = Sub.apply(input, other)
    if scaled:   # one node of input and other, as PyTorch's
        name_node(result, "SubBackward0", operands)
    return result if out is None else write_out(out, result, "sub")


subtract = sub


@tensor_method("__rsub__")
def rsub(input, other, *, alpha=1):
    """other - alpha * input."""
    result = sub(other, input, alpha=alpha)
    if isinstance(other, Tensor):
        return name_node(result, "RsubBackward0", (input, other))
    return name_node(result, "RsubBackward1", (input,))


@tensor_method("__mul__", "__rmul__")
def mul(input, other, *, out=None):
    """input * other, broadcasting."""
    scalar = _reduced_scalar(input, other, "mul_cpu_reduced_float")
    input, other = (input, scalar) if scalar is not None else promote_pair(input, other)
    result = Mul.apply(input, other)
    return result if out is None else write_out(out, result, "mul")


multiply = mul


@tensor_method("__truediv__")
def div(input, other, *, rounding_mode=None, out=None):
    """input / other; integer inputs give a float result unless ``rounding_mode`` is 'trunc' or 'floor'."""
    if rounding_mode is None:
        scalar = _reduced_scalar(input, other, "div_cpu_reduced_float")
        input, other = (input, scalar) if scalar is not None else _promote_to_float(input, other)
        if (input if isinstance(input, Tensor) else other)._data.dtype.char in _FLOAT8_CHARS:
            raise _not_implemented("div_cpu", input if isinstance(input, Tensor) else other)
        return write_out(out, Div.apply(input, other), "div")
    if rounding_mode not in ("trunc", "floor"):
        raise RuntimeError(f"div expected rounding_mode to be one of None, 'trunc', or 'floor' but found "
                           f"'{rounding_mode}'")
    input, other = promote_pair(input, other)
    refused = _refused_operand(input, other)
    if refused is not None:
        raise _not_implemented("div_" + rounding_mode + "_cpu", refused)
    _check_nonzero_divisor(other)
    return write_out(out, RoundedDiv.apply(input, other, rounding_mode), "div")


divide = true_divide = div
tensor_method("__rtruediv__")(lambda self, other: reciprocal(self) * other)   # as PyTorch computes ``number / x``


@tensor_method("__floordiv__")
@composite("floor_divide")   # computed outside the graph (no derivative): seen whole, so traces record it
def floor_divide(input, other, *, out=None):
    """input / other rounded down (Python's ``//``); not differentiable, as in PyTorch."""
    result = _without_derivative("floor_divide", lambda a, b: div(a, b, rounding_mode="floor"), input, other)
    return write_out(out, result, "floor_divide")


tensor_method("__rfloordiv__")(lambda self, other: floor_divide(other, self))


def _float32_operands(xp, a, b):
    """``a`` and ``b`` as float32 NumPy arrays where a float op on them computes in float32 on NumPy and gives a
    nonempty result of at least one dimension; else None."""
    if xp is not numpy or numpy.result_type(a, b) != numpy.float32:
        return None
    a, b = numpy.asarray(a, numpy.float32), numpy.asarray(b, numpy.float32)
    return (a, b) if (a.ndim or b.ndim) and a.size and b.size else None


def _float64_quotient(a, b, rounding, limit):
    """``rounding(a / b)`` of float32 arrays computed in float64, and a mask of where |result| is not below ``limit``
    (huge, infinite or NaN) or ``b`` is infinite, the elements the caller's float64 shortcut leaves to NumPy (None if
    there are none)."""
    quotient = _buffers.empty(numpy, numpy.broadcast_shapes(a.shape, b.shape), numpy.float64)
    numpy.divide(a, b, out=quotient, dtype=numpy.float64)
    rounding(quotient, out=quotient)
    # Reductions (NaN fails them) spare the masks' passes and page faults in the common case
    if -limit < quotient.min() and quotient.max() < limit and numpy.isfinite(b.min()) and numpy.isfinite(b.max()):
        return quotient, None
    slow = numpy.abs(quotient) >= limit
    slow |= numpy.isnan(quotient)
    slow |= numpy.isinf(b)
    return quotient, slow


def _with_numpy_at(result, slow, function, a, b):
    """``result`` with ``function(a, b)`` written where ``slow`` is set (when it is not None)."""
    if slow is not None and slow.any():
        a, b = numpy.broadcast_arrays(a, b)
        result[slow] = function(a[slow], b[slow])
    return result


def _fmod32(a, b):
    """fmod of float32 arrays without libm's loop: where |a / b| < 2**28 the float64 quotient cannot round across an
    integer, so ``a - trunc(a / b) * b`` is exact in float64 (as fmod's result is exact)."""
    quotient, slow = _float64_quotient(a, b, numpy.trunc, 2.0 ** 28)
    quotient *= b
    remainder = numpy.subtract(a, quotient, out=quotient)
    result = numpy.copysign(remainder, a, out=_buffers.empty(numpy, quotient.shape, numpy.float32))
    return _with_numpy_at(result, slow, numpy.fmod, a, b)


def _remainder(a, b, fmod):
    """PyTorch's float remainder of NumPy arrays: ``fmod(a, b)``, plus ``b`` where that has the other sign than ``b``
    (a zero keeps fmod's sign, where NumPy's remainder gives it ``b``'s)."""
    result = numpy.asarray(fmod(a, b))
    if b.ndim:
        add = (result != 0) & ((b < 0) != (result < 0))
    else:
        add = result > 0 if b < 0 else result < 0
    if not result.ndim:
        return result + b if add else result
    # numpy.where and a ufunc's where= take ~30x longer on a random mask than bit operations: add b where ``add``
    # is set and -0.0 (which leaves every value, zeros too, as it is) elsewhere, chosen bitwise
    integers = numpy.dtype(f"i{result.itemsize}")
    select = numpy.negative(add, dtype=integers, out=_buffers.empty(numpy, result.shape, integers))
    step = numpy.bitwise_and(b.view(integers), select, out=_buffers.empty(numpy, result.shape, integers))
    numpy.invert(select, out=select)
    select &= numpy.asarray(-0.0, result.dtype).view(integers)
    step |= select
    return numpy.add(result, step.view(result.dtype), out=result)


def _floor_divide32(a, b):
    """PyTorch's ``div_floor`` of float32 arrays: while |a / b| < 2**21 its rounding steps land on the exact
    floor(a / b), which float64 gives directly (zeros signed as a / b)."""
    quotient, slow = _float64_quotient(a, b, numpy.floor, 2.0 ** 21)
    result = _buffers.empty(numpy, quotient.shape, numpy.float32)
    numpy.copyto(result, quotient, casting="same_kind")
    return _with_numpy_at(result, slow, numpy.floor_divide, a, b)


class Fmod(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        if ctx.needs_input_grad[1]:   # input's gradient is grad itself: saved only for other's, as PyTorch's node
            ctx.save_for_backward(a, b)
        operands = _float32_operands(ctx.xp, a, b)
        return ctx.xp.fmod(a, b) if operands is None else _fmod32(*operands)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[1]:
            return grad, None
        a, b = ctx.saved_tensors
        return grad, -grad * div(a, b, rounding_mode="trunc")


class Remainder(Primitive):
    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        if ctx.needs_input_grad[1]:   # input's gradient is grad itself: saved only for other's, as PyTorch's node
            ctx.save_for_backward(a, b)
        operands = _float32_operands(ctx.xp, a, b)
        if operands is not None:
            return _remainder(*operands, _fmod32)
        if ctx.xp is numpy and numpy.result_type(a, b) == numpy.float64:
            return _remainder(numpy.asarray(a), numpy.asarray(b), numpy.fmod)
        return ctx.xp.remainder(a, b)

    @staticmethod
    def backward(ctx, grad):
        if not ctx.needs_input_grad[1]:
            return grad, None
        a, b = ctx.saved_tensors
        return grad, -grad * div(a, b, rounding_mode="floor")


def _refused_operand(input, other):
    """The operand (after promotion) whose dtype the rounding kernels (floor and trunc division, fmod, remainder)
    do not dispatch on, bool, complex or float8; None if neither is."""
    for operand in (input, other):
        if isinstance(operand, Tensor) and (operand._data.dtype.kind in "bc" or
                                            operand._data.dtype.char in _FLOAT8_CHARS):
            return operand
    return None


def _modulo(name, primitive, input, other, out):
    input, other = promote_pair(input, other)
    refused = _refused_operand(input, other)
    if refused is not None:
        raise _not_implemented(name + "_cpu", refused)
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
    if isinstance(input, Tensor) and input._data.dtype.char in _FLOAT8_CHARS:
        raise _not_implemented("neg_cpu", input)
    same_dtype_out(out, input.dtype)
    return write_out(out, Neg.apply(input), "neg")


negative = neg


@tensor_method("__pos__")
def positive(input):
    """input itself (unary plus); an error for bool tensors, as in PyTorch."""
    if _is_bool(input):
        raise RuntimeError("The `+` operator, on a bool tensor is not supported.")
    return input


# 1 / a keeps its result, as PyTorch's node does, for the gradient -grad / a^2: changing the input in place
# afterwards stays allowed, changing the result is refused
Reciprocal = unary_primitive("Reciprocal", __name__, lambda xp, a: xp.true_divide(1.0, a),
                             lambda grad, result: -grad * (result * result), saves="result", on_arrays=True)


@tensor_method
@composite("reciprocal", trace_inside=True)
def reciprocal(input, *, out=None):
    """1 / input; integer inputs give the default float dtype."""
    if isinstance(input, Tensor) and input._data.dtype.char in _FLOAT8_CHARS:
        raise _not_implemented("reciprocal_cpu", input)
    return write_out(out, Reciprocal.apply(_floating(input)), "reciprocal")


@tensor_method
def square(input, *, out=None):
    """input * input; bool inputs give int64, as in PyTorch."""
    if _is_bool(input):
        input = input.to(_dtype.int64)
    return write_out(out, pow(input, 2), "square")


@tensor_method
@composite("addcmul", trace_inside=True)
def addcmul(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 * tensor2."""
    if isinstance(value, Tensor) and value.ndim:   # a Number argument takes 0-d tensors only
        raise TypeError("addcmul(): argument 'value' must be Number, not Tensor")
    target = _dtype.result_type(input, tensor1, tensor2)
    if target is _dtype.bool_:
        raise _not_implemented("addcmul_cpu_out", target)
    real_scalar(value, target)
    if target._category == _dtype._INT:
        value = int(value)   # PyTorch casts ``value`` to the integer result type
    input, tensor1, tensor2 = promote(input, tensor1, tensor2)   # bool factors multiply in the result type
    if type(value) in (float, int) and _fused_float_operands(input, tensor1, tensor2):
        return write_out(out, Addcmul.apply(input, tensor1, tensor2, float(value)), "addcmul")
    # PyTorch's order, (value * tensor1) * tensor2: the product of two huge factors need not overflow first
    return write_out(out, name_node(add(input, mul(mul(tensor1, value), tensor2)), "AddcmulBackward0",
                                     (input, tensor1, tensor2)), "addcmul")


def _fused_float_operands(*tensors):
    """Whether addcmul's and addcdiv's operands (promoted) are tensors of one dtype that PyTorch's CPU kernels
    compute in float32: float32 itself, float16 or bfloat16 (rounded once at the end)."""
    dtype = tensors[0]._data.dtype if isinstance(tensors[0], Tensor) else None
    return dtype is not None and (dtype == numpy.float32 or is_reduced(tensors[0]._data)) and \
        all(isinstance(t, Tensor) and t._data.dtype == dtype for t in tensors)


class Addcmul(Primitive):
    """addcmul of float32 tensors as PyTorch's CPU kernel computes it: ``value * tensor1`` rounded to float32, then
    one fused multiply-add with ``tensor2`` and ``input``. The float32 product is exact in float64, so the sum in
    float64 rounded to float32 is the fused result (as in ``_fused_lerp``). float16 and bfloat16 the same way in
    float32, rounded once."""
    graph_inputs = (0, 1, 2)

    @staticmethod
    @_quiet
    def forward(ctx, input, tensor1, tensor2, value):
        ctx.value = value
        ctx.save_for_backward(tensor1 if ctx.needs_input_grad[2] else None,
                              tensor2 if ctx.needs_input_grad[1] else None)
        f32, f64 = numpy.float32, numpy.float64
        scaled = (f32(value) * tensor1.astype(f32, copy=False)).astype(f64)
        return ctx.xp.asarray(input.astype(f64) + scaled * tensor2.astype(f64)).astype(f32).astype(input.dtype,
                                                                                                  copy=False)

    @staticmethod
    def backward(ctx, grad):
        tensor1, tensor2 = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad if needs[0] else None, grad * (tensor2 * ctx.value) if needs[1] else None,
                grad * (tensor1 * ctx.value) if needs[2] else None)


Addcmul._node_cls.__name__ = Addcmul._node_cls.__qualname__ = "AddcmulBackward0"


@tensor_method
@composite("addcdiv", trace_inside=True)
def addcdiv(input, tensor1, tensor2, *, value=1, out=None):
    """input + value * tensor1 / tensor2 (floating tensor1 and tensor2 only, as in PyTorch)."""
    if isinstance(value, Tensor) and value.ndim:   # a Number argument takes 0-d tensors only
        raise TypeError("addcdiv(): argument 'value' must be Number, not Tensor")
    if _is_integral(tensor1) and _is_integral(tensor2):
        raise RuntimeError("Integer division with addcdiv is no longer supported, and in a future  release addcdiv "
                           "will perform a true division of tensor1 and tensor2. The historic addcdiv behavior can "
                           "be implemented as (input + value * torch.trunc(tensor1 / tensor2)).to(input.dtype) for "
                           "integer inputs and as (input + value * tensor1 / tensor2) for float inputs. The future "
                           "addcdiv behavior is just the latter implementation: (input + value * tensor1 / tensor2), "
                           "for all dtypes.")
    if type(value) in (float, int):
        operands = promote(input, tensor1, tensor2)
        if _fused_float_operands(*operands):
            return write_out(out, Addcdiv.apply(*operands, float(value)), "addcdiv")
    return write_out(out, name_node(add(input, div(mul(tensor1, value), tensor2)), "AddcdivBackward0",
                                     (input, tensor1, tensor2)), "addcdiv")


class Addcdiv(Primitive):
    """addcdiv of float32, float16 or bfloat16 tensors as PyTorch's CPU kernel computes it: ``input + value *
    tensor1 / tensor2`` in float32 (16-bit results rounded once), with PyTorch's gradients."""
    graph_inputs = (0, 1, 2)

    @staticmethod
    @_quiet
    def forward(ctx, input, tensor1, tensor2, value):
        ctx.value = value
        ctx.save_for_backward(tensor1 if ctx.needs_input_grad[2] else None, tensor2)
        f32 = numpy.float32
        wide = [t.astype(f32) for t in (input, tensor1, tensor2)]
        return ctx.xp.asarray(wide[0] + f32(value) * wide[1] / wide[2]).astype(input.dtype)

    @staticmethod
    def backward(ctx, grad):
        tensor1, tensor2 = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad if needs[0] else None, grad * div(ctx.value, tensor2) if needs[1] else None,
                -grad * (ctx.value * tensor1 / (tensor2 * tensor2)) if needs[2] else None)


Addcdiv._node_cls.__name__ = Addcdiv._node_cls.__qualname__ = "AddcdivBackward0"


def _check_same_dtype(name, input, value):
    if isinstance(value, Tensor) and value.dtype is not input.dtype:
        raise RuntimeError(f"expected dtype {cpp_type_name(input.dtype)} for `{name}` but got dtype "
                           f"{cpp_type_name(value.dtype)}")


def _lerp(input, end, weight):
    """PyTorch's lerp arithmetic: from ``input`` for weights below 0.5 in magnitude, from ``end`` otherwise (so
    ``lerp(1, inf, 0.5)`` is NaN and ``lerp(-inf, 1, 0.5)`` is -inf, as there)."""
    if input.dtype.is_floating_point and input.dtype is not _dtype.float64:
        return Lerp.apply(input, end, weight if isinstance(weight, Tensor) else float(weight))
    if not isinstance(weight, Tensor):
        return input + weight * (end - input) if abs(weight) < 0.5 else end - (end - input) * (1 - weight)
    return where(weight.abs() < 0.5, input + weight * (end - input), end - (end - input) * (1 - weight))


def _fused_lerp(xp, start, end, weight):
    """PyTorch's CPU lerp kernel for float32 and the half types (computed in float32): ``weight * (end - start) +
    start`` below 0.5, ``end - (end - start) * (1 - weight)`` otherwise, each a fused multiply-add rounded once. The
    float32 product is exact in float64, so the sum in float64 rounded to float32 is the fused result."""
    f32, f64 = numpy.float32, numpy.float64
    begin, stop = start.astype(f32, copy=False), end.astype(f32, copy=False)
    diff = (stop - begin).astype(f64)
    if isinstance(weight, float):
        w = f32(weight)
        out = begin.astype(f64) + float(w) * diff if abs(w) < 0.5 else stop.astype(f64) - diff * float(f32(1) - w)
    else:
        w = weight.astype(f32, copy=False)
        out = xp.where(xp.abs(w) < 0.5, begin.astype(f64) + w.astype(f64) * diff,
                       stop.astype(f64) - diff * (f32(1) - w).astype(f64))
    return out.astype(f32).astype(start.dtype, copy=False)


class Lerp(Primitive):
    """lerp of float32 and half-precision tensors, with PyTorch's fused multiply-adds (``_fused_lerp``)."""

    @staticmethod
    @_quiet
    def forward(ctx, start, end, weight):
        ctx.save_for_backward(start, end, weight)
        return _fused_lerp(ctx.xp, *ctx.xp.broadcast_arrays(start, end), weight) if isinstance(weight, float) \
            else _fused_lerp(ctx.xp, *ctx.xp.broadcast_arrays(start, end, weight))

    @staticmethod
    def backward(ctx, grad):
        start, end, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        return (grad * (1 - weight) if needs[0] else None, grad * weight if needs[1] else None,
                grad * (end - start) if len(needs) > 2 and needs[2] else None)


@tensor_method
def lerp(input, end, weight, *, out=None):
    """input + weight * (end - input); ``weight`` is a number or a tensor of input's dtype."""
    _check_same_dtype("end", input, end)
    _check_same_dtype("weight", input, weight)
    if input._data.dtype.kind not in "fc" and not input.dtype.is_floating_point:   # bfloat16's kind is "V"
        raise _not_implemented("lerp_kernel_scalar", input)
    variant = 1 if isinstance(weight, Tensor) else 0
    result = name_node(_lerp(input, end, weight), f"LerpBackward{variant}",
                       (input, end, weight) if variant else (input, end))
    return write_out(out, result, "lerp")


for _function in (add, sub, mul, div, neg, floor_divide, fmod, remainder, reciprocal, square, addcmul, addcdiv,
                  lerp):
    inplace_method(_function)
for _alias, _function in (("subtract_", sub), ("multiply_", mul), ("divide_", div), ("true_divide_", div),
                          ("negative_", neg)):
    inplace_method(_function, _alias)


# --- powers ----------------------------------------------------------------------------------------------------------
_SPECIAL_POWERS = {
    2: lambda xp, a: a * a,
    3: lambda xp, a: a * a * a,
    -2: lambda xp, a: 1 / (a * a),
    0.5: lambda xp, a: xp.sqrt(a),
    -0.5: lambda xp, a: 1 / xp.sqrt(a),
    -1: lambda xp, a: 1 / a,
}
"""Floating arrays to these number powers are computed as PyTorch's pow kernel computes them (the same bits): NumPy's
``power`` squares fast only for the integer 2 and calls libm's ``pow`` per element otherwise (float32 ``x ** 3``:
63 ms per million elements against 0.2 as products)."""


class Pow(Primitive):
    saved_names = ("self", "exponent", "result")   # PyTorch's names of the saved values (_saved_* attributes)

    @staticmethod
    @_quiet
    def forward(ctx, a, b):
        xp = ctx.xp
        if hasattr(b, "dtype") and b.dtype.kind in "iu" and xp.asarray(a).dtype.kind in "iu":
            # PyTorch's integer powers: negative exponents give 0 except for bases 1 and -1, where only the
            # exponent's parity counts (b & 1; |b| overflows at the type's minimum); NumPy raises.
            negative = b < 0
            result = xp.where(negative & (xp.abs(a) != 1), 0, xp.power(a, xp.where(negative, b & 1, b)))
            result = result.astype(b.dtype, copy=False)
        else:
            result = _scalar_power(xp, a, b)
        ctx.save_for_backward(a, b, result if hasattr(b, "shape") else None)   # kept for tensor exponents, as PyTorch
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


def _scalar_power(xp, a, b):
    """``a ** b``, through ``_SPECIAL_POWERS`` for floating arrays (bfloat16's exponent comes as its NumPy scalar)."""
    if type(b) is not float and type(b) is not int and getattr(b, "ndim", None) == 0 and b.dtype.kind == "V":
        b = float(b)
    special = _SPECIAL_POWERS.get(b) if type(b) in (float, int) and getattr(a, "dtype", None) is not None \
        and a.dtype.kind in "fV" else None
    if special is None:
        return xp.asarray(a ** b)
    if a.dtype == xp.float16 or b == -0.5 and a.dtype.kind == "V":
        # PyTorch computes these in float32 and rounds once for float16, and bfloat16's -0.5 (its rsqrt); its
        # bfloat16 products and quotients round each step
        return xp.asarray(special(xp, a.astype(xp.float32))).astype(a.dtype)
    return xp.asarray(special(xp, a))


def _pow_base_grad(grad, a, b):
    if not isinstance(b, Tensor):
        return _zero_grad(grad) if b == 0 else grad * _conj(b * a ** (b - 1))
    return where(b == 0, 0.0, grad * _conj(b * a ** (b - 1)))


def _pow_exponent_grad(grad, a, b, result):
    """d(a**b)/db = a**b * log(a), taken as 0 where a == 0 and b >= 0 (PyTorch's convention; b's real part for a
    complex b)."""
    nonnegative = (b.real if b.is_complex() else b) >= 0
    if not isinstance(a, Tensor):
        if isinstance(a, complex) or b.is_complex():
            log_a = cmath.log(a) if a != 0 else float("-inf")
        else:
            log_a = math.log(a) if a > 0 else float("nan") if a < 0 else float("-inf")
        return grad * _conj(where(nonnegative, 0.0, result * log_a)) if a == 0 else grad * _conj(result * log_a)
    return grad * _conj(where((a == 0) & nonnegative, 0.0, result * log(a)))


@tensor_method("__pow__")
@composite("pow", trace_inside=True)
def pow(input, exponent, *, out=None):
    """input raised to ``exponent``, elementwise and broadcasting; either may be a number."""
    if type(exponent) is int and isinstance(input, Tensor) and input._data.dtype.kind in "iu":
        if exponent < 0:
            raise RuntimeError("Integers to negative integer powers are not allowed.")
        real_scalar(exponent, input.dtype)   # PyTorch's range check (promote_pair would wrap it)
    input, exponent = promote_pair(input, exponent)
    for operand in (input, exponent):
        if _is_bool(operand):
            if isinstance(exponent, bool):   # PyTorch's pow by a bool: a copy or a fill with True, no kernel
                return write_out(out, input.clone() if exponent else input | True, "pow")
            raise _not_implemented("pow", operand)
    if _is_integral(input) and isinstance(exponent, int) and exponent < 0:
        raise RuntimeError("Integers to negative integer powers are not allowed.")
    result = Pow.apply(input, exponent)
    if not isinstance(input, Tensor):
        name_node(result, "PowBackward2", (exponent,))
    elif isinstance(exponent, Tensor):
        name_node(result, "PowBackward1")
    elif result.grad_fn is not None:
        result.grad_fn._shown_positions = (0,)   # PowBackward0 lists the input only
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
    """In-place float_power; self must already be float64 (complex128 where self or the exponent is complex)."""
    exponent_complex = isinstance(exponent, complex) or isinstance(exponent, Tensor) and exponent.dtype.is_complex
    required = _dtype.complex128 if self.dtype.is_complex or exponent_complex else _dtype.float64
    if self.dtype is not required:
        raise RuntimeError(f"the base given to float_power_ has dtype {_dtype.scalar_type_name(self.dtype)} but "
                           f"the operation's result requires dtype {_dtype.scalar_type_name(required)}")
    return self.pow_(_as_float64(exponent))


Tensor.float_power_ = float_power_


# --- in-place operators ---------------------------------------------------------------------------------------------
for _name in ("add", "sub", "mul", "pow", "floordiv", "mod"):
    setattr(Tensor, f"__i{_name}__", getattr(Tensor, {"floordiv": "floor_divide", "mod": "remainder"}.get(_name, _name)
                                             + "_"))
Tensor.__itruediv__ = Tensor.div_
