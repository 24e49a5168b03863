"""Evaluation chains of ``nn.Sequential``: a convolution, a batch norm by running statistics and optionally a ReLU,
ReLU6 or Hardtanh (torchvision's Conv2dNormActivation, VGG's features, MobileNet's blocks, ResNet's downsample)
with nothing recorded. The convolution runs as the module's own forward; the batch norm's affine map and the
activation's clamp are then written into its new output, each part of the batch in one go on the intra-op threads
(one hand-off instead of one per op, no new array for the batch norm, the part still in cache for the clamp).

The arithmetic is the separate ops' (``normalization._running_affine`` and ``ChannelAffine``'s per-channel rows,
``clipped`` as relu's, ``numpy.clip`` as ``Hardtanh``'s), elementwise, so the results are the same bits. The
intermediate tensors are the Sequential's own (nothing outside it sees them), so writing into the convolution's
output is invisible; any hook, compiled call, subclass, dispatch hook (trace, vmap, autocast, profiler),
torch-function mode or tensor subclass, and any tensor that records gradients, takes the modules one by one.

A batch norm module called alone by running statistics (ResNet's blocks) takes the same checks and arithmetic into a
new array (``batch_norm``), without the functional's dispatch and primitive."""
import sys

import numpy

from ..._tensor import Tensor, _wrap, grad_state
from ...autograd import function as _function
from ...ops import _conv_depthwise, _conv_pointwise, _parallel
from ...ops import conv as _conv
from ...ops._util import quiet
from ..parameter import Parameter
from . import module as _module

_FLOATS = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


def _plain(module):
    """Whether calling ``module`` is its class's forward and nothing else (no hooks of its own or global ones, no
    compiled call, no forward set on the instance)."""
    return not (module._forward_pre_hooks or module._forward_hooks or module._backward_hooks or
                module._backward_pre_hooks or module._compiled_call_impl is not None or "forward" in module.__dict__
                or _global_hooks[0] or _global_hooks[1])


def _arrays(tensors, dtype):
    """The NumPy arrays of ``tensors`` (None for an absent one), or None unless each is a plain tensor of ``dtype``
    that records nothing."""
    arrays = []
    for tensor in tensors:
        if tensor is None:
            arrays.append(None)
            continue
        if type(tensor) not in _TENSOR_TYPES or (grad_state.enabled and tensor.requires_grad):
            return None
        data = tensor._data
        if type(data) is not numpy.ndarray or data.dtype is not dtype:
            return None
        arrays.append(data)
    return arrays


def _bounds(act):
    """The activation's clamp (low, high) and whether it is in place; None where it is not one fused here."""
    kind = type(act)
    if kind is _classes["ReLU"]:
        return (None, act.inplace) if _plain(act) else False
    if kind is _classes["ReLU6"]:
        return ((0.0, 6.0), act.inplace) if _plain(act) else False
    if kind is _classes["Hardtanh"]:
        return ((act.min_val, act.max_val), act.inplace) if _plain(act) else False
    return False


def sequential(modules, input):
    """``Sequential.forward`` while grad mode is off: each module called in turn, except Conv2d -> BatchNorm2d
    (-> ReLU/ReLU6/Hardtanh) runs that pair or triple as one chain where ``_chain`` can."""
    if _classes["Conv2d"] not in map(type, modules):   # no chain to look for (an MLP): 3.8 -> 3.4 us for six modules
        for module in modules:
            input = module(input)
        return input
    modules = list(modules)
    count, i = len(modules), 0
    while i < count:
        module = modules[i]
        if type(module) is _classes["Conv2d"] and i + 1 < count and type(modules[i + 1]) is _classes["BatchNorm2d"]:
            act = _bounds(modules[i + 2]) if i + 2 < count else False
            chained = _chain(module, modules[i + 1], act, input)
            if chained is not None:
                input, taken = chained
                i += taken
                continue
        input = module(input)
        i += 1
    return input


def _running_stats(bn, input):
    """(x, stats) where batch norm module ``bn`` normalizes ``input`` by its running statistics with nothing recorded:
    the input's C-contiguous float array and the (running_mean, running_var, weight, bias) arrays of its dtype (None
    for an absent affine one); None where the module's own forward must run."""
    if _function.dispatch_hooks or type(input) is not Tensor or bn.training:
        return None
    overrides = sys.modules.get("ember.overrides")
    if overrides is not None and overrides._is_torch_function_mode_enabled():
        return None
    x = input._data
    if type(x) is not numpy.ndarray or not x.flags.c_contiguous or x.dtype not in _FLOATS or \
            (grad_state.enabled and input.requires_grad):
        return None
    stats = _arrays((bn.running_mean, bn.running_var, bn.weight, bn.bias), x.dtype)
    if stats is None or stats[0] is None or stats[1] is None:
        return None
    for a in stats:
        if a is not None and a.size != bn.num_features:
            return None
    return x, stats


