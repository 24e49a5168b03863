"""``grid_sample`` of 4-D and 5-D NumPy inputs, bilinear (trilinear) or nearest with any padding, as one primitive
(PyTorch's ``GridSampler2D`` / ``GridSampler3D``).

Each point's corners are worked out once (PyTorch's formulas: its vectorised kernel's unnormalisation, clipping and
reflection, and the gradients of each), every corner of every (sample, channel) map is gathered by one ``take`` a
sample, and the corners are summed by one ``einsum``. In backward the input's gradient is added back by one flat
``add.at`` and the grid's comes from the same gathered values. A corner outside the map is read at the nearest
position inside and weighted by 0, so a non-finite input value there gives NaN where PyTorch skips the corner. The
composed path in ``sampling`` (bicubic, tracing, double backward) stays the definition."""
import itertools

import numpy

from .._tensor import _make
from ..autograd import grad_mode
from ..autograd.function import Primitive
from . import _buffers
from ._util import quiet

__all__ = []


def applies(input, grid, mode, padding_mode):
    """Whether ``grid_sample`` takes this primitive."""
    return (mode in ("bilinear", "nearest") and input.ndim in (4, 5) and type(input._data) is numpy.ndarray and
            input._data.dtype.char in "fd" and input.numel() > 0 and grid.numel() > 0)


def _source(coordinate, size, align_corners, padding_mode, volume):
    """Pixel positions of normalized coordinates along one axis, padded, and d position / d coordinate (PyTorch's
    ``*_set_grad`` helpers: 0 where clipping holds a position on the map's edge). Clipping takes a NaN position to 0
    as PyTorch's vectorised 2-D kernel does, or for a ``volume`` to the far edge, as its scalar 3-D kernel's
    ``std::min(size - 1, std::max(NaN, 0))``."""
    scale = (size - 1) / 2 if align_corners else size / 2
    position = (coordinate + 1) * scale if align_corners else (coordinate + 1) * scale - 0.5
    slope = numpy.full_like(position, scale)
    if padding_mode == "reflection":
        position, sign = _reflect(position, *((0, 2 * (size - 1)) if align_corners else (-1, 2 * size - 1)))
        slope *= sign
    if padding_mode != "zeros":
        slope *= (position > 0) & (position < size - 1)
        if volume:
            position = numpy.fmin(numpy.maximum(position, 0), size - 1)
        else:
            position = numpy.minimum(numpy.fmax(position, 0), size - 1)
    return position, slope


def _reflect(position, twice_low, twice_high):
    """Positions folded into [low, high] at both ends (``reflect_coordinates``), and the sign of d folded / d
    position."""
    if twice_low == twice_high:
        return numpy.zeros_like(position), numpy.zeros_like(position)
    low, span = twice_low / 2, (twice_high - twice_low) / 2
    shifted = position - low
    sign = numpy.where(shifted < 0, -1, 1).astype(position.dtype)
    distance = numpy.abs(shifted)
    extra = numpy.fmod(distance, span)
    odd = numpy.floor(distance / span) % 2 == 1
    return numpy.where(odd, span - extra + low, extra + low), numpy.where(odd, -sign, sign)


def _corners(positions, sizes, mode):
    """(floors, offsets, weights, indices, inside) of each point's corners: offsets lists each corner's 0/1 step per
    axis in PyTorch's order (the last axis fastest), weights are (N, K, P) and 0 outside the map (where a position is
    NaN: NaN in 2-D, as PyTorch's vectorised kernel; 0 in 3-D, whose scalar kernel skips the corners), indices the
    corners' flat positions in a map, clipped into it."""
    floors = [numpy.round(p) if mode == "nearest" else numpy.floor(p) for p in positions]
    steps = (0,) if mode == "nearest" else (0, 1)
    offsets = list(itertools.product(steps, repeat=len(sizes)))
    axes = [_axis_corners(p, f, size, int(numpy.prod(sizes[a + 1:])), steps, mode)
            for a, (p, f, size) in enumerate(zip(positions, floors, sizes))]
    shape = (positions[0].shape[0], len(offsets), positions[0].shape[1])
    weights, indices, inside = numpy.empty(shape, positions[0].dtype), numpy.empty(shape, numpy.int64), \
        numpy.empty(shape, bool)
    for k, offset in enumerate(offsets):
        parts = [axis[step] for axis, step in zip(axes, offset)][::-1]   # x first, as PyTorch multiplies weights
        factor, index, within = parts[0]
        for other_factor, other_index, other_within in parts[1:]:
            factor, index, within = factor * other_factor, index + other_index, within & other_within
        numpy.multiply(factor, within, out=weights[:, k])
        if len(sizes) == 3:
            numpy.copyto(weights[:, k], 0, where=~within)
        indices[:, k], inside[:, k] = index, within
    return floors, offsets, weights, indices, inside


