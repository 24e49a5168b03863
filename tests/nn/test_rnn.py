"""Recurrent layers and nn.utils.rnn checked against torch: weights copied by state_dict name, then outputs, final
states and the gradients of inputs, initial states and every parameter compared."""
import numpy
import pytest
import torch

import ember
from ember import nn
from ember.nn.utils import rnn as rnn_utils
from tests.oracle import as_numpy, assert_same, check, check_error

RTOL = ATOL = 2e-5
TORCH_PROJECTION_WARNING = pytest.mark.filterwarnings("ignore:LSTM with projections is not supported:UserWarning")


def _pair(kind, *args, **kwargs):
    """The torch layer and an ember layer holding the same weights."""
    t = getattr(torch.nn, kind)(*args, **kwargs)
    e = getattr(nn, kind)(*args, **kwargs)
    assert list(e.state_dict()) == list(t.state_dict())
    e.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t.state_dict().items()})
    return t, e


def _leaf(lib, array):
    return (torch.tensor(array) if lib is torch else ember.tensor(array)).requires_grad_(True)


def _outputs(result):
    """The tensors a layer returned, flattened (a PackedSequence gives its data)."""
    if isinstance(result, (torch.nn.utils.rnn.PackedSequence, rnn_utils.PackedSequence)):
        return [result.data]
    if isinstance(result, (tuple, list)):
        return [t for r in result for t in _outputs(r)]
    return [result]


def _compare(t_module, e_module, t_inputs, e_inputs, call):
    """Runs ``call(module, *inputs)`` on both, then compares outputs and the gradients of a random weighting of
    them with respect to the inputs and to every parameter (matched by name)."""
    t_out, e_out = _outputs(call(t_module, *t_inputs)), _outputs(call(e_module, *e_inputs))
    assert len(t_out) == len(e_out)
    for i, (eo, to) in enumerate(zip(e_out, t_out)):
        assert_same(eo, to, RTOL, ATOL, path=f"output[{i}]")
    rng = numpy.random.default_rng(3)
    weights = [rng.standard_normal(tuple(o.shape)).astype(as_numpy(o).dtype) for o in t_out]
    t_loss = sum((o * torch.tensor(w)).sum() for o, w in zip(t_out, weights))
    e_loss = sum((o * ember.tensor(w)).sum() for o, w in zip(e_out, weights))
    t_loss.backward()
    e_loss.backward()
    for i, (ei, ti) in enumerate(zip(e_inputs, t_inputs)):
        if isinstance(ti, torch.Tensor) and ti.requires_grad:
            assert_same(ei.grad, ti.grad, RTOL, ATOL, path=f"input[{i}].grad")
    e_params = dict(e_module.named_parameters())
    for name, tp in t_module.named_parameters():
        assert_same(e_params[name].grad, tp.grad, RTOL, ATOL, path=f"{name}.grad")


LAYERS = [("RNN", {}), ("RNN", {"nonlinearity": "relu"}), ("LSTM", {}), ("GRU", {})]
CONFIGS = [
    {},
    {"num_layers": 2},
    {"bidirectional": True},
    {"num_layers": 2, "bidirectional": True, "batch_first": True},
    {"bias": False},
]


@pytest.mark.parametrize("config", CONFIGS, ids=lambda c: ",".join(f"{k}={v}" for k, v in c.items()) or "default")
@pytest.mark.parametrize("kind,extra", LAYERS, ids=lambda v: v if isinstance(v, str) else "-".join(v.values()))
def test_layer_matches_torch(kind, extra, config):
    t, e = _pair(kind, 3, 4, **extra, **config)
    shape = (2, 5, 3) if config.get("batch_first") else (5, 2, 3)
    x = numpy.random.default_rng(0).standard_normal(shape).astype(numpy.float32)
    _compare(t, e, [_leaf(torch, x)], [_leaf(ember, x)], lambda m, x: m(x))


