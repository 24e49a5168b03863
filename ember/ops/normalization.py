"""Normalization: batch, layer, group, instance and local response norm, composed from reductions so their
gradients (and second gradients) follow from the ops they are made of."""
import functools
import math

import numpy

from .. import _backend, _compat, _dtype
from .._tensor import Tensor, _make
from .._warnings import transparent
from ..autograd.function import Primitive, composite
from ..autograd.grad_mode import is_grad_enabled, no_grad
from . import _buffers, _fused_cuda, _parallel
from ._kernel_dtypes import FLOATING, cpp_type_name, require_dtype, require_parameter_dtypes
from ._util import keeps_layout, name_node, quiet, recorded, row_major_result, shown_edge, warn_once
from .fused_layer_norm import NativeLayerNorm

__all__ = []


_BATCH_NORM_PARAMETERS = (("weight", 2), ("bias", 3), ("running_mean", 0), ("running_var", 1))
"""The batch-norm family's parameters in the order PyTorch's mixed-dtype check reads them, with their positions
after the input in ``batch_norm``'s and ``instance_norm``'s signatures."""


def _parameters(kernel, args, kwargs, statistics=True):
    """The tensor arguments after the input, in PyTorch's order for the mixed-dtype check; without ``statistics``
    (instance norm from the input's statistics) not the running statistics, which PyTorch's check passes over."""
    if kernel != "batch_norm":
        return [a for a in args if isinstance(a, Tensor)] + [a for a in kwargs.values() if isinstance(a, Tensor)]
    found = (args[i] if i < len(args) else kwargs.get(name)
             for name, i in _BATCH_NORM_PARAMETERS[:None if statistics else 2])
    return [a for a in found if isinstance(a, Tensor)]


def _float32_inside(kernel=None):
    """Decorator: PyTorch's dtype checks (the input's dtype against ``kernel``'s where PyTorch checks that first,
    then the input's against the tensor arguments', the parameters), then a 16-bit input normalized in float32 and
    the result rounded once to its dtype, as PyTorch's CPU kernels accumulate (statistics of rounded
    intermediates would drift by a 16-bit ulp per step)."""
    def decorate(norm):
        @transparent
        @functools.wraps(norm)
        def run(input, *args, **kwargs):
            if isinstance(input, Tensor):
                if kernel is not None:
                    require_dtype(kernel, input)
                statistics = norm.__name__ != "instance_norm" or not (args[4] if len(args) > 4 else
                                                                     kwargs.get("use_input_stats", True))
                require_parameter_dtypes(input, *_parameters(kernel, args, kwargs, statistics))
            if input.dtype.itemsize == 2 and input.dtype.is_floating_point:
                return norm(input.float(), *args, **kwargs).to(input.dtype)
            return norm(input, *args, **kwargs)
        return run
    return decorate


def _shape_for_channels(input):
    return (1, -1) + (1,) * (input.ndim - 2)


class BatchNormTraining(Primitive):
    """Batch normalization by the batch's own statistics: y = (x - mean) * invstd * weight + bias per channel (dim
    1). Also returns the batch mean and biased variance (no gradient) for the running statistics. On the CPU in
    five passes over the data (``_batch_norm_arrays``), on a GPU in fused kernels (``_fused_cuda``)."""

    @staticmethod
    @quiet
    def forward(ctx, x, weight, bias, eps):
        xp = ctx.xp
        x3 = _channels_view(xp, x)
        if xp is not numpy and _fused_cuda.batch_norm_applies(x3, weight, bias):
            result, mean, var, invstd = _fused_cuda.batch_norm_forward(x3, weight, bias, eps)
        else:
            result, mean, var, invstd = _batch_norm_arrays(xp, x3, weight, bias, eps)
        ctx.save_for_backward(x, weight)
        ctx.statistics = mean, invstd, eps
        ctx.mark_non_differentiable(mean, var)
        return result.reshape(x.shape), mean, var

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


