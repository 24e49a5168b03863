"""Reference quantized modules (``torch.ao.nn.quantized.reference``): float modules that quantize and dequantize
their weight with stored qparams before the float op, as FX graph mode quantization's ``convert_to_reference_fx``
leaves them (``dequantize -> module -> quantize_per_tensor`` marks what a backend runs in integers)."""
import ember
from ember import nn
from ember.nn import functional as F

__all__ = ["Linear", "Conv1d", "Conv2d", "Conv3d", "Embedding", "EmbeddingBag", "LSTM", "GRU", "RNNCell",
           "LSTMCell", "GRUCell"]

_QDTYPES = ("quint8", "qint8", "quint4x2", "qint32")


def _quantize(weight, qscheme, dtype, scale, zero_point, axis):
    if dtype == ember.float16:
        return weight.to(ember.float16)
    if qscheme == ember.per_tensor_affine and dtype.name != "quint4x2":
        return ember.quantize_per_tensor(weight, scale, zero_point, dtype)
    if qscheme in (ember.per_channel_affine, ember.per_channel_affine_float_qparams):
        return ember.quantize_per_channel(weight, scale, zero_point, axis, dtype)
    raise ValueError(f"Unsupported dtype and qscheme: {dtype}, {qscheme}")


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
        return _quantize(self.weight, self.weight_qscheme, self.weight_dtype, self.weight_scale,
                         self.weight_zero_point, self.weight_axis_int)

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


class Embedding(nn.Embedding, ReferenceQuantizedModule):
    """A reference quantized Embedding: looks rows up in the quantized and dequantized table."""

    def __init__(self, num_embeddings, embedding_dim, padding_idx=None, max_norm=None, norm_type=2.0,
                 scale_grad_by_freq=False, sparse=False, _weight=None, device=None, dtype=None, weight_qparams=None):
        super().__init__(num_embeddings, embedding_dim, padding_idx, max_norm, norm_type, scale_grad_by_freq, sparse,
                         _weight, device=device, dtype=dtype)
        self._init_weight_qparams(weight_qparams, device)

    def _get_name(self):
        return "QuantizedEmbedding(Reference)"

    def forward(self, input):
        """The rows of the quantized-dequantized table."""
        return F.embedding(input, self.get_weight(), self.padding_idx, self.max_norm, self.norm_type,
                           self.scale_grad_by_freq, self.sparse)

    @classmethod
    def from_float(cls, mod, weight_qparams):
        """A reference Embedding holding ``mod``'s table and ``weight_qparams``."""
        return cls(mod.num_embeddings, mod.embedding_dim, mod.padding_idx, mod.max_norm, mod.norm_type,
                   mod.scale_grad_by_freq, mod.sparse, mod.weight, mod.weight.device, mod.weight.dtype, weight_qparams)


class EmbeddingBag(nn.EmbeddingBag, ReferenceQuantizedModule):
    """A reference quantized EmbeddingBag: reduces bags of rows of the quantized and dequantized table."""

    def __init__(self, num_embeddings, embedding_dim, max_norm=None, norm_type=2.0, scale_grad_by_freq=False,
                 mode="mean", sparse=False, _weight=None, include_last_offset=False, padding_idx=None, device=None,
                 dtype=None, weight_qparams=None):
        super().__init__(num_embeddings, embedding_dim, max_norm, norm_type, scale_grad_by_freq, mode, sparse,
                         _weight, include_last_offset, padding_idx, device=device, dtype=dtype)
        self._init_weight_qparams(weight_qparams, device)

    def _get_name(self):
        return "QuantizedEmbedding(Reference)"

    def forward(self, input, offsets=None, per_sample_weights=None):
        """The bags' reductions over the quantized-dequantized table."""
        return F.embedding_bag(input, self.get_weight(), offsets, self.max_norm, self.norm_type,
                               self.scale_grad_by_freq, self.mode, self.sparse, per_sample_weights,
                               self.include_last_offset, self.padding_idx)

    @classmethod
    def from_float(cls, mod, weight_qparams, use_precomputed_fake_quant=False):
        """A reference EmbeddingBag holding ``mod``'s table and ``weight_qparams``."""
        return cls(mod.num_embeddings, mod.embedding_dim, mod.max_norm, mod.norm_type, mod.scale_grad_by_freq,
                   mod.mode, mod.sparse, mod.weight, mod.include_last_offset, mod.padding_idx, mod.weight.device,
                   mod.weight.dtype, weight_qparams)


