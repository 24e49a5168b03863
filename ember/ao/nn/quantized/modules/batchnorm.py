"""Quantized batch norm (``torch.ao.nn.quantized.BatchNorm2d``/``BatchNorm3d``): the running statistics and affine
parameters applied to quantized input, the output quantized with ``scale``/``zero_point``."""
import ember
from ember import nn

from .... import _qops

__all__ = ["BatchNorm2d", "BatchNorm3d"]


class _BatchNorm(nn.modules.batchnorm._BatchNorm):
    _DIM = 4

    def __init__(self, num_features, eps=1e-5, momentum=0.1, device=None, dtype=None):
        super().__init__(num_features, eps, momentum, True, True)
        self.register_buffer("scale", ember.tensor(1.0))
        self.register_buffer("zero_point", ember.tensor(0))

    def _check_input_dim(self, input):
        if len(input.shape) != self._DIM:
            raise ValueError("Input shape must be `(N, C, H, W)`!")

    def forward(self, input):
        """The quantized batch norm of ``input`` (running statistics, as in eval mode)."""
        self._check_input_dim(input)
        return _qops.batch_norm(input, self.weight, self.bias, self.running_mean, self.running_var, self.eps,
                                float(self.scale), int(self.zero_point), self._RELU)

    _RELU = False

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From an observed float batch norm (or BNReLU)."""
        activation_post_process = mod.activation_post_process
        if isinstance(mod, nn.Sequential):
            mod = mod[0]
        scale, zero_point = activation_post_process.calculate_qparams()
        new_mod = cls(mod.num_features, mod.eps)
        new_mod.weight, new_mod.bias = mod.weight, mod.bias
        new_mod.running_mean, new_mod.running_var = mod.running_mean, mod.running_var
        new_mod.scale, new_mod.zero_point = scale, zero_point
        return new_mod

    @classmethod
    def from_reference(cls, bn, output_scale, output_zero_point):
        """From a float batch norm (or BNReLU) and the output qparams (FX graph mode quantization)."""
        if isinstance(bn, nn.Sequential):
            bn = bn[0]
        qbn = cls(bn.num_features, bn.eps, bn.momentum)
        qbn.weight, qbn.bias = bn.weight, bn.bias
        qbn.running_mean, qbn.running_var = bn.running_mean, bn.running_var
        qbn.scale, qbn.zero_point = output_scale, output_zero_point
        return qbn


class BatchNorm2d(_BatchNorm):
    """The quantized version of ``nn.BatchNorm2d``."""

    def _get_name(self):
        return "QuantizedBatchNorm2d"


class BatchNorm3d(_BatchNorm):
    """The quantized version of ``nn.BatchNorm3d``."""

    _DIM = 5

    def _get_name(self):
        return "QuantizedBatchNorm3d"
