"""Embedding lookups: rows of a weight matrix picked by index, and bags of them reduced."""
import numpy

from .. import _compat, _dtype
from .._backend import xp_of
from .._tensor import _make
from ..autograd._saved import keep_versions
from ..autograd.function import Primitive, composite
from ..autograd.grad_mode import no_grad
from . import _buffers
from ._kernel_dtypes import refuse_complex_autograd
from ._util import int_arg, name_node

__all__ = []


@composite("one_hot")   # seen whole at dispatch: vmap batches it, traces record one node (ONNX OneHot)
def one_hot(tensor, num_classes=-1):
    """Class indices as one-hot int64 vectors in a new last dim."""
    if tensor.dtype is not _dtype.int64:
        raise RuntimeError("one_hot is only applicable to index tensor of type LongTensor.")
    classes = tensor._data.reshape(-1)
    if not classes.size and num_classes <= 0:
        raise RuntimeError("Can not infer total number of classes from empty tensor.")
    if classes.size:
        if int(classes.min()) < 0:
            raise RuntimeError("Class values must be non-negative.")
        high = int(classes.max())
        num_classes = high + 1 if num_classes == -1 else num_classes
        if high >= num_classes:
            raise RuntimeError("Class values must be smaller than num_classes.")
    xp = xp_of(classes)
    out = xp.zeros(tensor._data.shape + (num_classes,), classes.dtype)
    out.reshape(-1)[xp.arange(0, out.size, num_classes) + classes] = 1
    return _make(out)


@composite("embedding")
def embedding(input, weight, padding_idx=None, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
              sparse=False):
    """Rows of ``weight`` at the indices in ``input``; the row at ``padding_idx`` gets no gradient."""
    if input.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{_dtype.scalar_type_name(input.dtype)}Tensor instead (while "
                           "checking arguments for embedding)")
    refuse_complex_autograd("embedding", weight)
    if weight.ndim != 2:
        raise RuntimeError("'weight' must be 2-D")
    rows = weight.shape[0]
    if padding_idx is not None:   # PyTorch's F.embedding compares first, then hands the index to its op
        if padding_idx > 0 and not padding_idx < rows or padding_idx < 0 and not padding_idx >= -rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        try:
            padding_idx = int_arg(padding_idx) % rows
        except TypeError:
            raise TypeError(f"embedding(): argument 'padding_idx' (position 3) must be int, not "
                            f"{type(padding_idx).__name__}") from None
    if max_norm is not None and not all(isinstance(v, (int, float)) or hasattr(v, "__float__")
                                        for v in (max_norm, norm_type)):
        from .. import _arg_parser   # PyTorch's F.embedding renorms through its op: that op's parser error
        _arg_parser.raise_for("embedding_renorm_", (weight, input, max_norm, norm_type), {})
    if max_norm is not None or sparse and weight.requires_grad:   # these paths index before _Rows checks
        _check_range(input._data, rows)
    if max_norm is not None:
        _renorm_rows(weight, input, max_norm, norm_type)
    flat = input.reshape(-1)
    if sparse and weight.requires_grad:   # its weight gradient is a sparse tensor
        from ..sparse._embedding import SparseEmbedding
        return keep_versions(SparseEmbedding.apply(weight, flat, padding_idx, scale_grad_by_freq).reshape(
            tuple(input.shape) + (weight.shape[1],)), input)
    if padding_idx is not None or scale_grad_by_freq:
        weight = _GradientMask.apply(weight, flat, padding_idx, scale_grad_by_freq)
    return keep_versions(name_node(_Rows.apply(weight, input._data), "EmbeddingBackward0"), input)


def _renorm_rows(weight, indices, max_norm, norm_type):
    """Scales each row of ``weight`` named in ``indices`` whose ``norm_type``-norm exceeds ``max_norm`` down to
    ``max_norm`` (over ``norm + 1e-7``), in place and outside autograd."""
    with no_grad():
        used = indices.reshape(-1).unique()
        norms = weight[used].norm(norm_type, dim=1, keepdim=True)
        scale = (max_norm / (norms + 1e-7)).where(norms > max_norm, 1.0)
        weight._data[used._data] = (weight[used] * scale)._data
        weight._version_counter[0] += 1
    return weight


