"""Normalization: batch, layer, group, instance and local response norm, composed from reductions so their
gradients (and second gradients) follow from the ops they are made of."""
import functools

import numpy

from .. import _backend
from .._tensor import _make
from ..autograd.function import Primitive, composite
from ..autograd.grad_mode import is_grad_enabled, no_grad
from . import _parallel
from ._kernel_dtypes import FLOATING, require_dtype, require_norm_dtypes
from ._util import quiet
from .fused_layer_norm import NativeLayerNorm

__all__ = []


def _float32_inside(norm):
    """Decorator: a 16-bit input is normalized in float32 and the result rounded once to its dtype, as PyTorch's
    CPU kernels accumulate (statistics of rounded intermediates would drift by a 16-bit ulp per step)."""
    @functools.wraps(norm)
    def run(input, *args, **kwargs):
        if input.dtype.itemsize == 2 and input.dtype.is_floating_point:
            return norm(input.float(), *args, **kwargs).to(input.dtype)
        return norm(input, *args, **kwargs)
    return run


def _shape_for_channels(input):
    return (1, -1) + (1,) * (input.ndim - 2)


class BatchNormTraining(Primitive):
    """Batch normalization by the batch's own statistics, in few passes over the data: y = (x - mean) * invstd *
    weight + bias per channel (dim 1). Also returns the batch mean and biased variance (no gradient) for the running
    statistics."""

    @staticmethod
    @quiet
    def forward(ctx, x, weight, bias, eps):
        xp = ctx.xp
        axes, shape = _reduced_axes(x)
        count = x.size // x.shape[1]
        result = xp.empty(x.shape, x.dtype if x.dtype.kind == "f" else xp.float64)   # as x - x.mean() is
        statistics = {}

        def part(a, b):   # channels a:b, each normalized by its own statistics alone
            mean = x[:, a:b].mean(axes)
            centered = xp.subtract(x[:, a:b], mean.reshape(shape), out=result[:, a:b])
            var = _channel_dot(xp, centered, centered) / count
            invstd = 1 / xp.sqrt(var + eps)
            scale = invstd if weight is None else invstd * weight[a:b]
            centered *= scale.reshape(shape)
            if bias is not None:
                centered += bias[a:b].reshape(shape)
            statistics[a] = mean, var, invstd
        _over_channels(xp, x, part)
        mean, var, invstd = _joined(xp, statistics)
        ctx.save_for_backward(x, weight)
        ctx.statistics = mean, invstd, eps
        ctx.mark_non_differentiable(mean, var)
        return result, mean, var

    @staticmethod
    def backward(ctx, grad, _mean_grad, _var_grad):
        x, weight = ctx.saved_tensors
        needs_x, needs_w, needs_b = ctx.needs_input_grad[:3]
        if is_grad_enabled():   # differentiating the gradient: the same formula in differentiable ops
            return _batch_norm_grad(grad, x, weight, ctx.statistics[2], needs_w, needs_b)
        mean, invstd, _ = ctx.statistics
        grad_x, grad_w, grad_b = _batch_norm_arrays_grad(grad._data, x._data, None if weight is None else
                                                         weight._data, mean, invstd, needs_x)
        return (None if grad_x is None else _make(grad_x), _make(grad_w) if needs_w else None,
                _make(grad_b) if needs_b else None, None)


@quiet
def _batch_norm_arrays_grad(g, x, weight, mean, invstd, needs_x):
    """BatchNormTraining's gradients on arrays: dx = weight * invstd * (g - mean(g) - xhat * mean(g * xhat))."""
    xp = _backend.xp_of(g)
    axes, shape = _reduced_axes(x)
    count = x.size // x.shape[1]
    grad_x = xp.empty(x.shape, xp.result_type(x, mean, invstd)) if needs_x else None
    sums = {}

    def part(a, b):   # channels a:b, whose gradients need only their own sums
        grad_b = g[:, a:b].sum(axes)
        normalized = xp.subtract(x[:, a:b], mean[a:b].reshape(shape), out=None if grad_x is None else grad_x[:, a:b])
        normalized *= invstd[a:b].reshape(shape)
        grad_w = _channel_dot(xp, g[:, a:b], normalized)
        sums[a] = grad_w, grad_b
        if grad_x is not None:
            scale = invstd[a:b] if weight is None else invstd[a:b] * weight[a:b]
            normalized *= (-grad_w / count * scale).reshape(shape)
            normalized += g[:, a:b] * scale.reshape(shape)
            normalized -= (grad_b / count * scale).reshape(shape)
    _over_channels(xp, x, part)
    grad_w, grad_b = _joined(xp, sums)
    return grad_x, grad_w, grad_b