def batch_norm(bn, input):
    """``bn(input)``'s result for a batch norm module by running statistics with nothing recorded (ResNet's blocks
    call theirs one by one), or None where its forward must run: ``batch_norm``'s arithmetic on the arrays, without
    the functional's checks, dispatch and primitive (a (32, 64, 8, 8) input 98 -> 66 us at one thread)."""
    found = _running_stats(bn, input)
    own = _classes["kernels"][4]   # (also loads ``_F``)
    if found is None or not found[0].size or found[0].ndim < 2 or found[0].shape[1] != bn.num_features or \
            _replaced(_F.batch_norm, own):
        return None
    return _wrap(_affine(found[0], bn.eps, *found[1]))


@quiet
def _affine(x, eps, mean, var, weight, bias):
    _per_channel, _running_affine, _, _, _, channel_affine = _classes["kernels"]
    return channel_affine(numpy, x, *_running_affine(mean, var, weight, bias, eps))


def _replaced(function, own):
    """Whether the functional ``function`` (as the module's forward finds it) is no longer ember's ``own``."""
    overrides = sys.modules.get("ember.overrides")
    if overrides is not None:   # behind __torch_function__'s dispatching wrapper once that is installed
        function = overrides.unwrapped(function)
    return function is not own


def _chain(conv, bn, act, input):
    """The chain's output and how many modules it took, or None where it must run module by module."""
    if not (_plain(conv) and _plain(bn)):
        return None
    found = _running_stats(bn, input)
    if found is None or found[0].ndim != 4:
        return None
    (x, stats), C = found, bn.num_features
    dtype = x.dtype
    if _arrays((conv.weight, conv.bias), dtype) is None:
        return None
    kind = _direct(conv, x) if x.shape[0] and conv.weight._data.shape[0] == C else None
    if kind is not None:
        output = (_pointwise_chain if kind == "pointwise" else _depthwise_chain)(conv, x, bn.eps, stats, act)
        if act and act[1]:
            output._version_counter[0] += 1
        return output, 3 if act else 2
    output = conv(input)
    y = output._data
    if type(output) is not Tensor or output._base is not None or output.grad_fn is not None or \
            type(y) is not numpy.ndarray or y.dtype != dtype or y.ndim != 4 or y.shape[1] != C or \
            not y.flags.c_contiguous or not y.flags.writeable:
        return bn(output), 2   # not reached by Conv2d's outputs (new arrays); kept correct
    _epilogue(y, bn.eps, *stats, act)
    if act and act[1]:   # as the in-place activation's write would
        output._version_counter[0] += 1
    return output, 3 if act else 2


@quiet
def _epilogue(y, eps, mean, var, weight, bias, act):
    """y (N, C, H, W) <- clamp(y * scale + shift) in place per part of the batch, with batch norm's scale and shift
    per channel as ``batch_norm`` forms them by running statistics."""
    N, C, H, W = y.shape
    y3 = y.reshape(N, C, H * W)
    apply = _affine_clamp(y.dtype, H * W, eps, mean, var, weight, bias, act)
    rows = numpy.arange(C).reshape(C, 1)   # cut with the output where it is cut along channels (a batch of 1)
    _parallel.map_chunks(lambda part, cut: apply(part, slice(int(cut[0, 0]), int(cut[-1, 0]) + 1)), y3, rows)


def _affine_clamp(dtype, S, eps, mean, var, weight, bias, act):
    """A function writing clamp(part * scale + shift) in place into an (n, c, S) part of an output of ``dtype``
    (the channels ``channels`` of it, all by default)."""
    _per_channel, _running_affine, clipped, _zero, _, _ = _classes["kernels"]
    scale, shift = _running_affine(mean, var, weight, bias, eps)
    scale, shift = (_per_channel(numpy, v.astype(dtype, copy=False), S) for v in (scale, shift))
    low_high = act[0] if act else None
    zero = _zero(numpy, scale) if act and low_high is None else None

    def apply(part, channels=slice(None)):
        numpy.multiply(part, scale[channels], out=part)
        numpy.add(part, shift[channels], out=part)
        if zero is not None:
            clipped(numpy, part, zero, None, out=part)
        elif low_high is not None:
            numpy.clip(part, *low_high, out=part)
    return apply


