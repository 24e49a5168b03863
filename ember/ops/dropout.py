"""Dropout variants: zero random elements (or channels) while training, scaling the rest to keep the mean."""

import numpy

from .._warnings import warn
from .. import _dtype
from .._tensor import Tensor
from ..autograd import function
from ..autograd.function import composite
from ._util import keeps_layout

__all__ = ["dropout", "alpha_dropout", "feature_alpha_dropout"]


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def scaled_keep(shape, like, p):
    """Dropout's noise ``empty(shape).bernoulli_(1 - p).div_(1 - p)`` in ``like``'s dtype and device, 0 < p < 1.
    For float32/float64 host tensors outside dispatch hooks, the quotient 1 / (1 - p) is written straight where the
    draw keeps (the same values and random stream: 1 and 0 divided by 1 - p), into a pooled array: no division
    pass, and no fresh megabytes faulted in each step."""
    from .creation import empty
    if function.dispatch_hooks or like.dtype not in (_dtype.float32, _dtype.float64) or \
            type(like._data) is not numpy.ndarray:
        return empty(shape, dtype=like.dtype, device=like.device).bernoulli_(1 - p).div_(1 - p)
    from .._tensor import _make
    from . import _buffers, _samplers, random
    dtype = like._data.dtype
    data = _buffers.empty(numpy, shape, dtype)
    one = numpy.true_divide(numpy.ones((), dtype), float(1 - p))[()]   # div_'s arithmetic on a kept element
    _samplers.bernoulli_scalar(random._engine(None), data.size, 1 - p, data.reshape(-1), one)
    return _make(data)


def _memory_order(input):
    """The axes of ``input`` from outermost to innermost in memory where its layout is not row-major but is one
    PyTorch's ``empty_like`` keeps (dense, or channels-last): dropout's noise is ``empty_like(input)`` filled in
    memory order there, so its draws land in that order. None for row-major inputs."""
    data = input._data
    if data.ndim < 2 or data.flags.c_contiguous:
        return None
    ones = [a for a in range(data.ndim) if data.shape[a] == 1]
    order = sorted((a for a in range(data.ndim) if data.shape[a] != 1), key=lambda a: -data.strides[a])
    step = data.itemsize
    for axis in reversed(order):
        if data.strides[axis] != step:
            break
        step *= data.shape[axis]
    else:
        return ones + order
    from .._memory_format import channels_last, channels_last_3d, suggested
    layout = suggested(data)
    if layout is channels_last or layout is channels_last_3d:
        return [0] + list(range(2, data.ndim)) + [1]
    return None


def _noise(input, mask_shape, draw):
    """``draw(shape)``'s noise for ``input``, drawn in ``input``'s memory order when the noise has its shape."""
    order = _memory_order(input) if mask_shape == tuple(input.shape) else None
    if order is None:
        return draw(mask_shape)
    return draw(tuple(mask_shape[a] for a in order)).permute(*numpy.argsort(order).tolist())


def _apply(input, mask_shape, p, inplace):
    if p == 1.0:
        result = input * 0.0
    else:
        result = input * _noise(input, mask_shape, lambda shape: scaled_keep(shape, input, p))
    return input.copy_(result) if inplace else result


@composite("dropout")
@keeps_layout
def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability ``p`` while training and scales the rest by 1 / (1 - p)."""
    _check_p(p)
    if not training or p == 0.0:
        if not isinstance(input, Tensor):
            _refuse_non_tensor(input, inplace)
        return input
    try:
        shape = tuple(input.shape)
    except AttributeError:
        _refuse_non_tensor(input, inplace)
        raise
    return _apply(input, shape, p, inplace)


def _refuse_non_tensor(input, inplace):
    """PyTorch's parser refuses an input that is not a tensor, training or not."""
    if not isinstance(input, Tensor):
        raise TypeError(f"dropout{'_' if inplace else ''}(): argument 'input' (position 1) must be Tensor, not "
                        f"{type(input).__name__}") from None


@composite("dropout1d")
def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) input with probability ``p``."""
    _check_p(p)
    if input.ndim not in (2, 3):
        raise RuntimeError(f"dropout1d: Expected 2D or 3D input, but received a {input.ndim}D input. Note that "
                           "dropout1d exists to provide channel-wise dropout on inputs with 1 spatial dimension, a "
                           "channel dimension, and an optional batch dimension (i.e. 2D or 3D inputs).")
    return _channel_dropout(input, p, training, inplace, batched=input.ndim == 3)


@composite("dropout2d")
def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) input with probability ``p``; other ranks follow PyTorch's legacy rule."""
    _check_p(p)
    if input.ndim not in (3, 4):
        warn(f"dropout2d: Received a {input.ndim}-D input to dropout2d, which is deprecated and will result "
             "in an error in a future release. To retain the behavior and silence this warning, please use "
             "dropout instead. Note that dropout2d exists to provide channel-wise dropout on inputs with 2 "
             "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 3D or 4D "
             "inputs).", stacklevel=2)
    if input.ndim == 3:
        warn("dropout2d: Received a 3D input to dropout2d and assuming that channel-wise 1D dropout behavior "
             "is desired - input is interpreted as shape (N, C, L), where C is the channel dim. This behavior "
             "will change in a future release to interpret the input as one without a batch dimension, i.e. "
             "shape (C, H, W). To maintain the 1D channel-wise dropout behavior, please switch to using "
             "dropout1d instead.", stacklevel=2)
    return _channel_dropout(input, p, training, inplace, batched=True)


@composite("dropout3d")
def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""
    _check_p(p)
    if input.ndim not in (4, 5):
        warn(f"dropout3d: Received a {input.ndim}-D input to dropout3d, which is deprecated and will result "
             "in an error in a future release. To retain the behavior and silence this warning, please use "
             "dropout instead. Note that dropout3d exists to provide channel-wise dropout on inputs with 3 "
             "spatial dimensions, a channel dimension, and an optional batch dimension (i.e. 4D or 5D "
             "inputs).", stacklevel=2)
    return _channel_dropout(input, p, training, inplace, batched=input.ndim == 5)


def _channel_dropout(input, p, training, inplace, batched):
    """PyTorch's feature dropout: one draw per (batch, channel), or per channel for unbatched input."""
    if not training or p == 0.0:
        return input
    lead = min(input.ndim, 2 if batched else 1)
    mask_shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _apply(input, mask_shape, p, inplace)


_ALPHA = 1.7580993408473766   # SELU's alpha * scale


def _alpha(input, p, training, mask_shape):
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    from .creation import empty
    keep = _noise(input, mask_shape,
                  lambda shape: empty(shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p))
    a = 1.0 / ((_ALPHA * _ALPHA * p + 1) * (1 - p)) ** 0.5
    # PyTorch's operation order, so results round as PyTorch's do: input * (keep * a) + (keep - 1) * alpha * a + ...
    shift = keep.add(-1).mul_(_ALPHA * a).add_(_ALPHA * a * p)
    return input * keep.mul_(a) + shift


@composite("alpha_dropout")
def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps a SELU network's mean and variance: dropped values become -alpha', then affine-corrected."""
    result = _alpha(input, p, training, tuple(input.shape))
    return input.copy_(result) if inplace and result is not input else result


@composite("feature_alpha_dropout")
def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    result = _alpha(input, p, training, mask_shape)
    return input.copy_(result) if inplace and result is not input else result
