"""Attention: ``scaled_dot_product_attention`` and the multi-head attention forward behind ``nn.MultiheadAttention``.

Both are composed from matmul, softmax and dropout, so gradients (and double gradients) come from those ops.
"""
import math

import numpy

from .. import _dtype
from .._tensor import Tensor, _make
from ..backends.cuda import _sdp as _sdp_backends
from ..autograd._jvp import refuse_duals
from ..autograd.function import Primitive, composite
from ..autograd.grad_mode import is_grad_enabled
from . import _buffers, _parallel
from ._kernel_dtypes import cpp_type_name, refuse_complex
from ._util import name_node, quiet
from .activation import softmax
from .creation import ones, zeros, zeros_like
from .dropout import dropout, scaled_keep
from .linalg.products import baddbmm, bmm
from .linear import linear
from .padding import pad
from .rearrange import cat
from ._summation import sum_array

__all__ = []


def _attention_bias(attn_mask, is_causal, query_len, key_len, like):
    """The additive float bias (or None) for a boolean keep-mask, a float mask or the causal mask."""
    if is_causal:
        attn_mask = ones((query_len, key_len), dtype=_dtype.bool_, device=like.device).tril()
    if attn_mask is None or attn_mask.dtype is not _dtype.bool_:
        return attn_mask
    return zeros(attn_mask.shape, dtype=like.dtype, device=like.device).masked_fill(attn_mask.logical_not(),
                                                                                   float("-inf"))


def _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa):
    if query.ndim < 2 or key.ndim < 2 or value.ndim < 2:
        raise RuntimeError("Expected query, key, and value to all be  at least 2 dimensional, but got query.dim: "
                           f"{query.ndim} key.dim: {key.ndim} and value.dim: {value.ndim} instead.")
    if not (query.dtype is key.dtype is value.dtype):
        raise RuntimeError("Expected query, key, and value to have the same dtype, but got query.dtype: "
                           f"{cpp_type_name(query.dtype)} key.dtype: {cpp_type_name(key.dtype)} and value.dtype: "
                           f"{cpp_type_name(value.dtype)} instead.")
    if attn_mask is not None and attn_mask.dtype not in (_dtype.bool_, _dtype.float32, query.dtype):
        raise RuntimeError("Expected attn_mask dtype to be bool or float or to match query dtype, but got "
                           f"attn_mask.dtype: {cpp_type_name(attn_mask.dtype)} and  query.dtype: "
                           f"{cpp_type_name(query.dtype)} instead.")
    if is_causal and attn_mask is not None:
        raise RuntimeError("_scaled_dot_product_attention: Explicit attn_mask should not be set when is_causal=True")
    refuse_complex("softmax_lastdim_kernel_impl", query)   # where PyTorch's math backend first meets the dtype
    if not query.dtype.is_floating_point:
        raise RuntimeError(f"expected scalar type Float but found {_dtype.scalar_type_name(query.dtype)}")
    if enable_gqa and query.ndim >= 3 and (query.shape[-3] % key.shape[-3] or query.shape[-3] % value.shape[-3]):
        raise RuntimeError("Number of heads in key and value must divide the number of heads in ")   # (sic)
    if dropout_p > 1.0:
        raise RuntimeError(f"dropout probability has to be between 0 and 1, but got {dropout_p}")


def _broadcast_pair(a, b):
    """The broadcast of shapes ``a`` and ``b``, or PyTorch's error naming the last dim where they clash."""
    ndim = max(len(a), len(b))
    a, b = [1] * (ndim - len(a)) + list(a), [1] * (ndim - len(b)) + list(b)
    for i in reversed(range(ndim)):
        if a[i] != b[i] and 1 not in (a[i], b[i]):
            raise RuntimeError(f"The size of tensor a ({a[i]}) must match the size of tensor b ({b[i]}) at "
                               f"non-singleton dimension {i}")
    return [y if x == 1 else x for x, y in zip(a, b)]


def _check_shapes(query, key, value, bias):
    """PyTorch's errors for operands whose shapes do not fit: batch dims that do not broadcast, a key of another
    head size than the query, a value of another length than the key (its bmm's message), a mask that does not
    broadcast to the scores."""
    batch = _broadcast_pair(_broadcast_pair(query.shape[:-2], key.shape[:-2]), value.shape[:-2])
    rows = math.prod(batch)
    for expected, got in ((query.shape[-1], key.shape[-1]), (key.shape[-2], value.shape[-2])):
        if expected != got:
            raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{rows}, {expected}] "
                               f"but got: [{rows}, {got}].")
    if bias is not None:
        scores = batch + [query.shape[-2], key.shape[-2]]
        broadcast = _broadcast_pair(scores, bias.shape)
        if broadcast != scores:
            raise RuntimeError(f"output with shape {scores} doesn't match the broadcast shape {broadcast}")