class _WeightQParamsDict:
    """Per-weight qparams by parameter name: ``<name>_qscheme``/``<name>_dtype`` attributes and ``<name>_scale``,
    ``<name>_zero_point``, ``<name>_axis`` buffers."""

    def _init_weight_qparams_dict(self, weight_qparams_dict, device):
        self.is_decomposed = weight_qparams_dict["is_decomposed"]
        for key, qparams in weight_qparams_dict.items():
            if key == "is_decomposed":
                continue
            qscheme, dtype = qparams["qscheme"], qparams["dtype"]
            setattr(self, key + "_qscheme", qscheme)
            setattr(self, key + "_dtype", dtype)
            if qscheme not in (None, ember.per_tensor_affine, ember.per_channel_affine):
                raise AssertionError(f"qscheme: {qscheme} is not supported in {self._get_name()}")
            if qscheme is None:
                continue
            # ember.tensor on the observer's tensors, as PyTorch (which warns about copy-constructing them)
            self.register_buffer(key + "_scale", ember.tensor(qparams["scale"], dtype=ember.float, device=device))
            self.register_buffer(key + "_zero_point", ember.tensor(qparams["zero_point"], dtype=ember.int,
                                                                   device=device))
            axis = qparams["axis"] if qscheme == ember.per_channel_affine else 0
            self.register_buffer(key + "_axis", ember.tensor(axis, dtype=ember.int, device=device))
            setattr(self, key + "_axis_int", getattr(self, key + "_axis").item())

    def _quantized(self, name):
        qscheme = getattr(self, name + "_qscheme")
        weight = getattr(self, name)
        if qscheme is None:
            return weight
        return _quantize(weight, qscheme, getattr(self, name + "_dtype"), getattr(self, name + "_scale"),
                         getattr(self, name + "_zero_point"), getattr(self, name + "_axis_int"))

    def _dequantized(self, name):
        value = self._quantized(name)
        return value.dequantize() if getattr(value, "is_quantized", False) else value


class RNNBase(_WeightQParamsDict, nn.RNNBase):
    """A reference quantized LSTM/GRU: the float recurrence over weights quantized and dequantized with the qparams
    of each (``weight_ih_l0_scale``, ``..._zero_point``, ``..._axis`` buffers)."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None, weight_qparams_dict=None):
        super().__init__(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, bidirectional,
                         proj_size, device, dtype)
        if weight_qparams_dict is None:
            weight_qparams = {"qscheme": ember.per_tensor_affine, "dtype": ember.quint8, "scale": 1.0,
                              "zero_point": 0}
            weight_qparams_dict = {"is_decomposed": False, **{name: weight_qparams for name in
                                                              self._flat_weights_names if name.startswith("weight")}}
        self._init_weight_qparams_dict(weight_qparams_dict, device)

    def get_quantized_weight_bias_dict(self):
        """``{"weight": {name: quantized weight}, "bias": {name: float bias}}`` by the float layer's names."""
        out = {"weight": {}, "bias": {}}
        for name in self._flat_weights_names:
            if name.startswith("weight"):
                out["weight"][name] = self._quantized(name)
            else:
                out["bias"][name] = getattr(self, name)
        return out

    def get_flat_weights(self):
        """The weights quantized and dequantized, the biases as they are."""
        flat = []
        for name in self._flat_weights_names:
            value = self._quantized(name) if name.startswith("weight") else getattr(self, name)
            flat.append(value.dequantize() if getattr(value, "is_quantized", False) else value)
        return flat

    @property
    def _flat_weights(self):
        if not hasattr(self, "is_decomposed"):   # still being built
            return [getattr(self, name, None) for name in self._flat_weights_names]
        return self.get_flat_weights()

    @classmethod
    def from_float(cls, mod, weight_qparams_dict):
        """A reference layer holding ``mod``'s parameters and the qparams of each weight."""
        ref = cls(mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first, mod.dropout,
                  mod.bidirectional, weight_qparams_dict=weight_qparams_dict)
        for name in mod._flat_weights_names:
            setattr(ref, name, getattr(mod, name))
        return ref


