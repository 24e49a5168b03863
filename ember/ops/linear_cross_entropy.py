"""``linear_cross_entropy``: the cross entropy of linearly projected inputs. Without options it is ``linear`` then
``cross_entropy``; with options (a ``LinearCrossEntropyOptions``) the rows run in chunks through one primitive, so the
(N, C) logits are only ever held one chunk of rows at a time, as PyTorch's chunked path does."""
import math

import numpy

from .. import _dtype
from .._tensor import _make
from .._warnings import warn
from ..autograd.function import Primitive
from ._util import name_node, quiet
from ._kernel_dtypes import cpp_type_name
from .linear import linear
from .loss import cross_entropy

__all__ = []


def _row_coefficients(xp, target, weight, ignore_index, classes, acc):
    """Each row's class weight (0 where ignored) in ``acc`` and the targets with ignored rows pointed at class 0;
    raises PyTorch's chunked path's errors for targets out of range (the class weights' lookup first)."""
    kept = target != ignore_index
    safe = xp.where(kept, target, 0)
    if weight is not None:
        if safe.size and (safe.min() < 0 or safe.max() >= weight.shape[0]):
            raise IndexError("index out of range in self")
        coefficients = xp.where(kept, weight[safe].astype(acc), 0).astype(acc, copy=False)
    else:
        coefficients = kept.astype(acc)
    outside = (safe < 0) | (safe >= classes)
    if outside.any():
        first = int(safe[outside][0])
        raise RuntimeError(f"index {first} is out of bounds for dimension 1 with size {classes}")
    return coefficients, safe


@quiet
def _chunks(xp, input, weight, bias, target, coefficients, chunk, acc, needs, per_row):
    """One pass over the rows, ``chunk`` at a time: the losses -log_softmax(x W^T + b)[target] times each row's
    coefficient (per row when ``per_row``, else their sum), and the gradients of that sum that ``needs`` (input,
    weight, bias) asks for, all in ``acc``. Only a (chunk, C) block of logits exists at any time."""
    rows, features = input.shape
    classes = weight.shape[0]
    weight = weight.astype(acc, copy=False)
    bias = None if bias is None else bias.astype(acc, copy=False)
    need_input, need_weight, need_bias = needs
    differentiate = need_input or need_weight or need_bias
    losses = xp.empty(rows, acc) if per_row else None
    total = xp.zeros((), acc)
    grad_input = xp.empty((rows, features), acc) if need_input else None
    grad_weight = xp.zeros((classes, features), acc) if need_weight else None
    grad_bias = xp.zeros(classes, acc) if need_bias else None
    block = xp.empty((min(chunk, rows), classes), acc)   # the one logits buffer, reused by every chunk
    scratch = None
    for start in range(0, rows, chunk):
        stop = min(start + chunk, rows)
        x = input[start:stop].astype(acc, copy=False)
        picks, k = target[start:stop], coefficients[start:stop]
        logits = block[:stop - start]
        xp.matmul(x, weight.T, out=logits)
        if bias is not None:
            logits += bias
        logits -= logits.max(axis=1, keepdims=True)
        index = xp.arange(stop - start)
        picked = logits[index, picks]
        xp.exp(logits, out=logits)
        denominator = logits.sum(axis=1)
        chunk_losses = xp.log(denominator) - picked
        if per_row:
            losses[start:stop] = k * chunk_losses
        else:
            total += k @ chunk_losses
        if not differentiate:
            continue
        logits *= (k / denominator)[:, None]   # k * softmax, then minus k at the target: k * (softmax - onehot)
        logits[index, picks] -= k
        if need_bias:
            grad_bias += logits.sum(axis=0)
        if need_input:
            xp.matmul(logits, weight, out=grad_input[start:stop])
        if need_weight:
            if start == 0:
                xp.matmul(logits.T, x, out=grad_weight)
            else:
                scratch = xp.empty_like(grad_weight) if scratch is None else scratch
                xp.matmul(logits.T, x, out=scratch)
                grad_weight += scratch
    return (losses if per_row else total), grad_input, grad_weight, grad_bias


