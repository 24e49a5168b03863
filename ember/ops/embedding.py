"""Embedding lookups: rows of a weight matrix picked by index, and bags of them reduced."""
from .. import _dtype
from .._backend import xp_of
from .._tensor import _make
from ..autograd.function import Primitive, composite
from ..autograd.grad_mode import no_grad
from ._util import name_node

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
    rows = weight.shape[0]
    if padding_idx is not None:
        if not -rows <= padding_idx < rows:
            raise AssertionError("Padding_idx must be within num_embeddings")
        padding_idx = padding_idx % rows
    if max_norm is not None or sparse and weight.requires_grad:   # these paths index before _Rows checks
        _check_range(input._data, rows)
    if max_norm is not None:
        with no_grad():
            used = input.reshape(-1).unique()
            norms = weight[used].norm(norm_type, dim=1, keepdim=True)
            scale = (max_norm / (norms + 1e-7)).clamp(max=1.0)
            weight._data[used._data] = (weight[used] * scale)._data
            weight._version_counter[0] += 1
    flat = input.reshape(-1)
    if sparse and weight.requires_grad:   # its weight gradient is a sparse tensor
        from ..sparse._embedding import SparseEmbedding
        return SparseEmbedding.apply(weight, flat, padding_idx, scale_grad_by_freq).reshape(
            tuple(input.shape) + (weight.shape[1],))
    if padding_idx is not None or scale_grad_by_freq:
        weight = _GradientMask.apply(weight, flat, padding_idx, scale_grad_by_freq)
    return name_node(_Rows.apply(weight, input._data), "EmbeddingBackward0")


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
        return weight[indices]

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
    from .creation import arange, zeros
    if mode not in ("sum", "mean", "max"):
        raise ValueError("mode has to be one of sum, mean or max")
    if per_sample_weights is not None and mode != "sum":
        raise NotImplementedError("embedding_bag: per_sample_weights was not None. per_sample_weights is only "
                                  f"supported for mode='sum' (got mode='{mode}'). Please open a feature request on "
                                  "GitHub.")
    if input.ndim == 2:
        bags, length = input.shape
        offsets = arange(0, bags * length, length, device=input.device)
        input = input.reshape(-1)
        if per_sample_weights is not None:
            per_sample_weights = per_sample_weights.reshape(-1)
    elif offsets is None:
        raise ValueError("offsets has to be a 1D Tensor but got None")
    if include_last_offset:
        offsets = offsets[:-1]
    bags = offsets.shape[0]
    rows = embedding(input, weight, None, max_norm, norm_type, scale_grad_by_freq)
    keep = (input != padding_idx) if padding_idx is not None else None
    if per_sample_weights is not None:
        rows = rows * per_sample_weights.unsqueeze(1)
    positions = arange(input.shape[0], device=input.device)
    bag_of = (positions.unsqueeze(1) >= offsets.unsqueeze(0)).sum(1) - 1
    if keep is not None:
        rows = rows * keep.unsqueeze(1).to(rows.dtype)
    if mode == "max":
        out = zeros(bags, weight.shape[1], dtype=weight.dtype, device=weight.device) - float("inf")
        out = out.scatter_reduce(0, bag_of.unsqueeze(1).expand_as(rows), rows, "amax", include_self=True)
        return out.where(out > float("-inf"), 0.0)
    summed = zeros(bags, weight.shape[1], dtype=weight.dtype, device=weight.device).index_add(0, bag_of, rows)
    if mode == "sum":
        return summed
    counts = zeros(bags, dtype=weight.dtype, device=weight.device).index_add(
        0, bag_of, keep.to(weight.dtype) if keep is not None else rows.new_ones(rows.shape[0]))
    return summed / counts.clamp(min=1).unsqueeze(1)
