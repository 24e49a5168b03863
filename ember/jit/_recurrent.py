"""Recurrent layers as single IR nodes with TorchScript's ops and signatures, at the module level.

``nn.LSTM``/``GRU``/``RNN`` calls become one ``aten::lstm``/``aten::gru``/``aten::rnn_tanh``/``aten::rnn_relu`` node
``(input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first)`` and the cells one
``aten::lstm_cell``/``gru_cell``/``rnn_tanh_cell``/``rnn_relu_cell`` node ``(input, hx, w_ih, w_hh, b_ih, b_hh)``:
what PyTorch's tracer records and its archives name. Tracing records them whole (``leaf_forward``), ``script``
emits them for recurrent submodules (``script_call``), and the interpreter runs them by calling the layer's own
``forward`` on a module of the same configuration holding the node's weights, so the recurrence is ember's
whatever its implementation. ONNX export converts these nodes to ONNX's ``LSTM``/``GRU``/``RNN``.

ember's nodes also accept ``hx=None`` (zero initial state) and unbatched input, as the modules do.
"""
import threading
import warnings

from .._tensor import Tensor

LAYER_KINDS = {"LSTM": "aten::lstm", "GRU": "aten::gru", "RNN_TANH": "aten::rnn_tanh", "RNN_RELU": "aten::rnn_relu"}
CELL_KINDS = {"LSTM": "aten::lstm_cell", "GRU": "aten::gru_cell", "RNN_TANH": "aten::rnn_tanh_cell",
              "RNN_RELU": "aten::rnn_relu_cell"}
_GATES = {"LSTM": 4, "GRU": 3, "RNN_TANH": 1, "RNN_RELU": 1}
_cache = threading.local()   # per thread: one module per configuration, holding a node's weights while it runs


def _nn():
    from ..nn.modules import rnn
    return rnn


def kind_of(module):
    """The node kind standing for a call of ``module``, or None when it is no recurrent layer or cell."""
    rnn = _nn()
    if isinstance(module, rnn.RNNBase):
        return LAYER_KINDS[module.mode]
    if isinstance(module, (rnn.LSTMCell, rnn.GRUCell)):
        return CELL_KINDS[type(module).__name__[:-4]]
    if isinstance(module, rnn.RNNCell) and module.nonlinearity in ("tanh", "relu"):
        return CELL_KINDS[f"RNN_{module.nonlinearity.upper()}"]
    return None


def arguments(module, input, hx, read=getattr):
    """The node's inputs for ``module(input, hx)``; ``read(module, name)`` gives a weight or the training flag."""
    if isinstance(module, _nn().RNNBase):
        return [input, hx, [read(module, name) for name in module._flat_weights_names], module.bias,
                module.num_layers, module.dropout, read(module, "training"), module.bidirectional, module.batch_first]
    return [input, hx] + [read(module, name) for name in ("weight_ih", "weight_hh", "bias_ih", "bias_hh")]


def packed_arguments(module, data, batch_sizes, hx, read=getattr):
    """The inputs of the ``data`` overload, ``module`` over the packed ``data`` with ``batch_sizes``."""
    return [data, batch_sizes, hx, [read(module, name) for name in module._flat_weights_names], module.bias,
            module.num_layers, module.dropout, read(module, "training"), module.bidirectional]


def is_packed(args):
    """Whether a layer node's arguments are the ``data`` overload's (its weights fourth, not ``has_biases``)."""
    return isinstance(args[3], (list, tuple))


def restructure(kind, flat):
    """The module's output from the node's flat outputs: an LSTM's ``(output, (h, c))``, a cell's ``(h, c)``."""
    if kind == "aten::lstm":
        return flat[0], (flat[1], flat[2])
    if kind == "aten::lstm_cell":
        return flat[0], flat[1]
    return flat if kind.endswith("_cell") else (flat[0], flat[1])


def output_count(kind):
    """How many tensors the node returns."""
    return {"aten::lstm": 3, "aten::lstm_cell": 2}.get(kind, 1 if kind.endswith("_cell") else 2)


def _module(key, build):
    modules = getattr(_cache, "modules", None)
    if modules is None:
        modules = _cache.modules = {}
    if key not in modules:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")   # dropout with one layer warns at construction; the node says so
            modules[key] = build()
    return modules[key]


def _holding(module, names, tensors):
    """Runs ``module`` with ``tensors`` as its parameters ``names`` (then drops them, not to keep them alive)."""
    class Holding:
        def __enter__(self):
            module._parameters.update(zip(names, tensors))
            return module

        def __exit__(self, *exc):
            for name in names:
                module._parameters[name] = None
    return Holding()


