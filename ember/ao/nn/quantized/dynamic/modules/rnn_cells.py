"""Dynamically quantized recurrent cells (``torch.ao.nn.quantized.dynamic.LSTMCell``/``GRUCell``/``RNNCell``): one
step with qint8 weights, both projections through the fbgemm-style dynamic linear product (each call quantizes its
own input and hidden state; the biases are the packed ones).

The packed weights are kept as ``(weight, bias)`` pairs and saved as PyTorch's TorchScript-class packed parameters
(``ScriptObject``), so qint8 state dicts move both ways (loads need ``weights_only=False``, in PyTorch too).
"""
import numpy

import ember
from ember import nn

from ....._linear_dynamic import project
from ....._qtensor import QTensor
from ....._script_object import pack_linear, weight_bias
from ...modules.utils import _quantize_weight
from .rnn import _gru_cell, _lstm_cell, _zero_weight

__all__ = ["RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]


class RNNCellBase(nn.Module):
    """What the quantized cells share: sizes, the packed ``(weight, bias)`` pairs and the input checks."""

    def __init__(self, input_size, hidden_size, bias=True, num_chunks=4, dtype=ember.qint8):
        super().__init__()
        if dtype not in (ember.qint8, ember.float16):
            raise RuntimeError(f"Unsupported dtype for dynamic RNN quantization: {dtype}")
        self.input_size, self.hidden_size, self.bias, self.weight_dtype = input_size, hidden_size, bias, dtype

        def zero_pair(columns):
            return _zero_weight(num_chunks * hidden_size, columns, dtype), \
                ember.zeros(num_chunks * hidden_size) if bias else None
        self._packed_weight_ih, self._packed_weight_hh = zero_pair(input_size), zero_pair(hidden_size)

    def _get_name(self):
        return "DynamicQuantizedRNNBase"

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        if self.bias is not True:
            text += f", bias={self.bias}"
        if getattr(self, "nonlinearity", "tanh") != "tanh":
            text += f", nonlinearity={self.nonlinearity}"
        return text

    def _check_input(self, input):
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)}, expected {self.input_size}")

    def _check_hidden(self, input, hx, label=""):
        if input.size(0) != hx.size(0):
            raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{label} batch size "
                               f"{hx.size(0)}")
        if hx.size(1) != self.hidden_size:
            raise RuntimeError(f"hidden{label} has inconsistent hidden_size: got {hx.size(1)}, expected "
                               f"{self.hidden_size}")

    def _projections(self, input, h):
        """(input projection, hidden projection) as float32 arrays, each through the dynamic product."""
        (w_ih, b_ih), (w_hh, b_hh) = self._packed_weight_ih, self._packed_weight_hh
        return (project(input, w_ih, None if b_ih is None else b_ih.numpy()),
                project(h, w_hh, None if b_hh is None else b_hh.numpy()))

    def _zeros(self, input):
        return ember.zeros(input.size(0), self.hidden_size, dtype=input.dtype)

    def _weight_bias(self):
        (w_ih, b_ih), (w_hh, b_hh) = self._packed_weight_ih, self._packed_weight_hh
        return {"weight": {"weight_ih": w_ih, "weight_hh": w_hh}, "bias": {"bias_ih": b_ih, "bias_hh": b_hh}}

    def get_weight(self):
        """The quantized ``weight_ih`` and ``weight_hh``."""
        return self._weight_bias()["weight"]

    def get_bias(self):
        """The float ``bias_ih`` and ``bias_hh``."""
        return self._weight_bias()["bias"]

    def set_weight_bias(self, weight_bias_dict):
        """Replaces the packed weights and biases from a ``{"weight": {...}, "bias": {...}}`` dict."""
        weights, biases = weight_bias_dict["weight"], weight_bias_dict["bias"]
        self._packed_weight_ih = (weights["weight_ih"], biases["bias_ih"])
        self._packed_weight_hh = (weights["weight_hh"], biases["bias_hh"])

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        for name in ("_packed_weight_ih", "_packed_weight_hh"):   # qint8: PyTorch's LinearPackedParamsBase
            pair = getattr(self, name)
            destination[prefix + name] = pack_linear(*pair) if isinstance(pair[0], QTensor) else pair

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self._packed_weight_ih = weight_bias(state_dict.pop(prefix + "_packed_weight_ih"))   # PyTorch's read too
        self._packed_weight_hh = weight_bias(state_dict.pop(prefix + "_packed_weight_hh"))
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)

    @classmethod
    def from_reference(cls, ref_mod):
        """The dynamically quantized cell of a reference one (FX graph mode quantization)."""
        if hasattr(ref_mod, "nonlinearity"):
            qmod = cls(ref_mod.input_size, ref_mod.hidden_size, ref_mod.bias, ref_mod.nonlinearity,
                       dtype=ref_mod.weight_ih_dtype)
        else:
            qmod = cls(ref_mod.input_size, ref_mod.hidden_size, ref_mod.bias, dtype=ref_mod.weight_ih_dtype)
        qmod.set_weight_bias({"weight": {"weight_ih": ref_mod.get_quantized_weight_ih(),
                                         "weight_hh": ref_mod.get_quantized_weight_hh()},
                              "bias": {name: None if getattr(ref_mod, name) is None
                                       else getattr(ref_mod, name).detach().float()
                                       for name in ("bias_ih", "bias_hh")}})
        return qmod

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized counterpart of float ``nn.LSTMCell``/``GRUCell``/``RNNCell`` ``mod``."""
        kinds = {nn.LSTMCell: LSTMCell, nn.GRUCell: GRUCell, nn.RNNCell: RNNCell}
        if type(mod) not in kinds:
            raise AssertionError("nn.quantized.dynamic.RNNCellBase.from_float only works for nn.LSTMCell, "
                                 "nn.GRUCell and nn.RNNCell")
        if not hasattr(mod, "qconfig"):
            raise AssertionError("Input float module must have qconfig defined")
        if mod.qconfig is not None and mod.qconfig.weight is not None:
            make_observer = mod.qconfig.weight
        else:
            from ember.ao.quantization.qconfig import default_dynamic_qconfig
            make_observer = default_dynamic_qconfig.weight
        dtype = make_observer().dtype
        if dtype not in (ember.qint8, ember.float16):
            raise RuntimeError(f"Unsupported dtype for dynamic RNN quantization: {dtype}")
        extra = {"nonlinearity": mod.nonlinearity} if type(mod) is nn.RNNCell else {}
        quantized = kinds[type(mod)](mod.input_size, mod.hidden_size, bias=mod.bias, dtype=dtype, **extra)
        if not mod.bias:
            raise AssertionError("mod.bias must be True")

        def quantize(weight):
            if dtype is ember.float16:   # PyTorch's fp16 packing rounds the weight to float16
                return weight.detach().half().float()
            observer = make_observer()
            observer(weight)
            return _quantize_weight(weight.float(), observer)
        quantized._packed_weight_ih = (quantize(mod.weight_ih), mod.bias_ih.detach().float())
        quantized._packed_weight_hh = (quantize(mod.weight_hh), mod.bias_hh.detach().float())
        return quantized


def _array(tensor):
    return tensor.detach().float().numpy()


class RNNCell(RNNCellBase):
    """A dynamically quantized ``nn.RNNCell``: ``h' = tanh(W_ih x + b_ih + W_hh h + b_hh)`` (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", dtype=ember.qint8):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, dtype=dtype)
        self.nonlinearity = nonlinearity

    def _get_name(self):
        return "DynamicQuantizedRNNCell"

    def forward(self, input, hx=None):
        """One step from ``input`` (B, input_size) and ``hx`` (B, hidden_size; zeros by default)."""
        self._check_input(input)
        hx = self._zeros(input) if hx is None else hx
        self._check_hidden(input, hx)
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        gi, gh = self._projections(_array(input), _array(hx))
        total = gi + gh
        out = numpy.tanh(total) if self.nonlinearity == "tanh" else numpy.maximum(total, 0)
        return ember.from_numpy(out).to(input.dtype)


