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


@pytest.mark.parametrize("n", [_samplers._BERNOULLI_BLOCK - 1, _samplers._BERNOULLI_BLOCK,
                               2 * _samplers._BERNOULLI_BLOCK + 3])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_blocks_and_scaled_output_match_the_float_path(n, dtype):
    """Across block boundaries, the bool result and the ``out`` form (``one`` where kept) draw the same mask."""
    fast, general, fast_engine, general_engine = _pair(7, n, 0.9)
    numpy.testing.assert_array_equal(fast, general, strict=True)
    out, one = numpy.full(n, numpy.nan, dtype), dtype(1) / dtype(0.9)
    scaled = _samplers.bernoulli_scalar(_mt19937.Engine(7), n, 0.9, out, one)
    assert scaled is out
    numpy.testing.assert_array_equal(out, numpy.where(general, one, dtype(0)), strict=True)
    assert fast_engine.words(5).tolist() == general_engine.words(5).tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64", "int64", "bool", "float16"])
def test_bernoulli_fills_every_dtype_as_torch(dtype):
    n = _samplers._BERNOULLI_BLOCK + 5
    for lib in (ember, torch):
        lib.manual_seed(2)
    a = ember.empty(n, dtype=getattr(ember, dtype)).bernoulli_(0.3)
    b = torch.empty(n, dtype=getattr(torch, dtype)).bernoulli_(0.3)
    numpy.testing.assert_array_equal(a.numpy(), b.numpy())
    assert ember.rand(3).tolist() == torch.rand(3).tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("p", [0.1, 0.37, numpy.float64(0.2)])
def test_dropout_values_signs_and_gradients_match_torch(dtype, p):
    """Dropout's noise written as 1 / (1 - p) where kept: the product's values (negative zeros, NaN, inf) and the
    gradient equal PyTorch's bit for bit, across blocks of draws."""
    x = numpy.random.default_rng(0).standard_normal((3, 5, _samplers._BERNOULLI_BLOCK // 4 + 1)).astype(dtype)
    x.reshape(-1)[:4] = [-1.0, numpy.nan, numpy.inf, -numpy.inf]
    g = numpy.random.default_rng(1).standard_normal(x.shape).astype(dtype)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(3)
        leaf = lib.tensor(x, requires_grad=True)
        out = lib.nn.functional.dropout(leaf, p)
        out.backward(lib.tensor(g))
        results.append((out.detach().numpy(), leaf.grad.numpy(), type(out.grad_fn).__name__, lib.rand(2).tolist()))
    (a, ga, na, ra), (b, gb, nb, rb) = results
    assert a.dtype == b.dtype and na == nb and ra == rb
    numpy.testing.assert_array_equal(a, b)
    numpy.testing.assert_array_equal(numpy.signbit(a), numpy.signbit(b))
    numpy.testing.assert_array_equal(ga, gb)


def test_dropout_noise_of_one_shape_alive_together_stays_distinct():
    """Pooled noise arrays are handed out again only once free: two masks of one shape in one graph differ, and the
    gradients use each its own."""
    x = numpy.random.default_rng(0).standard_normal((64, 4096)).astype(numpy.float32)
    grads = []
    for lib in (ember, torch):
        lib.manual_seed(4)
        leaf = lib.tensor(x, requires_grad=True)
        first, second = lib.nn.functional.dropout(leaf, 0.5), lib.nn.functional.dropout(leaf, 0.5)
        (first + 2 * second).sum().backward()
        grads.append((first.detach().numpy(), second.detach().numpy(), leaf.grad.numpy()))
    for a, b in zip(*grads):
        numpy.testing.assert_array_equal(a, b)
    assert not numpy.array_equal(grads[0][0], grads[0][1])
