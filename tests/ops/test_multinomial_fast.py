"""multinomial's race through NumPy's log1p (the C library's float32 values: checked, the unsure ones recomputed) and
an argmax or a partial sort for a few samples: the draws, dtype and generator state exactly PyTorch's."""
import math

import numpy
import pytest
import torch

import ember
from ember.ops import _samplers
from ember.ops import random as random_ops
from ember.ops._mt19937 import Engine


def test_float32_exponentials_are_the_c_librarys():
    fast, reference = Engine(11), Engine(11)
    q = random_ops._exponential_float32(fast, 1 << 20)
    expected = _samplers.exponential(reference, 1 << 20, 1.0).astype(numpy.float32)
    numpy.testing.assert_array_equal(q.view(numpy.int32), expected.view(numpy.int32))
    numpy.testing.assert_array_equal(fast.words(4), reference.words(4))   # the same draws consumed


def test_float32_exponentials_recompute_the_unsure_ones(monkeypatch):
    calls = []

    def libm(function, values):
        calls.append(values.size)
        return numpy.fromiter(map(function, values.tolist()), numpy.float64, len(values))
    monkeypatch.setattr(_samplers, "_libm", libm)
    engine = Engine(3)
    q = random_ops._exponential_float32(engine, 1 << 18)
    assert calls and calls[0] < 64   # about 1 in 2**16 lies near a float32 rounding boundary
    u = _samplers.unit(Engine(3), 1 << 18, numpy.float64)
    expected = numpy.array([-1.0 * math.log1p(-v) for v in u.tolist()]).astype(numpy.float32)
    numpy.testing.assert_array_equal(q, expected)


@pytest.mark.parametrize("k", [1, 2, 5, 10, 20, 21, 40])
def test_largest_keys_equal_a_stable_sort(k):
    rng = numpy.random.default_rng(k)
    for keys in (rng.random((6, 40)).astype(numpy.float32), rng.integers(0, 3, (6, 40)).astype(numpy.float32),
                 numpy.where(rng.random((6, 40)) < 0.5, 0.0, rng.random((6, 40))).astype(numpy.float32)):
        keys[1, ::3] = numpy.nan
        keys[2, :5] = -0.0
        expected = numpy.argsort(-keys, axis=1, kind="stable")[:, :k]
        numpy.testing.assert_array_equal(random_ops._largest(keys, k), expected)


@pytest.mark.parametrize("seed", [0, 7])
@pytest.mark.parametrize("samples,replacement", [(1, False), (10, False), (600, False), (10, True), (1, True)])
def test_multinomial_draws_torchs_values(seed, samples, replacement):
    weights = numpy.random.default_rng(seed).random((64, 1000)).astype(numpy.float32)
    weights[:, ::7] = 0
    results = []
    for lib in (torch, ember):
        lib.manual_seed(seed)
        drawn = lib.multinomial(lib.tensor(weights), samples, replacement)
        results.append((drawn.numpy(), lib.get_rng_state().numpy(), str(drawn.dtype).split(".")[-1]))
    (theirs, their_state, their_dtype), (ours, our_state, our_dtype) = results
    numpy.testing.assert_array_equal(ours, theirs)
    numpy.testing.assert_array_equal(our_state, their_state)
    assert our_dtype == their_dtype


def test_multinomial_of_float64_and_one_row_draws_torchs_values():
    for dtype, shape in ((numpy.float64, (5, 300)), (numpy.float32, (300,)), (numpy.float32, (3, 1))):
        weights = numpy.random.default_rng(1).random(shape).astype(dtype)
        for samples in (1, min(4, shape[-1])):
            results = []
            for lib in (torch, ember):
                lib.manual_seed(3)
                results.append(lib.multinomial(lib.tensor(weights), samples).numpy())
            numpy.testing.assert_array_equal(results[1], results[0])
