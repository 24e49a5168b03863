"""Float64 building blocks of the gamma-function family, shared by the special functions (``special``) and the
incomplete gamma functions (``_incomplete_gamma``): Lanczos' log-gamma and the Bernoulli numbers."""
import math

from .._backend import xp_of

LANCZOS = (0.99999999999980993, 676.5203681218851, -1259.1392167224028, 771.32342877765313,
           -176.61502916214059, 12.507343278686905, -0.13857109526572012, 9.9843695780195716e-6,
           1.5056327351493116e-7)   # g = 7, n = 9
BERNOULLI = ((1, 6), (-1, 30), (1, 42), (-1, 30), (5, 66), (-691, 2730), (7, 6), (-3617, 510), (43867, 798),
             (-174611, 330), (854513, 138), (-236364091, 2730))   # B2, B4, ..., B24 as (numerator, denominator)


def abs_sinpi(xp, x):
    """|sin(pi * x)| with the argument reduced first, so integers give exactly 0."""
    return xp.abs(xp.sin(math.pi * (x - xp.round(x))))


def lgamma64(x):
    """log |Gamma(x)| of a float64 array by Lanczos' approximation (reflected below 1/2)."""
    xp = xp_of(x)
    z = xp.where(x < 0.5, 1.0 - x, x) - 1.0
    series = LANCZOS[0] + sum(c / (z + i) for i, c in enumerate(LANCZOS[1:], 1))
    t = z + 7.5
    positive = 0.5 * math.log(2 * math.pi) + (z + 0.5) * xp.log(t) - t + xp.log(series)
    reflected = math.log(math.pi) - xp.log(abs_sinpi(xp, x)) - positive
    result = xp.where(x < 0.5, reflected, positive)
    return xp.where(xp.isinf(x), math.inf, result)
