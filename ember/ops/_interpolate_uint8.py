"""PyTorch's CPU bilinear, bicubic and lanczos resize of uint8 images: per axis (width first, then height), weights
computed in double, rounded to int16 at the largest precision that keeps the axis's largest weight under 2**15, and each
output the integer dot product plus half a unit, shifted down and clamped to [0, 255] (so results equal PyTorch's,
which differ from the float path's by one at places)."""
import math

import numpy

from .._tensor import _make


def _linear(x):
    x = abs(x)
    return 1.0 - x if x < 1.0 else 0.0


def _cubic(a):
    def filter(x):
        x = abs(x)
        if x < 1.0:
            return ((a + 2) * x - (a + 3)) * x * x + 1
        if x < 2.0:
            return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
        return 0.0
    return filter


def _lanczos(x):
    def sinc(v):
        return 1.0 if v == 0.0 else math.sin(v * math.pi) / (v * math.pi)
    x = abs(x)
    return sinc(x) * sinc(x / 3.0) if x < 3.0 else 0.0


def _antialiased_taps(in_size, out_size, scale, filter, interp_size):
    """(first source index, weights) per output index, the filter stretched by the scale when downsampling (as PIL),
    and the largest normalised weight."""
    support = interp_size * 0.5 * scale if scale >= 1.0 else interp_size * 0.5
    max_taps = int(math.ceil(support)) * 2 + 1
    inverse = 1.0 / scale if scale >= 1.0 else 1.0
    taps, largest = [], 0.0
    for i in range(out_size):
        center = scale * (i + 0.5)
        first = max(int(center - support + 0.5), 0)
        count = min(max(min(int(center + support + 0.5), in_size) - first, 0), max_taps)
        weights = [filter((j + first - center + 0.5) * inverse) for j in range(count)]
        total = sum(weights)
        if total != 0.0:
            weights = [w / total for w in weights]
            largest = max([largest] + weights)
        taps.append((first, weights + [0.0] * (max_taps - count)))
    return taps, largest


def _taps(in_size, out_size, scale, filter, interp_size, align_corners):
    """(first source index, weights) per output index without antialiasing, taps past the edges folded onto them,
    and the largest weight seen while folding (PyTorch's, which sets the precision)."""
    taps, largest = [], 0.0
    half = interp_size // 2
    for i in range(out_size):
        real = scale * i if align_corners else scale * (i + 0.5) - 0.5
        if not align_corners and interp_size == 2 and real < 0:
            real = 0.0
        index = min(math.floor(numpy.float32(real)), in_size - 1)   # floorf, as PyTorch's guard_index_and_lambda
        fraction = min(max(real - index, 0.0), 1.0)
        unbounded = index - half + 1
        first = max(unbounded, 0)
        count = min(max(min(index + half + 1, in_size) - first, 0), interp_size)
        weights, slot = [0.0] * interp_size, 0
        for j in range(interp_size):
            if unbounded + j <= 0:
                slot = 0
            elif unbounded + j >= in_size - 1:
                slot = count - 1
            weights[slot] += filter(float(j + 1 - half) - fraction)
            largest = max(largest, weights[slot])
            slot += 1
        taps.append((first, weights))
    return taps, largest


def _int16_taps(in_size, out_size, scale, mode, antialias, align_corners):
    """Starts (out_size,), int16-valued weights (out_size, taps) and their precision in bits, for one axis."""
    if align_corners:
        scale = (in_size - 1) / (out_size - 1) if out_size > 1 else 0.0
    else:
        scale = 1.0 / scale if scale is not None and scale > 0 else in_size / out_size
    filter, interp_size = {"bilinear": (_linear, 2), "bicubic": (_cubic(-0.5 if antialias else -0.75), 4),
                           "lanczos": (_lanczos, 6)}[mode]
    taps, largest = (_antialiased_taps(in_size, out_size, scale, filter, interp_size) if antialias
                     else _taps(in_size, out_size, scale, filter, interp_size, align_corners))
    precision = 0
    while precision < 22 and int(0.5 + largest * (1 << (precision + 1))) < (1 << 15):
        precision += 1
    unit = 1 << precision
    weights = [[int(w * unit - 0.5) if w * unit < 0 else int(w * unit + 0.5) for w in row] for _, row in taps]
    return numpy.array([first for first, _ in taps], numpy.int64), numpy.array(weights, numpy.int64), precision


def _resample_axis(array, axis, out_size, scale, mode, antialias, align_corners):
    in_size = array.shape[axis]
    first, weights, precision = _int16_taps(in_size, out_size, scale, mode, antialias, align_corners)
    source = numpy.moveaxis(array, axis, -1).astype(numpy.int64)
    total = numpy.full(source.shape[:-1] + (out_size,), 1 << (precision - 1), numpy.int64)
    for k in range(weights.shape[1]):
        total += source[..., numpy.minimum(first + k, in_size - 1)] * weights[:, k]
    return numpy.moveaxis(numpy.clip(total >> precision, 0, 255).astype(numpy.uint8), -1, axis)


def resize_uint8(input, output_size, scales, align_corners, mode, antialias):
    """The (N, C, H, W) uint8 CPU ``input`` resized to ``output_size`` as PyTorch's CPU kernels do."""
    if min(output_size) <= 0:
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input (H: {input.shape[2]}, "
                           f"W: {input.shape[3]}) output (H: {output_size[0]}, W: {output_size[1]})")
    array = input._data
    for axis, i in ((3, 1), (2, 0)):   # width first, then height; an axis of unchanged size is left alone
        if array.shape[axis] != output_size[i]:
            array = _resample_axis(array, axis, output_size[i], scales[i], mode, antialias, align_corners)
    return _make(array.copy() if array is input._data else array)
