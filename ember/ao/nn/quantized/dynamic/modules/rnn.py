"""Dynamically quantized LSTM and GRU (``torch.ao.nn.quantized.dynamic.LSTM``/``GRU``): qint8 weights, float
inputs, states and outputs, computed as PyTorch's ``quantized_lstm``/``quantized_gru`` on x86: per layer and
direction the input projection runs once over the whole sequence or all packed rows (one set of input qparams),
the hidden projection at each step, both through the fbgemm-style dynamic linear product; the gates are float32
arithmetic.

The packed cell parameters are kept as ``((w_ih, b_ih), (w_hh, b_hh))`` per layer and direction and saved as
PyTorch's TorchScript-class cell parameters (``ScriptObject``), so qint8 state dicts move both ways (loads need
``weights_only=False``, in PyTorch too); float16 layers save plain pairs, readable by ember only.
"""
import numbers
import warnings

import numpy

import ember
from ember import nn

from ....._linear_dynamic import project
from ....._qtensor import QTensor, make_qtensor
from ....._script_object import cell_params, pack_cell
from ...modules.utils import _quantize_weight

__all__ = ["LSTM", "GRU", "PackedParameter"]


class PackedParameter(nn.Module):
    """Holds one layer-direction's quantized cell parameters, saved under ``<prefix>param``."""

    def __init__(self, param):
        super().__init__()
        self.param = param

    def _save_to_state_dict(self, destination, prefix, keep_vars):
        super()._save_to_state_dict(destination, prefix, keep_vars)
        pairs = self.param   # a qint8 layer saves PyTorch's CellParamsBase; float16 weights stay plain pairs
        qint8 = isinstance(pairs[0][0], QTensor)
        destination[prefix + "param"] = pack_cell(*pairs) if qint8 else pairs

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        self.param = cell_params(state_dict.pop(prefix + "param"))   # PyTorch's CellParamsBase read as ember's
        super()._load_from_state_dict(state_dict, prefix, local_metadata, False, missing_keys, unexpected_keys,
                                      error_msgs)


def _sigmoid(x):
    return numpy.float32(1) / (numpy.float32(1) + numpy.exp(-x))


def _lstm_cell(gates, state):
    h, c = state
    i, f, g, o = numpy.split(gates, 4, axis=1)
    c = _sigmoid(f) * c + _sigmoid(i) * numpy.tanh(g)
    return _sigmoid(o) * numpy.tanh(c), c


def _gru_cell(igates, hgates, h):
    ir, iz, in_ = numpy.split(igates, 3, axis=1)
    hr, hz, hn = numpy.split(hgates, 3, axis=1)
    reset, update = _sigmoid(hr + ir), _sigmoid(hz + iz)
    new = numpy.tanh(in_ + hn * reset)
    return (h - new) * update + new


def _packed_forward(data, batch_sizes, state, step):
    """Steps forward through packed (projected) rows; sequences that end leave their final state behind (ATen's
    PackedLayer)."""
    offset, outputs, finished, last = 0, [], [], batch_sizes[0] if batch_sizes else 0
    for size in batch_sizes:
        if size < last:
            finished.append(tuple(s[size:last] for s in state))
            state = tuple(s[:size] for s in state)
        x, offset, last = data[offset:offset + size], offset + size, size
        state = step(x, state)
        outputs.append(state[0])
    finished.append(state)
    finished.reverse()
    final = tuple(numpy.concatenate([f[k] for f in finished]) for k in range(len(state)))
    return numpy.concatenate(outputs) if outputs else data[:, :0], final


def _packed_backward(data, batch_sizes, full_state, step):
    """Steps backward through packed (projected) rows, taking each sequence's initial state in as it starts (ATen's
    ReversedPackedLayer)."""
    offset, outputs, last = data.shape[0], [], batch_sizes[-1] if batch_sizes else 0
    state = tuple(s[:last] for s in full_state)
    for size in reversed(batch_sizes):
        if size > last:
            state = tuple(numpy.concatenate([s, f[last:size]]) for s, f in zip(state, full_state))
        x, offset, last = data[offset - size:offset], offset - size, size
        state = step(x, state)
        outputs.append(state[0])
    outputs.reverse()
    return numpy.concatenate(outputs) if outputs else data[:, :0], state


