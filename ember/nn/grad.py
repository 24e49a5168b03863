"""``torch.nn.grad``: a convolution's gradient with respect to its input, or to its weight, from the gradient of its
output. Each is the adjoint primitive the convolution's own backward runs, so they agree with autograd exactly."""
from ..ops.conv import ConvolutionInput, ConvolutionWeight, _tuple

__all__ = ["conv1d_input", "conv1d_weight", "conv2d_input", "conv2d_weight", "conv3d_input", "conv3d_weight"]


def _options(n, stride, padding, dilation):
    return _tuple(stride, n, "stride"), _tuple(padding, n, "padding"), _tuple(dilation, n, "dilation")


def _input_gradient(n, input_size, weight, grad_output, stride, padding, dilation, groups):
    return ConvolutionInput.apply(grad_output, weight, tuple(input_size), *_options(n, stride, padding, dilation),
                                  groups)


def _weight_gradient(n, input, weight_size, grad_output, stride, padding, dilation, groups):
    return ConvolutionWeight.apply(input, grad_output, tuple(weight_size), *_options(n, stride, padding, dilation),
                                   groups)


def conv1d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv1d`` with respect to an input of shape ``input_size``."""
    return _input_gradient(1, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv1d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv1d`` with respect to a weight of shape ``weight_size``."""
    return _weight_gradient(1, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv2d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv2d`` with respect to an input of shape ``input_size``."""
    return _input_gradient(2, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv2d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv2d`` with respect to a weight of shape ``weight_size``."""
    return _weight_gradient(2, input, weight_size, grad_output, stride, padding, dilation, groups)


def conv3d_input(input_size, weight, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv3d`` with respect to an input of shape ``input_size``."""
    return _input_gradient(3, input_size, weight, grad_output, stride, padding, dilation, groups)


def conv3d_weight(input, weight_size, grad_output, stride=1, padding=0, dilation=1, groups=1):
    """The gradient of ``conv3d`` with respect to a weight of shape ``weight_size``."""
    return _weight_gradient(3, input, weight_size, grad_output, stride, padding, dilation, groups)
