"""Window functions: ``hann_window`` and its kin (PyTorch's ``periodic`` flag) and ``ember.signal.windows`` (SciPy's
names with a ``sym`` flag). Values are computed in float64 with NumPy and stored in the requested dtype."""
import math

import numpy

from .. import _dtype

__all__ = ["hann_window", "hamming_window", "blackman_window", "bartlett_window", "kaiser_window"]


def general_cosine_values(m, a):
    """sum_k (-1)^k a_k cos(2 pi k n / (m - 1)) for n in 0..m-1, the symmetric window of m points."""
    phase = numpy.linspace(-math.pi, math.pi, m)
    return sum(coefficient * numpy.cos(k * phase) for k, coefficient in enumerate(a))


def bartlett_values(m):
    return 1 - numpy.abs(2 * numpy.arange(m) / (m - 1) - 1)


def kaiser_values(m, beta):
    ratio = 2 * numpy.arange(m) / (m - 1) - 1
    return numpy.i0(beta * numpy.sqrt(numpy.clip(1 - ratio ** 2, 0, None))) / numpy.i0(beta)


def make_window(name, values, m, sym, dtype, device, requires_grad, length_error=RuntimeError):
    """The tensor of a window of m points from ``values(points)`` (a symmetric window of that many points);
    a periodic (``sym=False``) window is the symmetric one of m + 1 points without its last."""
    from .creation import tensor
    dtype = dtype or _dtype.get_default_dtype()
    if not dtype.is_floating_point:
        raise RuntimeError(f"{name} expects floating point dtypes, got: {dtype}")
    if m < 0:
        if length_error is ValueError:
            raise ValueError(f"{name} requires non-negative window length, got M={m}")
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={m}")
    if m <= 1:
        array = numpy.ones(m)
    else:
        array = values(m if sym else m + 1)[:m]
    return tensor(array, dtype=dtype, device=device, requires_grad=requires_grad)


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Hann window 0.5 - 0.5 cos(2 pi n / N); periodic (N = window_length) by default, for spectral analysis."""
    return make_window("hann_window", lambda m: general_cosine_values(m, (0.5, 0.5)), window_length,
                       not periodic, dtype, device, requires_grad)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   requires_grad=False):
    """The Hamming window alpha - beta cos(2 pi n / N)."""
    return make_window("hamming_window", lambda m: general_cosine_values(m, (alpha, beta)), window_length,
                       not periodic, dtype, device, requires_grad)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The Blackman window 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)."""
    return make_window("blackman_window", lambda m: general_cosine_values(m, (0.42, 0.5, 0.08)), window_length,
                       not periodic, dtype, device, requires_grad)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, requires_grad=False):
    """The triangular Bartlett window 1 - |2n / N - 1|."""
    return make_window("bartlett_window", bartlett_values, window_length, not periodic, dtype, device,
                       requires_grad)


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  requires_grad=False):
    """The Kaiser window I0(beta sqrt(1 - (2n / N - 1)^2)) / I0(beta)."""
    return make_window("kaiser_window", lambda m: kaiser_values(m, beta), window_length, not periodic, dtype,
                       device, requires_grad)
