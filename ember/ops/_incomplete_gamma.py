"""The regularised incomplete gamma functions P(a, x) and Q(a, x) = 1 - P(a, x) in float64, each accurate to a few
ulps in its own tail: P's power series below x = a + 1, Legendre's continued fraction for Q above it, a series for
Q itself where a is small and P is close to 1, and Temme's uniform expansion where a is huge (DLMF 8.7, 8.9, 8.12).
The factor x^a e^-x / Gamma(a) that they share is formed from log1p(u) - u for large a, so it keeps its digits
where x is close to a. Only for a > 0 and finite x > 0: the caller settles the other cases."""
import math

import numpy

from ._gamma64 import BERNOULLI, lgamma64

_EPSILON = 2.0 ** -53
_TINY = 1e-300             # the modified Lentz method's stand-in for zero
_EULER_GAMMA = 0.5772156649015329
_STIRLING_FROM = 10.0      # log Gamma(a) by Stirling's series from here on
_TEMME_FROM = 1e6          # Temme's expansion from here on (two terms are exact to rounding there)
_SMALL_A = 0.5             # below this, Q's own series where x is small


def _zeta(k):
    """Riemann's zeta(k) for an integer k >= 2 by Euler-Maclaurin summation from n = 10."""
    n = 10
    terms = [m ** -float(k) for m in range(1, n)]
    terms += [n ** (1.0 - k) / (k - 1), 0.5 * n ** -float(k)]
    rising = float(k)
    for j, (num, den) in enumerate(BERNOULLI[:6], 1):
        terms.append(num / den / math.factorial(2 * j) * rising * n ** (-k - 2.0 * j + 1))
        rising *= (k + 2 * j - 1) * (k + 2 * j)
    return math.fsum(terms)


_LGAMMA1P = None


def _lgamma1p_coefficients():
    """Taylor coefficients of log Gamma(1 + a) about 0: -gamma, then (-1)^k zeta(k) / k (DLMF 5.7.3)."""
    global _LGAMMA1P
    if _LGAMMA1P is None:
        _LGAMMA1P = (-_EULER_GAMMA,) + tuple((-1) ** k * _zeta(k) / k for k in range(2, 60))
    return _LGAMMA1P


def _lgamma1p(a):
    """log Gamma(1 + a) for |a| < 0.5, to full relative accuracy however small a is."""
    total = numpy.zeros_like(a)
    for c in reversed(_lgamma1p_coefficients()):
        total = (total + c) * a
    return total


def _log_ratio_excess(x, a):
    """log(x / a) - (x - a) / a, that is log(1 + u) - u for u = (x - a) / a, without the cancellation near x = a (by
    the series of atanh where |u| < 0.5) nor the one in 1 + u where x << a."""
    u = (x - a) / a
    near = numpy.abs(u) < 0.5
    with numpy.errstate(all="ignore"):
        result = numpy.log(x / a) - u
    if near.any():
        v = u[near]
        s = v / (2.0 + v)          # log(1 + v) = 2 atanh(s), and 2 s - v = -v s
        s2 = s * s
        odd = numpy.zeros_like(s)
        for k in range(25, 0, -1):  # s^2 / 3 + s^4 / 5 + ...
            odd = (odd + 1.0 / (2 * k + 1)) * s2
        result[near] = 2.0 * s * odd - v * s
    return result


def _stirling_correction(a):
    """log Gamma(a) - ((a - 1/2) log a - a + log(2 pi) / 2) for a >= 10, by Stirling's series."""
    w = 1.0 / (a * a)
    return (1 / 12 - w * (1 / 360 - w * (1 / 1260 - w * (1 / 1680 - w * (1 / 1188 - w * (691 / 360360
            - w / 156)))))) / a


def _log_prefactor(a, x):
    """log(x^a e^-x / Gamma(a))."""
    large = a >= _STIRLING_FROM
    with numpy.errstate(all="ignore"):
        plain = a * numpy.log(x) - x - lgamma64(a)
    if large.any():
        al, xl = a[large], x[large]
        plain[large] = (al * _log_ratio_excess(xl, al) + 0.5 * numpy.log(al / (2 * math.pi))
                        - _stirling_correction(al))
    return plain


def _lower_series(a, x):
    """sum over n >= 0 of x^n / (a (a + 1) ... (a + n)); P(a, x) is the prefactor times this."""
    term = 1.0 / a
    return _until_finished([term, term.copy(), a.copy(), x], _iteration_cap(a), _series_step)


def _series_step(state):
    term, total, denominator, x = state
    denominator += 1.0
    term *= x / denominator
    total += term
    return state, ~(numpy.abs(term) > numpy.abs(total) * _EPSILON), total