@pytest.mark.parametrize("kind,extra", LAYERS, ids=lambda v: v if isinstance(v, str) else "-".join(v.values()))
def test_layer_with_initial_state(kind, extra):
    t, e = _pair(kind, 3, 4, num_layers=2, bidirectional=True, **extra)
    rng = numpy.random.default_rng(1)
    x = rng.standard_normal((4, 3, 3)).astype(numpy.float32)
    states = [rng.standard_normal((4, 3, 4)).astype(numpy.float32) for _ in range(2 if kind == "LSTM" else 1)]
    t_in = [_leaf(torch, a) for a in [x] + states]
    e_in = [_leaf(ember, a) for a in [x] + states]
    call = (lambda m, x, h, c: m(x, (h, c))) if kind == "LSTM" else (lambda m, x, h: m(x, h))
    _compare(t, e, t_in, e_in, call)


@pytest.mark.parametrize("kind,extra", LAYERS, ids=lambda v: v if isinstance(v, str) else "-".join(v.values()))
@pytest.mark.parametrize("with_state", [False, True])
def test_unbatched_input(kind, extra, with_state):
    t, e = _pair(kind, 3, 4, bidirectional=True, **extra)
    rng = numpy.random.default_rng(2)
    arrays = [rng.standard_normal((5, 3)).astype(numpy.float32)]
    if with_state:
        arrays += [rng.standard_normal((2, 4)).astype(numpy.float32) for _ in range(2 if kind == "LSTM" else 1)]
    if kind == "LSTM" and with_state:
        call = lambda m, x, h, c: m(x, (h, c))  # noqa: E731
    else:
        call = lambda m, *a: m(*a)  # noqa: E731
    _compare(t, e, [_leaf(torch, a) for a in arrays], [_leaf(ember, a) for a in arrays], call)


@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("kind,extra", LAYERS, ids=lambda v: v if isinstance(v, str) else "-".join(v.values()))
def test_packed_sequence_unsorted_lengths(kind, extra, batch_first):
    t, e = _pair(kind, 3, 4, num_layers=2, bidirectional=True, batch_first=batch_first, **extra)
    rng = numpy.random.default_rng(4)
    lengths = [3, 6, 1, 4]
    x = rng.standard_normal((4, 6, 3) if batch_first else (6, 4, 3)).astype(numpy.float32)
    states = [rng.standard_normal((4, 4, 4)).astype(numpy.float32) for _ in range(2 if kind == "LSTM" else 1)]

    def call(m, x, *state):
        lib = torch if isinstance(m, torch.nn.Module) else ember
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=False)
        output, hidden = m(packed, tuple(state) if kind == "LSTM" else state[0])
        assert isinstance(output, lib.nn.utils.rnn.PackedSequence)
        padded, out_lengths = lib.nn.utils.rnn.pad_packed_sequence(output, batch_first=batch_first)
        assert out_lengths.tolist() == lengths
        return output, padded, hidden

    arrays = [x] + states
    _compare(t, e, [_leaf(torch, a) for a in arrays], [_leaf(ember, a) for a in arrays], call)


def test_packed_sequence_without_initial_state_and_sorted():
    t, e = _pair("GRU", 2, 3)
    x = numpy.random.default_rng(5).standard_normal((4, 3, 2)).astype(numpy.float32)

    def call(m, x):
        lib = torch if isinstance(m, torch.nn.Module) else ember
        return m(lib.nn.utils.rnn.pack_padded_sequence(x, [4, 2, 2]))
    _compare(t, e, [_leaf(torch, x)], [_leaf(ember, x)], call)