def _batch_norm_arrays(xp, x3, weight, bias, eps):
    """BatchNormTraining's forward on an (N, C, S) array: (result, mean, biased variance, invstd), in five passes
    per channel part: the sums, x - mean into the result, its squares' sums, then scale and shift in place."""
    N, C, S = x3.shape
    result = _buffers.empty(xp, x3.shape, x3.dtype)
    mean, var = xp.empty(C, x3.dtype), xp.empty(C, x3.dtype)
    invstd = xp.empty(C, x3.dtype)

    def part(a, b):   # channels a:b, each normalized by its own statistics alone
        block, out = x3[:, a:b], result[:, a:b]
        mean[a:b] = _channel_sums(xp, block) / (N * S)
        xp.subtract(block, _per_channel(xp, mean[a:b], S), out=out)
        var[a:b] = _channel_dots(xp, out, out) / (N * S)
        invstd[a:b] = 1 / xp.sqrt(var[a:b] + eps)
        scale = invstd[a:b] if weight is None else invstd[a:b] * weight[a:b]
        out *= _per_channel(xp, scale, S)
        if bias is not None:
            out += _per_channel(xp, bias[a:b], S)
    _over_channels(xp, x3, part)
    return result, mean, var, invstd


@quiet
def _batch_norm_arrays_grad(g, x, weight, mean, invstd, needs_x):
    """BatchNormTraining's gradients on arrays: with xhat = (x - mean) * invstd and M values per channel,
    dx = weight * invstd * (g - sum(g) / M - xhat * sum(g * xhat) / M), formed in place in the buffer that first
    holds x - mean (no temporary of x's size)."""
    xp = _backend.xp_of(g)
    x3, g3 = _channels_view(xp, x), _channels_view(xp, g)
    if xp is not numpy and _fused_cuda.batch_norm_applies(g3, x3, weight, mean, invstd):
        grad_x, grad_w, grad_b = _fused_cuda.batch_norm_backward(g3, x3, weight, mean, invstd, needs_x)
        return (None if grad_x is None else grad_x.reshape(x.shape)), grad_w, grad_b
    N, C, S = x3.shape
    count = N * S
    dtype = xp.result_type(x3, g3, mean, invstd)
    centered = _buffers.empty(xp, x3.shape, dtype)   # x - mean, then dx in place
    grad_w, grad_b = xp.empty(C, dtype), xp.empty(C, dtype)

    def part(a, b):   # channels a:b, whose gradients need only their own sums
        block, out = g3[:, a:b], centered[:, a:b]
        grad_b[a:b] = _channel_sums(xp, block)
        xp.subtract(x3[:, a:b], _per_channel(xp, mean[a:b], S), out=out)
        dot = _channel_dots(xp, block, out)
        grad_w[a:b] = dot * invstd[a:b]
        if needs_x:
            out *= _per_channel(xp, -invstd[a:b] * invstd[a:b] * dot / count, S)
            out += block
            out -= _per_channel(xp, grad_b[a:b] / count, S)
            out *= _per_channel(xp, invstd[a:b] if weight is None else invstd[a:b] * weight[a:b], S)
    _over_channels(xp, x3, part)
    return (centered.reshape(x.shape) if needs_x else None), grad_w, grad_b


def _over_channels(xp, x3, work):
    """``work(a, b)`` on parts of x3's channels (dim 1), at once on the intra-op threads when x3 is a large NumPy
    array, else once on all: each channel's statistics and result depend on that channel alone, so every part gives
    the same bits (whole-array calls are faster than cache-sized pieces: each NumPy call has a fixed cost)."""
    _parallel.parts(x3.shape[1], x3.size if xp is numpy else 0, work)


REPEAT_WIDTH = 4096
"""Up to this many positions per channel, the per-channel values of batch norm's passes are repeated over the
positions, so that NumPy runs each pass along whole samples: broadcast per channel it loops over rows of the
positions, 1.5x (32x32 maps) to 3x (2x2 maps) slower. Over wider maps the broadcast is faster (2x at 112x112:
the repeated values no longer sit in cache)."""


def _per_channel(xp, values, S):
    """Per-channel ``values`` (c,) as an operand of an (N, c, S) pass: repeated over the S positions (c, S) on small
    maps, else broadcast (c, 1)."""
    if S > REPEAT_WIDTH or xp is not numpy:
        return values[:, None]
    return xp.repeat(values, S).reshape(-1, S)


def _channels_view(xp, x):
    """x as a C-contiguous (N, C, S) array of a floating type, S the product of its trailing dims."""
    if x.dtype.kind != "f":
        x = x.astype(xp.float64)
    return xp.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], math.prod(x.shape[2:]))


