"""ATen's native entry points that PyTorch also exposes at the top level: the normalizations and dropout that return
their statistics or mask beside the result (``native_layer_norm``, ``native_batch_norm``, ``native_group_norm``,
``native_dropout``), the one ``convolution`` for every dimension and direction, and ``constant_pad_nd``."""
from .. import _dtype
from ..autograd.grad_mode import no_grad
from . import conv, normalization
from .creation import empty, empty_like, ones_like
from .padding import pad

__all__ = ["native_layer_norm", "native_batch_norm", "native_group_norm", "native_dropout", "convolution",
           "constant_pad_nd"]


def _statistics(rows, eps):
    """The mean and 1 / sqrt(biased variance + eps) of each row of ``rows``, in float32 at least."""
    dtype = rows.dtype if rows.dtype in (_dtype.float64, _dtype.float32) else _dtype.float32
    rows = rows.to(dtype)
    return rows.mean(-1, keepdim=True), (rows.var(-1, keepdim=True, correction=0) + eps).rsqrt()


def native_layer_norm(input, normalized_shape, weight, bias, eps):
    """``layer_norm``'s result with the mean and reciprocal standard deviation of each normalized row, shaped as the
    input with the normalized dims kept as 1 (the statistics take no gradient)."""
    result = normalization.layer_norm(input, normalized_shape, weight, bias, eps)
    count = len(tuple(normalized_shape)) if not isinstance(normalized_shape, int) else 1
    leading = tuple(input.shape[:input.ndim - count])
    with no_grad():
        mean, rstd = _statistics(input.reshape(leading + (-1,)), eps)
    kept = leading + (1,) * count
    return result, mean.reshape(kept).to(input.dtype), rstd.reshape(kept).to(input.dtype)


def native_batch_norm(input, weight, bias, running_mean, running_var, training, momentum, eps):
    """``batch_norm``'s result with the batch's mean and reciprocal standard deviation per channel when training
    (the running statistics updated as ``batch_norm`` does), else two empty tensors."""
    result = normalization.batch_norm(input, running_mean, running_var, weight, bias, training, momentum, eps)
    if not training:
        return result, empty(0, dtype=input.dtype), empty(0, dtype=input.dtype)
    with no_grad():
        mean, invstd = _statistics(input.movedim(1, 0).reshape(input.shape[1], -1), eps)
    return result, mean.reshape(-1).to(input.dtype), invstd.reshape(-1).to(input.dtype)


def native_group_norm(input, weight, bias, N, C, HxW, group, eps):
    """``group_norm``'s result with the mean and reciprocal standard deviation of each sample's groups, (N, group),
    all three differentiable as PyTorch's; ``N``, ``C`` and ``HxW`` must describe the input as ATen's kernel
    expects."""
    if input.numel() != N * C * HxW:
        raise RuntimeError("Expected X.numel() == N * C * HxW to be true, but got false.  (Could this error message "
                           "be improved?  If so, please report an enhancement request to PyTorch.)")
    result = normalization.group_norm(input, group, weight, bias, eps)
    mean, rstd = _statistics(input.reshape(N, group, -1), eps)
    return result, mean.reshape(N, group).to(input.dtype), rstd.reshape(N, group).to(input.dtype)


def native_dropout(input, p, train):
    """Dropout that also returns its boolean keep mask; ``train`` None means training. While training the result is
    ``input * mask * (1 / (1 - p))`` (zero for p = 1); otherwise a copy of the input and an all-true mask."""
    if input.numel() == 0:
        return input, empty_like(input)
    if train is None or train:
        keep = empty_like(input).bernoulli_(1 - p)
        scale = 0.0 if p == 1 else 1.0 / (1 - p)
        return input * keep * scale, keep.to(_dtype.bool_)
    return input.clone(), ones_like(input, dtype=_dtype.bool_)


def convolution(input, weight, bias, stride, padding, dilation, transposed, output_padding, groups):
    """ATen's convolution: ``conv1d``/``conv2d``/``conv3d``, or their transposes when ``transposed``, by the
    weight's number of spatial dims."""
    if weight.ndim < 3:
        raise RuntimeError("weight should have at least three dimensions")
    if input.ndim != weight.ndim:
        raise RuntimeError(f"Expected {weight.ndim}-dimensional input for {weight.ndim}-dimensional weight "
                           f"{list(weight.shape)}, but got {input.ndim}-dimensional input of size "
                           f"{list(input.shape)} instead")
    dims = weight.ndim - 2
    if dims > 3:
        raise RuntimeError("unsupported ConvNd parameters")
    if transposed:
        function = (conv.conv_transpose1d, conv.conv_transpose2d, conv.conv_transpose3d)[dims - 1]
        return function(input, weight, bias, stride, padding, output_padding, groups, dilation)
    function = (conv.conv1d, conv.conv2d, conv.conv3d)[dims - 1]
    return function(input, weight, bias, stride, padding, dilation, groups)


def constant_pad_nd(input, pad_widths, value=0):
    """Pads (or, with negative widths, crops) the last dims by ``pad_widths`` (last dim first) with ``value``."""
    if len(pad_widths) % 2:   # ATen's own words, not F.pad's
        raise RuntimeError(f"Length of pad must be even but instead it equals {len(pad_widths)}")
    if len(pad_widths) // 2 > input.ndim:
        raise RuntimeError(f"Length of pad should be no more than twice the number of dimensions of the input. "
                           f"Pad length is {len(pad_widths)}while the input has {input.ndim}dimensions.")
    return pad(input, list(pad_widths), "constant", value)