def layer(mode):
    """The runner of ``aten::<mode>``: TorchScript's arguments, flat outputs ``(output, h_n[, c_n])``."""
    gates = _GATES[mode]

    def run(*args):
        if is_packed(args):
            data, batch_sizes, hx, params, has_biases, num_layers, dropout, train, bidirectional = args
            input, batch_first = _nn().PackedSequence(data, batch_sizes), False
        else:
            input, hx, params, has_biases, num_layers, dropout, train, bidirectional, batch_first = args
        params = list(params)
        directions = 2 if bidirectional else 1
        per = len(params) // (num_layers * directions)
        projected = per in (3, 5)
        if per not in ((4, 5) if has_biases else (2, 3)) or per * num_layers * directions != len(params):
            raise RuntimeError(f"{LAYER_KINDS[mode]}: {len(params)} weights do not fit {num_layers} layer(s), "
                               f"{directions} direction(s), has_biases={has_biases}")
        input_size, hidden_size = params[0].shape[1], params[0].shape[0] // gates
        proj_size = params[per - 1].shape[0] if projected else 0
        config = (mode, input_size, hidden_size, num_layers, bool(has_biases), bool(batch_first), float(dropout),
                  bool(bidirectional), proj_size)

        def build():
            rnn = _nn()
            options = {"num_layers": num_layers, "bias": bool(has_biases), "batch_first": bool(batch_first),
                       "dropout": float(dropout), "bidirectional": bool(bidirectional)}
            if mode == "LSTM":
                return rnn.LSTM(input_size, hidden_size, proj_size=proj_size, **options)
            if mode == "GRU":
                return rnn.GRU(input_size, hidden_size, **options)
            return rnn.RNN(input_size, hidden_size, nonlinearity=mode[4:].lower(), **options)
        module = _module(config, build)
        if isinstance(hx, (list, tuple)):
            hx = tuple(hx) if mode == "LSTM" else hx[0]
        with _holding(module, module._flat_weights_names, params):
            module.training = bool(train)
            output, hidden = module.forward(input, hx)
        if not isinstance(output, Tensor):
            output = output.data
        return (output,) + (tuple(hidden) if mode == "LSTM" else (hidden,))
    return run


def cell(mode):
    """The runner of ``aten::<mode>_cell``: ``(input, hx, w_ih, w_hh, b_ih, b_hh)``; an LSTM cell gives (h, c)."""
    def run(input, hx, w_ih, w_hh, b_ih=None, b_hh=None):
        config = (mode, w_ih.shape[1], w_ih.shape[0] // _GATES[mode], b_ih is not None)

        def build():
            rnn = _nn()
            if mode == "LSTM":
                return rnn.LSTMCell(config[1], config[2], bias=config[3])
            if mode == "GRU":
                return rnn.GRUCell(config[1], config[2], bias=config[3])
            return rnn.RNNCell(config[1], config[2], bias=config[3], nonlinearity=mode[4:].lower())
        module = _module(("cell",) + config, build)
        if isinstance(hx, (list, tuple)) and mode != "LSTM":
            hx = hx[0]
        with _holding(module, ("weight_ih", "weight_hh", "bias_ih", "bias_hh"), (w_ih, w_hh, b_ih, b_hh)):
            return module.forward(input, tuple(hx) if isinstance(hx, list) else hx)
    return run


def leaf_forward(module, record):
    """A ``forward`` for ``module`` while tracing that records its call as one node via ``record(kind, args,
    run)``, or None when ``module`` is no recurrent layer or cell. A layer over a PackedSequence is recorded as
    TorchScript's ``data`` overload, with the batch sizes an input (the reordering of the states by the sequence's
    indices is recorded around it, as PyTorch's forward does)."""
    kind = kind_of(module)
    if kind is None:
        return None
    original = module.forward

    def forward(input, hx=None):
        if isinstance(input, Tensor):
            return restructure(kind, record(kind, arguments(module, input, hx), runner(kind)))
        if not isinstance(input, _nn().PackedSequence) or kind.endswith("_cell"):
            return original(input, hx)
        data, batch_sizes, sorted_indices, unsorted_indices = input
        if hx is not None:
            hx = module.permute_hidden(hx, sorted_indices)
        output, hidden = restructure(kind, record(kind, packed_arguments(module, data, batch_sizes, hx),
                                                  runner(kind)))
        return (_nn().PackedSequence(output, batch_sizes, sorted_indices, unsorted_indices),
                module.permute_hidden(hidden, unsorted_indices))
    return forward


def runner(kind):
    """The callable that runs a recurrent node ``kind``."""
    for mode, name in LAYER_KINDS.items():
        if name == kind:
            return layer(mode)
    for mode, name in CELL_KINDS.items():
        if name == kind:
            return cell(mode)
    return None


def table():
    """Every recurrent node kind and its runner (for the interpreter's ``aten`` table)."""
    return {kind: runner(kind) for kind in list(LAYER_KINDS.values()) + list(CELL_KINDS.values())}
