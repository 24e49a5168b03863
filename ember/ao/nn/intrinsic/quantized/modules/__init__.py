"""Quantized fused modules (``torch.ao.nn.intrinsic.quantized.modules``): quantized conv/linear/batch norm with the
ReLU applied in the requantization (the output clamped below at its zero point)."""
from ....quantized.modules import batchnorm, conv, linear
from ... import BNReLU2d as _BNReLU2d, BNReLU3d as _BNReLU3d, ConvReLU1d as _ConvReLU1d, ConvReLU2d as _ConvReLU2d
from ... import ConvReLU3d as _ConvReLU3d, LinearReLU as _LinearReLU
from ..... import _qops

__all__ = ["BNReLU2d", "BNReLU3d", "ConvReLU1d", "ConvReLU2d", "ConvReLU3d", "LinearReLU"]


def _conv_relu(name, base, fused):
    def forward(self, input):
        """The quantized convolution with the ReLU applied."""
        return self._conv_forward(input, relu=True)

    def _get_name(self):
        return f"Quantized{name}"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From an observed float ConvReLU (or a QAT ConvReLU / ConvBnReLU, its batch norm folded in)."""
        return base.from_float.__func__(cls, mod, use_precomputed_fake_quant)

    @classmethod
    def from_reference(cls, ref_qconv, output_scale, output_zero_point):
        """From a reference fused ConvReLU (its convolution a reference quantized one) and the output qparams."""
        return base.from_reference.__func__(cls, ref_qconv[0], output_scale, output_zero_point)

    return type(name, (base,), {"forward": forward, "_get_name": _get_name, "from_float": from_float,
                                "from_reference": from_reference,
                                "_FLOAT_MODULE": fused, "__module__": __name__,
                                "__doc__": f"A quantized {base.__name__} fused with ReLU."})


ConvReLU1d = _conv_relu("ConvReLU1d", conv.Conv1d, _ConvReLU1d)
ConvReLU2d = _conv_relu("ConvReLU2d", conv.Conv2d, _ConvReLU2d)
ConvReLU3d = _conv_relu("ConvReLU3d", conv.Conv3d, _ConvReLU3d)
for _cls in (ConvReLU1d, ConvReLU2d, ConvReLU3d):
    _cls._NNI_CONV_RELU_MODULE = _cls._FLOAT_MODULE


class LinearReLU(linear.Linear):
    """A quantized Linear fused with ReLU."""

    _FLOAT_MODULE = _LinearReLU

    def forward(self, x):
        """The quantized linear layer with the ReLU applied."""
        weight, bias = self._packed_params._packed_params
        return _qops.linear(x, weight, bias, self.scale, self.zero_point, relu=True)

    def _get_name(self):
        return "QuantizedLinearReLU"

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From an observed float LinearReLU (or a QAT LinearReLU)."""
        return super().from_float(mod, use_precomputed_fake_quant)

    @classmethod
    def from_reference(cls, ref_linear_relu, output_scale, output_zero_point):
        """From a reference fused LinearReLU (its linear a reference quantized one) and the output qparams."""
        return super().from_reference(ref_linear_relu[0], output_scale, output_zero_point)


class BNReLU2d(batchnorm.BatchNorm2d):
    """A quantized BatchNorm2d fused with ReLU."""

    _FLOAT_MODULE = _BNReLU2d
    _RELU = True

    def _get_name(self):
        return "QuantizedBNReLU2d"


class BNReLU3d(batchnorm.BatchNorm3d):
    """A quantized BatchNorm3d fused with ReLU."""

    _FLOAT_MODULE = _BNReLU3d
    _RELU = True

    def _get_name(self):
        return "QuantizedBNReLU3d"
