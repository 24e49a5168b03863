"""The quantized linear layer (``Linear``) and ``LinearPackedParams``, its weight and bias, saved in state dicts as
torch saves them (``<prefix>dtype`` and ``<prefix>_packed_params`` = ``(quantized weight, float bias)``)."""
import numpy

import ember
from ember import nn

from .... import _qops
from ...._qtensor import make_qtensor
from .utils import WeightedQuantizedModule, _hide_packed_params_repr, _quantize_weight

__all__ = ["LinearPackedParams", "Linear"]


class LinearPackedParams(nn.Module):
    """Holds the qint8 (or float16) weight and the float bias of a quantized linear layer."""

    _version = 3

    def __init__(self, dtype=ember.qint8):
        super().__init__()
        self.dtype = dtype
        if dtype is ember.qint8:
            weight = make_qtensor(ember.zeros(1, 1, dtype=ember.int8).numpy(), ember.qint8, ember.per_tensor_affine,
                                  scale=1.0, zero_point=0)
        else:
            weight = ember.zeros(1, 1)
        self.set_weight_bias(weight, None)

    def set_weight_bias(self, weight, bias):
        """Stores ``weight`` (quantized for qint8) and ``bias`` (float or None)."""
        if self.dtype not in (ember.qint8, ember.float16):
            raise RuntimeError("Unsupported dtype on dynamic quantized linear!")
        self._packed_params = (weight, bias)   # kept as given (a float module's Parameter), as fbgemm's prepack

    def _weight_bias(self):
        return self._packed_params

    def forward(self, x):
        """Returns ``x`` (the parameters are read by the layer that owns them)."""
        return x

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "dtype"] = self.dtype
        destination[prefix + "_packed_params"] = self._weight_bias()

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        version = local_metadata.get("version")
        self.dtype = ember.qint8 if version is None or version < 2 else state_dict.pop(prefix + "dtype")
        if version is None or version < 3:
            self.set_weight_bias(state_dict.pop(prefix + "weight"), state_dict.pop(prefix + "bias"))
        else:
            weight, bias = state_dict.pop(prefix + "_packed_params")
            self.set_weight_bias(weight, bias)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    def __repr__(self):
        return repr(self._weight_bias())


class Linear(WeightedQuantizedModule):
    """A quantized linear layer: quint8 input and output (scale ``scale``, zero point ``zero_point``), a qint8
    weight and a float bias, computed as fbgemm's ``quantized::linear``."""

    _version = 3
    _FLOAT_MODULE = (nn.Linear, nn.modules.linear.NonDynamicallyQuantizableLinear)

    def __init__(self, in_features, out_features, bias_=True, dtype=ember.qint8):
        super().__init__()
        self.in_features, self.out_features = in_features, out_features
        bias = ember.zeros(out_features) if bias_ else None
        if dtype is ember.qint8:
            weight = make_qtensor(numpy.zeros((out_features, in_features), numpy.int8), ember.qint8,
                                  ember.per_tensor_affine, scale=1.0, zero_point=0)
        elif dtype is ember.float16:
            weight = ember.zeros(out_features, in_features)
        else:
            raise RuntimeError("Unsupported dtype specified for quantized Linear!")
        self._packed_params = LinearPackedParams(dtype)
        self._packed_params.set_weight_bias(weight, bias)
        self.scale = 1.0
        self.zero_point = 0

    def _get_name(self):
        return "QuantizedLinear"

    def extra_repr(self):
        return (f"in_features={self.in_features}, out_features={self.out_features}, scale={self.scale}, "
                f"zero_point={self.zero_point}, qscheme={self.weight().qscheme()}")

    def __repr__(self):
        return _hide_packed_params_repr(self, LinearPackedParams)

    def forward(self, x):
        """The quint8 output for quint8 ``x`` (..., in_features)."""
        weight, bias = self._packed_params._packed_params
        return _qops.linear(x, weight, bias, self.scale, self.zero_point)

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "scale"] = ember.tensor(self.scale)
        destination[prefix + "zero_point"] = ember.tensor(self.zero_point)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self.scale = float(state_dict.pop(prefix + "scale"))
        self.zero_point = int(state_dict.pop(prefix + "zero_point"))
        version = local_metadata.get("version")
        if version is None or version == 1:
            state_dict[prefix + "_packed_params.weight"] = state_dict.pop(prefix + "weight")
            state_dict[prefix + "_packed_params.bias"] = state_dict.pop(prefix + "bias")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    def _weight_bias(self):
        return self._packed_params._weight_bias()

    def weight(self):
        """The qint8 weight."""
        return self._weight_bias()[0]

    def bias(self):
        """The float bias (None without one)."""
        return self._weight_bias()[1]

    def set_weight_bias(self, w, b):
        """Replaces the quantized weight and the float bias."""
        self._packed_params.set_weight_bias(w, b)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The quantized counterpart of an observed float ``nn.Linear`` (or ``LinearReLU``, or a QAT linear): the
        weight quantized by its qconfig's weight observer (or fake quantizer), the output qparams from its
        ``activation_post_process``."""
        from ...intrinsic import LinearBn1d, LinearReLU
        if hasattr(mod, "weight_fake_quant"):
            if hasattr(mod, "bn"):   # intrinsic.qat.LinearBn1d: the batch norm folds into the weight
                mod.weight, mod.bias = nn.utils.fuse_linear_bn_weights(
                    mod.weight, mod.bias, mod.bn.running_mean, mod.bn.running_var, mod.bn.eps, mod.bn.weight,
                    mod.bn.bias)
            weight_post_process = mod.weight_fake_quant
            activation_post_process = mod.activation_post_process
        else:
            floats = cls._FLOAT_MODULE if isinstance(cls._FLOAT_MODULE, (tuple, list)) else [cls._FLOAT_MODULE]
            if type(mod) not in floats:
                raise AssertionError(f"nnq.{cls.__name__}.from_float only works for "
                                     f"{', '.join(f.__name__ for f in floats)}, but got: {type(mod)}")
            if not hasattr(mod, "qconfig"):
                raise AssertionError("Input float module must have qconfig defined")
            activation_post_process = mod.activation_post_process
            if type(mod) in (LinearReLU, LinearBn1d):
                mod = mod[0]
            weight_post_process = mod.qconfig.weight()
        if not use_precomputed_fake_quant:
            weight_post_process(mod.weight)
        dtype = weight_post_process.dtype
        act_scale, act_zp = activation_post_process.calculate_qparams()
        if dtype is not ember.qint8:
            raise AssertionError(f"Weight observer must have dtype torch.qint8, got {dtype}")
        qweight = _quantize_weight(mod.weight.float(), weight_post_process)
        qlinear = cls(mod.in_features, mod.out_features, dtype=dtype)
        qlinear.set_weight_bias(qweight, mod.bias)
        qlinear.scale = float(act_scale)
        qlinear.zero_point = int(act_zp)
        return qlinear

    @classmethod
    def from_reference(cls, ref_qlinear, output_scale, output_zero_point):
        """A quantized linear from a reference one's quantized weight and the output qparams."""
        qlinear = cls(ref_qlinear.in_features, ref_qlinear.out_features)
        qlinear.set_weight_bias(ref_qlinear.get_quantized_weight(), ref_qlinear.bias)
        qlinear.scale, qlinear.zero_point = float(output_scale), int(output_zero_point)
        return qlinear
