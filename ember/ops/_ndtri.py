"""The standard normal quantile as PyTorch's CPU kernel computes it (``calc_ndtri``, Cephes' ndtri): a rational
function of p - 1/2 in the middle, of 1 / sqrt(-2 log p) in the tails, each range gathered once and evaluated whole.

The kernel's roundings are kept, so the values are PyTorch's bits (a rare last-bit difference aside): its Horner steps
and the middle range's ``y + y * r`` are fused multiply-adds (the compiler contracts them), emulated in float32 by one
float64 step and in float64 by Dekker's exact product; in float32 the tails' logarithms and square root are double
precision (the kernel calls C's ``log`` and ``sqrt``, which take doubles)."""
import numpy

from .._backend import xp_of
from . import _parallel

__all__ = []

P0 = (-5.99633501014107895267E1, 9.80010754185999661536E1, -5.66762857469070293439E1, 1.39312609387279679503E1,
      -1.23916583867381258016E0)
Q0 = (1.0, 1.95448858338141759834E0, 4.67627912898881538453E0, 8.63602421390890590575E1, -2.25462687854119370527E2,
      2.00260212380060660359E2, -8.20372256168333339912E1, 1.59056225126211695515E1, -1.18331621121330003142E0)
P1 = (4.05544892305962419923E0, 3.15251094599893866154E1, 5.71628192246421288162E1, 4.40805073893200834700E1,
      1.46849561928858024014E1, 2.18663306850790267539E0, -1.40256079171354495875E-1, -3.50424626827848203418E-2,
      -8.57456785154685413611E-4)
Q1 = (1.0, 1.57799883256466749731E1, 4.53907635128879210584E1, 4.13172038254672030440E1, 1.50425385692907503408E1,
      2.50464946208309415979E0, -1.42182922854787788574E-1, -3.80806407691578277194E-2, -9.33259480895457427372E-4)
P2 = (3.23774891776946035970E0, 6.91522889068984211695E0, 3.93881025292474443415E0, 1.33303460815807542389E0,
      2.01485389549179081538E-1, 1.23716634817820021358E-2, 3.01581553508235416007E-4, 2.65806974686737550832E-6,
      6.23974539184983293730E-9)
Q2 = (1.0, 6.02427039364742014255E0, 3.67983563856160859403E0, 1.37702099489081330271E0, 2.16236993594496635890E-1,
      1.34204006088543189037E-2, 3.28014464682127739104E-4, 2.89247864745380683936E-6, 6.79019408009981274425E-9)
"""Cephes' coefficients, highest power first: P0 / Q0 for |p - 1/2| <= 1/2 - exp(-2), P1 / Q1 for
z = sqrt(-2 log p) below 8 (p > exp(-32)), P2 / Q2 beyond."""
EXP_MINUS_2 = 0.13533528323661269189
SQRT_2PI = 2.50662827463100050242
SPLIT = 134217729.0   # 2 ** 27 + 1: Veltkamp's split of a double into two halves whose products are exact
BLOCK = 1 << 16
"""Elements per block (measured: blocks of 16 Ki elements 10-25 % slower, from NumPy's cost per call)."""


def ndtri(p):
    """ndtri of a float32 or float64 array, in its dtype (large NumPy arrays a block at a time on the intra-op
    threads)."""
    xp = xp_of(p)
    flat = xp.ascontiguousarray(p).reshape(-1)
    out = xp.empty_like(flat)
    if xp is not numpy:
        _ndtri_into(xp, flat, out)
        return out.reshape(p.shape)

    def run(start, stop):
        for low in range(start, stop, BLOCK):
            high = min(stop, low + BLOCK)
            _ndtri_into(xp, flat[low:high], out[low:high])
    _parallel.parts(out.size, out.size, run)
    return out.reshape(p.shape)


def _ndtri_into(xp, p, out):
    """Writes ndtri of the 1-d ``p`` into ``out``: the middle range, then the tails (NaN, 0, 1 and the points outside
    [0, 1] among them)."""
    kind = p.dtype.type
    low, high = kind(EXP_MINUS_2), kind(1) - kind(EXP_MINUS_2)
    middle = (p > low) & (p <= high)
    inner, outer = xp.flatnonzero(middle), xp.flatnonzero(~middle)   # boolean indexing: 3x slower on mixed ranges
    if inner.size:
        out[inner] = _middle(xp, p.take(inner))
    if outer.size:
        out[outer] = _tails(xp, p.take(outer), high)


