"""Whole recurrent layers exported as ONNX's LSTM, GRU and RNN operators, run in onnxruntime against ember."""
import pytest

from ember import nn
from tests.onnx.test_export import _check, _randn

pytest.importorskip("onnxruntime")


@pytest.mark.parametrize("kind,options", [
    ("RNN", {"num_layers": 2, "bidirectional": True}),
    ("RNN", {"nonlinearity": "relu", "bias": False, "batch_first": True}),
    ("LSTM", {"bias": False, "bidirectional": True}),
    ("GRU", {"bias": False, "num_layers": 2}),
])
def test_recurrent_layer_options(kind, options):
    _check(getattr(nn, kind)(4, 5, **options), _randn(3, 2, 4))


@pytest.mark.parametrize("kind", ["LSTM", "GRU", "RNN"])
def test_initial_states_as_inputs(kind):
    layer = getattr(nn, kind)(4, 5, bidirectional=True)
    states = [_randn(2, 2, 5) for _ in range(2 if kind == "LSTM" else 1)]

    class WithState(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = layer

        def forward(self, x, *state):
            return self.rnn(x, tuple(state) if kind == "LSTM" else state[0])
    _check(WithState(), _randn(3, 2, 4), *states)


def test_lstm_with_projection_is_refused():
    import ember.onnx
    with pytest.raises(ember.onnx.OnnxExporterError, match="proj_size"):
        _check(nn.LSTM(4, 5, proj_size=2), _randn(3, 2, 4))
