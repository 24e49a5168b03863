"""Traced and compiled models over packed sequences replay for other lengths, as torch.jit.trace's do: packing,
the recurrent layer over the packed data and unpacking are recorded with the lengths and batch sizes as inputs."""
import io
import warnings

import numpy
import pytest
import torch

import ember

CASES = [("LSTM", True, False, True), ("GRU", False, True, False), ("RNN", True, True, True),
         ("LSTM", False, False, False)]


def _model(lib, mode, batch_first, enforce_sorted, with_state):
    nn, rnn = lib.nn, lib.nn.utils.rnn

    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = getattr(nn, mode)(3, 4, num_layers=2, bidirectional=True, batch_first=batch_first)

        def forward(self, x, lengths, hx):
            packed = rnn.pack_padded_sequence(x, lengths, batch_first=batch_first, enforce_sorted=enforce_sorted)
            state = None if not with_state else (hx, hx + 1) if mode == "LSTM" else hx
            out, hidden = self.rnn(packed, state)
            padded, out_lengths = rnn.pad_packed_sequence(out, batch_first=batch_first, total_length=6)
            return padded, hidden[0] if mode == "LSTM" else hidden, out_lengths
    return Net()


def _inputs(batch_first, lengths, seed):
    generator = numpy.random.default_rng(seed)
    x = generator.standard_normal((len(lengths), 6, 3) if batch_first else (6, len(lengths), 3)).astype(numpy.float32)
    hx = generator.standard_normal((4, len(lengths), 4)).astype(numpy.float32)
    return x, numpy.array(lengths, numpy.int64), hx


def _pair(case):
    ember.manual_seed(0)
    model = _model(ember, *case)
    reference = _model(torch, *case)
    reference.load_state_dict({k: torch.from_numpy(v.numpy().copy()) for k, v in model.state_dict().items()})
    return model, reference


def _check(run, reference, arrays):
    got = run(*(ember.from_numpy(a.copy()) for a in arrays))
    want = reference(*(torch.from_numpy(a.copy()) for a in arrays))
    for g, w in zip(got, want):
        numpy.testing.assert_allclose(g.detach().numpy(), w.detach().numpy(), rtol=1e-5, atol=1e-6)


@pytest.mark.parametrize("case", CASES)
def test_trace_over_packed_sequences_replays_other_lengths(case):
    model, reference = _pair(case)
    _, batch_first, sorted_lengths, _ = case
    traced = ember.jit.trace(model, tuple(ember.from_numpy(a) for a in _inputs(batch_first, [6, 3, 2], 0)))
    buffer = io.BytesIO()
    ember.jit.save(traced, buffer)
    buffer.seek(0)
    loaded = ember.jit.load(buffer)
    for lengths in ([5, 5, 1], [4, 2, 1]) if sorted_lengths else ([1, 6, 3], [2, 2, 5]):
        arrays = _inputs(batch_first, lengths, sum(lengths))
        _check(traced, reference, arrays)
        _check(loaded, reference, arrays)


def test_traced_packed_gradients_follow_the_new_lengths():
    model, reference = _pair(("LSTM", True, False, True))
    traced = ember.jit.trace(model, tuple(ember.from_numpy(a) for a in _inputs(True, [6, 3, 2], 0)))
    x, lengths, hx = _inputs(True, [2, 6, 4], 1)
    ex, tx = ember.from_numpy(x).requires_grad_(), torch.from_numpy(x).requires_grad_()
    traced(ex, ember.from_numpy(lengths), ember.from_numpy(hx))[0].sum().backward()
    reference(tx, torch.from_numpy(lengths), torch.from_numpy(hx))[0].sum().backward()
    numpy.testing.assert_allclose(ex.grad.numpy(), tx.grad.numpy(), rtol=1e-5, atol=1e-6)
    assert (ex.grad.numpy()[0, 2:] == 0).all()   # the steps past a sequence's length get no gradient


def test_compiled_model_over_packed_sequences_follows_the_lengths():
    model, reference = _pair(("GRU", False, False, True))
    compiled = ember.compile(model)
    for lengths in ([6, 3, 2], [1, 4, 6]):
        _check(compiled, reference, _inputs(False, lengths, len(lengths) + lengths[0]))


def test_tracing_packed_sequences_gives_no_tracer_warning():
    model, _ = _pair(("LSTM", True, False, True))
    with warnings.catch_warnings():
        warnings.simplefilter("error", ember.jit.TracerWarning)
        ember.jit.trace(model, tuple(ember.from_numpy(a) for a in _inputs(True, [6, 3, 2], 0)))


def test_onnx_export_of_a_layer_over_packed_data_names_the_limit():
    pytest.importorskip("onnx")

    class Net(ember.nn.Module):
        def __init__(self):
            super().__init__()
            self.rnn = ember.nn.GRU(3, 4)

        def forward(self, data, batch_sizes):
            return self.rnn(ember.nn.utils.rnn.PackedSequence(data, batch_sizes))[0].data
    with pytest.raises(ember.onnx.errors.UnsupportedOperatorError, match="PackedSequence"):
        ember.onnx.export(Net().eval(), (ember.randn(6, 3), ember.tensor([3, 2, 1])), io.BytesIO())
