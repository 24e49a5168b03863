"""``LinearPackedParams``: a quantized linear layer's weight and bias, saved in state dicts as torch saves them
(``<prefix>dtype`` and ``<prefix>_packed_params`` = ``(quantized weight, float bias)``)."""
import ember
from ember import nn

from ...._qtensor import make_qtensor

__all__ = ["LinearPackedParams"]


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
        self._packed_params = (weight, None if bias is None else bias.detach())

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
