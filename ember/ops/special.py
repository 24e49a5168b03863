"""Special functions as primitives: log-gamma, digamma, polygamma, Hurwitz zeta, modified Bessel functions I0/I1 (and
their scaled forms), erfcx, the normal quantile and log-CDF, and the regularised incomplete gamma
functions. Each forward evaluates on whole ``ctx.xp`` arrays in float64 (series, asymptotic expansions and
recurrences), so the same code serves NumPy and CuPy; gradients are written with these same ops."""
import math

import numpy

from .. import _dtype, _meta
from .._tensor import Tensor
from ..autograd.function import Primitive
from . import _ndtri, _parallel
from ._gamma64 import BERNOULLI as _BERNOULLI
from ._gamma64 import lgamma64 as _lgamma64
from ._incomplete_gamma import regularized_gammas
from ._inplace import inplace_method
from ._kernel_dtypes import refuse_complex
from ._unary import unary_primitive
from ._util import promote_pair, quiet, tensor_method, write_out
from .pointwise import exp, sign, where

__all__ = ["lgamma", "digamma", "polygamma", "mvlgamma", "i0", "i0_", "sinc", "sinc_", "igamma", "igammac", "binomial",
           "_standard_gamma", "_standard_gamma_grad", "_sample_dirichlet", "_dirichlet_grad"]

# Euler-Maclaurin coefficients (2k)! / B_2k of the Hurwitz zeta tail.
_ZETA_A = tuple(math.factorial(2 * k + 2) * den / num for k, (num, den) in enumerate(_BERNOULLI))


def _floating(input, kernel=None):
    """``input`` in a floating dtype (integers in the default one); a complex input raises PyTorch's error for
    ``kernel``, the real-only kernel it would reach."""
    if kernel is not None:
        refuse_complex(kernel, input)
    return input if input.dtype.is_floating_point or input.dtype.is_complex else input.to(_dtype.get_default_dtype())


def _in_float64(function, *arrays):
    """Runs an elementwise array function in float64 and returns its result in the first array's dtype (large NumPy
    arrays of one shape a cache-sized block at a time on the intra-op threads: ``_parallel.in_float64_blocks``)."""
    result = _parallel.in_float64_blocks(function, *arrays)
    if result is not None:
        return result
    return function(*(a.astype(numpy.float64, copy=False) for a in arrays)).astype(arrays[0].dtype, copy=False)


def _xp(array):
    from .._backend import xp_of
    return xp_of(array)


# --- gamma family ------------------------------------------------------------------------------------------------
def _digamma64(x):
    xp = _xp(x)
    reflect = x < 0.5
    y = xp.where(reflect, 1.0 - x, x)
    shift = xp.zeros_like(y)
    for _ in range(10):   # psi(y) = psi(y + 1) - 1 / y until y >= 10, where the asymptotic series is exact
        small = y < 10.0
        shift = shift + xp.where(small, 1.0 / y, 0.0)
        y = xp.where(small, y + 1.0, y)
    w = 1.0 / (y * y)
    tail = w * (1 / 12 - w * (1 / 120 - w * (1 / 252 - w * (1 / 240 - w * (1 / 132 - w * (691 / 32760 - w / 12))))))
    result = xp.log(y) - 0.5 / y - tail - shift
    reduced = x - xp.round(x)
    cot = xp.cos(math.pi * reduced) / xp.sin(math.pi * reduced)
    result = xp.where(reflect, result - math.pi * cot, result)
    result = xp.where((x <= 0) & (x == xp.floor(x)), math.nan, result)
    return xp.where(x == 0, xp.copysign(math.inf, -xp.copysign(1.0, x)), xp.where(x == math.inf, math.inf, result))


def _zeta64(s, q):
    """Hurwitz zeta sum over k >= 0 of (k + q) ** -s, by Euler-Maclaurin summation (Cephes' scheme)."""
    xp = _xp(s)
    s, q = xp.broadcast_arrays(s, q)
    total = q ** -s
    a = q.copy()
    steps = 0
    while True:   # direct terms until every a > 9 (at least nine of them; none past an infinite q)
        active = (a <= 9.0) & (a != -math.inf) | (steps < 9)
        if steps >= 9 and not active.any():
            break
        a = xp.where(active, a + 1.0, a)
        b = a ** -s
        total = total + xp.where(active, b, 0.0)
        steps += 1
    total = total + b * a / (s - 1.0) - 0.5 * b
    factor, k = xp.ones_like(s), 0.0
    for coefficient in _ZETA_A:
        factor = factor * (s + k)
        b = b / a
        total = total + factor * b / coefficient
        k += 1.0
        factor = factor * (s + k)
        b = b / a
        k += 1.0
    total = xp.where(s == 1.0, math.inf, total)
    total = xp.where(s < 1.0, math.nan, total)
    at_pole = (q <= 0) & (q == xp.floor(q))
    return xp.where(at_pole & (s >= 1.0), math.inf, xp.where((q <= 0) & (s != xp.floor(s)), math.nan, total))