def _check_backends(query, key, value, dropout_p):
    """PyTorch's error where ``nn.attention.sdpa_kernel`` left no CPU kernel for these inputs: the math backend off,
    and the flash one off or unable to take them (it needs 4-D inputs and no dropout)."""
    if not _sdp_backends["flash"]:
        raise RuntimeError("No viable backend for scaled_dot_product_attention was found. This is likely due to "
                           "turning off both the math kernel and the fused kernels.")
    if query.ndim != 4 or key.ndim != 4 or value.ndim != 4 or dropout_p > 0.0:
        raise RuntimeError("No available kernel.  Aborting execution.")


@composite("scaled_dot_product_attention", trace_inside=True)
def scaled_dot_product_attention(query, key, value, attn_mask=None, dropout_p=0.0, is_causal=False, scale=None,
                                 enable_gqa=False):
    """softmax(query @ key^T * scale + mask) @ value; a boolean ``attn_mask`` marks the positions to attend to.

    Rows whose every position is masked out give zeros, as in PyTorch's kernels."""
    if getattr(type(attn_mask), "_applies_itself", False):
        # a bias subclass (nn.attention.bias.CausalBias) applies itself
        return type(attn_mask).__torch_function__(
            scaled_dot_product_attention, (type(attn_mask),), (query, key, value, attn_mask),
            {"dropout_p": dropout_p, "is_causal": is_causal, "scale": scale, "enable_gqa": enable_gqa})
    _check_sdpa(query, key, value, attn_mask, dropout_p, is_causal, enable_gqa)
    if query.ndim == 4 and _sdp_backends["flash"] and query.device.type == "cpu":
        if attn_mask is not None and attn_mask.ndim < 2:   # PyTorch's 4-d CPU checks read the mask's dim -2
            raise IndexError("Dimension specified as -2 but tensor has no dimensions" if attn_mask.ndim == 0 else
                             "Dimension out of range (expected to be in range of [-1, 0], but got -2)")
    if not _sdp_backends["math"]:   # sdpa_kernel left out the math backend
        _check_backends(query, key, value, dropout_p)
    query_len, key_len = query.shape[-2], key.shape[-2]
    scale = 1.0 / math.sqrt(query.shape[-1]) if scale is None else scale
    if enable_gqa and query.ndim >= 3:
        key = key.repeat_interleave(query.shape[-3] // key.shape[-3], -3)
        value = value.repeat_interleave(query.shape[-3] // value.shape[-3], -3)
    if _takes_flash(query, key, value, dropout_p):   # PyTorch's CPU flash kernel has no forward derivative
        refuse_duals("_scaled_dot_product_flash_attention_for_cpu", query, key, value)
    bias = _attention_bias(attn_mask, is_causal, query_len, key_len, query)
    if bias is not None and bias.ndim < 2:   # the kernels below index the mask's last two dims
        bias = bias.reshape((1,) * (2 - bias.ndim) + tuple(bias.shape))
    _check_shapes(query, key, value, bias)
    if key_len == 0:   # no keys: PyTorch's kernels give zeros (and zero gradients)
        return (query.matmul(key.transpose(-2, -1)) * scale).matmul(value)
    if query.dtype is key.dtype is value.dtype and query.dtype in (_dtype.float32, _dtype.float64):
        keep = None
        if dropout_p > 0.0:   # the mask dropout() would draw on the weights, drawn the same way
            shape = numpy.broadcast_shapes(tuple(query.shape[:-1]) + (key_len,), tuple(key.shape[:-2]) + (1, 1),
                                           () if bias is None else tuple(bias.shape))
            if dropout_p == 1.0:
                keep = zeros(shape, dtype=query.dtype, device=query.device)
            else:
                keep = scaled_keep(shape, query, dropout_p)
        return _math_node(ScaledDotProductFlashAttentionForCpu.apply(query, key, value, bias, keep, scale), query,
                          key, value, dropout_p)
    if query.dtype is key.dtype is value.dtype and query.dtype in (_dtype.float16, _dtype.bfloat16) and \
            dropout_p == 0.0:
        return _math_node(_reduced_attention(query, key, value, bias, scale), query, key, value, dropout_p)
    scores = query.matmul(key.transpose(-2, -1)) * scale
    if bias is None:
        weights = softmax(scores, -1)
    else:
        scores = scores + bias
        # Fully masked rows would be 0/0 in softmax; they give zero weights (and zero gradients) instead.
        dead = (scores.detach() == float("-inf")).all(-1, keepdim=True)
        weights = softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0)
    if dropout_p > 0.0:
        weights = dropout(weights, dropout_p, training=True)
    return _math_node(weights.matmul(value), query, key, value, dropout_p)


def _takes_flash(query, key, value, dropout_p):
    """Whether PyTorch runs this attention in its CPU flash kernel: 4-d inputs of one batch shape and head size
    (key and value already repeated for grouped queries), no dropout."""
    return query.device.type == "cpu" and query.ndim == 4 and _sdp_backends["flash"] and dropout_p == 0.0 and \
        query.shape[:-2] == key.shape[:-2] == value.shape[:-2] and query.shape[-1] == key.shape[-1] == value.shape[-1]


def _math_node(out, query, key, value, dropout_p):
    """``out`` under the name of the node PyTorch's math backend ends with, where its CPU flash kernel does not
    take these inputs."""
    if out.grad_fn is None or query.device.type != "cpu" or _takes_flash(query, key, value, dropout_p):
        return out
    if query.dtype in (_dtype.float16, _dtype.bfloat16):   # it computes in float32 and rounds back
        return name_node(out, "ToCopyBackward0")
    return name_node(out, "MmBackward0" if query.ndim == 2 else "UnsafeViewBackward0")


def _reduced_attention(query, key, value, bias, scale):
    """Attention of 16-bit floats as PyTorch's CPU flash kernel computes it: scores, their softmax's exponentials
    and its sums in float32; the exponentials rounded to the inputs' dtype before the product with ``value``
    (accumulated in float32), divided by the sums and rounded once. (Its vectorized exp is an approximation: rows
    of 8 or more keys may round an element the other way.)"""
    dtype = query.dtype
    scores = query.float().matmul(key.float().transpose(-2, -1)) * scale
    dead = None
    if bias is not None:
        scores = scores + bias.float()
        dead = (scores.detach() == float("-inf")).all(-1, keepdim=True)   # fully masked rows give zeros
        scores = scores.masked_fill(dead, 0.0)
    exps = (scores - scores.detach().amax(-1, keepdim=True)).exp()
    out = exps.to(dtype).float().matmul(value.float()) / exps.sum(-1, keepdim=True)
    if dead is not None:
        out = out.masked_fill(dead, 0.0)
    return name_node(out.to(dtype), "ScaledDotProductFlashAttentionForCpuBackward0", (query, key, value))


class ScaledDotProductFlashAttentionForCpu(Primitive):
    """softmax(query @ key^T * scale + bias) * keep @ value, with ``bias`` (an additive float mask) and ``keep``
    (dropout's scaled keep-mask) optional. The scores are formed transposed, (..., key, query), so that softmax
    reduces across rows, which NumPy vectorizes, rather than along rows as short as the key length."""
    graph_inputs = (0, 1, 2)   # query, key, value: what PyTorch's node lists


    @staticmethod
    @quiet
    def forward(ctx, query, key, value, bias, keep, scale):
        xp = ctx.xp
        # arrays kept for backward are pooled (fresh ones would fault their pages in on every step); without a
        # backward, the weights on the host are only a block's scratch (see ``_in_blocks``)
        kept = True in ctx.needs_input_grad
        empty = _buffers.empty if kept else _fresh
        shape = numpy.broadcast_shapes(key.shape[:-2], query.shape[:-2]) + (key.shape[-2], query.shape[-2])
        if bias is not None:
            shape = numpy.broadcast_shapes(shape, bias.shape[:-2] + bias.shape[:-3:-1])
        out = _output(xp, query, key, value, shape, _buffers.empty)
        weights = dropped = None
        if kept or xp is not numpy or len(shape) < 3:
            weights = empty(xp, shape, query.dtype)
            dropped = weights if keep is None else empty(xp, shape, query.dtype)
        arrays = weights, dropped, out, query, key, value, bias, keep
        if xp is not numpy or len(shape) < 3:
            _attend(xp, scale, *arrays)
        else:
            _in_blocks(lambda *parts, **kw: _attend(xp, scale, *parts, **kw), shape, query.dtype, arrays)
        ctx.save_for_backward(query, key, value, bias, keep)
        ctx.weights, ctx.dropped, ctx.scale = weights, dropped, scale
        return out

    @staticmethod
    def backward(ctx, grad):
        query, key, value, bias, keep = ctx.saved_tensors
        needs = ctx.needs_input_grad
        if is_grad_enabled():   # differentiating the gradient: the same formula in differentiable ops
            weights = _attention_weights(query, key, bias, ctx.scale).transpose(-2, -1)
        else:
            weights = _make(ctx.weights)
        keep = None if keep is None else keep.transpose(-2, -1)
        grads = _attention_grad(grad, query, key, value, weights, keep, ctx.scale, needs)
        return grads + (None, None)

    @staticmethod
    @quiet
    def array_backward(ctx, grad):
        """``_attention_grad``'s steps on arrays, the score gradient formed in place in one array; on the host in
        parts of the leading dim on the intra-op threads (each part's gradients from its own slices: the same bits)."""
        xp = ctx.xp
        query, key, value, _, keep = ctx.saved_arrays
        needs, weights = ctx.needs_input_grad, ctx.weights
        keep = None if keep is None else xp.swapaxes(keep, -1, -2)
        shape, dtype = weights.shape, weights.dtype
        lead = shape[:-2]

        def empty(*dims):
            return _buffers.empty(xp, dims, dtype)
        grad_value = empty(*lead, shape[-2], grad.shape[-1]) if needs[2] else None
        grad_scores = empty(*shape) if needs[0] or needs[1] or needs[3] else None
        grad_query = empty(*lead, shape[-1], key.shape[-1]) if needs[0] else None
        grad_key = empty(*lead, shape[-2], query.shape[-1]) if needs[1] else None
        arrays = grad, ctx.dropped, value, keep, weights, key, query, grad_value, grad_scores, grad_query, grad_key
        if xp is not numpy or len(shape) < 3:
            _attention_grad_arrays(xp, ctx.scale, *arrays)
        else:
            _in_blocks(lambda *parts: _attention_grad_arrays(xp, ctx.scale, *parts), shape, dtype, arrays)
        return grad_query, grad_key, grad_value, xp.swapaxes(grad_scores, -1, -2) if needs[3] else None, None, None


def _attention_grad_arrays(xp, scale, grad, dropped, value, keep, weights, key, query, grad_value, grad_scores,
                           grad_query, grad_key):
    """The attention backward into the gradient arrays given (None: not wanted; ``grad_scores`` is needed for the
    query's, key's and bias's), from the transposed weights (..., key, query), dropped weights and keep-mask."""
    if grad_value is not None:
        xp.matmul(dropped, grad, out=grad_value)
    if grad_scores is None:
        return
    xp.matmul(value, xp.swapaxes(grad, -1, -2), out=grad_scores)
    if keep is not None:
        grad_scores *= keep
    grad_scores -= sum_array(grad_scores * weights, -2, keepdims=True)   # the Tensor backward's bits
    grad_scores *= weights
    if grad_query is not None:
        xp.matmul(xp.swapaxes(grad_scores, -1, -2), key, out=grad_query)
        grad_query *= scale
    if grad_key is not None:
        xp.matmul(grad_scores, query, out=grad_key)
        grad_key *= scale


def _attend(xp, scale, weights, dropped, out, query, key, value, bias, keep, columns=None):
    """The attention forward into ``weights`` (the softmax weights, transposed: (..., key, query)), ``dropped``
    (them times keep^T, or weights itself) and ``out``. ``columns``, where given, is ``weights`` as one 2-D (key,
    everything else) view, over which the softmax runs with long rows (see ``_in_blocks``): the same bits."""
    flat, axis = (weights, -2) if columns is None else (columns, 0)
    xp.matmul(key, xp.swapaxes(query, -1, -2), out=weights)
    flat *= scale
    if bias is not None:
        weights += xp.swapaxes(bias, -1, -2)
    peak = flat.max(axis, keepdims=True)
    if bias is not None:   # a query masked out everywhere gets zero weights, not 0/0
        peak[~xp.isfinite(peak)] = 0
    flat -= peak
    xp.exp(flat, out=flat)
    total = flat.sum(axis, keepdims=True)
    if bias is not None:
        total[total == 0] = 1
    flat /= total
    if keep is not None:
        xp.multiply(weights, xp.swapaxes(keep, -1, -2), out=dropped)
    xp.matmul(xp.swapaxes(dropped, -1, -2), value, out=out)


BLOCK = 1 << 18
"""Score elements per block of the attention forward (and of its backward) on the host: each block's scores stay in
cache from their product through the softmax to the output's product, instead of the whole (batch, heads, key, query)
array going to memory and back once per step (measured, one (32, 4, 64, 64) call after a training step: 2.02 ms
whole, 1.8-1.9 in blocks of 2**16 to 2**18 elements at one thread; 1.34 / 1.15 / 1.20 ms at two threads in blocks of
2**16 / 2**18 / one block per part)."""


def _in_blocks(attend, shape, dtype, arrays):
    """``attend(*parts)`` (the forward's ``_attend`` or the backward's ``_attention_grad_arrays``) on blocks of the
    first axis of ``shape`` (the scores' shape, with at least one leading dim), each array cut alike where it spans
    that axis and passed whole where it broadcasts along it; the blocks in parts at once on the intra-op threads.
    Every step is elementwise or reduces along the last two axes, so the blocks give the same bits as the whole.
    Where the first array is None (the forward's weights, without a backward), each part's blocks share scratch
    arrays for the first two (weights and dropped weights). Without the last, the dropout keep-mask, both are one
    (key, rest) array passed as ``columns`` too: its max and sum over keys run along rows of the block's every query
    (thousands long) instead of the query's (one head's few dozen), 136 -> 22 us each for a (16, 4, 64, 64) block."""
    count, size = shape[0], math.prod(shape)
    rows = max(1, BLOCK * count // max(size, 1))
    scratch, keep = arrays[0] is None, arrays[-1]
    columns = scratch and keep is None   # the weights laid out as (key, block's leading dims..., query)
    keys, inner = shape[-2], math.prod(shape[1:-2]) * shape[-1]

    def run(start, stop):
        if columns:   # rows padded off a power-of-two stride, which made the first product 20 % slower
            scores = numpy.empty((keys, min(rows, stop - start) * inner + COLUMN_PAD), dtype)
        elif scratch:
            weights = numpy.empty((min(rows, stop - start),) + shape[1:], dtype)
            dropped = weights if keep is None else numpy.empty_like(weights)
        for first in range(start, stop, rows):
            cut = slice(first, min(first + rows, stop))
            parts = [None if a is None else _parallel._cut(a, -len(shape), count, cut) for a in arrays]
            n = cut.stop - cut.start
            if columns:
                flat = scores[:, :n * inner]
                parts[:2] = [numpy.moveaxis(flat.reshape((keys, n) + shape[1:-2] + shape[-1:]), 0, -2)] * 2
                attend(*parts, columns=flat)
                continue
            if scratch:
                parts[:2] = weights[:n], dropped[:n]
            attend(*parts)
    _parallel.parts(count, 4 * size, run)


COLUMN_PAD = 32
"""Elements after each key's row of the forward's scratch scores (see ``_in_blocks``)."""


def _fresh(xp, shape, dtype):
    return xp.empty(shape, dtype)


def _output(xp, query, key, value, weights_shape, empty):
    """The (..., heads, query, value dim) output array, from ``empty``. Its axes lie in memory in the order of the
    query's (PyTorch's kernel makes its output ``empty_like`` the query) when query, key and value share their
    leading dims and head width: multi-head attention's heads, views of one (N, L, heads, head_dim) projection,
    then merge as a view."""
    shape = weights_shape[:-2] + (weights_shape[-1], value.shape[-1])
    if xp is numpy and query.shape[:-2] == key.shape[:-2] == value.shape[:-2] == weights_shape[:-2] and \
            value.shape[-1] == query.shape[-1]:
        order = numpy.argsort([-stride for stride in query.strides], kind="stable")
        return empty(xp, [shape[i] for i in order], query.dtype).transpose(numpy.argsort(order))
    return empty(xp, shape, query.dtype)


def _attention_weights(query, key, bias, scale):
    """The softmax weights of ``ScaledDotProductFlashAttentionForCpu`` in differentiable ops, (..., query, key)."""
    scores = query.matmul(key.transpose(-2, -1)) * scale
    if bias is None:
        return softmax(scores, -1)
    scores = scores + bias
    dead = (scores.detach() == float("-inf")).all(-1, keepdim=True)
    return softmax(scores.masked_fill(dead, 0.0), -1).masked_fill(dead, 0.0)


def _attention_grad(grad, query, key, value, weights, keep, scale, needs):
    """Gradients for query, key, value and bias from the transposed weights (..., key, query) and keep-mask."""
    dropped = weights if keep is None else weights * keep
    grad_value = dropped.matmul(grad) if needs[2] else None
    if not (needs[0] or needs[1] or needs[3]):
        return None, None, grad_value, None
    grad_weights = value.matmul(grad.transpose(-2, -1))
    if keep is not None:
        grad_weights = grad_weights * keep
    grad_scores = weights * (grad_weights - (grad_weights * weights).sum(-2, keepdim=True))
    grad_query = grad_scores.transpose(-2, -1).matmul(key) * scale if needs[0] else None
    grad_key = grad_scores.matmul(query) * scale if needs[1] else None
    return grad_query, grad_key, grad_value, grad_scores.transpose(-2, -1) if needs[3] else None


def _check_mask(mask, mask_name, other_type, other_name, check_other):
    """PyTorch's checks of a mask given to ``_canonical_mask``: bool or floating, and (warned) of ``other_type``."""
    if mask.dtype is not _dtype.bool_ and not mask.dtype.is_floating_point:
        raise AssertionError(f"only bool and floating types of {mask_name} are supported")
    if check_other and other_type is not None and mask.dtype is not other_type:
        import warnings
        warnings.warn(f"Support for mismatched {mask_name} and {other_name} is deprecated. Use same type for both "
                      "instead.", stacklevel=3)   # at _canonical_mask's caller, as PyTorch's


def _canonical_mask(mask, mask_name, other_type, other_name, target_type, check_other=True):
    """A bool mask (True = masked out) as an additive float mask of ``target_type``; float masks pass through.
    (The layers use ``nn.functional._canonical_mask``, which makes PyTorch's public calls.)"""
    if mask is None:
        return None
    _check_mask(mask, mask_name, other_type, other_name, check_other)
    if mask.dtype is _dtype.bool_:
        return zeros_like(mask, dtype=target_type).masked_fill(mask, float("-inf"))
    return mask


def _none_or_dtype(input):
    if input is None:
        return None
    if isinstance(input, Tensor):
        return input.dtype
    raise RuntimeError("input to _none_or_dtype() must be None or torch.Tensor")


def _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads):
    """Whether the inputs are batched (3-D) or unbatched (2-D), with PyTorch's assertions on the other shapes."""
    if query.ndim == 3:
        if key.ndim != 3 or value.ndim != 3:
            raise AssertionError("For batched (3-D) `query`, expected `key` and `value` to be 3-D but found "
                                 f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 2:
            raise AssertionError("For batched (3-D) `query`, expected `key_padding_mask` to be `None` or 2-D but "
                                 f"found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None and attn_mask.ndim not in (2, 3):
            raise AssertionError("For batched (3-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D but "
                                 f"found {attn_mask.ndim}-D tensor instead")
        return True
    if query.ndim == 2:
        if key.ndim != 2 or value.ndim != 2:
            raise AssertionError("For unbatched (2-D) `query`, expected `key` and `value` to be 2-D but found "
                                 f"{key.ndim}-D and {value.ndim}-D tensors respectively")
        if key_padding_mask is not None and key_padding_mask.ndim != 1:
            raise AssertionError("For unbatched (2-D) `query`, expected `key_padding_mask` to be `None` or 1-D but "
                                 f"found {key_padding_mask.ndim}-D tensor instead")
        if attn_mask is not None:
            if attn_mask.ndim not in (2, 3):
                raise AssertionError("For unbatched (2-D) `query`, expected `attn_mask` to be `None`, 2-D or 3-D "
                                     f"but found {attn_mask.ndim}-D tensor instead")
            expected = (num_heads, query.shape[0], key.shape[0])
            if attn_mask.ndim == 3 and tuple(attn_mask.shape) != expected:
                raise AssertionError(f"Expected `attn_mask` shape to be {expected} but got {attn_mask.shape}")
        return False
    raise AssertionError(f"query should be unbatched 2D or batched 3D tensor but received {query.ndim}-D query "
                         "tensor")


def _batch_major(x):
    """Whether a (L, N, E) input is the transpose of a contiguous (N, L, E) one (a batch_first module's input)."""
    return x.ndim == 3 and not x.is_contiguous() and x.transpose(0, 1).is_contiguous()


def _linear(input, weight, bias):
    """``linear`` on a (L, N, E) input, run on its (N, L, E) memory when that is the contiguous one."""
    if _batch_major(input):
        return linear(input.transpose(0, 1), weight, bias).transpose(0, 1)
    return linear(input, weight, bias)


def _in_projection(query, key, value, in_proj_weight, in_proj_bias, q_proj_weight, k_proj_weight, v_proj_weight,
                   use_separate_proj_weight):
    if not use_separate_proj_weight and query is key and key is value:   # self-attention: one product, as PyTorch
        return _linear(query, in_proj_weight, in_proj_bias).unflatten(-1, (3, query.shape[-1])).unbind(-2)
    biases = (None, None, None) if in_proj_bias is None else in_proj_bias.chunk(3)
    if use_separate_proj_weight:
        weights = (q_proj_weight, k_proj_weight, v_proj_weight)
    else:
        weights = in_proj_weight.chunk(3)
    return tuple(linear(x, w, b) for x, w, b in zip((query, key, value), weights, biases))


def _attention_mask_3d(attn_mask, batch_heads, query_len, key_len):
    if attn_mask.ndim == 2:
        if tuple(attn_mask.shape) != (query_len, key_len):
            raise RuntimeError(f"The shape of the 2D attn_mask is {attn_mask.shape}, but should be "
                               f"{(query_len, key_len)}.")
        return attn_mask.unsqueeze(0)
    if attn_mask.ndim == 3:
        if tuple(attn_mask.shape) != (batch_heads, query_len, key_len):
            raise RuntimeError(f"The shape of the 3D attn_mask is {attn_mask.shape}, but should be "
                               f"{(batch_heads, query_len, key_len)}.")
        return attn_mask
    raise RuntimeError(f"attn_mask's dimension {attn_mask.ndim} is not supported")


def multi_head_attention_forward(query, key, value, embed_dim_to_check, num_heads, in_proj_weight, in_proj_bias,
                                 bias_k, bias_v, add_zero_attn, dropout_p, out_proj_weight, out_proj_bias,
                                 training=True, key_padding_mask=None, need_weights=True, attn_mask=None,
                                 use_separate_proj_weight=False, q_proj_weight=None, k_proj_weight=None,
                                 v_proj_weight=None, static_k=None, static_v=None, average_attn_weights=True,
                                 is_causal=False):
    """Multi-head attention on (L, N, E) inputs (or unbatched (L, E)); returns (output, weights or None).

    Masks use PyTorch's MultiheadAttention convention: True (or -inf) marks positions NOT to attend."""
    is_batched = _mha_shape_check(query, key, value, key_padding_mask, attn_mask, num_heads)
    if not is_batched:
        same = query is key and key is value
        query, key, value = (query.unsqueeze(1),) * 3 if same else (x.unsqueeze(1) for x in (query, key, value))
        if key_padding_mask is not None:
            key_padding_mask = key_padding_mask.unsqueeze(0)
    tgt_len, bsz, embed_dim = query.shape
    key_padding_mask = _canonical_mask(key_padding_mask, "key_padding_mask", _none_or_dtype(attn_mask), "attn_mask",
                                       query.dtype)
    if is_causal and attn_mask is None:
        raise RuntimeError("Need attn_mask if specifying the is_causal hint. You may use the Transformer module "
                           "method `generate_square_subsequent_mask` to create this mask.")
    if is_causal and key_padding_mask is None and not need_weights:
        attn_mask = None
    else:
        attn_mask = _canonical_mask(attn_mask, "attn_mask", None, "", query.dtype, check_other=False)
        if key_padding_mask is not None:
            is_causal = False
    if embed_dim != embed_dim_to_check:
        raise AssertionError(f"was expecting embedding dimension of {embed_dim_to_check}, but got {embed_dim}")
    head_dim = embed_dim // num_heads
    if head_dim * num_heads != embed_dim:
        raise AssertionError(f"embed_dim {embed_dim} not divisible by num_heads {num_heads}")
    if use_separate_proj_weight:
        if tuple(key.shape[:2]) != tuple(value.shape[:2]):
            raise AssertionError(f"key's sequence and batch dims {key.shape[:2]} do not match value's "
                                 f"{value.shape[:2]}")
    elif tuple(key.shape) != tuple(value.shape):
        raise AssertionError(f"key shape {key.shape} does not match value shape {value.shape}")
    q, k, v = _in_projection(query, key, value, in_proj_weight, in_proj_bias, q_proj_weight, k_proj_weight,
                             v_proj_weight, use_separate_proj_weight)
    if attn_mask is not None:
        attn_mask = _attention_mask_3d(attn_mask, bsz * num_heads, tgt_len, key.shape[0])
    if bias_k is not None and bias_v is not None:
        if static_k is not None or static_v is not None:
            raise AssertionError("bias cannot be added to static key or value.")
        k = cat([k, bias_k.repeat(1, bsz, 1)])
        v = cat([v, bias_v.repeat(1, bsz, 1)])
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    elif bias_k is not None or bias_v is not None:
        raise AssertionError("bias_k and bias_v must both be given or both be None")
    # without weights to return nor static or zero keys, the heads stay views of the projections, (N, heads, L, hd)
    by_heads = need_weights or static_k is not None or static_v is not None or add_zero_attn
    if by_heads:
        q = q.reshape(tgt_len, bsz * num_heads, head_dim).transpose(0, 1)
        k = _heads(k, static_k, bsz, num_heads, head_dim, "k")
        v = _heads(v, static_v, bsz, num_heads, head_dim, "v")
    if add_zero_attn:
        k = cat([k, zeros((bsz * num_heads, 1, head_dim), dtype=k.dtype, device=k.device)], 1)
        v = cat([v, zeros((bsz * num_heads, 1, head_dim), dtype=v.dtype, device=v.device)], 1)
        attn_mask = None if attn_mask is None else pad(attn_mask, (0, 1))
        key_padding_mask = None if key_padding_mask is None else pad(key_padding_mask, (0, 1))
    src_len = k.shape[1 if by_heads else 0]
    if key_padding_mask is not None:
        for dim, size in enumerate((bsz, src_len)):
            if key_padding_mask.shape[dim] != size:
                raise AssertionError(f"Expected key_padded_mask.shape[{dim}] to be {size}, but got "
                                     f"{key_padding_mask.shape[dim]}")
        key_padding_mask = key_padding_mask.reshape(bsz, 1, 1, src_len).expand(-1, num_heads, -1, -1).reshape(
            bsz * num_heads, 1, src_len)
        attn_mask = key_padding_mask if attn_mask is None else attn_mask + key_padding_mask
    if not training:
        dropout_p = 0.0
    if need_weights:
        scaled = q * math.sqrt(1.0 / head_dim)   # PyTorch's products: baddbmm with the mask, else bmm
        if attn_mask is not None and attn_mask.dtype.is_floating_point and attn_mask.ndim == 3:
            scores = baddbmm(attn_mask, scaled, k.transpose(-2, -1))
        else:
            scores = bmm(scaled, k.transpose(-2, -1))
            if attn_mask is not None:
                scores = scores + attn_mask
        weights = softmax(scores, -1)
        if dropout_p > 0.0:
            weights = dropout(weights, dropout_p)
        output = bmm(weights, v).transpose(0, 1).reshape(tgt_len * bsz, embed_dim)
        output = linear(output, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, out_proj_weight.shape[0])
        weights = weights.reshape(bsz, num_heads, tgt_len, src_len)
        if average_attn_weights:
            weights = weights.mean(1)
        if not is_batched:
            output, weights = output.squeeze(1), weights.squeeze(0)
        return output, weights
    if attn_mask is not None:
        attn_mask = attn_mask.unsqueeze(0) if attn_mask.shape[0] == 1 else attn_mask.reshape(bsz, num_heads, -1,
                                                                                              src_len)
    if by_heads:
        q = q.reshape(bsz, num_heads, tgt_len, head_dim)
        k = k.reshape(bsz, num_heads, src_len, head_dim)
        v = v.reshape(bsz, num_heads, src_len, head_dim)
    else:
        q, k, v = (x.unflatten(-1, (num_heads, head_dim)).permute(1, 2, 0, 3) for x in (q, k, v))
    output = scaled_dot_product_attention(q, k, v, attn_mask, dropout_p, is_causal)
    if _batch_major(query):   # keep the caller's (N, L, E) memory order
        output = output.transpose(1, 2).reshape(bsz * tgt_len, embed_dim)
        output = linear(output, out_proj_weight, out_proj_bias)
        output = output.reshape(bsz, tgt_len, out_proj_weight.shape[0]).transpose(0, 1)
    else:
        output = output.permute(2, 0, 1, 3).reshape(bsz * tgt_len, embed_dim)
        output = linear(output, out_proj_weight, out_proj_bias).reshape(tgt_len, bsz, out_proj_weight.shape[0])
    return (output if is_batched else output.squeeze(1)), None


def _heads(x, static, bsz, num_heads, head_dim, name):
    """(S, N, E) -> (N * heads, S, head_dim), or the given static projection after checking its shape."""
    if static is None:
        return x.reshape(x.shape[0], bsz * num_heads, head_dim).transpose(0, 1)
    if static.shape[0] != bsz * num_heads:
        raise AssertionError(f"expecting static_{name}.size(0) of {bsz * num_heads}, but got {static.shape[0]}")
    if static.shape[2] != head_dim:
        raise AssertionError(f"expecting static_{name}.size(2) of {head_dim}, but got {static.shape[2]}")
    return static
