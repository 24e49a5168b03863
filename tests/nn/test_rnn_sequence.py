"""The whole-sequence recurrent primitives (ember.ops.recurrent_layers) in float64 against torch to 1e-10: outputs,
final states, the gradients of the input, the initial states and every parameter, and gradients of gradients
(create_graph), for every layer configuration: layers, directions, batch_first, bias, proj_size, packed sequences
whose batch shrinks, initial states given or not, dropout between layers."""
import numpy
import pytest
import torch

import ember
from ember import nn

TOL = {"rtol": 1e-10, "atol": 1e-12}
PROJECTION_WARNING = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported:UserWarning")
LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
IDS = ["tanh", "relu", "LSTM", "GRU"]


def _pair(kind, *args, **kwargs):
    t = getattr(torch.nn, kind)(*args, dtype=torch.float64, **kwargs)
    e = getattr(nn, kind)(*args, dtype=ember.float64, **kwargs)
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, e


def _flat(result):
    if isinstance(result, (torch.nn.utils.rnn.PackedSequence, nn.utils.rnn.PackedSequence)):
        return [result.data]
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _flat(r)]
    return [result]


def _close(e, t, what):
    numpy.testing.assert_allclose(e.detach().numpy(), t.detach().numpy(), **TOL, err_msg=what)


def _compare(t_module, e_module, arrays, call, second_order=False):
    """``call(lib, module, *leaves)`` on both libraries: outputs, then gradients of a random weighting of them with
    respect to the leaves and parameters; with ``second_order`` also the gradient of the squared first gradients."""
    results = {}
    for lib, module in ((torch, t_module), (ember, e_module)):
        leaves = [lib.tensor(a).requires_grad_(True) for a in arrays]
        outputs = _flat(call(lib, module, *leaves))
        rng = numpy.random.default_rng(3)
        loss = sum((o * lib.tensor(rng.standard_normal(tuple(o.shape)))).sum() for o in outputs)
        params = [p for _, p in module.named_parameters()]
        grads = lib.autograd.grad(loss, leaves + params, create_graph=second_order, allow_unused=True)
        second = []
        if second_order:
            total = sum((g * g).sum() for g in grads if g is not None)
            second = lib.autograd.grad(total, leaves + params, allow_unused=True)
        results[lib] = outputs, grads, second
    names = [f"input[{i}]" for i in range(len(arrays))] + [n for n, _ in t_module.named_parameters()]
    (t_out, t_grads, t_second), (e_out, e_grads, e_second) = results[torch], results[ember]
    assert len(e_out) == len(t_out)
    for i, (e, t) in enumerate(zip(e_out, t_out)):
        _close(e, t, f"output[{i}]")
    for kind, e_all, t_all in (("grad", e_grads, t_grads), ("second-order grad", e_second, t_second)):
        for name, e, t in zip(names, e_all, t_all):
            assert (e is None) == (t is None), f"{kind} of {name}"
            if t is not None:
                _close(e, t, f"{kind} of {name}")


def _states(rng, kind, count, batch, hidden, cell=None):
    shapes = [(count, batch, hidden)] + ([(count, batch, cell or hidden)] if kind == "LSTM" else [])
    return [rng.standard_normal(s) for s in shapes]


def _call_with_states(kind):
    if kind == "LSTM":
        return lambda lib, m, x, h, c: m(x, (h, c))
    return lambda lib, m, x, h: m(x, h)


CONFIGS = [{}, {"num_layers": 2, "bidirectional": True}, {"num_layers": 2, "batch_first": True},
           {"bidirectional": True, "batch_first": True, "bias": False}]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join(c) or "default")
@pytest.mark.parametrize("kind,extra", LAYERS, ids=IDS)
def test_layers_float64(kind, extra, config):
    t, e = _pair(kind, 3, 4, **extra, **config)
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal((2, 5, 3) if config.get("batch_first") else (5, 2, 3))
    _compare(t, e, [x], lambda lib, m, x: m(x))
    count = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    _compare(t, e, [x] + _states(rng, kind, count, 2, 4), _call_with_states(kind))