def embedding_renorm_(input, indices, max_norm, norm_type):
    """``torch.embedding_renorm_``: the renormalization ``embedding(max_norm=...)`` does to the rows it looks up;
    returns ``input`` (the weight)."""
    if indices.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"Expected tensor for argument #2 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{_dtype.scalar_type_name(indices.dtype)}Tensor instead (while "
                           "checking arguments for embedding_renorm_)")
    if input.ndim != 2:
        raise RuntimeError(f"Expected 2-dimensional tensor, but got {input.ndim}-dimensional tensor for argument #1 "
                           "'self' (while checking arguments for embedding_renorm_)")
    _check_range(indices._data, input.shape[0])
    return _renorm_rows(input, indices, max_norm, norm_type)


def _check_range(indices, rows):
    """PyTorch's error for an index outside the weight's ``rows``."""
    if indices.size and (indices.max() >= rows or indices.min() < 0):
        raise IndexError("index out of range in self")


class _Rows(Primitive):
    """The rows of a 2-D ``weight`` at in-range integer ``indices`` (any shape; the result is indices' shape + the
    row); the gradient sums each index's gradient rows into its weight row, in index order."""

    @staticmethod
    def forward(ctx, weight, indices):
        _check_range(indices, weight.shape[0])   # on the arrays: a compiled capture sees no Python read of them
        ctx.shape, ctx.indices = weight.shape, indices
        xp = ctx.xp
        if xp is not numpy:
            return weight[indices]
        # a row copy per index into a pooled array (a fresh one faulted its pages in on every call), in range already
        out = _buffers.empty(xp, indices.shape + weight.shape[1:], weight.dtype)
        return xp.take(weight, indices, axis=0, out=out, mode="clip")

    @staticmethod
    def backward(ctx, grad):   # under create_graph: the adjoint as a differentiable op
        from .indexing import IndexAccumulate, _key
        return IndexAccumulate.apply(grad, ctx.shape, _key(0, ctx.indices)), None

    @staticmethod
    def array_backward(ctx, grad):   # indexing's accumulating write: one flat add.at on NumPy, in index order
        from .indexing import _key, _write
        out = ctx.xp.zeros(ctx.shape, grad.dtype)
        _write(ctx.xp, out, _key(0, ctx.indices), grad, True)
        return out, None