def _direct(conv, x):
    """"pointwise" or "depthwise" where ``conv`` on x is a 1x1 convolution of ``_conv_pointwise``'s or a depthwise
    one that the chain computes itself, else None. The module's forward would reach the same kernel: zero padding,
    ``F.conv2d`` not replaced, shapes that raise nothing, a C-contiguous weight."""
    w, bias = conv.weight._data, conv.bias
    padding, groups, stride, dilation = conv.padding, conv.groups, conv.stride, conv.dilation
    if isinstance(padding, str) or conv.padding_mode != "zeros" or _replaced(_F.conv2d, _conv.conv2d) or w.ndim != 4 \
            or not w.flags.c_contiguous or x.shape[1] != w.shape[1] * groups or w.shape[0] % groups or \
            (bias is not None and bias._data.shape != w.shape[:1]) or min(stride) <= 0:
        return None
    for size, p, k, d in zip(x.shape[2:], padding, w.shape[2:], dilation):
        if size + 2 * p < d * (k - 1) + 1:
            return None
    if _conv._depthwise(w, groups):
        return "depthwise"
    return "pointwise" if _conv_pointwise.applies(w, stride, padding, x.shape[2:], groups) else None


@quiet
def _pointwise_chain(conv, x, eps, stats, act):
    """The chain of a 1x1 convolution as a new tensor: ``_conv_pointwise.forward``'s products with the bias, the
    batch norm and the clamp applied to each part of the batch while it is in cache."""
    w = conv.weight._data
    bias = None if conv.bias is None else conv.bias._data.reshape(-1, 1, 1)
    S = x.shape[2] * x.shape[3]
    apply = _affine_clamp(x.dtype, S, eps, *stats, act)

    def epilogue(y, start, stop):
        if bias is not None:
            numpy.add(y[start:stop], bias, out=y[start:stop])
        apply(y[start:stop].reshape(stop - start, y.shape[1], S))
    return _wrap(_conv_pointwise.forward(numpy, x, w, conv.groups, epilogue))


@quiet
def _depthwise_chain(conv, x, eps, stats, act):
    """The chain of a depthwise convolution as a new tensor: ``_conv_depthwise.forward`` with the bias, the batch
    norm and the clamp applied to each part of the channels as its products are done (one parallel loop)."""
    w, stride, padding, dilation = conv.weight._data, conv.stride, conv.padding, conv.dilation
    bias = None if conv.bias is None else conv.bias._data.reshape(-1, 1, 1)
    out = [(s + 2 * p - d * (k - 1) - 1) // t + 1
           for s, p, d, k, t in zip(x.shape[2:], padding, dilation, w.shape[2:], stride)]
    shape = (x.shape[0], w.shape[0]) + tuple(out)
    S = out[0] * out[1]
    apply = _affine_clamp(x.dtype, S, eps, *stats, act)

    def epilogue(y, first, last):
        part = y[:, first:last]
        if bias is not None:
            numpy.add(part, bias[first:last], out=part)
        apply(part.reshape(shape[0], last - first, S), slice(first, last))
    return _wrap(_conv_depthwise.forward(numpy, x, w, stride, dilation, out, padding, epilogue))


def _classes_of():
    from ...ops.normalization import _per_channel, _running_affine, batch_norm, channel_affine
    from ...ops.pointwise.rounding import clipped
    from ...ops.pointwise.transcendental import _zero
    from .activation import Hardtanh, ReLU, ReLU6
    from .conv import Conv2d
    global _F
    from .. import functional as _F
    return {"Conv2d": Conv2d, "ReLU": ReLU, "ReLU6": ReLU6, "Hardtanh": Hardtanh,
            "kernels": (_per_channel, _running_affine, clipped, _zero, batch_norm, channel_affine)}


class _Classes(dict):
    """The module classes and the ops' kernels, looked up when first needed (``container`` imports this module before
    the layers' modules are loaded); ``normalization`` enters BatchNorm2d itself, as it imports this module."""

    def __missing__(self, key):
        self.update(_classes_of())
        return self[key]


_classes = _Classes()
_TENSOR_TYPES = {Tensor, Parameter}
_F = None   # ember.nn.functional, once the classes are known
_global_hooks = (_module._global_forward_pre_hooks, _module._global_forward_hooks)   # nn.Module's global hooks
