"""Right answers on non-finite, empty and huge inputs, checked against torch: pooling windows of -inf, ignored
targets holding NaN logits, unique with NaN, reductions without NumPy warnings, and repr of huge tensors."""
import tracemalloc

import numpy
import pytest
import torch

import ember


# --- repr -----------------------------------------------------------------------------------------------------
def test_repr_of_an_expanded_billion_elements_reads_only_the_edges():
    tracemalloc.start()
    try:
        text = repr(ember.zeros(1).expand(10**9))
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert text == repr(torch.zeros(1).expand(10**9)).replace("torch", "ember")
    assert peak < 1 << 20


@pytest.mark.parametrize("shape", [(2000,), (40, 50), (3, 700), (5, 4, 300), (1, 1001)])
@pytest.mark.parametrize("dtype", ["float32", "float16", "int64", "complex64", "bool"])
def test_summarized_repr_matches_torch(shape, dtype):
    values = numpy.random.default_rng(0).standard_normal(shape) * 100
    values[..., 0] = numpy.inf
    t = torch.tensor(values).to(getattr(torch, dtype))
    e = ember.tensor(values).to(getattr(ember, dtype))
    assert repr(e) == repr(t).replace("torch", "ember")


def test_repr_of_a_large_tensor_copies_only_the_edges():
    big = ember.zeros(2000, 2000)
    tracemalloc.start()
    try:
        repr(big)
        peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert peak < 1 << 20  # the old path widened all 16 MB to float64 first


# --- max pooling over windows whose real elements are all -inf ----------------------------------------------
@pytest.mark.parametrize("n, shape, options", [
    (1, (2, 3, 7), dict(kernel_size=2, stride=2, padding=1)),
    (1, (1, 2, 9), dict(kernel_size=3, stride=2, padding=1, dilation=2, ceil_mode=True)),
    (2, (2, 2, 5, 6), dict(kernel_size=3, stride=2, padding=1)),
    (2, (1, 1, 7, 7), dict(kernel_size=(2, 3), stride=(2, 1), padding=(1, 1), ceil_mode=True)),
    (3, (1, 1, 4, 5, 5), dict(kernel_size=2, stride=2, padding=1)),
])
def test_max_pool_with_padding_over_minus_inf_matches_torch(n, shape, options):
    values = numpy.random.default_rng(1).standard_normal(shape)
    values[numpy.random.default_rng(2).random(shape) < 0.6] = -numpy.inf
    values.reshape(-1)[::7] = numpy.nan if n == 2 else -numpy.inf
    t = torch.tensor(values, requires_grad=True)
    e = ember.tensor(values, requires_grad=True)
    pool_t = getattr(torch.nn.functional, f"max_pool{n}d")
    pool_e = getattr(ember.nn.functional, f"max_pool{n}d")
    out_t, index_t = pool_t(t, return_indices=True, **options)
    out_e, index_e = pool_e(e, return_indices=True, **options)
    numpy.testing.assert_array_equal(numpy.asarray(out_e.detach()), out_t.detach().numpy())
    numpy.testing.assert_array_equal(numpy.asarray(index_e), index_t.numpy())
    out_t.sum().backward()
    out_e.sum().backward()
    numpy.testing.assert_array_equal(numpy.asarray(e.grad), t.grad.numpy())
