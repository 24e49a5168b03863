"""F.linear computes ``(W @ X.T).T`` when a float32 batch has fewer rows than output features: the same values,
gradients and a C-contiguous result as PyTorch's, on both sides of that choice."""
import numpy
import pytest
import torch

import ember
from tests.oracle import as_numpy


@pytest.mark.parametrize("shape", [(8, 40), (1, 40), (2, 3, 40), (300, 40), (0, 40), (64, 40)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("bias", [True, False])
def test_linear_matches_torch_in_both_orientations(shape, dtype, bias):
    rng = numpy.random.default_rng(0)
    x = rng.standard_normal(shape).astype(dtype)
    w = rng.standard_normal((96, 40)).astype(dtype)
    b = rng.standard_normal(96).astype(dtype)
    ex, ew, eb = (ember.tensor(v, requires_grad=True) for v in (x, w, b))
    tx, tw, tb = (torch.tensor(v, requires_grad=True) for v in (x, w, b))
    ey = ember.nn.functional.linear(ex, ew, eb if bias else None)
    ty = torch.nn.functional.linear(tx, tw, tb if bias else None)
    assert ey.shape == ty.shape and ey.dtype == getattr(ember, dtype)
    assert ey.is_contiguous() and as_numpy(ey.detach()).flags.c_contiguous
    tolerance = 1e-5 if dtype == "float32" else 1e-12
    numpy.testing.assert_allclose(as_numpy(ey.detach()), ty.detach().numpy(), rtol=tolerance, atol=tolerance)
    g = rng.standard_normal(ty.shape).astype(dtype)
    ey.backward(ember.tensor(g))
    ty.backward(torch.tensor(g))
    for e, t in ((ex, tx), (ew, tw)) + (((eb, tb),) if bias else ()):
        # gradients are sums of up to 300 products: their rounding error scales with the largest entry (one
        # BLAS's summation order against another's)
        scale = max(1.0, float(numpy.abs(t.grad.numpy()).max(initial=0)))
        numpy.testing.assert_allclose(as_numpy(e.grad), t.grad.numpy(), rtol=tolerance, atol=tolerance * scale)


def test_linear_of_a_non_contiguous_input_and_a_view_of_its_output():
    rng = numpy.random.default_rng(1)
    x = rng.standard_normal((40, 6)).astype("float32")
    w = rng.standard_normal((50, 40)).astype("float32")
    ey = ember.nn.functional.linear(ember.tensor(x).t(), ember.tensor(w))   # rows from a transposed input
    ty = torch.nn.functional.linear(torch.tensor(x).t(), torch.tensor(w))
    numpy.testing.assert_allclose(as_numpy(ey.view(-1)), ty.view(-1).numpy(), rtol=1e-5, atol=1e-5)
