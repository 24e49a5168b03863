"""The dynamically quantized linear layer (``torch.ao.nn.quantized.dynamic.Linear``): a qint8 weight, a float
bias, float inputs and outputs; each call quantizes its input to quint8 over the input's own range."""
import ember
from ember import nn

from ....._linear_dynamic import linear_dynamic
from ... import modules as nnq
from ...modules.linear import LinearPackedParams
from ...modules.utils import _quantize_weight

__all__ = ["Linear"]


class Linear(nnq.Linear):
    """``y = x W^T + b`` with W quantized to qint8 (per tensor or per channel) and x quantized at each call, computed
    as PyTorch's fbgemm kernel does (integer products summed exactly, then scaled to float and the bias added).
    A subclass of the static quantized Linear, as in PyTorch."""

    _version = 4

    def __init__(self, in_features, out_features, bias_=True, dtype=ember.qint8):
        super().__init__(in_features, out_features, bias_, dtype=dtype)
        self.version = 4

    def forward(self, x):
        """The layer's output for float ``x`` (..., in_features), in ``x``'s dtype."""
        weight, bias = self._packed_params._packed_params
        if self._packed_params.dtype is ember.qint8:
            if x.dim() < 2:
                raise RuntimeError("The dimension of input tensor should be larger than or equal to 2")
            data = x.detach().float().numpy()
            out = linear_dynamic(data, weight, None if bias is None else bias.detach().numpy(),
                                 reduce_range=self.version is not None and self.version >= 4)
            return ember.from_numpy(out).to(x.dtype)
        return ember.nn.functional.linear(x.float(), weight.half().float(), bias).to(x.dtype)

    def _get_name(self):
        return "DynamicQuantizedLinear"

    def extra_repr(self):
        text = f"in_features={self.in_features}, out_features={self.out_features}, dtype={self._packed_params.dtype}"
        if self._packed_params.dtype is ember.qint8:
            text += f", qscheme={self.weight().qscheme()}"
        return text

    def __repr__(self):   # the packed parameters are not shown, as in PyTorch
        lines = [f"({name}): " + repr(module).replace("\n", "\n  ") for name, module in self._modules.items()
                 if not isinstance(module, LinearPackedParams)]
        if not lines:
            return f"{self._get_name()}({self.extra_repr()})"
        return f"{self._get_name()}(\n  " + "\n  ".join([self.extra_repr()] + lines) + "\n)"

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self.version = local_metadata.get("version")
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized counterpart of float ``nn.Linear`` ``mod`` (its ``qconfig``'s weight observer,
        or the default dynamic one, picks the weight's qparams)."""
        if type(mod) not in (nn.Linear, nn.modules.linear.NonDynamicallyQuantizableLinear):
            raise AssertionError("nn.quantized.dynamic.Linear.from_float only works for one of['Linear', "
                                 f"'NonDynamicallyQuantizableLinear', 'LinearReLU', 'Linear'], got {type(mod)}")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        if mod.qconfig is not None and mod.qconfig.weight is not None:
            weight_observer = mod.qconfig.weight()
        else:
            from ember.ao.quantization.qconfig import default_dynamic_qconfig
            weight_observer = default_dynamic_qconfig.weight()
        dtype = weight_observer.dtype
        if dtype not in (ember.qint8, ember.float16):
            raise AssertionError("The only supported dtypes for dynamic quantized linear are qint8 and float16, got: "
                                 f"{dtype}")
        weight_observer(mod.weight)
        qweight = _quantize_weight(mod.weight.float(), weight_observer) if dtype is ember.qint8 else mod.weight.float()
        qlinear = cls(mod.in_features, mod.out_features, dtype=dtype)
        qlinear.set_weight_bias(qweight, mod.bias)
        return qlinear

    @classmethod
    def from_reference(cls, ref_qlinear):
        """A dynamic quantized linear from a reference one's quantized weight (FX graph mode quantization)."""
        qlinear = cls(ref_qlinear.in_features, ref_qlinear.out_features, dtype=ref_qlinear.weight_dtype)
        qweight = ref_qlinear.get_quantized_weight()
        qlinear.set_weight_bias(qweight if ref_qlinear.weight_dtype is ember.qint8 else qweight.float(),
                                ref_qlinear.bias)
        return qlinear