def _axis_corners(position, floor, size, stride, steps, mode):
    """Per step (0: the floor, 1: the next) along one axis: the weight factor (1 for nearest), the offset of the
    clipped position in a map, and whether it lies on the map."""
    corners = []
    for step in steps:
        corner = floor + step if step else floor
        within = (corner >= 0) & (corner <= size - 1)
        offset = numpy.fmin(numpy.fmax(corner, 0), size - 1).astype(numpy.int64)   # NaN to 0
        if stride != 1:
            offset *= stride
        if mode == "nearest":
            factor = numpy.ones((), position.dtype)
        else:
            factor = position - floor if step else (floor + 1) - position
        corners.append((factor, offset, within))
    return corners


class GridSampler2D(Primitive):
    """grid_sample of a 4-D input (``GridSampler3D``: 5-D) with mode ``"bilinear"`` or ``"nearest"``; ``composed``
    is the composed path, differentiated when the gradient's own graph is wanted."""

    @staticmethod
    @quiet
    def forward(ctx, input, grid, mode, padding_mode, align_corners, composed):
        N, C, *sizes = input.shape
        d = len(sizes)
        points = grid.reshape(N, -1, d)
        sources = [_source(points[..., d - 1 - a], sizes[a], align_corners, padding_mode, d == 3) for a in range(d)]
        positions = [position for position, _ in sources]
        floors, offsets, weights, indices, inside = _corners(positions, sizes, mode)
        K, P = weights.shape[1:]
        source = numpy.ascontiguousarray(input).reshape(N, C, -1)
        values = _buffers.empty(numpy, (N, C, K, P), input.dtype)   # pooled, as the output: no page faults
        for n in range(N):   # each sample's corners of every channel by one take
            source[n].take(indices[n].reshape(-1), axis=1, out=values[n].reshape(C, K * P), mode="clip")
        output = numpy.einsum("nckp,nkp->ncp", values, weights, out=_buffers.empty(numpy, (N, C, P), input.dtype))
        ctx.save_for_backward(input, grid)
        ctx.sampled = mode, positions, [slope for _, slope in sources], floors, offsets, weights, indices, inside, \
            values
        ctx.composed = composed
        return output.reshape((N, C) + grid.shape[1:-1])

    @staticmethod
    def backward(ctx, grad):
        input, grid = ctx.saved_tensors
        needs = ctx.needs_input_grad[:2]
        if grad_mode.is_grad_enabled():   # the gradient's own graph: the composed path's vector-Jacobian product
            from ..autograd import grad as autograd_grad
            wanted = [t for t, need in zip((input, grid), needs) if need]
            grads = iter(autograd_grad(ctx.composed(input, grid), wanted, grad, create_graph=True))
            return tuple(next(grads) if need else None for need in needs) + (None,) * 4
        grads = GridSampler2D.array_backward(ctx, grad._data)
        return tuple(None if g is None else _make(g) for g in grads)

    @staticmethod
    @quiet
    def array_backward(ctx, grad):
        input, grid = ctx.saved_arrays
        mode, positions, slopes, floors, offsets, weights, indices, inside, values = ctx.sampled
        N, C = input.shape[:2]
        g = grad.reshape(N, C, -1)
        grad_input = grad_grid = None
        if ctx.needs_input_grad[0]:
            grad_input = _scatter(g, weights, indices, input)
        if ctx.needs_input_grad[1]:
            grad_grid = numpy.zeros(grid.shape, grid.dtype)
            if mode == "bilinear":
                dots = numpy.einsum("ncp,nckp->nkp", g, values) * inside   # each corner's sum over channels
                d = len(positions)
                for a in range(d):
                    grad_grid[..., d - 1 - a] = (_weight_slope(dots, a, positions, floors, offsets) *
                                                 slopes[a]).reshape(grid.shape[:-1])
        return grad_input, grad_grid, None, None, None, None


def _scatter(g, weights, indices, input):
    """The input's gradient: each corner's share of ``g`` added at its flat position, by one ``add.at`` a sample
    (its (channel, corner, point) positions and shares in reused cache-sized buffers)."""
    N, C = input.shape[:2]
    size = input.size // (N * C)
    grad = numpy.zeros((N, C * size), input.dtype)
    planes = (numpy.arange(C) * size).reshape(C, 1, 1)   # where each channel's map starts
    positions = numpy.empty((C,) + indices.shape[1:], numpy.int64)
    shares = numpy.empty((C,) + indices.shape[1:], input.dtype)
    for n in range(N):
        numpy.add(planes, indices[n], out=positions)
        numpy.multiply(g[n][:, None], weights[n], out=shares)
        numpy.add.at(grad[n], positions.reshape(-1), shares.reshape(-1))
    return grad.reshape(input.shape)


def _weight_slope(dots, axis, positions, floors, offsets):
    """d output / d position along ``axis``, summed over channels: each corner's dot times its weight with that
    axis's factor replaced by its derivative (-1 at the lower corner, +1 at the upper)."""
    total = 0
    for k, offset in enumerate(offsets):
        term = dots[:, k] if offset[axis] else -dots[:, k]
        for b in range(len(positions)):
            if b != axis:
                term = term * (positions[b] - floors[b] if offset[b] else (floors[b] + 1) - positions[b])
        total = total + term
    return total


class GridSampler3D(GridSampler2D):
    """The 5-D form: PyTorch names its node apart."""
