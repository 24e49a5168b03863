"""Recurrent layers and cells exported as ONNX LSTM/GRU/RNN ops: any batch and sequence length in onnxruntime,
against eager ember and against torch.onnx's export of the same weights (outputs, shapes, op types)."""
import io
import warnings

import numpy
import pytest
import torch

import ember
import ember.nn as nn
import ember.onnx
from tests.jit.models import copy_weights

onnx = pytest.importorskip("onnx")
ort = pytest.importorskip("onnxruntime")

CONFIGS = [("LSTM", {"num_layers": 2, "batch_first": True, "bidirectional": True}), ("GRU", {"num_layers": 2}),
           ("GRU", {"bidirectional": True, "bias": False}), ("RNN", {"nonlinearity": "relu", "num_layers": 2}),
           ("RNN", {"batch_first": True, "bidirectional": True})]
AXES = {"x": {0: "batch", 1: "sequence"}}


def _session(data):
    return ort.InferenceSession(data, providers=["CPUExecutionProvider"])


def _torch_export(model, args, **options):
    buffer = io.BytesIO()
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(model, args, buffer, dynamo=False, **options)
    return buffer.getvalue()


@pytest.mark.parametrize("mode, options", CONFIGS)
def test_layers_take_any_batch_and_length_and_match_torch_onnx(mode, options):
    layer = getattr(nn, mode)(4, 5, **options).eval()
    reference = copy_weights(layer, getattr(torch.nn, mode)(4, 5, **options)).eval()
    names = {"input_names": ["x"], "output_names": ["y", "h", "c"][:3 if mode == "LSTM" else 2],
             "dynamic_axes": AXES}
    buffer = io.BytesIO()
    proto = ember.onnx.export(layer, (ember.randn(2, 3, 4),), buffer, **names).model_proto
    ops = [node.op_type for node in proto.graph.node]
    assert ops.count(mode) == options.get("num_layers", 1) and "Loop" not in ops
    ours, theirs = _session(buffer.getvalue()), _session(_torch_export(reference, (torch.randn(2, 3, 4),), **names))
    assert [o.name for o in ours.get_outputs()] == [o.name for o in theirs.get_outputs()]
    for shape in ((2, 3, 4), (5, 9, 4), (1, 1, 4)):
        x = numpy.random.randn(*shape).astype(numpy.float32)
        got, expected = ours.run(None, {"x": x}), theirs.run(None, {"x": x})
        with ember.no_grad():
            out, state = layer(ember.from_numpy(x))
        eager = [out] + (list(state) if mode == "LSTM" else [state])
        for g, t, e in zip(got, expected, eager):
            assert g.shape == t.shape == tuple(e.shape)
            numpy.testing.assert_allclose(g, e.numpy(), rtol=1e-4, atol=1e-5)
            numpy.testing.assert_allclose(g, t, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("folding", [True, False])
def test_classifier_with_initial_state_and_weights_as_inputs(folding):
    class Classifier(nn.Module):
        def __init__(self):
            super().__init__()
            self.lstm = nn.LSTM(4, 6, num_layers=2, bidirectional=True)
            self.head = nn.Linear(12, 3)

        def forward(self, x, h, c):
            out, _ = self.lstm(x, (h, c))
            return self.head(out[-1])
    model = Classifier().eval()
    args = [numpy.random.randn(*s).astype(numpy.float32) for s in ((7, 3, 4), (4, 3, 6), (4, 3, 6))]
    buffer = io.BytesIO()
    ember.onnx.export(model, tuple(ember.from_numpy(a) for a in args), buffer, input_names=["x", "h", "c"],
                      do_constant_folding=folding, export_params=folding,
                      dynamic_axes={"x": [0, 1], "h": [1], "c": [1]})
    session = _session(buffer.getvalue())
    feed = dict(zip(["x", "h", "c"], args))
    if not folding:   # the weights are graph inputs, fed by name
        feed.update({name: tensor.detach().numpy() for name, tensor in model.state_dict().items()
                     if name in {i.name for i in session.get_inputs()}})
    with ember.no_grad():
        expected = model(*[ember.from_numpy(a) for a in args]).numpy()
    numpy.testing.assert_allclose(session.run(None, feed)[0], expected, rtol=1e-4, atol=1e-5)


@pytest.mark.parametrize("cell", ["LSTMCell", "GRUCell", "RNNCell"])
@pytest.mark.parametrize("shape", [(3, 4), (4,)])
def test_cells(cell, shape):
    module = getattr(nn, cell)(4, 5)
    x = numpy.random.randn(*shape).astype(numpy.float32)
    buffer = io.BytesIO()
    ember.onnx.export(module, (ember.from_numpy(x),), buffer, input_names=["x"])
    got = _session(buffer.getvalue()).run(None, {"x": x})
    with ember.no_grad():
        expected = module(ember.from_numpy(x))
    for g, e in zip(got, expected if isinstance(expected, tuple) else (expected,)):
        numpy.testing.assert_allclose(g, e.numpy(), rtol=1e-4, atol=1e-5)


def test_projections_are_refused_naming_the_module():
    class Projected(nn.Module):
        def __init__(self):
            super().__init__()
            self.encoder = nn.LSTM(4, 6, proj_size=3)

        def forward(self, x):
            return self.encoder(x)[0]
    with pytest.raises(ember.onnx.errors.UnsupportedOperatorError, match="proj_size.*'encoder'"):
        ember.onnx.export(Projected(), (ember.randn(3, 2, 4),), io.BytesIO())


def test_a_traced_cell_with_a_state_tuple_exports_flat_inputs():
    cell = nn.LSTMCell(4, 5)
    x, h, c = (numpy.random.randn(*s).astype(numpy.float32) for s in ((3, 4), (3, 5), (3, 5)))
    state = (ember.from_numpy(h), ember.from_numpy(c))
    traced = ember.jit.trace(cell, (ember.from_numpy(x), state))
    buffer = io.BytesIO()
    ember.onnx.export(traced, (ember.from_numpy(x), state), buffer, input_names=["x", "h", "c"],
                      dynamic_axes={"x": [0], "h": [0], "c": [0]})
    session = _session(buffer.getvalue())
    assert [i.name for i in session.get_inputs()] == ["x", "h", "c"]
    batch = [numpy.concatenate([a, a]) for a in (x, h, c)]
    got = session.run(None, dict(zip(["x", "h", "c"], batch)))
    with ember.no_grad():
        expected = cell(ember.from_numpy(batch[0]), (ember.from_numpy(batch[1]), ember.from_numpy(batch[2])))
    for g, e in zip(got, expected):
        numpy.testing.assert_allclose(g, e.numpy(), rtol=1e-4, atol=1e-5)
