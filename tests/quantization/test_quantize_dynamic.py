"""quantize_dynamic against torch's: swapped module types, printed models, outputs of an MLP and a small text
classifier (equal bit for bit to torch's fbgemm/x86 kernel), per-channel weights, state dicts saved by one and
loaded by the other, and misuse errors."""
import io

import numpy
import pytest
import torch

import ember

pytestmark = pytest.mark.filterwarnings("ignore:torch.ao.quantization is deprecated:DeprecationWarning",
                                        "ignore:torch.quantize_per_tensor:UserWarning",
                                        "ignore:TypedStorage is deprecated:UserWarning")   # torch's deepcopy


def _mlp(lib):
    # ReLU, not tanh: libm's tanh may differ from torch's in the last bit, which is not what is tested here
    return lib.nn.Sequential(lib.nn.Linear(20, 64), lib.nn.ReLU(), lib.nn.Linear(64, 32), lib.nn.ReLU(),
                             lib.nn.Linear(32, 4))


class _TextClassifier:
    """The text classification tutorial's model (EmbeddingBag then Linear), built in either library."""

    @staticmethod
    def build(lib, vocab=100, embed=16, classes=4):
        class TextClassificationModel(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.embedding = lib.nn.EmbeddingBag(vocab, embed)
                self.hidden = lib.nn.Linear(embed, 24)
                self.fc = lib.nn.Linear(24, classes)

            def forward(self, text, offsets):
                return self.fc(lib.relu(self.hidden(self.embedding(text, offsets))))
        return TextClassificationModel()


def _copy_weights(torch_model, ember_model):
    ember_model.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in torch_model.state_dict().items()})


def _pair(builder):
    torch.manual_seed(0)
    torch_model = builder(torch)
    ember_model = builder(ember)
    _copy_weights(torch_model, ember_model)
    return torch_model, ember_model


@pytest.mark.parametrize("alias", ["ao.quantization", "quantization"])
def test_mlp_types_printing_and_outputs(alias):
    torch_model, ember_model = _pair(_mlp)
    quantize_t = eval(f"torch.{alias}.quantize_dynamic")
    quantize_e = eval(f"ember.{alias}.quantize_dynamic")
    tq = quantize_t(torch_model, {torch.nn.Linear}, dtype=torch.qint8)
    eq = quantize_e(ember_model, {ember.nn.Linear}, dtype=ember.qint8)
    assert type(eq[0]) is ember.ao.nn.quantized.dynamic.Linear is ember.nn.quantized.dynamic.Linear
    assert type(ember_model[0]) is ember.nn.Linear and ember_model.training   # not in place
    assert not eq.training
    assert repr(eq).replace("ember", "torch") == repr(tq)
    rng = numpy.random.default_rng(0)
    for shape in [(1, 20), (7, 20), (3, 5, 20), (0, 20)]:
        x = (rng.standard_normal(shape) * rng.uniform(0.1, 10)).astype(numpy.float32)
        numpy.testing.assert_array_equal(eq(ember.tensor(x)).detach().numpy(), tq(torch.from_numpy(x)).detach().numpy())
    assert repr(eq[0].weight()).replace("ember", "torch") == repr(tq[0].weight())
    numpy.testing.assert_array_equal(eq[0].bias().detach().numpy(), tq[0].bias().detach().numpy())
    assert eq[0].bias().requires_grad == tq[0].bias().requires_grad   # the float layer's Parameter, as packed


def test_text_classifier_outputs_and_default_spec():
    torch_model, ember_model = _pair(_TextClassifier.build)
    tq = torch.ao.quantization.quantize_dynamic(torch_model)
    eq = ember.ao.quantization.quantize_dynamic(ember_model)
    assert repr(eq).replace("ember", "torch") == repr(tq)
    rng = numpy.random.default_rng(1)
    for _ in range(5):
        text = rng.integers(0, 100, 40)
        offsets = numpy.sort(rng.choice(numpy.arange(1, 40), 7, replace=False))
        offsets = numpy.concatenate([[0], offsets])
        expected = tq(torch.from_numpy(text), torch.from_numpy(offsets)).detach().numpy()
        got = eq(ember.tensor(text), ember.tensor(offsets)).numpy()
        numpy.testing.assert_array_equal(got, expected)


