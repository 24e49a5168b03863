"""A recurrence's step products of inner dimension up to ``_blas.THREAD_FREE_INNER`` run on OpenBLAS's threads while
the host is not busy and on one while it is (``recurrent_layers._step_threads``): outputs, final states and every
gradient are the same bits either way, and match PyTorch's."""
import numpy
import pytest
import torch

import ember
from ember.ops import _blas

pytestmark = pytest.mark.skipif(_blas._controls() is None, reason="NumPy's OpenBLAS thread controls were not found")


@pytest.fixture
def two_threads():
    before = ember.get_num_threads()
    ember.set_num_threads(2)
    try:
        yield
    finally:
        ember.set_num_threads(before)


@pytest.fixture
def host(monkeypatch):
    """Sets the runnable-task count ``_blas.busy`` reads (three on two cores: busy); the reading is taken afresh."""
    monkeypatch.setattr(_blas.os, "cpu_count", lambda: 2)

    def set_running(count):
        monkeypatch.setattr(_blas, "_running", lambda: count)
        _blas._host["until"] = 0.0
    yield set_running
    _blas._host["until"] = 0.0


def _run(mode, hidden, batch, train, bidirectional, batch_first, dtype):
    """(outputs, states and, where ``train``, the input's and parameters' gradients; the module; the input)."""
    ember.manual_seed(0)
    module = getattr(ember.nn, mode)(12, hidden, num_layers=2, bidirectional=bidirectional, batch_first=batch_first)
    module = module.to(getattr(ember, dtype))
    rng = numpy.random.default_rng(1)
    x = ember.tensor(rng.standard_normal((batch, 9, 12) if batch_first else (9, batch, 12)).astype(dtype),
                     requires_grad=train)
    with ember.set_grad_enabled(train):
        output, state = module(x)
    states = state if isinstance(state, tuple) else (state,)
    arrays = [output.detach().numpy().copy(), *(s.detach().numpy().copy() for s in states)]
    if train:
        (output.square().sum() + sum(s.sum() for s in states)).backward()
        arrays += [x.grad.numpy().copy(), *(p.grad.numpy().copy() for p in module.parameters())]
    return arrays, module, x


@pytest.mark.parametrize("mode", ["GRU", "LSTM"])
@pytest.mark.parametrize("hidden, batch", [(128, 100), (128, 3), (256, 8), (64, 1)])
@pytest.mark.parametrize("train", [False, True])
def test_busy_and_quiet_host_give_the_same_bits(mode, hidden, batch, train, host, two_threads):
    results = []
    for running in (1, 3):   # quiet, then busy
        host(running)
        results.append(_run(mode, hidden, batch, train, False, True, "float32")[0])
    for quiet, busy in zip(*results):
        numpy.testing.assert_array_equal(quiet, busy)


@pytest.mark.parametrize("mode", ["GRU", "LSTM"])
@pytest.mark.parametrize("hidden, batch, bidirectional, batch_first, dtype", [
    (128, 100, False, True, "float32"), (128, 1, True, False, "float64"), (256, 5, False, False, "float32")])
@pytest.mark.parametrize("running", [1, 3])
def test_matches_torch(mode, hidden, batch, bidirectional, batch_first, dtype, running, host, two_threads):
    host(running)
    arrays, module, x = _run(mode, hidden, batch, True, bidirectional, batch_first, dtype)
    reference = getattr(torch.nn, mode)(12, hidden, num_layers=2, bidirectional=bidirectional,
                                        batch_first=batch_first).to(getattr(torch, dtype))
    reference.load_state_dict({k: torch.from_numpy(v.detach().numpy().copy()) for k, v in
                               module.state_dict().items()})
    x_torch = torch.from_numpy(x.detach().numpy().copy()).requires_grad_()
    output, state = reference(x_torch)
    states = state if isinstance(state, tuple) else (state,)
    (output.square().sum() + sum(s.sum() for s in states)).backward()
    expected = [output.detach().numpy(), *(s.detach().numpy() for s in states), x_torch.grad.numpy(),
                *(p.grad.numpy() for p in reference.parameters())]
    tolerance = {"float32": dict(rtol=2e-4, atol=2e-5), "float64": dict(rtol=1e-10, atol=1e-12)}[dtype]
    for got, want in zip(arrays, expected):
        numpy.testing.assert_allclose(got, want, **tolerance)
    with ember.no_grad():   # the evaluation path (no gradients) beside PyTorch's too
        output = module(x.detach())[0].numpy()
    with torch.no_grad():
        numpy.testing.assert_allclose(output, reference(x_torch.detach())[0].numpy(), **tolerance)
