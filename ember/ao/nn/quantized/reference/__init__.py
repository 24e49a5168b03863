"""Reference quantized modules (``torch.ao.nn.quantized.reference``): float modules that quantize and dequantize
their weight with stored qparams before the float op, as FX graph mode quantization's ``convert_to_reference_fx``
leaves them (``dequantize -> module -> quantize_per_tensor`` marks what a backend runs in integers)."""
import ember
from ember import nn
from ember.nn import functional as F

__all__ = ["Linear", "Conv1d", "Conv2d", "Conv3d"]

_QDTYPES = ("quint8", "qint8", "quint4x2", "qint32")


class ReferenceQuantizedModule(nn.Module):
    """Holds a weight's qparams as buffers (``weight_scale``, ``weight_zero_point``, ``weight_axis``) and its
    ``weight_qscheme``/``weight_dtype``, which the state dict also carries."""

    def _init_weight_qparams(self, weight_qparams, device):
        if weight_qparams is None:
            weight_qparams = {"qscheme": ember.per_tensor_affine, "dtype": ember.quint8, "scale": 1.0,
                              "zero_point": 0}
        self.weight_qscheme = weight_qparams["qscheme"]
        self.weight_dtype = weight_qparams["dtype"]
        if self.weight_qscheme not in (None, ember.per_tensor_affine, ember.per_channel_affine,
                                       ember.per_channel_affine_float_qparams):
            raise AssertionError(f"qscheme: {self.weight_qscheme} is not supported in reference quantized "
                                 f"{self._get_name()}")
        if getattr(self.weight_dtype, "name", None) in _QDTYPES:
            zp = weight_qparams["zero_point"]
            scale = weight_qparams["scale"]
            self.register_buffer("weight_scale", scale.detach().clone() if isinstance(scale, ember.Tensor)
                                 else ember.tensor(scale, dtype=ember.float, device=device))
            self.register_buffer("weight_zero_point", zp.detach().clone() if isinstance(zp, ember.Tensor)
                                 else ember.tensor(zp, dtype=ember.int, device=device))
            if self.weight_qscheme in (ember.per_channel_affine, ember.per_channel_affine_float_qparams):
                axis = weight_qparams["axis"]
                self.register_buffer("weight_axis", axis.detach().clone() if isinstance(axis, ember.Tensor)
                                     else ember.tensor(axis, dtype=ember.int, device=device))
            else:
                self.register_buffer("weight_axis", ember.tensor(0, dtype=ember.int, device=device))
        else:
            self.register_buffer("weight_scale", ember.tensor(1.0, dtype=ember.float, device=device))
            self.register_buffer("weight_zero_point", ember.tensor(0, dtype=ember.int, device=device))
            self.register_buffer("weight_axis", ember.tensor(0, dtype=ember.int, device=device))
        self.is_decomposed = weight_qparams.get("is_decomposed", False)
        self.weight_axis_int = self.weight_axis.item()
        self.weight_quant_min = weight_qparams.get("quant_min")
        self.weight_quant_max = weight_qparams.get("quant_max")

    def get_quantized_weight(self):
        """The weight quantized with the stored qparams (a quantized tensor; float16 weights are cast)."""
        if self.weight_dtype == ember.float16:
            return self.weight.to(ember.float16)
        if self.weight_qscheme == ember.per_tensor_affine and self.weight_dtype.name != "quint4x2":
            return ember.quantize_per_tensor(self.weight, self.weight_scale, self.weight_zero_point,
                                             self.weight_dtype)
        if self.weight_qscheme in (ember.per_channel_affine, ember.per_channel_affine_float_qparams):
            return ember.quantize_per_channel(self.weight, self.weight_scale, self.weight_zero_point,
                                              self.weight_axis_int, self.weight_dtype)
        raise ValueError(f"Unsupported dtype and qscheme: {self.weight_dtype}, {self.weight_qscheme}")

    def get_weight(self):
        """The weight quantized and dequantized with the stored qparams (the float weight without qparams)."""
        if self.weight_qscheme in (ember.per_tensor_affine, ember.per_channel_affine,
                                   ember.per_channel_affine_float_qparams):
            return self.get_quantized_weight().dequantize()
        return self.weight

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        destination[prefix + "weight_qscheme"] = self.weight_qscheme
        destination[prefix + "weight_dtype"] = self.weight_dtype
        if self.weight_qscheme is not None:
            destination[prefix + "weight_scale"] = self.weight_scale
            destination[prefix + "weight_zero_point"] = self.weight_zero_point
            if self.weight_qscheme == ember.per_channel_affine:
                destination[prefix + "weight_axis"] = self.weight_axis

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        keys = ["weight_qscheme", "weight_dtype"]
        if state_dict.get(prefix + "weight_qscheme") is not None:
            keys += ["weight_scale", "weight_zero_point"]
            if state_dict[prefix + "weight_qscheme"] == ember.per_channel_affine:
                keys.append("weight_axis")
        for key in keys:
            if prefix + key in state_dict:
                setattr(self, key, state_dict.pop(prefix + key))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)


