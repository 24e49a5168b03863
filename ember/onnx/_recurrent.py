"""ONNX converters of the recurrent nodes (``aten::lstm``/``gru``/``rnn_tanh``/``rnn_relu`` and their ``_cell``s,
see ``ember.jit._recurrent``): each layer becomes one ONNX ``LSTM``/``GRU``/``RNN`` op over the whole sequence, both
directions in one, as torch.onnx exports them, so the model takes any batch and sequence length. A cell is the same
op over a sequence of one step."""
import numpy

from ._converters import converter
from .errors import OnnxExporterError, UnsupportedOperatorError

_ORDER = {"lstm": [0, 3, 1, 2], "gru": [1, 0, 2], "rnn_tanh": [0], "rnn_relu": [0]}   # PyTorch's gates, ONNX's order
_OPS = {"lstm": "LSTM", "gru": "GRU", "rnn_tanh": "RNN", "rnn_relu": "RNN"}


def _item(context, value):
    """An input tensor as (export-time array or ONNX name, shape), or None for a None constant."""
    if context.is_constant(value):
        obj = context.constant(value)
        return None if obj is None else (numpy.asarray(obj.detach()), tuple(obj.shape))
    return context.tensor(value), tuple(value.type.shape)


def _items(context, value):
    """The tensors of a list input (a ``prim::ListConstruct``, or a list constant after folding)."""
    if context.is_constant(value):
        obj = context.constant(value)
        return None if obj is None else [None if t is None else (numpy.asarray(t.detach()), tuple(t.shape))
                                         for t in obj]
    if value.node is None or value.node.kind not in ("prim::ListConstruct", "prim::TupleConstruct"):
        return [_item(context, value)]   # one state tensor (a GRU's or RNN's hx)
    return [_item(context, v) for v in value.node.inputs]


