"""Layer normalization as one primitive: the row statistics, the normalization and the affine map in few passes
over the data, with a backward in three. ``layer_norm`` (in ``normalization``) routes here."""
import numpy

from .. import _compat
from .._tensor import _make
from ..autograd.function import Primitive
from ..autograd.grad_mode import is_grad_enabled
from . import _buffers, _parallel
from ._util import quiet

__all__ = []


class NativeLayerNorm(Primitive):
    """y = (x - mean) / sqrt(var + eps) * weight + bias, the statistics over the trailing ``count`` dims of x;
    ``weight`` and ``bias`` (or None) have the shape of those dims."""

    @staticmethod
    @quiet
    def forward(ctx, x, weight, bias, count, eps):
        xp = ctx.xp
        width = 1
        for size in x.shape[x.ndim - count:]:
            width *= size
        rows = x.reshape(-1, width)
        output = _buffers.empty(xp, rows.shape, rows.dtype)   # pooled: no page faults
        mean, rstd = normalize_rows(xp, rows, output, weight, bias, eps)
        ctx.save_for_backward(x, weight)
        ctx.statistics = mean, rstd, count, eps
        return output.reshape(x.shape)

    @staticmethod
    def backward(ctx, grad):
        x, weight = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if is_grad_enabled():   # differentiating the gradient: the same formula in differentiable ops
            return _layer_norm_grad(grad, x, weight, *ctx.statistics[2:], needs)
        mean, rstd, count, _ = ctx.statistics
        grads = _arrays_grad(ctx.xp, grad._data, x._data, None if weight is None else weight._data, mean, rstd,
                             needs)
        normalized_shape = tuple(x.shape[x.ndim - count:])
        shapes = (x.shape, normalized_shape, normalized_shape)
        return tuple(None if g is None else _make(g.reshape(s)) for g, s in zip(grads, shapes)) + (None, None)


def normalize_rows(xp, rows, output, weight, bias, eps):
    """Writes the layer norm of each row of the 2-D ``rows`` into ``output`` (which may be ``rows`` itself), in parts
    of the rows at once on the intra-op threads when large; returns the rows' means and reciprocal deviations as
    columns."""
    width = rows.shape[1]
    statistics = []

    def normalize(start, stop):   # rows start:stop, each on its own: any cut gives the same bits
        part = rows[start:stop]
        mean = _row_means(xp, part)
        out = xp.subtract(part, mean, out=output[start:stop])
        rstd = _compat.einsum(xp, "ij,ij->i", out, out).reshape(-1, 1)
        rstd /= width
        rstd += eps
        xp.sqrt(rstd, out=rstd)
        xp.reciprocal(rstd, out=rstd)
        out *= rstd
        if weight is not None:
            out *= weight.reshape(-1)
        if bias is not None:
            out += bias.reshape(-1)
        statistics.append((start, mean, rstd))
    _parallel.parts(rows.shape[0], rows.size if xp is numpy else 0, normalize)   # in parts at once when large
    statistics.sort(key=lambda part: part[0])
    if len(statistics) == 1:
        return statistics[0][1:]
    return tuple(xp.concatenate([part[i] for part in statistics]) for i in (1, 2))


ROW_SUM_WIDTH = 4096
"""Rows up to this wide are summed by einsum (3x NumPy's pairwise sum along a row here; its float32 running sums
lose more digits on long rows, which keep the pairwise sum)."""


def _row_means(xp, rows):
    """The mean of each row of a 2-D array, as a column."""
    if rows.shape[1] > ROW_SUM_WIDTH:
        return rows.mean(1, keepdims=True)
    means = _compat.einsum(xp, "ij->i", rows).reshape(-1, 1)
    means /= rows.shape[1]
    return means


@quiet
def _arrays_grad(xp, grad, x, weight, mean, rstd, needs):
    """the gradients on arrays, each flat per row: (dx, dweight, dbias), None where not needed."""
    g = grad.reshape(mean.shape[0], -1)
    width = g.shape[1]
    normalized = xp.subtract(x.reshape(-1, width), mean, out=_buffers.empty(xp, g.shape, x.dtype))
    normalized *= rstd
    grad_w = _compat.einsum(xp, "ij,ij->j", g, normalized) if needs[1] else None
    grad_b = g.sum(0) if needs[2] else None
    if not needs[0]:
        return None, grad_w, grad_b
    scaled = _buffers.empty(xp, g.shape, g.dtype)
    if weight is not None:
        xp.multiply(g, weight.reshape(-1), out=scaled)
    else:
        xp.copyto(scaled, g)
    # dx = rstd * (scaled - mean(scaled) - normalized * mean(scaled * normalized)), per row
    projection = _compat.einsum(xp, "ij,ij->i", scaled, normalized).reshape(-1, 1)
    projection /= width
    normalized *= projection
    scaled -= _row_means(xp, scaled)
    scaled -= normalized
    scaled *= rstd
    return scaled, grad_w, grad_b


def _layer_norm_grad(grad, x, weight, count, eps, needs):
    """the gradients written in differentiable ops (for double backward)."""
    dims = tuple(range(x.ndim - count, x.ndim))
    leading = tuple(range(x.ndim - count))
    centered = x - x.mean(dims, keepdim=True)
    rstd = ((centered * centered).mean(dims, keepdim=True) + eps).rsqrt()
    normalized = centered * rstd
    scaled = grad if weight is None else grad * weight
    grad_x = rstd * (scaled - scaled.mean(dims, keepdim=True) -
                     normalized * (scaled * normalized).mean(dims, keepdim=True)) if needs[0] else None
    grad_w = (grad * normalized).sum(leading) if needs[1] else None
    grad_b = grad.sum(leading) if needs[2] else None
    return grad_x, grad_w, grad_b, None, None
