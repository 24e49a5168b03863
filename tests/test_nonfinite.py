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