def _channel_sums(xp, a):
    """Per channel, the sum of an (N, c, S) block: sums of rows in its own type, then over the batch in float64,
    so the error grows with S alone."""
    return _compat.einsum(xp, "ncs->nc", a).sum(0, dtype=xp.float64).astype(a.dtype, copy=False)


def _channel_dots(xp, a, b):
    """Per channel, the sum of a * b over an (N, c, S) block, accumulated as ``_channel_sums``."""
    return _compat.einsum(xp, "ncs,ncs->nc", a, b).sum(0, dtype=xp.float64).astype(a.dtype, copy=False)


def _reduced_axes(x):
    """The axes batch norm reduces over (all but the channels') and the shape that broadcasts per channel."""
    return (0,) + tuple(range(2, x.ndim)), (1, -1) + (1,) * (x.ndim - 2)


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


def _check_channels(channels, **tensors):
    """PyTorch's error for a per-channel tensor of batch norm that is not one value per channel."""
    for name, tensor in tensors.items():
        if tensor is not None and tensor._data.size != channels:
            raise RuntimeError(f"{name} should contain {channels} elements not {tensor._data.size}")


@composite("batch_norm")
@_float32_inside("batch_norm")
@keeps_layout
def batch_norm(input, running_mean, running_var, weight=None, bias=None, training=False, momentum=0.1, eps=1e-5):
    """Normalizes each channel (dim 1) by batch statistics when training (updating the running ones), else by the
    running statistics."""
    if input.ndim < 2:
        raise ValueError(f"expected 2D or 3D input (got {input.ndim}D input)")
    shape = _shape_for_channels(input)
    _check_channels(input.shape[1], running_mean=running_mean, running_var=running_var, weight=weight, bias=bias)
    if training:
        count = input.numel() // input.shape[1]
        if count <= 1:
            raise ValueError(f"Expected more than 1 value per channel when training, got input size "
                             f"{list(input.shape)}".replace("[", "torch.Size([").replace("]", "])"))
        result, mean, var = BatchNormTraining.apply(input, weight, bias, eps)
        name_node(result, "NativeBatchNormBackward0")
        if running_mean is not None:
            _update_running(running_mean, running_var, mean, var, momentum, count)
        return result
    # by the running statistics, an affine map per channel: two passes over the input
    if not recorded(input, running_mean, running_var, weight, bias) and input.dtype.is_floating_point and \
            running_var.dtype.is_floating_point:
        scale, shift = _running_affine(running_mean._data, running_var._data, _data_of(weight), _data_of(bias), eps)
        return name_node(ChannelAffine.apply(input, scale, shift), "NativeBatchNormBackward0", (input, weight, bias))
    scale = (running_var + eps).rsqrt()
    if weight is not None:
        scale = scale * weight
    shift = -running_mean * scale
    if bias is not None:
        shift = shift + bias
    if input.dtype.is_floating_point and scale.dtype.is_floating_point:
        result = ChannelAffine.apply(input, scale, shift)
    else:
        result = input * scale.reshape(shape) + shift.reshape(shape)
    return name_node(result, "NativeBatchNormBackward0", (input, weight, bias))


def _update_running(running_mean, running_var, mean, var, momentum, count):
    """running <- running * (1 - momentum) + statistic * momentum for the batch mean and unbiased variance, in place.
    Plain float tensors of the statistics' dtype are written as arrays, the tensor ops' arithmetic without their
    dispatch (~25 us a call), and, as PyTorch's kernel writes them, without bumping their versions; any other (a
    16-bit, traced or viewed buffer) takes the tensor ops. An inference tensor is written outside inference mode
    too, as by PyTorch's kernel."""
    factor = momentum * count / (count - 1)
    if type(momentum) in (float, int) and _writable_like(running_mean, mean) and _writable_like(running_var, var) \
            and not recorded(running_mean, running_var):
        for running, statistic, weight in ((running_mean._data, mean._data, momentum), (running_var._data, var._data,
                                                                                         factor)):
            numpy.multiply(running, 1 - momentum, out=running)
            numpy.add(running, statistic * weight, out=running)
        return
    with no_grad():
        running_mean.mul_(1 - momentum).add_(mean * momentum)
        running_var.mul_(1 - momentum).add_(var * factor)