def test_per_channel_and_named_qconfigs():
    torch_model, ember_model = _pair(_mlp)
    tq = torch.ao.quantization.quantize_dynamic(
        torch_model, {"0": torch.ao.quantization.per_channel_dynamic_qconfig,
                      "4": torch.ao.quantization.default_dynamic_qconfig})
    eq = ember.ao.quantization.quantize_dynamic(
        ember_model, {"0": ember.ao.quantization.per_channel_dynamic_qconfig,
                      "4": ember.ao.quantization.default_dynamic_qconfig})
    assert repr(eq).replace("ember", "torch") == repr(tq)
    assert type(eq[2]) is ember.nn.Linear
    x = numpy.random.default_rng(2).standard_normal((6, 20)).astype(numpy.float32)
    numpy.testing.assert_array_equal(eq(ember.tensor(x)).detach().numpy(), tq(torch.from_numpy(x)).detach().numpy())


def test_inputs_that_are_all_zero_or_tiny():
    torch_model, ember_model = _pair(_mlp)
    tq = torch.ao.quantization.quantize_dynamic(torch_model)
    eq = ember.ao.quantization.quantize_dynamic(ember_model)
    for x in (numpy.zeros((2, 20), numpy.float32), numpy.full((2, 20), 1e-7, numpy.float32),
              numpy.full((2, 20), -3.0, numpy.float32), numpy.linspace(1e-6, 2e-6, 40, dtype=numpy.float32)
              .reshape(2, 20)):
        numpy.testing.assert_array_equal(eq(ember.tensor(x)).detach().numpy(), tq(torch.from_numpy(x)).detach().numpy())


def test_state_dicts_move_between_ember_and_torch():
    torch_model, ember_model = _pair(_mlp)
    tq = torch.ao.quantization.quantize_dynamic(torch_model)
    eq = ember.ao.quantization.quantize_dynamic(ember_model)
    state = eq.state_dict()
    assert list(state) == list(tq.state_dict())
    assert state._metadata == tq.state_dict()._metadata
    x = numpy.random.default_rng(3).standard_normal((5, 20)).astype(numpy.float32)
    expected = tq(torch.from_numpy(x)).numpy()

    buffer = io.BytesIO()
    ember.save(state, buffer)
    other_t = torch.ao.quantization.quantize_dynamic(_mlp(torch))
    other_t.load_state_dict(torch.load(io.BytesIO(buffer.getvalue())))
    numpy.testing.assert_array_equal(other_t(torch.from_numpy(x)).numpy(), expected)

    buffer = io.BytesIO()
    torch.save(tq.state_dict(), buffer)
    other_e = ember.ao.quantization.quantize_dynamic(_mlp(ember))
    other_e.load_state_dict(ember.load(io.BytesIO(buffer.getvalue())))
    numpy.testing.assert_array_equal(other_e(ember.tensor(x)).numpy(), expected)

    buffer = io.BytesIO()
    ember.save(state, buffer)
    again = ember.ao.quantization.quantize_dynamic(_mlp(ember))
    again.load_state_dict(ember.load(io.BytesIO(buffer.getvalue())))
    numpy.testing.assert_array_equal(again(ember.tensor(x)).numpy(), expected)


def test_quantized_models_copy_and_pickle():
    import copy
    import pickle
    model = ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(ember.nn.Linear(3, 2), ember.nn.LSTM(2, 2)))
    x = ember.randn(4, 1, 3)
    for clone in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        numpy.testing.assert_array_equal(clone(x)[0].numpy(), model(x)[0].numpy())


def test_inplace_and_unmapped_layers():
    model = _mlp(ember)
    with pytest.warns(DeprecationWarning, match="torch.ao.quantization is deprecated"):
        out = ember.ao.quantization.quantize_dynamic(model, inplace=True)
    assert out is model and type(model[0]) is ember.ao.nn.quantized.dynamic.Linear
    quantized = ember.ao.quantization.quantize_dynamic(
        ember.nn.Sequential(ember.nn.Conv1d(4, 4, 1), ember.nn.Linear(4, 2)), {ember.nn.Conv1d, ember.nn.Linear})
    assert type(quantized[0]) is ember.nn.Conv1d   # no dynamic counterpart, in torch either


