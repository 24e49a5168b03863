"""Sampling calls inside traced code (randn, rand_like, in-place fills, bernoulli, randint) are recorded as calls, so
each run of the trace draws new samples from the global stream as torch.jit.trace's aten::randn & co. do; saved and
exported traces keep drawing."""
import io
import warnings

import numpy
import pytest
import torch

import ember
import ember.jit as jit


def _draws(lib):
    def function(x):
        noise = lib.randn(3) + lib.rand_like(x) + lib.empty(3).normal_(1.0, 2.0) + lib.zeros(3).uniform_(-1, 1)
        coins = lib.bernoulli(lib.full((3,), 0.5)) + lib.randint(0, 10, (3,)).float()
        return x + noise * coins, lib.empty(2).normal_()
    return function


def _torch_trace(function, *inputs):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch 2.13 deprecates torch.jit.trace; tracer warnings
        return torch.jit.trace(function, inputs, check_trace=False)


def test_traced_sampling_draws_again_on_each_run_as_torch_does():
    ember.manual_seed(0)
    torch.manual_seed(0)
    traced = jit.trace(_draws(ember), ember.zeros(3), check_trace=False)
    torch_traced = _torch_trace(_draws(torch), torch.zeros(3))
    ember.manual_seed(1)
    torch.manual_seed(1)
    runs = [traced(ember.zeros(3)) for _ in range(3)]
    torch_runs = [torch_traced(torch.zeros(3)) for _ in range(3)]
    for (got, fill), (want, torch_fill) in zip(runs, torch_runs):
        numpy.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-6, atol=1e-6)
        numpy.testing.assert_array_equal(fill.numpy(), torch_fill.numpy())
    assert not numpy.array_equal(runs[0][0].numpy(), runs[1][0].numpy())
    assert runs[0][1].data_ptr() != runs[1][1].data_ptr()   # a fill of a constant is a fill of a fresh copy
    assert "randn" in str(traced.graph) and "normal_" in str(traced.graph)


def test_traced_sampling_follows_the_input_size():
    def function(x):
        return x + ember.randn_like(x) if isinstance(x, ember.Tensor) else x + torch.randn_like(x)
    traced = jit.trace(function, ember.zeros(2, 3), check_trace=False)
    torch_traced = _torch_trace(function, torch.zeros(2, 3))
    ember.manual_seed(5)
    torch.manual_seed(5)
    numpy.testing.assert_array_equal(traced(ember.zeros(4, 3)).numpy(), torch_traced(torch.zeros(4, 3)).numpy())


def test_saved_trace_keeps_drawing():
    class Noisy(ember.nn.Module):
        def forward(self, x):
            return x + ember.randn(2, 3, dtype=ember.float64, device="cpu")
    traced = jit.trace(Noisy(), ember.zeros(2, 3, dtype=ember.float64), check_trace=False)
    buffer = io.BytesIO()
    jit.save(traced, buffer)
    buffer.seek(0)
    loaded = jit.load(buffer)
    ember.manual_seed(3)
    torch.manual_seed(3)
    first, second = loaded(ember.zeros(2, 3, dtype=ember.float64)), loaded(ember.zeros(2, 3, dtype=ember.float64))
    numpy.testing.assert_array_equal(first.numpy(), torch.randn(2, 3, dtype=torch.float64).numpy())
    numpy.testing.assert_array_equal(second.numpy(), torch.randn(2, 3, dtype=torch.float64).numpy())


def test_exported_sampling_uses_onnx_random_operators(tmp_path):
    onnx = pytest.importorskip("onnx")
    onnxruntime = pytest.importorskip("onnxruntime")

    class Noisy(ember.nn.Module):
        def forward(self, x):
            return x + ember.randn_like(x), ember.rand(2, 3), ember.empty(2, 3).normal_(5.0, 0.5)
    path = tmp_path / "noisy.onnx"
    ember.onnx.export(Noisy(), (ember.zeros(2, 3),), str(path), dynamo=False)
    kinds = {node.op_type for node in onnx.load(str(path)).graph.node}
    assert {"RandomNormalLike", "RandomUniform"} <= kinds
    session = onnxruntime.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    feed = {session.get_inputs()[0].name: numpy.zeros((2, 3), numpy.float32)}
    first, second = session.run(None, feed), session.run(None, feed)
    for a, b in zip(first, second):
        assert a.shape == (2, 3) and not numpy.array_equal(a, b)
    assert ((first[1] >= 0) & (first[1] < 1)).all() and abs(first[2].mean() - 5.0) < 1.5
