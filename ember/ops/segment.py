"""``segment_reduce``: reductions over consecutive segments of one axis, given by their lengths or offsets (PyTorch
Geometric's ``segment`` and ``softmax(ptr=...)`` call ``torch._segment_reduce``). Each element is scattered into its
segment with ``ufunc.at``; an empty segment holds the reduction's identity (NaN for a mean), or ``initial``, which
also enters every other segment. Gradients as PyTorch's: ties of max/min share the gradient, prod's is the product
of the other elements (exact with zeros)."""
import numpy

from .. import _compat, _dtype
from .._tensor import _wrap
from ..autograd.function import Primitive
from ._util import name_node
from .rearrange import cat

__all__ = ["segment_reduce", "_segment_reduce"]

_UFUNCS = {"sum": "add", "mean": "add", "prod": "multiply", "max": "maximum", "min": "minimum"}
_NAMES = {"sum": "sum", "mean": "mean", "prod": "prod", "max": "max", "amax": "max", "min": "min", "amin": "min"}


def _segment_ids(xp, offsets, count):
    """For data of shape (B, count, R) and offsets (B, S + 1): each element's flat segment number b * S + s, and
    whether it lies in a segment (elements before the first offset or from the last one on lie in none)."""
    batch, segments = offsets.shape[0], offsets.shape[1] - 1
    position = xp.arange(count)
    ids = xp.empty((batch, count), numpy.int64)
    for b in range(batch):   # the segment whose [start, end) holds the position
        ids[b] = xp.searchsorted(offsets[b], position, side="right") - 1 + b * segments
    inside = (position >= offsets[:, :1]) & (position < offsets[:, -1:])
    return ids.reshape(-1), inside.reshape(-1)


class SegmentReduce(Primitive):
    """``segment_reduce`` along ``axis`` with int64 ``offsets`` (the leading dims' rows, S + 1 each, clamped)."""

    @staticmethod
    def forward(ctx, data, offsets, axis, reduce, initial):
        xp = ctx.xp
        lead, count, tail = data.shape[:axis], data.shape[axis], data.shape[axis + 1:]
        offsets = offsets.reshape(-1, offsets.shape[-1])
        batch, segments, rest = offsets.shape[0], offsets.shape[1] - 1, int(numpy.prod(tail, dtype=numpy.int64))
        ids, inside = _segment_ids(xp, offsets, count)
        ids = ids[inside]
        values = data.reshape(batch * count, rest)[inside]
        identity = {"sum": 0, "mean": 0, "prod": 1, "max": -numpy.inf, "min": numpy.inf}[reduce]
        out = xp.full((batch * segments, rest), identity if initial is None else initial, data.dtype)
        _compat.ufunc_at(xp, _UFUNCS[reduce], out, ids, values)
        lengths = (offsets[:, 1:] - offsets[:, :-1]).reshape(-1, 1)
        if reduce == "mean":
            with numpy.errstate(invalid="ignore", divide="ignore"):
                empty = out if initial is not None else xp.full_like(out, numpy.nan)
                out = xp.where(lengths > 0, out / xp.maximum(lengths, 1), empty).astype(data.dtype, copy=False)
        ctx.reduce, ctx.initial, ctx.shape = reduce, initial, data.shape
        ctx.ids, ctx.inside, ctx.lengths, ctx.out = ids, inside, lengths, out
        ctx.save_for_backward(data)
        return out.reshape(lead + (segments,) + tail)

    @staticmethod
    def backward(ctx, grad):
        data, = ctx.saved_tensors
        ids, inside, out = _wrap(ctx.ids), _wrap(ctx.inside), _wrap(ctx.out)
        grad = grad.reshape(out.shape)
        flat = data.reshape(inside.shape[0], out.shape[1])
        values, reduce = flat[inside], ctx.reduce
        if reduce == "sum":
            part = grad[ids]
        elif reduce == "mean":
            part = grad[ids] / _wrap(ctx.lengths.astype(ctx.out.dtype))[ids]
        elif reduce in ("max", "min"):   # ties share the gradient
            hit = (values == out[ids]).to(grad.dtype)
            ties = grad.new_zeros(out.shape).index_add(0, ids, hit)
            part = hit * grad[ids] / ties[ids].clamp(min=1)   # none: initial won
        else:   # prod: the product of the other elements and initial, exact where elements are zero
            zero = values == 0
            zeros = grad.new_zeros(out.shape).index_add(0, ids, zero.to(grad.dtype))[ids]
            product = grad.new_ones(out.shape).scatter_reduce(0, ids.view(-1, 1).expand(values.shape),
                                                              values.masked_fill(zero, 1), "prod")
            product = product[ids] * (1 if ctx.initial is None else ctx.initial)
            lone_zero = product.where(zero & (zeros == 1), product.new_zeros(()))
            part = grad[ids] * (product / values.masked_fill(zero, 1)).where(zeros == 0, lone_zero)
        whole = flat.new_zeros(flat.shape)
        whole[inside] = part
        return whole.reshape(ctx.shape), None, None, None, None


