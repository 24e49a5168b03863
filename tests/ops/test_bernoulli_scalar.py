"""The integer comparison of ``bernoulli_(p)`` for a number p against the float64-uniform path and PyTorch."""
import numpy
import pytest
import torch

import ember
from ember.ops import _mt19937, _samplers


def _pair(seed, n, p):
    fast, general = _mt19937.Engine(seed), _mt19937.Engine(seed)
    return _samplers.bernoulli_scalar(fast, n, p), _samplers.bernoulli(general, numpy.full(n, p)), fast, general


@pytest.mark.parametrize("p", [0.0, 1.0, 0.5, 0.9, 0.1, 1e-300, 1 - 2.0 ** -53, 0.3, 2.0 ** -40])
@pytest.mark.parametrize("n", [0, 1, 7, 1000])
def test_matches_the_float_path_and_consumes_the_same_words(p, n):
    fast, general, fast_engine, general_engine = _pair(3, n, p)
    numpy.testing.assert_array_equal(fast, general, strict=True)
    assert fast_engine.words(5).tolist() == general_engine.words(5).tolist()


def test_draws_equal_to_the_threshold_in_the_high_half():
    """p whose 53-bit threshold shares its high 21 bits with some draws: the low halves decide those."""
    words = _mt19937.Engine(11).words(2 * 4000)
    k = ((int(words[10]) & 0x1FFFFF) << 32) | int(words[11])
    for threshold in (k, k + 1, k - 1, (k >> 32) << 32, ((k >> 32) << 32) + 0xFFFFFFFF):
        p = threshold * 2.0 ** -53
        fast, general, _, _ = _pair(11, 4000, p)
        numpy.testing.assert_array_equal(fast, general)
        assert fast[5] == (k < threshold)


@pytest.mark.parametrize("p", [0.2, 0.75])
def test_bernoulli_and_dropout_match_torch(p):
    for lib in (ember, torch):
        lib.manual_seed(5)
    e = [ember.empty(33, 17).bernoulli_(p), ember.bernoulli(ember.empty(9, 4), p),
         ember.nn.functional.dropout(ember.ones(64, 65), p)]
    t = [torch.empty(33, 17).bernoulli_(p), torch.bernoulli(torch.empty(9, 4), p),
         torch.nn.functional.dropout(torch.ones(64, 65), p)]
    for a, b in zip(e, t):
        assert a.dtype == ember.float32
        numpy.testing.assert_array_equal(a.numpy(), b.numpy())
