"""Float32 logarithm, sine and cosine exactly as PyTorch's AVX2 normal sampler computes them.

PyTorch's ``randn`` for float32 tensors of 16 or more elements runs Box-Muller through the Cephes-derived
``log256_ps``/``sincos256_ps`` of ``avx_mathfun.h``. Reproducing its bits needs the same polynomials evaluated
in the same order with the same roundings, including the multiply-adds its compiler fuses into single-rounding
FMA instructions; ``fma`` below gives NumPy that single rounding.
"""
import numpy

f32 = numpy.float32
_MID = numpy.uint64(0x10000000)      # a float64 whose 29 low mantissa bits read 1000...0 is a float32 midpoint
_LOW = numpy.uint64(0x1FFFFFFF)


def fma(a, b, c):
    """``a * b + c`` for float32 arrays with one rounding, as the FMA instruction computes it."""
    total = numpy.multiply(a, b, dtype=numpy.float64)   # exact: two 24-bit significands fit in 53 bits
    numpy.add(total, c, out=total)
    # Rounding the float64 sum to float32 is exact rounding unless the sum landed on a float32 midpoint;
    # there, the sum's own rounding error decides the direction (Boldo and Melquiond's round-to-odd).
    tie = numpy.bitwise_and(total.view(numpy.uint64), _LOW) == _MID
    if tie.any():
        p = numpy.multiply(a, b, dtype=numpy.float64)
        p, s = numpy.broadcast_to(p, total.shape)[tie], total[tie]
        cc = numpy.broadcast_to(c, total.shape)[tie].astype(numpy.float64)
        back = s - p
        err = (p - (s - back)) + (cc - back)
        total[tie] = numpy.where(err == 0, s, numpy.nextafter(s, numpy.where(err > 0, numpy.inf, -numpy.inf)))
    return total.astype(numpy.float32)


_SQRTHF = f32(0.707106781186547524)
_LOG_P = [f32(v) for v in (7.0376836292E-2, -1.1514610310E-1, 1.1676998740E-1, -1.2420140846E-1,
                           1.4249322787E-1, -1.6668057665E-1, 2.0000714765E-1, -2.4999993993E-1,
                           3.3333331174E-1)]
_LOG_Q1, _LOG_Q2 = f32(-2.12194440e-4), f32(0.693359375)


def log(x):
    """Natural logarithm of positive float32 ``x`` (Cephes ``logf``: exponent split, degree-9 polynomial)."""
    bits = numpy.maximum(x, f32(1.17549435e-38)).view(numpy.int32)
    e = ((bits >> 23) - 127).astype(numpy.float32) + f32(1)
    x = ((bits & ~0x7F800000) | 0x3F000000).view(numpy.float32)
    small = x < _SQRTHF
    x = (x - f32(1)) + numpy.where(small, x, f32(0))
    e = e - small.astype(numpy.float32)
    z = x * x
    y = numpy.full_like(x, _LOG_P[0])
    for p in _LOG_P[1:]:
        y = fma(y, x, p)
    y = fma(y * x, z, e * _LOG_Q1)
    y = y - z * f32(0.5)
    return (x + y) + e * _LOG_Q2   # e * q2 is exact (8 and 9 significant bits): fused or not, one rounding


_FOPI = f32(1.27323954473516)
_DP = [f32(v) for v in (-0.78515625, -2.4187564849853515625e-4, -3.77489497744594108e-8)]
_COS_P = [f32(v) for v in (2.443315711809948E-005, -1.388731625493765E-003, 4.166664568298827E-002)]
_SIN_P = [f32(v) for v in (-1.9515295891E-4, 8.3321608736E-3, -1.6666654611E-1)]


def sincos(x):
    """(sin x, cos x) of non-negative float32 ``x`` (Cephes ``sinf``/``cosf``: octant reduction, two polynomials)."""
    j = (x * _FOPI).astype(numpy.int32)
    j = (j + 1) & ~1
    y = j.astype(numpy.float32)
    x = (x + y * _DP[0]) + y * _DP[1]   # j < 2**8 and these two have 8 and 12 significant bits: exact products
    x = fma(y, _DP[2], x)
    z = x * x
    c = fma(numpy.full_like(z, _COS_P[0]), z, _COS_P[1])
    c = fma(c, z, _COS_P[2])
    c = fma(c * z, z, -(z * f32(0.5))) + f32(1)
    s = fma(numpy.full_like(z, _SIN_P[0]), z, _SIN_P[1])
    s = fma(s, z, _SIN_P[2])
    s = fma(s * z, x, x)
    first = (j & 2) == 0
    sin = numpy.where(first, s, c).view(numpy.int32) ^ ((j & 4) << 29)
    cos = numpy.where(first, c, s).view(numpy.int32) ^ ((~(j - 2) & 4) << 29)
    return sin.view(numpy.float32), cos.view(numpy.float32)
