"""Ranges: ``arange``, ``range``, ``linspace`` and ``logspace``, each value rounded as PyTorch's CPU kernels do."""
import builtins
import math

import numpy

from .. import _backend, _dtype, _runtime
from .._warnings import warn
from ._kernel_dtypes import cpp_type_name
from ._util import argument_error, out_dtype, warn_at_caller, write_out
from .creation import _dtype_arg, _finish, _number

__all__ = ["arange", "linspace", "logspace", "range"]


_ARANGE_GRAIN = 32768   # ATen's internal::GRAIN_SIZE, below which parallel_for runs one chunk


def _check_kernel(kernel, dtype, complex_too=True):
    """PyTorch's NotImplementedError for a dtype its CPU range kernel has no instance for: bool, the unsigned integers
    past uint8 and (for arange and range) the complex dtypes."""
    if dtype is _dtype.bool_ or dtype in (_dtype.uint16, _dtype.uint32, _dtype.uint64) or \
            complex_too and dtype.is_complex:
        raise NotImplementedError(f'"{kernel}_cpu" not implemented for \'{_dtype.scalar_type_name(dtype)}\'')


def _complex_bounds(kernel, start, end, dtype):
    """Whether a bound is complex (the default complex dtype is then inferred), with PyTorch's error where the
    given ``dtype`` is real."""
    if not any(isinstance(v, builtins.complex) for v in (start, end)):
        return False
    if dtype is not None and not _dtype_arg(dtype).is_complex:
        raise RuntimeError(f"torch.{kernel}(): inferred dtype {cpp_type_name(_dtype.default_complex())} can't be "
                           f"safely cast to passed dtype {_dtype.scalar_type_name(_dtype_arg(dtype))}")
    return True


def _write_range_out(out, values, name):
    """A range's ``out=``: one with as many elements keeps its shape, another is resized without resize_output's
    warning, as PyTorch's range kernels (``resize_`` where the count differs) do."""
    if out.numel() == values.numel():
        values = values.reshape(out.shape)
    return write_out(out, values, name, warn_resize=False)


def _fma(a, b, c):
    """a * b + c rounded once (as the compiler's fused multiply-add): Dekker's exact product and a two-sum, float64."""
    product = a * b
    a_split, b_split = a * 134217729.0, b * 134217729.0   # Veltkamp: 2 ** 27 + 1
    a_high, b_high = a_split - (a_split - a), b_split - (b_split - b)
    a_low, b_low = a - a_high, b - b_high
    product_error = ((a_high * b_high - product) + a_high * b_low + a_low * b_high) + a_low * b_low
    total = product + c
    shifted = total - product
    sum_error = (product - (total - shifted)) + (c - shifted)
    return total + (sum_error + product_error)


