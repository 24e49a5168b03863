"""The classical orthogonal polynomials of ``torch.special``: Chebyshev T, U, V, W (and their shifted forms on
[0, 1]), Hermite H and He, Laguerre L and Legendre P, each ``f(x, n)`` with x and n broadcast together.

As in PyTorch, n is truncated to an integer (NaN and infinite n read as negative), a negative n gives 0, the value is
computed in the operands' dtype by the three-term recurrence (Chebyshev polynomials of high degree inside (-1, 1)
by their trigonometric closed forms), and the result has no derivative."""
import math

import numpy

from .. import _dtype
from .._backend import xp_of
from .._tensor import Tensor, _make
from . import _cephes
from ..autograd.function import composite
from ._util import quiet, write_out
from .bessel import float_only
from .creation import as_tensor_arg

__all__ = ["chebyshev_polynomial_t", "chebyshev_polynomial_u", "chebyshev_polynomial_v", "chebyshev_polynomial_w",
           "hermite_polynomial_h", "hermite_polynomial_he", "laguerre_polynomial_l", "legendre_polynomial_p",
           "shifted_chebyshev_polynomial_t", "shifted_chebyshev_polynomial_u", "shifted_chebyshev_polynomial_v",
           "shifted_chebyshev_polynomial_w"]

_INT64_MIN = numpy.iinfo(numpy.int64).min


def _degree(xp, n):
    """n cast to int64 as C++ does on x86: truncated, and INT64_MIN where it is NaN, infinite or out of range."""
    representable = xp.isfinite(n) & (xp.abs(n) < 2.0 ** 63)
    return xp.where(representable, xp.trunc(xp.where(representable, n, 0)), _INT64_MIN).astype(numpy.int64)


def _recurrence(x, n, first, step):
    """P_n(x) from P_0 = 1, P_1 = ``first`` and P_(k+1) = ``step(k, P_k, P_(k-1))``, for elementwise degrees n >= 0."""
    xp = xp_of(x)
    previous, current = xp.ones_like(x), first
    for k in range(1, int(n.max())):
        following = step(k, current, previous)
        going = n > k
        previous, current = xp.where(going, current, previous), xp.where(going, following, current)
    return xp.where(n == 0, 1, current)


def _fused(a, b, c):
    """a * b + c rounded once in float32, as the compiled PyTorch kernels contract it (an FMA): past float32's range
    this gives +-inf where two roundings give NaN. float64 keeps NumPy's two roundings (at most an ulp apart)."""
    if a.dtype != numpy.float32:
        return a * b + c
    if isinstance(a, numpy.ndarray):
        return _cephes.fma(a, b, c)
    return (a.astype(numpy.float64) * b + c).astype(numpy.float32)


def _on_subset(mask, function, *arrays):
    """``function(*arrays)`` evaluated only where ``mask`` holds (zeros elsewhere), so its loops run over those only."""
    result = xp_of(arrays[0]).zeros_like(arrays[0])
    if mask.any():
        result[mask] = function(*(a[mask] for a in arrays))
    return result


# --- Chebyshev polynomials: one recurrence, four starts, closed forms cos/sin of n * acos(y) ------------------------
_CHEBYSHEV_START = {"t": 0, "u": 1, "v": 1, "w": 1}   # P_1 = 2y - 1, 2y, 2y - 1, 2y + 1 (T: y)
_CHEBYSHEV_OFFSET = {"t": 0, "u": 0, "v": -1, "w": 1}


def _chebyshev_endpoints(kind, upper, n):
    """The values at y = 1 (``upper``) and y = -1."""
    xp = xp_of(n)
    odd = n % 2 == 1
    sign = xp.where(odd, -1.0, 1.0)
    if kind == "t":
        return xp.where(upper, 1.0, sign)
    if kind == "u":
        return xp.where(upper, 1.0, sign) * (n + 1)
    if kind == "v":
        return xp.where(upper, 1.0, sign * (2 * n + 1))
    return xp.where(upper, 2.0 * n + 1, sign)


def _chebyshev_closed_form(kind, y, n, dtype):
    """T: cos(n t), U: sin((n+1) t) / sin t, V: cos((n+1/2) t) / cos(t/2), W: sin((n+1/2) t) / sin(t/2), t = acos y,
    each with PyTorch's fallback where its denominator rounds to a degenerate value."""
    xp = xp_of(y)
    theta = xp.arccos(y)
    m = n.astype(dtype)
    if kind == "t":
        return xp.cos(m * theta)
    if kind == "u":
        s = xp.sin(theta)
        return xp.where(s != 0, xp.sin((m + 1) * theta) / s, (m + 1) * xp.cos((m + 1) * theta) / y)
    half = theta / 2
    if kind == "v":
        return xp.where(xp.sin(half) != 1, xp.cos((m + 0.5) * theta) / xp.cos(half),
                        _chebyshev_endpoints("v", False, n))
    return xp.where(xp.cos(half) != 1, xp.sin((m + 0.5) * theta) / xp.sin(half),
                    _chebyshev_endpoints("w", y > 0, n))