def _trigamma(x):
    """psi'(x) as PyTorch's CPU kernel computes it, in ``x``'s own precision: the reflection pi^2 / sin^2(pi x) below
    1/2, six recurrence steps and an asymptotic series (its values at -inf, +inf and the poles: nan, 0, and the
    huge finite ones sin's rounding gives, where the Hurwitz zeta gives inf)."""
    xp = _xp(x)
    one, pi = x.dtype.type(1), x.dtype.type(math.pi)
    reflected = x < 0.5
    sin_pi_x = xp.sin(pi * x)
    result = xp.where(reflected, -(pi * pi) / (sin_pi_x * sin_pi_x), 0).astype(x.dtype)
    x = xp.where(reflected, one - x, x)
    for _ in range(6):
        result = result + one / (x * x)
        x = x + one
    ixx = one / (x * x)
    result = result + (one + one / (2 * x) + ixx * (one / 6 - ixx * (one / 30 - ixx * (one / 42)))) / x
    return xp.where(reflected, -result, result)


def _polygamma64(n, x):
    if n == 0:
        return _digamma64(x)
    return (-1.0) ** (n + 1) * math.factorial(n) * _zeta64(_xp(x).full_like(x, n + 1.0), x)


class Lgamma(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _in_float64(_lgamma64, a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * digamma(a)


class Digamma(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a):
        ctx.save_for_backward(a)
        return _in_float64(_digamma64, a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * polygamma(1, a)


class Polygamma(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, n):
        ctx.save_for_backward(a)
        ctx.n = n
        if n == 1:
            return _trigamma(a if a.dtype.itemsize >= 4 else a.astype(numpy.float32)).astype(a.dtype, copy=False)
        return _in_float64(lambda x: _polygamma64(n, x), a)

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        return grad * polygamma(ctx.n + 1, a), None


class Zeta(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, s, q):
        ctx.save_for_backward(s, q)
        return _in_float64(_zeta64, s, q)

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'zeta' is not implemented.")
        s, q = ctx.saved_tensors
        return None, grad * -s * zeta(s + 1, q)


# --- modified Bessel functions of the first kind ----------------------------------------------------------------
def _bessel_i_scaled(order, x):
    """exp(-|x|) * I_order(|x|) for order 0 or 1: power series up to |x| = 30, Hankel's expansion beyond."""
    xp = _xp(x)
    ax = xp.abs(x)
    small = xp.minimum(ax, 30.0)
    quarter = small * small / 4.0
    term = xp.ones_like(ax) if order == 0 else small / 2.0
    total = term
    for k in range(1, 60):
        term = term * quarter / (k * (k + order))
        total = total + term
    series = total * xp.exp(-small)
    large = xp.maximum(ax, 30.0)
    mu = 4.0 * order * order
    term, total = xp.ones_like(ax), xp.ones_like(ax)
    for k in range(1, 30):
        term = term * -(mu - (2 * k - 1) ** 2) / (k * 8.0 * large)
        total = total + term
    asymptotic = total / xp.sqrt(2 * math.pi * large)
    return xp.where(ax <= 30.0, series, asymptotic)


def _i0e64(x):
    return _bessel_i_scaled(0, x)


def _i1e64(x):
    return _xp(x).sign(x) * _bessel_i_scaled(1, x)


def _i0_64(x):
    return _i0e64(x) * _xp(x).exp(_xp(x).abs(x))


def _i1_64(x):
    return _i1e64(x) * _xp(x).exp(_xp(x).abs(x))


def _unary(name, public_name, array_function, derivative, doc, forward=None, kernel=None, saves="both"):
    """A float-valued unary primitive whose gradient is ``grad * derivative(input, result)``, and its function: the
    forward is ``array_function`` in float64 (``_in_float64``), or ``forward(xp, a)`` where given; complex inputs
    raise PyTorch's error for ``kernel`` (by default ``<name>_cpu``). ``saves``: what PyTorch's node keeps ("input",
    "result" or "both"; the derivative gets None for the other), so changing the rest in place stays allowed."""
    kernel = kernel or f"{public_name.removeprefix('special_')}_cpu"
    gradient = {"both": lambda grad, a, result: grad * derivative(a, result),
                "input": lambda grad, a: grad * derivative(a, None),
                "result": lambda grad, result: grad * derivative(None, result)}[saves]
    primitive = unary_primitive(name, __name__, forward or (lambda xp, a: _in_float64(array_function, a)),
                                gradient, saves=saves)
    primitive.__doc__ = doc

    def function(input, *, out=None):
        return write_out(out, primitive.apply(_floating(input, kernel)), public_name)
    function.__name__ = function.__qualname__ = public_name
    function.__doc__ = doc
    return primitive, function


def _i1_derivative(a, result):
    return where(a == 0, 0.5, i0(a) - result / a)


def _i1e_derivative(a, result):
    return where(a == 0, 0.5, special_i0e(a) - result * (sign(a) + 1.0 / a))


I0, i0 = _unary("I0", "i0", _i0_64, lambda a, result: special_i1(a),
                "Modified Bessel function of the first kind, order 0.", kernel="i0_vml_cpu", saves="input")
SpecialI0E, special_i0e = _unary("SpecialI0E", "special_i0e", _i0e64,
                                 lambda a, result: special_i1e(a) - sign(a) * result,
                                 "Exponentially scaled modified Bessel function of order 0: exp(-|x|) * i0(x).")
SpecialI1, special_i1 = _unary("SpecialI1", "special_i1", _i1_64, _i1_derivative,
                               "Modified Bessel function of the first kind, order 1.")
SpecialI1E, special_i1e = _unary("SpecialI1E", "special_i1e", _i1e64, _i1e_derivative,
                                 "Exponentially scaled modified Bessel function of order 1: exp(-|x|) * i1(x).")


# --- error function relatives and the normal distribution -------------------------------------------------------
def _erfc_array(x):
    from .._tensor import _make
    from .pointwise import erfc
    return erfc(_make(x))._data


def _erfcx64(x):
    """exp(x**2) * erfc(x): directly below 2, by Laplace's continued fraction above (where erfc underflows)."""
    xp = _xp(x)
    below = xp.clip(x, -math.inf, 2.0)
    result = xp.exp(below ** 2) * _erfc_array(below)
    far = x >= 2.0
    if getattr(far, "ndim", 0) and xp is numpy:   # the 80-step fraction only where it is taken: often nowhere
        places = numpy.flatnonzero(far)
        if places.size:
            result = result.reshape(-1)   # a new array of its own, written in place
            result[places] = _laplace_fraction(x.reshape(-1)[places])
            result = result.reshape(x.shape)
        return result
    return xp.where(far, _laplace_fraction(xp.clip(x, 2.0, math.inf)), result)


def _laplace_fraction(x):
    """erfcx(x) for x >= 2 by Laplace's continued fraction."""
    fraction = x
    for k in range(80, 0, -1):
        fraction = x + (k / 2.0) / fraction
    return 1.0 / (math.sqrt(math.pi) * fraction)


def _log_ndtr64(x):
    xp = _xp(x)
    lower = xp.log(0.5 * _erfcx64(-xp.minimum(x, 0.0) / math.sqrt(2))) - xp.minimum(x, 0.0) ** 2 / 2
    upper = xp.log1p(-0.5 * _erfc_array(xp.maximum(x, 0.0) / math.sqrt(2)))
    return xp.where(x < 0, lower, upper)


def _ndtri_array(xp, p):
    """PyTorch's float32 and float64 ndtri (``_ndtri``); other floating dtypes through float32."""
    if p.dtype in (numpy.float32, numpy.float64):
        return _ndtri.ndtri(p)
    return _ndtri.ndtri(p.astype(numpy.float32)).astype(p.dtype)


SpecialErfcx, erfcx = _unary("SpecialErfcx", "special_erfcx", _erfcx64,
                             lambda a, result: 2 * a * result - 2 / math.sqrt(math.pi),
                             "The scaled complementary error function exp(x**2) * erfc(x).")
SpecialLogNdtr, log_ndtr = _unary("SpecialLogNdtr", "special_log_ndtr", _log_ndtr64,
                                  lambda a, result: math.sqrt(2 / math.pi) / erfcx(-a / math.sqrt(2)),
                                  "log of the standard normal CDF, accurate far into both tails.")
SpecialNdtri, ndtri = _unary("SpecialNdtri", "special_ndtri", None,
                             lambda a, result: math.sqrt(2 * math.pi) * exp(result * result / 2),
                             "The standard normal quantile function (inverse of ndtr).", forward=_ndtri_array,
                             saves="result")


# --- regularised incomplete gamma ----------------------------------------------------------------------------------
def _igamma_parts(a, x):
    """(P, Q) in float64 where a > 0 and 0 < x < inf (NaN elsewhere, for ``_igamma_domain`` to settle); CuPy arrays
    are worked on the host."""
    xp = _xp(a)
    a, x = (xp.array(v, dtype=numpy.float64) for v in xp.broadcast_arrays(a, x))
    host_a, host_x = (v if xp is numpy else xp.asnumpy(v) for v in (a, x))
    inside = (host_a > 0) & (host_x > 0) & numpy.isfinite(host_a) & numpy.isfinite(host_x)
    p, q = numpy.full_like(host_a, math.nan), numpy.full_like(host_a, math.nan)
    p[inside], q[inside] = regularized_gammas(host_a[inside], host_x[inside])
    return (p, q) if xp is numpy else (xp.asarray(p), xp.asarray(q))


def _igamma_domain(a, x, value, at_zero_x):
    """PyTorch's special cases of P (``at_zero_x`` 0) or Q (1), by its kernel's precedence: negative arguments,
    a = 0, x = 0, an infinite a (``at_zero_x`` for finite x, NaN for infinite x), x = +inf (so a NaN argument gives
    NaN only where none of these decides)."""
    xp = _xp(a)
    value = xp.where(xp.isinf(x), 1.0 - at_zero_x, value)
    value = xp.where(xp.isinf(a), xp.where(xp.isinf(x), math.nan, at_zero_x), value)
    value = xp.where(x == 0, at_zero_x, value)
    value = xp.where(a == 0, xp.where(x > 0, 1.0 - at_zero_x, math.nan), value)
    return xp.where((a < 0) | (x < 0), math.nan, value)


def _igamma64(a, x):
    return _igamma_domain(a, x, _igamma_parts(a, x)[0], 0.0)


def _igammac64(a, x):
    return _igamma_domain(a, x, _igamma_parts(a, x)[1], 1.0)


def _gamma_density(a, x):
    """x^(a-1) e^-x / Gamma(a), the derivative of P(a, x) in x."""
    return exp((a - 1) * x.log() - x - lgamma(a))


class Igamma(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return _in_float64(_igamma64, a, x)

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'igamma: input' is not implemented.")
        a, x = ctx.saved_tensors
        return None, grad * _gamma_density(a, x)


class Igammac(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, a, x):
        ctx.save_for_backward(a, x)
        return _in_float64(_igammac64, a, x)

    @staticmethod
    def backward(ctx, grad):
        if ctx.needs_input_grad[0]:
            raise NotImplementedError("the derivative for 'igammac: input' is not implemented.")
        a, x = ctx.saved_tensors
        return None, -grad * _gamma_density(a, x)


# --- public functions -------------------------------------------------------------------------------------------
@tensor_method
def lgamma(input, *, out=None):
    """Natural logarithm of the absolute value of the gamma function."""
    return write_out(out, Lgamma.apply(_floating(input, "lgamma_vml_cpu")), "lgamma")


@tensor_method
def digamma(input, *, out=None):
    """The logarithmic derivative of the gamma function, psi(x)."""
    return write_out(out, Digamma.apply(_floating(input, "digamma")), "digamma")


@tensor_method
def polygamma(n, input=None, *, out=None):
    """The n-th derivative of the digamma function; as a method, ``x.polygamma(n)``."""
    if isinstance(n, Tensor):   # Tensor.polygamma(self, n)
        n, input = input, n
    if n < 0:
        raise RuntimeError("polygamma(n, x) does not support negative n.")
    kernel = {0: "digamma", 1: "trigamma"}.get(int(n), "polygamma")
    return write_out(out, Polygamma.apply(_floating(input, kernel), int(n)), "polygamma")


@tensor_method
def mvlgamma(input, p, *, out=None):
    """The multivariate log-gamma function of dimension ``p``, elementwise."""
    from .rearrange import stack
    if isinstance(input, Tensor) and input.dtype is _dtype.bool_:
        raise RuntimeError("The input tensor may not be a boolean tensor.")
    input = _floating(input, "arange_cpu")
    if p < 1:
        raise RuntimeError("p has to be greater than or equal to 1")
    terms = stack([lgamma(input - j / 2) for j in range(p)], -1).sum(-1)
    return write_out(out, terms + p * (p - 1) / 4 * math.log(math.pi), "mvlgamma")


@tensor_method
def sinc(input, *, out=None):
    """sin(pi x) / (pi x), with the limit 1 at 0 (complex inputs too)."""
    input = _floating(input)
    safe = where(input == 0, 1.0, input)
    scaled = safe * math.pi
    return write_out(out, where(input == 0, 1.0 + 0 * input, scaled.sin() / scaled), "sinc")


def zeta(input, other, *, out=None):
    """The Hurwitz zeta function: sum over k >= 0 of (k + other) ** -input."""
    input, other = _float_pair(input, other, "zeta_cpu")
    return write_out(out, Zeta.apply(input, other), "zeta")


def _float_pair(input, other, kernel):
    from .creation import tensor
    if not isinstance(input, Tensor):
        input = tensor(input, dtype=other.dtype if other.dtype.is_floating_point else None)
    if not isinstance(other, Tensor):
        other = tensor(other, dtype=input.dtype if input.dtype.is_floating_point else None)
    input, other = promote_pair(input, other)
    return _floating(input, kernel), _floating(other, kernel)


@tensor_method
def igamma(input, other, *, out=None):
    """The regularised lower incomplete gamma function P(input, other)."""
    input, other = _float_pair(input, other, "igamma_cpu")
    return write_out(out, Igamma.apply(input, other), "igamma")


@tensor_method
def igammac(input, other, *, out=None):
    """The regularised upper incomplete gamma function Q(input, other) = 1 - P(input, other)."""
    input, other = _float_pair(input, other, "igammac_cpu")
    return write_out(out, Igammac.apply(input, other), "igammac")


Tensor.i0 = i0
for _function in (lgamma, digamma, i0, sinc, igamma, igammac, mvlgamma):
    inplace_method(_function)
i0_, sinc_ = Tensor.i0_, Tensor.sinc_   # torch.i0_(x) is x.i0_()
inplace_method(lambda self, n: polygamma(n, self), "polygamma_")


# --- gamma-based sampling with implicit reparameterisation gradients ---------------------------------------------
_PSI_10 = 2.25175258906672110764
_DIGAMMA_TAIL = (8.33333333333333333333E-2, -2.10927960927960927961E-2, 7.57575757575757575758E-3,
                 -4.16666666666666666667E-3, 3.96825396825396825397E-3, -8.33333333333333333333E-3,
                 8.33333333333333333333E-2)
_GAMMA_GRAD_UV = ((0.16009398, -0.094634809, 0.025146376, -0.0030648343, 1, 0.32668115, 0.10406089, 0.0014179084),
                  (0.53487893, 0.1298071, 0.065735949, -0.0015649758, 0.16639465, 0.020070113, -0.0035938915,
                   -0.00058392623),
                  (0.040121004, -0.0065914022, -0.0026286047, -0.0013441777, 0.017050642, -0.0021309326,
                   0.00085092367, -1.5247877e-07))


def _digamma_positive64(x):
    """PyTorch's ``digamma_one`` in float64 for positive ``x``: recurrence up to 10, then the asymptotic series."""
    xp = _xp(x)
    result = xp.zeros_like(x)
    while True:
        low = x < 10
        if not low.any():
            break
        result = xp.where(low, result - 1 / xp.where(low, x, 1.0), result)
        x = xp.where(low, x + 1, x)
    z = 1.0 / (x * x)
    poly = xp.zeros_like(x)
    for coefficient in _DIGAMMA_TAIL:
        poly = poly * z + coefficient
    y = xp.where(x < float(numpy.float32(1e17)), z * poly, 0.0)
    return xp.where(x == 10, result + _PSI_10, result + xp.log(x) - (0.5 / x) - y)


def _standard_gamma_grad64(alpha, x):
    """PyTorch's ``standard_gamma_grad_one`` in float64, -(dP(alpha, x) / dalpha) / density(x): a Taylor series for
    small x, Rice's saddle-point expansion for alpha above 8, and a bivariate rational approximation otherwise."""
    xp = _xp(alpha)
    alpha, x = xp.broadcast_arrays(alpha, x)
    # Taylor series (x < 0.8f)
    numer, denom = xp.ones_like(x), alpha.copy()
    series1, series2 = numer / denom, numer / (denom * denom)
    for i in range(1, 6):
        numer = numer * (-x / i)
        denom = denom + 1
        series1 = series1 + numer / denom
        series2 = series2 + numer / (denom * denom)
    pow_x_alpha = x ** alpha
    gamma_pdf = x ** (alpha - 1) * xp.exp(-x)
    cdf_alpha = (xp.log(x) - _digamma_positive64(alpha)) * (pow_x_alpha * series1) - pow_x_alpha * series2
    taylor = -cdf_alpha / gamma_pdf
    taylor = xp.where(xp.isnan(taylor), 0.0, taylor)
    # Rice saddle point, near the mean and away from it
    numer_1 = 1 + 24 * alpha * (1 + 12 * alpha)
    numer_2 = 1440 * (alpha * alpha) + 6 * x * (53 - 120 * x) - 65 * x * x / alpha + alpha * (107 + 3600 * x)
    near = numer_1 * numer_2 / (1244160 * (alpha * alpha) * (alpha * alpha))
    root = xp.sqrt(8 * alpha)
    term2 = root / (alpha - x)
    term3 = (x - alpha - alpha * xp.log(x / alpha)) ** -1.5
    term1 = xp.log(x / alpha) * xp.where(x < alpha, term2 - term3, term2 + term3) - \
        xp.sqrt(2 / alpha) * (alpha + x) / ((alpha - x) * (alpha - x))
    stirling = 1 + 1 / (12 * alpha) * (1 + 1 / (24 * alpha))
    far = -stirling * (x * term1) / root
    rice = xp.where((float(numpy.float32(0.9)) * alpha <= x) & (x <= float(numpy.float32(1.1)) * alpha), near, far)
    # rational approximation
    u, v = xp.log(x / alpha), xp.log(alpha)
    c = [_GAMMA_GRAD_UV[0][i] + u * (_GAMMA_GRAD_UV[1][i] + u * _GAMMA_GRAD_UV[2][i]) for i in range(8)]
    p = c[0] + v * (c[1] + v * (c[2] + v * c[3]))
    q = c[4] + v * (c[5] + v * (c[6] + v * c[7]))
    rational = xp.exp(p / q)
    return xp.where(x < float(numpy.float32(0.8)), taylor, xp.where(alpha > 8.0, rice, rational))


class StandardGamma(Primitive):
    """Passes samples drawn from Gamma(alpha, 1) through, with the implicit reparameterisation gradient in alpha."""

    @staticmethod
    def forward(ctx, alpha, samples):
        ctx.save_for_backward(alpha, samples)
        return samples

    @staticmethod
    def backward(ctx, grad):
        alpha, samples = ctx.saved_tensors
        return grad * _standard_gamma_grad(alpha, samples), None


StandardGamma._node_cls.__name__ = StandardGamma._node_cls.__qualname__ = "StandardGammaBackward0"


def _float_kernel(kernel, tensor):
    """PyTorch's CPU kernels of the gamma and Dirichlet samplers and their gradients take float32 and float64 only:
    its NotImplementedError for other dtypes (half, bfloat16, integers)."""
    if tensor.dtype not in (_dtype.float32, _dtype.float64):
        raise NotImplementedError(f'"{kernel}" not implemented for \'{_dtype.scalar_type_name(tensor.dtype)}\'')


def _standard_gamma_grad(input, output):
    """The derivative of Gamma(input, 1) samples ``output`` in ``input`` (as ``torch._standard_gamma_grad``)."""
    from .._tensor import _make
    _float_kernel("_standard_gamma_grad_cpu", input)
    _meta.refuse_data_dependent("_standard_gamma_grad", input, output)   # PyTorch has no meta kernel for it
    with numpy.errstate(all="ignore"):
        return _make(_in_float64(_standard_gamma_grad64, input._data, output._data))


def _at_least_tiny(values, np_dtype):
    """``std::max(smallest normal, value)``: values rounded to ``np_dtype``, those not above its smallest normal
    (NaN too) replaced by it, as PyTorch's samplers clamp."""
    tiny = numpy.finfo(np_dtype).tiny
    values = values.astype(np_dtype)
    return numpy.where(values > tiny, values, tiny).astype(np_dtype)


def _gamma_draws(input, generator, single):
    """PyTorch's Gamma(alpha, 1) draws for each of ``input``'s values in row-major order, as float64."""
    from .. import _backend
    from ._samplers import gamma
    from .random import _engine
    alpha = _backend.move(input._data, _backend.CPU)
    alpha = numpy.ascontiguousarray(alpha.astype(numpy.float32 if single else numpy.float64)).ravel()
    return gamma(_engine(generator), alpha, single).reshape(input.shape)


def _standard_gamma(input, generator=None):
    """Samples from Gamma(input, 1), PyTorch's values for its generator's state, differentiable in ``input`` by
    implicit reparameterisation."""
    from .. import _backend
    from .._tensor import _make
    _float_kernel("gamma_cpu", input)
    if input.is_meta:   # shape and dtype only: no numbers drawn, the generator stays where it is
        from .random import _meta_samples
        return StandardGamma.apply(input, _meta_samples(tuple(input.shape), input.dtype))
    np_dtype = input._data.dtype
    samples = _at_least_tiny(_gamma_draws(input, generator, np_dtype == numpy.float32), np_dtype)
    return StandardGamma.apply(input, _make(_backend.move(samples, input.device)))


def _sample_dirichlet(input, generator=None):
    """Samples from Dirichlet(input) along the last dim: Gamma draws in float64 normalised by their sum, then
    clamped to [smallest normal, largest value below 1] of input's dtype, as PyTorch's; differentiable in ``input``
    as PyTorch's Dirichlet samples."""
    from .. import _backend
    from .._tensor import _make
    _float_kernel("dirichlet", input)
    _meta.refuse_data_dependent("_sample_dirichlet", input)
    np_dtype = input._data.dtype
    draws = _at_least_tiny(_gamma_draws(input, generator, False), numpy.float64)
    values = _at_least_tiny(draws / draws.sum(-1, keepdims=True), np_dtype)
    values = numpy.minimum(values, numpy.nextafter(np_dtype.type(1), np_dtype.type(0)))
    return SampleDirichlet.apply(input, _make(_backend.move(values, input.device)))


# --- the Dirichlet (and Beta) reparameterised gradient: PyTorch's dirichlet_grad_one, element by element ---------
# Its small-x series run in the input's precision (float32 arithmetic for float32 inputs), the rest in float64, so it
# is computed per element here with each float32 operation rounded as there.
_DIRICHLET_C = (
    (((1.003668233, -0.01061107488, -0.0657888334, 0.01201642863),
      (0.6336835991, -0.3557432599, 0.05486251648, -0.001465281033),
      (-0.03276231906, 0.004474107445, 0.002429354597, -0.0001557569013)),
     ((0.221950385, -0.3187676331, 0.01799915743, 0.01074823814),
      (-0.2951249643, 0.06219954479, 0.01535556598, 0.001550077057),
      (0.02155310298, 0.004170831599, 0.001292462449, 6.976601077e-05)),
     ((-0.05980841433, 0.008441916499, 0.01085618172, 0.002319392565),
      (0.02911413504, 0.01400243777, -0.002721828457, 0.000751041181),
      (0.005900514878, -0.001936558688, -9.495446725e-06, 5.385558597e-05))),
    (((1, -0.02924021934, -0.04438342661, 0.007285809825),
      (0.6357567472, -0.3473456711, 0.05454656494, -0.002407477521),
      (-0.03301322327, 0.004845219414, 0.00231480583, -0.0002307248149)),
     ((0.5925320577, -0.1757678135, 0.01505928619, 0.000564515273),
      (0.1014815858, -0.06589186703, 0.01272886114, -0.0007316646956),
      (-0.007258481865, 0.001096195486, 0.0003934994223, -4.12701925e-05)),
     ((0.06469649321, -0.0236701437, 0.002902096474, -5.896963079e-05),
      (0.001925008108, -0.002869809258, 0.0008000589141, -6.063713228e-05),
      (-0.0003477407336, 6.959756487e-05, 1.097287507e-05, -1.650964693e-06))))
_F32_1E17 = float(numpy.float32(1e17))


def _log(value):
    return math.log(value) if value > 0 else (-math.inf if value == 0 else math.nan)


def _pow(base, exponent):
    try:
        return math.pow(base, exponent)
    except (OverflowError, ZeroDivisionError):
        return math.inf
    except ValueError:
        return math.nan


def _digamma_one(x, r):
    """PyTorch's ``digamma_one`` of a value in the precision ``r`` rounds to (its steps in x round there)."""
    if x == 0:
        return math.inf
    extra = 0.0
    if x < 0:
        if x == math.floor(x):
            return math.inf
        extra = -r(math.pi) / math.tan(r(r(math.pi) * x))
        x = r(1 - x)
    result = 0.0
    while x < 10:
        result -= r(1 / x)
        x = r(x + 1)
    if x == 10:
        return r(result + _PSI_10 + extra)
    y = 0.0
    if x < _F32_1E17:
        z = 1.0 / r(x * x)
        poly = 0.0
        for coefficient in _DIGAMMA_TAIL:
            poly = poly * z + coefficient
        y = z * poly
    return r(result + r(_log(x)) - r(0.5 / x) - y + extra)


def _beta_grad_alpha_small(x, alpha, beta, r):
    factor = r(r(_digamma_one(alpha, r) - _digamma_one(r(alpha + beta), r)) - r(_log(x)))
    numer = 1.0
    series = r(r(numer / alpha) * r(factor + r(1 / alpha)))
    for i in range(1, 11):
        numer = r(numer * r(r(r(i - beta) * x) / i))
        denom = r(alpha + i)
        series = r(series + r(r(numer / denom) * r(factor + r(1 / denom))))
    result = r(r(x * r(_pow(r(1 - x), -beta))) * series)
    return 0.0 if result != result else result


def _beta_grad_beta_small(x, alpha, beta, r):
    factor = r(_digamma_one(r(alpha + beta), r) - _digamma_one(beta, r))
    numer, betas, dbetas, series = 1.0, 1.0, 0.0, r(factor / alpha)
    for i in range(1, 9):
        numer = r(numer * r(-x / i))
        dbetas = r(r(dbetas * r(beta - i)) + betas)
        betas = r(betas * r(beta - i))
        series = r(series + r(r(numer / r(alpha + i)) * r(dbetas + r(factor * betas))))
    result = r(-r(_pow(r(1 - x), r(1 - beta))) * series)
    return 0.0 if result != result else result


def _beta_grad_alpha_mid(x, alpha, beta):
    total = alpha + beta
    mean = alpha / total
    std = math.sqrt(alpha * beta / (total + 1)) / total
    if mean - 0.1 * std <= x <= mean + 0.1 * std:
        poly = 47 * x * (beta * beta) * (beta * beta) + alpha * (
            (43 + 20 * (16 + 27 * beta) * x) * (beta * beta) * beta + alpha * (
                3 * (59 + 180 * beta - 90 * x) * (beta * beta) + alpha * (
                    (453 + 1620 * beta * (1 - x) - 455 * x) * beta + alpha * (8 * (1 - x) * (135 * beta - 11)))))
        prefactor_num = (1 + 12 * alpha) * (1 + 12 * beta) / (total * total)
        prefactor_den = 12960 * alpha * alpha * alpha * beta * beta * (1 + 12 * total)
        return prefactor_num / (1 - x) * poly / prefactor_den
    prefactor = -x / math.sqrt(2 * alpha * beta / total)
    stirling = (1 + 1 / (12 * alpha) + 1 / (288 * alpha * alpha)) * (1 + 1 / (12 * beta) + 1 / (288 * beta * beta)) \
        / (1 + 1 / (12 * total) + 1 / (288 * total * total))
    term1_num = 2 * (alpha * alpha) * (x - 1) + alpha * beta * (x - 1) - x * (beta * beta)
    axbx = alpha * (x - 1) + beta * x
    term1 = term1_num / (math.sqrt(2 * alpha / beta) * _pow(total, 1.5) * axbx * axbx)
    term2 = 0.5 * _log(alpha / (total * x))
    term3 = math.sqrt(8 * alpha * beta / total) / (beta * x + alpha * (x - 1))
    term4 = _pow(beta * _log(beta / (total * (1 - x))) + alpha * _log(alpha / (total * x)), -1.5)
    return stirling * prefactor * (term1 + term2 * (term3 + (term4 if x < mean else -term4)))


def _dirichlet_grad_one(x, alpha, total, r):
    """PyTorch's ``dirichlet_grad_one``: -(dF(x; alpha, beta) / dalpha) / density / (1 - x) for a Beta(alpha,
    total - alpha) sample x, by series near 0 and 1, a saddle-point expansion for large alpha and beta, and a
    rational correction otherwise. ``r`` rounds to the input's precision."""
    beta = r(total - alpha)
    boundary = r(r(total * x) * r(1 - x))
    if x <= 0.5 and boundary < 2.5:
        return _beta_grad_alpha_small(x, alpha, beta, r)
    if x >= 0.5 and boundary < 0.75:
        return -_beta_grad_beta_small(r(1 - x), beta, alpha, r)
    if alpha > 6 and beta > 6:
        return r(_beta_grad_alpha_mid(x, alpha, total - alpha))
    u = _log(x)
    a = _log(alpha) - u
    b = _log(total) - a
    p = q = 0.0
    for i, pu in enumerate((1.0, u, u * u)):
        for j, pa in enumerate((1.0, a, a * a)):
            ua = pu * pa
            cp, cq = _DIRICHLET_C[0][i][j], _DIRICHLET_C[1][i][j]
            p += ua * (cp[0] + b * (cp[1] + b * (cp[2] + b * cp[3])))
            q += ua * (cq[0] + b * (cq[1] + b * (cq[2] + b * cq[3])))
    approx = x * r(_digamma_one(r(total), r) - _digamma_one(r(alpha), r)) / (total - alpha)
    return r(p / q * approx)


def _dirichlet_grad(x, alpha, total):
    """The reparameterised gradient of Beta(alpha, total - alpha) samples ``x`` in alpha, scaled by 1 / (1 - x), as
    ``torch._dirichlet_grad`` (what Dirichlet and Beta samples' backward use)."""
    from .. import _backend
    from .._tensor import _make
    for name, value in (("x", x), ("alpha", alpha), ("total", total)):
        if value.dtype is not x.dtype:
            raise RuntimeError(f"_dirichlet_grad: expected {name} to have the same dtype as x")
    _float_kernel("_dirichlet_grad_cpu", x)
    _meta.refuse_data_dependent("_dirichlet_grad", x, alpha, total)
    shape = tuple(numpy.broadcast_shapes(x.shape, alpha.shape, total.shape))
    arrays = [numpy.broadcast_to(_backend.move(t._data, _backend.CPU), shape).ravel() for t in (x, alpha, total)]
    np_dtype = x._data.dtype
    single = np_dtype != numpy.float64
    rnd = (lambda v: float(numpy.float32(v))) if single else float
    with numpy.errstate(all="ignore"):
        values = [_dirichlet_grad_one(*point, rnd) for point in zip(*(a.tolist() for a in arrays))]
    return _make(_backend.move(numpy.array(values, np_dtype).reshape(shape), x.device))


class SampleDirichlet(Primitive):
    """Passes Dirichlet samples through, with PyTorch's reparameterised gradient in the concentration
    (``_dirichlet_grad``, as its Dirichlet distribution's backward)."""

    @staticmethod
    def forward(ctx, alpha, values):
        ctx.save_for_backward(alpha, values)
        return values

    @staticmethod
    def backward(ctx, grad):
        alpha, values = ctx.saved_tensors
        rate = _dirichlet_grad(values, alpha, alpha.sum(-1, keepdim=True).expand_as(alpha))
        return rate * (grad - (values * grad).sum(-1, keepdim=True)), None


def binomial(count, prob, generator=None):
    """Samples the number of successes in ``count`` trials of probability ``prob`` (in ``count``'s dtype):
    PyTorch's values and stream for its generator's state (inversion or BTRS per element, in row-major order)."""
    for name, operand in (("count", count), ("prob", prob)):
        if not operand.dtype.is_floating_point:
            raise ValueError(f"binomial only supports floating-point dtypes for {name}, got: "
                             f"{_dtype.scalar_type_name(operand.dtype)}")
    if count.dtype not in (_dtype.float32, _dtype.float64):
        raise NotImplementedError(f'"binomial_cpu" not implemented for \'{_dtype.scalar_type_name(count.dtype)}\'')
    _meta.refuse_data_dependent("binomial", count, prob)
    if prob.dtype != count.dtype:
        raise RuntimeError(f"Found dtype {_dtype.scalar_type_name(prob.dtype)} but expected "
                           f"{_dtype.scalar_type_name(count.dtype)}")
    from .. import _backend
    from .._tensor import _make
    from ._samplers import binomial as draw
    from .random import _engine
    n, p = (_backend.move(t._data, _backend.CPU) for t in (count, prob))
    n, p = numpy.broadcast_arrays(n, p)
    single = count.dtype == _dtype.float32
    samples = draw(_engine(generator), n.ravel(), p.ravel(), single).reshape(n.shape).astype(count._data.dtype)
    return _make(_backend.move(samples, count.device))