def _over_channels(xp, x, work):
    """``work(a, b)`` on parts of x's channels (dim 1), at once on the intra-op threads when x is a large NumPy
    array: each channel's statistics and result depend on that channel alone, so every part gives the same bits."""
    _parallel.parts(x.shape[1], x.size if xp is numpy else 0, work)


def _joined(xp, pieces):
    """The per-part tuples of per-channel arrays, keyed by first channel, as one tuple of whole arrays."""
    ordered = [pieces[a] for a in sorted(pieces)]
    return tuple(xp.concatenate(arrays) if len(arrays) > 1 else arrays[0] for arrays in zip(*ordered))


def _reduced_axes(x):
    """The axes batch norm reduces over (all but the channels') and the shape that broadcasts per channel."""
    return (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)


def _channel_dot(xp, a, b):
    """Per channel (dim 1), the sum over all other dims of a * b."""
    N, C = a.shape[:2]
    return xp.einsum("ncs,ncs->c", a.reshape(N, C, -1), b.reshape(N, C, -1))


def _batch_norm_grad(grad, x, weight, eps, needs_w, needs_b):
    """The gradients of batch normalization by batch statistics, written in differentiable ops (double backward)."""
    axes, shape = _reduced_axes(x)
    mean = x.mean(axes, keepdim=True)
    centered = x - mean
    invstd = ((centered * centered).mean(axes, keepdim=True) + eps).rsqrt()
    normalized = centered * invstd
    scaled = grad if weight is None else grad * weight.reshape(shape)
    grad_x = invstd * (scaled - scaled.mean(axes, keepdim=True) -
                       normalized * (scaled * normalized).mean(axes, keepdim=True))
    grad_w = (grad * normalized).sum(axes) if needs_w else None
    return grad_x, grad_w, grad.sum(axes) if needs_b else None, None


