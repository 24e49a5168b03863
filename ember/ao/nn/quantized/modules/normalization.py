"""Quantized normalization layers (``torch.ao.nn.quantized.LayerNorm``, ``GroupNorm``, ``InstanceNorm1d/2d/3d``):
the float normalization of the dequantized input, quantized with the layer's ``scale``/``zero_point`` (PyTorch's
kernels give the same integers)."""
import ember
from ember import nn

__all__ = ["LayerNorm", "GroupNorm", "InstanceNorm1d", "InstanceNorm2d", "InstanceNorm3d"]


def _requantize(input, out, scale, zero_point):
    return ember.quantize_per_tensor(out, float(scale), int(zero_point), input.dtype)


class _WithOutputQParams:
    def _set_qparams(self, scale, zero_point, device=None, dtype=None):
        self.register_buffer("scale", ember.tensor(scale, device=device, dtype=dtype))
        self.register_buffer("zero_point", ember.tensor(zero_point, device=device, dtype=dtype))


class LayerNorm(_WithOutputQParams, nn.LayerNorm):
    """The quantized version of ``nn.LayerNorm``."""

    def __init__(self, normalized_shape, weight, bias, scale, zero_point, eps=1e-5, elementwise_affine=True,
                 device=None, dtype=None):
        super().__init__(normalized_shape, eps=eps, elementwise_affine=elementwise_affine, device=device,
                         dtype=dtype)
        self.weight, self.bias = weight, bias
        self._set_qparams(scale, zero_point, device, dtype)

    def forward(self, input):
        """The layer norm of quantized ``input``, quantized with the layer's qparams."""
        out = nn.functional.layer_norm(input.dequantize(), self.normalized_shape, self.weight, self.bias, self.eps)
        return _requantize(input, out, self.scale, self.zero_point)

    def _get_name(self):
        return "QuantizedLayerNorm"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From an observed float LayerNorm."""
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return cls(mod.normalized_shape, mod.weight, mod.bias, float(scale), int(zero_point), mod.eps,
                   mod.elementwise_affine)

    @classmethod
    def from_reference(cls, mod, scale, zero_point):
        """From a float LayerNorm and the output qparams (FX graph mode quantization)."""
        return cls(mod.normalized_shape, mod.weight, mod.bias, float(scale), int(zero_point), mod.eps,
                   mod.elementwise_affine)


class GroupNorm(_WithOutputQParams, nn.GroupNorm):
    """The quantized version of ``nn.GroupNorm``."""

    def __init__(self, num_groups, num_channels, weight, bias, scale, zero_point, eps=1e-5, affine=True,
                 device=None, dtype=None):
        super().__init__(num_groups, num_channels, eps, affine, device=device, dtype=dtype)
        self.weight, self.bias = weight, bias
        self._set_qparams(scale, zero_point, device, dtype)

    def forward(self, input):
        """The group norm of quantized ``input``, quantized with the layer's qparams."""
        out = nn.functional.group_norm(input.dequantize(), self.num_groups, self.weight, self.bias, self.eps)
        return _requantize(input, out, self.scale, self.zero_point)

    def _get_name(self):
        return "QuantizedGroupNorm"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From an observed float GroupNorm."""
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return cls(mod.num_groups, mod.num_channels, mod.weight, mod.bias, float(scale), int(zero_point), mod.eps,
                   mod.affine)

    @classmethod
    def from_reference(cls, mod, scale, zero_point):
        """From a float GroupNorm and the output qparams (FX graph mode quantization)."""
        return cls(mod.num_groups, mod.num_channels, mod.weight, mod.bias, float(scale), int(zero_point), mod.eps,
                   mod.affine)


def _instance_norm(name, base):
    def __init__(self, num_features, weight, bias, scale, zero_point, eps=1e-5, momentum=0.1, affine=False,
                 track_running_stats=False, device=None, dtype=None):
        base.__init__(self, num_features, eps, momentum, affine, track_running_stats, device=device, dtype=dtype)
        self.weight, self.bias = weight, bias
        self._set_qparams(scale, zero_point, device, dtype)

    def forward(self, input):
        """The instance norm of quantized ``input``, quantized with the layer's qparams."""
        out = nn.functional.instance_norm(input.dequantize(), weight=self.weight, bias=self.bias, eps=self.eps)
        return _requantize(input, out, self.scale, self.zero_point)

    def _get_name(self):
        return f"Quantized{name}"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From an observed float instance norm."""
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return cls(mod.num_features, mod.weight, mod.bias, float(scale), int(zero_point), mod.eps, mod.affine)

    @classmethod
    def from_reference(cls, mod, scale, zero_point):
        """From a float instance norm and the output qparams (FX graph mode quantization)."""
        return cls(mod.num_features, mod.weight, mod.bias, float(scale), int(zero_point), mod.eps, mod.affine)

    return type(name, (_WithOutputQParams, base), {
        "__init__": __init__, "forward": forward, "_get_name": _get_name, "from_float": from_float,
        "from_reference": from_reference, "__module__": __name__,
        "__doc__": f"The quantized version of ``nn.{name}``."})


InstanceNorm1d = _instance_norm("InstanceNorm1d", nn.InstanceNorm1d)
InstanceNorm2d = _instance_norm("InstanceNorm2d", nn.InstanceNorm2d)
InstanceNorm3d = _instance_norm("InstanceNorm3d", nn.InstanceNorm3d)