def test_misuse_errors_match_torch():
    cases = [lambda lib: lib.ao.quantization.quantize_dynamic(_mlp(lib), dtype=lib.int8),
             lambda lib: lib.ao.quantization.quantize_dynamic(_mlp(lib), {lib.nn.Linear}, dtype=lib.int8),
             lambda lib: lib.ao.quantization.QConfig(activation=lib.ao.quantization.MinMaxObserver(),
                                                     weight=lib.ao.quantization.default_weight_observer),
             lambda lib: lib.ao.nn.quantized.dynamic.Linear.from_float(lib.nn.Linear(2, 2)),
             lambda lib: lib.ao.nn.quantized.dynamic.Linear(2, 2, dtype=lib.quint8),
             lambda lib: lib.ao.quantization.quantize_dynamic(_mlp(lib))(lib.ones(20))]
    for case in cases:
        with pytest.raises(Exception) as expected:
            case(torch)
        with pytest.raises(type(expected.value)) as got:
            case(ember)
        assert str(got.value).replace("ember", "torch") == str(expected.value)


def test_dynamic_linear_constructed_directly():
    layer_t = torch.ao.nn.quantized.dynamic.Linear(3, 2)
    layer_e = ember.ao.nn.quantized.dynamic.Linear(3, 2)
    assert repr(layer_e).replace("ember", "torch") == repr(layer_t)
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())   # torch's weight is uninitialized memory
    assert layer_e(ember.ones(2, 3)).tolist() == [[0.0, 0.0], [0.0, 0.0]]


RNN_OPTIONS = [{}, dict(num_layers=2), dict(bidirectional=True), dict(num_layers=2, bidirectional=True,
                                                                        batch_first=True)]


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("options", RNN_OPTIONS, ids=["plain", "layers", "bidirectional", "all"])
def test_recurrent_layers_against_torch(mode, options):
    """The gates' sigmoid/tanh come from different libm code than torch's, so outputs agree to a few ulps; the
    quantized projections themselves are bit-equal (tested on Linear)."""
    def build(lib):
        return lib.nn.Sequential(getattr(lib.nn, mode)(6, 5, **options))
    torch_model, ember_model = _pair(build)
    tq = torch.ao.quantization.quantize_dynamic(torch_model, {getattr(torch.nn, mode)})
    eq = ember.ao.quantization.quantize_dynamic(ember_model, {getattr(ember.nn, mode)})
    assert type(eq[0]) is getattr(ember.nn.quantized.dynamic, mode)
    assert repr(eq).replace("ember", "torch") == repr(tq)
    rng = numpy.random.default_rng(4)
    layers = options.get("num_layers", 1) * (2 if options.get("bidirectional") else 1)
    x = rng.standard_normal((4, 3, 6)).astype(numpy.float32)
    h0 = rng.standard_normal((layers, 4 if options.get("batch_first") else 3, 5)).astype(numpy.float32)
    hidden_t = (torch.from_numpy(h0), torch.from_numpy(h0 * 0.5)) if mode == "LSTM" else torch.from_numpy(h0)
    hidden_e = (ember.tensor(h0), ember.tensor(h0 * 0.5)) if mode == "LSTM" else ember.tensor(h0)
    for args_t, args_e in [((torch.from_numpy(x),), (ember.tensor(x),)),
                           ((torch.from_numpy(x), hidden_t), (ember.tensor(x), hidden_e))]:
        out_t, state_t = tq[0](*args_t)
        out_e, state_e = eq[0](*args_e)
        numpy.testing.assert_allclose(out_e.numpy(), out_t.detach().numpy(), rtol=0, atol=3e-7)
        for got, expected in zip(state_e if mode == "LSTM" else [state_e], state_t if mode == "LSTM" else [state_t]):
            numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=0, atol=3e-7)
    weights_t, weights_e = tq[0].get_weight(), eq[0].get_weight()
    assert list(weights_e) == list(weights_t)
    for name in weights_t:
        assert repr(weights_e[name]).replace("ember", "torch") == repr(weights_t[name])


