"""diff, trapezoid/trapz, cumulative_trapezoid and vander against PyTorch: values, dtypes, gradients (gradcheck in
float64), out= and error types."""
import numpy
import pytest

import ember

from ..oracle import check, check_error, gradcheck, sample


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.int64, numpy.uint8, numpy.bool_, numpy.float16,
                                   numpy.complex64])
@pytest.mark.parametrize("n, dim", [(1, -1), (2, 0), (0, 1), (5, 1), (3, -1)])
def test_diff_matches_torch(dtype, n, dim):
    check(lambda L, x: [L.diff(x, n, dim), x.diff(n=n, dim=dim)], sample((3, 4), dtype))


@pytest.mark.parametrize("dim", [0, 1])
def test_diff_with_prepend_and_append(dim):
    x, edge = sample((3, 4), numpy.float64), sample((2, 4) if dim == 0 else (3, 2), numpy.float64, seed=1)
    check(lambda L, x, e: L.diff(x, 2, dim, prepend=e), x, edge)
    check(lambda L, x, e: L.diff(x, 1, dim, append=e, prepend=e), x, edge)
    check(lambda L, x, e: L.diff(x, 1, dim, prepend=e), sample((3, 4), numpy.int64), edge)   # promotes
    gradcheck(lambda L, x, e: L.diff(x, 2, dim, prepend=e, append=e), x, edge)


def test_diff_out_and_errors():
    out = ember.empty(0, dtype=ember.int64)
    assert ember.diff(ember.tensor([1, 2, 4]), out=out) is out and out.tolist() == [1, 2]
    check_error(lambda L, x: L.diff(x), numpy.array(1.0))
    check_error(lambda L, x: L.diff(x, -1), numpy.ones(3))
    check_error(lambda L, x: L.diff(x, prepend=0), numpy.ones(3))
    check_error(lambda L, x, e: L.diff(x, prepend=e), numpy.ones(3), numpy.ones((1, 1)))
    check_error(lambda L, x, e: L.diff(x, dim=0, append=e), numpy.ones((2, 3)), numpy.ones((1, 2)))


@pytest.mark.parametrize("name", ["trapezoid", "trapz", "cumulative_trapezoid"])
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int64])
def test_trapezoid_with_dx(name, dtype):
    y = sample((3, 5), dtype)
    check(lambda L, y: getattr(L, name)(y), y)
    check(lambda L, y: getattr(L, name)(y, dx=0.5, dim=0), y)
    check(lambda L, y: getattr(L, name)(y, dx=2), y)


@pytest.mark.parametrize("name", ["trapezoid", "trapz", "cumulative_trapezoid"])
@pytest.mark.parametrize("x_shape, dim", [((5,), 1), ((3,), 0), ((3, 5), 1), ((1, 5), -1), ((3, 1), 0)])
def test_trapezoid_with_sample_points(name, x_shape, dim):
    y, x = sample((3, 5), numpy.float64), numpy.sort(sample(x_shape, numpy.float64, seed=2), axis=-1)
    check(lambda L, y, x: getattr(L, name)(y, x, dim=dim), y, x)
    check(lambda L, y, x: getattr(L, name)(y, x, dim=dim), sample((3, 5), numpy.int64), sample(x_shape, numpy.int64))
    gradcheck(lambda L, y, x: getattr(L, name)(y, x, dim=dim), y, x)


@pytest.mark.parametrize("name", ["trapezoid", "cumulative_trapezoid"])
def test_trapezoid_edges_and_errors(name):
    check(lambda L, y: getattr(L, name)(y), numpy.ones((2, 0)))
    check(lambda L, y: getattr(L, name)(y), numpy.ones((2, 1)))
    check_error(lambda L, y: getattr(L, name)(y), numpy.array([True, False]))
    check_error(lambda L, y, x: getattr(L, name)(y, x, dim=1), numpy.ones((2, 3)), numpy.ones(2))
    check_error(lambda L, y, x: getattr(L, name)(y, x, dim=1), numpy.ones((2, 3)), numpy.ones((3, 3)))
    check_error(lambda L, y, x: getattr(L, name)(y, x, dx=2), numpy.ones((2, 3)), numpy.ones(3))
    check_error(lambda L, y: getattr(L, name)(y), numpy.array(1.0))


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int64, numpy.int8, numpy.uint8, numpy.bool_,
                                   numpy.complex128])
@pytest.mark.parametrize("N, increasing", [(None, False), (4, False), (2, True), (0, False), (1, True)])
def test_vander_matches_torch(dtype, N, increasing):
    # values only: torch 2.13's own vander backward fails ("modified by an inplace operation") (so gradients are checked by finite differences below)
    check(lambda L, x: L.vander(x, N, increasing), sample((3,), dtype, low=-2, high=3), grad=False)


def test_vander_gradients_at_zero_and_errors():
    gradcheck(lambda L, x: L.vander(x, 4, True), numpy.array([0.0, 1.5, -2.0]), gradgrad=False)
    gradcheck(lambda L, x: L.vander(x, 4), numpy.array([0.5, 1.5, -2.0]))   # cumprod's second derivative: not at 0
    check_error(lambda L, x: L.vander(x), numpy.ones((2, 2)))
    check_error(lambda L, x: L.vander(x, -1), numpy.ones(2))


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int64])
@pytest.mark.parametrize("edge_order", [1, 2])
@pytest.mark.parametrize("kwargs", [{}, {"spacing": 2.5}, {"dim": 1}, {"dim": [-1, 0], "spacing": [0.5, 3]},
                                    {"spacing": "coordinates"}, {"dim": 0, "spacing": "coordinates"}])
def test_gradient_matches_torch(dtype, edge_order, kwargs):
    def run(L, f, x0, x1):
        k = dict(kwargs)
        if k.get("spacing") == "coordinates":
            k["spacing"] = [x0] if k.get("dim") == 0 else [x0, x1]
        return L.gradient(f, edge_order=edge_order, **k)
    x0, x1 = numpy.array([0.0, 0.5, 2.0, 2.5]), numpy.array([-1.0, 0.0, 0.3, 1.0, 2.5])
    # float32 samples at float64 points: torch computes the one-sided ends in float32, so float32 accuracy there
    check(run, sample((4, 5), dtype), x0, x1, rtol=1e-5 if dtype == numpy.float32 else None)


def test_gradient_gradcheck_edges_and_errors():
    gradcheck(lambda L, f, x: L.gradient(f, spacing=[x], dim=1, edge_order=2), sample((2, 4), numpy.float64),
              numpy.array([0.0, 0.5, 2.0, 2.5]))
    check(lambda L, f: L.gradient(f), numpy.array(1.0))
    check(lambda L, f: L.gradient(f, spacing=2), sample((2,)))
    check_error(lambda L, f: L.gradient(f, edge_order=2), numpy.ones((2, 3)))
    check_error(lambda L, f: L.gradient(f, edge_order=3), numpy.ones((3, 3)))
    check_error(lambda L, f: L.gradient(f, dim=(0, 0)), numpy.ones((3, 3)))
    check_error(lambda L, f: L.gradient(f, spacing=[1.0, 2.0], dim=1), numpy.ones((3, 3)))
