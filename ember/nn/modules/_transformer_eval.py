"""``TransformerEncoderLayer``'s forward with nothing recorded: the module's own self-attention and Linear calls, with
each residual add and its layer norm written into one array in place (no tensor for the sum, no second array for the
norm) and ReLU applied in place to the first Linear's new output.

The arithmetic is the separate ops' (NumPy's add, ``fused_layer_norm.normalize_rows`` as ``NativeLayerNorm``'s,
``clipped`` as relu's), elementwise or per row, so the results are the same bits as the module path. Only arrays the
layer made itself are written; any hook, compiled call, instance forward, dispatch hook (trace, vmap, autocast,
profiler), torch-function mode, tensor subclass, active dropout or replaced ``F.layer_norm``/``F.relu`` takes the
module path."""
import sys

import numpy

from ..._tensor import Tensor, _wrap, grad_state
from ...autograd import function as _function
from ...ops import _buffers
from ...ops.fused_layer_norm import normalize_rows
from ...ops.pointwise.rounding import clipped
from ...ops.pointwise.transcendental import _zero
from . import _conv_eval
from .activation import ReLU
from .dropout import Dropout
from .normalization import LayerNorm

_FLOATS = (numpy.dtype(numpy.float32), numpy.dtype(numpy.float64))


def encoder_layer(layer, src, src_mask, src_key_padding_mask, is_causal, activation, relu):
    """The layer's output, or None where it must run the module path; ``activation`` is the callable the module path
    calls, ``relu`` whether it computes F.relu's ``Relu``."""
    if _function.dispatch_hooks or type(src) is not Tensor or grad_state.enabled:
        return None
    overrides = sys.modules.get("ember.overrides")
    if overrides is not None and overrides._is_torch_function_mode_enabled():
        return None
    x = src._data
    if type(x) is not numpy.ndarray or x.dtype not in _FLOATS or x.ndim not in (2, 3) or not x.size:
        return None
    norms = _norms(layer, x.dtype, x.shape[-1], overrides)
    if norms is None or not all(map(_conv_eval._plain, (layer.self_attn, layer.linear1, layer.linear2))) or \
            not all(map(_idle, (layer.dropout, layer.dropout1, layer.dropout2))):
        return None
    relu = relu and (type(layer.activation) is ReLU and _conv_eval._plain(layer.activation) or
                     not isinstance(layer.activation, ReLU))

    def sa_block(t):
        return layer.self_attn(t, t, t, attn_mask=src_mask, key_padding_mask=src_key_padding_mask,
                               need_weights=False, is_causal=is_causal)[0]

    def ff_block(t):
        h = layer.linear1(t)
        if relu and _owned(h, x.dtype):
            clipped(numpy, h._data, _zero(numpy, h._data), None, out=h._data)
        else:
            h = activation(h)
        return layer.linear2(h)
    if layer.norm_first:
        x1 = _add_norm(src, sa_block(layer.norm1(src)), None, None)
        return _add_norm(x1, ff_block(layer.norm2(x1)), None, None)
    x1 = _add_norm(src, sa_block(src), layer.norm1, norms[0])
    return _add_norm(x1, ff_block(x1), layer.norm2, norms[1])


def _add_norm(x, y, module, norm):
    """x + y, then layer norm by ``norm`` (weight, bias, eps; ``module``'s) unless it is None, as a tensor: written
    into y's array where the layer made it (a new contiguous array of x's dtype and shape), else a new pooled one."""
    a, b = x._data, y._data
    if type(y) is not Tensor or type(b) is not numpy.ndarray or b.shape != a.shape or b.dtype != a.dtype:
        return x + y if module is None else module(x + y)
    out = b if _owned(y, a.dtype) else _buffers.empty(numpy, a.shape, a.dtype)
    numpy.add(a, b, out=out)
    if norm is not None:
        rows = out.reshape(-1, a.shape[-1])
        normalize_rows(numpy, rows, rows, *norm)
    return y if out is b else _wrap(out)


def _owned(t, dtype):
    """Whether ``t`` is a new tensor of its own C-contiguous NumPy array of ``dtype`` (a module's fresh output)."""
    a = t._data
    return type(t) is Tensor and t._base is None and t.grad_fn is None and type(a) is numpy.ndarray and \
        a.dtype == dtype and a.flags.c_contiguous and a.flags.writeable and a.base is None


def _norms(layer, dtype, width, overrides):
    """Both norms' (weight array, bias array, eps), or None where they do not run as ``NativeLayerNorm`` here."""
    from .. import functional as F
    from ...ops.normalization import layer_norm
    if (F.layer_norm if overrides is None else overrides.unwrapped(F.layer_norm)) is not layer_norm:
        return None
    norms = []
    for norm in (layer.norm1, layer.norm2):
        if type(norm) is not LayerNorm or not _conv_eval._plain(norm) or \
                tuple(norm.normalized_shape) != (width,):
            return None
        arrays = _conv_eval._arrays((norm.weight, norm.bias), dtype)
        if arrays is None or any(a is not None and a.shape != (width,) for a in arrays):
            return None
        norms.append((*arrays, norm.eps))
    return norms


def _idle(dropout):
    """Whether a Dropout module passes its input through unchanged (eval, or p = 0) and is plain."""
    return type(dropout) is Dropout and _conv_eval._plain(dropout) and \
        (not dropout.training or dropout.p == 0)