def test_recurrent_errors_and_state_dict_round_trip():
    model = ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(ember.nn.LSTM(6, 5)))
    torch_model = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(torch.nn.LSTM(6, 5)))
    for args in [lambda lib: (lib.ones(4, 6),), lambda lib: (lib.ones(4, 3, 7),),
                 lambda lib: (lib.ones(4, 3, 6), (lib.zeros(1, 2, 5), lib.zeros(1, 3, 5)))]:
        with pytest.raises(RuntimeError) as expected:
            torch_model[0](*args(torch))
        with pytest.raises(RuntimeError) as got:
            model[0](*args(ember))
        assert str(got.value) == str(expected.value)
    buffer = io.BytesIO()
    ember.save(model.state_dict(), buffer)
    other = ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(ember.nn.LSTM(6, 5)))
    other.load_state_dict(ember.load(io.BytesIO(buffer.getvalue()), weights_only=False))   # ScriptObjects
    x = ember.randn(4, 3, 6)
    numpy.testing.assert_array_equal(other(x)[0].numpy(), model(x)[0].numpy())


@pytest.mark.parametrize("mode", ["LSTM", "GRU"])
@pytest.mark.parametrize("options", RNN_OPTIONS[1:], ids=["layers", "bidirectional", "all"])
def test_recurrent_layers_on_packed_sequences(mode, options):
    def build(lib):
        return lib.nn.Sequential(getattr(lib.nn, mode)(6, 5, **options))
    torch_model, ember_model = _pair(build)
    tq = torch.ao.quantization.quantize_dynamic(torch_model, {getattr(torch.nn, mode)})[0]
    eq = ember.ao.quantization.quantize_dynamic(ember_model, {getattr(ember.nn, mode)})[0]
    batch_first = options.get("batch_first", False)
    rng = numpy.random.default_rng(5)
    x = rng.standard_normal((3, 5, 6) if batch_first else (5, 3, 6)).astype(numpy.float32)
    lengths = [2, 5, 3]
    packed_t = torch.nn.utils.rnn.pack_padded_sequence(torch.from_numpy(x), torch.tensor(lengths),
                                                       batch_first=batch_first, enforce_sorted=False)
    packed_e = ember.nn.utils.rnn.pack_padded_sequence(ember.tensor(x), ember.tensor(lengths),
                                                       batch_first=batch_first, enforce_sorted=False)
    out_t, state_t = tq(packed_t)
    out_e, state_e = eq(packed_e)
    assert type(out_e) is ember.nn.utils.rnn.PackedSequence
    numpy.testing.assert_array_equal(out_e.batch_sizes.numpy(), out_t.batch_sizes.numpy())
    numpy.testing.assert_allclose(out_e.data.numpy(), out_t.data.detach().numpy(), rtol=0, atol=3e-7)
    for got, expected in zip(state_e if mode == "LSTM" else [state_e], state_t if mode == "LSTM" else [state_t]):
        numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=0, atol=3e-7)


def test_linear_is_bit_equal_over_random_shapes_scales_and_schemes():
    """Sizes on and off the kernels' vector widths, weights and inputs over many magnitudes, with and without bias,
    per-tensor and per-channel weights: every output equal to torch's."""
    rng = numpy.random.default_rng(11)
    for trial in range(60):
        K, N, M = int(rng.integers(1, 200)), int(rng.integers(1, 130)), int(rng.integers(1, 20))
        bias, per_channel = bool(rng.random() < 0.8), bool(rng.random() < 0.4)
        torch.manual_seed(trial)
        linear_t = torch.nn.Linear(K, N, bias=bias)
        with torch.no_grad():
            linear_t.weight.mul_(float(rng.uniform(0.01, 100)))
        linear_e = ember.nn.Linear(K, N, bias=bias)
        _copy_weights(linear_t, linear_e)
        name = "per_channel_dynamic_qconfig" if per_channel else "default_dynamic_qconfig"
        tq = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(linear_t),
                                                    {torch.nn.Linear: getattr(torch.ao.quantization, name)})
        eq = ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(linear_e),
                                                    {ember.nn.Linear: getattr(ember.ao.quantization, name)})
        x = (rng.standard_normal((M, K)) * rng.uniform(1e-3, 1e3) + rng.uniform(-5, 5) * rng.random()).astype(
            numpy.float32)
        numpy.testing.assert_array_equal(eq(ember.tensor(x)).detach().numpy(),
                                         tq(torch.from_numpy(x)).detach().numpy())