@TORCH_PROJECTION_WARNING
@pytest.mark.parametrize("config", [{}, {"num_layers": 2, "bidirectional": True}, {"batch_first": True}])
def test_lstm_projection(config):
    t, e = _pair("LSTM", 3, 5, proj_size=2, **config)
    rng = numpy.random.default_rng(6)
    x = rng.standard_normal((3, 4, 3) if config.get("batch_first") else (4, 3, 3)).astype(numpy.float32)
    directions = 2 * config.get("num_layers", 1) if config.get("bidirectional") else config.get("num_layers", 1)
    h = rng.standard_normal((directions, 3, 2)).astype(numpy.float32)
    c = rng.standard_normal((directions, 3, 5)).astype(numpy.float32)
    arrays = [x, h, c]
    _compare(t, e, [_leaf(torch, a) for a in arrays], [_leaf(ember, a) for a in arrays],
             lambda m, x, h, c: m(x, (h, c)))


@TORCH_PROJECTION_WARNING
def test_lstm_projection_packed():
    t, e = _pair("LSTM", 3, 5, proj_size=2, bidirectional=True)
    x = numpy.random.default_rng(7).standard_normal((5, 3, 3)).astype(numpy.float32)

    def call(m, x):
        lib = torch if isinstance(m, torch.nn.Module) else ember
        return m(lib.nn.utils.rnn.pack_padded_sequence(x, [2, 5, 3], enforce_sorted=False))
    _compare(t, e, [_leaf(torch, x)], [_leaf(ember, x)], call)


@pytest.mark.parametrize("kind", ["RNN", "LSTM", "GRU"])
def test_dropout_between_layers_is_off_in_eval_mode(kind):
    t, e = _pair(kind, 3, 4, num_layers=3, dropout=0.5)
    t.eval()
    e.eval()
    x = numpy.random.default_rng(8).standard_normal((4, 2, 3)).astype(numpy.float32)
    _compare(t, e, [_leaf(torch, x)], [_leaf(ember, x)], lambda m, x: m(x))


def test_dropout_in_training_changes_only_inner_layers():
    e = nn.GRU(3, 4, num_layers=2, dropout=0.9)
    x = ember.randn(5, 2, 3)
    e.train()
    ember.manual_seed(0)
    trained = e(x)[0]
    ember.manual_seed(1)
    assert not numpy.allclose(trained.detach().numpy(), e(x)[0].detach().numpy())
    e.eval()
    assert numpy.allclose(e(x)[0].detach().numpy(), e(x)[0].detach().numpy())
    single = nn.GRU(3, 4, num_layers=2, dropout=1.0)
    single.train()
    assert single(x)[0].shape == (5, 2, 4)


CELLS = [("RNNCell", {}), ("RNNCell", {"nonlinearity": "relu"}), ("RNNCell", {"bias": False}), ("LSTMCell", {}),
         ("LSTMCell", {"bias": False}), ("GRUCell", {}), ("GRUCell", {"bias": False})]


@pytest.mark.parametrize("batched", [True, False])
@pytest.mark.parametrize("with_state", [True, False])
@pytest.mark.parametrize("kind,extra", CELLS, ids=lambda v: v if isinstance(v, str) else
                         "-".join(f"{k}={w}" for k, w in v.items()))
def test_cell_matches_torch(kind, extra, with_state, batched):
    t, e = _pair(kind, 3, 4, **extra)
    rng = numpy.random.default_rng(9)
    batch = (2,) if batched else ()
    arrays = [rng.standard_normal(batch + (3,)).astype(numpy.float32)]
    if with_state:
        arrays += [rng.standard_normal(batch + (4,)).astype(numpy.float32) for _ in range(2 if kind == "LSTMCell"
                                                                                           else 1)]
    if kind == "LSTMCell" and with_state:
        call = lambda m, x, h, c: m(x, (h, c))  # noqa: E731
    else:
        call = lambda m, *a: m(*a)  # noqa: E731
    _compare(t, e, [_leaf(torch, a) for a in arrays], [_leaf(ember, a) for a in arrays], call)


