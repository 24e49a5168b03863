"""var / std / var_mean / sum of float32 data far from zero: PyTorch accumulates in double (or cascades) and stays
within a few ulps; ember's sums in float32 along non-last axes (NumPy adds those row after row) were off by up to
1e5x in the variance and 1.8e-5 relative in the sum."""
import numpy
import pytest
import torch

import ember


@pytest.mark.parametrize("shape, dim", [((4, 50000), 1), ((50000, 4), 0), ((200000,), None),
                                        ((8, 3, 64, 64), (0, 2, 3)), ((3, 1000, 5), (0, 1))])
@pytest.mark.parametrize("name", ["var", "std", "var_mean"])
def test_float32_far_from_zero(shape, dim, name):
    data = (numpy.random.default_rng(0).standard_normal(shape) + 1e6).astype(numpy.float32)
    exact = data.astype(numpy.float64).var(axis=dim, ddof=1)
    if name == "std":
        exact = numpy.sqrt(exact)
    mine = getattr(ember, name)(ember.from_numpy(data), dim)
    theirs = getattr(torch, name)(torch.from_numpy(data), dim)
    if name == "var_mean":
        numpy.testing.assert_allclose(mine[1].numpy(), theirs[1].numpy(), rtol=1e-7)
        mine, theirs = mine[0], theirs[0]
    assert mine.dtype is ember.float32
    numpy.testing.assert_allclose(mine.numpy(), exact, rtol=1e-6)
    # PyTorch's variance over all elements is a float32 two-pass here, off by up to 4e-3 (ember's is not)
    numpy.testing.assert_allclose(mine.numpy(), theirs.numpy(), rtol=1e-6 if dim is not None else 1e-2)


def test_float64_and_small_cases_unchanged():
    data = numpy.array([[1.0, 2.0, 4.0], [1e-300, 0.0, -1e-300]])
    for dim in (0, 1, None):
        numpy.testing.assert_allclose(ember.var(ember.from_numpy(data), dim).numpy(),
                                      torch.var(torch.from_numpy(data), dim).numpy(), rtol=1e-15, atol=0)


@pytest.mark.parametrize("dims", [(0, 1), (0, 2), (1, 2), (0, 1, 2), (2, 0), (0,), None])
@pytest.mark.parametrize("keepdim", [False, True])
def test_float32_sums_over_several_dims(dims, keepdim):
    data = (numpy.random.default_rng(1).standard_normal((3, 3000, 5)) + 1e6).astype(numpy.float32)
    exact = data.astype(numpy.float64).sum(axis=dims, keepdims=keepdim)
    mine = ember.from_numpy(data).sum(dims, keepdim=keepdim) if dims else ember.from_numpy(data).sum()
    theirs = torch.from_numpy(data).sum(dims, keepdim=keepdim) if dims else torch.from_numpy(data).sum()
    assert tuple(mine.shape) == tuple(theirs.shape)
    numpy.testing.assert_allclose(mine.numpy(), exact, rtol=3e-7)
    if dims is not None:
        count = numpy.prod([data.shape[d] for d in dims])
        numpy.testing.assert_allclose(ember.from_numpy(data).mean(dims, keepdim=keepdim).numpy(), exact / count,
                                      rtol=3e-7)


@pytest.mark.parametrize("equation", ["ij->j", "ij->i", "ij->", "abc->ca", "abc->b"])
def test_one_operand_einsum_sums_as_sum_does(equation):
    shape = (50000, 4) if equation.startswith("ij") else (300, 40, 5)
    data = (numpy.random.default_rng(2).random(shape) + 1).astype(numpy.float32)
    exact = numpy.einsum(equation, data.astype(numpy.float64))
    before = ember.get_num_threads()
    ember.set_num_threads(torch.get_num_threads())   # sums from 32,768 elements split by the thread count
    try:
        mine, theirs = ember.einsum(equation, ember.from_numpy(data)), torch.einsum(equation, torch.from_numpy(data))
    finally:
        ember.set_num_threads(before)
    assert tuple(mine.shape) == tuple(theirs.shape) and mine.is_contiguous() == theirs.is_contiguous()
    numpy.testing.assert_array_equal(mine.numpy(), theirs.numpy())   # Sum's bits, which are PyTorch's
    numpy.testing.assert_allclose(mine.numpy(), exact, rtol=1e-6)   # NumPy's einsum: 5.8e-6 for "ij->j"
