"""Pooling: max (with indices), average, adaptive average/max, unpooling and power-average.

Max pooling takes the running maximum over one strided slice of the input per kernel offset and keeps, for the
gradient, which offset holds each maximum (one byte per output); its gradient spreads back by one masked copy per
offset. Adaptive max pooling and max_unpool gather and scatter by flat index, adjoint primitives. Average pooling
is a convolution with a constant kernel per channel.
"""
import itertools
import math

import numpy

from .. import _dtype, _compat
from .._tensor import _make
from ..autograd._saved import keep_versions
from ..autograd.function import Primitive, composite
from ..autograd.grad_mode import is_grad_enabled
from . import _buffers, _parallel, _quantized
from ._kernel_dtypes import FLOATING, require_dtype
from ._util import keeps_layout, name_node, shown_edge
from .conv import Convolution, _in_parts, _tuple
from .pool_checks import check_max_pool1d, check_pool
from .pool_dtypes import integer_avg_pool, require_adaptive_avg

__all__ = []


class GatherFlat(Primitive):
    """out[n, c, ...] = x[n, c].flatten()[index[n, c, ...]]."""

    @staticmethod
    def forward(ctx, x, index, unique=False):
        ctx.spatial, ctx.unique = x.shape[2:], unique
        ctx.save_for_backward(index)
        flat = x.reshape(x.shape[:2] + (-1,))
        return ctx.xp.take_along_axis(flat, index.reshape(index.shape[:2] + (-1,)), axis=2).reshape(index.shape)

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        return ScatterFlat.apply(grad, index, ctx.spatial, ctx.unique), None, None


class ScatterFlat(Primitive):
    """Adjoint of GatherFlat: sums g into zeros of spatial shape ``spatial`` at the flat indices (``unique``: writes
    them instead, the last of a repeated index kept: the sum where no index repeats within a (n, c) plane, as for
    windows that do not overlap, and max_unpool's assignment, as PyTorch's, where one does)."""

    @staticmethod
    def forward(ctx, g, index, spatial, unique=False):
        xp = ctx.xp
        ctx.save_for_backward(index)
        N, C = g.shape[:2]
        size = math.prod(spatial)
        if unique:
            result = xp.zeros((N, C, size), dtype=g.dtype)
            xp.put_along_axis(result, index.reshape(N, C, -1), g.reshape(N, C, -1), axis=2)
            return result.reshape((N, C) + tuple(spatial))
        flat_index = (index.reshape(N * C, -1) + (xp.arange(N * C) * size)[:, None]).ravel()
        summed = xp.bincount(flat_index, weights=g.reshape(-1), minlength=N * C * size)
        return summed.astype(g.dtype, copy=False).reshape((N, C) + tuple(spatial))

    @staticmethod
    def backward(ctx, grad):
        index, = ctx.saved_tensors
        return GatherFlat.apply(grad, index), None, None, None


