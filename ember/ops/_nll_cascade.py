"""nll_loss's 'sum' and 'mean' in PyTorch's order (LossNLL.cpp, nll_loss_out_frame): the rows' losses added in a
cascade of eight levels, 16 (2**max(4, ceil(log2 n) / 8)) a group, the first row carried alone to the top level."""
import math

import numpy

from ..autograd.function import Primitive
from ._util import quiet

_LEVELS = 8


def _serial(values, start):
    """``start`` plus each of ``values`` in turn (``values`` 2-D: one sum per row; ``start`` 0-d or per row)."""
    total = start + values[:, 0]
    for k in range(1, values.shape[1]):
        total = total + values[:, k]
    return total


def nll_sum(losses):
    """The sum of the 1-D NumPy array ``losses`` (float32 or float64) in nll_loss_out_frame's order, as a 0-d
    array."""
    count = losses.shape[0]
    zero = losses.dtype.type(0)
    if count == 0:
        return numpy.asarray(zero)
    step = 1 << max(4, math.ceil(math.log2(count)) // _LEVELS if count > 1 else 0)
    parts = []
    items = losses[1:]
    for _ in range(_LEVELS - 1):   # each level's complete groups go up; what is left of it stays its partial sum
        full = items.shape[0] // step * step
        left = items[full:]
        parts.append(_serial(left[None], zero)[0] if left.shape[0] else zero)
        items = _serial(items[:full].reshape(-1, step), zero) if full else items[:0]
    top = losses[0] + zero   # the first row went up through every level at once
    parts.append(_serial(items[None], top)[0] if items.shape[0] else top)
    total = zero
    for part in parts:
        total = total + part
    return numpy.asarray(total, losses.dtype)


def applies(losses):
    """Whether ``losses`` (an array of the rows' losses or weights) is summed by ``nll_sum``."""
    return type(losses) is numpy.ndarray and losses.ndim == 1 and losses.dtype.kind == "f" and losses.itemsize >= 4


class NllSum(Primitive):
    """The sum of a 1-D float32 or float64 tensor of nll_loss's rows in nll_loss_out_frame's order."""

    @staticmethod
    @quiet   # an overflowing sum is inf, silently
    def forward(ctx, a):
        ctx.shape = a.shape
        return nll_sum(a)

    @staticmethod
    def backward(ctx, grad):
        return grad.expand(ctx.shape)