class LSTMCell(RNNCellBase):
    """A dynamically quantized ``nn.LSTMCell``: ``(h', c') = cell(input, (h, c))``."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, num_chunks=4, **kwargs)

    def _get_name(self):
        return "DynamicQuantizedLSTMCell"

    def forward(self, input, hx=None):
        """One step from ``input`` (B, input_size) and ``(h, c)`` (zeros by default)."""
        self._check_input(input)
        hx = (self._zeros(input), self._zeros(input)) if hx is None else hx
        self._check_hidden(input, hx[0], "[0]")
        self._check_hidden(input, hx[1], "[1]")
        gi, gh = self._projections(_array(input), _array(hx[0]))
        h, c = _lstm_cell(gh + gi, (None, _array(hx[1])))
        return ember.from_numpy(h).to(input.dtype), ember.from_numpy(c).to(input.dtype)


class GRUCell(RNNCellBase):
    """A dynamically quantized ``nn.GRUCell``: ``h' = cell(input, h)``."""

    def __init__(self, input_size, hidden_size, bias=True, dtype=ember.qint8):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, dtype=dtype)

    def _get_name(self):
        return "DynamicQuantizedGRUCell"

    def forward(self, input, hx=None):
        """One step from ``input`` (B, input_size) and ``hx`` (B, hidden_size; zeros by default)."""
        self._check_input(input)
        hx = self._zeros(input) if hx is None else hx
        self._check_hidden(input, hx)
        h = _array(hx)
        gi, gh = self._projections(_array(input), h)
        return ember.from_numpy(_gru_cell(gi, gh, h)).to(input.dtype)
