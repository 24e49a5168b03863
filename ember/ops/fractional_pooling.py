"""Fractional max pooling (Graham, 2014): max over windows whose starts follow a pseudo-random sequence per plane,
so the output shrinks by a fraction rather than an integer stride. The sequences are PyTorch's, computed in the
input's precision from one uniform sample per plane and spatial dim, so a seeded run picks PyTorch's windows."""
import numpy

from .._tensor import _make
from ..autograd.function import composite
from .pooling import GatherFlat
from .random import rand

__all__ = ["fractional_max_pool2d", "fractional_max_pool3d"]

_DIM_NAMES = {2: ("height", "width"), 3: ("time", "height", "width")}


def _pair_or_triple(value, n, name, what):
    if isinstance(value, (int, float)):
        return (value,) * n
    value = tuple(value)
    if len(value) == 1:
        return value * n
    if len(value) != n:
        raise RuntimeError(f"fractional_max_pool{n}d: {name} must either be a single {what} or tuple of {what}s")
    return value


def _starts(samples, size, out, kernel, dtype):
    """PyTorch's ``generate_intervals``: (planes, out) window starts from one uniform sample per plane."""
    starts = numpy.empty(samples.shape + (out,), numpy.int64)
    if out > 1:
        alpha = dtype.type(size - kernel) / dtype.type(out - 1)
        steps = numpy.arange(out - 1, dtype=dtype)
        starts[:, :-1] = ((steps + samples[:, None]) * alpha).astype(numpy.int64) - \
            (samples * alpha).astype(numpy.int64)[:, None]
    if out > 0:
        starts[:, -1] = size - kernel
    return starts


def _window_argmax_positions(data, kernel, out, samples):
    """Flat spatial position of each window's maximum (the first, as PyTorch's strict comparison keeps): (N, C,
    *out)."""
    n = len(kernel)
    batch, channels, spatial = data.shape[0], data.shape[1], data.shape[2:]
    planes = data.reshape(batch * channels, -1)
    dtype = planes.dtype if planes.dtype in (numpy.float32, numpy.float64) else numpy.dtype(numpy.float32)
    # PyTorch's sample order per plane: 2-d (width, height), 3-d (time, height, width)
    order = (1, 0) if n == 2 else (0, 1, 2)
    flat = numpy.zeros((batch * channels,) + (1,) * (2 * n), numpy.int64)
    stride = 1
    for d in reversed(range(n)):
        starts = _starts(samples[..., order[d]].reshape(-1).astype(dtype), spatial[d], out[d], kernel[d], dtype)
        positions = starts[:, :, None] + numpy.arange(kernel[d])          # (planes, out_d, k_d)
        shape = [batch * channels] + [1] * (2 * n)
        shape[1 + d], shape[1 + n + d] = out[d], kernel[d]
        flat = flat + positions.reshape(shape) * stride
        stride *= spatial[d]
    flat = numpy.broadcast_to(flat, (batch * channels,) + tuple(out) + tuple(kernel)).reshape(
        batch * channels, -1, int(numpy.prod(kernel)))
    values = numpy.take_along_axis(planes, flat.reshape(batch * channels, -1), axis=1).reshape(flat.shape)
    best = values.argmax(axis=-1)
    return numpy.take_along_axis(flat, best[..., None], axis=-1).reshape((batch, channels) + tuple(out))


def _fractional_max_pool(n, input, kernel_size, output_size, output_ratio, return_indices, _random_samples):
    name = f"fractional_max_pool{n}d"
    if output_size is None and output_ratio is None:
        raise ValueError(f"{name} requires specifying either an output_size or an output_ratio")
    kernel = tuple(int(k) for k in _pair_or_triple(kernel_size, n, "kernel_size", "Int"))
    spatial = tuple(input.size(d) for d in range(-n, 0))
    if output_size is None:
        ratio = _pair_or_triple(output_ratio, n, "output_ratio", "Int")
        output_size = [int(size * r) for size, r in zip(spatial, ratio)]
    out = tuple(int(o) for o in _pair_or_triple(output_size, n, "output_size", "Int"))
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{name}(): Expected {n + 1}D or {n + 2}D tensor, but got: {list(input.shape)}")
    unbatched = input.ndim == n + 1
    if _random_samples is None:
        _random_samples = rand(1 if unbatched else input.size(0), input.size(-n - 1), n, dtype=input.dtype,
                               device=input.device)
    if _random_samples.dtype != input.dtype:
        raise RuntimeError("Expect _random_samples to have the same dtype as input")
    if unbatched:
        input = input.unsqueeze(0)
    if _random_samples.size(0) < input.size(0):
        raise RuntimeError("Expect _random_samples.size(0) no less then input batch size.")
    if _random_samples.size(1) != input.size(1):
        raise RuntimeError("Expect _random_samples.size(1) equals to input channel size.")
    if _random_samples.size(2) != n:
        raise RuntimeError(f"Expect _random_samples.size(2) equals to {n}; got {_random_samples.size(2)}.")
    # PyTorch's 3-d kernel refuses the window that would end exactly at the edge; its 2-d kernel allows it
    where, slack = (f"{name}()", 0) if n == 2 else (f"{name}_out()", 1)
    for dim_name, size, o, k in zip(_DIM_NAMES[n], spatial, out, kernel):
        if o + k - 1 + slack > size:
            raise RuntimeError(f"{where}: pool {dim_name} {k} too large relative to input {dim_name} {size}")
    data = numpy.asarray(input.detach().cpu()._data)
    samples = numpy.asarray(_random_samples.detach().cpu()._data)[:input.size(0)]
    index = _make(_window_argmax_positions(data, kernel, out, samples)).to(input.device)
    values = GatherFlat.apply(input, index) if index.numel() else input.new_zeros(tuple(index.shape))
    if unbatched:
        values, index = values.squeeze(0), index.squeeze(0)
    return (values, index) if return_indices else values


@composite("fractional_max_pool2d")
def fractional_max_pool2d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """Max over ``kernel_size`` windows placed pseudo-randomly to give ``output_size`` (or ``output_ratio`` of the
    input's size); with ``return_indices`` also each maximum's flat position in its plane."""
    return _fractional_max_pool(2, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)


@composite("fractional_max_pool3d")
def fractional_max_pool3d(input, kernel_size, output_size=None, output_ratio=None, return_indices=False,
                          _random_samples=None):
    """The 3-d form of ``fractional_max_pool2d``."""
    return _fractional_max_pool(3, input, kernel_size, output_size, output_ratio, return_indices, _random_samples)
