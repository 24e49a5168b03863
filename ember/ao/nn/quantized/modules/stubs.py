"""``Quantize`` and ``DeQuantize``: the modules ``QuantStub``/``DeQuantStub`` become once a model is converted."""
import ember
from ember import nn

__all__ = ["Quantize", "DeQuantize"]


class Quantize(nn.Module):
    """Quantizes its float input per tensor with a fixed ``scale``, ``zero_point`` and ``dtype``."""

    def __init__(self, scale, zero_point, dtype, factory_kwargs=None):
        super().__init__()
        self.register_buffer("scale", ember.tensor([scale]))
        self.register_buffer("zero_point", ember.tensor([zero_point], dtype=ember.int64))
        self.dtype = dtype

    def forward(self, X):
        """``quantize_per_tensor(X, scale, zero_point, dtype)``."""
        return ember.quantize_per_tensor(X, float(self.scale), int(self.zero_point), self.dtype)

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        """A Quantize with the qparams ``mod``'s observer computed."""
        if not hasattr(mod, "activation_post_process"):
            raise AssertionError("Input float module must have activation_post_process attribute")
        scale, zero_point = mod.activation_post_process.calculate_qparams()
        return Quantize(scale.float().item(), zero_point.long().item(), mod.activation_post_process.dtype)

    def extra_repr(self):
        return f"scale={self.scale}, zero_point={self.zero_point}, dtype={self.dtype}"


class DeQuantize(nn.Module):
    """Dequantizes its quantized input to float."""

    def forward(self, Xq):
        """``Xq.dequantize()``."""
        return Xq.dequantize()

    @staticmethod
    def from_float(mod, use_precomputed_fake_quant=False):
        """A DeQuantize (``mod`` carries nothing it needs)."""
        return DeQuantize()
