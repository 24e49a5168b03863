"""Padding (``nn.functional.pad``): constant, reflect, replicate and circular modes."""
from .. import _compat
from ..autograd.function import Primitive, composite
from ._util import int_arg, name_node, suggested_layout_result
from .padding_checks import check_padding

__all__ = []


class Pad(Primitive):
    graph_inputs = (0,)   # the input (value is the fill number)

    @staticmethod
    def forward(ctx, a, widths, mode, value):
        ctx.widths = widths
        ctx.mode = mode
        ctx.shape = a.shape
        xp = ctx.xp
        if not any(left or right for left, right in widths):
            return xp.array(a, copy=True)
        negative = any(left < 0 or right < 0 for left, right in widths)
        if negative and mode != "constant":   # PyTorch's sources of a cropped dim: those of its backward
            for axis, (left, right) in enumerate(widths):
                if left or right:
                    a = xp.take(a, _source_index(xp, a.shape[axis], left, right, mode), axis=axis)
            return a
        if negative:
            a = a[tuple(slice(max(-left, 0), s - max(-right, 0)) for (left, right), s in zip(widths, a.shape))]
            widths = tuple((max(left, 0), max(right, 0)) for left, right in widths)
        if mode == "constant":
            return xp.pad(a, widths, mode="constant", constant_values=value)
        return xp.pad(a, widths, mode={"reflect": "reflect", "replicate": "edge", "circular": "wrap"}[mode])

    @staticmethod
    def backward(ctx, grad):
        return PadBackward.apply(grad, ctx.widths, ctx.mode, ctx.shape)


class PadBackward(Primitive):
    """Adjoint of Pad: sums each padded position back onto the input element it copied."""

    @staticmethod
    def forward(ctx, g, widths, mode, shape):
        ctx.widths, ctx.mode = widths, mode
        xp = ctx.xp
        if mode == "constant":
            clipped = tuple((max(left, 0), max(right, 0)) for left, right in widths)
            inner = tuple(slice(left, g.shape[i] - right) for i, (left, right) in enumerate(clipped))
            core = g[inner]
            if any(left < 0 or right < 0 for left, right in widths):
                return xp.pad(core, tuple((max(-left, 0), max(-right, 0)) for left, right in widths))
            return xp.ascontiguousarray(core)
        result = g
        for axis, (left, right) in enumerate(widths):
            if left == 0 and right == 0:
                continue
            size = shape[axis]
            index = _source_index(xp, size, left, right, mode)
            moved = xp.moveaxis(result, axis, 0)
            summed = xp.zeros((size,) + moved.shape[1:], dtype=g.dtype)
            _compat.ufunc_at(xp, "add", summed, index, moved)
            result = xp.moveaxis(summed, 0, axis)
        return xp.ascontiguousarray(result)

    @staticmethod
    def backward(ctx, grad):
        return Pad.apply(grad, ctx.widths, ctx.mode, 0.0)


def _source_index(xp, size, left, right, mode):
    """For each position of a padded axis, the input index it was copied from: reflect and replicate as PyTorch's
    kernels, from the whole input; circular from the part a negative width keeps, as PyTorch's copies wrap it (where
    nothing is kept, PyTorch leaves the elements unset: here they copy the input's nearest)."""
    positions = xp.arange(-left, size + right)
    if mode == "replicate":
        return xp.clip(positions, 0, size - 1)
    if mode == "circular":
        start, stop = max(-left, 0), size - max(-right, 0)
        if stop <= start:
            return xp.clip(positions, 0, size - 1)
        return start + (positions - start) % (stop - start)
    period = 2 * (size - 1)
    positions = xp.abs(positions) % period if period else positions * 0
    return xp.where(positions >= size, period - positions, positions)


@composite("pad", trace_inside=True)
@suggested_layout_result
def pad(input, pad, mode="constant", value=None):
    """Pads the last dims: ``pad`` lists (left, right) widths starting from the last dim."""
    if len(pad) % 2:
        raise RuntimeError("Padding length must be divisible by 2")
    if len(pad) // 2 > input.ndim:
        raise RuntimeError("Padding length should be less than or equal to two times the input dimension but got "
                           f"padding length {len(pad)} and input of dimension {input.ndim}")
    if mode not in ("constant", "reflect", "replicate", "circular"):
        raise NotImplementedError(f"Unrecognised padding mode {mode}")
    widths = [(0, 0)] * input.ndim
    for i in range(len(pad) // 2):
        widths[input.ndim - 1 - i] = (int_arg(pad[2 * i]), int_arg(pad[2 * i + 1]))
    if mode == "constant":
        if any(s + min(left, 0) + min(right, 0) < 0 for s, (left, right) in zip(input.shape, widths)):
            raise RuntimeError("narrow(): length must be non-negative.")
    else:
        check_padding(input, widths, len(pad) // 2, mode, value)
    result = Pad.apply(input, tuple(widths), mode, 0.0 if value is None else value)
    if mode == "constant":
        return name_node(result, "ConstantPadNdBackward0")
    if mode != "circular":   # PyTorch's kernel node (its circular padding is a graph of slice copies)
        return name_node(result, f"{'Reflection' if mode == 'reflect' else 'Replication'}Pad{len(pad) // 2}DBackward0")
    return result
