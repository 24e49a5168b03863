"""Recurrent layers (RNN, LSTM, GRU) and their single-step cells, in PyTorch's shape.

Each layer and direction over the whole sequence is one primitive (ember.ops.recurrent_layers); the cells run one
step primitive (ember.ops.recurrent) for LSTM and GRU, a matmul and an activation for plain RNNs. A padded batch runs
through the same code as a PackedSequence whose batch size never shrinks.
"""
import math
import numbers
import warnings

import numpy

import ember
from ... import _dtype
from ...ops import _blas, _parallel, creation, pointwise, rearrange, recurrent, recurrent_layers, shape
from ...ops.dropout import dropout as _dropout
from ...ops.linear import check_dtypes, linear
from ...ops._util import name_node
from ...autograd.function import composite
from .. import init
from ..parameter import Parameter
from ..utils.rnn import PackedSequence
from .module import Module

__all__ = ["RNNBase", "RNN", "LSTM", "GRU", "RNNCellBase", "RNNCell", "LSTMCell", "GRUCell"]

_GATES = {"RNN_TANH": 1, "RNN_RELU": 1, "LSTM": 4, "GRU": 3}


# --- one time step: ``gi`` is the input projection (with its bias) of the running rows, ``state`` a tuple ----------
def _tanh_step(gi, state, w_hh, b_hh, w_hr):   # the hidden term first, as PyTorch's cells add them
    return (pointwise.tanh(linear(state[0], w_hh, b_hh) + gi),)


def _relu_step(gi, state, w_hh, b_hh, w_hr):
    return (pointwise.relu(linear(state[0], w_hh, b_hh) + gi),)


def _lstm_step(gi, state, w_hh, b_hh, w_hr):
    if b_hh is not None:
        gi = gi + b_hh
    h, c = _rounded(recurrent.lstm_step(gi, state[0], state[1], w_hh), gi, state[1])
    return (h if w_hr is None else linear(h, w_hr)), c


def _gru_step(gi, state, w_hh, b_hh, w_hr):
    return _rounded((recurrent.gru_step(gi, state[0], w_hh, b_hh),), gi, state[0])


def _rounded(results, gi, state):
    """The step's results in the type of its inputs: its bfloat16 matmul (ml_dtypes) gives float32, which PyTorch
    rounds once."""
    dtype = _dtype.promote_types(gi.dtype, state.dtype)
    return tuple(r if r.dtype == dtype else r.to(dtype) for r in results)


_STEPS = {"RNN_TANH": _tanh_step, "RNN_RELU": _relu_step, "LSTM": _lstm_step, "GRU": _gru_step}


def _check_lstm_state(hx):
    """PyTorch's lstm_cell binds ``hx`` as a tuple of Tensors: a lone tensor (an RNN or GRU state) is refused."""
    if not isinstance(hx, (tuple, list)):
        raise TypeError(f"lstm_cell(): argument 'hx' (position 2) must be tuple of Tensors, not {type(hx).__name__}")


def _autocast_operands(mode, state, tensors):
    """The state parts and ``tensors`` (weights, an input) as PyTorch's recurrent composites compute with them under
    autocast: products in the autocast dtype, the state update in the state's dtype promoted with it. A state in the
    autocast dtype (or a plain RNN's, read only by its product) puts the whole step in that dtype; an LSTM's or GRU's
    float32 or other 16-bit state updates in float32, where ember's fused steps take float32 products for PyTorch's
    16-bit ones (within 16-bit tolerance). Without autocast all come as they are."""
    h = state[0]
    if not ember._C._is_any_autocast_enabled() or not _autocast_eligible(h):
        return state, tensors
    device = h.device.type
    if device not in ("cpu", "cuda") or not ember.is_autocast_enabled(device):
        return state, tensors
    dtype = ember.get_autocast_dtype(device)
    if h.dtype != dtype:
        dtype = _dtype.float32 if mode in ("LSTM", "GRU") else dtype
        state = tuple(part.to(dtype) if _autocast_eligible(part) else part for part in state)
    return state, tuple(t.to(dtype) if _autocast_eligible(t) and t.dtype != dtype else t for t in tensors)


def _autocast_eligible(tensor):
    """Whether autocast casts ``tensor``: a floating one other than float64."""
    return tensor is not None and tensor.is_floating_point() and tensor.dtype != _dtype.float64