class LSTM(RNNBase):
    """A reference quantized LSTM."""

    get_expected_cell_size = nn.LSTM.get_expected_cell_size   # the LSTM's (h, c) state checks
    check_forward_args = nn.LSTM.check_forward_args
    permute_hidden = nn.LSTM.permute_hidden

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def _get_name(self):
        return "QuantizedLSTM(Reference)"


class GRU(RNNBase):
    """A reference quantized GRU."""

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)

    def _get_name(self):
        return "QuantizedGRU(Reference)"


class RNNCellBase(_WeightQParamsDict, nn.modules.rnn.RNNCellBase):
    """A reference quantized cell: one step over ``weight_ih``/``weight_hh`` quantized and dequantized."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None, weight_qparams_dict=None):
        super().__init__(input_size, hidden_size, bias, num_chunks, device=device, dtype=dtype)
        if weight_qparams_dict is None:
            weight_qparams = {"qscheme": ember.per_tensor_affine, "dtype": ember.quint8, "scale": 1.0,
                              "zero_point": 0}
            weight_qparams_dict = {"is_decomposed": False, "weight_ih": weight_qparams, "weight_hh": weight_qparams}
        self._init_weight_qparams_dict(weight_qparams_dict, device)

    def get_quantized_weight_ih(self):
        """``weight_ih`` quantized."""
        return self._quantized("weight_ih")

    def get_quantized_weight_hh(self):
        """``weight_hh`` quantized."""
        return self._quantized("weight_hh")

    def get_weight_ih(self):
        """``weight_ih`` quantized and dequantized."""
        return self._dequantized("weight_ih")

    def get_weight_hh(self):
        """``weight_hh`` quantized and dequantized."""
        return self._dequantized("weight_hh")

    def _run(self, cell, input, hx):
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = ember.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (zeros, zeros) if cell is ember.lstm_cell else zeros
        elif not batched:
            hx = tuple(h.unsqueeze(0) for h in hx) if cell is ember.lstm_cell else hx.unsqueeze(0)
        out = cell(input, hx, self.get_weight_ih(), self.get_weight_hh(), self.bias_ih, self.bias_hh)
        if not batched:
            out = tuple(o.squeeze(0) for o in out) if cell is ember.lstm_cell else out.squeeze(0)
        return out

    @classmethod
    def from_float(cls, mod, weight_qparams_dict, use_precomputed_fake_quant=False):
        """A reference cell holding ``mod``'s parameters and the qparams of both weights."""
        args = (mod.input_size, mod.hidden_size, mod.bias)
        if hasattr(mod, "nonlinearity"):
            args += (mod.nonlinearity,)
        ref = cls(*args, mod.weight_ih.device, mod.weight_ih.dtype, weight_qparams_dict)
        ref.weight_ih, ref.weight_hh, ref.bias_ih, ref.bias_hh = mod.weight_ih, mod.weight_hh, mod.bias_ih, mod.bias_hh
        return ref


class RNNCell(RNNCellBase):
    """A reference quantized RNNCell."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None,
                 weight_qparams_dict=None):
        super().__init__(input_size, hidden_size, bias, 1, device, dtype, weight_qparams_dict)
        self.nonlinearity = nonlinearity

    def _get_name(self):
        return "QuantizedRNNCell(Reference)"

    def forward(self, input, hx=None):
        """One step of the cell."""
        return self._run(ember.rnn_tanh_cell if self.nonlinearity == "tanh" else ember.rnn_relu_cell, input, hx)


class LSTMCell(RNNCellBase):
    """A reference quantized LSTMCell."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, weight_qparams_dict=None):
        super().__init__(input_size, hidden_size, bias, 4, device, dtype, weight_qparams_dict)

    def _get_name(self):
        return "QuantizedLSTMCell(Reference)"

    def forward(self, input, hx=None):
        """One step of the cell: ``(h', c')``."""
        return self._run(ember.lstm_cell, input, hx)


class GRUCell(RNNCellBase):
    """A reference quantized GRUCell."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None, weight_qparams_dict=None):
        super().__init__(input_size, hidden_size, bias, 3, device, dtype, weight_qparams_dict)

    def _get_name(self):
        return "QuantizedGRUCell(Reference)"

    def forward(self, input, hx=None):
        """One step of the cell."""
        return self._run(ember.gru_cell, input, hx)