class Linear(nn.Linear, ReferenceQuantizedModule):
    """A reference quantized Linear: ``F.linear`` on float inputs with the weight quantized and dequantized."""

    _IS_REFERENCE = True

    def __init__(self, in_features, out_features, bias_=True, device=None, dtype=None, weight_qparams=None):
        super().__init__(in_features, out_features, bias_, device, dtype)
        self._init_weight_qparams(weight_qparams, device)

    def _get_name(self):
        return "QuantizedLinear(Reference)"

    def forward(self, x):
        """The float linear with the quantized-dequantized weight."""
        return F.linear(x, self.get_weight(), self.bias)

    @classmethod
    def from_float(cls, float_linear, weight_qparams):
        """A reference Linear holding ``float_linear``'s weight and bias and ``weight_qparams``."""
        ref = cls(float_linear.in_features, float_linear.out_features, float_linear.bias is not None,
                  device=float_linear.weight.device, dtype=float_linear.weight.dtype, weight_qparams=weight_qparams)
        ref.weight = nn.Parameter(float_linear.weight.detach())
        if float_linear.bias is not None:
            ref.bias = nn.Parameter(float_linear.bias.detach())
        return ref


def _conv(name, base):
    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0, dilation=1, groups=1,
                 bias=True, padding_mode="zeros", device=None, dtype=None, weight_qparams=None):
        base.__init__(self, in_channels, out_channels, kernel_size, stride, padding, dilation, groups, bias,
                      padding_mode, device, dtype)
        self._init_weight_qparams(weight_qparams, device)

    def forward(self, x):
        """The float convolution with the quantized-dequantized weight."""
        return self._conv_forward(x, self.get_weight(), self.bias)

    def _get_name(self):
        return f"Quantized{name}(Reference)"

    @classmethod
    def from_float(cls, float_conv, weight_qparams):
        """A reference convolution holding ``float_conv``'s parameters and ``weight_qparams``."""
        ref = cls(float_conv.in_channels, float_conv.out_channels, float_conv.kernel_size, float_conv.stride,
                  float_conv.padding, float_conv.dilation, float_conv.groups, float_conv.bias is not None,
                  float_conv.padding_mode, device=float_conv.weight.device, dtype=float_conv.weight.dtype,
                  weight_qparams=weight_qparams)
        ref.weight = nn.Parameter(float_conv.weight.detach())
        if float_conv.bias is not None:
            ref.bias = nn.Parameter(float_conv.bias.detach())
        return ref

    return type(name, (base, ReferenceQuantizedModule), {
        "__init__": __init__, "forward": forward, "_get_name": _get_name, "from_float": from_float,
        "_IS_REFERENCE": True, "__module__": __name__,
        "__doc__": f"A reference quantized {name}: the float convolution with the weight quantized and "
                   "dequantized."})


Conv1d = _conv("Conv1d", nn.Conv1d)
Conv2d = _conv("Conv2d", nn.Conv2d)
Conv3d = _conv("Conv3d", nn.Conv3d)
