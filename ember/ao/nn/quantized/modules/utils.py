"""Helpers of the quantized modules (``torch.ao.nn.quantized.modules.utils``)."""
import numpy

import ember
from ember import nn

from ...._qtensor import RANGES

__all__ = ["WeightedQuantizedModule"]


def _quantize_weight(float_wt, observer):
    """``float_wt`` quantized with the qparams ``observer`` computed after seeing it (qint8 per tensor or per channel;
    the observer's dtype with float qparams), clamped to the observer's range where that is narrower."""
    scales, zero_points = observer.calculate_qparams()
    if observer.qscheme in (ember.per_tensor_symmetric, ember.per_tensor_affine):
        qweight = ember.quantize_per_tensor(float_wt, float(scales), int(zero_points), ember.qint8)
    elif observer.qscheme in (ember.per_channel_symmetric, ember.per_channel_affine):
        qweight = ember.quantize_per_channel(float_wt, scales.double(), zero_points.long(), observer.ch_axis,
                                             ember.qint8)
    elif observer.qscheme is ember.per_channel_affine_float_qparams:
        qweight = ember.quantize_per_channel(float_wt, scales.float(), zero_points.float(), observer.ch_axis,
                                             observer.dtype)
    else:
        raise ValueError(f"Unexpected qscheme {observer.qscheme}")
    observer = getattr(observer, "activation_post_process", observer)
    low, high = RANGES[qweight.dtype.name]
    if observer.quant_min > low or observer.quant_max < high:
        qweight._int = numpy.clip(qweight._int, observer.quant_min, observer.quant_max).astype(qweight._int.dtype)
    return qweight


class WeightedQuantizedModule(nn.Module):
    """Base of the quantized modules with a weight (conv, linear): made from float modules by ``from_float``."""

    @classmethod
    def from_reference(cls, ref_module, output_scale, output_zero_point):
        raise NotImplementedError


def _hide_packed_params_repr(self, params):
    """The module's repr without its packed-parameters submodule (``params``' type), as PyTorch prints it."""
    extra = self.extra_repr()
    lines = [f"({name}): " + repr(module).replace("\n", "\n  ") for name, module in self._modules.items()
             if not isinstance(module, params)]
    text = self._get_name() + "("
    if lines or "\n" in extra:
        return text + "\n  " + "\n  ".join(extra.split("\n") + lines) + "\n)"
    return text + extra + ")"
