"""A replayed forward frees each intermediate array once its last reader has run, as eager code does, and takes the
arrays of the tensors it creates from the buffer pool, never handing out one still held."""
import tracemalloc

import numpy
import pytest

import ember
from ember.ops import _buffers


def _chain(x):
    for _ in range(8):
        x = x * 1.5 + 0.5
    return x.sum()


def _peak(function, x):
    """The most memory NumPy held at once during ``function(x)`` beyond what it held before."""
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        tracemalloc.reset_peak()
        function(x)
        return tracemalloc.get_traced_memory()[1] - before
    finally:
        tracemalloc.stop()


@pytest.fixture
def one_thread():
    """One intra-op thread: a busy machine leaves a pool thread holding its last part's arrays a moment longer, in
    eager and replayed code alike, which is not what this test measures."""
    threads = ember.get_num_threads()
    ember.set_num_threads(1)
    yield
    ember.set_num_threads(threads)


def test_intermediates_are_freed_at_their_last_use(monkeypatch, one_thread):
    monkeypatch.setattr(_buffers, "MIN_BYTES", 1 << 40)   # nothing pooled: the arrays' own lifetimes show
    x = ember.randn(256, 1024)   # 1 MB a step's result
    compiled = ember.compile(_chain)
    with ember.no_grad():
        compiled(x)
        compiled(x)   # replayed
        eager, replayed = _peak(_chain, x), _peak(compiled, x)
    assert compiled._ember_compiled.reasons() == []
    assert replayed <= eager + 2 * x.numpy().nbytes   # holding all sixteen intermediates would take 16 MB more


def test_created_tensors_come_from_the_pool_and_are_not_shared(monkeypatch):
    monkeypatch.setattr(_buffers, "MIN_BYTES", 0)
    monkeypatch.setattr(_buffers, "_pool", type(_buffers._pool)())

    def make(x):
        return ember.full((3, 4), 2.0) + x, ember.zeros(5), ember.ones(2, dtype=ember.int8) * 7

    compiled = ember.compile(make)
    x = ember.arange(4.0)
    first = compiled(x)
    kept = [t.numpy().copy() for t in first]
    second = compiled(x)
    third = compiled(x * 2)
    assert compiled._ember_compiled.reasons() == []
    pooled = [block.array for block in _buffers._pool]
    assert any(a is second[1]._data for a in pooled)   # the replay's zeros(5)
    for a, b, c, want in zip(first, second, third, kept):
        assert not numpy.shares_memory(a.numpy(), b.numpy()) and not numpy.shares_memory(b.numpy(), c.numpy())
        numpy.testing.assert_array_equal(a.numpy(), want)
        numpy.testing.assert_array_equal(b.numpy(), want)
    numpy.testing.assert_array_equal(third[0].numpy(), numpy.full((3, 4), 2.0, numpy.float32) + 2 * x.numpy())


def _saving_chain(x):
    for _ in range(8):
        x = (x * 1.01).tanh()   # each tanh keeps its result for backward
    return x.sum()


def test_backward_keeps_what_it_saved_only_when_retained():
    # without retain_graph each op's saved arrays go as soon as its backward has run, as the engine's own do
    compiled = ember.compile(_saving_chain)
    compiled(ember.randn(4, 5, requires_grad=True))
    x = ember.randn(4, 5, requires_grad=True)
    out = compiled(x)
    out.backward(retain_graph=True)
    first = x.grad.numpy().copy()
    out.backward()
    numpy.testing.assert_array_equal(x.grad.numpy(), 2 * first)
    node = out.grad_fn   # the compiled forward's one node
    assert node._kept is None   # released with the graph
    assert compiled._ember_compiled.cache and compiled._ember_compiled.reasons() == []
