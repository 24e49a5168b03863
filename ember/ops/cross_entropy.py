"""Cross entropy of (N, C) logits and in-range class indices as one primitive: log-softmax and the pick of each row's
target in one forward, softmax minus the one-hot target in one backward, instead of a dozen small ops each way."""
import numpy

from .. import _dtype
from .._backend import xp_of
from ..autograd import grad_mode
from ..autograd._saved import keep_versions
from ..autograd.function import Primitive, dispatch_hooks, shown_node
from .._tensor import _make
from . import _buffers, _parallel
from ._summation import sum_array
from ._util import name_node, quiet

__all__ = []


class CrossEntropyRows(Primitive):
    """Per-row losses -log_softmax(a)[i, target[i]], reduced by ``reduction`` ('none', 'sum' or 'mean') with the
    float steps of ``sum()`` and ``mean()``; ``target`` is an int64 array of valid class indices."""

    # PyTorch's nll_loss of log_softmax: the loss node lists the log-softmax's node, which lists the logits
    graph_inputs = staticmethod(lambda node, edges: (_shown("LogSoftmaxBackward0", edges[0]),))

    @staticmethod
    @quiet
    def forward(ctx, a, target, reduction="none"):
        xp = ctx.xp
        keep = ctx.needs_input_grad[0]
        # shifted rows, then their exponentials in place (the targets' entries picked first): one array of the
        # logits' size, pooled when kept for backward (a fresh one was faulted in again every step)
        exp = _buffers.empty(xp, a.shape, a.dtype) if keep and a.flags.c_contiguous else xp.empty_like(a)
        picked, total = xp.empty(a.shape[:1], exp.dtype), xp.empty(a.shape[:1] + (1,), exp.dtype)

        def part(start, stop):   # rows start:stop, each computed from its own row alone: any cut gives the same bits
            block = exp[start:stop]
            xp.subtract(a[start:stop], a[start:stop].max(axis=1, keepdims=True), out=block)
            picked[start:stop] = block[xp.arange(stop - start), target[start:stop]]
            xp.exp(block, out=block)
            block.sum(axis=1, keepdims=True, out=total[start:stop])   # the method: xp.sum's call, two frames fewer
            if keep:
                block /= total[start:stop]
        if a.size < 2 * _parallel.MIN_ELEMENTS or type(a) is not numpy.ndarray:   # parts' one-call test, inline
            part(0, a.shape[0])
        else:
            _parallel.parts(a.shape[0], a.size, part)
        # the same float steps as log_softmax followed by a gather, so the values equal the general path's
        losses = -(picked - xp.log(total)[:, 0])
        if keep:
            ctx.save_for_backward(a)
            ctx.probabilities, ctx.target, ctx.reduction = exp, target, reduction
        if reduction == "none":
            return losses
        losses = xp.asarray(sum_array(losses, (0,)))   # Sum's order of adds, as the general path's loss.sum()
        return losses if reduction == "sum" else xp.true_divide(losses, float(target.shape[0]))

    @staticmethod
    def backward(ctx, grad):
        a, = ctx.saved_tensors
        target = ctx.target
        # under create_graph the softmax is recomputed from the input so that the gradient is differentiable
        probabilities = a.softmax(1) if grad_mode.is_grad_enabled() else _make(ctx.probabilities)
        one_hot = probabilities.new_zeros(tuple(probabilities.shape))
        one_hot._data[xp_of(target).arange(target.shape[0]), target] = 1
        if ctx.reduction == "mean":
            grad = grad / float(target.shape[0])
        return (probabilities - one_hot) * (grad.unsqueeze(1) if ctx.reduction == "none" else grad), None, None

    @staticmethod
    def array_backward(ctx, grad):
        target = ctx.target
        rows = ctx.xp.arange(target.shape[0])
        probabilities = ctx.probabilities   # not written: it may be read again (retain_graph)
        if ctx.reduction == "mean":
            grad = grad / float(target.shape[0])
        # (p - onehot) * grad in one pass: the product everywhere, then the targets' entries again from p - 1
        gradient = _buffers.empty(ctx.xp, probabilities.shape, probabilities.dtype)
        ctx.xp.multiply(probabilities, grad[:, None] if ctx.reduction == "none" else grad, out=gradient)
        gradient[rows, target] = (probabilities[rows, target] - 1) * grad
        return gradient, None, None


def _shown(name, edge):
    node = shown_node(name, (edge,))
    return None if node is None else (node, 0)


def fused_cross_entropy(input, target, weight, ignore_index, reduction, label_smoothing):
    """The loss through ``CrossEntropyRows`` when the plain case applies (no dispatch hook active, 2-D float logits,
    int64 targets all in range and none ignored, no weights or smoothing); None otherwise."""
    if dispatch_hooks or weight is not None or label_smoothing or reduction not in ("mean", "sum", "none"):
        return None
    if input.ndim != 2 or target.ndim != 1 or target.dtype is not _dtype.int64 or \
            input.dtype not in (_dtype.float32, _dtype.float64) or target.device != input.device:
        return None
    count, classes = input.shape
    if count == 0 or classes == 0 or target.shape[0] != count:
        return None
    labels = target._data   # one maximum over the labels as unsigned: a negative one wraps past every class
    if int(labels.view(labels.dtype.str.replace("i", "u")).max()) >= classes or 0 <= ignore_index < classes and \
            bool((labels == ignore_index).any()):
        return None
    return keep_versions(name_node(CrossEntropyRows.apply(input, labels, reduction), "NllLossBackward0"), target)
