"""The samplers that run on the intra-op thread pool give the same values at every thread count: each equal to the
one-thread result and to PyTorch's, bit for bit, at sizes around the blocks the words are drawn in."""
import threading

import numpy
import pytest
import torch

import ember
from ember.ops import _samplers
from ember.ops._drawing import draw_blocks
from tests import oracle

WORDS = 2 * _samplers._CHUNK     # words per Box-Muller block
VALUES = _samplers._BLOCK        # values per block of the other samplers
NORMAL_SIZES = (WORDS - 1, WORDS + 16, WORDS + 17, 3 * WORDS - 5, 4 * WORDS)
OTHER_SIZES = (VALUES - 1, VALUES + 1, 3 * VALUES + 7)


@pytest.fixture
def threads():
    before = ember.get_num_threads()
    yield
    ember.set_num_threads(before)


def _bits(array):
    array = oracle.as_numpy(array) if isinstance(array, ember.Tensor) else array.numpy()
    return array.view(numpy.dtype(f"u{array.dtype.itemsize}"))


def _runs(make, sizes, seed=5):
    """``make(lib, n)`` in ember at 1, 2 and 3 threads and in PyTorch; each ember run equals the one-thread run and
    PyTorch's, and leaves the generator in PyTorch's state."""
    for n in sizes:
        torch.manual_seed(seed)
        expected, expected_state = _bits(make(torch, n)), torch.get_rng_state().numpy()
        serial = None
        for count in (1, 2, 3):
            ember.set_num_threads(count)
            ember.manual_seed(seed)
            got = _bits(make(ember, n))
            serial = got if serial is None else serial
            numpy.testing.assert_array_equal(got, serial, err_msg=f"{count} threads against 1, size {n}")
            numpy.testing.assert_array_equal(got, expected, err_msg=f"{count} threads against torch, size {n}")
            numpy.testing.assert_array_equal(oracle.as_numpy(ember.get_rng_state()), expected_state)


@pytest.mark.parametrize("dtype", ("float32", "float16"))
def test_randn_and_normal_(threads, dtype):
    _runs(lambda lib, n: lib.randn(n, dtype=getattr(lib, dtype)), NORMAL_SIZES)
    _runs(lambda lib, n: lib.empty(n, dtype=getattr(lib, dtype)).normal_(0.5, 3.0), NORMAL_SIZES[1:3])


def test_randn_and_normal_float64(threads):
    _runs(lambda lib, n: lib.randn(n, dtype=lib.float64), OTHER_SIZES)
    _runs(lambda lib, n: lib.empty(n, dtype=lib.float64).normal_(-2.0, 0.3), OTHER_SIZES[:1])


@pytest.mark.parametrize("dtype", ("float32", "float64"))
def test_rand_and_uniform_(threads, dtype):
    _runs(lambda lib, n: lib.rand(n, dtype=getattr(lib, dtype)), OTHER_SIZES)
    _runs(lambda lib, n: lib.empty(n, dtype=getattr(lib, dtype)).uniform_(-1.5, 2.25), OTHER_SIZES)


@pytest.mark.parametrize("high", (10, 2 ** 40))
def test_randint(threads, high):
    _runs(lambda lib, n: lib.randint(-3, high, (n,)), OTHER_SIZES)


def test_blocks_are_drawn_in_order_and_each_consumed_once(threads):
    ember.set_num_threads(3)
    drawn, seen, lock = [], [], threading.Lock()
    counter = iter(range(10 ** 6))

    def draw(k):
        drawn.append(k)
        return numpy.array([next(counter) for _ in range(k)])

    def consume(start, stop, words):
        with lock:
            seen.append((start, stop, words.tolist()))
    draw_blocks(draw, 1000, 64, consume)
    assert drawn == [64] * 15 + [40]
    assert sorted(seen) == [(s, min(s + 64, 1000), list(range(s, min(s + 64, 1000)))) for s in range(0, 1000, 64)]


def test_a_failed_draw_stops_every_thread(threads):
    ember.set_num_threads(2)
    calls = []

    def draw(k):
        calls.append(k)
        if len(calls) == 3:
            raise ValueError("no more words")
        return numpy.zeros(k)
    with pytest.raises(ValueError, match="no more words"):
        draw_blocks(draw, 1000, 100, lambda start, stop, words: None)
    assert calls == [100, 100, 100]
