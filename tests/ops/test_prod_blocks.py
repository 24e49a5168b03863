"""prod against PyTorch where it multiplies column blocks (a long last axis, or all of a large array) and where
NumPy's prod runs: values, gradients (also with zeros), dtypes, layouts, infinities and NaNs."""
import numpy
import pytest

from ember.ops import reduction

from ..oracle import check, gradcheck, noncontiguous, sample

NAN, INF = float("nan"), float("inf")


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("shape", [(200, 128), (64, 1000), (3, 5, 4099), (1 << 15,), (16, 16, 64)])
def test_prod_matches_torch(dtype, shape):
    x = sample(shape, dtype, 0.99, 1.01)
    tolerance = {"rtol": 1e-4, "atol": 1e-4} if dtype == numpy.float32 else {}
    check(lambda L, x: [L.prod(x, -1), x.prod(dim=x.ndim - 1, keepdim=True), x.prod(), x.prod(0)], x, **tolerance)


def test_prod_takes_column_blocks_where_it_pays(monkeypatch):
    multiplied = []
    original = numpy.multiply
    monkeypatch.setattr(reduction.numpy, "multiply", lambda *a, **k: multiplied.append(1) or original(*a, **k))
    for shape, dim, blocks in [((200, 128), 1, True), ((1 << 15,), None, True), ((200, 128), 0, False),
                               ((1000, 100), 1, False), ((100, 128), 1, False)]:
        multiplied.clear()
        reduction._product(sample(shape, numpy.float32, 0.99, 1.01), dim, False, None)
        assert bool(multiplied) == blocks, (shape, dim)


def test_prod_of_noncontiguous_nonfinite_zeros_and_other_dtypes():
    x = sample((40, 700), numpy.float32, 0.99, 1.01)
    for array in (noncontiguous(x), x[:, ::3], x.T.copy().T):
        check(lambda L, x: [x.prod(1), x.prod(), x.flip(1).prod(1)], array, rtol=1e-4)
    x[3, 5], x[4, 600], x[5, 100], x[6, 9], x[6, 300] = NAN, INF, 0.0, INF, 0.0
    x[7, 10] = x[7, 20] = 0.0   # two zeros: a zero gradient
    check(lambda L, x: [x.prod(1), x.prod(-1, keepdim=True)], x, rtol=1e-4)
    check(lambda L, x: [x.prod(1), x.prod()], sample((20, 300), numpy.int64, -1, 2))
    check(lambda L, x: [x.prod(1, dtype=L.float64), x.prod(dtype=L.float64)], sample((30, 600), numpy.float32, 0.9,
                                                                                    1.1), rtol=1e-6)
    gradcheck(lambda L, x: x.prod(1), sample((3, 300), numpy.float64, 0.98, 1.02), atol=1e-4, gradgrad=False)
