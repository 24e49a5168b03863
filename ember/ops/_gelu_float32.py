"""GELU (exact and its tanh form) and its derivative for large float32 NumPy arrays, in cache-sized blocks on the
intra-op threads.

The exact GELU is x * Phi(x), Phi the standard normal CDF. Written as relu(x) - |x| * Q(|x|), Q(z) = 1 - Phi(z) =
erfc(z / sqrt 2) / 2, it needs the normal tail only, which Numerical Recipes' ``erfcc`` fit gives as
t * exp(-z^2 + P(t)), t = 1 / (1 + z / 2), P of degree 9, within 1.2e-7 of its value for every z >= 0: one formula,
no branch to select per element (NumPy's ``where`` on a random mask costs ~3.7 ms per million elements), and no
cancellation for negative x, where 1 + erf(x) loses digits. Float32 evaluation keeps the result within ~2.5e-7 of
the exact GELU (PyTorch's float32 kernel: ~1.2e-6) at ~2 us per thousand elements, where the float64 rational erf
took ~50. The derivative, Phi(x) + x phi(x), shares the tail: 1/2 + sign(x) (1/2 - Q(|x|)) + x phi(x).
"""
import math

import numpy

from . import _buffers, _parallel

__all__ = []

MIN_ELEMENTS = 4096
"""Float32 arrays from this size take these kernels; smaller ones the float64 erf (few passes either way)."""

BLOCK = 65536
"""Elements per block: the block's scratch arrays stay in the core's L2 cache through the ~30 passes (smaller blocks
pay more in per-call overhead, which two threads contend for under the GIL: 16,384 ran 1.9x slower on two)."""

_TAIL = (-1.26551223, 1.00002368, 0.37409196, 0.09678418, -0.18628806, 0.27886807, -1.13520398, 1.48851587,
         -0.82215223, 0.17087277)
"""Numerical Recipes' erfcc coefficients: erfc(z) = t exp(-z^2 + sum(c_k t^k))."""

_F = numpy.float32
_HALF_SQRT2 = _F(math.sqrt(0.5))
_INV_SQRT2PI = _F(1 / math.sqrt(2 * math.pi))
_COEFFICIENTS = tuple(_F(c) for c in _TAIL)
_KAPPA = _F(0.044715)
_SQRT_2_OVER_PI = _F(math.sqrt(2 / math.pi))


def _tail(x, magnitude, tail, scratch):
    """Writes |x| into ``magnitude`` and Q(|x|) = erfc(|x| / sqrt 2) / 2 into ``tail``."""
    z, t = scratch
    numpy.abs(x, out=magnitude)
    numpy.multiply(magnitude, _HALF_SQRT2, out=z)             # z = |x| / sqrt 2
    numpy.multiply(z, _F(0.5), out=t)
    t += _F(1)
    numpy.divide(_F(1), t, out=t)                             # t = 1 / (1 + z / 2)
    numpy.multiply(t, _COEFFICIENTS[-1], out=tail)
    for c in _COEFFICIENTS[-2:0:-1]:
        tail += c
        tail *= t
    tail += _COEFFICIENTS[0]
    z *= z
    tail -= z
    numpy.exp(tail, out=tail)
    tail *= t
    tail *= _F(0.5)


def _in_blocks(kernel, x, out):
    """Runs ``kernel(x_block, out_block, scratch)`` over cache-sized blocks of flat ``x``, the blocks spread over the
    intra-op threads; ``scratch`` holds four float32 arrays of a block's length."""
    flat_x, flat_out = x.reshape(-1), out.reshape(-1)

    def run(start, stop):
        scratch = [numpy.empty(min(BLOCK, stop - start), _F) for _ in range(4)]
        for first in range(start, stop, BLOCK):
            last = min(stop, first + BLOCK)
            kernel(flat_x[first:last], flat_out[first:last], [s[:last - first] for s in scratch])
    _parallel.parts(flat_x.size, flat_x.size, run)
    return out


def _gelu_block(x, out, scratch):
    magnitude, tail, z, t = scratch
    _tail(x, magnitude, tail, (z, t))
    tail *= magnitude                                         # |x| Q(|x|)
    numpy.greater(x, _F(0), out=z)                            # relu as x * (x > 0): -0.0 below zero, as PyTorch's
    numpy.multiply(x, z, out=out)
    out -= tail


