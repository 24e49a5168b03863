"""QAT fused convolutions (``torch.ao.nn.intrinsic.qat``): ``ConvBn*d``/``ConvBnReLU*d`` train through their batch
norm with the weight scaled by the batch norm's running statistics and fake-quantized (the batch norm is folded
into the weight at ``convert``), ``ConvReLU*d`` is a QAT conv followed by ReLU. ``freeze_bn_stats`` stops the
batch norm's statistics updating; ``update_bn_stats`` resumes it."""
import math

import ember
from ember import nn

from ... import modules as nni_modules
from ...modules.fused import _FusedModule
from ....qat.modules import conv as nnqat_conv

__all__ = ["ConvBn1d", "ConvBnReLU1d", "ConvReLU1d", "ConvBn2d", "ConvBnReLU2d", "ConvReLU2d", "ConvBn3d",
           "ConvBnReLU3d", "ConvReLU3d", "update_bn_stats", "freeze_bn_stats"]

_BN_CLASS_MAP = {1: nn.BatchNorm1d, 2: nn.BatchNorm2d, 3: nn.BatchNorm3d}


class _BnFolded:
    """The batch-norm folding shared by ConvBn and LinearBn: ``bn``, ``freeze_bn`` and the approximate forward."""

    def _init_bn(self, num_features, bn_class, bias, eps, momentum, freeze_bn, qconfig):
        if not qconfig:
            raise AssertionError("qconfig must be provided for QAT module")
        self.qconfig = qconfig
        self.freeze_bn = freeze_bn if self.training else True
        self.bn = bn_class(num_features, eps, momentum, True, True)
        self.weight_fake_quant = self.qconfig.weight()
        if bias:
            self.bias = nn.Parameter(ember.empty(num_features))
        else:
            self.register_parameter("bias", None)
        self.reset_bn_parameters()
        if self.training and not freeze_bn:
            self.update_bn_stats()
        else:
            self.freeze_bn_stats()
        self._enable_slow_path_for_better_numerical_stability = False

    def reset_running_stats(self):
        self.bn.reset_running_stats()

    def reset_bn_parameters(self):
        """Resets the batch norm (weight uniform on [0, 1), bias 0) and the conv's bias, as PyTorch does."""
        self.bn.reset_running_stats()
        nn.init.uniform_(self.bn.weight)
        nn.init.zeros_(self.bn.bias)
        if self.bias is not None:
            fan_in, _ = nn.init._calculate_fan_in_and_fan_out(self.weight)
            bound = 1 / math.sqrt(fan_in)
            nn.init.uniform_(self.bias, -bound, bound)

    def update_bn_stats(self):
        """Lets the batch norm update its running statistics again (training mode)."""
        self.freeze_bn = False
        self.bn.training = True
        return self

    def freeze_bn_stats(self):
        """Stops the batch norm's statistics updating (it normalizes with the running ones)."""
        self.freeze_bn = True
        self.bn.training = False
        return self

    def _folded_forward(self, input, product):
        running_std = ember.sqrt(self.bn.running_var + self.bn.eps)
        scale_factor = self.bn.weight / running_std
        weight_shape = [1] * len(self.weight.shape)
        weight_shape[0] = -1
        bias_shape = [1] * len(self.weight.shape)
        bias_shape[1] = -1
        scaled_weight = self.weight_fake_quant(self.weight * scale_factor.reshape(weight_shape))
        if self.bias is not None:
            zero_bias = ember.zeros_like(self.bias, dtype=input.dtype)
        else:
            zero_bias = ember.zeros(self.weight.shape[0], dtype=input.dtype)
        out = product(input, scaled_weight, zero_bias)
        out_orig = out / scale_factor.reshape(bias_shape)
        if self.bias is not None:
            out_orig = out_orig + self.bias.reshape(bias_shape)
        return self.bn(out_orig)

    def train(self, mode=True):
        """Sets training mode; the batch norm follows unless frozen."""
        self.training = mode
        if not self.freeze_bn:
            for module in self.children():
                module.train(mode)
        return self


