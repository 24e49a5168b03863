"""The QAT fused LinearReLU (``torch.ao.nn.intrinsic.qat.LinearReLU``)."""
from ember import nn

from ... import modules as nni_modules
from ...modules.fused import _FusedModule
from ....qat.modules import linear as nnqat_linear

__all__ = ["LinearReLU"]


class LinearReLU(nnqat_linear.Linear, _FusedModule):
    """A QAT Linear (fake-quantized weight) followed by ReLU."""

    _FLOAT_MODULE = nni_modules.LinearReLU

    def forward(self, input):
        """``relu(linear(input, fake_quant(weight), bias))``."""
        return nn.functional.relu(nn.functional.linear(input, self.weight_fake_quant(self.weight), self.bias))

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From a fused ``intrinsic.LinearReLU`` with a qconfig."""
        return super().from_float(mod, use_precomputed_fake_quant)

    def to_float(self):
        """The float ``intrinsic.LinearReLU`` with this module's parameters."""
        linear = super().to_float()
        return nni_modules.LinearReLU(linear, nn.ReLU())
