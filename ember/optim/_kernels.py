"""The arithmetic of PyTorch's CPU kernels for the optimizers' array-level updates, so that a step has PyTorch's bits.

ATen's vectorised ``add(a, b, alpha)``, ``addcmul`` and ``lerp`` round once: each lane is one fused multiply-add
(``vec::fmadd``), and the scalar loop of each run's tail is contracted to one too (measured: every size 1..1000). NumPy
has no fused multiply-add, so for float32 the product (exact in float64: 24 + 24 bits) is added in float64 and rounded
once to float32; that is the fused result except where the float64 sum rounds onto a float32 midpoint (double
rounding): 0 of 10**8 random normal operands differed from an exact fma (``_cephes.fma``). float64 takes Dekker's
exact split (``fma64``). ``axpy``, the step of SGD, calls BLAS's ``?axpy`` instead where it computes the same fused
result (checked once on a probe): one pass over the arrays, faster than NumPy's product and sum. float16 and bfloat16
arrays go through ember's own ``add``, ``addcmul`` and ``lerp``, which compute as PyTorch's 16-bit kernels do.
"""
import threading

import numpy

from .._backend import xp_of
from .._tensor import _make
from ..ops._blas import fused_axpy as _blas_axpy
from ..ops._blas import small_products
from ..ops._samplers import fma64
from ..ops.pointwise.arithmetic import add, addcmul, lerp

_FUSED = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


_THREADED_AXPY = 10_000
"""Elements above which OpenBLAS runs ?axpy on its threads: the seeds' MLP's SGD step at the default threads on a
busy 2-core host took 174-566 us of the main thread's CPU, 117 at one thread (ASGD 512 against 126)."""

_BLOCK = 1 << 16   # float64 elements of the kept scratch (512 KiB, in the L2 cache): large arrays go by blocks
_scratch = threading.local()


def fma_into(out, x, y, z):
    """``out[...] = x * y + z`` rounded once (float32 or float64 ``out``); ``y`` may be a number; ``out`` may be
    ``z`` or ``x``."""
    if out.dtype == numpy.float64:
        out[...] = fma64(x, y, z)
        return out
    if numpy.ndim(y) == 0:
        y = numpy.float32(y)
    operands = (x, y, z)
    if type(out) is numpy.ndarray and out.flags.c_contiguous and all(
            numpy.ndim(v) == 0 or type(v) is numpy.ndarray and v.shape == out.shape and v.flags.c_contiguous
            for v in operands):
        # kept float64 scratch, block by block (a fresh product array per call costs as much again in page faults),
        # filled by copies: NumPy's casting inside a float64 multiply of float32 operands is 2x slower
        wide = getattr(_scratch, "wide", None)
        if wide is None:
            wide = _scratch.wide = numpy.empty((2, _BLOCK))
        flat = out.reshape(-1)
        parts = [float(v) if numpy.ndim(v) == 0 else v.reshape(-1) for v in operands]
        for start in range(0, flat.size, _BLOCK):
            stop = min(start + _BLOCK, flat.size)
            block, other = wide[0, :stop - start], wide[1, :stop - start]
            a, b, c = (v if type(v) is float else v[start:stop] for v in parts)
            numpy.copyto(block, a)
            numpy.multiply(block, b if type(b) is float else _widened(other, b), out=block)
            numpy.add(block, c if type(c) is float else _widened(other, c), out=block)
            numpy.copyto(flat[start:stop], block, casting="same_kind")
        return out
    wide = xp_of(out).multiply(x, y, dtype=numpy.float64)
    wide += z
    out[...] = wide
    return out


def _widened(wide, array):
    """``array`` copied into the float64 ``wide``."""
    numpy.copyto(wide, array)
    return wide


