"""Dropout variants: zero random elements (or channels) while training, scaling the rest to keep the mean."""
__all__ = ["dropout", "alpha_dropout", "feature_alpha_dropout"]


def _check_p(p):
    if p < 0.0 or p > 1.0:
        raise ValueError(f"dropout probability has to be between 0 and 1, but got {p}")


def _apply(input, mask_shape, p, inplace):
    from .creation import empty
    if p == 1.0:
        result = input * 0.0
    else:
        keep = empty(mask_shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
        result = input * keep / (1 - p)
    return input.copy_(result) if inplace else result


def dropout(input, p=0.5, training=True, inplace=False):
    """Zeroes each element with probability ``p`` while training and scales the rest by 1 / (1 - p)."""
    _check_p(p)
    if not training or p == 0.0:
        return input
    return _apply(input, tuple(input.shape), p, inplace)


def dropout1d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, L) or (C, L) input with probability ``p``."""
    return _channel_dropout(input, p, training, inplace, 1)


def dropout2d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, H, W) or (C, H, W) input with probability ``p``."""
    return _channel_dropout(input, p, training, inplace, 2)


def dropout3d(input, p=0.5, training=True, inplace=False):
    """Zeroes whole channels of (N, C, D, H, W) or (C, D, H, W) input with probability ``p``."""
    return _channel_dropout(input, p, training, inplace, 3)


def _channel_dropout(input, p, training, inplace, spatial):
    _check_p(p)
    if not training or p == 0.0:
        return input
    batched = input.ndim == spatial + 2
    lead = 2 if batched else 1
    mask_shape = tuple(input.shape[:lead]) + (1,) * (input.ndim - lead)
    return _apply(input, mask_shape, p, inplace)


_ALPHA = 1.6732632423543772848170429916717 * 1.0507009873554804934193349852946


def _alpha(input, p, training, mask_shape):
    _check_p(p)
    if not training or p == 0.0:
        return input
    if p == 1.0:
        return input * 0.0
    from .creation import empty
    keep = empty(mask_shape, dtype=input.dtype, device=input.device).bernoulli_(1 - p)
    a = ((1 - p) * (1 + p * _ALPHA ** 2)) ** -0.5
    b = a * _ALPHA * p
    return (input * keep - _ALPHA * (1 - keep)) * a + b


def alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Dropout that keeps a SELU network's mean and variance: dropped values become -alpha', then affine-corrected."""
    result = _alpha(input, p, training, tuple(input.shape))
    return input.copy_(result) if inplace and result is not input else result


def feature_alpha_dropout(input, p=0.5, training=False, inplace=False):
    """Alpha dropout of whole channels."""
    mask_shape = tuple(input.shape[:2]) + (1,) * (input.ndim - 2)
    result = _alpha(input, p, training, mask_shape)
    return input.copy_(result) if inplace and result is not input else result
