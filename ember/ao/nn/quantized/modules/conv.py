"""Quantized convolutions (``torch.ao.nn.quantized.Conv1d``/``Conv2d``/``Conv3d``): quint8 input and output, a
qint8 weight (per tensor or per output channel) and a float bias, computed as fbgemm's ``quantized::conv*d``."""
import numpy

import ember
from ember import nn
from ember.nn.modules.utils import _pair, _single, _triple

from .... import _qops
from ...._qtensor import make_qtensor
from .utils import WeightedQuantizedModule, _quantize_weight

__all__ = ["Conv1d", "Conv2d", "Conv3d"]

_SUPPORTED_PADDING = {"zeros", "reflect"}


def _reverse_repeat_padding(padding):
    return [p for p in reversed(padding) for _ in range(2)]


class _ConvNd(WeightedQuantizedModule):
    _DIM = 2

    def _init(self, in_channels, out_channels, kernel_size, stride, padding, dilation, transposed, output_padding,
              groups, bias, padding_mode="zeros", device=None, dtype=None):
        super().__init__()
        if out_channels <= 0:
            raise ValueError(f"out_channels must be greater than 0, got {out_channels}")
        if in_channels % groups != 0:
            raise ValueError("in_channels must be divisible by groups")
        if out_channels % groups != 0:
            raise ValueError("out_channels must be divisible by groups")
        self.in_channels, self.out_channels, self.kernel_size = in_channels, out_channels, kernel_size
        self.stride, self.padding, self.dilation = stride, padding, dilation
        self.transposed, self.output_padding, self.groups = transposed, output_padding, groups
        if padding_mode not in _SUPPORTED_PADDING:
            raise ValueError(f"'padding_mode' {padding_mode} is not supported by quantized convolution")
        self.padding_mode = padding_mode
        shape = [in_channels, out_channels // groups] if transposed else [out_channels, in_channels // groups]
        qweight = make_qtensor(numpy.zeros(shape + list(kernel_size), numpy.int8), ember.qint8,
                               ember.per_tensor_affine, scale=1.0, zero_point=0)
        self.set_weight_bias(qweight, ember.zeros(out_channels) if bias else None)
        self.scale = 1.0
        self.zero_point = 0

    def set_weight_bias(self, qweight, bias_float):
        """Replaces the qint8 weight and the float bias."""
        self._packed_params = (qweight, bias_float)   # kept as given (a float module's Parameter), as fbgemm's prepack

    def _weight_bias(self):
        return self._packed_params

    def weight(self):
        """The qint8 weight."""
        return self._packed_params[0]

    def bias(self):
        """The float bias (None without one)."""
        return self._packed_params[1]

    def extra_repr(self):
        s = "{in_channels}, {out_channels}, kernel_size={kernel_size}, stride={stride}, scale={scale}, " \
            "zero_point={zero_point}"
        if self.padding != (0,) * len(self.padding):
            s += ", padding={padding}"
        if self.dilation != (1,) * len(self.dilation):
            s += ", dilation={dilation}"
        if self.output_padding != (0,) * len(self.output_padding):
            s += ", output_padding={output_padding}"
        if self.groups != 1:
            s += ", groups={groups}"
        if self.bias() is None:
            s += ", bias=False"
        return s.format(**self.__dict__)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        w, b = self._weight_bias()
        destination[prefix + "weight"] = w
        destination[prefix + "bias"] = b
        destination[prefix + "scale"] = ember.tensor(self.scale)
        destination[prefix + "zero_point"] = ember.tensor(self.zero_point)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self.set_weight_bias(state_dict.pop(prefix + "weight"), state_dict.pop(prefix + "bias"))
        self.scale = float(state_dict.pop(prefix + "scale"))
        self.zero_point = int(state_dict.pop(prefix + "zero_point"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    def _conv_forward(self, input, relu=False):
        if len(input.shape) != self._DIM + 2:
            raise ValueError(f"Input shape must be `{self._SHAPE}`!")
        padding = self.padding
        if self.padding_mode != "zeros":
            input = ember.nn.functional.pad(input, _reverse_repeat_padding(self.padding), mode=self.padding_mode)
            padding = (0,) * self._DIM
        weight, bias = self._packed_params
        return _qops.conv(input, weight, bias, self.stride, padding, self.dilation, self.groups, self.scale,
                          self.zero_point, relu)

    def forward(self, input):
        """The quint8 output for quint8 ``input``."""
        return self._conv_forward(input)

    @classmethod
    def get_qconv(cls, mod, activation_post_process, weight_post_process=None):
        """A quantized conv from float ``mod``: its weight quantized by ``weight_post_process`` (its qconfig's
        weight observer by default), output qparams from ``activation_post_process``."""
        if weight_post_process is None:
            weight_post_process = mod.qconfig.weight()
        weight_post_process(mod.weight)
        if weight_post_process.dtype is not ember.qint8:
            raise AssertionError(f"Weight observer must have a dtype of qint8, got {weight_post_process.dtype}")
        qweight = _quantize_weight(mod.weight.float(), weight_post_process)
        qconv = cls(mod.in_channels, mod.out_channels, mod.kernel_size, mod.stride, mod.padding, mod.dilation,
                    mod.groups, mod.bias is not None, mod.padding_mode)
        qconv.set_weight_bias(qweight, mod.bias)
        if activation_post_process is None or activation_post_process.dtype is ember.float:
            return qconv
        act_scale, act_zp = activation_post_process.calculate_qparams()
        qconv.scale = float(act_scale)
        qconv.zero_point = int(act_zp)
        return qconv

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized counterpart of an observed float conv (or fused ConvReLU, or QAT conv / ConvBn: the
        batch norm is folded into the weight first)."""
        from ...intrinsic import qat as nniqat
        if hasattr(mod, "weight_fake_quant"):
            if isinstance(mod, nniqat.modules.conv_fused._ConvBnNd):
                mod.weight, mod.bias = nn.utils.fuse_conv_bn_weights(
                    mod.weight, mod.bias, mod.bn.running_mean, mod.bn.running_var, mod.bn.eps, mod.bn.weight,
                    mod.bn.bias)
            if not hasattr(mod, "activation_post_process"):
                raise AssertionError("Input QAT module must have observer attached")
            weight_post_process = mod.weight_fake_quant
            activation_post_process = mod.activation_post_process
        else:
            if type(mod) is not cls._FLOAT_MODULE:
                raise AssertionError(f"nnq.{cls.__name__}.from_float only works for {cls._FLOAT_MODULE.__name__} "
                                     f"but got: {type(mod).__name__}")
            if not hasattr(mod, "qconfig"):
                raise AssertionError("Input float module must have qconfig defined.")
            activation_post_process = getattr(mod, "activation_post_process", None)
            if type(mod) is cls._NNI_CONV_RELU_MODULE:
                mod = mod[0]
            weight_post_process = mod.qconfig.weight()
        return cls.get_qconv(mod, activation_post_process, weight_post_process)

    @classmethod
    def from_reference(cls, ref_qconv, output_scale, output_zero_point):
        """A quantized conv from a reference one's quantized weight and the output qparams."""
        qconv = cls(ref_qconv.in_channels, ref_qconv.out_channels, ref_qconv.kernel_size, ref_qconv.stride,
                    ref_qconv.padding, ref_qconv.dilation, ref_qconv.groups, ref_qconv.bias is not None,
                    ref_qconv.padding_mode)
        qconv.set_weight_bias(ref_qconv.get_quantized_weight(), ref_qconv.bias)
        qconv.scale, qconv.zero_point = float(output_scale), int(output_zero_point)
        return qconv


def _conv_class(tuple_fn):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1, bias=True,
                 padding_mode="zeros", device=None, dtype=None):
        kernel_size = tuple_fn(kernel_size)
        stride = tuple_fn(stride)
        padding = padding if isinstance(padding, str) else tuple_fn(padding)
        dilation = tuple_fn(dilation)
        self._init(in_channels, out_channels, kernel_size, stride, padding, dilation, False, tuple_fn(0), groups,
                   bias, padding_mode)
    return __init__


class Conv1d(_ConvNd):
    """A quantized 1-d convolution over quint8 (N, C, L) input (see ``nn.Conv1d``)."""

    _DIM, _SHAPE = 1, "(N, C, L)"
    _FLOAT_MODULE = nn.Conv1d
    __init__ = _conv_class(_single)

    def _get_name(self):
        return "QuantizedConv1d"


class Conv2d(_ConvNd):
    """A quantized 2-d convolution over quint8 (N, C, H, W) input (see ``nn.Conv2d``)."""

    _DIM, _SHAPE = 2, "(N, C, H, W)"
    _FLOAT_MODULE = nn.Conv2d
    __init__ = _conv_class(_pair)

    def _get_name(self):
        return "QuantizedConv2d"


class Conv3d(_ConvNd):
    """A quantized 3-d convolution over quint8 (N, C, D, H, W) input (see ``nn.Conv3d``)."""

    _DIM, _SHAPE = 3, "(N, C, D, H, W)"
    _FLOAT_MODULE = nn.Conv3d
    __init__ = _conv_class(_triple)

    def _get_name(self):
        return "QuantizedConv3d"


def _bind_fused():
    from ...intrinsic import ConvReLU1d, ConvReLU2d, ConvReLU3d
    Conv1d._NNI_CONV_RELU_MODULE, Conv2d._NNI_CONV_RELU_MODULE = ConvReLU1d, ConvReLU2d
    Conv3d._NNI_CONV_RELU_MODULE = ConvReLU3d


_bind_fused()
