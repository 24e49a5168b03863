"""Float32 Box-Muller exactly as PyTorch's AVX2 normal sampler computes it, at NumPy speed.

PyTorch's ``randn`` for float32 tensors of 16 or more elements runs Box-Muller through the Cephes-derived
``log256_ps``/``sincos256_ps`` of ``avx_mathfun.h``, with the multiply-adds its compiler fuses into
single-rounding FMA instructions. ``Kernel`` reproduces every rounding in whole-array passes over cache-sized
chunks: a fused ``a * b + c`` of float32 values is the float64 product (exact: two 24-bit significands fit in
53 bits) plus ``c``, rounded to float32, either by a float32 cast or, where every result lies in one binade,
by adding and subtracting ``1.5 * 2**(E + 29)`` so that float64 rounds on the float32 grid (ties to even) and
no second rounding happens. The inputs are 24-bit uniforms, so each function has 2**24 arguments: all of
them were checked against PyTorch 2.13 (``bench/check_randn_exhaustive.py``); tests sample them.
"""
import math

import numpy

f32, f64, i32 = numpy.float32, numpy.float64, numpy.int32
_MID = numpy.int64(0x10000000)      # a float64 whose 29 low mantissa bits read 1000...0 is a float32 midpoint
_LOW = numpy.int64(0x1FFFFFFF)


def fma(a, b, c):
    """``a * b + c`` for float32 arrays with one rounding, as the FMA instruction computes it."""
    product = numpy.multiply(a, b, dtype=numpy.float64)   # exact: two 24-bit significands fit in 53 bits
    total = numpy.add(product, c)
    # Rounding the float64 sum to float32 is exact rounding unless the sum landed on a float32 midpoint; there the
    # sum's own rounding error (Knuth's two-sum) decides: one float64 step towards the exact sum rounds it right.
    bits = total.view(numpy.int64)
    tie = numpy.bitwise_and(bits, _LOW) == _MID
    if tie.any():
        back = total - product
        error = numpy.subtract(c, back, out=back)
        error += product - (total - (total - product))
        error *= total   # positive where the exact sum lies further from zero
        bits += tie & (error > 0)   # as operators, not ufunc where=: the polynomials pass CuPy arrays too
        bits -= tie & (error < 0)
    return total.astype(numpy.float32)


# Cephes logf, sinf and cosf constants, as avx_mathfun.h spells them
_LOG_P = [float(f32(v)) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
                                  1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
                                  3.3333331174E-1)]
_LOG_Q1, _LOG_Q2 = f32(-2.12194440e-4), f32(0.693359375)
_FOPI = f32(1.27323954473516)
_DP = [f32(v) for v in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)]
_COS_P = [float(f32(v)) for v in (2.443315711809948E-005, -1.388731625493765E-003, 4.166664568298827E-002)]
_SIN_P = [float(f32(v)) for v in (-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1)]

_SIGN = i32(-2 ** 31)
_HIGH_BYTE = i32(-2 ** 24)                  # 0xFF000000
_SQRTHF_BITS = 0x3F3504F3                   # float32 sqrt(0.5)
# Subtracting float32(-k) from this constant (mod 2**32) gives -e in its high bits and the complement of
# the mantissa relative to sqrt(0.5) in its low 23 bits (Cephes' exponent split with 2**-24 folded in).
_SPLIT = i32((((150 << 23 | 0x3504F3) + 0x7FFFFF + 2 ** 31) & 0xFFFFFFFF) - 2 ** 32)
_MANTISSA = i32(_SQRTHF_BITS + 0x7FFFFF)
_TWO_PI_ULP = f32(2 * math.pi) * f32(2.0 ** -24)   # 2 pi u = (2 pi 2**-24) k exactly, as 2**-24 scales exactly


def _binade_rounder(value):
    """1.5 * 2**(E + 29) for ``value``'s binade [2**E, 2**(E+1)): float64 sums with it round on the float32 grid."""
    return 1.5 * 2.0 ** (math.frexp(value)[1] + 28)


# The cosine's and sine's first two Horner steps stay within one binade over all 2**24 arguments.
_ROUND_C1, _ROUND_C2, _ROUND_S1, _ROUND_S2 = map(_binade_rounder, (_COS_P[1], _COS_P[2], _SIN_P[1], _SIN_P[2]))