def _zero_weight(rows, columns, dtype):
    """A placeholder weight: qint8 zeros (scale 1), or float zeros for a float16 layer."""
    if dtype is ember.float16:
        return ember.zeros(rows, columns)
    return make_qtensor(numpy.zeros((rows, columns), numpy.int8), ember.qint8, ember.per_tensor_affine, scale=1.0,
                        zero_point=0)


class RNNBase(nn.Module):
    """What the dynamically quantized LSTM and GRU share: sizes, options and the packed parameters."""

    _FLOAT_MODULE = nn.LSTM

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, dtype=ember.qint8):
        super().__init__()
        if mode not in ("LSTM", "GRU"):
            raise ValueError("Unrecognized RNN mode: " + mode)
        if not isinstance(dropout, numbers.Number) or isinstance(dropout, bool) or not 0 <= dropout <= 1:
            raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                             "being zeroed")
        if dropout > 0 and num_layers == 1:
            warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout "
                          f"expects num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                          stacklevel=2)
        if dtype not in (ember.qint8, ember.float16):
            raise RuntimeError("Unsupported dtype specified for dynamic quantized LSTM!")
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.dtype, self.version = bidirectional, dtype, 2
        self.training = False
        gate_size = (4 if mode == "LSTM" else 3) * hidden_size
        values = []
        for layer in range(num_layers):
            layer_input = input_size if layer == 0 else hidden_size * self._directions()
            for _ in range(self._directions()):
                w_ih, w_hh = (_zero_weight(gate_size, n, dtype) for n in (layer_input, hidden_size))
                values.append(PackedParameter(((w_ih, ember.zeros(gate_size)), (w_hh, ember.zeros(gate_size)))))
        self._all_weight_values = nn.ModuleList(values)

    def _directions(self):
        return 2 if self.bidirectional else 1

    def extra_repr(self):
        text = f"{self.input_size}, {self.hidden_size}"
        for name, default in (("num_layers", 1), ("bias", True), ("batch_first", False), ("dropout", 0),
                              ("bidirectional", False)):
            if getattr(self, name) != default:
                text += f", {name}={getattr(self, name)}"
        return text

    def __repr__(self):   # the packed parameters are not shown, as in PyTorch
        return f"{self._get_name()}({self.extra_repr()})"

    def _check_input(self, input):
        if input.dim() != 3:
            raise RuntimeError(f"input must have 3 dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.size(-1)}")

    def _check_hidden(self, hx, batch, message):
        expected = (self.num_layers * self._directions(), batch, self.hidden_size)
        if tuple(hx.shape) != expected:
            raise RuntimeError(message.format(expected, list(hx.size())))

    def _run(self, input, states, cell_step):
        """The stacked, possibly bidirectional recurrence over ``input`` (T, B, F) from initial ``states`` (one
        tuple of arrays per layer-direction); returns the output and the final states."""
        layer_input, finals = input, []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._directions()):
                index = layer * self._directions() + direction
                (w_ih, b_ih), (w_hh, b_hh) = self._all_weight_values[index].param
                projected = project(layer_input, w_ih, b_ih.numpy())
                state, steps = states[index], range(layer_input.shape[0])
                hidden_steps = [None] * layer_input.shape[0]
                for t in (reversed(steps) if direction else steps):
                    state = cell_step(projected[t], state, w_hh, b_hh.numpy())
                    hidden_steps[t] = state[0]
                outputs.append(numpy.stack(hidden_steps) if hidden_steps else
                               numpy.zeros((0,) + state[0].shape, numpy.float32))
                finals.append(state)
            layer_input = numpy.concatenate(outputs, axis=-1)
            if self.training and self.dropout and layer < self.num_layers - 1:
                layer_input = ember.nn.functional.dropout(ember.from_numpy(layer_input), self.dropout).numpy()
        return layer_input, finals

    def _run_packed(self, data, batch_sizes, states, cell_step):
        """The recurrence over packed rows ``data`` (N, F) with ``batch_sizes``; the input projection runs once over
        all rows, as for tensors."""
        layer_input, finals = data, []
        for layer in range(self.num_layers):
            outputs = []
            for direction in range(self._directions()):
                index = layer * self._directions() + direction
                (w_ih, b_ih), (w_hh, b_hh) = self._all_weight_values[index].param
                biases = b_ih.numpy(), b_hh.numpy()

                def step(projected, state):
                    return cell_step(projected, state, w_hh, biases[1])
                run = _packed_backward if direction else _packed_forward
                projected = project(layer_input, w_ih, biases[0])
                output, final = run(projected, batch_sizes, states[index], step)
                outputs.append(output)
                finals.append(final)
            layer_input = numpy.concatenate(outputs, axis=-1)
            if self.training and self.dropout and layer < self.num_layers - 1:
                layer_input = ember.nn.functional.dropout(ember.from_numpy(layer_input), self.dropout).numpy()
        return layer_input, finals

    def _states(self, hx, batch, sorted_indices, names):
        """The initial states as one tuple of arrays per layer-direction (zeros when ``hx`` is None), checked
        against the batch and put in the packed batch's order."""
        shape = (self.num_layers * self._directions(), batch, self.hidden_size)
        hx = tuple(ember.zeros(shape) for _ in names) if hx is None else hx
        for tensor, name in zip(hx, names):
            self._check_hidden(tensor, batch, f"Expected {name} size {{}}, got {{}}")
        arrays = [tensor.detach().float().numpy() for tensor in hx]
        if sorted_indices is not None:
            arrays = [a[:, sorted_indices.numpy()] for a in arrays]
        return [tuple(a[i] for a in arrays) for i in range(shape[0])]

    def _forward(self, input, hx, cell_step, names):
        """(output, final states stacked per state kind) for a tensor or a PackedSequence input."""
        from ember.nn.utils.rnn import PackedSequence
        if isinstance(input, PackedSequence):
            if input.data.dim() != 2:
                raise RuntimeError(f"input must have 2 dimensions, got {input.data.dim()}")
            sizes = [int(n) for n in input.batch_sizes.tolist()]
            states = self._states(hx, sizes[0] if sizes else 0, input.sorted_indices, names)
            output, finals = self._run_packed(input.data.detach().float().numpy(), sizes, states, cell_step)
            stacked = [numpy.stack([state[k] for state in finals]) for k in range(len(names))]
            if input.unsorted_indices is not None:
                stacked = [a[:, input.unsorted_indices.numpy()] for a in stacked]
            output = PackedSequence(ember.from_numpy(output).to(input.data.dtype), input.batch_sizes,
                                    input.sorted_indices, input.unsorted_indices)
            return output, [ember.from_numpy(a).to(input.data.dtype) for a in stacked]
        data = self._float_input(input)
        output, finals = self._run(data, self._states(hx, data.shape[1], None, names), cell_step)
        stacked = [ember.from_numpy(numpy.stack([state[k] for state in finals])).to(input.dtype)
                   for k in range(len(names))]
        return self._output(output, input), stacked

    def _float_input(self, input):
        self._check_input(input)
        data = input.detach().float().numpy()
        return data.transpose(1, 0, 2) if self.batch_first else data

    def _output(self, output, like):
        output = output.transpose(1, 0, 2) if self.batch_first else output
        return ember.from_numpy(numpy.ascontiguousarray(output)).to(like.dtype)

    def _weight_bias(self):
        weights, biases = {}, {}
        for index, packed in enumerate(self._all_weight_values):
            layer, direction = divmod(index, self._directions())
            suffix = "_reverse" if direction else ""
            (w_ih, b_ih), (w_hh, b_hh) = packed.param
            weights[f"weight_ih_l{layer}{suffix}"], weights[f"weight_hh_l{layer}{suffix}"] = w_ih, w_hh
            biases[f"bias_ih_l{layer}{suffix}"], biases[f"bias_hh_l{layer}{suffix}"] = b_ih, b_hh
        return {"weight": weights, "bias": biases}

    def get_weight(self):
        """The quantized weights by the float layer's parameter names."""
        return self._weight_bias()["weight"]

    def get_bias(self):
        """The float biases by the float layer's parameter names."""
        return self._weight_bias()["bias"]

    @classmethod
    def from_float(cls, mod, use_precomputed_fake_quant=False):
        """The dynamically quantized counterpart of float ``nn.LSTM``/``nn.GRU`` ``mod`` (weights quantized with its
        qconfig's weight observer, or the default dynamic one)."""
        if type(mod) not in (nn.LSTM, nn.GRU):
            raise AssertionError("nn.quantized.dynamic.RNNBase.from_float only works for nn.LSTM and nn.GRU")
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
        if not mod.bias:
            raise AssertionError("mod.bias must be True")
        quantized = (LSTM if mod.mode == "LSTM" else GRU)(
            mod.input_size, mod.hidden_size, mod.num_layers, mod.bias, mod.batch_first, mod.dropout,
            mod.bidirectional, dtype)

        def quantize(weight):
            if dtype is ember.float16:   # PyTorch's fp16 packing rounds the weight to float16
                return weight.detach().half().float()
            observer = make_observer()
            observer(weight)
            return _quantize_weight(weight.float(), observer)
        values = []
        for layer in range(quantized.num_layers):
            for direction in range(quantized._directions()):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                pairs = tuple((quantize(getattr(mod, f"weight_{kind}{suffix}")),
                               getattr(mod, f"bias_{kind}{suffix}").detach().float()) for kind in ("ih", "hh"))
                values.append(PackedParameter(pairs))
        quantized._all_weight_values = nn.ModuleList(values)
        return quantized

    @classmethod
    def from_reference(cls, ref_mod):
        """The dynamically quantized layer from a reference one's quantized weights (FX graph mode
        quantization)."""
        quantized = cls(ref_mod.input_size, ref_mod.hidden_size, ref_mod.num_layers, ref_mod.bias,
                        ref_mod.batch_first, ref_mod.dropout, ref_mod.bidirectional, ref_mod.weight_ih_l0_dtype)
        weight_bias = ref_mod.get_quantized_weight_bias_dict()
        values = []
        for layer in range(quantized.num_layers):
            for direction in range(quantized._directions()):
                suffix = f"_l{layer}" + ("_reverse" if direction else "")
                pairs = []
                for kind in ("ih", "hh"):
                    weight = weight_bias["weight"][f"weight_{kind}{suffix}"]
                    if not isinstance(weight, QTensor):   # float16 weights: the float16-rounded values
                        weight = weight.detach().float()
                    pairs.append((weight, weight_bias["bias"][f"bias_{kind}{suffix}"].detach().float()))
                values.append(PackedParameter(tuple(pairs)))
        quantized._all_weight_values = nn.ModuleList(values)
        return quantized


