"""special.ndtri as PyTorch's kernel computes it (``ops/_ndtri.py``, Cephes' three ranges with the kernel's fused
multiply-adds): float32 bit for bit, float64 within a few ulp (NumPy's log differs from C's in the last bit now and
then, which the tails' cancellation can scale to 4 ulp), on a sweep through every range and its edges; gradients
against torch and finite differences; empty, 0-d, odd and non-contiguous shapes."""
import numpy
import pytest
import torch

import ember
from ember.ops import _ndtri


def _sweep(dtype, count=1 << 16):
    rng = numpy.random.default_rng(1)
    info = numpy.finfo(dtype)
    edges = [0.0, 1.0, 0.5, -0.0, 1e-300, 5e-324, info.tiny, info.smallest_subnormal, 1 - info.eps, 1 - info.epsneg,
             info.eps, info.epsneg, numpy.nan, -1e-30, -2.0, 1.5, -numpy.inf, numpy.inf, _ndtri.EXP_MINUS_2,
             1 - _ndtri.EXP_MINUS_2, numpy.exp(-32.0), numpy.exp(-2.0), 0.5 + info.eps]
    smallest = -300 if dtype == "float64" else -45
    parts = [rng.uniform(0, 1, count), 10.0 ** rng.uniform(smallest, 0, count), 1 - 10.0 ** rng.uniform(-16, 0, count),
             edges]
    values = numpy.concatenate(parts).astype(dtype)
    near = numpy.array([numpy.nextafter(v, t) for v in values[-len(edges):] for t in (-1.0, 2.0)], dtype)
    return numpy.concatenate([values, near])


def _ulps(got, want):
    same = (got == want) | (numpy.isnan(got) & numpy.isnan(want))
    with numpy.errstate(invalid="ignore"):
        distance = numpy.abs(got.astype(numpy.float64) - want) / numpy.spacing(numpy.abs(want))
    return numpy.where(same, 0.0, distance)


def test_float32_is_torch_bit_for_bit():
    p = _sweep("float32")
    numpy.testing.assert_array_equal(ember.special.ndtri(ember.tensor(p)).numpy(),
                                     torch.special.ndtri(torch.from_numpy(p)).numpy())


def test_float64_is_torch_within_a_few_ulp():
    p = _sweep("float64")
    got = ember.special.ndtri(ember.tensor(p)).numpy()
    want = torch.special.ndtri(torch.from_numpy(p)).numpy()
    distance = _ulps(got, want)
    assert distance.max() <= 4
    assert (distance > 0).mean() < 1e-3
    middle = (p > _ndtri.EXP_MINUS_2) & (p <= 1 - _ndtri.EXP_MINUS_2)   # no logarithm there: the same bits
    numpy.testing.assert_array_equal(got[middle], want[middle])


@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shape", [(0,), (), (1,), (1, 7), (3, 5, 7)])
def test_shapes_and_dtypes(dtype, shape):
    p = numpy.random.default_rng(2).uniform(-0.05, 1.05, shape).astype(dtype)
    got = ember.special.ndtri(ember.tensor(p))
    want = torch.special.ndtri(torch.from_numpy(p))
    assert got.shape == tuple(want.shape) and str(got.dtype) == str(want.dtype).replace("torch", "ember")
    numpy.testing.assert_allclose(got.numpy(), want.numpy(), rtol=1e-15, atol=0)


def test_non_contiguous_and_blocked_inputs_give_the_bits_of_small_ones():
    p = numpy.random.default_rng(3).uniform(0, 1, (3 * _ndtri.BLOCK + 17, 2))
    whole = ember.special.ndtri(ember.tensor(p)[:, 1]).numpy()
    pieces = numpy.concatenate([ember.special.ndtri(ember.tensor(part)).numpy()
                                for part in numpy.array_split(p[:, 1], 97)])
    numpy.testing.assert_array_equal(whole, pieces)
    numpy.testing.assert_array_equal(whole, ember.special.ndtri(ember.tensor(p[:, 1].copy())).numpy())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_gradient_matches_torch(dtype):
    p = numpy.array([1e-20, 1e-5, 0.05, 0.3, 0.5, 0.77, 0.9, 1 - 1e-9], dtype)
    grads = []
    for lib in (ember, torch):
        x = lib.tensor(p, requires_grad=True)
        lib.special.ndtri(x).backward(lib.ones_like(x) * 0.5)
        grads.append(x.grad.numpy())
    numpy.testing.assert_allclose(*grads, rtol=4e-6 if dtype == "float32" else 1e-13)


def test_gradient_matches_finite_differences():
    x = ember.tensor([1e-4, 0.02, 0.3, 0.5, 0.6, 0.95, 0.9999], dtype=ember.float64, requires_grad=True)
    assert ember.autograd.gradcheck(ember.special.ndtri, (x,))
    assert ember.autograd.gradgradcheck(ember.special.ndtri, (x,))
