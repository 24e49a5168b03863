"""Bilinear ``grid_sample`` of 4-D NumPy inputs with zeros or border padding as one primitive (PyTorch's
``GridSampler2D``): each corner's values taken from every (sample, channel) map at once by flat positions, and in
backward the input's gradient added back there (one flat ``add.at`` a corner) and the grid's from the same corners,
as PyTorch's CPU kernel computes them. The composed path in ``sampling`` (reflection padding, nearest, bicubic, 5-D,
tracing, double backward) stays the definition."""
import numpy

from .._tensor import _make
from ..autograd import grad_mode
from ..autograd.function import Primitive
from . import _buffers, _parallel
from ._util import quiet

__all__ = []

CORNERS = ((0, 0), (1, 0), (0, 1), (1, 1))
"""The (x, y) offsets of the north-west, north-east, south-west and south-east corners, PyTorch's order."""


def applies(input, grid, mode, padding_mode):
    """Whether ``grid_sample`` takes this primitive."""
    return (mode == "bilinear" and padding_mode in ("zeros", "border") and input.ndim == 4 and
            type(input._data) is numpy.ndarray and input._data.dtype.char in "fd" and input.numel() > 0 and
            grid.numel() > 0)


def _source(coordinate, size, align_corners, border):
    """Pixel positions of normalized coordinates, clipped to the map for border padding, and d position / d coordinate
    (0 where clipped, as PyTorch's ``clip_coordinates_set_grad``)."""
    scale = (size - 1) / 2 if align_corners else size / 2
    position = (coordinate + 1) / 2 * (size - 1) if align_corners else ((coordinate + 1) * size - 1) / 2
    slope = numpy.full_like(position, scale)
    if border:
        slope *= (position > 0) & (position < size - 1)
        position = numpy.clip(position, 0, size - 1)
    return position, slope


class GridSampler2D(Primitive):
    @staticmethod
    @quiet
    def forward(ctx, input, grid, padding_mode, align_corners, composed):
        N, C, H, W = input.shape
        points = grid.shape[1:3]
        x, x_slope = _source(grid[..., 0].reshape(N, -1), W, align_corners, padding_mode == "border")
        y, y_slope = _source(grid[..., 1].reshape(N, -1), H, align_corners, padding_mode == "border")
        x0, y0 = numpy.floor(x), numpy.floor(y)
        flat = numpy.ascontiguousarray(input).reshape(-1)
        planes = (numpy.arange(N * C) * (H * W)).reshape(N, C, 1)   # where each (sample, channel) map starts
        shape = (N, C, x.shape[1])
        output = _buffers.empty(numpy, shape, input.dtype)   # pooled, as every large array here: no page faults
        output[...] = ((x - x) + (y - y))[:, None, :]   # NaN where a coordinate is NaN or infinite, as PyTorch's
        positions = _buffers.empty(numpy, shape, numpy.int64)
        corners = []
        for dx, dy in CORNERS:
            cx, cy = x0 + dx, y0 + dy
            inside = (cx >= 0) & (cx <= W - 1) & (cy >= 0) & (cy <= H - 1)
            weight = ((x - x0) if dx else (x0 + 1 - x)) * ((y - y0) if dy else (y0 + 1 - y))
            weight = _parallel.where(numpy, inside, weight, weight.dtype.type(0))   # an outside corner adds 0
            index = numpy.clip(numpy.nan_to_num(cy), 0, H - 1).astype(numpy.int64) * W + \
                numpy.clip(numpy.nan_to_num(cx), 0, W - 1).astype(numpy.int64)
            numpy.add(planes, index[:, None, :], out=positions)
            values = flat.take(positions, out=_buffers.empty(numpy, shape, input.dtype))
            values *= inside[:, None, :]   # for the grid's gradient: an outside corner's value is 0
            output += values * weight[:, None, :]
            corners.append((index, weight, values))
        ctx.save_for_backward(input, grid)
        ctx.sampled = x, y, x0, y0, x_slope, y_slope, corners
        ctx.composed = composed
        return output.reshape((N, C) + points)

    @staticmethod
    def backward(ctx, grad):
        input, grid = ctx.saved_tensors
        needs = ctx.needs_input_grad[:2]
        if grad_mode.is_grad_enabled():   # the gradient's own graph: the composed path's vector-Jacobian product
            from ..autograd import grad as autograd_grad
            wanted = [t for t, need in zip((input, grid), needs) if need]
            grads = iter(autograd_grad(ctx.composed(input, grid), wanted, grad, create_graph=True))
            return tuple(next(grads) if need else None for need in needs) + (None, None, None)
        grads = GridSampler2D.array_backward(ctx, grad._data)
        return tuple(None if g is None else _make(g) for g in grads)

    @staticmethod
    @quiet
    def array_backward(ctx, grad):
        input, grid = ctx.saved_arrays
        x, y, x0, y0, x_slope, y_slope, corners = ctx.sampled
        N, C, H, W = input.shape
        g = grad.reshape(N, C, -1)
        grad_input = grad_grid = None
        if ctx.needs_input_grad[0]:
            flat = numpy.zeros(input.size, input.dtype)
            planes = (numpy.arange(N * C) * (H * W)).reshape(N, C, 1)
            for index, weight, _ in corners:
                numpy.add.at(flat, (planes + index[:, None, :]).reshape(-1), (g * weight[:, None, :]).reshape(-1))
            grad_input = flat.reshape(input.shape)
        if ctx.needs_input_grad[1]:
            nw, ne, sw, se = (numpy.einsum("ncp,ncp->np", g, values) for _, _, values in corners)
            gx = (ne - nw) * (y0 + 1 - y) + (se - sw) * (y - y0)
            gy = (sw - nw) * (x0 + 1 - x) + (se - ne) * (x - x0)
            grad_grid = numpy.stack([gx * x_slope, gy * y_slope], -1).reshape(grid.shape).astype(grid.dtype)
        return grad_input, grad_grid, None, None, None


GridSampler2D._node_cls.__name__ = GridSampler2D._node_cls.__qualname__ = "GridSampler2DBackward0"