def _middle(xp, p):
    """Cephes' middle range: y + y * y^2 P0(y^2) / Q0(y^2) with y = p - 1/2, times sqrt(2 pi)."""
    kind = p.dtype.type
    y = p - kind(0.5)
    y2 = y * y
    fma = _fma_float32 if kind is numpy.float32 else _fma_float64
    ratio = y2 * _polevl(xp, y2, P0, fma) / _polevl(xp, y2, Q0, fma)
    return fma(xp, y, _operand(xp, ratio), y) * kind(SQRT_2PI)


def _tails(xp, p, high):
    """Cephes' tails: with y the smaller of p and 1 - p and x = sqrt(-2 log y), x - log(x) / x - z P(z) / Q(z) for
    z = 1 / x, negative below 1/2; +-inf at 0 and 1, NaN outside [0, 1] and at NaN."""
    kind = p.dtype.type
    upper = p > high
    y = xp.where(upper, kind(1) - p, p)
    if kind is numpy.float32:   # x and x0 in double precision, each rounded to float (as the kernel assigns them)
        wide = xp.sqrt(-2.0 * xp.log(y.astype(numpy.float64)))
        x = wide.astype(numpy.float32)
        wide = x.astype(numpy.float64)
        x0 = (wide - xp.log(wide) / wide).astype(numpy.float32)
        fma = _fma_float32
    else:
        x = xp.sqrt(-2.0 * xp.log(y))
        x0 = x - xp.log(x) / x
        fma = _fma_float64
    z = kind(1) / x
    far = x >= 8.0   # p below exp(-32): Cephes' second tail fit
    x1 = _tail_fit(xp, z, P1, Q1, fma)
    if far.any():
        x1[far] = _tail_fit(xp, z[far], P2, Q2, fma)
    result = x0 - x1
    ends = y == 0
    if ends.any():
        result[ends] = kind(numpy.inf)
    return xp.where(upper, result, -result)


def _tail_fit(xp, z, numerator, denominator, fma):
    return z * _polevl(xp, z, numerator, fma) / _polevl(xp, z, denominator, fma)


def _polevl(xp, x, coefficients, fma):
    """Horner's scheme, highest power first, each step one fused multiply-add (as the kernel's ``polevl``)."""
    kind = x.dtype.type
    operand = _operand(xp, x)
    result = xp.full_like(x, kind(coefficients[0]))
    for coefficient in coefficients[1:]:
        result = fma(xp, result, operand, kind(coefficient))
    return result


def _operand(xp, b):
    """``b`` prepared as the multiplier of ``_fma_*``: widened to float64 (float32), or Veltkamp's halves (float64)."""
    if b.dtype == numpy.float32:
        return b.astype(numpy.float64)
    scaled = b * SPLIT
    head = scaled - (scaled - b)
    return b, head, b - head


def _fma_float32(xp, a, b, c):
    """a * b + c rounded once to float32: the float64 product of two floats is exact, so one float64 step rounds only
    once before the final rounding (a double rounding differs from the fused result almost never)."""
    wide = a * b
    wide += c
    return wide.astype(numpy.float32)


def _fma_float64(xp, a, b, c):
    """a * b + c rounded once, in float64: Dekker's exact product (a * b = p + e) and Knuth's exact sum
    (p + c = s + t), then s + (e + t); in place where it can be (fresh temporaries cost three times the
    arithmetic)."""
    b, b_head, b_tail = b
    p = a * b
    head = a * SPLIT
    scratch = head - a
    head -= scratch   # Veltkamp's split of a: head + tail == a, each of 26 bits
    tail = a - head
    e = head * b_head
    e -= p
    xp.multiply(head, b_tail, out=scratch)
    e += scratch
    xp.multiply(tail, b_head, out=scratch)
    e += scratch
    tail *= b_tail
    e += tail   # the product's rounding error, exactly
    s = p + c
    back = s - p
    xp.subtract(s, back, out=scratch)
    p -= scratch
    back -= c
    p -= back   # the sum's rounding error, exactly
    e += p
    s += e
    return s
