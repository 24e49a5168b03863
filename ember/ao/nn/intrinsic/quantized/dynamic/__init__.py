"""``torch.ao.nn.intrinsic.quantized.dynamic``: dynamically quantized fused modules (``LinearReLU``)."""
import ember

from ....quantized.dynamic.modules.linear import Linear as _DynamicLinear
from ...modules.fused import LinearReLU as _LinearReLU

__all__ = ["LinearReLU"]


class LinearReLU(_DynamicLinear):
    """A dynamically quantized Linear fused with ReLU (``quantized::linear_relu_dynamic``)."""

    _FLOAT_MODULE = _LinearReLU

    def forward(self, x):
        """The dynamic quantized linear layer's output with the ReLU applied."""
        return ember.relu(super().forward(x))

    def _get_name(self):
        return "DynamicQuantizedLinearReLU"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From a float LinearReLU with a qconfig (its linear's weight quantized)."""
        linear = mod[0]
        linear.qconfig = getattr(mod, "qconfig", None)
        quantized = _DynamicLinear.from_float.__func__(cls, linear, use_precomputed_fake_quant)
        return quantized

    @classmethod
    def from_reference(cls, ref_qlinear_relu):
        """From a reference fused LinearReLU (its linear a reference quantized one)."""
        return super().from_reference(ref_qlinear_relu[0])