def test_float64_layers_and_default_initialisation():
    layer = nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, dtype=ember.float64)
    reference = torch.nn.LSTM(3, 4, num_layers=2, bidirectional=True, proj_size=2, dtype=torch.float64)
    assert [(n, tuple(p.shape)) for n, p in layer.named_parameters()] == \
        [(n, tuple(p.shape)) for n, p in reference.named_parameters()]
    for p in layer.parameters():
        assert p.dtype == ember.float64
        assert float(p.abs().max()) <= 0.5
    assert [[p.shape for p in group] for group in layer.all_weights] == \
        [[p.shape for p in group] for group in reference.all_weights]
    assert layer._flat_weights_names == reference._flat_weights_names
    assert layer.flatten_parameters() is None
    output, (h, c) = layer(ember.randn(5, 2, 3, dtype=ember.float64))
    assert (output.shape, h.shape, c.shape) == ((5, 2, 4), (4, 2, 2), (4, 2, 4))
    assert output.dtype == ember.float64


@pytest.mark.parametrize("kind,args,kwargs", [
    ("LSTM", (3, 4), {"num_layers": 2, "proj_size": 2, "bidirectional": True, "batch_first": True,
                      "dropout": 0.5}),
    ("RNN", (3, 4, 2, "relu"), {"bias": False}),
    ("GRU", (3, 4), {}),
    ("RNNCell", (3, 4), {"nonlinearity": "relu", "bias": False}),
    ("LSTMCell", (3, 4), {}),
])
def test_repr_matches_torch(kind, args, kwargs):
    assert repr(getattr(nn, kind)(*args, **kwargs)) == repr(getattr(torch.nn, kind)(*args, **kwargs))


def test_layer_errors_match_torch():
    for lib in (torch, ember):
        lib.manual_seed(0)
    cases = [
        (lambda lib: lib.nn.GRU(3, 4)(lib.zeros(2, 2, 2, 3)), ValueError),
        (lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(2, 2, 2, 3)), ValueError),
        (lambda lib: lib.nn.RNN(3, 4)(lib.zeros(3)), ValueError),
        (lambda lib: lib.nn.GRU(3, 4)(lib.zeros(5, 2, 2)), RuntimeError),
        (lambda lib: lib.nn.GRU(3, 4)(lib.zeros(5, 2, 3), lib.zeros(2, 2, 4)), RuntimeError),
        (lambda lib: lib.nn.GRU(3, 4)(lib.zeros(5, 2, 3), lib.zeros(2, 4)), RuntimeError),
        (lambda lib: lib.nn.RNN(3, 4)(lib.zeros(5, 3), lib.zeros(1, 1, 4)), RuntimeError),
        (lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3), (lib.zeros(1, 2, 4), lib.zeros(1, 2, 3))), RuntimeError),
        (lambda lib: lib.nn.LSTM(3, 4)(lib.zeros(5, 2, 3), (lib.zeros(2, 4), lib.zeros(2, 4))), RuntimeError),
        (lambda lib: lib.nn.GRU(3, 4)(lib.zeros(5, 2, 3, dtype=lib.float64)), ValueError),
        (lambda lib: lib.nn.GRU(3, 4)(lib.zeros(0, 2, 3)), RuntimeError),
        (lambda lib: lib.nn.RNN(3, 4, nonlinearity="gelu"), ValueError),
        (lambda lib: lib.nn.GRU(3, 4, proj_size=2), ValueError),
        (lambda lib: lib.nn.LSTM(3, 4, proj_size=4), ValueError),
        (lambda lib: lib.nn.LSTM(3, 4, dropout=1.5), ValueError),
        (lambda lib: lib.nn.LSTM(3, 0), ValueError),
        (lambda lib: lib.nn.LSTM(3.0, 4), TypeError),
        (lambda lib: lib.nn.LSTM(3, 4, num_layers=0), ValueError),
        (lambda lib: lib.nn.GRUCell(3, 4)(lib.zeros(2, 5)), RuntimeError),
        (lambda lib: lib.nn.GRUCell(3, 4)(lib.zeros(2, 3), lib.zeros(3, 4)), RuntimeError),
        (lambda lib: lib.nn.LSTMCell(3, 4)(lib.zeros(2, 3), (lib.zeros(2, 5), lib.zeros(2, 4))), RuntimeError),
        (lambda lib: lib.nn.RNNCell(3, 4)(lib.zeros(1, 2, 3)), ValueError),
        (lambda lib: lib.nn.RNNCell(3, 4)(lib.zeros(2, 3), lib.zeros(1, 2, 4)), ValueError),
    ]
    for fn, kind in cases:
        with pytest.raises(kind) as torch_error:
            fn(torch)
        with pytest.raises(kind) as ember_error:
            fn(ember)
        assert str(ember_error.value).replace("ember", "torch") == str(torch_error.value), str(torch_error.value)