@pytest.mark.parametrize("mode", ["LSTMCell", "GRUCell", "RNNCell"])
def test_recurrent_cells_against_torch(mode):
    extra = [{}, {"nonlinearity": "relu"}] if mode == "RNNCell" else [{}]
    for options in extra:
        torch_model, ember_model = _pair(lambda lib: lib.nn.Sequential(getattr(lib.nn, mode)(6, 5, **options)))
        tq = torch.ao.quantization.quantize_dynamic(torch_model)
        eq = ember.ao.quantization.quantize_dynamic(ember_model)
        assert type(eq[0]) is getattr(ember.nn.quantized.dynamic, mode)
        assert repr(eq).replace("ember", "torch") == repr(tq)
        rng = numpy.random.default_rng(6)
        x, h = rng.standard_normal((3, 6)).astype(numpy.float32), rng.standard_normal((3, 5)).astype(numpy.float32)
        if mode == "LSTMCell":
            pairs = [(tq[0](torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(h * 2))),
                      eq[0](ember.tensor(x), (ember.tensor(h), ember.tensor(h * 2)))),
                     (tq[0](torch.from_numpy(x)), eq[0](ember.tensor(x)))]
            pairs = [(t, e) for pt, pe in pairs for t, e in zip(pt, pe)]
        else:
            pairs = [(tq[0](torch.from_numpy(x), torch.from_numpy(h)), eq[0](ember.tensor(x), ember.tensor(h))),
                     (tq[0](torch.from_numpy(x)), eq[0](ember.tensor(x)))]
        for expected, got in pairs:
            numpy.testing.assert_allclose(got.numpy(), expected.detach().numpy(), rtol=0, atol=3e-7)
        weights_t, weights_e = tq[0].get_weight(), eq[0].get_weight()
        assert repr(weights_e["weight_ih"]).replace("ember", "torch") == repr(weights_t["weight_ih"])
    with pytest.raises(RuntimeError) as expected:
        tq[0](torch.ones(3, 7))
    with pytest.raises(RuntimeError) as got:
        eq[0](ember.ones(3, 7))
    assert str(got.value) == str(expected.value)
    buffer = io.BytesIO()
    ember.save(eq.state_dict(), buffer)
    other = ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(getattr(ember.nn, mode)(6, 5, **options)))
    other.load_state_dict(ember.load(io.BytesIO(buffer.getvalue()), weights_only=False))
    first = other[0](ember.tensor(x))
    numpy.testing.assert_array_equal((first[0] if mode == "LSTMCell" else first).numpy(),
                                     (eq[0](ember.tensor(x))[0] if mode == "LSTMCell" else eq[0](ember.tensor(x)))
                                     .numpy())


@pytest.mark.parametrize("mode", ["Linear", "LSTM", "GRU", "LSTMCell", "GRUCell", "RNNCell"])
def test_float16_dynamic_quantization(mode):
    def build(lib):
        layer = getattr(lib.nn, mode)
        return lib.nn.Sequential(layer(6, 5, num_layers=2, bidirectional=True) if mode == "LSTM" else layer(6, 5))
    torch_model, ember_model = _pair(build)
    tq = torch.ao.quantization.quantize_dynamic(torch_model, {getattr(torch.nn, mode)}, dtype=torch.float16)
    eq = ember.ao.quantization.quantize_dynamic(ember_model, {getattr(ember.nn, mode)}, dtype=ember.float16)
    assert repr(eq).replace("ember", "torch") == repr(tq)
    shape = (3, 6) if mode in ("Linear", "LSTMCell", "GRUCell", "RNNCell") else (4, 3, 6)
    x = numpy.random.default_rng(7).standard_normal(shape).astype(numpy.float32)
    expected, got = tq(torch.from_numpy(x)), eq(ember.tensor(x))
    expected, got = (expected[0], got[0]) if isinstance(expected, tuple) else (expected, got)
    numpy.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=0, atol=3e-7)


