"""A stack of matrices times one matrix (matmul and Linear) as one product of the stacked rows, against PyTorch."""
import numpy
import pytest
import torch

import ember
from ember.ops.linalg.products import folded_matmul


@pytest.mark.parametrize("shape", [(4, 3, 5), (2, 3, 1, 5), (0, 3, 5), (3, 0, 5), (1, 1, 5)])
@pytest.mark.parametrize("transposed", [False, True])
def test_matmul_and_linear_of_stacks_match_torch(shape, transposed):
    rng = numpy.random.default_rng(0)
    a = rng.standard_normal(shape).astype(numpy.float32)
    w = rng.standard_normal((6, 5)).astype(numpy.float32)
    bias = rng.standard_normal(6).astype(numpy.float32)
    b = w.T if transposed else numpy.ascontiguousarray(w.T)
    # one GEMM instead of one per matrix: the same sums, blocked differently by BLAS (last-bit differences)
    numpy.testing.assert_allclose(folded_matmul(numpy, a, b), numpy.matmul(a, b), rtol=1e-6, atol=1e-6)
    for via in ("matmul", "linear"):
        results = []
        for lib in (ember, torch):
            x, weight = lib.tensor(a, requires_grad=True), lib.tensor(w, requires_grad=True)
            bias_t = lib.tensor(bias, requires_grad=True)
            out = x.matmul(weight.t()) if via == "matmul" else lib.nn.functional.linear(x, weight, bias_t)
            (out * out).sum().backward()
            grads = [x.grad, weight.grad] + ([bias_t.grad] if via == "linear" else [])
            results.append([out.detach().numpy()] + [g.numpy() for g in grads])
        for got, expected in zip(*results):
            assert got.shape == expected.shape and got.dtype == expected.dtype
            numpy.testing.assert_allclose(got, expected, rtol=1e-5, atol=1e-5)


def test_float64_gradcheck():
    x = ember.randn(2, 3, 4, dtype=ember.float64, requires_grad=True)
    w = ember.randn(5, 4, dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(lambda x, w: ember.nn.functional.linear(x, w), (x, w))
    assert ember.autograd.gradgradcheck(lambda x, w: x.matmul(w.t()), (x, w))