def test_dropout_with_one_layer_warns():
    with pytest.warns(UserWarning, match="non-zero dropout expects num_layers greater than 1"):
        nn.LSTM(3, 4, dropout=0.2)


def test_empty_batch():
    e = nn.LSTM(3, 4)
    output, (h, c) = e(ember.zeros(5, 0, 3))
    assert (output.shape, h.shape, c.shape) == ((5, 0, 4), (1, 0, 4), (1, 0, 4))


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_gradcheck_float64(kind):
    layer = getattr(nn, kind)(2, 2, bidirectional=True, dtype=ember.float64)
    rng = numpy.random.default_rng(10)
    x = ember.tensor(rng.standard_normal((3, 2, 2)), requires_grad=True)
    h = ember.tensor(rng.standard_normal((2, 2, 2)), requires_grad=True)

    def run(x, h, *params):
        output, hidden = layer(x, (h, h * 0.5) if kind == "LSTM" else h)
        return output, hidden[1] if kind == "LSTM" else hidden

    inputs = (x, h) + tuple(layer.parameters())
    assert ember.autograd.gradcheck(run, inputs)
    assert ember.autograd.gradgradcheck(lambda x, h: run(x, h), (x, h))


# --- nn.utils.rnn -----------------------------------------------------------------------------------------------
@pytest.mark.parametrize("batch_first", [False, True])
@pytest.mark.parametrize("lengths,enforce_sorted", [([5, 3, 3, 1], True), ([3, 5, 1, 3], False),
                                                    ([2, 2, 2, 2], True)])
def test_pack_and_pad_round_trip_match_torch(lengths, enforce_sorted, batch_first):
    x = numpy.random.default_rng(11).standard_normal((4, 5, 2) if batch_first else (5, 4, 2))

    def fn(lib, x):
        packed = lib.nn.utils.rnn.pack_padded_sequence(x, lengths, batch_first, enforce_sorted)
        padded, out_lengths = lib.nn.utils.rnn.pad_packed_sequence(packed, batch_first, padding_value=-2.0,
                                                                   total_length=6)
        indices = [t if t is not None else lib.zeros(0) for t in (packed.sorted_indices, packed.unsorted_indices)]
        assert packed.batch_sizes.device.type == out_lengths.device.type == "cpu"   # on every device, as torch
        return packed.data, packed.batch_sizes.to(x.device), indices, padded, out_lengths.to(x.device)
    check(fn, x)


def test_pack_padded_sequence_with_tensor_lengths_and_int_data():
    x = numpy.arange(12).reshape(4, 3)
    check(lambda lib, x, n: lib.nn.utils.rnn.pack_padded_sequence(x, n.cpu(), enforce_sorted=False).data, x,
          numpy.array([2, 4, 1]), grad=False)


@pytest.mark.parametrize("padding_side", ["right", "left"])
@pytest.mark.parametrize("batch_first", [False, True])
def test_pad_sequence_matches_torch(batch_first, padding_side):
    rng = numpy.random.default_rng(12)
    sequences = [rng.standard_normal((n, 2, 3)) for n in (2, 4, 1)]
    check(lambda lib, *s: lib.nn.utils.rnn.pad_sequence(list(s), batch_first, 7.0, padding_side), *sequences)
    check(lambda lib, *s: lib.nn.utils.rnn.pad_sequence(s, batch_first), *[numpy.arange(n) for n in (3, 0, 2)],
          grad=False)


