"""``embedding(..., sparse=True)``: rows picked from the weight, whose gradient is a sparse COO tensor holding one
row per looked-up index (padding rows left out), as PyTorch gives it."""
from .. import autograd
from .._tensor import _make
from ._coo import _build

__all__ = ["SparseEmbedding"]


class SparseEmbedding(autograd.Function):
    """weight[indices], with a sparse gradient for the weight."""

    @staticmethod
    def forward(ctx, weight, indices, padding_idx, scale_grad_by_freq):
        ctx.save_for_backward(indices)
        ctx.shape, ctx.padding_idx, ctx.scale = tuple(weight.shape), padding_idx, scale_grad_by_freq
        return weight.index_select(0, indices)

    @staticmethod
    def backward(ctx, grad):
        if ctx.scale:
            raise RuntimeError("embedding_backward: scale_grad_by_freq not supported with sparse gradients")
        indices, = ctx.saved_tensors
        if ctx.padding_idx is not None:
            keep = _make((indices._data != ctx.padding_idx).nonzero()[0])
            indices, grad = indices.index_select(0, keep), grad.index_select(0, keep)
        return _build(indices.reshape(1, -1), grad, ctx.shape, indices.numel() <= 1), None, None, None