def _check(data, reduce, lengths, indices, offsets, axis, unsafe):
    if reduce not in _NAMES:
        raise RuntimeError(f"reduce argument must be either sum, prod, mean, amax or amin, got {reduce}")
    if indices is not None:
        raise RuntimeError("segment_reduce(): indices based reduction is not supported yet.")
    if lengths is None and offsets is None:
        raise RuntimeError("segment_reduce(): Either lengths or offsets must be defined.")
    kind = "lengths" if lengths is not None else "offsets"
    given = lengths if lengths is not None else offsets
    if axis != given.dim() - 1:
        raise RuntimeError(f"segment_reduce(): Expected axis to be the last dimension of {kind} but got {axis}.")
    if given.dtype not in (_dtype.int32, _dtype.int64):
        raise NotImplementedError(f'"_segment_reduce_{kind}_cpu_kernel1" not implemented for '
                                  f"'{_dtype.scalar_type_name(given.dtype)}'")
    if not data.dtype.is_floating_point:
        raise NotImplementedError(f"\"_segment_reduce_cpu\" not implemented for "
                                  f"'{_dtype.scalar_type_name(data.dtype)}'")
    if lengths is not None:
        if bool((lengths < 0).any()):
            raise RuntimeError("lengths contains negative value!")
        if not unsafe and bool((lengths.sum(-1) != data.shape[axis]).any()):
            raise RuntimeError("segment_reduce(): Expected all rows of lengths along axis to sum to "
                               "data.size(lengths.dim()-1) when !unsafe.")


def segment_reduce(data, reduce, *, lengths=None, indices=None, offsets=None, axis=0, unsafe=False, initial=None):
    """Reduces ``data`` along ``axis`` over consecutive segments given by ``lengths`` (or ``offsets``, one more
    than the segments), with ``reduce`` one of sum, mean, prod, max/amax, min/amin; ``initial`` enters every
    segment and fills empty ones. ``lengths``/``offsets`` hold one row of segments per index of ``data``'s leading
    dims before ``axis``."""
    axis = axis + data.dim() if axis < 0 else axis
    _check(data, reduce, lengths, indices, offsets, axis, unsafe)
    if lengths is not None:   # offsets: the running sums of the lengths after a 0
        ends = lengths.to(_dtype.int64).cumsum(-1)
        offsets = cat([ends.new_zeros(tuple(ends.shape[:-1]) + (1,)), ends], -1)
    offsets = offsets.to(_dtype.int64).clamp(0, data.shape[axis])
    result = SegmentReduce.apply(data, offsets._data, axis, _NAMES[reduce], None if initial is None else float(initial))
    return name_node(result, "SegmentReduceBackward0")


_segment_reduce = segment_reduce   # torch._segment_reduce is torch.segment_reduce