@PROJECTION_WARNING
@pytest.mark.parametrize("config", [{}, {"num_layers": 2, "bidirectional": True, "batch_first": True},
                                    {"bias": False}], ids=["default", "2-layers,bidirectional", "no-bias"])
def test_lstm_projection_float64(config):
    t, e = _pair("LSTM", 3, 5, proj_size=2, **config)
    rng = numpy.random.default_rng(1)
    x = rng.standard_normal((3, 4, 3) if config.get("batch_first") else (4, 3, 3))
    count = config.get("num_layers", 1) * (2 if config.get("bidirectional") else 1)
    _compare(t, e, [x] + _states(rng, "LSTM", count, 3, 2, 5), _call_with_states("LSTM"))


def _packed_call(kind, lengths, batch_first, with_state):
    def call(lib, m, x, *state):
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        hx = (tuple(state) if kind == "LSTM" else state[0]) if with_state else None
        output, hidden = m(packed, hx)
        return output, lib.nn.utils.rnn.pad_packed_sequence(output, batch_first=batch_first)[0], hidden
    return call


@pytest.mark.parametrize("with_state", [False, True])
@pytest.mark.parametrize("kind,extra", LAYERS, ids=IDS)
def test_packed_sequences_whose_batch_shrinks(kind, extra, with_state):
    t, e = _pair(kind, 3, 4, num_layers=2, bidirectional=True, batch_first=True, **extra)
    rng = numpy.random.default_rng(2)
    arrays = [rng.standard_normal((4, 6, 3))] + (_states(rng, kind, 4, 4, 4) if with_state else [])
    _compare(t, e, arrays, _packed_call(kind, [3, 6, 1, 4], True, with_state))


@PROJECTION_WARNING
def test_packed_lstm_with_projection():
    t, e = _pair("LSTM", 3, 5, proj_size=2, num_layers=2, bidirectional=True)
    rng = numpy.random.default_rng(3)
    arrays = [rng.standard_normal((5, 3, 3))] + _states(rng, "LSTM", 4, 3, 2, 5)
    _compare(t, e, arrays, _packed_call("LSTM", [2, 5, 3], False, True))


@pytest.mark.parametrize("kind,extra", LAYERS, ids=IDS)
def test_double_backward(kind, extra):
    t, e = _pair(kind, 3, 4, num_layers=2, bidirectional=True, batch_first=True, **extra)
    rng = numpy.random.default_rng(4)
    x = rng.standard_normal((2, 4, 3))
    _compare(t, e, [x] + _states(rng, kind, 4, 2, 4), _call_with_states(kind), second_order=True)


@PROJECTION_WARNING
@pytest.mark.parametrize("kind,extra", [("LSTM", {"proj_size": 2}), ("GRU", {}), ("RNN", {"nonlinearity": "relu"})],
                         ids=["LSTM-projection", "GRU", "relu"])
def test_double_backward_of_packed_sequences(kind, extra):
    t, e = _pair(kind, 3, 4, bidirectional=True, **extra)
    rng = numpy.random.default_rng(5)
    state_size = extra.get("proj_size", 4)
    arrays = [rng.standard_normal((4, 3, 3))] + _states(rng, kind, 2, 3, state_size, 4)
    _compare(t, e, arrays, _packed_call(kind, [4, 1, 3], False, True), second_order=True)