@composite("batch_norm")
@_float32_inside
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalizes each channel (dim 1) by batch statistics when training (updating the running ones), else by the
    running statistics."""
    require_dtype("batch_norm", input)
    if input.ndim < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
    shape = _shape_for_channels(input)
    if training:
        count = input.numel() // input.shape[1]
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{list(input.shape)}".replace("[", "torch.Size([").replace("]", "])"))
        result, mean, var = BatchNormTraining.apply(input, weight, bias, eps)
        if running_mean is not None:
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean * momentum)
                running_var.mul_(1 - momentum).add_(var * (momentum * count / (count - 1)))
        return result
    # by the running statistics, an affine map per channel: two passes over the input
    scale = (running_var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    return input * scale.reshape(shape) + shift.reshape(shape)


@_float32_inside
@composite("layer_norm", trace_inside=True)
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalizes over the last ``len(normalized_shape)`` dims, then applies the elementwise affine map."""
    require_norm_dtypes("LayerNormKernelImpl", input, weight, bias)
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    n = len(normalized_shape)
    if tuple(input.shape[input.ndim - n:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape [*, "
                           f"{', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")
    if input.numel() and all(t is None or t.dtype is input.dtype and tuple(t.shape) == normalized_shape
                             for t in (weight, bias)):
        return NativeLayerNorm.apply(input, weight, bias, n, eps)
    dims = tuple(range(input.ndim - n, input.ndim))
    mean = input.mean(dims, keepdim=True)
    # an empty input has nothing to normalize, and its var() would warn about degrees of freedom (torch's does not)
    var = input.var(dims, keepdim=True, correction=0) if input.numel() else mean
    result = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        result = result * weight
    if bias is not None:
        result = result + bias
    return result


def rms_norm(input, normalized_shape, weight=None, eps=None):
    """Divides by the root mean square over the last dims, then scales by ``weight``."""
    require_dtype("rms_norm", input, FLOATING + "c")
    normalized_shape = (normalized_shape,) if isinstance(normalized_shape, int) else tuple(normalized_shape)
    _check_rms_shapes(input, normalized_shape, weight)
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    if eps is None:
        import numpy
        eps = float(numpy.finfo(input.dtype.numpy).eps)
    result = input * ((input * input).mean(dims, keepdim=True) + eps).rsqrt()
    return result if weight is None else result * weight


def _check_rms_shapes(input, normalized_shape, weight):
    """PyTorch's errors for rms_norm's shapes."""
    n = len(normalized_shape)
    if not n:
        raise RuntimeError("Expected normalized_shape to be at least 1-dimensional, i.e., containing at least one "
                           "element, but got normalized_shape = []")
    if weight is not None and tuple(weight.shape) != normalized_shape:
        raise RuntimeError(f"Expected weight to be of same shape as normalized_shape, but got weight of shape "
                           f"{list(weight.shape)} and normalized_shape = {list(normalized_shape)}")
    if input.ndim < n:
        raise ValueError(f"Input tensor must have at least {n} dimensions, but got {input.ndim}")
    if tuple(input.shape[input.ndim - n:]) != normalized_shape:
        raise RuntimeError(f"Given normalized_shape={list(normalized_shape)}, expected input with shape "
                           f"[*{', '.join(map(str, normalized_shape))}], but got input of size{list(input.shape)}")


@_float32_inside
@composite("group_norm", trace_inside=True)
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalizes each group of channels over the group's channels and spatial positions."""
    require_norm_dtypes("GroupNormKernelImpl", input, weight, bias)
    N, C = input.shape[:2]
    if C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    grouped = input.reshape(N, num_groups, -1)
    mean = grouped.mean(-1, keepdim=True)
    var = grouped.var(-1, keepdim=True, correction=0)
    result = ((grouped - mean) * (var + eps).rsqrt()).reshape(input.shape)
    shape = _shape_for_channels(input)
    if weight is not None:
        result = result * weight.reshape(shape)
    if bias is not None:
        result = result + bias.reshape(shape)
    return result


@_float32_inside
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalizes each channel of each sample over its spatial positions."""
    require_dtype("batch_norm", input)
    dims = tuple(range(2, input.ndim))
    shape = _shape_for_channels(input)
    if use_input_stats:
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, keepdim=True, correction=0)
        if running_mean is not None:
            count = input.numel() // (input.shape[0] * input.shape[1])
            with no_grad():
                running_mean.mul_(1 - momentum).add_(mean.detach().mean(0).reshape(-1) * momentum)
                unbiased = var.detach().mean(0).reshape(-1) * (count / max(count - 1, 1))
                running_var.mul_(1 - momentum).add_(unbiased * momentum)
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    result = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        result = result * weight.reshape(shape)
    if bias is not None:
        result = result + bias.reshape(shape)
    return result


def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divides each value by a power of the summed squares of ``size`` neighbouring channels."""
    from .padding import pad
    squared = (input * input).unsqueeze(1)
    pads = [0, 0] * (input.ndim - 2) + [size // 2, (size - 1) // 2]
    squared = pad(squared, pads)
    from .pooling import avg_pool2d, avg_pool3d
    if input.ndim == 3:
        summed = avg_pool2d(squared, (size, 1), stride=1).squeeze(1)
    else:
        shape = squared.shape
        summed = avg_pool3d(squared.reshape(shape[0], 1, shape[2], shape[3], -1), (size, 1, 1), stride=1)
        summed = summed.reshape(input.shape)
    return input / (k + alpha * summed).pow(beta)
