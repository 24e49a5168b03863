"""``torch.ao.nn.quantized.functional``: the quantized ops in functional form, on quantized tensors."""
import ember

from ... import _qops

__all__ = ["avg_pool2d", "adaptive_avg_pool2d", "conv1d", "conv2d", "conv3d", "linear", "max_pool1d", "max_pool2d",
           "hardswish", "hardtanh", "elu", "leaky_relu", "relu6", "hardsigmoid", "clamp", "threshold"]


def _prepacked_weight(weight):
    if weight.dtype is not ember.qint8:
        raise ValueError("Only torch.qint8 is supported for weight")
    return weight


def _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, scale, zero_point, dtype, n):
    if padding_mode != "zeros":
        raise NotImplementedError("Only zero-padding is supported!")
    if input.dtype is not ember.quint8:
        raise NotImplementedError("Only torch.quint8 is supported for activation tensor!")
    if input.ndim != n + 2:
        raise ValueError(f"Input shape must be `{('(N, C, L)', '(N, C, H, W)', '(N, C, D, H, W)')[n - 1]}`!")
    return _qops.conv(input, _prepacked_weight(weight), bias, stride, padding, dilation, groups, scale, zero_point)


def conv1d(input, weight, bias, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", scale=1.0,
           zero_point=0, dtype=ember.quint8):
    """A quantized 1-d convolution (quint8 input, qint8 weight, float bias)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, scale, zero_point, dtype, 1)


def conv2d(input, weight, bias, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", scale=1.0,
           zero_point=0, dtype=ember.quint8):
    """A quantized 2-d convolution (quint8 input, qint8 weight, float bias)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, scale, zero_point, dtype, 2)


def conv3d(input, weight, bias, stride=1, padding=0, dilation=1, groups=1, padding_mode="zeros", scale=1.0,
           zero_point=0, dtype=ember.quint8):
    """A quantized 3-d convolution (quint8 input, qint8 weight, float bias)."""
    return _conv(input, weight, bias, stride, padding, dilation, groups, padding_mode, scale, zero_point, dtype, 3)


def linear(input, weight, bias=None, scale=None, zero_point=None):
    """A quantized linear layer (quint8 input, qint8 weight, float bias); output qparams default to the input's."""
    scale = input.q_scale() if scale is None else scale
    zero_point = input.q_zero_point() if zero_point is None else zero_point
    return _qops.linear(input, weight, bias, scale, zero_point)


def avg_pool2d(input, kernel_size, stride=None, padding=0, ceil_mode=False, count_include_pad=True,
               divisor_override=None):
    """Quantized 2-d average pooling."""
    if not input.is_quantized:
        raise ValueError("Input to 'quantized.avg_pool2d' must be quantized!")
    return ember.nn.functional.avg_pool2d(input, kernel_size, stride, padding, ceil_mode, count_include_pad,
                                          divisor_override)


def adaptive_avg_pool2d(input, output_size):
    """Quantized 2-d adaptive average pooling."""
    if not input.is_quantized:
        raise ValueError("Input to 'quantized.functional.adaptive_avg_pool2d' must be quantized!")
    return ember.nn.functional.adaptive_avg_pool2d(input, output_size)


def max_pool1d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Quantized 1-d max pooling."""
    if return_indices:
        raise NotImplementedError("return_indices is not yet implemented!")
    return ember.nn.functional.max_pool1d(input, kernel_size, stride, padding, dilation, ceil_mode)


def max_pool2d(input, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
    """Quantized 2-d max pooling."""
    if return_indices:
        raise NotImplementedError("return_indices is not yet implemented!")
    return ember.nn.functional.max_pool2d(input, kernel_size, stride, padding, dilation, ceil_mode)


def hardswish(input, scale, zero_point):
    """Quantized hardswish, output quantized with ``scale``/``zero_point``."""
    if not input.is_quantized:
        raise ValueError("Input to 'quantized.hardswish' must be quantized!")
    return _qops.hardswish(input, scale, zero_point)


def hardtanh(input, min_val=-1.0, max_val=1.0, inplace=False):
    """Quantized hardtanh."""
    if not input.is_quantized:
        raise ValueError("Input to 'quantized.hardtanh' must be quantized!")
    return ember.nn.functional.hardtanh(input, min_val, max_val, inplace)


def elu(input, scale, zero_point, alpha=1.0):
    """Quantized ELU, output quantized with ``scale``/``zero_point``."""
    if not input.is_quantized:
        raise ValueError("Input to 'quantized.elu' must be quantized!")
    return _qops.elu(input, scale, zero_point, alpha)


def leaky_relu(input, negative_slope=0.01, inplace=False, scale=None, zero_point=None):
    """Quantized leaky ReLU (output qparams default to the input's)."""
    return _qops.leaky_relu(input, negative_slope, scale, zero_point)


def relu6(input, inplace=False):
    """Quantized ReLU6."""
    return _qops.relu6(input)


def hardsigmoid(input, inplace=False):
    """Quantized hardsigmoid."""
    return _qops.hardsigmoid(input)


def clamp(input, min_, max_):
    """Quantized clamp."""
    if not input.is_quantized:
        raise ValueError("Input to 'quantized.clamp' must be quantized!")
    return _qops.hardtanh(input, min_, max_)


def threshold(input, threshold, value):
    """Quantized threshold: ``value`` where ``input <= threshold``."""
    if not input.is_quantized:
        raise ValueError("Input to 'quantized.threshold' must be quantized!")
    return _qops.unary(input, lambda v: _qops.numpy.where(v > threshold, v, _qops.f32(value)))