def axpy(y, alpha, x):
    """``y += alpha * x`` in place as PyTorch's ``y.add_(x, alpha=alpha)`` computes it (one rounding for float32 and
    float64); ``x`` broadcasts to ``y``, and is ``y`` itself or does not overlap it."""
    if y.dtype not in _FUSED:
        return _sixteen_bit(y, add, x, alpha=alpha)
    blas = _blas_axpy(y.dtype.char) if alpha != 0 and type(y) is numpy.ndarray else None
    if blas is not None and type(x) is numpy.ndarray and x.shape == y.shape and x.dtype == y.dtype and \
            x.flags.c_contiguous and y.flags.c_contiguous:
        # (BLAS skips alpha 0: 0 * inf must give NaN)
        if y.size <= _THREADED_AXPY:
            blas(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
        else:
            with small_products(y.size):   # OpenBLAS's threads, woken for each call, wait on a busy host (same bits)
                blas(y.size, alpha, x.ctypes.data, 1, y.ctypes.data, 1)
        return y
    return fma_into(y, x, alpha, y)


def add_scaled(a, alpha, b):
    """A new array ``a + alpha * b``, PyTorch's ``a.add(b, alpha=alpha)``."""
    if type(a) is numpy.ndarray and a.shape == b.shape:
        return axpy(a.copy(), alpha, b)
    xp = xp_of(b)   # (``a`` may be a NumPy scalar: arithmetic on 0-d arrays returns them)
    return axpy(xp.array(xp.broadcast_to(a, xp.broadcast_shapes(numpy.shape(a), b.shape))), alpha, b)


def addcmul_(y, tensor1, tensor2, value, scratch=None, fused=True):
    """``y += value * tensor1 * tensor2`` in place as PyTorch's ``addcmul_``: ``value * tensor1`` rounded, then one
    fused multiply-add. ``scratch``, an array like ``y``, holds the temporary (the optimizers keep theirs).
    ``fused=False`` rounds the float32 or float64 product before the add: a third of the fused form's time, for the
    steps whose PyTorch bits are out of reach anyway (they go through its sqrt, MKL's, not correctly rounded)."""
    if y.dtype not in _FUSED:
        return _sixteen_bit(y, addcmul, tensor1, tensor2, value=value)
    scaled = _times(tensor1, value, scratch)
    if fused:
        return fma_into(y, scaled, tensor2, y)
    scaled *= tensor2
    y += scaled
    return y


def addcdiv_(y, tensor1, tensor2, value, scratch=None):
    """``y += value * tensor1 / tensor2`` in place as PyTorch's ``addcdiv_`` (three roundings, no fused step), the
    temporary in ``scratch`` if given."""
    scaled = _times(tensor1, value, scratch)
    scaled /= tensor2
    y += scaled
    return y


def lerp_(start, end, weight, scratch=None, fused=True):
    """``start`` moved toward ``end`` by the number ``weight`` in place, as PyTorch's ``lerp_``: ``start + weight *
    (end - start)`` for weights below 0.5 in magnitude, ``end - (1 - weight) * (end - start)`` otherwise, each one
    fused multiply-add; the difference in ``scratch`` if given. ``fused=False`` rounds the product before the add
    (as ``addcmul_``'s)."""
    if start.dtype not in _FUSED:
        return _sixteen_bit(start, lerp, end, float(weight))
    xp = xp_of(start)
    difference = end - start if scratch is None else xp.subtract(end, start, out=scratch)
    weight = start.dtype.type(weight)   # PyTorch casts it to the tensor's type, and takes 1 - weight there
    if abs(weight) < 0.5:
        if not fused:
            difference *= weight
            start += difference
            return start
        return axpy(start, float(weight), difference)
    if not fused:
        difference *= 1 - weight
        return xp.subtract(end, difference, out=start)
    start[...] = end
    return axpy(start, -float(1 - weight), difference)


def _sixteen_bit(y, op, *operands, **options):
    """``y`` (a float16 or bfloat16 array) replaced in place by ember's ``op`` of it and ``operands``, whose 16-bit
    arithmetic is PyTorch's (float32 inside, one rounding, its kernels' scalar tails)."""
    y[...] = op(_make(y), *(_make(numpy.asarray(v, y.dtype)) for v in operands), **options)._data
    return y


def _times(array, value, scratch):
    """``array * value``, into ``scratch`` where given."""
    return array * value if scratch is None else xp_of(scratch).multiply(array, value, out=scratch)