def test_pad_sequence_of_a_tensor_iterates_its_rows():
    check(lambda lib, x: lib.nn.utils.rnn.pad_sequence(x), numpy.ones((2, 3), dtype=numpy.float32))


def test_pack_sequence_unpack_and_unpad_match_torch():
    rng = numpy.random.default_rng(13)
    sequences = [rng.standard_normal((n, 2)) for n in (2, 4, 3)]

    def fn(lib, *s):
        packed = lib.nn.utils.rnn.pack_sequence(list(s), enforce_sorted=False)
        padded = lib.nn.utils.rnn.pad_sequence(list(s), batch_first=True)
        lengths = lib.tensor([2, 4, 3])
        return (packed.data, lib.nn.utils.rnn.unpack_sequence(packed),
                lib.nn.utils.rnn.unpad_sequence(padded, lengths, batch_first=True),
                lib.nn.utils.rnn.unpad_sequence(padded.transpose(0, 1).clone(), lengths))
    check(fn, *sequences)
    check(lambda lib, *s: lib.nn.utils.rnn.pack_sequence(list(s)).batch_sizes.to(s[0].device), *sequences[::-1][1:],
          grad=False)


def test_packed_sequence_is_a_namedtuple_and_converts():
    packed = rnn_utils.pack_sequence([ember.ones(3, 2), ember.ones(1, 2)])
    data, batch_sizes, sorted_indices, unsorted_indices = packed
    assert packed._fields == ("data", "batch_sizes", "sorted_indices", "unsorted_indices")
    assert batch_sizes.tolist() == [2, 1, 1] and sorted_indices is None and unsorted_indices is None
    assert packed.to(ember.float32) is packed
    doubled = packed.double()
    assert isinstance(doubled, rnn_utils.PackedSequence) and doubled.data.dtype == ember.float64
    assert doubled.batch_sizes is batch_sizes and not packed.is_cuda
    unsorted = rnn_utils.pack_sequence([ember.ones(1, 2), ember.ones(3, 2)], enforce_sorted=False).long()
    assert unsorted.data.dtype == ember.int64 and unsorted.unsorted_indices.tolist() == [1, 0]
    assert rnn_utils.invert_permutation(ember.tensor([2, 0, 1])).tolist() == [1, 2, 0]
    assert rnn_utils.PackedSequence(data, batch_sizes).unsorted_indices is None


def test_utils_errors_match_torch():
    x = numpy.zeros((4, 3, 2), dtype=numpy.float32)
    pack = lambda lib, x, lengths, **kw: lib.nn.utils.rnn.pack_padded_sequence(x, lengths, **kw)  # noqa: E731
    check_error(pack, x, [2, 3, 1], match="must be sorted in decreasing order")
    check_error(pack, x, [3, 0, 0], match="greater than 0")
    check_error(pack, x, [3, 2], match="equal to batch_size")
    check_error(lambda lib, x: lib.nn.utils.rnn.pad_packed_sequence(
        lib.nn.utils.rnn.pack_padded_sequence(x, [3, 2, 1]), total_length=2), x, match="total_length=2")
    check_error(lambda lib: lib.nn.utils.rnn.pad_sequence([]), match="empty list")
    check_error(lambda lib: lib.nn.utils.rnn.pad_sequence(3), match="Expected iterable")
    check_error(lambda lib, a, b: lib.nn.utils.rnn.pad_sequence([a, b]), numpy.ones((2, 3)), numpy.ones((3, 2)))
    check_error(lambda lib, a: lib.nn.utils.rnn.pad_sequence([a], padding_side="up"), numpy.ones(2),
                match="padding_side")


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("options", [{}, {"num_layers": 2}, {"bidirectional": True}, {"batch_first": True},
                                     {"proj_size": 2}, {"dtype": "float64"}, {"dtype": "bfloat16"}, {"packed": True},
                                     {"unbatched": True}], ids=str)