def _writable_like(running, statistic):
    """Whether ``running`` is a plain tensor whose array the batch ``statistic``'s array can be written into as is."""
    if type(running) is not Tensor or running._base is not None:
        return False
    data, values = running._data, statistic._data
    return type(data) is numpy.ndarray and type(values) is numpy.ndarray and data.dtype == values.dtype and \
        data.dtype.kind == "f" and data.shape == values.shape and data.flags.writeable


def _data_of(tensor):
    return None if tensor is None else tensor._data


@quiet
def _running_affine(mean, var, weight, bias, eps):
    """Batch norm's map by running statistics as arrays (scale, shift) per channel, in the types the tensor ops
    of the tracked path give."""
    xp = _backend.xp_of(var)
    scale = 1 / xp.sqrt(var + eps)
    if weight is not None:
        scale = scale * weight
    shift = -mean * scale
    return scale, shift if bias is None else shift + bias


def channel_affine(xp, x, scale, shift):
    """x * scale + shift per channel (dim 1) of arrays, as a new (pooled) array: ``ChannelAffine``'s forward."""
    dtype = xp.result_type(x, scale, shift)
    x3 = _channels_view(xp, x)
    S = x3.shape[2]
    result = _buffers.empty(xp, x3.shape, dtype)
    scale_rows, shift_rows = (_per_channel(xp, v.astype(dtype, copy=False), S) for v in (scale, shift))

    def affine(out, samples, scale, shift):
        xp.multiply(samples, scale, out=out)
        xp.add(out, shift, out=out)
    _parallel.map_chunks(affine, result, x3, scale_rows, shift_rows)
    return result.reshape(x.shape)


class ChannelAffine(Primitive):
    """x * scale + shift with one scale and shift per channel (dim 1), into one (pooled) result in two passes.
    The per-channel values are repeated along each channel's positions on maps up to ``REPEAT_WIDTH``, so both passes
    run along whole samples (broadcasting them per channel would loop over rows as short as a 2x2 map's 4 elements)."""

    @staticmethod
    @quiet
    def forward(ctx, x, scale, shift):
        ctx.save_for_backward(x, scale)
        return channel_affine(ctx.xp, x, scale, shift)

    @staticmethod
    def backward(ctx, grad):
        x, scale = ctx.saved_tensors
        axes, shape = _reduced_axes(x)
        needs_x, needs_scale, needs_shift = ctx.needs_input_grad
        return (grad * scale.reshape(shape) if needs_x else None,
                (grad * x).sum(axes) if needs_scale else None, grad.sum(axes) if needs_shift else None)


@composite("layer_norm", trace_inside=True)   # outside: autocast sees the caller's dtype (CUDA's policy: float32)
@_float32_inside()
def layer_norm(input, normalized_shape, weight=None, bias=None, eps=1e-5):
    """Normalizes over the last ``len(normalized_shape)`` dims, then applies the elementwise affine map."""
    require_dtype("LayerNormKernelImpl", input)
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
    if weight is not None and weight.dtype is not input.dtype:
        if input.dtype.itemsize == 2 and input.dtype.is_floating_point and weight.dtype is _dtype.float32:
            # PyTorch's fused kernel takes a 16-bit input with a float32 weight: in float32, rounded once
            return rms_norm(input.float(), normalized_shape, weight, eps).to(input.dtype)
        warn_once("rms_norm", f"Mismatch dtype between input and weight: input dtype = {cpp_type_name(input.dtype)}, "
                  f"weight dtype = {cpp_type_name(weight.dtype)}, Cannot dispatch to fused implementation.")
        return rms_norm(input, normalized_shape, None, eps).mul(weight).to(input.dtype)   # the input's dtype
    dims = tuple(range(input.ndim - len(normalized_shape), input.ndim))
    if eps is None:
        import numpy
        eps = float(numpy.finfo(input.dtype.numpy).eps)
    mean = input.pow(2).mean(dims, keepdim=True)
    result = input * name_node(mean + eps, "AddBackward1", (mean,)).rsqrt()   # PyTorch's add of a number
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