class LinearCrossEntropyChunked(Primitive):
    """Cross entropy of (N, F) inputs projected by a (C, F) weight, computed in chunks of rows. 'mean' and 'sum'
    compute the gradients in forward and scale them in backward (once, unless ``allow_retain_graph``); 'none'
    recomputes them in backward, chunk by chunk, with the incoming gradient folded into each row's weight."""

    @staticmethod
    @quiet
    def forward(ctx, input, linear_weight, target, linear_bias, weight, reduction, ignore_index, chunk, acc,
                allow_retain_graph):
        xp = ctx.xp
        needs = ctx.needs_input_grad
        coefficients, safe = _row_coefficients(xp, target, weight, ignore_index, linear_weight.shape[0], acc)
        ctx.reduction, ctx.chunk, ctx.acc = reduction, chunk, acc
        if reduction == "none":
            losses = _chunks(xp, input, linear_weight, linear_bias, safe, coefficients, chunk, acc,
                             (False, False, False), True)[0]
            if any(needs):
                ctx.save_for_backward(input, linear_weight, linear_bias)
                ctx.coefficients, ctx.target = coefficients, safe
            return losses.astype(input.dtype)
        if reduction == "mean":
            total = coefficients.sum()
            coefficients = coefficients / (total if total else acc.type(numpy.nan))
        loss, *grads = _chunks(xp, input, linear_weight, linear_bias, safe, coefficients, chunk, acc,
                               (needs[0], needs[1], needs[3]), False)
        if reduction == "mean" and input.shape[0] == 0:
            loss = xp.full((), numpy.nan, acc)
        ctx.grads = [None if g is None else g.astype(input.dtype, copy=False) for g in grads]
        ctx.allow_retain_graph = allow_retain_graph
        return xp.asarray(loss, dtype=input.dtype)

    @staticmethod
    def backward(ctx, grad):
        needs = ctx.needs_input_grad
        if ctx.reduction == "none":
            input, linear_weight, linear_bias = ctx.saved_arrays
            coefficients = ctx.coefficients * grad._data.astype(ctx.acc)
            _, *grads = _chunks(ctx.xp, input, linear_weight, linear_bias, ctx.target, coefficients, ctx.chunk,
                                ctx.acc, (needs[0], needs[1], needs[3]), False)
            grads = [None if g is None else g.astype(input.dtype, copy=False) for g in grads]
        else:
            grads, scale = ctx.grads, grad._data
            if ctx.allow_retain_graph:
                grads = [None if g is None else g * scale for g in grads]
            else:
                if grads is None:
                    raise RuntimeError("linear_cross_entropy chunked backward called twice; retain_graph=True / "
                                       "double backward are not supported.")
                ctx.grads = None   # consumed, scaled in place, as PyTorch's chunked backward does
                for g in grads:
                    if g is not None:
                        g *= scale
        grad_input, grad_linear_weight, grad_linear_bias = (None if g is None else _make(g) for g in grads)
        return grad_input, grad_linear_weight, None, grad_linear_bias, None, None, None, None, None, None


