"""linalg.vander, tensorinv, tensorsolve and solve_ex against PyTorch's: values, gradients, shapes and errors."""
import numpy
import pytest
import torch

import ember
from tests.oracle import check, check_error

rng = numpy.random.default_rng(0)


@pytest.mark.parametrize("x,n", [(rng.standard_normal(4), None), (rng.standard_normal((2, 3)), 5),
                                 (numpy.array([1, 2, 3]), 4)])
def test_vander(x, n):
    grad = x.dtype.kind == "f"
    check(lambda lib, t: lib.linalg.vander(t, N=n), x, grad=grad)


def test_vander_errors():
    check_error(lambda lib, t: lib.linalg.vander(t, N=1), rng.standard_normal(3))
    check_error(lambda lib, t: lib.linalg.vander(t), numpy.array(2.0))


def test_tensorinv_and_tensorsolve():
    square = rng.standard_normal((6, 2, 3)) + 3 * numpy.eye(6).reshape(6, 2, 3)
    check(lambda lib, t: lib.linalg.tensorinv(t, ind=1), square)
    check(lambda lib, t: lib.linalg.tensorinv(t, ind=2), rng.standard_normal((4, 6, 8, 3)) +
          numpy.eye(24).reshape(4, 6, 8, 3))
    matrix = rng.standard_normal((2, 3, 6)) + numpy.eye(6).reshape(2, 3, 6)
    b = rng.standard_normal((2, 3))
    check(lambda lib, t, u: lib.linalg.tensorsolve(t, u), matrix, b)
    moved = rng.standard_normal((6, 2, 3)) + numpy.eye(6).reshape(6, 2, 3)
    check(lambda lib, t, u: lib.linalg.tensorsolve(t, u, dims=(0,)), moved, b)
    check_error(lambda lib, t: lib.linalg.tensorinv(t, ind=0), square)
    check_error(lambda lib, t: lib.linalg.tensorinv(t, ind=1), rng.standard_normal((4, 2, 3)))
    check_error(lambda lib, t, u: lib.linalg.tensorsolve(t, u), rng.standard_normal((2, 3, 5)), b)


def test_solve_ex():
    a = rng.standard_normal((3, 4, 4)) + 4 * numpy.eye(4)
    b = rng.standard_normal((3, 4, 2))
    check(lambda lib, t, u: lib.linalg.solve_ex(t, u).result, a, b)
    check(lambda lib, t, u: lib.linalg.solve_ex(t, u, left=False).result, a, rng.standard_normal((3, 2, 4)))
    singular = a.copy()
    singular[1] = 0.0
    for lib in (ember, torch):
        out = lib.linalg.solve_ex(lib.tensor(singular), lib.tensor(b))
        assert type(out).__name__ == "linalg_solve_ex" and out.info.dtype == lib.int32
        assert out.info.tolist()[0] == 0 and out.info.tolist()[1] > 0 and out.info.tolist()[2] == 0
        numpy.testing.assert_allclose(out.result.numpy()[0], numpy.linalg.solve(a[0], b[0]), rtol=1e-10)
        with pytest.raises(Exception, match="singular"):
            lib.linalg.solve_ex(lib.tensor(singular), lib.tensor(b), check_errors=True)