@composite("group_norm", trace_inside=True)   # outside: autocast sees the caller's dtype (CUDA's policy: float32)
@_float32_inside()
@keeps_layout
def group_norm(input, num_groups, weight=None, bias=None, eps=1e-5):
    """Normalizes each group of channels over the group's channels and spatial positions."""
    require_dtype("GroupNormKernelImpl", input)
    if input.ndim < 2:
        raise RuntimeError(f"Expected at least 2 dimensions for input tensor but received {input.ndim}")
    N, C = input.shape[:2]
    size = [N * C // num_groups, num_groups] + list(input.shape[2:])   # PyTorch's F.group_norm checks this first
    if size[0] * math.prod(size[2:]) == 1:
        raise ValueError(f"Expected more than 1 value per channel when training, got input size {size}")
    if C % num_groups:
        raise RuntimeError(f"Expected number of channels in input to be divisible by num_groups, but got input of "
                           f"shape {list(input.shape)} and num_groups={num_groups}")
    grouped = input.reshape(N, num_groups, -1)
    if input.numel() and input.ndim > 2 and weight is not None and bias is not None and \
            weight.dtype is input.dtype is bias.dtype and tuple(weight.shape) == tuple(bias.shape) == (C,):
        # each group's statistics as layer norm's over the group's row, then the channels' affine map: two
        # primitives with array backwards, in place of eight ops over the whole input
        normalized = NativeLayerNorm.apply(grouped, None, None, 1, eps).reshape(input.shape)
        return name_node(ChannelAffine.apply(normalized, weight, bias), "NativeGroupNormBackward0",
                         (input, weight, bias))
    mean = grouped.mean(-1, keepdim=True)
    var = grouped.var(-1, keepdim=True, correction=0)
    result = ((grouped - mean) * (var + eps).rsqrt()).reshape(input.shape)
    shape = _shape_for_channels(input)
    if weight is not None:
        result = result * weight.reshape(shape)
    if bias is not None:
        result = result + bias.reshape(shape)
    return name_node(result, "NativeGroupNormBackward0", (input, weight, bias))


@composite("instance_norm_running_stats", trace_inside=True)
def _update_running_stats(running_mean, running_var, mean, var, momentum):
    """Instance norm's update of the running statistics (PyTorch's batch norm of the samples' channels updates them
    in its kernel): one op, so vmap's rule refuses unbatched statistics with batch norm's error, as PyTorch's."""
    running_mean.mul_(1 - momentum).add_(mean * momentum)
    running_var.mul_(1 - momentum).add_(var * momentum)


@_float32_inside("batch_norm")
@row_major_result
def instance_norm(input, running_mean=None, running_var=None, weight=None, bias=None, use_input_stats=True,
                  momentum=0.1, eps=1e-5):
    """Normalizes each channel of each sample over its spatial positions."""
    if use_input_stats and input.ndim > 2 and math.prod(input.shape[2:]) == 1:   # PyTorch's F checks this
        raise ValueError(f"Expected more than 1 spatial element when training, got input size "
                         f"torch.Size({list(input.shape)})")
    dims = tuple(range(2, input.ndim))
    shape = _shape_for_channels(input)
    if use_input_stats:
        mean = input.mean(dims, keepdim=True)
        var = input.var(dims, keepdim=True, correction=0)
        if running_mean is not None:
            count = input.numel() // (input.shape[0] * input.shape[1])
            with no_grad():
                unbiased = var.detach().mean(0).reshape(-1) * (count / max(count - 1, 1))
                _update_running_stats(running_mean, running_var, mean.detach().mean(0).reshape(-1), unbiased,
                                      momentum)
    else:
        mean, var = running_mean.reshape(shape), running_var.reshape(shape)
    result = (input - mean) * (var + eps).rsqrt()
    if weight is not None:
        result = result * weight.reshape(shape)
    if bias is not None:
        result = result + bias.reshape(shape)
    # PyTorch's batch norm of the (1, N*C, ...) view, with the weight and bias repeated per sample, viewed back
    norm = shown_edge("NativeBatchNormBackward0", (shown_edge("ViewBackward0", (input,)),
                                                   shown_edge("RepeatBackward0", (weight,)),
                                                   shown_edge("RepeatBackward0", (bias,))))
    return name_node(result, "ViewBackward0", (norm,))


@keeps_layout
def local_response_norm(input, size, alpha=1e-4, beta=0.75, k=1.0):
    """Divides each value by a power of the summed squares of ``size`` neighbouring channels."""
    if input.ndim < 3:   # PyTorch's message, its spacing included
        raise ValueError(f"Expected 3D or higher dimensionality                          input (got {input.ndim} "
                         "dimensions)")
    if not input.numel():   # PyTorch returns the input itself
        return input
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