class Kernel:
    """Scratch arrays for chunks of up to ``size`` Box-Muller pairs, and the float32 kernels that use them."""

    def __init__(self, size):
        self.f = [numpy.empty(size, f32) for _ in range(6)]
        self.i = [numpy.empty(size, i32) for _ in range(4)]
        self.d = [numpy.empty(size, f64) for _ in range(4)]

    def _scratch(self, n):
        return [a[:n] for a in self.f], [a[:n] for a in self.i], [a[:n] for a in self.d]

    def radius(self, words, out):
        """``sqrt(-2 log(1 - u))`` for ``u = (words & 0xFFFFFF) * 2**-24`` (int32 words) into float32 ``out``."""
        (x, z, e, y, t, _), (bits, ix, _, _), (x64, y64, t64, z64) = self._scratch(len(words))
        numpy.bitwise_or(words, _HIGH_BYTE, out=bits)          # -k for 1 - u = k * 2**-24
        numpy.copyto(t, bits, casting="unsafe")               # float32(-k), exact
        numpy.subtract(_SPLIT, t.view(i32), out=bits)
        numpy.right_shift(bits, 23, out=ix)
        numpy.copyto(e, ix, casting="unsafe")                 # -e, Cephes' exponent negated
        numpy.bitwise_and(bits, 0x7FFFFF, out=bits)
        numpy.subtract(_MANTISSA, bits, out=bits)             # the mantissa in [sqrt(0.5), sqrt(2))
        numpy.subtract(bits.view(f32), f32(1), out=x)
        numpy.multiply(x, x, out=z)
        numpy.copyto(x64, x)
        numpy.multiply(x64, _LOG_P[0], out=t64)
        numpy.add(t64, _LOG_P[1], out=t64)
        for p in _LOG_P[2:]:                                  # y = fma(y, x, p): results span two binades
            numpy.copyto(y, t64, casting="unsafe")
            numpy.copyto(y64, y)
            numpy.multiply(y64, x64, out=t64)
            numpy.add(t64, p, out=t64)
        numpy.copyto(y, t64, casting="unsafe")
        numpy.multiply(y, x, out=y)
        numpy.multiply(e, -_LOG_Q1, out=t)                    # e * q1
        numpy.copyto(y64, y)
        numpy.copyto(z64, z)
        numpy.multiply(y64, z64, out=t64)
        numpy.copyto(y64, t)
        numpy.add(t64, y64, out=t64)
        numpy.copyto(y, t64, casting="unsafe")                # fma(y * x, z, e * q1)
        numpy.multiply(z, f32(0.5), out=t)
        numpy.subtract(y, t, out=y)
        numpy.add(x, y, out=y)
        # -2 log = -2 (x + y) - 2 e q2 (exact scalings), formed so that log(1) = 0 gives a radius of +0
        numpy.multiply(y, f32(-2), out=y)
        numpy.multiply(e, 2 * _LOG_Q2, out=t)
        numpy.add(t, y, out=y)
        numpy.sqrt(y, out=out)

    def sincos(self, words, sin, cos):
        """``sin`` and ``cos`` of ``2 pi u`` for ``u = (words & 0xFFFFFF) * 2**-24``, into float32 arrays."""
        (x, z, t, c, s, _), (q, _, d, m), (x64, y64, t64, z64) = self._scratch(len(words))
        numpy.bitwise_and(words, 0xFFFFFF, out=q)
        numpy.copyto(x, q, casting="unsafe")
        numpy.multiply(x, _TWO_PI_ULP, out=x)
        numpy.multiply(x, _FOPI, out=t)
        numpy.copyto(q, t, casting="unsafe")
        numpy.add(q, 1, out=q)
        numpy.right_shift(q, 1, out=q)                        # the octant j = 2q
        numpy.copyto(t, q, casting="unsafe")
        numpy.multiply(t, 2 * _DP[0], out=z)                  # j * dp0 and j * dp1 are exact
        numpy.add(x, z, out=x)
        numpy.multiply(t, 2 * _DP[1], out=z)
        numpy.add(x, z, out=x)
        numpy.copyto(t64, t)
        numpy.multiply(t64, 2 * float(_DP[2]), out=t64)
        numpy.copyto(x64, x)
        numpy.add(t64, x64, out=t64)
        numpy.copyto(x, t64, casting="unsafe")                # fma(j, dp2, x)
        numpy.copyto(x64, x)
        numpy.multiply(x, x, out=z)
        numpy.copyto(z64, z)
        numpy.multiply(z64, _COS_P[0], out=t64)
        numpy.add(t64, _COS_P[1] + _ROUND_C1, out=t64)
        numpy.subtract(t64, _ROUND_C1, out=y64)
        numpy.multiply(y64, z64, out=t64)
        numpy.add(t64, _COS_P[2] + _ROUND_C2, out=t64)
        numpy.subtract(t64, _ROUND_C2, out=t64)
        numpy.copyto(c, t64, casting="unsafe")
        numpy.multiply(c, z, out=c)
        numpy.copyto(t64, c)
        numpy.subtract(t64, 0.5, out=t64)                     # c * z * z - z / 2 rounded once in float64
        numpy.multiply(t64, z64, out=t64)
        numpy.copyto(c, t64, casting="unsafe")
        numpy.add(c, f32(1), out=c)
        numpy.multiply(z64, _SIN_P[0], out=t64)
        numpy.add(t64, _SIN_P[1] + _ROUND_S1, out=t64)
        numpy.subtract(t64, _ROUND_S1, out=y64)
        numpy.multiply(y64, z64, out=t64)
        numpy.add(t64, _SIN_P[2] + _ROUND_S2, out=t64)
        numpy.subtract(t64, _ROUND_S2, out=t64)
        numpy.copyto(s, t64, casting="unsafe")
        numpy.multiply(s, z, out=s)
        numpy.copyto(t64, s)
        numpy.multiply(t64, x64, out=t64)
        numpy.add(t64, x64, out=t64)
        numpy.copyto(s, t64, casting="unsafe")                # fma(s * z, x, x)
        # octants 2 and 6 swap the polynomials; 4 and 6 negate the sine, 2 and 4 the cosine
        sv, cv = s.view(i32), c.view(i32)
        numpy.left_shift(q, 31, out=m)
        numpy.right_shift(m, 31, out=m)
        numpy.bitwise_xor(sv, cv, out=d)
        numpy.bitwise_and(d, m, out=d)
        numpy.bitwise_xor(sv, d, out=sv)
        numpy.bitwise_xor(cv, d, out=cv)
        numpy.left_shift(q, 30, out=q)
        numpy.bitwise_and(q, _SIGN, out=q)
        numpy.bitwise_xor(sv, q, out=sin.view(i32))
        numpy.bitwise_and(m, _SIGN, out=m)
        numpy.bitwise_xor(q, m, out=q)
        numpy.bitwise_xor(cv, q, out=cos.view(i32))