def _output_size(size, kernel, stride, padding, dilation, ceil_mode):
    numerator = size + 2 * padding - dilation * (kernel - 1) - 1
    out = (-(-numerator // stride) if ceil_mode else numerator // stride) + 1
    if ceil_mode and (out - 1) * stride >= size + padding:
        out -= 1   # the last window must start inside the input or its left padding
    return out


def _pool_arguments(input, n, kernel_size, stride, padding, dilation, ceil_mode, name, divisor_override=None,
                    max_pool1d=False):
    """The pooling geometry as n-tuples and the output's spatial size, checked as PyTorch checks them
    (``max_pool1d``: PyTorch's max_pool1d without indices, which runs its own checks)."""
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"{name}: Expected {n + 1}D or {n + 2}D input, but got {input.ndim}D input of size "
                           f"{list(input.shape)}")
    kernel = _tuple(kernel_size, n, "kernel_size")
    stride = kernel if stride is None or stride == [] or stride == () else _tuple(stride, n, "stride")
    padding, dilation = _tuple(padding, n, "padding"), _tuple(dilation, n, "dilation")
    if max_pool1d:
        check_max_pool1d(input, kernel, stride, padding, dilation)
    else:
        check_pool(input, n, kernel, stride, padding, dilation,
                   "avg_pool3d()" if name == "avg_pool3d" else "max_pool3d_with_indices_out_cpu_template()",
                   divisor_override)
    spatial = input.shape[-n:]
    out = tuple(_output_size(spatial[i], kernel[i], stride[i], padding[i], dilation[i], ceil_mode) for i in range(n))
    if any(o <= 0 for o in out):
        raise RuntimeError(f"Given input size: ({'x'.join(map(str, input.shape[-n - 1:]))}). Calculated output size: "
                           f"({'x'.join(map(str, (input.shape[-n - 1],) + out))}). Output size is too small")
    return kernel, stride, padding, dilation, out


def _offset_ranges(kernel, stride, padding, dilation, out, spatial):
    """Per kernel offset (in order), its flat number, the output positions whose window meets the input (not its
    padding) at that offset, and those input elements: (k, output slices, input slices); offsets meeting only
    padding are left out."""
    for k, offset in enumerate(itertools.product(*(range(n) for n in kernel))):
        outputs, inputs = [], []
        for o, s, p, d, n, size in zip(offset, stride, padding, dilation, out, spatial):
            first = o * d - p   # the input index output 0 meets at this offset
            low, high = max(0, -(first // s)), min(n, -(-(size - first) // s))
            outputs.append(slice(low, high))
            inputs.append(slice(first + low * s, first + (high - 1) * s + 1, s))
        if all(r.start < r.stop for r in outputs):
            yield k, (Ellipsis,) + tuple(outputs), (Ellipsis,) + tuple(inputs)


def _lowest(xp, dtype):
    return -xp.inf if _floating(dtype) else xp.iinfo(dtype).min


def _floating(dtype):
    return dtype.kind == "f" or dtype.name == "bfloat16"


def _window_maximum(xp, x, ranges, out, choose):
    """Each window's maximum over the offsets' ``ranges`` (see ``_offset_ranges``) and, with ``choose``, which
    offset holds it: the first one, or the last NaN (NaN counts as maximum), and never padding, as PyTorch's kernel
    picks. Whole strided slices, one per offset: no window is copied out and no argmax runs over a few elements.
    Planes (n, c) are independent, so parts of them run at once on the intra-op threads."""
    shape = x.shape[:2] + tuple(out)
    best = _buffers.empty(xp, shape, x.dtype)
    which = holds = numbered = None
    if choose:
        which = _buffers.empty(xp, shape, xp.uint8 if ranges[-1][0] < 256 else xp.int32)
        holds, numbered = _buffers.empty(xp, shape, bool), _buffers.empty(xp, shape, which.dtype)
    _in_parts(xp, lambda parts: _maximum_into(xp, x[parts[::-1]], ranges, best[parts[::-1]],
                                              *(None if a is None else a[parts[::-1]] for a in (which, holds,
                                                                                                numbered))),
              shape[1], shape[0], x.size)
    return best, which


def _maximum_into(xp, x, ranges, best, which, holds, numbered):
    """``_window_maximum`` of planes x into ``best`` and, unless None, ``which``, with scratch of its shape:
    ``holds`` (bool) and ``numbered`` (``which``'s dtype)."""
    choose, shape = which is not None, best.shape
    everywhere = tuple(slice(0, n) for n in shape[2:])
    full = [r for r in ranges if r[1][1:] == everywhere]
    if full and full[0] is ranges[0]:   # the first offset meets the input in every window: start from it
        best[...], rest = x[ranges[0][2]], ranges[1:]
    else:
        best.fill(_lowest(xp, x.dtype))
        rest = ranges
    if choose:
        which.fill(0)
        index_type = which.dtype.type
    for k, outputs, inputs in rest:
        values, maximum = x[inputs], best[outputs]
        if choose:   # offsets ascend and ``which`` holds only earlier ones, so a maximum sets it to k (a masked
            xp.greater(values, maximum, out=holds[outputs])   # copy would be 30x slower on a random mask)
            xp.multiply(holds[outputs], index_type(k), out=numbered[outputs])
            xp.maximum(which[outputs], numbered[outputs], out=which[outputs])
        xp.maximum(maximum, values, out=maximum)   # NaN propagates: it counts as the maximum
    if not choose:
        return
    # The fix-ups below change nothing where no window needs them; on a GPU asking whether one does would wait for
    # the device, so there they always run.
    on_host = xp is numpy
    if len(full) < len(ranges) and (not on_host or (best == _lowest(xp, x.dtype)).any()):
        lowest = best == _lowest(xp, x.dtype)   # every real element is the lowest value: the first real one wins
        for k, outputs, _ in reversed(ranges):
            xp.copyto(which[outputs], k, where=lowest[outputs])
    if _floating(x.dtype) and (not on_host or xp.isnan(best).any()):
        for k, outputs, inputs in ranges:   # ascending, so the last NaN wins
            xp.copyto(which[outputs], k, where=xp.isnan(x[inputs]))


class MaxPool(Primitive):
    """Max pooling on arrays: the windows' maximum, and with ``indices`` also their flat argmax in the input plane
    (not differentiable). Only which kernel offset holds each maximum is kept for the gradient (one byte each)."""

    @staticmethod
    def forward(ctx, x, kernel, stride, padding, dilation, out, indices):
        xp = ctx.xp
        ranges = list(_offset_ranges(kernel, stride, padding, dilation, out, x.shape[2:]))
        best, which = _window_maximum(xp, x, ranges, out, any(ctx.needs_input_grad) or indices)
        disjoint = _disjoint(kernel, stride, dilation)
        positions = None if disjoint and not indices else _flat_positions(xp, kernel, stride, padding, dilation,
                                                                           out, x.shape[2:])
        ctx.which, ctx.geometry = which, (ranges, x.shape[2:], disjoint, positions)
        if not indices:
            return best
        offsets, start = positions
        return best, offsets[which] + start

    @staticmethod
    def backward(ctx, grad, _index_grad=None):
        return (SpreadOffsets.apply(grad, _make(ctx.which), ctx.geometry),) + (None,) * 6


def _flat_positions(xp, kernel, stride, padding, dilation, out, spatial):
    """Each kernel offset's flat distance from its window's first element in the input plane, and each window's
    first (possibly padding) element's flat index: their sum is the flat index of the element an offset picks."""
    rows = [math.prod(spatial[i + 1:]) for i in range(len(kernel))]   # element strides of the input plane
    offsets = [sum(o * d * r for o, d, r in zip(offset, dilation, rows))
               for offset in itertools.product(*(range(k) for k in kernel))]
    start = 0
    for i in range(len(kernel)):
        start = start + (xp.arange(out[i]) * stride[i] - padding[i]).reshape((-1,) + (1,) * (len(out) - 1 - i)) \
            * rows[i]
    return xp.asarray(offsets, dtype=xp.int64), start


class SpreadOffsets(Primitive):
    """The gradient of max pooling: each window's gradient placed on the input element its ``which`` offset names:
    one masked copy of whole strided slices per offset where windows are disjoint; where they overlap, one
    ``add.at`` by flat index (in window order, as PyTorch sums; 7x faster than a masked add per offset)."""

    @staticmethod
    def forward(ctx, g, which, geometry):
        xp = ctx.xp
        ranges, spatial, disjoint, positions = geometry
        ctx.geometry = geometry
        ctx.save_for_backward(which)
        if not disjoint and xp is numpy:
            return _spread_by_index(g, which, positions, spatial)
        result = _buffers.empty(xp, g.shape[:2] + tuple(spatial), g.dtype)
        # a select on the bits (_parallel.gradient_where) is as fast as g * chosen and right for any g (the product
        # gave -0 for a negative g and NaN for an infinite one); on a GPU the masked copy stays
        masked = xp is numpy

        def spread(parts):   # planes (n, c) are independent: parts of them run at once
            index = parts[::-1]
            _spread_into(xp, g[index], which[index], ranges, disjoint, masked, result[index])
        _in_parts(xp, spread, g.shape[1], g.shape[0], result.size)
        return result

    @staticmethod
    def backward(ctx, grad):
        which, = ctx.saved_tensors
        return SelectOffsets.apply(grad, which, ctx.geometry), None, None


def _spread_by_index(g, which, positions, spatial):
    """SpreadOffsets of NumPy arrays as one unbuffered add by flat index over all planes."""
    offsets, start = positions
    N, C = g.shape[:2]
    size = math.prod(spatial)
    flat = offsets[which]
    flat += start
    flat += (numpy.arange(N * C, dtype=numpy.int64) * size).reshape((N, C) + (1,) * (g.ndim - 2))
    result = numpy.zeros(N * C * size, dtype=g.dtype)
    numpy.add.at(result, flat.ravel(), g.ravel())
    return result.reshape((N, C) + tuple(spatial))


def _spread_into(xp, g, which, ranges, disjoint, masked, result):
    """SpreadOffsets of planes g into ``result``; ``masked``: by selects on the bits (NumPy), not masked copies."""
    if not (disjoint and masked and _covers(ranges, result.shape[2:])):   # else every element is written below
        result.fill(0)
    chosen = xp.empty(which.shape, dtype=bool)
    product = None if disjoint or not masked else xp.empty(g.shape, g.dtype)
    for k, outputs, inputs in ranges:
        xp.equal(which[outputs], k, out=chosen[outputs])
        target, part, where = result[inputs], g[outputs], chosen[outputs]
        if not masked:
            _compat.add_where(xp, target, part, where)
        elif disjoint:
            _parallel.gradient_where(xp, part, where, out=target)
        else:
            xp.add(target, _parallel.gradient_where(xp, part, where, out=product[outputs]), out=target)


def _covers(ranges, spatial):
    """Whether disjoint windows' offset ``ranges`` (see ``_offset_ranges``) meet every element of planes of
    ``spatial`` size (a 2x2 stride-2 pooling of even sizes)."""
    return sum(math.prod(len(range(n)[r]) for r, n in zip(inputs[1:], spatial)) for _, _, inputs in ranges) \
        == math.prod(spatial)


class SelectOffsets(Primitive):
    """Adjoint of SpreadOffsets: each window's element at its ``which`` offset."""

    @staticmethod
    def forward(ctx, x, which, geometry):
        xp = ctx.xp
        ctx.geometry = geometry
        ctx.save_for_backward(which)
        result = xp.zeros(x.shape[:2] + which.shape[2:], dtype=x.dtype)
        for k, outputs, inputs in geometry[0]:
            xp.copyto(result[outputs], x[inputs], where=which[outputs] == k)
        return result

    @staticmethod
    def backward(ctx, grad):
        which, = ctx.saved_tensors
        return SpreadOffsets.apply(grad, which, ctx.geometry), None, None


def _disjoint(kernel, stride, dilation):
    """Whether no two windows share an input element."""
    return all(d * (k - 1) < s for k, s, d in zip(kernel, stride, dilation))


def _max_pool(n, name, input, kernel_size, stride, padding, dilation, ceil_mode, return_indices):
    kernel, stride, padding, dilation, out = _pool_arguments(input, n, kernel_size, stride, padding, dilation,
                                                             ceil_mode, name, max_pool1d=n == 1 and not return_indices)
    unbatched = input.ndim == n + 1
    original = input
    if unbatched:
        input = input.unsqueeze(0)
    result = MaxPool.apply(input, kernel, stride, padding, dilation, out, return_indices)
    if unbatched:
        result = tuple(r.squeeze(0) for r in result) if return_indices else result.squeeze(0)
    # PyTorch's own 1-d kernel (row-major) serves CPU inputs that need no indices; the rest go through 2-d pooling
    if n == 1 and (return_indices or original.device.type != "cpu" or (original.requires_grad and is_grad_enabled())):
        result = tuple(_like_2d_pool(r, original) for r in result) if return_indices else \
            _like_2d_pool(result, original)
    _pool_node(result[0] if return_indices else result, n, "MaxPool{}DWithIndicesBackward0", original)
    if return_indices:
        keep_versions(*result)   # PyTorch's node saves the indices it returns
    return result


def _like_2d_pool(result, input):
    """A 1-d pooling ``result`` laid out as PyTorch's 2-d pooling of ``input.unsqueeze(-2)`` lays it out: channels
    innermost (strides (L*C, 1, C)) where that 4-d view of a batched (N, C, L) input is channels-last, as a permuted
    (N, L, C) input is."""
    data = input._data
    if data.ndim != 3 or data.flags.c_contiguous:
        return result
    from .._memory_format import contiguous_format, suggested_for
    strides = [s // data.itemsize for s in data.strides]
    if suggested_for(data.shape[:2] + (1,) + data.shape[2:], strides[:2] + [data.shape[2] * strides[2]] + strides[2:]) \
            is contiguous_format:
        return result
    return result.transpose(1, 2).contiguous().transpose(1, 2)


def _pool_node(result, n, name, input):
    """Shows ``result``'s node as PyTorch's pooling node ``name`` (its rank filled in) of ``input``: for one spatial
    dim, its 2-d pooling of the input unsqueezed, squeezed back."""
    if result.grad_fn is None:
        return result
    if n == 1:
        pooled = shown_edge(name.format(2), (shown_edge("UnsqueezeBackward0", (input,)),))
        return name_node(result, "SqueezeBackward1", (pooled,))
    return name_node(result, name.format(n), (input,))


@composite("max_pool1d")
def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over sliding windows of (N, C, L) input; with ``return_indices``, also the argmax positions."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["max_pool1d"](input, kernel_size, stride, padding, dilation, ceil_mode,
                                                return_indices)
    require_dtype("max_pool2d", input, FLOATING + "liu") if return_indices else require_dtype("max_pool1d_impl", input)
    return _max_pool(1, "max_pool1d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@composite("max_pool2d")
@keeps_layout
def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over sliding windows of (N, C, H, W) input; with ``return_indices``, also flat argmax positions."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["max_pool2d"](input, kernel_size, stride, padding, dilation, ceil_mode,
                                                return_indices)
    require_dtype("max_pool2d", input, FLOATING + "liu")
    return _max_pool(2, "max_pool2d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


@composite("max_pool3d")
@keeps_layout
def max_pool3d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Maximum over sliding windows of (N, C, D, H, W) input."""
    require_dtype("max_pool3d", input, FLOATING + "liu")
    return _max_pool(3, "max_pool3d", input, kernel_size, stride, padding, dilation, ceil_mode, return_indices)


def _max_unpool(n, input, indices, kernel_size, stride, padding, output_size):
    kernel = _tuple(kernel_size, n)
    stride = kernel if stride is None else _tuple(stride, n)
    padding = _tuple(padding, n)
    unbatched = input.ndim == n + 1
    if unbatched:
        input, indices = input.unsqueeze(0), indices.unsqueeze(0)
    spatial = tuple((input.shape[2 + i] - 1) * stride[i] - 2 * padding[i] + kernel[i] for i in range(n))
    if output_size is not None:   # PyTorch's _unpool_output_size: within a stride of the default size
        given = list(output_size)[2:] if len(output_size) == n + 2 else list(output_size)
        if len(given) != n:
            raise ValueError(f"output_size should be a sequence containing {n} or {n + 2} elements, but it has a "
                             f"length of '{len(given)}'")
        for d in range(n):
            if not spatial[d] - stride[d] < given[d] < spatial[d] + stride[d]:
                raise ValueError(f'invalid output_size "{given}" (dim {d} must be between {spatial[d] - stride[d]} '
                                 f'and {spatial[d] + stride[d]})')
        spatial = tuple(given)
    flat = indices._all_data.reshape(-1)   # every example's, inside vmap
    invalid = (flat < 0) | (flat >= math.prod(spatial))
    if invalid.any():   # PyTorch's kernel names the last it meets
        last = invalid.size - 1 - int(invalid[::-1].argmax())
        raise RuntimeError(f"Found an invalid max index: {int(flat[last])} "
                           f"(output volumes are of size {'x'.join(map(str, spatial))})")
    output = ScatterFlat.apply(input, indices, spatial, True)
    return output.squeeze(0) if unbatched else output


def max_unpool1d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Places values back at the positions ``max_pool1d`` took them from; zeros elsewhere."""
    require_dtype("max_unpool2d", input)
    return _max_unpool(1, input, indices, kernel_size, stride, padding, output_size)


@composite("max_unpool2d", trace_inside=True)
def max_unpool2d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Places values back at the positions ``max_pool2d`` took them from; zeros elsewhere."""
    require_dtype("max_unpool2d", input)
    return _max_unpool(2, input, indices, kernel_size, stride, padding, output_size)


@composite("max_unpool3d", trace_inside=True)
def max_unpool3d(input, indices, kernel_size, stride=None, padding=0, output_size=None):
    """Places values back at the positions ``max_pool3d`` took them from; zeros elsewhere."""
    require_dtype("max_unpool3d", input)
    return _max_unpool(3, input, indices, kernel_size, stride, padding, output_size)


def _avg_pool(n, name, input, kernel_size, stride, padding, ceil_mode, count_include_pad, divisor_override):
    kernel, stride, padding, dilation, out = _pool_arguments(input, n, kernel_size, stride, padding, 1, ceil_mode,
                                                             name, divisor_override)
    original = input
    unbatched = input.ndim == n + 1
    if unbatched:
        input = input.unsqueeze(0)
    if not (input.dtype.is_floating_point or input.dtype.is_complex):
        raise RuntimeError(f"\"avg_pool{n}d\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    N, C = input.shape[:2]
    spatial = input.shape[2:]
    extent = [(out[i] - 1) * stride[i] + kernel[i] for i in range(n)]
    extra = [max(extent[i] - spatial[i] - 2 * padding[i], 0) for i in range(n)]
    from .padding import pad
    flat_pad = []
    for i in reversed(range(n)):
        flat_pad += [padding[i], padding[i] + extra[i]]
    # half types: window sums and division in float32, rounded once, as PyTorch's opmath kernels
    half = input.dtype in (_dtype.float16, _dtype.bfloat16)
    x = pad((input.float() if half else input).reshape((N * C, 1) + tuple(spatial)), flat_pad)
    from .creation import ones
    weight = ones((1, 1) + kernel, dtype=x.dtype, device=input.device)
    sums = Convolution.apply(x, weight, stride, (0,) * n, (1,) * n, 1)
    if divisor_override:
        result = sums / divisor_override
    else:
        counted = ones((1, 1) + tuple(spatial), dtype=x.dtype, device=input.device)
        if count_include_pad:
            counted = pad(counted, [p for i in reversed(range(n)) for p in (padding[i], padding[i])], value=1.0)
            counted = pad(counted, [p for i in reversed(range(n)) for p in (0, extra[i])])
        else:
            counted = pad(counted, flat_pad)
        divisor = Convolution.apply(counted, weight, stride, (0,) * n, (1,) * n, 1)
        result = sums / divisor
    result = result.reshape((N, C) + tuple(out))
    if half:
        result = result.to(input.dtype)
    if n == 1:
        result = _like_2d_pool(result, original)
    return _pool_node(result.squeeze(0) if unbatched else result, n, "AvgPool{}DBackward0", original)


def avg_pool1d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True):
    """Mean over sliding windows of (N, C, L) input."""
    if not input.dtype.is_floating_point:
        return integer_avg_pool(_pool_arguments, 1, input, kernel_size, stride, padding, ceil_mode,
                                count_include_pad, None)
    return _avg_pool(1, "avg_pool1d", input, kernel_size, stride, padding, ceil_mode, count_include_pad, None)


@keeps_layout
def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows of (N, C, H, W) input."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["avg_pool2d"](input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                                divisor_override)
    if not input.dtype.is_floating_point:
        return integer_avg_pool(_pool_arguments, 2, input, kernel_size, stride, padding, ceil_mode,
                                count_include_pad, divisor_override)
    return _avg_pool(2, "avg_pool2d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


@composite("avg_pool3d", trace_inside=True)
@keeps_layout
def avg_pool3d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Mean over sliding windows of (N, C, D, H, W) input."""
    require_dtype("avg_pool3d_out_frame", input, "fl")
    if not input.dtype.is_floating_point:
        return integer_avg_pool(_pool_arguments, 3, input, kernel_size, stride, padding, ceil_mode,
                                count_include_pad, divisor_override)
    return _avg_pool(3, "avg_pool3d", input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                     divisor_override)


def _adaptive_ranges(size, out):
    """PyTorch's adaptive windows: [floor(i*size/out), ceil((i+1)*size/out)) for each output i."""
    return [(i * size // out, -(-(i + 1) * size // out)) for i in range(out)]


def _adaptive_matrix(size, out, like):
    """(out, size) averaging matrix of the adaptive windows along one dim."""
    import numpy
    matrix = numpy.zeros((out, size))
    for i, (start, end) in enumerate(_adaptive_ranges(size, out)):
        matrix[i, start:end] = 1.0 / (end - start)
    from .creation import tensor
    return tensor(matrix, dtype=like.dtype, device=like.device)


def _adaptive_sizes(input, n, output_size, name="adaptive_avg_pool1d"):
    if isinstance(output_size, int):
        return (output_size,) * n
    if n == 1 and len(output_size) != 1:   # PyTorch's argument parser
        raise RuntimeError(f"{name}() argument 'output_size' should contain one int (got {len(output_size)})")
    if n > 1 and input.ndim <= len(output_size):   # PyTorch's _list_with_default
        raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
    if len(output_size) == n:   # None keeps that dim's size
        output_size = tuple(input.shape[-n + i] if s is None else s for i, s in enumerate(output_size))
    return _tuple(output_size, n, "output_size")


def _adaptive_avg(n, input, output_size):
    if input.ndim not in (n + 1, n + 2):
        raise RuntimeError(f"adaptive_avg_pool{n}d(): Expected {n + 1}D or {n + 2}D tensor, but got "
                           f"{list(input.shape)}")
    sizes = _adaptive_sizes(input, n, output_size)
    if min(sizes) < 0:   # PyTorch's message, its 1-d pool as 2-d and its 3-d list as printed
        listed = ", ".join(map(str, (1,) * (n == 1) + sizes)) if n < 3 else f"{sizes[0]}, {sizes[1]},{sizes[2]}"
        raise RuntimeError(f"adaptive_avg_pool{max(n, 2)}d: elements of output_size must be greater than or equal to "
                           f"0 but received {{{listed}}}")
    result = _adaptive_mean(n, input, sizes)
    if n == 1:
        result = _like_2d_pool(result, input)
    # PyTorch's adaptive pooling node; a mean over the map for an output of ones
    return _pool_node(result, n, "MeanBackward1" if all(s == 1 for s in sizes) else "AdaptiveAvgPool{}DBackward0",
                      input)


def _adaptive_mean(n, input, sizes):
    spatial = input.shape[input.ndim - n:]
    if input.numel() and input.dtype.is_floating_point and all(s and not size % s for size, s in zip(spatial, sizes)):
        # equal windows that tile the input: one mean over a reshaped view (global pooling: over one flat,
        # contiguous dim, several times faster than over strided ones)
        lead = input.ndim - n
        if all(s == 1 for s in sizes):
            return input.reshape(input.shape[:lead] + (-1,)).mean(-1).reshape(input.shape[:lead] + sizes)
        split = tuple(d for size, s in zip(spatial, sizes) for d in (s, size // s))
        return input.reshape(input.shape[:lead] + split).mean(tuple(range(lead + 1, lead + 2 * n, 2)))
    result = input
    for i in range(n):
        axis = input.ndim - n + i
        size = input.shape[axis]
        if size == sizes[i]:
            continue
        matrix = _adaptive_matrix(size, sizes[i], input)
        result = result.movedim(axis, -1).matmul(matrix.t()).movedim(-1, axis)
    return result if result is not input else input * 1


def adaptive_avg_pool1d(input, output_size):
    """Average pooling to a fixed output length, windows chosen as in PyTorch."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["adaptive_avg_pool1d"](input, output_size)
    require_adaptive_avg(1, input, output_size)
    return _adaptive_avg(1, input, output_size)


def _global_mean(n, input, output_size):
    """PyTorch's path for an all-ones output: a mean over the last ``n`` dims, taken before the rank check (so any
    input of ``n`` dims or more), or None for other outputs. A tuple output first needs more than ``n`` dims."""
    if not isinstance(output_size, int):
        if input.ndim <= len(output_size):
            raise ValueError(f"Input dimension should be at least {len(output_size) + 1}")
        output_size = _adaptive_sizes(input, n, output_size)
    if output_size != 1 and output_size != (1,) * n:
        return None
    return input.mean(tuple(range(-n, 0)), keepdim=True)


@keeps_layout
def adaptive_avg_pool2d(input, output_size):
    """Average pooling to a fixed (H, W) output, windows chosen as in PyTorch."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["adaptive_avg_pool2d"](input, output_size)
    require_adaptive_avg(2, input, output_size)
    if input.ndim not in (3, 4):
        pooled = _global_mean(2, input, output_size)
        if pooled is not None:
            return pooled
    return _adaptive_avg(2, input, output_size)


@composite("adaptive_avg_pool3d", trace_inside=True)
def adaptive_avg_pool3d(input, output_size):
    """Average pooling to a fixed (D, H, W) output."""
    require_adaptive_avg(3, input, output_size)
    if input.ndim not in (4, 5):
        pooled = _global_mean(3, input, output_size)
        if pooled is not None:
            return pooled
    return _adaptive_avg(3, input, output_size)


def _adaptive_max(n, input, output_size, return_indices):
    for d in range(1, input.ndim):
        if input.shape[d] == 0:
            raise RuntimeError(f"adaptive_max_pool{n}d(): Expected input to have non-zero size for non-batch "
                               f"dimensions, but input has sizes {list(input.shape)} with dimension {d} being empty")
    sizes = _adaptive_sizes(input, n, output_size, "adaptive_max_pool1d")
    unbatched = input.ndim == n + 1
    original = input
    if unbatched:
        input = input.unsqueeze(0)
    spatial = input.shape[2:]
    import itertools

    import numpy

    from .._tensor import _make
    data = numpy.asarray(input.detach().cpu()._data) if input.device.type != "cpu" else input._data
    ranges = [_adaptive_ranges(spatial[i], sizes[i]) for i in range(n)]
    index = numpy.zeros(input.shape[:2] + sizes, dtype=numpy.int64)
    for cell in itertools.product(*(range(s) for s in sizes)):
        region = tuple(slice(*ranges[i][cell[i]]) for i in range(n))
        block = data[(slice(None), slice(None)) + region]
        flat = block.reshape(block.shape[:2] + (math.prod(block.shape[2:]),))
        local = numpy.unravel_index(flat.argmax(axis=-1), block.shape[2:])
        position = numpy.zeros(flat.shape[:2], dtype=numpy.int64)
        for i in range(n):
            position = position * spatial[i] + (ranges[i][cell[i]][0] + local[i])
        index[(slice(None), slice(None)) + cell] = position
    index = _make(index).to(input.device)
    if not input.numel():   # an empty batch: nothing to gather
        values = input.flatten(2)[..., :1].reshape(input.shape[:2] + (1,) * n).expand(*index.shape)
    else:
        values = GatherFlat.apply(input, index)
    if unbatched:
        values, index = values.squeeze(0), index.squeeze(0)
    if n == 1:
        values, index = _like_2d_pool(values, original), _like_2d_pool(index, original)
    _pool_node(values, n, "AdaptiveMaxPool{}DBackward0", original)
    if not return_indices:
        return values
    index = index.long()
    return keep_versions(values, index), index


@composite("adaptive_max_pool1d")
def adaptive_max_pool1d(input, output_size, return_indices=False):
    """Max pooling to a fixed output length."""
    require_dtype("adaptive_max_pool2d", input)
    return _adaptive_max(1, input, output_size, return_indices)


@composite("adaptive_max_pool2d")
@keeps_layout
def adaptive_max_pool2d(input, output_size, return_indices=False):
    """Max pooling to a fixed (H, W) output."""
    require_dtype("adaptive_max_pool2d", input)
    return _adaptive_max(2, input, output_size, return_indices)


@composite("adaptive_max_pool3d")
def adaptive_max_pool3d(input, output_size, return_indices=False):
    """Max pooling to a fixed (D, H, W) output."""
    require_dtype("adaptive_max_pool3d_cpu", input)
    return _adaptive_max(3, input, output_size, return_indices)


def lp_pool1d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over windows)^(1/p)."""
    return _lp_pool(max_pool1d, avg_pool1d, _tuple(kernel_size, 1), input, norm_type, stride, ceil_mode)


def lp_pool2d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over 2-D windows)^(1/p)."""
    return _lp_pool(max_pool2d, avg_pool2d, _tuple(kernel_size, 2), input, norm_type, stride, ceil_mode)


def lp_pool3d(input, norm_type, kernel_size, stride=None, ceil_mode=False):
    """(sum of x^p over 3-D windows)^(1/p)."""
    return _lp_pool(max_pool3d, avg_pool3d, _tuple(kernel_size, 3), input, norm_type, stride, ceil_mode)


def _lp_pool(max_pool, avg_pool, k, input, norm_type, stride, ceil_mode):
    """The p-norm over windows of ``k`` as PyTorch computes it: through average pooling of x^p, and for p = +-inf
    the largest (smallest) absolute value."""
    if norm_type == float("inf"):
        return max_pool(input.abs(), k, stride, 0, 1, ceil_mode)
    if norm_type == -float("inf"):
        return -max_pool(-input.abs(), k, stride, 0, 1, ceil_mode)
    pooled = avg_pool(input.pow(norm_type), k, stride, 0, ceil_mode)
    total = (pooled.sign() * pooled.abs().relu()).mul(math.prod(k))
    # an all-zero window: its root's infinite slope would meet relu's zero mask as inf * 0 = NaN; PyTorch's
    # threshold_backward selects 0 there, so the root is taken away from zeros and its gradient selected out
    nonzero = total != 0
    return total.where(nonzero, 1).pow(1.0 / norm_type).where(nonzero, 0)