def _cell(mode, name, doc):
    """The functional cell ``torch.<name>(input, hx, w_ih, w_hh, b_ih=None, b_hh=None)``: one step of ``mode``, a
    composite of that name (autocast's per-op policies key on it)."""
    def cell(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        if mode == "LSTM":
            _check_lstm_state(hx)
        gi = linear(input, w_ih, b_ih)
        state, (w_hh, b_hh) = _autocast_operands(mode, tuple(hx) if mode == "LSTM" else (hx,), (w_hh, b_hh))
        check_dtypes(state[0], w_hh, b_hh)   # the state's product PyTorch takes next
        state = _STEPS[mode](gi, state, w_hh, b_hh, None)
        return state if mode == "LSTM" else state[0]
    cell.__name__ = cell.__qualname__ = name
    cell.__doc__ = doc
    return composite(name, trace_inside=True)(cell)


lstm_cell = _cell("LSTM", "lstm_cell", "One LSTM step: ``(h', c')`` from ``input`` and ``hx = (h, c)``.")
gru_cell = _cell("GRU", "gru_cell", "One GRU step: h' from ``input`` and ``hx``.")
rnn_tanh_cell = _cell("RNN_TANH", "rnn_tanh_cell", "One Elman step: tanh(input W_ih^T + b_ih + hx W_hh^T + b_hh).")
rnn_relu_cell = _cell("RNN_RELU", "rnn_relu_cell", "One Elman step: relu(input W_ih^T + b_ih + hx W_hh^T + b_hh).")


def _layer_function(mode, name):
    """The functional layer ``torch.<name>`` in PyTorch's two forms, ``(input, hx, params, has_biases, num_layers,
    dropout, train, bidirectional, batch_first)`` and the packed ``(data, batch_sizes, hx, params, has_biases,
    num_layers, dropout, train, bidirectional)``: the output and the final state (``h``, or ``h, c`` for an LSTM),
    one composite of that name (autocast's per-op policies key on it)."""
    def layer(*args, **kwargs):
        # the packed form has its weights fourth, where the padded one has has_biases
        if "batch_sizes" in kwargs or (len(args) > 3 and isinstance(args[3], (list, tuple))):
            return _packed(mode, *args, **kwargs)
        return _padded(mode, *args, **kwargs)
    layer.__name__ = layer.__qualname__ = name
    layer.__doc__ = f"Runs a {mode.replace('_', ' ').lower()} layer stack over a sequence, as ``torch.{name}``."
    return composite(name, trace_inside=True)(layer)


def _padded(mode, input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first):
    if input.size(1 if batch_first else 0) == 0:
        raise RuntimeError("Expected sequence length to be larger than 0 in RNN")
    hx, (input, *params) = _autocast_operands(mode, tuple(hx) if mode == "LSTM" else (hx,), (input, *params))
    hx = hx if mode == "LSTM" else hx[0]
    state = _checked_state(mode, hx, params, has_biases)
    projections = _has_projections(mode, state)
    if projections and input.device.type == "cpu":
        _warn_projections_once()
    sequence = input.transpose(0, 1) if batch_first else input
    steps, batch = sequence.shape[:2]
    data = sequence.reshape(steps * batch, sequence.shape[2])
    output, hidden = _recurrence(mode, data, [batch] * steps, state, params, has_biases, num_layers, dropout, train,
                                 bidirectional, projections)
    output = output.reshape(steps, batch, output.shape[-1])
    if batch_first:   # PyTorch's LSTM transposes a copy, its GRU and RNN in place (transpose_)
        output = name_node(output.transpose(0, 1), "TransposeBackward0" if mode == "LSTM" else "TransposeBackward1")
    else:
        output = name_node(output, _output_node(mode, data, bidirectional, projections))
    return (output,) + hidden


def _packed(mode, data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional):
    sizes = [int(n) for n in batch_sizes.tolist()]
    state = tuple(hx) if mode == "LSTM" else (hx,)
    if mode == "LSTM":   # PyTorch's LSTM.forward leaves a packed input's state unchecked
        _check_packed_state(state, params, num_layers * (2 if bidirectional else 1), sizes[0])
    state, (data, *params) = _autocast_operands(mode, state, (data, *params))
    hx = state if mode == "LSTM" else state[0]
    state = _checked_state(mode, hx, params, has_biases)
    projections = _has_projections(mode, state)
    if projections and data.device.type == "cpu":
        _warn_projections_once()
    output, hidden = _recurrence(mode, data, sizes, state, params, has_biases, num_layers, dropout, train,
                                 bidirectional, projections)
    return (name_node(output, "CatBackward0"),) + hidden


def _checked_state(mode, hx, params, has_biases):
    """The initial state as a tuple: PyTorch's error for an ``h`` in another dtype than the first layer's
    ``weight_hh``, an LSTM's ``c`` promoted with it (as the cells' sums promote it)."""
    state = tuple(hx) if mode == "LSTM" else (hx,)
    check_dtypes(state[0], params[1], params[3] if has_biases else None)
    if mode == "LSTM" and state[1].dtype != state[0].dtype:
        state = (state[0], state[1].to(_dtype.promote_types(state[0].dtype, state[1].dtype)))
    return state


def _has_projections(mode, state):
    return mode == "LSTM" and state[0].shape[-1] != state[1].shape[-1]


def _check_packed_state(state, params, directions, batch):
    """LSTM.check_forward_args' sizes of ``(h, c)`` for a packed input (``params[1]``: the first ``weight_hh``)."""
    expected = ((directions, batch, params[1].shape[1]), (directions, batch, params[1].shape[0] // 4))
    for index, (part, size) in enumerate(zip(state, expected)):
        if tuple(part.shape) != size:
            raise RuntimeError(f"Expected hidden[{index}] size {size}, got {list(part.shape)}")


def _output_node(mode, data, bidirectional, projections):
    """The node PyTorch's CPU kernels end a padded sequence's output with: the two directions' cat, oneDNN's
    LSTM layer (float32 and bfloat16, without projections), else the stack of the steps."""
    if bidirectional:
        return "CatBackward0"
    if mode == "LSTM" and not projections and data.dtype in (_dtype.float32, _dtype.bfloat16) and \
            data.device.type == "cpu":
        return "MkldnnRnnLayerBackward0"
    return "StackBackward0"


def _recurrence(mode, data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional,
                projections):
    """All layers and directions over packed ``data`` with the flat ``params`` (per layer and direction: w_ih,
    w_hh, then b_ih, b_hh with biases, w_hr with projections); returns the last layer's packed output and the
    final state parts stacked as (num_layers * num_directions, batch, size)."""
    num_directions = 2 if bidirectional else 1
    count = (4 if has_biases else 2) + projections
    initial = [shape.unbind(part, 0) for part in hx]
    finals = [[] for _ in hx]
    for layer in range(num_layers):
        results = [None] * num_directions

        def run(start, stop, layer=layer, data=data):
            for direction in range(start, stop):
                index = layer * num_directions + direction
                weights = params[index * count:(index + 1) * count]
                biases = weights[2:4] if has_biases else (None, None)
                results[direction] = _run_direction(mode, data, batch_sizes, tuple(p[index] for p in initial),
                                                    weights[0], weights[1], *biases,
                                                    weights[-1] if projections else None, reverse=direction == 1)
        if num_directions == 2 and _parallel.num_threads() > 1 and type(data._data) is numpy.ndarray:
            # the directions are independent: one on each intra-op thread, with one BLAS thread each (a
            # recurrent step's products gain nothing from a second: _blas.small_products)
            with _blas.small_products(0):
                _parallel.parallel_for(2, run)
        else:
            run(0, num_directions)
        outputs = [output for output, _ in results]
        for _, state in results:
            for final, part in zip(finals, state):
                final.append(part)
        data = outputs[0] if num_directions == 1 else rearrange.cat(outputs, 1)
        if dropout and train and layer < num_layers - 1:
            data = _dropout(data, dropout, True)
    return data, tuple(rearrange.stack(final) for final in finals)


lstm = _layer_function("LSTM", "lstm")
gru = _layer_function("GRU", "gru")
rnn_tanh = _layer_function("RNN_TANH", "rnn_tanh")
rnn_relu = _layer_function("RNN_RELU", "rnn_relu")
# the public names the modules call, looked up in the torch namespace at each call (where the wrappers are)
_FUNCTIONS = {"LSTM": "lstm", "GRU": "gru", "RNN_TANH": "rnn_tanh", "RNN_RELU": "rnn_relu"}
_CELLS = {"LSTM": "lstm_cell", "GRU": "gru_cell", "RNN_TANH": "rnn_tanh_cell", "RNN_RELU": "rnn_relu_cell"}


def _run_direction(mode, data, batch_sizes, state0, w_ih, w_hh, b_ih, b_hh, w_hr, reverse):
    """One layer in one direction over packed ``data`` (rows of each step, running sequences first), as one
    primitive (ember.ops.recurrent_layers). Returns the packed outputs and the final state (one tensor per state
    part, rows in batch order)."""
    sizes = None if all(size == state0[0].shape[0] for size in batch_sizes) else tuple(batch_sizes)
    if mode == "LSTM":
        output, h, c = recurrent_layers.lstm_layer(data, state0[0], state0[1], w_ih, w_hh, b_ih, b_hh, w_hr,
                                                   batch_sizes=sizes, reverse=reverse)
        return output, (h, c)
    if mode == "GRU":
        output, h = recurrent_layers.gru_layer(data, state0[0], w_ih, w_hh, b_ih, b_hh, batch_sizes=sizes,
                                               reverse=reverse)
    else:
        output, h = recurrent_layers.rnn_layer(data, state0[0], w_ih, w_hh, b_ih, b_hh,
                                               "tanh" if mode == "RNN_TANH" else "relu", batch_sizes=sizes,
                                               reverse=reverse)
    return output, (h,)


class RNNBase(Module):
    """Base of RNN, LSTM and GRU: builds the per-layer, per-direction parameters under PyTorch's names
    (``weight_ih_l{k}``, ``weight_hh_l{k}``, ``bias_ih_l{k}``, ``bias_hh_l{k}``, ``weight_hr_l{k}``, with a
    ``_reverse`` suffix for the backward direction) and runs the recurrence."""

    def __init__(self, mode, input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
                 bidirectional=False, proj_size=0, device=None, dtype=None):
        super().__init__()
        _check_config(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size)
        self.mode, self.input_size, self.hidden_size, self.num_layers = mode, input_size, hidden_size, num_layers
        self.bias, self.batch_first, self.dropout = bias, batch_first, float(dropout)
        self.bidirectional, self.proj_size = bidirectional, proj_size
        gate_size = _GATES[mode] * hidden_size
        real_hidden_size = proj_size if proj_size > 0 else hidden_size
        num_directions = 2 if bidirectional else 1
        self._flat_weights_names, self._all_weights = [], []
        for layer in range(num_layers):
            layer_input_size = input_size if layer == 0 else real_hidden_size * num_directions
            for direction in range(num_directions):
                suffix = "_reverse" if direction == 1 else ""
                shapes = {"weight_ih": (gate_size, layer_input_size), "weight_hh": (gate_size, real_hidden_size)}
                if bias:
                    shapes.update(bias_ih=(gate_size,), bias_hh=(gate_size,))
                if proj_size > 0:
                    shapes["weight_hr"] = (proj_size, hidden_size)
                names = []
                for kind, size in shapes.items():
                    name = f"{kind}_l{layer}{suffix}"
                    setattr(self, name, Parameter(creation.empty(size, device=device, dtype=dtype)))
                    names.append(name)
                self._flat_weights_names.extend(names)
                self._all_weights.append(names)
        self.reset_parameters()

    @property
    def _flat_weights(self):
        return [getattr(self, name, None) for name in self._flat_weights_names]

    def __getstate__(self):
        """The state with the parameters' list ``_flat_weights``, which torch's ``__setstate__`` and forward read
        from a module ember pickled."""
        state = super().__getstate__()
        state["_flat_weights"] = self._flat_weights
        return state

    def __setstate__(self, state):
        """Drops the lists of parameters (and weak references) torch pickles beside them: here a property."""
        state = {k: v for k, v in state.items() if k not in ("_flat_weights", "_flat_weight_refs")}
        super().__setstate__(state)

    @property
    def all_weights(self):
        """The parameters, one list per layer and direction."""
        return [[getattr(self, name) for name in names] for names in self._all_weights]

    def flatten_parameters(self):
        """Does nothing: PyTorch packs the weights into one cuDNN buffer here, while ember's recurrence reads each
        parameter as it is. Kept so code written for PyTorch runs unchanged."""

    def reset_parameters(self):
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    # --- checks ------------------------------------------------------------------------------------------------
    def check_input(self, input, batch_sizes):
        """PyTorch's checks of the input's dtype, rank and feature size."""
        weight_dtype = self._flat_weights[0].dtype
        if input.dtype != weight_dtype and not ember._C._is_any_autocast_enabled():   # autocast casts them
            raise ValueError(f"RNN input dtype ({input.dtype}) does not match weight dtype ({weight_dtype}). Convert "
                             f"input: input.to({weight_dtype}), or convert model: model.to({input.dtype})")
        expected_input_dim = 2 if batch_sizes is not None else 3
        if input.dim() != expected_input_dim:
            raise RuntimeError(f"input must have {expected_input_dim} dimensions, got {input.dim()}")
        if self.input_size != input.size(-1):
            raise RuntimeError(f"input.size(-1) must be equal to input_size. Expected {self.input_size}, got "
                               f"{input.size(-1)}")

    def get_expected_hidden_size(self, input, batch_sizes):
        """(num_layers * num_directions, batch, hidden or proj size) for this input."""
        if batch_sizes is not None:
            mini_batch = int(batch_sizes[0])
        else:
            mini_batch = input.size(0) if self.batch_first else input.size(1)
        num_directions = 2 if self.bidirectional else 1
        return (self.num_layers * num_directions, mini_batch, self.proj_size if self.proj_size > 0 else
                self.hidden_size)

    def check_hidden_size(self, hx, expected_hidden_size, msg="Expected hidden size {}, got {}"):
        """Raises PyTorch's RuntimeError when ``hx`` is not of ``expected_hidden_size``."""
        if tuple(hx.size()) != tuple(expected_hidden_size):
            raise RuntimeError(msg.format(tuple(expected_hidden_size), list(hx.size())))

    def check_forward_args(self, input, hidden, batch_sizes):
        """Checks the input and the initial hidden state together."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden, self.get_expected_hidden_size(input, batch_sizes))

    def permute_hidden(self, hx, permutation):
        """The hidden state with its batch reordered by ``permutation`` (unchanged for None)."""
        if permutation is None:
            return hx
        return hx.index_select(1, permutation)

    # --- forward -----------------------------------------------------------------------------------------------
    def forward(self, input, hx=None):
        """Runs the layers over ``input`` ((L, N, H_in), (N, L, H_in) when batch_first, (L, H_in) unbatched, or a
        PackedSequence) from ``hx`` (zeros when None); returns ``(output, h_n)``, or ``(output, (h_n, c_n))``
        for an LSTM. The recurrence is ``torch.lstm``/``gru``/``rnn_tanh``/``rnn_relu``, called as PyTorch's
        forward calls ``_VF``'s, so a mode or a subclass sees that one call."""
        lstm = self.mode == "LSTM"
        function = getattr(ember, _FUNCTIONS[self.mode])
        if isinstance(input, PackedSequence):
            data, batch_sizes, sorted_indices, unsorted_indices = input
            max_batch_size = batch_sizes[0]
            if hx is None:
                hx = self._default_hidden(data, max_batch_size)
            else:
                hx = self.permute_hidden(hx, sorted_indices)
            if not lstm:   # PyTorch's LSTM checks nothing here (lstm checks the state's sizes)
                self.check_forward_args(data, hx, batch_sizes)
            result = function(data, batch_sizes, hx, self._flat_weights, self.bias, self.num_layers, self.dropout,
                              self.training, self.bidirectional)
            output = PackedSequence(result[0], batch_sizes, sorted_indices, unsorted_indices)
        else:
            sorted_indices = unsorted_indices = None
            if input.dim() not in (2, 3):
                instead = " tensor instead" if self.mode.startswith("RNN") else " instead"
                raise ValueError(f"{type(self).__name__}: Expected input to be 2D or 3D, got {input.dim()}D{instead}")
            batched = input.dim() == 3
            batch_dim = 0 if self.batch_first else 1
            if not batched:
                input = input.unsqueeze(batch_dim)
            if hx is None:
                hx = self._default_hidden(input, input.size(batch_dim))
            else:
                hx = _unsqueeze_hidden(hx, batched, lstm)
            self.check_forward_args(input, hx, None)
            result = function(input, hx, self._flat_weights, self.bias, self.num_layers, self.dropout,
                              self.training, self.bidirectional, self.batch_first)
            output = result[0]
            if not batched:
                output = output.squeeze(batch_dim)
                result = (output,) + tuple(h.squeeze(1) for h in result[1:])
        hidden = result[1:] if lstm else result[1]
        return output, self.permute_hidden(hidden, unsorted_indices)

    def _default_hidden(self, input, batch):
        num_directions = 2 if self.bidirectional else 1
        real_hidden_size = self.proj_size if self.proj_size > 0 else self.hidden_size
        h = ember.zeros(self.num_layers * num_directions, batch, real_hidden_size, dtype=input.dtype,
                        device=input.device)
        if self.mode != "LSTM":
            return h
        return h, ember.zeros(self.num_layers * num_directions, batch, self.hidden_size, dtype=input.dtype,
                              device=input.device)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if self.proj_size != 0:
            s += ", proj_size={proj_size}"
        if self.num_layers != 1:
            s += ", num_layers={num_layers}"
        if self.bias is not True:
            s += ", bias={bias}"
        if self.batch_first is not False:
            s += ", batch_first={batch_first}"
        if self.dropout != 0:
            s += ", dropout={dropout}"
        if self.bidirectional is not False:
            s += ", bidirectional={bidirectional}"
        return s.format(**self.__dict__)


def _check_config(mode, input_size, hidden_size, num_layers, bias, batch_first, dropout, proj_size):
    """PyTorch's constructor checks, with its exception types and messages."""
    if not isinstance(dropout, numbers.Number) or not 0 <= dropout <= 1 or isinstance(dropout, bool):
        raise ValueError("dropout should be a number in range [0, 1] representing the probability of an element "
                         "being zeroed")
    if dropout > 0 and num_layers == 1:
        warnings.warn("dropout option adds dropout after all but last recurrent layer, so non-zero dropout expects "
                      f"num_layers greater than 1, but got dropout={dropout} and num_layers={num_layers}",
                      stacklevel=4)
    for name, value, kind in (("bias", bias, bool), ("batch_first", batch_first, bool),
                              ("input_size", input_size, int), ("hidden_size", hidden_size, int)):
        if not isinstance(value, kind):
            raise TypeError(f"{name} should be of type {kind.__name__}, got: {type(value).__name__}")
        if kind is int and value <= 0:
            raise ValueError(f"{name} must be greater than zero")
    if num_layers <= 0:
        raise ValueError("num_layers must be greater than zero")
    if proj_size < 0:
        raise ValueError("proj_size should be a positive integer or zero to disable projections")
    if proj_size >= hidden_size:
        raise ValueError("proj_size has to be smaller than hidden_size")
    if mode not in _GATES:
        raise ValueError("Unrecognized RNN mode: " + mode)


_warned_projections = []


def _warn_projections_once():
    """PyTorch's CPU LSTM warns once per process that oneDNN does not take projections."""
    if not _warned_projections:
        _warned_projections.append(True)
        warnings.warn("LSTM with projections is not supported with oneDNN. Using default implementation.",
                      stacklevel=2)


def _unsqueeze_hidden(hx, batched, lstm):
    """Checks the rank of a given initial state against the input's, and adds the batch dim when unbatched."""
    parts = (hx[0], hx[1]) if lstm else (hx,)   # indexed as PyTorch does: a tensor or short tuple fails there
    expected = 3 if batched else 2
    if any(p.dim() != expected for p in parts):
        kind = "batched 3-D" if batched else "unbatched 2-D"
        if lstm:
            ranks = ", ".join(f"{p.dim()}-D" for p in parts)
            raise RuntimeError(f"For {kind} input, hx and cx should also be {expected}-D but got ({ranks}) tensors")
        raise RuntimeError(f"For {kind} input, hx should also be {expected}-D but got {hx.dim()}-D tensor")
    if batched:
        return hx
    parts = tuple(p.unsqueeze(1) for p in parts)
    return parts if lstm else parts[0]


class RNN(RNNBase):
    """Elman RNN: h_t = tanh(x_t W_ih^T + b_ih + h_{t-1} W_hh^T + b_hh) (relu with ``nonlinearity='relu'``).

    Arguments: input_size, hidden_size, num_layers=1, nonlinearity='tanh', bias=True, batch_first=False,
    dropout=0.0, bidirectional=False, device=None, dtype=None."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        if len(args) > 3:
            self.nonlinearity = args[3]
            args = args[:3] + args[4:]
        else:
            self.nonlinearity = kwargs.pop("nonlinearity", "tanh")
        modes = {"tanh": "RNN_TANH", "relu": "RNN_RELU"}
        if self.nonlinearity not in modes:
            raise ValueError(f"Unknown nonlinearity '{self.nonlinearity}'. Select from 'tanh' or 'relu'.")
        super().__init__(modes[self.nonlinearity], *args, **kwargs)


class LSTM(RNNBase):
    """Long short-term memory with PyTorch's gate order (input, forget, cell, output) and optional output
    projection (``proj_size``); returns ``(output, (h_n, c_n))``.

    Arguments: input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, proj_size=0, device=None, dtype=None."""

    def __init__(self, *args, **kwargs):
        super().__init__("LSTM", *args, **kwargs)

    def get_expected_cell_size(self, input, batch_sizes):
        """(num_layers * num_directions, batch, hidden_size) for this input."""
        expected = self.get_expected_hidden_size(input, batch_sizes)
        return expected[:2] + (self.hidden_size,)

    def check_forward_args(self, input, hidden, batch_sizes):
        """Checks the input, h_0 and c_0 together."""
        self.check_input(input, batch_sizes)
        self.check_hidden_size(hidden[0], self.get_expected_hidden_size(input, batch_sizes),
                               "Expected hidden[0] size {}, got {}")
        self.check_hidden_size(hidden[1], self.get_expected_cell_size(input, batch_sizes),
                               "Expected hidden[1] size {}, got {}")

    def permute_hidden(self, hx, permutation):
        """(h, c) with their batch reordered by ``permutation`` (unchanged for None)."""
        if permutation is None:
            return hx
        return tuple(part.index_select(1, permutation) for part in hx)


class GRU(RNNBase):
    """Gated recurrent unit with PyTorch's gate order (reset, update, new):
    n_t = tanh(W_in x_t + b_in + r_t * (W_hn h_{t-1} + b_hn)), h_t = (1 - z_t) * n_t + z_t * h_{t-1}.

    Arguments: input_size, hidden_size, num_layers=1, bias=True, batch_first=False, dropout=0.0,
    bidirectional=False, device=None, dtype=None."""

    def __init__(self, *args, **kwargs):
        if "proj_size" in kwargs:
            raise ValueError("proj_size argument is only supported for LSTM, not RNN or GRU")
        super().__init__("GRU", *args, **kwargs)


class RNNCellBase(Module):
    """Base of the single-step cells: ``weight_ih``, ``weight_hh`` and optional ``bias_ih``, ``bias_hh``."""

    def __init__(self, input_size, hidden_size, bias, num_chunks, device=None, dtype=None):
        super().__init__()
        self.input_size, self.hidden_size, self.bias = input_size, hidden_size, bias
        self.weight_ih = Parameter(creation.empty((num_chunks * hidden_size, input_size), device=device, dtype=dtype))
        self.weight_hh = Parameter(creation.empty((num_chunks * hidden_size, hidden_size), device=device,
                                                  dtype=dtype))
        if bias:
            self.bias_ih = Parameter(creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
            self.bias_hh = Parameter(creation.empty(num_chunks * hidden_size, device=device, dtype=dtype))
        else:
            self.register_parameter("bias_ih", None)
            self.register_parameter("bias_hh", None)
        self.reset_parameters()

    def reset_parameters(self):
        """Every parameter from U(-1/sqrt(hidden_size), 1/sqrt(hidden_size)), as PyTorch."""
        stdv = 1.0 / math.sqrt(self.hidden_size) if self.hidden_size > 0 else 0
        for weight in self.parameters():
            init.uniform_(weight, -stdv, stdv)

    def extra_repr(self):
        s = "{input_size}, {hidden_size}"
        if "bias" in self.__dict__ and self.bias is not True:
            s += ", bias={bias}"
        if "nonlinearity" in self.__dict__ and self.nonlinearity != "tanh":
            s += ", nonlinearity={nonlinearity}"
        return s.format(**self.__dict__)

    def _step(self, mode, input, hx):
        """Checks ``input`` (1-D or 2-D) and the state tuple ``hx`` (None for zeros), then runs one step."""
        name = type(self).__name__
        if input.dim() not in (1, 2):
            raise ValueError(f"{name}: Expected input to be 1D or 2D, got {input.dim()}D instead")
        parts = 2 if mode == "LSTM" else 1
        if hx is not None:
            for index, part in enumerate(hx):
                if part.dim() not in (1, 2):
                    what = f"hx[{index}]" if parts == 2 else "hidden"
                    raise ValueError(f"{name}: Expected {what} to be 1D or 2D, got {part.dim()}D instead")
        batched = input.dim() == 2
        if not batched:
            input = input.unsqueeze(0)
        if hx is None:
            zeros = ember.zeros(input.size(0), self.hidden_size, dtype=input.dtype, device=input.device)
            hx = (zeros,) * parts
        elif not batched:
            hx = tuple(part.unsqueeze(0) for part in hx)
        if mode == "LSTM":
            _check_lstm_state(hx)
        self._check_step(input, hx)
        state = getattr(ember, _CELLS[mode])(input, hx if mode == "LSTM" else hx[0], self.weight_ih, self.weight_hh,
                                             self.bias_ih, self.bias_hh)
        state = state if mode == "LSTM" else (state,)
        return state if batched else tuple(part.squeeze(0) for part in state)

    def _check_step(self, input, hx):
        if input.size(1) != self.input_size:
            raise RuntimeError(f"input has inconsistent input_size: got {input.size(1)} expected {self.input_size}")
        if input.dtype != self.weight_ih.dtype and not ember._C._is_any_autocast_enabled():   # autocast casts them
            names = (_dtype.scalar_type_name(input.dtype), _dtype.scalar_type_name(self.weight_ih.dtype))
            raise RuntimeError("mat1 and mat2 must have the same dtype, but got {} and {}".format(*names))
        for index, part in enumerate(hx):
            if part.size(0) != input.size(0):
                raise RuntimeError(f"Input batch size {input.size(0)} doesn't match hidden{index} batch size "
                                   f"{part.size(0)}")
            if part.size(1) != self.hidden_size:
                raise RuntimeError(f"hidden{index} has inconsistent hidden_size: got {part.size(1)}, expected "
                                   f"{self.hidden_size}")


class RNNCell(RNNCellBase):
    """One Elman RNN step: h' = tanh(x W_ih^T + b_ih + h W_hh^T + b_hh) (or relu)."""

    def __init__(self, input_size, hidden_size, bias=True, nonlinearity="tanh", device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=1, device=device, dtype=dtype)
        self.nonlinearity = nonlinearity

    def forward(self, input, hx=None):
        """The next hidden state for ``input`` ((N, H_in) or (H_in,)) from ``hx`` (zeros when None)."""
        if self.nonlinearity not in ("tanh", "relu"):
            raise RuntimeError(f"Unknown nonlinearity: {self.nonlinearity}")
        mode = "RNN_TANH" if self.nonlinearity == "tanh" else "RNN_RELU"
        return self._step(mode, input, None if hx is None else (hx,))[0]


class LSTMCell(RNNCellBase):
    """One LSTM step; returns ``(h', c')``."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=4, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """``(h', c')`` for ``input`` ((N, H_in) or (H_in,)) from ``hx = (h, c)`` (zeros when None)."""
        return self._step("LSTM", input, hx)


class GRUCell(RNNCellBase):
    """One GRU step."""

    def __init__(self, input_size, hidden_size, bias=True, device=None, dtype=None):
        super().__init__(input_size, hidden_size, bias, num_chunks=3, device=device, dtype=dtype)

    def forward(self, input, hx=None):
        """The next hidden state for ``input`` ((N, H_in) or (H_in,)) from ``hx`` (zeros when None)."""
        return self._step("GRU", input, None if hx is None else (hx,))[0]
