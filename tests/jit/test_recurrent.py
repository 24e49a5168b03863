"""Recurrent layers and cells under trace and script: one aten::lstm/gru/rnn_* node, against eager ember and
torch.jit.script on the same weights, at other batch and sequence lengths; scripted code follows train()/eval()."""
import io
import warnings

import numpy
import pytest
import torch

import ember
import ember.jit as jit
from tests.jit.models import copy_weights


def classifier(nn, mode, **options):
    """A recurrent encoder, the last step's features, a linear head and a batch norm (training-dependent)."""
    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, mode)(4, 6, **options)
            self.head = nn.Linear(6 * (2 if options.get("bidirectional") else 1), 3)
            self.norm = nn.BatchNorm1d(3)

        def forward(self, x):
            out, _ = self.rnn(x)
            last = out[:, -1] if self.rnn.batch_first else out[-1]
            return self.norm(self.head(last))
    return Classifier()


def _torch_script(module):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch 2.13 deprecates torch.jit.script
        return torch.jit.script(module)


def _pair(mode, **options):
    model = classifier(ember.nn, mode, **options)
    for parameter in model.norm.parameters():
        parameter.data.uniform_(0.5, 1.5)
    return model, copy_weights(model, classifier(torch.nn, mode, **options))


CONFIGS = [("LSTM", {"num_layers": 2, "batch_first": True, "bidirectional": True}), ("GRU", {"num_layers": 2}),
           ("RNN", {"nonlinearity": "relu", "bidirectional": True, "bias": False})]


@pytest.mark.parametrize("mode, options", CONFIGS)
def test_script_matches_eager_and_torch_script_in_both_modes(mode, options):
    model, reference = _pair(mode, **options)
    scripted, expected_script = jit.script(model), _torch_script(reference)
    model.eval()
    assert f"aten::{mode.lower() if mode != 'RNN' else 'rnn_relu'}" in str(scripted.graph)
    for mode_name in ("eval", "train", "eval"):   # switched after scripting, as TorchScript's modules are
        for module in (scripted, expected_script):
            getattr(module, mode_name)()
        for batch, length in ((3, 5), (4, 2)):
            x = numpy.random.randn(*((batch, length) if options.get("batch_first") else (length, batch)),
                                   4).astype(numpy.float32)
            got = scripted(ember.from_numpy(x)).detach().numpy()
            if mode_name == "eval":   # (in train mode eager would move the running statistics scripted shares)
                eager = model(ember.from_numpy(x)).detach().numpy()
                numpy.testing.assert_allclose(got, eager, rtol=1e-5, atol=1e-6)
            expected = expected_script(torch.from_numpy(x)).detach().numpy()
            numpy.testing.assert_allclose(got, expected, rtol=1e-4, atol=1e-5)
    # running statistics moved in train mode exactly as torch's scripted module moved them
    numpy.testing.assert_allclose(scripted.norm.running_mean.numpy(), expected_script.norm.running_mean.numpy(),
                                  rtol=1e-4, atol=1e-6)
    assert int(scripted.norm.num_batches_tracked) == int(expected_script.norm.num_batches_tracked) == 2


def test_scripted_dropout_follows_the_mode_and_freeze_folds_it():
    model = ember.nn.Sequential(ember.nn.Linear(8, 8), ember.nn.Dropout(0.5)).eval()
    scripted = jit.script(model)
    x = ember.randn(4, 8)
    with ember.no_grad():
        numpy.testing.assert_array_equal(scripted(x).numpy(), model(x).numpy())
        scripted.train()
        assert (scripted(x).numpy() == 0).any() and not (model(x).numpy() == 0).any()
        frozen = jit.freeze(scripted.eval())
        assert "prim::If" not in str(frozen.graph) and "training" not in str(frozen.graph)
        numpy.testing.assert_array_equal(frozen(x).numpy(), model(x).numpy())


@pytest.mark.parametrize("mode, options", CONFIGS)
def test_trace_records_one_node_and_generalizes_over_lengths(mode, options):
    model, reference = _pair(mode, **options)
    model.eval(), reference.eval()
    shape = (2, 3, 4) if options.get("batch_first") else (3, 2, 4)
    traced = jit.trace(model, ember.randn(*shape))
    kind = f"aten::{mode.lower() if mode != 'RNN' else 'rnn_relu'}("
    assert str(traced.graph).count(kind) == 1 and "LSTMStep" not in str(traced.graph)
    buffer = io.BytesIO()
    jit.save(traced, buffer)
    buffer.seek(0)
    loaded = jit.load(buffer)
    x = numpy.random.randn(6, 5, 4).astype(numpy.float32)
    expected = reference(torch.from_numpy(x)).detach().numpy()
    for module in (traced, loaded):
        numpy.testing.assert_allclose(module(ember.from_numpy(x)).detach().numpy(), expected, rtol=1e-4, atol=1e-5)


def test_scripted_lstm_trains_like_eager():
    model = classifier(ember.nn, "LSTM", num_layers=2)
    scripted = jit.script(model)
    x = ember.randn(5, 3, 4)
    model(x).square().sum().backward()
    eager = [p.grad.numpy().copy() for p in model.parameters()]
    model.zero_grad()
    scripted(x).square().sum().backward()
    for got, expected in zip([p.grad.numpy() for p in model.parameters()], eager):
        numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("cell", ["LSTMCell", "GRUCell", "RNNCell"])
def test_cells_script_and_trace(cell):
    module = getattr(ember.nn, cell)(4, 5)
    reference = copy_weights(module, getattr(torch.nn, cell)(4, 5))
    x, h = numpy.random.randn(3, 4).astype(numpy.float32), numpy.random.randn(3, 5).astype(numpy.float32)
    state = (ember.from_numpy(h), ember.from_numpy(h * 2)) if cell == "LSTMCell" else ember.from_numpy(h)
    expected = reference(torch.from_numpy(x), (torch.from_numpy(h), torch.from_numpy(h * 2)) if cell == "LSTMCell"
                         else torch.from_numpy(h))
    expected = [t.detach().numpy() for t in (expected if isinstance(expected, tuple) else (expected,))]
    traced = jit.trace_module(module, {"forward": (ember.from_numpy(x), state)})
    for compiled in (jit.script(module), traced):
        got = compiled(ember.from_numpy(x), state)
        for g, e in zip(got if isinstance(got, tuple) else (got,), expected):
            numpy.testing.assert_allclose(g.detach().numpy(), e, rtol=1e-5, atol=1e-6)


def test_scripted_layer_takes_its_initial_state_or_none():
    layer = ember.nn.LSTM(4, 5, num_layers=2)
    scripted = jit.script(layer)
    x, state = ember.randn(3, 2, 4), (ember.randn(2, 2, 5), ember.randn(2, 2, 5))
    for args in ((x,), (x, state)):
        got, expected = scripted(*args), layer(*args)
        for g, e in zip([got[0], *got[1]], [expected[0], *expected[1]]):
            numpy.testing.assert_allclose(g.detach().numpy(), e.detach().numpy(), rtol=1e-6, atol=1e-7)