class _ConvBnNd(_BnFolded, _FusedModule):
    """Base of ConvBn*d (a float conv, a batch norm ``bn`` and ``weight_fake_quant``)."""

    _FLOAT_RELU_MODULE = None

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=None,
                 padding_mode="zeros", eps=1e-05, momentum=0.1, freeze_bn=False, qconfig=None):
        self._FLOAT_CONV_MODULE.__init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation,
                                         groups, False, padding_mode)
        self._init_bn(out_channels, _BN_CLASS_MAP[self._dims], bias, eps, momentum, freeze_bn, qconfig)

    def _forward(self, input):
        return self._folded_forward(input, self._conv_forward)

    def forward(self, input):
        """Conv with the batch-norm-scaled, fake-quantized weight, then the batch norm."""
        out = self._forward(input)
        return nn.functional.relu(out) if self._FLOAT_RELU_MODULE is not None else out

    def extra_repr(self):
        return self._FLOAT_CONV_MODULE.extra_repr(self)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        version = local_metadata.get("version")
        if version is None or version == 1:   # the batch norm's parameters under the old names
            for old, new in (("gamma", "weight"), ("beta", "bias"), ("running_mean", "running_mean"),
                             ("running_var", "running_var"), ("num_batches_tracked", "num_batches_tracked")):
                if prefix + old in state_dict:
                    state_dict[prefix + "bn." + new] = state_dict.pop(prefix + old)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The QAT module from a fused ``intrinsic.ConvBn*d`` (or ``ConvBnReLU*d``), sharing its parameters and
        batch-norm buffers."""
        if type(mod) is not cls._FLOAT_MODULE:
            raise AssertionError(f"qat.{cls.__name__}.from_float only works for {cls._FLOAT_MODULE.__name__}")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        if not mod.qconfig:
            raise AssertionError("Input float module must have a valid qconfig")
        conv, bn = mod[0], mod[1]
        qat_convbn = cls(conv.in_channels, conv.out_channels, conv.kernel_size, conv.stride, conv.padding,
                         conv.dilation, conv.groups, conv.bias is not None, conv.padding_mode, bn.eps, bn.momentum,
                         False, mod.qconfig)
        qat_convbn.weight = conv.weight
        qat_convbn.bias = conv.bias
        qat_convbn.bn.weight = bn.weight
        qat_convbn.bn.bias = bn.bias
        qat_convbn.bn.running_mean = bn.running_mean
        qat_convbn.bn.running_var = bn.running_var
        qat_convbn.bn.num_batches_tracked = bn.num_batches_tracked
        return qat_convbn

    def to_float(self):
        """The float conv with the batch norm folded in (followed by ReLU for ConvBnReLU)."""
        conv = self._FLOAT_CONV_MODULE(self.in_channels, self.out_channels, self.kernel_size, self.stride,
                                       self.padding, self.dilation, self.groups, self.bias is not None,
                                       self.padding_mode)
        conv.weight = nn.Parameter(self.weight.detach())
        if self.bias is not None:
            conv.bias = nn.Parameter(self.bias.detach())
        if self._FLOAT_BN_MODULE:
            conv = nn.utils.fuse_conv_bn_eval(conv.eval(), self.bn)
        modules = [conv]
        if self._FLOAT_RELU_MODULE:
            modules.append(self._FLOAT_RELU_MODULE())
        result = self._FUSED_FLOAT_MODULE(*modules) if len(modules) > 1 else conv
        result.train(self.training)
        return result


def _conv_bn(name, dims, conv_class, fused_float, relu, fused_after):
    return type(name, (_ConvBnNd, conv_class), {
        "__module__": __name__, "_dims": dims, "_FLOAT_MODULE": fused_float, "_FLOAT_CONV_MODULE": conv_class,
        "_FLOAT_BN_MODULE": _BN_CLASS_MAP[dims], "_FLOAT_RELU_MODULE": nn.ReLU if relu else None,
        "_FUSED_FLOAT_MODULE": fused_after,
        "__doc__": f"{conv_class.__name__}, BatchNorm{dims}d{', ReLU' if relu else ''} fused for quantization-aware "
                   "training (the weight scaled by the batch norm and fake-quantized)."})


ConvBn1d = _conv_bn("ConvBn1d", 1, nn.Conv1d, nni_modules.ConvBn1d, False, None)
ConvBnReLU1d = _conv_bn("ConvBnReLU1d", 1, nn.Conv1d, nni_modules.ConvBnReLU1d, True, nni_modules.ConvReLU1d)
ConvBn2d = _conv_bn("ConvBn2d", 2, nn.Conv2d, nni_modules.ConvBn2d, False, None)
ConvBnReLU2d = _conv_bn("ConvBnReLU2d", 2, nn.Conv2d, nni_modules.ConvBnReLU2d, True, nni_modules.ConvReLU2d)
ConvBn3d = _conv_bn("ConvBn3d", 3, nn.Conv3d, nni_modules.ConvBn3d, False, None)
ConvBnReLU3d = _conv_bn("ConvBnReLU3d", 3, nn.Conv3d, nni_modules.ConvBnReLU3d, True, nni_modules.ConvReLU3d)


def _conv_relu(name, qat_conv, fused_float):
    def forward(self, input):
        """ReLU of the conv with the fake-quantized weight."""
        return nn.functional.relu(self._conv_forward(input, self.weight_fake_quant(self.weight), self.bias))

    return type(name, (qat_conv, _FusedModule), {
        "__module__": __name__, "forward": forward, "_FLOAT_MODULE": fused_float, "_FLOAT_RELU_MODULE": nn.ReLU,
        "__doc__": f"A QAT {qat_conv.__name__} followed by ReLU."})


ConvReLU1d = _conv_relu("ConvReLU1d", nnqat_conv.Conv1d, nni_modules.ConvReLU1d)
ConvReLU2d = _conv_relu("ConvReLU2d", nnqat_conv.Conv2d, nni_modules.ConvReLU2d)
ConvReLU3d = _conv_relu("ConvReLU3d", nnqat_conv.Conv3d, nni_modules.ConvReLU3d)


def update_bn_stats(mod):
    """``module.apply`` helper: resumes batch-norm statistics updates of the QAT ConvBn modules."""
    if type(mod) in {ConvBnReLU1d, ConvBnReLU2d, ConvBnReLU3d, ConvBn1d, ConvBn2d, ConvBn3d}:
        mod.update_bn_stats()


def freeze_bn_stats(mod):
    """``module.apply`` helper: freezes the batch-norm statistics of the QAT ConvBn modules."""
    if type(mod) in {ConvBnReLU1d, ConvBnReLU2d, ConvBnReLU3d, ConvBn1d, ConvBn2d, ConvBn3d}:
        mod.freeze_bn_stats()