class LSTM(RNNBase):
    """A dynamically quantized ``nn.LSTM``: ``output, (h_n, c_n) = lstm(input, (h_0, c_0))`` on 3-D tensors."""

    _FLOAT_MODULE = nn.LSTM

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def _get_name(self):
        return "DynamicQuantizedLSTM"

    def forward(self, input, hx=None):
        """Runs the layers over ``input`` (T, B, input_size), (B, T, input_size) with ``batch_first``, or a
        PackedSequence; returns the output (of the input's kind) and ``(h_n, c_n)``."""
        def step(projected, state, w_hh, b_hh):
            return _lstm_cell(project(state[0], w_hh, b_hh) + projected, state)
        output, (h_n, c_n) = self._forward(input, hx, step, ("hidden[0]", "hidden[1]"))
        return output, (h_n, c_n)


class GRU(RNNBase):
    """A dynamically quantized ``nn.GRU``: ``output, h_n = gru(input, h_0)`` on 3-D tensors."""

    _FLOAT_MODULE = nn.GRU

    def __init__(self, *args, **kwargs):
        super().__init__("GRU", *args, **kwargs)

    def _get_name(self):
        return "DynamicQuantizedGRU"

    def forward(self, input, hx=None):
        """Runs the layers over ``input`` (T, B, input_size), (B, T, input_size) with ``batch_first``, or a
        PackedSequence; returns the output (of the input's kind) and ``h_n``."""
        def step(projected, state, w_hh, b_hh):
            return (_gru_cell(projected, project(state[0], w_hh, b_hh), state[0]),)
        output, (h_n,) = self._forward(input, None if hx is None else (hx,), step, ("hidden",))
        return output, h_n
