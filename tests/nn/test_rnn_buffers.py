"""The recurrent layers' large arrays come from the buffer pool (``ops/_buffers.py``): results stay bit-equal to
fresh arrays, and an array still held (an output, a gradient, a graph's saved state) is never handed out again."""
import numpy
import pytest

import ember
from ember.ops import _buffers


def _step(module, x, train):
    """Outputs, final states and (when training) the input's and parameters' gradients, as arrays."""
    module.zero_grad()
    x = ember.tensor(x, requires_grad=train)
    with ember.set_grad_enabled(train):
        output, state = module(x)
    parts = [output] + (list(state) if isinstance(state, tuple) else [state])
    if train:
        sum(p.square().sum() for p in parts).backward()
        parts += [x.grad] + [p.grad for p in module.parameters()]
    return [p.detach().numpy() for p in parts]


@pytest.mark.parametrize("mode", ["LSTM", "GRU", "RNN"])
@pytest.mark.parametrize("extra", [{}, {"bidirectional": True, "batch_first": True}, {"proj_size": 6},
                                   {"hidden_size": 300}])
@pytest.mark.parametrize("train", [True, False])
def test_pooled_arrays_are_bit_equal_and_not_reused_while_held(mode, extra, train, monkeypatch):
    if "proj_size" in extra and mode != "LSTM":
        pytest.skip("proj_size is an LSTM option")
    extra = {"hidden_size": 12, **extra}
    ember.manual_seed(0)
    module = getattr(ember.nn, mode)(8, num_layers=2, **extra)
    rng = numpy.random.default_rng(0)
    first, second = (rng.standard_normal((5, 3, 8), dtype=numpy.float32) for _ in range(2))
    fresh = [_step(module, x, train) for x in (first, second)]
    monkeypatch.setattr(_buffers, "MIN_BYTES", 0)   # pool every array, however small
    monkeypatch.setattr(_buffers, "_pool", type(_buffers._pool)())
    held = _step(module, first, train)
    views = [ember.tensor(a) for a in held]   # the arrays themselves, still referred to
    again = _step(module, second, train)
    for mine, reference in zip(held + again, fresh[0] + fresh[1]):
        numpy.testing.assert_array_equal(mine, reference)
    assert all(numpy.array_equal(v.numpy(), a) for v, a in zip(views, held))
    assert _buffers._pool   # the layers did take their arrays from the pool


def test_cat_pools_a_large_result(monkeypatch):
    """``Cat`` takes a large result from the pool (a bidirectional module joins its directions every call): same
    values, and a result still held is not handed out again."""
    monkeypatch.setattr(_buffers, "MIN_BYTES", 0)
    monkeypatch.setattr(_buffers, "_pool", type(_buffers._pool)())
    a, b = ember.arange(6.0).reshape(2, 3), ember.ones(2, 2)
    first = ember.cat([a, b], 1)
    second = ember.cat([b, a], 1)
    assert _buffers._pool and first._data is not second._data
    numpy.testing.assert_array_equal(first.numpy(), numpy.concatenate([a.numpy(), b.numpy()], 1))
    numpy.testing.assert_array_equal(second.numpy(), numpy.concatenate([b.numpy(), a.numpy()], 1))