class _GradientMask(Primitive):
    """Identity on the weight whose gradient zeroes the padding row and optionally divides by index frequency."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.padding_idx, ctx.scale = padding_idx, scale_grad_by_freq
        ctx.save_for_backward(indices)
        return weight

    @staticmethod
    def backward(ctx, grad):
        indices, = ctx.saved_tensors
        xp = ctx.xp
        factor = xp.ones((grad.shape[0], 1), dtype=grad._data.dtype)
        if ctx.scale:
            counts = xp.bincount(indices._data, minlength=grad.shape[0])
            factor = factor / xp.maximum(counts, 1)[:, None].astype(factor.dtype)
        if ctx.padding_idx is not None:
            factor[ctx.padding_idx] = 0
        from .._tensor import _make
        return grad * _make(factor)


@composite("embedding_bag")
def embedding_bag(input, weight, offsets=None, max_norm=None, norm_type=2, scale_grad_by_freq=False, mode="mean",
                  sparse=False, per_sample_weights=None, include_last_offset=False, padding_idx=None):
    """Sums, means or maxes of embedding rows over bags given as rows of a 2-D input or by 1-D ``offsets``."""
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    if input.dtype not in (_dtype.int64, _dtype.int32):
        raise RuntimeError(f"Expected tensor for argument #1 'indices' to have one of the following scalar types: "
                           f"Long, Int; but got torch.{_dtype.scalar_type_name(input.dtype)}Tensor instead (while "
                           "checking arguments for embedding_bag)")
    ids = input._data
    xp = xp_of(ids)
    if input.ndim == 2:
        if offsets is not None:
            raise ValueError("if input is 2D, then offsets has to be None, as input is treated is a mini-batch of "
                             f"fixed length sequences. However, found offsets of type {type(offsets)}")
        bags, length = input.shape
        starts = xp.arange(0, bags * length, length)
        ids = ids.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    else:
        starts = offsets._data[:-1] if include_last_offset else offsets._data
        if starts.size and int(starts[0]) != 0:
            raise RuntimeError("offsets[0] has to be 0, i.e., the first sequence in the mini-batch has to start from "
                               f"position 0. However, got {int(starts[0])}")
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise RuntimeError(f"padding_idx must be within the number of embeddings, -{rows} through {rows - 1}, "
                               f"but got {padding_idx}")
        padding_idx %= rows
    if ids.size and (int(ids.min()) < 0 or int(ids.max()) >= rows):
        bad = int(((ids < 0) | (ids >= rows)).argmax())
        raise RuntimeError(f"Index {bad} of input takes value {int(ids[bad])} which is not in the valid range "
                           f"[0, {rows})")
    if max_norm is not None:
        embedding(_make(ids), weight, None, max_norm, norm_type)   # renormalizes the used rows in place
    if scale_grad_by_freq:
        weight = _GradientMask.apply(weight, _make(ids), None, True)
    result = EmbeddingBag.apply(weight, per_sample_weights, *_bags(xp, ids, starts, padding_idx), mode)
    return keep_versions(result, input.reshape(-1) if input.ndim == 2 else input, offsets)   # as PyTorch saves them


def _bags(xp, ids, starts, padding_idx):
    """The ids that count (padding dropped), each one's bag, each bag's start among them, each bag's size, and the
    positions kept (None when all are)."""
    starts = starts.astype(xp.int64, copy=False)
    ends = xp.concatenate([starts[1:], xp.asarray([ids.size], dtype=xp.int64)])
    sizes = xp.maximum(ends - starts, 0)
    bag_of = xp.repeat(xp.arange(starts.size), sizes)
    if padding_idx is None:
        return ids, bag_of, starts, sizes, None
    kept = xp.flatnonzero(ids != padding_idx)
    bag_of = bag_of[kept]
    sizes = xp.bincount(bag_of, minlength=starts.size)
    return ids[kept], bag_of, xp.cumsum(sizes) - sizes, sizes, kept


class EmbeddingBag(Primitive):
    """Bags of weight rows at ``ids`` (bag ``bag_of``, starting at ``starts``, ``sizes`` long) summed, averaged or
    maxed; empty bags give zeros. The gradient scatters back with add.at in id order; max sends each column's
    gradient to its bag's first maximum."""

    @staticmethod
    def forward(ctx, weight, per_sample_weights, ids, bag_of, starts, sizes, kept, mode):
        xp = ctx.xp
        ctx.shape, ctx.mode, ctx.keys = weight.shape, mode, (ids, bag_of, starts, sizes, kept)
        ctx.save_for_backward(weight, per_sample_weights)
        factors = None
        if per_sample_weights is not None:
            factors = per_sample_weights if kept is None else per_sample_weights[kept]
        bags, width = starts.size, weight.shape[1]
        length = ids.size // bags if bags else 0
        if length and int(sizes.min()) == int(sizes.max()) == length:
            return _equal_bags(ctx, weight, factors, ids.reshape(bags, length), mode)
        picked = weight.take(ids, axis=0)
        if factors is not None:
            picked *= factors[:, None]
        out = xp.zeros((bags, width), weight.dtype)
        ctx.winners = xp.zeros(0, xp.int64)
        if not picked.size:
            return out
        if mode == "max":
            out[sizes > 0] = _compat.reduceat(xp, "maximum", picked, starts[sizes > 0])
            ctx.winners = _first_maxima(xp, picked, out, bag_of, starts, sizes, ids)
            return out
        from .indexing import _key, _write
        _write(xp, out, _key(0, bag_of), picked, True)   # in id order, as PyTorch adds (reduceat adds pairwise)
        if mode == "mean":
            out /= xp.maximum(sizes, 1).astype(out.dtype)[:, None]
        return out

    @staticmethod
    def backward(ctx, grad):
        from .indexing import IndexAccumulate, IndexSelect, _key, advanced_key
        ids, bag_of, starts, sizes, kept = ctx.keys
        weight, per_sample_weights = ctx.saved_tensors
        if ctx.mode == "max":
            bags, width = grad.shape
            filled = grad if sizes.all() else grad[_make(sizes > 0)]
            flat = IndexAccumulate.apply(filled.reshape(-1), (ctx.shape[0] * width,), advanced_key((ctx.winners,)))
            return flat.reshape(ctx.shape), None
        if ctx.mode == "mean":
            grad = grad / _make(ctx.xp.maximum(sizes, 1).astype(grad._data.dtype)[:, None])
        spread = IndexSelect.apply(grad, bag_of, 0)
        grad_weights = None
        if per_sample_weights is not None:
            factors = per_sample_weights if kept is None else IndexSelect.apply(per_sample_weights, kept, 0)
            if ctx.needs_input_grad[1]:
                grad_weights = (spread * IndexSelect.apply(weight, ids, 0)).sum(1)
                if kept is not None:
                    grad_weights = IndexAccumulate.apply(grad_weights, per_sample_weights.shape, _key(0, kept))
            spread = spread * factors.unsqueeze(1)
        grad_weight = IndexAccumulate.apply(spread, ctx.shape, _key(0, ids)) if ctx.needs_input_grad[0] else None
        return grad_weight, grad_weights

    @staticmethod
    def array_backward(ctx, grad):
        from .indexing import _key, _write
        xp = ctx.xp
        ids, bag_of, starts, sizes, kept = ctx.keys
        weight, per_sample_weights = ctx.saved_arrays
        out = xp.zeros(ctx.shape, grad.dtype)
        if ctx.mode == "max":
            filled = grad if sizes.all() else grad[sizes > 0]
            _write(xp, out.reshape(-1), _key(0, ctx.winners), filled.reshape(-1), True)
            return out, None
        if ctx.mode == "mean":
            grad = grad / xp.maximum(sizes, 1).astype(grad.dtype)[:, None]
        spread = grad.take(bag_of, axis=0)
        grad_weights = None
        if per_sample_weights is not None:
            factors = per_sample_weights if kept is None else per_sample_weights[kept]
            if ctx.needs_input_grad[1]:
                grad_weights = (spread * weight.take(ids, axis=0)).sum(1)
                if kept is not None:
                    grad_weights, grad_kept = xp.zeros(per_sample_weights.shape, grad.dtype), grad_weights
                    grad_weights[kept] = grad_kept
            spread *= factors[:, None]
        if ctx.needs_input_grad[0]:
            _write(xp, out, _key(0, ids), spread, True)
        return out, grad_weights