def _cpu_float_arange(start, step, count, dtype):
    """float32 / float64 values rounded as PyTorch's CPU arange kernel rounds them, bit for bit.

    The kernel (RangeFactoriesKernel.cpp) runs in parallel_for chunks; within a chunk, pairs of 32-byte vectors
    (8 floats, 4 doubles) hold T(base) + j * step with base = start + step * i, and the tail after the last pair
    holds start + step * i, all in double with fused multiply-adds and rounded to T. So a fractional step's values
    can differ from start + step * i rounded once by an ulp, and a phase vocoder's float32 time steps show it."""
    exact_limit = 2.0 ** (24 if dtype == numpy.float32 else 53)
    if start == int(start) and step == int(step) and abs(start) + abs(step) * count < exact_limit:
        return (start + step * numpy.arange(count, dtype=numpy.float64)).astype(dtype)   # every value exact
    lanes = 32 // numpy.dtype(dtype).itemsize
    if count < _ARANGE_GRAIN or _runtime.get_num_threads() == 1:
        chunk = max(count, 1)
    else:
        chunk = -(-count // min(_runtime.get_num_threads(), -(-count // _ARANGE_GRAIN)))
    out = numpy.empty(count, dtype)
    for begin in builtins.range(0, count, chunk):
        end = min(begin + chunk, count)
        vector_end = begin + (end - begin) // (2 * lanes) * (2 * lanes)
        bases = _fma(step, numpy.arange(begin, vector_end, lanes, dtype=numpy.float64), start)
        bases = bases.astype(dtype).astype(numpy.float64)[:, None]
        out[begin:vector_end] = _fma(numpy.arange(lanes, dtype=numpy.float64), step, bases).reshape(-1)
        out[vector_end:end] = _fma(step, numpy.arange(vector_end, end, dtype=numpy.float64), start)
    return out


def arange(start=None, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
           pin_memory=False):
    """Values from ``start`` up to (not including) ``end`` spaced by ``step``; int64 unless any bound is a float.

    The length is ``ceil((end - start) / step)`` computed in double precision, as in PyTorch.
    """
    if out is not None:
        values = arange(start, end, step, dtype=out_dtype(out, dtype), device=device or out.device,
                        requires_grad=requires_grad)
        if out.numel() and out.numel() != values.numel():
            warn_at_caller(f"The number of elements in the out tensor of shape {list(out.shape)} is {out.numel()} "
                           f"which does not match the computed number of elements {values.numel()}. Note that this may "
                           f"occur as a result of rounding error. The out tensor will be resized to a tensor of shape "
                           f"({values.numel()},).")
        return _write_range_out(out, values, "arange")
    if start is None:   # arange(end=5); arange() has no overload in PyTorch's parser
        if end is None:
            argument_error()
            raise TypeError("arange() missing its end")
        start = 0
    start, end, step = _number(start), _number(end), _number(step)
    if end is None:
        start, end = 0, start
    if dtype is None:
        floating = any(isinstance(v, (float, numpy.floating)) for v in (start, end, step))
        dtype = _dtype.get_default_dtype() if floating else _dtype.int64
    dtype = _dtype_arg(dtype)
    _check_kernel("arange", dtype)
    if step == 0:
        raise RuntimeError("step must be nonzero")
    if not all(numpy.isfinite(float(v)) for v in (start, end)):
        raise RuntimeError(f"unsupported range: {start} -> {end}")
    if (end - start) * step < 0:
        raise RuntimeError("upper bound and lower bound inconsistent with step sign")
    if dtype is _dtype.int64:   # PyTorch's int64 kernel truncates the bounds and step first and counts in int64
        start, end, step = int(start), int(end), int(step)
        if step == 0:
            raise ValueError("step must be nonzero")
        span = end - start + step - (1 if step > 0 else -1)
        count = max(abs(span) // abs(step) * (1 if (span >= 0) == (step > 0) else -1), 0)   # C's division
    else:
        count = max(int(numpy.ceil((float(end) - float(start)) / float(step))), 0)
    xp = _backend.xp_for(_backend.as_device(device))
    if xp is numpy and dtype.numpy in (numpy.float32, numpy.float64):
        return _finish(_cpu_float_arange(float(start), float(step), count, dtype.numpy), requires_grad)
    if dtype.is_floating_point or dtype.is_complex:
        array = float(start) + float(step) * xp.arange(count, dtype=numpy.float64)
    else:
        # Integral ranges run in the integer type itself: fractional bounds and steps are truncated first (a step
        # truncated to 0 repeats the start, as PyTorch's narrower integer kernels do).
        array = int(start) + int(step) * xp.arange(count, dtype=numpy.int64)
    with numpy.errstate(over="ignore", invalid="ignore"):
        return _finish(array.astype(dtype.numpy, copy=False), requires_grad)


def range(start=0, end=None, step=1, *, out=None, dtype=None, layout=None, device=None, requires_grad=False):
    """Deprecated in PyTorch: values from ``start`` to ``end`` inclusive spaced by ``step`` (default float dtype)."""
    if end is None:   # start and end are both required
        argument_error()
        raise TypeError('range() missing 1 required positional arguments: "end"')
    warn("torch.range is deprecated and will be removed in a future release because its behavior is inconsistent "
         "with Python's range builtin. Instead, use torch.arange, which produces values in [start, end).",
         UserWarning, stacklevel=2)
    if out is None:
        return _inclusive_range(start, end, step, dtype, device, requires_grad)
    values = _inclusive_range(start, end, step, out_dtype(out, dtype), device or out.device, requires_grad)
    return _write_range_out(out, values, "range")


def _inclusive_range(start, end, step, dtype, device, requires_grad):
    """``range``'s values: ``arange`` up to and including ``end``."""
    dtype = _dtype_arg(dtype) if dtype is not None else _dtype.get_default_dtype()
    _check_kernel("range", dtype)
    count = int(numpy.floor((float(_number(end)) - float(_number(start))) / float(_number(step)))) + 1
    return arange(start, start + count * step, step, dtype=dtype, device=device, requires_grad=requires_grad)


def linspace(start, end, steps, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """``steps`` evenly spaced values from ``start`` to ``end`` inclusive."""
    if out is not None:
        values = linspace(start, end, steps, dtype=out_dtype(out, dtype), device=device or out.device,
                          requires_grad=requires_grad)
        return _write_range_out(out, values, "linspace")
    start, end = _number(start), _number(end)
    if not isinstance(steps, (int, numpy.integer)) or isinstance(steps, bool):
        raise TypeError(f"linspace(): argument 'steps' must be int, not {type(steps).__name__}")
    if steps < 0:
        raise RuntimeError("number of steps must be non-negative")
    is_complex = _complex_bounds("linspace", start, end, dtype)
    if dtype is None:
        dtype = _dtype.default_complex() if is_complex else _dtype.get_default_dtype()
    dtype = _dtype_arg(dtype)
    _check_kernel("linspace", dtype, complex_too=False)
    xp = _backend.xp_for(_backend.as_device(device))
    with numpy.errstate(over="ignore", invalid="ignore"):
        if dtype.is_complex:
            array = _linspace_wide(start, end, steps, numpy.complex128)
        elif dtype.itemsize == 2 and dtype.is_floating_point:
            array = _linspace_narrow(start, end, steps, dtype.numpy.type)
        else:
            array = _linspace_fused(start, end, steps, dtype.numpy)
        return _finish(xp.asarray(array.astype(dtype.numpy)), requires_grad)


def _linspace_halves(steps):
    """Which elements PyTorch computes from ``start`` (the first half) and which from ``end`` (keeping both ends
    exact), and each element's distance ``k`` in steps from its end."""
    index = numpy.arange(steps)
    lower = index < steps // 2
    return lower, numpy.where(lower, index, steps - 1 - index)


def _linspace_wide(start, end, steps, wide):
    """linspace computed in float64 (complex128) and left for the caller to round: the complex dtypes."""
    if steps == 1:
        return numpy.full((1,), start, dtype=wide)
    lower, k = _linspace_halves(steps)
    step = (end - start) / (steps - 1)
    return numpy.where(lower, start + step * k, end - step * k).astype(wide)


def _linspace_narrow(start, end, steps, scalar):
    """linspace in float16 / bfloat16 as PyTorch's kernel computes it: the bounds and the step in the dtype, and
    ``step * k`` and the sum (or difference) each rounded to it."""
    if steps <= 1:
        return numpy.full((steps,), scalar(start))
    start, end = scalar(start), scalar(end)
    step = scalar(scalar(end - start) / scalar(steps - 1))
    lower, k = _linspace_halves(steps)
    offsets = (step * k.astype(scalar)).astype(scalar)
    return numpy.where(lower, start + offsets, end - offsets).astype(scalar)


def _linspace_fused(start, end, steps, np_dtype):
    """linspace as PyTorch's CPU kernel computes it, bit for bit: ``start + step * i`` for the first half and
    ``end - step * k`` for the rest (``k`` steps back from the end), each one fused multiply-add, in float32 for
    float32 and in float64 for float64 and the integer dtypes (truncated)."""
    if steps <= 1:
        return numpy.full((steps,), start).astype(np_dtype) if steps else numpy.empty(0, np_dtype)
    single = np_dtype == numpy.float32
    if single:
        start, end = numpy.float32(start), numpy.float32(end)
        step = numpy.float32(end - start) / numpy.float32(steps - 1)
    else:
        if np_dtype != numpy.float64:   # integers: the bounds converted to the dtype, the step in float64
            start, end = (float(v) for v in numpy.array([start, end]).astype(np_dtype))
        step = (end - start) / (steps - 1)
    half = steps // 2
    values = numpy.empty(steps, numpy.float32 if single else numpy.float64)
    values[:half] = _fused_run(step, start, half, single)
    values[half:] = _fused_run(-step, end, steps - half, single)[::-1]
    return values if single or np_dtype == numpy.float64 else numpy.trunc(values)


def _fused_run(step, origin, count, single):
    """``origin + step * k`` for k = 0 .. count - 1, each rounded once to float32 (``single``) or float64."""
    from ._cephes import fma
    from ._samplers import fma64
    k = numpy.arange(count, dtype=numpy.float64)
    if _exact_in_float64(float(step), float(origin), count - 1):   # then one rounding to float32 is the FMA's
        k *= float(step)
        k += float(origin)
        return k
    if single:
        return fma(step, k.astype(numpy.float32), origin)
    return fma64(float(step), k, float(origin))


def _exact_in_float64(step, origin, top):
    """Whether ``step * k`` and ``origin + step * k`` are exact in float64 for every integer k in [0, top]: all are
    multiples of the lowest set bit of ``step`` and ``origin`` and stay below 2**53 of it."""
    if not (math.isfinite(step) and math.isfinite(origin)):
        return False
    lowest = [math.frexp(v)[1] - 53 + _trailing_zeros(int(math.frexp(v)[0] * 2.0 ** 53)) for v in (step, origin) if v]
    return not lowest or abs(origin) + abs(step) * top < 2.0 ** (min(lowest) + 52)


def _trailing_zeros(n):
    """The number of trailing zero bits of the nonzero integer ``n``."""
    return (n & -n).bit_length() - 1


def logspace(start, end, steps, base=10.0, *, out=None, dtype=None, layout=None, device=None, requires_grad=False,
             pin_memory=False):
    """``steps`` values from ``base**start`` to ``base**end`` spaced evenly on a log scale."""
    if out is not None:
        values = logspace(start, end, steps, base, dtype=out_dtype(out, dtype), device=device or out.device,
                          requires_grad=requires_grad)
        return _write_range_out(out, values, "logspace")
    start, end = _number(start), _number(end)
    if _complex_bounds("logspace", start, end, dtype):   # complex exponents: base ** them in complex128
        exponents = linspace(start, end, steps, dtype=_dtype.complex128, device=device)._data
        dtype = _dtype_arg(dtype) if dtype is not None else _dtype.default_complex()
        return _finish((builtins.complex(base) ** exponents).astype(dtype.numpy), requires_grad)
    dtype = _dtype_arg(dtype) if dtype is not None else _dtype.get_default_dtype()
    _check_kernel("logspace", dtype, complex_too=False)
    integral = dtype._category == _dtype._INT
    if (dtype.numpy in (numpy.float32, numpy.float64) or integral) and steps > 1:
        exponents = _backend.xp_for(_backend.as_device(device)).asarray(_log_exponents(start, end, steps, dtype.numpy))
    else:
        exponents = linspace(start, end, steps, dtype=_dtype.float64, device=device)._data
    values = float(base) ** exponents
    if not (dtype.is_floating_point or dtype.is_complex):
        values = _backend.xp_of(values).trunc(values)
    with numpy.errstate(over="ignore", invalid="ignore"):
        return _finish(values.astype(dtype.numpy), requires_grad)


def _log_exponents(start, end, steps, np_dtype):
    """logspace's exponents as PyTorch's kernel computes them: the bounds in the dtype (an integer one's truncated
    and wrapped), the step in float64, ``start + step * i`` (or ``end - step * k`` for the second half) multiplied
    and added apart in float64."""
    with numpy.errstate(over="ignore", invalid="ignore"):
        if numpy.dtype(np_dtype).kind in "iu":   # (their difference taken as C's int arithmetic: unwrapped)
            start, end = (int(numpy.array(int(_number(v))).astype(np_dtype)) for v in (start, end))
        else:
            start, end = (np_dtype.type(_number(v)) for v in (start, end))
        step = float(end - start) / (steps - 1)
    half = steps // 2
    exponents = numpy.arange(steps, dtype=numpy.float64)
    exponents[half:] -= steps - 1
    exponents *= step
    exponents[:half] += float(start)
    exponents[half:] += float(end)
    return exponents
