"""softmax/log_softmax computed in place: the same values as the out-of-place formulas, and PyTorch's."""
import numpy
import pytest
import torch

import ember


def _reference(a, dim, log):
    if a.dtype == numpy.float16:   # PyTorch's kernel computes float16 in float32 and rounds once
        return _reference(a.astype(numpy.float32), dim, log).astype(numpy.float16)
    if a.size == 0:
        return a.copy()
    shifted = a - a.max(axis=dim, keepdims=True)
    if log:
        return shifted - numpy.log(numpy.exp(shifted).sum(axis=dim, keepdims=True))
    exp = numpy.exp(shifted)
    return exp / exp.sum(axis=dim, keepdims=True)


@pytest.mark.parametrize("shape,dim", [((4, 7), 1), ((4, 7), 0), ((2, 3, 5), -1), ((3,), 0), ((), 0), ((0, 4), 1),
                                       ((4, 0), 1), ((1, 1), 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64", "float16"])
@pytest.mark.parametrize("log", [False, True])
def test_matches_the_out_of_place_formula_and_torch(shape, dim, dtype, log):
    a = (numpy.random.default_rng(0).standard_normal(shape) * 4).astype(dtype)
    name = "log_softmax" if log else "softmax"
    e = ember.tensor(a, requires_grad=dtype != "float16")
    out = getattr(e, name)(dim)
    numpy.testing.assert_array_equal(out.detach().numpy(), _reference(a, dim, log), strict=True)
    t = torch.tensor(a, requires_grad=dtype != "float16")
    expected = getattr(t, name)(dim)
    tolerance = 2e-3 if dtype == "float16" else 1e-6
    numpy.testing.assert_allclose(out.detach().numpy(), expected.detach().numpy(), rtol=tolerance, atol=tolerance)
    if dtype != "float16" and a.size:
        weights = numpy.random.default_rng(1).standard_normal(shape).astype(dtype)
        (out * ember.tensor(weights)).sum().backward()
        (expected * torch.tensor(weights)).sum().backward()
        numpy.testing.assert_allclose(e.grad.numpy(), t.grad.numpy(), rtol=1e-5, atol=1e-6)
