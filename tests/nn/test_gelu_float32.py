"""GELU's float32 kernels for large arrays (``ops/_gelu_float32.py``): values and gradients against PyTorch's float32
and float64 results, its special values (signed zeros, infinities, NaN, underflow), and the general path it leaves
to (small, strided, float64, double backward); the tanh form's blocks against its whole-array formula."""
import math

import numpy
import pytest
import torch

import ember
from ember.ops import _gelu_float32


def _inputs(count=60_000, seed=0):
    rng = numpy.random.default_rng(seed)
    specials = [numpy.inf, -numpy.inf, numpy.nan, 1e30, -1e30, -0.0, 0.0, 1e-30, -1e-30, -15.0, 15.0, -3.0]
    x = numpy.concatenate([rng.standard_normal(count - len(specials)) * 4, specials]).astype(numpy.float32)
    return x.reshape(-1, 12)


def _gelu_and_grad(lib, x, g, dtype=None):
    t = lib.tensor(x, requires_grad=True) if dtype is None else lib.tensor(x, dtype=dtype, requires_grad=True)
    y = lib.nn.functional.gelu(t)
    y.backward(lib.tensor(g, dtype=y.dtype))
    return y.detach().numpy(), t.grad.numpy()


def test_large_float32_gelu_and_gradient_match_torch():
    x = _inputs()
    assert _gelu_float32.applies(x)
    g = numpy.random.default_rng(1).standard_normal(x.shape).astype(numpy.float32)
    (ey, eg), (ty, tg) = _gelu_and_grad(ember, x, g), _gelu_and_grad(torch, x, g)
    assert ey.dtype == eg.dtype == numpy.float32
    numpy.testing.assert_allclose(ey, ty, rtol=2e-6, atol=2e-6)   # PyTorch's own error reaches 1.2e-6
    numpy.testing.assert_allclose(eg, tg, rtol=2e-6, atol=2e-6)
    # the same signs as PyTorch's (gelu(-0.0) and gelu of an underflowing negative are -0.0) and NaNs where it has
    numpy.testing.assert_array_equal(numpy.isnan(ey), numpy.isnan(ty))
    numpy.testing.assert_array_equal(numpy.signbit(ey[~numpy.isnan(ey)]), numpy.signbit(ty[~numpy.isnan(ty)]))
    numpy.testing.assert_array_equal(numpy.isnan(eg), numpy.isnan(tg))


def test_large_float32_gelu_is_within_a_few_units_of_the_exact_function():
    x = numpy.linspace(-12, 12, 200_001, dtype=numpy.float32)
    g = numpy.ones_like(x)
    ey, eg = _gelu_and_grad(ember, x, g)
    exact_y, exact_g = _gelu_and_grad(torch, x, g, dtype=torch.float64)
    assert numpy.abs(ey - exact_y).max() < 3e-7   # the float64 rational erf rounded: 2.4e-7 (PyTorch float32: 1.2e-6)
    assert numpy.abs(eg - exact_g).max() < 3e-7


@pytest.mark.parametrize("case", ["small", "strided", "float64", "tanh"])
def test_other_inputs_keep_the_general_path_and_agree(case):
    x = _inputs(count=12 if case == "small" else 24_000, seed=2)
    options = {"approximate": "tanh"} if case == "tanh" else {}
    if case == "strided":
        x = x[:, ::2]
    if case == "float64":
        x = x.astype(numpy.float64)
    assert not _gelu_float32.applies(x) or case == "tanh"
    results = [lib.nn.functional.gelu(lib.tensor(x), **options).numpy() for lib in (ember, torch)]
    numpy.testing.assert_allclose(*results, rtol=2e-6, atol=2e-6)


def test_double_backward_through_the_large_path_matches_torch():
    x = numpy.random.default_rng(3).standard_normal((64, 128)).astype(numpy.float32)
    grads = []
    for lib in (ember, torch):
        t = lib.tensor(x, requires_grad=True)
        first, = lib.autograd.grad(lib.nn.functional.gelu(t).sum(), t, create_graph=True)
        second, = lib.autograd.grad(first.sum(), t)
        grads.append((first.detach().numpy(), second.numpy()))
    numpy.testing.assert_allclose(grads[0][0], grads[1][0], rtol=2e-6, atol=2e-6)
    numpy.testing.assert_allclose(grads[0][1], grads[1][1], rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("threads", [1, 2])
def test_large_float32_tanh_form_is_the_whole_array_formula_in_blocks(threads):
    x = _inputs(count=200_004, seed=4)   # several blocks and a partial one, with the special values
    assert _gelu_float32.applies(x)
    with numpy.errstate(all="ignore"):
        whole = 0.5 * x * (1 + numpy.tanh(math.sqrt(2 / math.pi) * (x + 0.044715 * (x * x * x))))
    before = ember.get_num_threads()
    ember.set_num_threads(threads)
    try:
        blocked = ember.nn.functional.gelu(ember.tensor(x), approximate="tanh").numpy()
    finally:
        ember.set_num_threads(before)
    numpy.testing.assert_array_equal(blocked, whole.astype(numpy.float32))   # the same bits, NaNs and signs included
    expected = torch.nn.functional.gelu(torch.tensor(x), approximate="tanh").numpy()
    finite = numpy.isfinite(expected)
    numpy.testing.assert_allclose(blocked[finite], expected[finite], rtol=2e-6, atol=2e-6)