@pytest.mark.parametrize("kind,extra", LAYERS, ids=IDS)
def test_gradients_of_some_inputs_only(kind, extra):
    """x needs no gradient and only h_n is used: the parameters' gradients still match."""
    t, e = _pair(kind, 3, 4, num_layers=2, **extra)
    x = numpy.random.default_rng(6).standard_normal((5, 2, 3))
    grads = []
    for lib, module in ((torch, t), (ember, e)):
        hidden = module(lib.tensor(x))[1]
        h_n = hidden[0] if kind == "LSTM" else hidden
        grads.append(lib.autograd.grad(h_n.sum(), [module.weight_hh_l0, module.weight_ih_l1]))
    for e_grad, t_grad in zip(grads[1], grads[0]):
        _close(e_grad, t_grad, "grad")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_dropout_between_layers_in_training_is_differentiable(kind):
    """With the dropout mask fixed by the seed, finite differences agree with the analytic gradients."""
    layer = getattr(nn, kind)(2, 3, num_layers=2, dropout=0.4, dtype=ember.float64).train()
    x = ember.tensor(numpy.random.default_rng(7).standard_normal((3, 2, 2)), requires_grad=True)

    def run(x, *params):
        ember.manual_seed(0)
        return layer(x)[0]
    assert ember.autograd.gradcheck(run, (x,) + tuple(layer.parameters()))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_grad_fn_names(kind):
    # PyTorch's CPU names: oneDNN's LSTM layer or the steps' stack; a batch_first transpose, in place (transpose_,
    # TransposeBackward1) for GRU and RNN
    stacked = "MkldnnRnnLayerBackward0" if kind == "LSTM" else "StackBackward0"
    transposed = "TransposeBackward0" if kind == "LSTM" else "TransposeBackward1"
    for batch_first, bidirectional, name in ((False, False, stacked), (True, False, transposed),
                                             (True, True, transposed)):
        layer = getattr(nn, kind)(3, 4, batch_first=batch_first, bidirectional=bidirectional)
        output, hidden = layer(ember.randn(2, 5, 3))
        assert output.grad_fn.name() == name
        for part in hidden if kind == "LSTM" else (hidden,):
            assert part.grad_fn.name() == "StackBackward0"


def test_empty_batch_backward():
    layer = nn.GRU(3, 4, num_layers=2)
    x = ember.zeros(5, 0, 3, requires_grad=True)
    output, h = layer(x)
    (output.sum() + h.sum()).backward()
    assert x.grad.shape == (5, 0, 3) and float(layer.weight_hh_l1.grad.abs().sum()) == 0.0


@pytest.mark.parametrize("kind,size", [("LSTM", 260), ("GRU", 300)])
def test_large_weights_take_the_view_path(kind, size):
    """Weights past the small-copy threshold are multiplied as transposed views: same results."""
    t, e = _pair(kind, 3, size)
    x = numpy.random.default_rng(8).standard_normal((3, 2, 3))
    _compare(t, e, [x], lambda lib, m, x: m(x))


@pytest.mark.parametrize("present", ["b_ih", "b_hh"])
@pytest.mark.parametrize("batch_sizes", [None, (3, 2, 2, 1)])
@pytest.mark.parametrize("reverse", [False, True])
def test_lstm_layer_with_one_bias_gradients(present, batch_sizes, reverse):
    """LSTMLayer given one of its two biases: every gradient as with the other bias a zero that needs none."""
    rng = numpy.random.default_rng(9)
    rows = sum(batch_sizes or (3, 3, 3))
    arrays = {"x": rng.standard_normal((rows, 3)), "h0": rng.standard_normal((3, 5)), "c0": rng.standard_normal((3, 5)),
              "w_ih": rng.standard_normal((20, 3)), "w_hh": rng.standard_normal((20, 5)), "b": rng.standard_normal(20)}
    from ember.ops import recurrent_layers
    grads = []
    for with_zero in (False, True):
        t = {name: ember.tensor(a, requires_grad=True) for name, a in arrays.items()}
        biases = {present: t["b"]}
        if with_zero:
            biases[{"b_ih": "b_hh", "b_hh": "b_ih"}[present]] = ember.zeros(20, dtype=ember.float64)
        outputs = recurrent_layers.lstm_layer(t["x"], t["h0"], t["c0"], t["w_ih"], t["w_hh"], **biases,
                                              batch_sizes=batch_sizes, reverse=reverse)
        loss = sum((o * ember.tensor(numpy.random.default_rng(1).standard_normal(tuple(o.shape)))).sum()
                   for o in outputs)
        grads.append(ember.autograd.grad(loss, list(t.values())))
    for mine, reference in zip(*grads):
        _close(mine, reference, "grad")