def _upper_fraction(a, x):
    """Legendre's continued fraction for Q (modified Lentz); Q(a, x) is the prefactor times this."""
    b = x + 1.0 - a
    c = numpy.full_like(b, 1.0 / _TINY)
    d = 1.0 / numpy.where(b == 0, _TINY, b)
    state = [b, c, d, d.copy(), numpy.zeros_like(b), a]
    return _until_finished(state, _iteration_cap(a), _fraction_step)


def _fraction_step(state):
    b, c, d, h, count, a = state
    count += 1.0
    an = -count * (count - a)
    b += 2.0
    d = an * d + b
    d[numpy.abs(d) < _TINY] = _TINY
    c = b + an / c
    c[numpy.abs(c) < _TINY] = _TINY
    d = 1.0 / d
    delta = d * c
    h *= delta
    return [b, c, d, h, count, a], numpy.abs(delta - 1.0) <= _EPSILON, h


def _until_finished(state, cap, step):
    """Runs ``step(state) -> (state, finished, value)`` at most ``cap`` times over per-element arrays, taking each
    element's value once it is finished and dropping it from the later steps."""
    result = numpy.empty_like(state[0])
    index = numpy.arange(result.size)
    for _ in range(cap):
        state, finished, value = step(state)
        if finished.any():
            result[index[finished]] = value[finished]
            keep = ~finished
            index, value = index[keep], value[keep]
            state = [v[keep] for v in state]
            if not index.size:
                break
    if index.size:
        result[index] = value
    return result


def _iteration_cap(a):
    """Enough terms for every element: the series and the fraction need about 9 sqrt(a) near x = a."""
    return int(200 + 12 * math.sqrt(float(a.max()))) if a.size else 0


def _upper_small_a(a, x):
    """Q(a, x) for small a and x, from 1 - x^a / Gamma(a + 1) and the rest of P's alternating series (DLMF 8.7.1),
    so Q keeps its digits where it is much less than P."""
    log_power = a * numpy.log(x) - _lgamma1p(a)   # log(x^a / Gamma(a + 1))
    head = -numpy.expm1(log_power)
    total = numpy.zeros_like(x)
    factor = numpy.ones_like(x)
    for n in range(1, 60):   # x < 1.5 here: x^n / n! is below an ulp of the head by n = 40
        factor = factor * (-x / n)
        total += factor / (a + n)
    with numpy.errstate(all="ignore"):
        rest = numpy.exp(log_power) * a * total   # x^a / Gamma(a) = a x^a / Gamma(a + 1)
    return head - rest


def _temme(a, x):
    """(P, Q) by Temme's uniform expansion with its first two terms (DLMF 8.12.3-8.12.8), for huge a."""
    u = (x - a) / a
    eta = numpy.sign(u) * numpy.sqrt(-2.0 * _log_ratio_excess(x, a))
    root = numpy.sqrt(a / 2.0)
    with numpy.errstate(all="ignore"):
        c0 = 1.0 / u - 1.0 / eta
        c1 = 1.0 / eta ** 3 - 1.0 / u ** 3 - 1.0 / u ** 2 - 1.0 / (12.0 * u)
    near = numpy.abs(u) < 1e-3
    c0 = numpy.where(near, -1 / 3 + eta / 12 - 2 * eta ** 2 / 135 + eta ** 3 / 864, c0)
    c1 = numpy.where(near, -1 / 540 - eta / 288, c1)
    rest = numpy.exp(-0.5 * a * eta * eta) / numpy.sqrt(2 * math.pi * a) * (c0 + c1 / a)
    return 0.5 * _erfc(-eta * root) - rest, 0.5 * _erfc(eta * root) + rest


def _erfc(x):
    """erfc of a float64 array, by the tensor op's kernel."""
    from .._tensor import _make
    from .pointwise import erfc
    return erfc(_make(x))._data


def regularized_gammas(a, x):
    """(P(a, x), Q(a, x)) for float64 arrays of one shape with a > 0 and 0 < x < inf."""
    p, q = numpy.empty_like(a), numpy.empty_like(a)
    huge = a >= _TEMME_FROM
    upper = ~huge & (x >= a + 1.0)
    lower = ~huge & ~upper
    if huge.any():
        p[huge], q[huge] = _temme(a[huge], x[huge])
    if upper.any():
        au, xu = a[upper], x[upper]
        q[upper] = numpy.exp(_log_prefactor(au, xu)) * _upper_fraction(au, xu)
        p[upper] = 1.0 - q[upper]
    if lower.any():
        al, xl = a[lower], x[lower]
        p[lower] = numpy.exp(_log_prefactor(al, xl)) * _lower_series(al, xl)
        q[lower] = 1.0 - p[lower]
        small = lower & (a < _SMALL_A)
        if small.any():
            q[small] = _upper_small_a(a[small], x[small])
    return p, q
