"""``ember._compat``'s CuPy paths, run on NumPy arrays (the algorithms: scans, split scatters, broadcasting solve,
einsum as sums) against NumPy's own functions; tests/cuda runs them on CuPy arrays where a GPU is at hand."""
import numpy
import pytest

from ember import _compat


@pytest.fixture
def generic(monkeypatch):
    """Makes _compat take the paths it takes for CuPy, with NumPy standing in for the array module."""
    monkeypatch.setattr(_compat, "_on_host", lambda xp: False)


@pytest.mark.parametrize("name", ["maximum", "minimum", "logaddexp", "add", "multiply"])
@pytest.mark.parametrize("axis", [0, 1, 2])
def test_accumulate_scans_match_numpy(generic, name, axis):
    a = numpy.random.default_rng(0).standard_normal((5, 7, 3))
    a[1, 2, 0] = numpy.nan
    with numpy.errstate(invalid="ignore"):   # NaN in logaddexp; ops run it under ``quiet``
        got, want = _compat.accumulate(numpy, name, a, axis), getattr(numpy, name).accumulate(a, axis)
    numpy.testing.assert_allclose(got, want, rtol=1e-12, equal_nan=True)


@pytest.mark.parametrize("name, dtype", [("add", numpy.complex128), ("add", numpy.int8), ("add", numpy.bool_),
                                         ("add", numpy.float64), ("maximum", numpy.float64),
                                         ("minimum", numpy.int16), ("multiply", numpy.float32)])
def test_ufunc_at_matches_numpy(generic, name, dtype):
    rng = numpy.random.default_rng(1)
    index = numpy.array([0, 2, 2, 5, 0])
    host = (rng.standard_normal(6) * 3).astype(dtype)
    values = (rng.standard_normal(5) * 3).astype(dtype)
    expected = host.copy()
    getattr(numpy, name).at(expected, index, values)
    _compat.ufunc_at(numpy, name, host, index, values)
    numpy.testing.assert_allclose(host, expected, rtol=1e-6)


def test_amax_solve_lexsort_einsum_and_where_match_numpy(generic):
    rng = numpy.random.default_rng(2)
    a = rng.standard_normal((4, 3))
    numpy.testing.assert_array_equal(_compat.amax(numpy, a, axis=1, keepdims=True, initial=0),
                                     a.max(axis=1, keepdims=True, initial=0))
    numpy.testing.assert_array_equal(_compat.amax(numpy, numpy.zeros((0, 3)), axis=0, initial=0), numpy.zeros(3))
    A, B = rng.standard_normal((3, 1, 4, 4)), rng.standard_normal((5, 4, 2))
    numpy.testing.assert_allclose(_compat.solve(numpy, A, B), numpy.linalg.solve(A, B), rtol=1e-10)
    keys = (numpy.array([1, 0, 1, 0, 1]), numpy.array([3.0, 3.0, 1.0, 2.0, 1.0]), numpy.array([0, 0, 1, 1, 1]))
    numpy.testing.assert_array_equal(_compat.lexsort(numpy, keys), numpy.lexsort(keys))
    x, y = rng.standard_normal((2, 3, 4)), rng.standard_normal((2, 3, 4))
    for subscripts, operands in (("ncs->nc", (x,)), ("ncs,ncs->nc", (x, y)), ("ij,ij->i", (x[0], y[0])),
                                 ("ij,ij->j", (x[0], y[0]))):
        numpy.testing.assert_allclose(_compat.einsum(numpy, subscripts, *operands), numpy.einsum(subscripts, *operands),
                                      rtol=1e-12)
    target, part, where = numpy.zeros(5), numpy.arange(5.0), numpy.array([1, 0, 1, 0, 1], bool)
    _compat.add_where(numpy, target, part, where)
    numpy.testing.assert_array_equal(target, [0, 0, 2, 0, 4])
    for got, want in zip(_compat.sparse_indices(numpy, (2, 3, 4)), numpy.indices((2, 3, 4), sparse=True)):
        numpy.testing.assert_array_equal(got, want)