@pytest.mark.parametrize("per_channel", [False, True])
def test_affine_weight_observers(per_channel):
    """Weights with nonzero zero points (affine observers): the exact integer sum of (x_q - x_zp)(w_q - w_zp)."""
    rng = numpy.random.default_rng(3)
    for trial in range(10):
        K, N = int(rng.integers(1, 100)), int(rng.integers(1, 50))
        torch.manual_seed(trial)
        linear_t = torch.nn.Linear(K, N)
        with torch.no_grad():
            linear_t.weight.add_(float(rng.uniform(-0.5, 0.5)))
        linear_e = ember.nn.Linear(K, N)
        _copy_weights(linear_t, linear_e)

        def qconfig(lib):
            q = lib.ao.quantization
            weight = q.PerChannelMinMaxObserver.with_args(dtype=lib.qint8, qscheme=lib.per_channel_affine) \
                if per_channel else q.MinMaxObserver.with_args(dtype=lib.qint8)
            return q.QConfig(activation=q.default_dynamic_quant_observer, weight=weight)
        tq = torch.ao.quantization.quantize_dynamic(torch.nn.Sequential(linear_t), {torch.nn.Linear: qconfig(torch)})
        eq = ember.ao.quantization.quantize_dynamic(ember.nn.Sequential(linear_e), {ember.nn.Linear: qconfig(ember)})
        x = (rng.standard_normal((5, K)) * 3).astype(numpy.float32)
        numpy.testing.assert_array_equal(eq(ember.tensor(x)).detach().numpy(),
                                         tq(torch.from_numpy(x)).detach().numpy())


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "LSTMCell", "GRUCell", "RNNCell"])
def test_recurrent_state_dicts_move_between_torch_and_ember(mode):
    """Both save TorchScript-class packed parameters (``ScriptObject``): weights-only loads refuse them (in PyTorch
    too), full loads read them in either direction."""
    def build(lib):
        layer = getattr(lib.nn, mode)
        return lib.nn.Sequential(layer(6, 5, num_layers=2, bidirectional=True) if mode == "LSTM" else layer(6, 5))
    torch.manual_seed(0)
    tq = torch.ao.quantization.quantize_dynamic(build(torch), {getattr(torch.nn, mode)})
    eq = ember.ao.quantization.quantize_dynamic(build(ember), {getattr(ember.nn, mode)})
    buffer = io.BytesIO()
    torch.save(tq.state_dict(), buffer)
    with pytest.raises(Exception, match="Weights only load failed"):
        ember.load(io.BytesIO(buffer.getvalue()))
    eq.load_state_dict(ember.load(io.BytesIO(buffer.getvalue()), weights_only=False))
    shape = (3, 6) if "Cell" in mode else (4, 3, 6)
    x = numpy.random.default_rng(8).standard_normal(shape).astype(numpy.float32)
    expected, got = tq(torch.from_numpy(x)), eq(ember.tensor(x))
    expected, got = (expected[0], got[0]) if isinstance(expected, tuple) else (expected, got)
    numpy.testing.assert_allclose(got.detach().numpy(), expected.detach().numpy(), rtol=0, atol=3e-7)
    buffer = io.BytesIO()
    ember.save(eq.state_dict(), buffer)
    torch.manual_seed(1)
    other = torch.ao.quantization.quantize_dynamic(build(torch), {getattr(torch.nn, mode)})
    other.load_state_dict(torch.load(io.BytesIO(buffer.getvalue()), weights_only=False))
    again = other(torch.from_numpy(x))
    again = again[0] if isinstance(again, tuple) else again
    numpy.testing.assert_array_equal(again.detach().numpy(), expected.detach().numpy())


def test_dynamic_linear_is_a_static_quantized_linear_as_in_torch():
    assert issubclass(ember.ao.nn.quantized.dynamic.Linear, ember.ao.nn.quantized.Linear)
    assert issubclass(torch.ao.nn.quantized.dynamic.Linear, torch.ao.nn.quantized.Linear)
    layer_e, layer_t = ember.ao.nn.quantized.dynamic.Linear(3, 4), torch.ao.nn.quantized.dynamic.Linear(3, 4)
    assert repr(layer_e).replace("ember", "torch") == repr(layer_t)
    assert list(layer_e.state_dict()) == list(layer_t.state_dict())