def _gelu_tanh_block(x, out, scratch):
    inner = scratch[0]                                        # the ops and their order of the whole-array formula
    numpy.multiply(x, x, out=inner)                           # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))):
    inner *= x                                                # the same bits
    inner *= _KAPPA
    numpy.add(x, inner, out=inner)
    inner *= _SQRT_2_OVER_PI
    numpy.tanh(inner, out=inner)
    inner += _F(1)
    numpy.multiply(x, _F(0.5), out=out)
    out *= inner


def _derivative_block(x, out, scratch):
    magnitude, tail, z, t = scratch
    _tail(x, magnitude, tail, (z, t))
    numpy.subtract(_F(0.5), tail, out=tail)                   # Phi(x) = 1/2 + sign(x) (1/2 - Q(|x|)), 1/2 at +-0
    numpy.sign(x, out=t)
    tail *= t
    numpy.add(tail, _F(0.5), out=out)
    numpy.multiply(x, x, out=t)                               # + x phi(x)
    t *= _F(-0.5)
    numpy.exp(t, out=t)
    t *= _INV_SQRT2PI
    t *= x
    out += t


_POLYNOMIAL_ERF = tuple(_F(c) for c in (0.3275911, 0.254829592, -0.284496736, 1.421413741, -1.453152027, 1.061405429))
"""Abramowitz and Stegun's 7.1.26: erf(z) = 1 - t P(t) exp(-z^2), t = 1 / (1 + p z), z >= 0 (p, then P's
coefficients from t's first power up; |error| <= 1.5e-7)."""


def _polynomial_erf(z):
    """erf of a float32 array by 7.1.26, in the order of PyTorch's vectorised float erf."""
    p, *coefficients = _POLYNOMIAL_ERF
    t = _F(1) / (p * numpy.abs(z) + _F(1))
    r = coefficients[-1] * t
    for c in coefficients[-2:0:-1]:
        r += c
        r *= t
    r += coefficients[0]
    r *= -numpy.exp(-(z * z)) * t
    r += _F(1)
    return numpy.copysign(r, z)


def gelu_reduced(x):
    """GELU of float32 values widened from float16 or bfloat16, as PyTorch's 16-bit kernel computes it: with its
    polynomial erf, whose error (~1e-7) the cancellation in 1 + erf(x / sqrt 2) makes visible below x ~ -3, so a
    more accurate erf rounds to other 16-bit values there."""
    with numpy.errstate(all="ignore"):   # -inf * 0 is NaN, as PyTorch's
        return x * _F(0.5) * (_F(1) + _polynomial_erf(x * _HALF_SQRT2))


def gelu_derivative_reduced(x):
    """d GELU / dx of float32 values widened from 16 bits, as PyTorch's 16-bit kernel: Phi(x) + x phi(x), Phi by
    the polynomial erf."""
    with numpy.errstate(all="ignore"):   # inf * 0 at infinite x is NaN, as PyTorch's
        cdf = _F(0.5) * (_F(1) + _polynomial_erf(x * _HALF_SQRT2))
        return cdf + x * (_INV_SQRT2PI * numpy.exp(x * x * _F(-0.5)))


def applies(x):
    """Whether ``x`` takes these kernels: a C-contiguous float32 NumPy array of ``MIN_ELEMENTS`` or more."""
    return type(x) is numpy.ndarray and x.dtype == _F and x.size >= MIN_ELEMENTS and x.flags.c_contiguous


def gelu(x):
    """GELU of a C-contiguous float32 array (a new pooled array)."""
    return _in_blocks(_gelu_block, x, _buffers.empty(numpy, x.shape, _F))


def gelu_tanh(x):
    """GELU's tanh approximation of a C-contiguous float32 array (a new pooled array), bit-equal to the formula on
    whole arrays, whose four array-sized temporaries cost ~6x the blocks' time ((32, 64, 512): 6.0 -> 1.1 ms)."""
    return _in_blocks(_gelu_tanh_block, x, _buffers.empty(numpy, x.shape, _F))


def gelu_derivative(x):
    """d GELU / dx of a C-contiguous float32 array (a new pooled array)."""
    with numpy.errstate(all="ignore"):   # x * x overflows to inf beyond 1.8e19: phi is then 0, as it should be
        return _in_blocks(_derivative_block, x, _buffers.empty(numpy, x.shape, _F))