def _stacked(context, parts, order):
    """ONNX's ``[directions, gates * hidden, ...]`` from each direction's PyTorch weight (``parts``; a bias is the
    pair ``(b_ih, b_hh)``), the gates reordered."""
    def reorder(part):
        array, shape = part
        blocks = len(order)
        if isinstance(array, numpy.ndarray):
            return numpy.concatenate([numpy.split(array, blocks)[k] for k in order])
        pieces = context.emit("Split", [array, context.ints([shape[0] // blocks] * blocks)], outputs=blocks, axis=0)
        pieces = pieces if blocks > 1 else [pieces]
        return context.emit("Concat", [pieces[k] for k in order], axis=0) if blocks > 1 else pieces[0]

    def joined(part):
        if not isinstance(part, list):
            return reorder(part)
        halves = [reorder(p) for p in part]
        if all(isinstance(h, numpy.ndarray) for h in halves):
            return numpy.concatenate(halves)
        return context.emit("Concat", [h if isinstance(h, str) else context.array(h) for h in halves], axis=0)
    directions = [joined(p) for p in parts]
    if all(isinstance(d, numpy.ndarray) for d in directions):
        return context.array(numpy.stack(directions))
    return context.emit("Concat", [context.emit("Unsqueeze", [d if isinstance(d, str) else context.array(d),
                                                              context.ints([0])]) for d in directions], axis=0)


def _state(context, item, start, stop, unsqueeze):
    """Rows ``start:stop`` of an initial state (``[layers * directions, batch, hidden]``), or '' for zeros."""
    if item is None:
        return ""
    name = item[0] if isinstance(item[0], str) else context.array(item[0])
    if unsqueeze:
        name = context.emit("Unsqueeze", [name, context.ints(unsqueeze)])
    return context.emit("Slice", [name, context.ints([start]), context.ints([stop]), context.ints([0])])


def _recurrence(context, name, data, layers, states, directions, scope):
    """Runs ``layers`` (each: per direction ``(w_ih, w_hh, b_ih, b_hh)`` items) over ``data`` (sequence first,
    3-D); ``states`` are the initial state items (or None) with their unsqueeze axis. Returns the last layer's
    output ``[seq, batch, directions * hidden]`` and each final state ``[layers * directions, batch, hidden]``."""
    order, count = _ORDER[name], 2 if name == "lstm" else 1
    finals = [[] for _ in range(count)]
    for index, weights in enumerate(layers):
        hidden = weights[0][1][1][1]   # w_hh: (gates * hidden, hidden)
        inputs = [data, _stacked(context, [w[0] for w in weights], order),
                  _stacked(context, [w[1] for w in weights], order),
                  _stacked(context, [[w[2], w[3]] for w in weights], order) if weights[0][2] is not None else "", ""]
        inputs += [_state(context, item, index * directions, (index + 1) * directions, axis)
                   for item, axis in states] if states else ["", ""][:count]
        attributes = {"hidden_size": hidden, "direction": "bidirectional" if directions == 2 else "forward"}
        if name == "gru":
            attributes["linear_before_reset"] = 1
        if name.startswith("rnn"):
            attributes["activations"] = ["Relu" if name == "rnn_relu" else "Tanh"] * directions
        while inputs[-1] == "":
            inputs.pop()
        outputs = context.emit(_OPS[name], inputs, outputs=1 + count, **attributes)
        for final, output in zip(finals, outputs[1:]):
            final.append(output)
        data = context.emit("Reshape", [context.emit("Transpose", [outputs[0]], perm=[0, 2, 1, 3]),
                                        context.ints([0, 0, -1])])
    return data, [f[0] if len(f) == 1 else context.emit("Concat", f, axis=0) for f in finals]


@converter("aten::lstm", "aten::gru", "aten::rnn_tanh", "aten::rnn_relu")
def _layer(context, node):
    has_biases = node.inputs[3]
    if not (context.is_constant(has_biases) and isinstance(context.constant(has_biases), bool)):
        raise UnsupportedOperatorError(f"Exporting a recurrent layer over a PackedSequence to ONNX is not supported "
                                       f"(module '{node.scope}')")
    x, hx, params, *flags = node.inputs
    _, num_layers, dropout, train, bidirectional, batch_first = (context.constant(v) for v in flags)
    if train and dropout and num_layers > 1:
        raise OnnxExporterError(f"dropout in training mode cannot be exported; call model.eval() "
                                f"(module '{node.scope}')")
    name, directions = node.kind[6:], 2 if bidirectional else 1
    weights = _items(context, params)
    per = len(weights) // (num_layers * directions)
    if per in (3, 5):
        raise UnsupportedOperatorError(f"Exporting an LSTM with projections (proj_size > 0) to ONNX is not "
                                       f"supported (module '{node.scope}')")
    flat = [weights[i:i + per] + [None] * (4 - per) for i in range(0, len(weights), per)]   # no biases: None
    layers = [flat[k * directions:(k + 1) * directions] for k in range(num_layers)]
    unbatched = len(x.type.shape) == 2
    data = context.tensor(x)
    if unbatched:
        data = context.emit("Unsqueeze", [data, context.ints([1])])
    elif batch_first:
        data = context.emit("Transpose", [data], perm=[1, 0, 2])
    states = None
    if not (context.is_constant(hx) and context.constant(hx) is None):
        states = [(item, [1] if unbatched else None) for item in _items(context, hx)]
    output, finals = _recurrence(context, name, data, layers, states, directions, node.scope)
    if unbatched:
        return [context.emit("Squeeze", [n, context.ints([1])]) for n in [output] + finals]
    if batch_first:
        output = context.emit("Transpose", [output], perm=[1, 0, 2])
    return [output] + finals


@converter("aten::lstm_cell", "aten::gru_cell", "aten::rnn_tanh_cell", "aten::rnn_relu_cell")
def _cell(context, node):
    x, hx, *weights = node.inputs
    name = node.kind[6:-5]
    unbatched = len(x.type.shape) == 1
    data = context.emit("Unsqueeze", [context.tensor(x), context.ints([0, 1] if unbatched else [0])])
    states = None
    if not (context.is_constant(hx) and context.constant(hx) is None):
        states = [(item, [0, 1] if unbatched else [0]) for item in _items(context, hx)]
    layer = [[_item(context, w) for w in weights]]
    _, finals = _recurrence(context, name, data, [layer], states, 1, node.scope)
    finals = [context.emit("Squeeze", [f, context.ints([0, 1] if unbatched else [0])]) for f in finals]
    return finals if name == "lstm" else finals[0]