def _equal_bags(ctx, weight, factors, ids, mode):
    """The bags of a (bags, length) ``ids`` reduced from their rows taken position-major, (length, bags, width): a
    reduction over the leading axis adds whole rows in order, as PyTorch does, and fast."""
    xp = ctx.xp
    bags, length = ids.shape
    picked = weight.take(ids.T.reshape(-1), axis=0).reshape(length, bags, -1)
    if factors is not None:
        picked *= factors.reshape(bags, length).T[:, :, None]
    if mode == "max":
        out = picked.max(axis=0)
        first = xp.where(picked == out, xp.arange(length)[:, None, None], length).min(axis=0) % length   # NaN: 0
        ctx.winners = (xp.take_along_axis(ids, first, axis=1) * weight.shape[1] + xp.arange(weight.shape[1]))
        ctx.winners = ctx.winners.reshape(-1)
        return out
    out = picked.sum(axis=0)
    if mode == "mean":
        out /= out.dtype.type(length)
    return out


def _first_maxima(xp, picked, maxima, bag_of, starts, sizes, ids):
    """For each non-empty bag and column, the flat weight position of the first row holding the bag's maximum."""
    width = picked.shape[1]
    count = picked.shape[0]
    position = xp.where(picked == maxima.take(bag_of, axis=0), xp.arange(count)[:, None], count)
    first = xp.minimum(_compat.reduceat(xp, "minimum", position, starts[sizes > 0]), count - 1)   # NaN maxima
    return (ids.take(first) * width + xp.arange(width)).reshape(-1)