def _chebyshev(kind, shifted, x, n):
    xp = xp_of(x)
    y = x + x - 1 if shifted else x
    if shifted:
        upper, lower = x == 1, x == 0
    else:
        upper, lower = y == 1, y == -1
    threshold = (4 if kind == "w" else 6) if shifted else (6 if kind == "t" else 8)
    closed = (n > threshold) & (xp.abs(y) < 1)
    first = y + y + _CHEBYSHEV_OFFSET[kind] if _CHEBYSHEV_START[kind] else y
    by_recurrence = _on_subset(~closed, lambda z, m, p1: _recurrence(z, m, p1, lambda k, q, p: _fused(z + z, q, -p)),
                               y, n, first)
    result = xp.where(closed, _chebyshev_closed_form(kind, xp.where(closed, y, 0), n, x.dtype), by_recurrence)
    result = xp.where(upper | lower, _chebyshev_endpoints(kind, upper, n), result)
    return xp.where(n < 0, 0, result)


# --- Hermite, Laguerre, Legendre -----------------------------------------------------------------------------------
def _hermite_h(x, n):
    limit = 128 if x.dtype == numpy.float32 else 512
    value = _on_subset((n > 1) & (n <= limit),
                       lambda y, m: _recurrence(y, m, y + y, lambda k, q, p: _fused(y + y, q, -((k + k) * p))), x, n)
    xp = xp_of(x)
    value = xp.where(n == 1, x + x, xp.where(n == 0, 1, xp.where(n > limit, math.nan, value)))
    return xp.where(n < 0, 0, value)


def _hermite_he(x, n):
    limit = 128 if x.dtype == numpy.float32 else 512
    value = _on_subset((n > 1) & (n <= limit), lambda y, m: _recurrence(y, m, y, lambda k, q, p: _fused(y, q, -(k * p))),
                       x, n)
    xp = xp_of(x)
    value = xp.where(n == 1, x, xp.where(n == 0, 1, xp.where(n > limit, math.nan, value)))
    return xp.where(n < 0, 0, value)


def _laguerre_l(x, n):
    xp = xp_of(x)
    value = _on_subset(n > 0, lambda y, m: _recurrence(
        y, m, 1 - y, lambda k, q, p: _fused((k + k) + (1 - y), q, -(k * p)) / (k + 1)), x, n)
    value = xp.where((x == 0) | (n == 0), 1, value)
    return xp.where(n < 0, 0, value)


def _legendre_p(x, n):
    xp = xp_of(x)
    value = _on_subset((n > 0) & (xp.abs(x) != 1), lambda y, m: _recurrence(
        y, m, y, lambda k, q, p: _fused((k + k + 1) * y, q, -(k * p)) / (k + 1)), x, n)
    value = xp.where(xp.abs(x) == 1, xp.where((x > 0) | (n % 2 == 0), 1, -1), xp.where(n == 0, 1, value))
    return xp.where(n < 0, 0, value)


# --- public functions -----------------------------------------------------------------------------------------------
def _operands(name, x, n):
    """x and n as broadcast arrays of their common float dtype (as ``torch.special``'s Tensor/Number overloads)."""
    if not isinstance(x, Tensor) and not isinstance(n, Tensor):
        raise TypeError(f"special_{name}() received an invalid combination of arguments - got "
                        f"({type(x).__name__}, {type(n).__name__}), but expected one of: (Tensor x, Tensor n), "
                        "(Number x, Tensor n), (Tensor x, Number n)")
    x = as_tensor_arg(x, like=n if isinstance(n, Tensor) else None)
    n = as_tensor_arg(n, like=x)
    target = float_only(_dtype.result_type(x, n), name)
    xp = xp_of(x._data)
    a, b = xp.broadcast_arrays(x._data.astype(target.numpy, copy=False), n._data.astype(target.numpy, copy=False))
    return a, b


def _polynomial(name, evaluate, doc):
    def function(input, n, *, out=None):
        x, order = _operands(name, input, n)
        result = quiet(lambda: evaluate(x, _degree(xp_of(x), order)).astype(x.dtype, copy=False))()
        return write_out(out, _make(xp_of(x).asarray(result)), f"special_{name}")
    function.__name__ = function.__qualname__ = name
    function.__doc__ = doc
    return composite(f"special_{name}")(function)   # seen whole at dispatch: computed on the arrays


def _chebyshev_function(kind, shifted):
    name = f"{'shifted_' if shifted else ''}chebyshev_polynomial_{kind}"
    interval = "[0, 1]" if shifted else "[-1, 1]"
    doc = f"Chebyshev polynomial of the {['first', 'second', 'third', 'fourth']['tuvw'.index(kind)]} kind, " \
          f"{kind.upper()}_n{'*' if shifted else ''}(x), orthogonal on {interval}."
    return _polynomial(name, lambda x, n: _chebyshev(kind, shifted, x, n), doc)


chebyshev_polynomial_t = _chebyshev_function("t", False)
chebyshev_polynomial_u = _chebyshev_function("u", False)
chebyshev_polynomial_v = _chebyshev_function("v", False)
chebyshev_polynomial_w = _chebyshev_function("w", False)
shifted_chebyshev_polynomial_t = _chebyshev_function("t", True)
shifted_chebyshev_polynomial_u = _chebyshev_function("u", True)
shifted_chebyshev_polynomial_v = _chebyshev_function("v", True)
shifted_chebyshev_polynomial_w = _chebyshev_function("w", True)
hermite_polynomial_h = _polynomial("hermite_polynomial_h", _hermite_h, "Physicists' Hermite polynomial H_n(x).")
hermite_polynomial_he = _polynomial("hermite_polynomial_he", _hermite_he, "Probabilists' Hermite polynomial He_n(x).")
laguerre_polynomial_l = _polynomial("laguerre_polynomial_l", _laguerre_l, "Laguerre polynomial L_n(x).")
legendre_polynomial_p = _polynomial("legendre_polynomial_p", _legendre_p, "Legendre polynomial P_n(x).")
