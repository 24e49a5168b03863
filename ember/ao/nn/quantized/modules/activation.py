"""Quantized activations (``torch.ao.nn.quantized.ReLU6``, ``Hardswish``, ``ELU``, ``LeakyReLU``, ``Sigmoid``):
quantized input and output; those with ``scale``/``zero_point`` quantize their output with them."""
import ember
from ember import nn

from .... import _qops

__all__ = ["ReLU6", "Hardswish", "ELU", "LeakyReLU", "Sigmoid"]


class ReLU6(nn.ReLU):
    """``min(max(x, 0), 6)`` on a quantized tensor, keeping its qparams."""

    def __init__(self, inplace=False):
        super().__init__(inplace)
        self.inplace = inplace

    def forward(self, input):
        """The integers clamped to [zero point, quantized 6]."""
        out = _qops.relu6(input)
        if self.inplace:
            input._int[...] = out._int
            return input
        return out

    def _get_name(self):
        return "QuantizedReLU6"

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        """A quantized ReLU6 (``mod`` carries nothing it needs but ``inplace``)."""
        return ReLU6(mod.inplace)


class _WithQParams:
    """Mixin of the activations whose output has its own qparams (buffers ``scale`` and ``zero_point``)."""

    def _set_qparams(self, scale, zero_point):
        self.register_buffer("scale", ember.tensor(scale))
        self.register_buffer("zero_point", ember.tensor(zero_point))

    @classmethod
    def _observed_qparams(cls, mod):
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return float(scale), int(zero_point)


class Hardswish(_WithQParams, nn.Hardswish):
    """``x * relu6(x + 3) / 6`` of a quantized tensor, quantized with ``scale``/``zero_point``."""

    def __init__(self, scale, zero_point, device=None, dtype=None):
        super().__init__()
        self._set_qparams(scale, zero_point)

    def forward(self, input):
        """The quantized hardswish."""
        return _qops.hardswish(input, float(self.scale), int(self.zero_point))

    def _get_name(self):
        return "QuantizedHardswish"

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        """From an observed float Hardswish."""
        return Hardswish(*Hardswish._observed_qparams(mod))

    @classmethod
    def from_reference(cls, mod, scale, zero_point):
        return cls(float(scale), int(zero_point))


class ELU(_WithQParams, nn.ELU):
    """``x if x > 0 else alpha * (exp(x) - 1)`` of a quantized tensor, quantized with ``scale``/``zero_point``."""

    def __init__(self, scale, zero_point, alpha=1.0):
        super().__init__(alpha)
        self.scale, self.zero_point = scale, zero_point

    def forward(self, input):
        """The quantized ELU."""
        return _qops.elu(input, self.scale, self.zero_point, self.alpha)

    def _get_name(self):
        return "QuantizedELU"

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        """From an observed float ELU."""
        return ELU(*ELU._observed_qparams(mod), mod.alpha)

    @classmethod
    def from_reference(cls, mod, scale, zero_point):
        return cls(float(scale), int(zero_point), mod.alpha)


class LeakyReLU(_WithQParams, nn.LeakyReLU):
    """``x if x > 0 else negative_slope * x`` of a quantized tensor, quantized with ``scale``/``zero_point``."""

    def __init__(self, scale, zero_point, negative_slope=1e-2, inplace=False, device=None, dtype=None):
        super().__init__(negative_slope, inplace)
        self._set_qparams(scale, zero_point)

    def forward(self, input):
        """The quantized leaky ReLU."""
        return _qops.leaky_relu(input, self.negative_slope, float(self.scale), int(self.zero_point))

    def _get_name(self):
        return "QuantizedLeakyReLU"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From an observed float LeakyReLU."""
        return cls(*cls._observed_qparams(mod), mod.negative_slope, mod.inplace)

    @classmethod
    def from_reference(cls, mod, scale, zero_point):
        return cls(float(scale), int(zero_point), mod.negative_slope, mod.inplace)


class Sigmoid(nn.Sigmoid):
    """The sigmoid of a quantized tensor, quantized with ``output_scale``/``output_zero_point``."""

    def __init__(self, output_scale, output_zero_point):
        super().__init__()
        self.output_scale, self.output_zero_point = output_scale, output_zero_point

    def forward(self, input):
        """The quantized sigmoid."""
        return _qops.unary(input, lambda v: (1 / (1 + _qops.numpy.exp(-v))).astype(_qops.f32), self.output_scale,
                           self.output_zero_point)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From an observed float Sigmoid."""
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return cls(float(scale), int(zero_point))
