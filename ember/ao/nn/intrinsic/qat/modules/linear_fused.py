"""The QAT fused LinearBn1d (``torch.ao.nn.intrinsic.qat.LinearBn1d``): a linear layer training through its
BatchNorm1d with the weight scaled by the batch norm's running statistics and fake-quantized."""
from ember import nn

from ... import modules as nni_modules
from ...modules.fused import _FusedModule
from .conv_fused import _BnFolded

__all__ = ["LinearBn1d"]


class LinearBn1d(_BnFolded, nn.modules.linear.Linear, _FusedModule):
    """Linear then BatchNorm1d, for quantization-aware training."""

    _FLOAT_MODULE = nni_modules.LinearBn1d

    def __init__(self, in_features, out_features, bias=True, eps=1e-05, momentum=0.1, freeze_bn=False,
                 qconfig=None):
        nn.Linear.__init__(self, in_features, out_features, bias)
        self._init_bn(out_features, nn.BatchNorm1d, bias, eps, momentum, freeze_bn, qconfig)

    def forward(self, input):
        """Linear with the batch-norm-scaled, fake-quantized weight, then the batch norm."""
        return self._folded_forward(input, nn.functional.linear)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """From a fused ``intrinsic.LinearBn1d`` with a qconfig."""
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(f"qat.{cls.__name__}.from_float only works for {cls._FLOAT_MODULE.__name__}")
        if not getattr(mod, "qconfig", None):
            raise AssertionError("Input float module must have a valid qconfig")
        linear, bn = mod[0], mod[1]
        qat = cls(linear.in_features, linear.out_features, linear.bias is not None, bn.eps, bn.momentum, False,
                  mod.qconfig)
        qat.weight, qat.bias = linear.weight, linear.bias
        qat.bn.weight, qat.bn.bias = bn.weight, bn.bias
        qat.bn.running_mean, qat.bn.running_var = bn.running_mean, bn.running_var
        qat.bn.num_batches_tracked = bn.num_batches_tracked
        return qat

    def to_float(self):
        """The float Linear with the batch norm folded in."""
        linear = nn.Linear(self.in_features, self.out_features, self.bias is not None)
        linear.weight = nn.Parameter(self.weight.detach())
        if self.bias is not None:
            linear.bias = nn.Parameter(self.bias.detach())
        return nn.utils.fuse_linear_bn_eval(linear.eval(), self.bn)