def linear_cross_entropy(input, linear_weight, target, *, linear_bias=None, weight=None, reduction="mean",
                         ignore_index=None, label_smoothing=0.0, options=None):
    """``cross_entropy(linear(input, linear_weight, linear_bias), target, ...)``; with ``options``, computed in
    chunks of rows so the full logits are never held (PyTorch's conditions, fallback warning and errors)."""
    if input.dim() < 1 or input.dim() > 2:
        raise RuntimeError(f"expected input with dimensionality 1 or 2, got {input.dim()}")
    if linear_weight.dim() < 2:
        raise RuntimeError(f"expected linear_weight with dimensionality at least 2, got {linear_weight.dim()}")
    batches, in_features = tuple(input.shape[:-1]), input.shape[-1]
    if in_features != linear_weight.shape[-1]:
        raise RuntimeError("expected equal input and linear_weight last dimensions (in_features), "
                           f"got {input.shape[-1]} and {linear_weight.shape[-1]}, respectively")
    classes, out_features = linear_weight.shape[0], tuple(linear_weight.shape[1:-1])
    if linear_bias is not None and tuple(linear_bias.shape) != (classes, *out_features):
        raise RuntimeError(f"expected linear_bias shape {(classes, *out_features)}, got {tuple(linear_bias.shape)}")
    if out_features and not batches:
        raise RuntimeError(f"K-dimensional loss defined by linear_weight shape {tuple(linear_weight.shape)} requires"
                           f" batched input, (N, {in_features}), got unbatched input with shape "
                           f"{tuple(input.shape)}")
    logits_shape = (*batches, classes, *out_features)
    if tuple(target.shape) == logits_shape and ignore_index is not None:
        raise RuntimeError("ignore_index cannot be specified when target contains probabilities")
    ignore_index = -100 if ignore_index is None else ignore_index
    if options is not None:
        chunked = (not out_features and reduction in ("mean", "sum", "none") and label_smoothing == 0.0
                   and target.dtype is _dtype.int64)
        if chunked:
            return _chunked(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, options)
        bias_shape = tuple(linear_bias.shape) if linear_bias is not None else None
        warn("linear_cross_entropy: ``options`` ignored; chunked path needs reduction in "
                      "{'mean','sum','none'}, label_smoothing == 0, target.dtype == int64, out_features == (). Got "
                      f"reduction={reduction!r}, label_smoothing={label_smoothing}, target.dtype={target.dtype}, "
                      f"out_features={out_features}, tracing=False, linear_bias.shape={bias_shape}.", stacklevel=2)
    if out_features:
        linear_weight = linear_weight.reshape((math.prod(out_features, start=classes), in_features))
        if linear_bias is not None:
            linear_bias = linear_bias.reshape(math.prod(out_features, start=classes))
    logits = linear(input, linear_weight, linear_bias).reshape(logits_shape)
    return cross_entropy(logits, target, weight=weight, reduction=reduction, ignore_index=ignore_index,
                         label_smoothing=label_smoothing)


def _chunked(input, linear_weight, target, linear_bias, weight, reduction, ignore_index, options):
    """The chunked path: options resolved against this call, then ``LinearCrossEntropyChunked`` on 2-D input."""
    batched = input.dim() == 2
    if not batched:
        input, target = input.unsqueeze(0), target.unsqueeze(0)
    options = options._adjust(num_batches=input.shape[0], in_features=input.shape[1],
                              num_classes=linear_weight.shape[0], dtype=input.dtype, device=input.device)
    dtype, acc = input.dtype, options.acc_dtype
    if dtype is not acc and not (dtype in (_dtype.float16, _dtype.bfloat16) and acc is _dtype.float32):
        raise RuntimeError(f"linear_cross_entropy supports float32 acc_dtype with float16/bfloat16 inputs, but got "
                           f"{acc} acc_dtype and {dtype} inputs.")
    if linear_weight.dtype is not dtype:
        raise RuntimeError(f"expected m1 and m2 to have the same dtype, but got: {cpp_type_name(dtype)} != "
                           f"{cpp_type_name(linear_weight.dtype)}")
    result = LinearCrossEntropyChunked.apply(input, linear_weight, target, linear_bias, weight, reduction,
                                             ignore_index, options.batch_chunk_size, acc.numpy,
                                             options.allow_retain_graph)
    kind = "_no_reduction" if reduction == "none" else ""   # PyTorch's node names for its two chunked ops
    result = name_node(result, f"GeneratedBackwardFor_torch_nn__linear_cross_entropy_batch_chunked{kind}"
                               "_defaultBackward")
    return result if batched else result.squeeze(0)
