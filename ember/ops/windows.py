"""Window functions: ``hann_window`` and its kin (PyTorch's ``periodic`` flag), each composed of tensor ops in the
requested dtype as PyTorch's kernel composes them (an arange scaled, then cos / abs, every constant rounded to the
dtype), so 16-bit windows are PyTorch's bit for bit; the Kaiser window is computed in float32 (float64 for float64)
and rounded once, as PyTorch's kernel."""
import math

import numpy

from .. import _dtype
from ._kernel_dtypes import cpp_type_name
from ._util import argument_error, int_arg

__all__ = ["bartlett_window", "blackman_window", "hamming_window", "hann_window", "kaiser_window"]


def _window(name, window_length, periodic, dtype, device, requires_grad, values, layout=None, pin_memory=False):
    """PyTorch's window_function_checks, its 0- and 1-point windows, and ``values(arange)`` of window_length points
    (one more, the last dropped, for a periodic window)."""
    from .creation import empty, ones
    from .ranges import arange
    window_length = int_arg(window_length)
    if not isinstance(periodic, (bool, numpy.bool_)):
        argument_error()
        raise TypeError(f"{name}(): argument 'periodic' must be bool, not {type(periodic).__name__}")
    given, dtype = dtype, dtype or _dtype.get_default_dtype()
    if layout is not None and layout.name.startswith("sparse"):
        raise RuntimeError(f"{name} is not implemented for sparse types, got: "
                           f"{_options(dtype, given, layout, device, pin_memory)}")
    if not (dtype.is_floating_point or dtype.is_complex):
        raise RuntimeError(f"{name} expects floating point dtypes, got: "
                           f"{_options(dtype, given, layout, device, pin_memory)}")
    if window_length < 0:
        raise RuntimeError(f"{name} requires non-negative window_length, got window_length={window_length}")
    if dtype.is_complex:   # PyTorch's checks let complex through to its arange, which has no complex kernel
        raise NotImplementedError(f"\"arange_cpu\" not implemented for '{_dtype.scalar_type_name(dtype)}'")
    if window_length <= 1:
        window = (empty if window_length == 0 else ones)(window_length, dtype=dtype, device=device)
    else:
        points = window_length + 1 if periodic else window_length
        window = values(arange(points, dtype=dtype, device=device), points)[:window_length]
    return window.requires_grad_(requires_grad) if requires_grad else window


def _options(dtype, given, layout, device, pin_memory):
    """The factory's options as PyTorch's C++ TensorOptions prints them in its window errors."""
    from .._backend import device as as_device
    layout_name = "Strided (default)" if layout is None else {"strided": "Strided", "sparse_coo": "Sparse",
                                                              "sparse_csr": "SparseCsr"}.get(layout.name, layout.name)
    return (f"TensorOptions(dtype={cpp_type_name(dtype)}{'' if given else ' (default)'}, "
            f"device={as_device(device or 'cpu')}, layout={layout_name}, requires_grad=false (default), "
            f"pinned_memory={'true' if pin_memory else 'false'}, memory_format=(nullopt))")


def hann_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                requires_grad=False):
    """The Hann window 0.5 - 0.5 cos(2 pi n / N); periodic (N = window_length) by default, for spectral analysis."""
    return _window("hann_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, points: _cosine_sum(n, points, 0.5, 0.5), layout, pin_memory)


def hamming_window(window_length, periodic=True, alpha=0.54, beta=0.46, *, dtype=None, layout=None, device=None,
                   pin_memory=False, requires_grad=False):
    """The Hamming window alpha - beta cos(2 pi n / N)."""
    return _window("hamming_window", window_length, periodic, dtype, device, requires_grad,
                   lambda n, points: _cosine_sum(n, points, alpha, beta), layout, pin_memory)


def _cosine_sum(n, points, alpha, beta):
    return (n * _like(n, math.pi * 2.0 / (points - 1))).cos() * _like(n, -beta) + _like(n, alpha)


def _like(tensor, value):
    """``value`` as a 0-d tensor of ``tensor``'s dtype: PyTorch's window kernels round their constants to it."""
    from .creation import full
    return full((), value, dtype=tensor.dtype, device=tensor.device)


def blackman_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """The Blackman window 0.42 - 0.5 cos(2 pi n / N) + 0.08 cos(4 pi n / N)."""
    def values(n, points):
        phase = n * _like(n, math.pi / (points - 1))
        return (phase * 4).cos() * _like(n, 0.08) - (phase * 2).cos() * _like(n, 0.5) + _like(n, 0.42)
    return _window("blackman_window", window_length, periodic, dtype, device, requires_grad, values, layout, pin_memory)


def bartlett_window(window_length, periodic=True, *, dtype=None, layout=None, device=None, pin_memory=False,
                    requires_grad=False):
    """The triangular Bartlett window 1 - |2n / N - 1|."""
    def values(n, points):
        return _falling(n * _like(n, 2.0 / (points - 1)), ((points - 1) >> 1) + 1)
    return _window("bartlett_window", window_length, periodic, dtype, device, requires_grad, values, layout, pin_memory)


def _falling(ramp, rising):
    """The ramp 0..2 folded at its middle point into 0..1..0 (PyTorch's bartlett kernel: 2 - x past the middle)."""
    from .rearrange import cat
    return cat([ramp[:rising], ramp[rising:] * -1 + 2])


def kaiser_window(window_length, periodic=True, beta=12.0, *, dtype=None, layout=None, device=None,
                  pin_memory=False, requires_grad=False):
    """The Kaiser window I0(beta sqrt(1 - (2n / N - 1)^2)) / I0(beta), in float32 (float64 for a float64 window)
    and rounded once, as PyTorch's kernel computes it."""
    from .creation import tensor
    dtype = dtype or _dtype.get_default_dtype()   # (before the checks: its errors print the dtype as given)

    def values(n, points):
        wide = _dtype.float64 if n.dtype is _dtype.float64 else _dtype.float32
        middle = (points - 1) / 2.0
        beta_ = tensor(beta, dtype=wide, device=n.device)
        ratio = (n.to(wide) - middle) / middle
        return ((beta_ * (1 - ratio.pow(2)).abs().sqrt()).i0() / beta_.i0()).to(n.dtype)
    return _window("kaiser_window", window_length, periodic, dtype, device, requires_grad, values, layout, pin_memory)
