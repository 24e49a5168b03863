"""igamma / igammac (torch.special.gammainc / gammaincc): against PyTorch where its float64 kernel is accurate, and
against mpmath (high precision) in the tails where it is not: Q for small a, both near x = a for large a, and
Temme's expansion for huge a."""
import mpmath
import numpy
import pytest
import torch

import ember
from ember.ops import _incomplete_gamma

from ..oracle import check


def _pq(a, x):
    a, x = numpy.asarray(a, numpy.float64), numpy.asarray(x, numpy.float64)
    return (ember.igamma(ember.from_numpy(a), ember.from_numpy(x)).numpy(),
            ember.igammac(ember.from_numpy(a), ember.from_numpy(x)).numpy())


def _exact(a, x):
    """(P, Q) at 40 digits."""
    with mpmath.workdps(40):
        q = mpmath.gammainc(a, x, mpmath.inf, regularized=True)
        return float(1 - q), float(q)


@pytest.mark.parametrize("name, special", [("igamma", "gammainc"), ("igammac", "gammaincc")])
def test_moderate_arguments_match_pytorch_and_mpmath(name, special):
    # PyTorch's float64 kernel is good to ~2e-9 here (and works float32 in float32); ember's to a few ulps.
    rng = numpy.random.default_rng(0)
    a = rng.uniform(0.5, 60.0, 400)
    x = a * numpy.exp(rng.normal(0.0, 0.4, 400))
    check(lambda lib, a, x: getattr(lib, name)(a, x), a, x, grad=False, rtol=1e-8, atol=1e-300)
    check(lambda lib, a, x: getattr(lib.special, special)(a, x), a.astype(numpy.float32), x.astype(numpy.float32),
          grad=False, rtol=1e-5, atol=1e-6)
    p, q = _pq(a[:40], x[:40])
    exact = numpy.array([_exact(*pair) for pair in zip(a[:40], x[:40])])
    numpy.testing.assert_allclose(p, exact[:, 0], rtol=1e-14)
    numpy.testing.assert_allclose(q, exact[:, 1], rtol=1e-14)


@pytest.mark.parametrize("a, x", [(9.62e-20, 3.7e-9), (2.49e-20, 2.03e-4), (2.98e-14, 3.76e-4), (3.6e-6, 1.57e-4),
                                  (1e-3, 1.0), (0.3, 1.2), (0.49, 0.01)])
def test_upper_tail_for_small_a_keeps_its_digits(a, x):
    # PyTorch's Q here is 1 - P (off by up to 7 % at a = 2.5e-20); ember's is Q's own series.
    p, q = _pq([a], [x])
    exact_p, exact_q = _exact(a, x)
    assert q[0] == pytest.approx(exact_q, rel=1e-14)
    assert p[0] == pytest.approx(exact_p, rel=1e-14)


@pytest.mark.parametrize("a, x", [(414.0, 365.0), (173.0, 174.0), (22.3, 2.5e-8), (10.9, 1.02e-9), (5850.2, 4165.3),
                                  (9937.7, 12002.0), (2e5, 2e5 - 2357.0), (2e5, 2e5 + 900.0)])
def test_large_a_near_and_far_from_x(a, x):
    # PyTorch is off by up to 6e-10 at a = 414, x = 365 (its prefactor loses digits where x is near a).
    p, q = _pq([a], [x])
    exact_p, exact_q = _exact(a, x)
    assert p[0] == pytest.approx(exact_p, rel=1e-12)
    assert q[0] == pytest.approx(exact_q, rel=1e-12)


def test_huge_a_by_temme_agrees_with_the_series_and_quadrature():
    a = numpy.array([1e6, 1e6, 1e6, 4e6, 4e6, 3e7])
    x = a + numpy.array([-5.27, 0.0, 3.1, -5.27, 1e-3, 2.0]) * numpy.sqrt(a)
    temme = _incomplete_gamma._temme(a, x)
    saved = _incomplete_gamma._TEMME_FROM
    try:
        _incomplete_gamma._TEMME_FROM = numpy.inf
        series = _incomplete_gamma.regularized_gammas(a, x)
    finally:
        _incomplete_gamma._TEMME_FROM = saved
    numpy.testing.assert_allclose(temme[0], series[0], rtol=1e-12)
    numpy.testing.assert_allclose(temme[1], series[1], rtol=1e-12)
    p, _ = _pq(a[:1], x[:1])
    with mpmath.workdps(30):   # P(a, x) as the integral of the gamma density (PyTorch and SciPy: 6.4961996e-08)
        a0, x0 = mpmath.mpf(a[0]), mpmath.mpf(x[0])
        exact = mpmath.quad(lambda t: mpmath.exp((a0 - 1) * mpmath.log(t) - t - mpmath.loggamma(a0)),
                            [0, x0 - 40 * mpmath.sqrt(a0), x0 - 10 * mpmath.sqrt(a0), x0])
    assert p[0] == pytest.approx(float(exact), rel=1e-12)


@pytest.mark.parametrize("name", ["igamma", "igammac"])
def test_special_arguments_match_pytorch(name):
    values = numpy.array([0.0, -0.0, -1.0, 1e-300, 0.5, 2.0, 1e3, numpy.inf, -numpy.inf, numpy.nan])
    a, x = numpy.meshgrid(values, values)
    check(lambda lib, a, x: getattr(lib, name)(a, x), a, x, grad=False, rtol=1e-8, atol=1e-300)


def test_float32_is_the_float64_result_rounded():
    rng = numpy.random.default_rng(1)
    a = (10.0 ** rng.uniform(-6, 3, 300)).astype(numpy.float32)
    x = (10.0 ** rng.uniform(-6, 3, 300)).astype(numpy.float32)
    for function in (ember.igamma, ember.igammac):
        single = function(ember.from_numpy(a), ember.from_numpy(x))
        double = function(ember.from_numpy(a.astype(numpy.float64)), ember.from_numpy(x.astype(numpy.float64)))
        assert single.dtype is ember.float32
        numpy.testing.assert_array_equal(single.numpy(), double.numpy().astype(numpy.float32))


def test_gradient_in_x_matches_pytorch():
    a = numpy.array([0.3, 1.0, 2.5, 40.0])
    x = numpy.array([0.2, 1.5, 2.0, 38.0])
    for name in ("igamma", "igammac"):
        ours = ember.from_numpy(x).requires_grad_()
        theirs = torch.from_numpy(x).requires_grad_()
        getattr(ember, name)(ember.from_numpy(a), ours).sum().backward()
        getattr(torch, name)(torch.from_numpy(a), theirs).sum().backward()
        numpy.testing.assert_allclose(ours.grad.numpy(), theirs.grad.numpy(), rtol=1e-12)
