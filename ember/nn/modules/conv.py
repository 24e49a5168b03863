"""Convolution layers: Conv1d/2d/3d and ConvTranspose1d/2d/3d, initialised as in PyTorch."""
import math

from ... import ops
from ...ops import conv as C
from .. import functional as F
from ...ops.padding import pad
from .. import init
from ..parameter import Parameter
from .module import Module


class _ConvNd(Module):
    _dims = 2
    _transposed = False

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, output_padding=0):
        super().__init__()
        n = self._dims
        if groups <= 0:
            raise ValueError("groups must be a positive integer")
        if in_channels % groups:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups:
            raise ValueError("out_channels must be divisible by groups")
        if padding_mode not in ("zeros", "reflect", "replicate", "circular"):
            raise ValueError(f"padding_mode must be one of ['zeros', 'reflect', 'replicate', 'circular'], but got "
                             f"padding_mode='{padding_mode}'")
        if isinstance(padding, str):
            if padding not in ("same", "valid"):
                raise ValueError(f"Invalid padding string '{padding}', should be one of {{'valid', 'same'}}")
            if padding == "same" and any(s != 1 for s in C._tuple(stride, n)):
                raise ValueError("padding='same' is not supported for strided convolutions")
        self.in_channels, self.out_channels = in_channels, out_channels
        self.kernel_size = C._tuple(kernel_size, n)
        self.stride = C._tuple(stride, n)
        self.padding = padding if isinstance(padding, str) else C._tuple(padding, n)
        self.dilation = C._tuple(dilation, n)
        self.transposed = self._transposed
        self.output_padding = C._tuple(output_padding, n)
        self.groups = groups
        self.padding_mode = padding_mode
        # F.pad's widths (last dim first) for the padding modes other than zeros, under PyTorch's name: torch's
        # forward reads it from a module ember pickled
        if isinstance(self.padding, str):
            pairs = C._same_padding(self.kernel_size, self.dilation) if self.padding == "same" else [(0, 0)] * n
        else:
            pairs = [(p, p) for p in self.padding]
        self._reversed_padding_repeated_twice = [w for left, right in reversed(pairs) for w in (left, right)]
        if self._transposed:
            shape = (in_channels, out_channels // groups) + self.kernel_size
        else:
            shape = (out_channels, in_channels // groups) + self.kernel_size
        self.weight = Parameter(ops.creation.empty(shape, device=device, dtype=dtype))
        if bias:
            self.bias = Parameter(ops.creation.empty(out_channels, device=device, dtype=dtype))
        else:
            self.register_parameter("bias", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Kaiming-uniform weight (a = sqrt(5)) and U(-1/sqrt(fan_in), 1/sqrt(fan_in)) bias, as PyTorch."""
        init.kaiming_uniform_(self.weight, a=math.sqrt(5))
        if self.bias is not None:
            fan_in, _ = init._calculate_fan_in_and_fan_out(self.weight)
            if fan_in != 0:
                bound = 1 / math.sqrt(fan_in)
                init.uniform_(self.bias, -bound, bound)

    def extra_repr(self):
        text = f"{self.in_channels}, {self.out_channels}, kernel_size={self.kernel_size}, stride={self.stride}"
        if self.padding != (0,) * len(self.kernel_size):
            text += f", padding={self.padding}"
        if self.dilation != (1,) * len(self.dilation):
            text += f", dilation={self.dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            text += f", output_padding={self.output_padding}"
        if self.groups != 1:
            text += f", groups={self.groups}"
        if self.bias is None:
            text += ", bias=False"
        if self.padding_mode != "zeros":
            text += f", padding_mode={self.padding_mode}"
        return text

    def _conv_forward(self, input, weight, bias):
        # looked up in nn.functional at call time, as torch's F.conv2d: a tracer's stand-in there records the call
        # when a subclass (not an fx leaf) is traced through
        function = getattr(F, f"conv{self._dims}d")
        if self.padding_mode != "zeros":
            return function(pad(input, self._reversed_padding_repeated_twice, mode=self.padding_mode), weight, bias,
                            self.stride, 0, self.dilation, self.groups)
        return function(input, weight, bias, self.stride, self.padding, self.dilation, self.groups)

    def forward(self, input):
        return self._conv_forward(input, self.weight, self.bias)


class Conv1d(_ConvNd):
    """1-D convolution over (N, C, L) input."""
    _dims = 1


class Conv2d(_ConvNd):
    """2-D convolution over (N, C, H, W) input."""
    _dims = 2


class Conv3d(_ConvNd):
    """3-D convolution over (N, C, D, H, W) input."""
    _dims = 3


class _ConvTransposeNd(_ConvNd):
    _transposed = True

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, output_padding=0, groups=1,
                 bias=True, dilation=1, padding_mode="zeros", device=None, dtype=None):
        if padding_mode != "zeros":
            raise ValueError(f'Only "zeros" padding mode is supported for {type(self).__name__}')
        super().__init__(in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                         padding_mode, device, dtype, output_padding)

    def _output_padding(self, input, output_size):
        if output_size is None:
            return self.output_padding
        n = self._dims
        output_size = list(output_size)[-n:]
        result = []
        for i in range(n):
            minimum = (input.shape[-n + i] - 1) * self.stride[i] - 2 * self.padding[i] + \
                self.dilation[i] * (self.kernel_size[i] - 1) + 1
            extra = output_size[i] - minimum
            if not 0 <= extra < max(self.stride[i], self.dilation[i]):
                raise ValueError(f"requested an output size of {output_size}, but valid sizes range from "
                                 f"{minimum} to {minimum + self.stride[i] - 1} (for an input of "
                                 f"{list(input.shape[-n:])})")
            result.append(extra)
        return tuple(result)

    def forward(self, input, output_size=None):
        function = getattr(F, f"conv_transpose{self._dims}d")
        return function(input, self.weight, self.bias, self.stride, self.padding,
                        self._output_padding(input, output_size), self.groups, self.dilation)


class ConvTranspose1d(_ConvTransposeNd):
    """1-D transposed convolution."""
    _dims = 1


class ConvTranspose2d(_ConvTransposeNd):
    """2-D transposed convolution."""
    _dims = 2


class ConvTranspose3d(_ConvTransposeNd):
    """3-D transposed convolution."""
    _dims = 3