def test_output_and_state_nodes_are_named_as_torchs(kind, options):
    # PyTorch's CPU kernels end the output with the steps' stack, the directions' cat, a transpose (in place for
    # GRU and RNN), oneDNN's LSTM layer or, for packed input, a cat; ember's ends it with a reshape
    options = dict(options)
    if "proj_size" in options and kind != "LSTM":
        pytest.skip("proj_size is an LSTM option")
    dtype, packed, unbatched = options.pop("dtype", "float32"), options.pop("packed", False), \
        options.pop("unbatched", False)
    names = []
    for lib in (torch, ember):
        lib.manual_seed(0)
        layer = getattr(lib.nn, kind)(3, 4, **options).to(getattr(lib, dtype))
        x = lib.randn(2, 5, 3) if options.get("batch_first") else lib.randn(5, 3) if unbatched else lib.randn(5, 2, 3)
        x = x.to(getattr(lib, dtype))
        if packed:
            x = lib.nn.utils.rnn.pack_padded_sequence(x, [5, 3])
        output, state = layer(x)
        output = output.data if packed else output
        states = state if kind == "LSTM" else (state,)
        names.append([type(t.grad_fn).__name__ for t in (output,) + tuple(states)])
        assert "grad_fn=<" + names[-1][0] + ">" in repr(output)
    assert names[1] == names[0]


def test_lstm_projection_warning_is_torchs_once_per_process(monkeypatch):
    from ember.nn.modules import rnn as rnn_module
    monkeypatch.setattr(rnn_module, "_warned_projections", [])
    layer = nn.LSTM(3, 4, proj_size=2)
    with pytest.warns(UserWarning) as caught:
        layer(ember.randn(5, 2, 3))
        layer(ember.randn(5, 2, 3))
        nn.LSTM(3, 4, proj_size=2, dtype=ember.float64)(ember.randn(5, 3, dtype=ember.float64))
    assert [str(w.message) for w in caught] == [
        "LSTM with projections is not supported with oneDNN. Using default implementation."]
    assert caught[0].filename == rnn_module.__file__


@pytest.mark.parametrize("make_hx", [
    lambda t: t.zeros(1, 5, 4),                                  # a tensor where (h, c) belongs: hx[1] out of range
    lambda t: t.zeros(3, 5, 4),                                  # its slices are 2-D: the rank error names two of them
    lambda t: (t.zeros(1, 5, 4),),                               # a tuple of one
    lambda t: (t.zeros(1, 5, 4), t.zeros(5, 4), t.zeros(5, 4)),  # only the first two are looked at
], ids=["tensor", "tensor-of-three", "short-tuple", "long-tuple"])
def test_lstm_hidden_state_checks_index_it_as_pytorch(make_hx):
    """LSTM takes hx as (h, c) and checks hx[0] and hx[1]: a lone tensor (an RNN/GRU state) fails as in PyTorch."""
    from tests.oracle import check_same_error
    check_same_error(lambda t: t.nn.LSTM(3, 4)(t.ones(2, 5, 3), make_hx(t)))


@pytest.mark.parametrize("call", [
    lambda t: t.nn.LSTMCell(3, 4)(t.ones(5, 3), t.zeros(5, 4)),
    lambda t: t.lstm_cell(t.ones(5, 3), t.zeros(5, 4), t.ones(16, 3), t.ones(16, 4)),
], ids=["module", "function"])
def test_lstm_cell_refuses_a_lone_tensor_state_as_pytorch(call):
    """lstm_cell binds hx as a tuple of Tensors: PyTorch's TypeError, not a batch-size complaint."""
    from tests.oracle import check_same_error
    check_same_error(call)
