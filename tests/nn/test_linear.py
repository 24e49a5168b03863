"""F.linear (one primitive for x W^T + b) against torch: values, gradients, double backward and errors."""
import numpy
import pytest

from tests.oracle import check, check_error, gradcheck, sample

F32, F64 = numpy.float32, numpy.float64
CASES = [((3, 4), (5, 4), (5,)), ((3, 4), (5, 4), None), ((4,), (5, 4), (5,)), ((2, 3, 4), (5, 4), (5,)),
         ((0, 4), (5, 4), (5,)), ((3, 4), (4,), None), ((3, 4), (5, 4), (1,)), ((2, 3, 4), (5, 4), (3, 5))]


@pytest.mark.parametrize("shapes", CASES, ids=str)
def test_linear_matches_torch(shapes):
    x, w, b = (None if s is None else sample(s, F32, seed=i) for i, s in enumerate(shapes))
    if b is None:
        check(lambda lib, x, w: lib.nn.functional.linear(x, w), x, w, rtol=1e-5, atol=1e-5)
    else:
        check(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), x, w, b, rtol=1e-5, atol=1e-5)


def test_linear_gradcheck_and_double_backward():
    gradcheck(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), sample((2, 3, 4), F64), sample((5, 4), F64),
              sample((5,), F64))


@pytest.mark.parametrize("dtypes, match", [
    ((F64, F32, None), "expected m1 and m2 to have the same dtype, but got: double != float"),
    ((F32, F32, F64), "self and mat2 must have the same dtype, but got Double and Float"),
    ((F64, F32, F64), "self and mat2 must have the same dtype, but got Double and Float"),
])
def test_linear_dtype_errors_match_torch(dtypes, match):
    x, w, b = sample((3, 4), dtypes[0]), sample((5, 4), dtypes[1]), dtypes[2] and sample((5,), dtypes[2])
    if b is None:
        check_error(lambda lib, x, w: lib.nn.functional.linear(x, w), x, w, match=match)
    else:
        check_error(lambda lib, x, w, b: lib.nn.functional.linear(x, w, b), x, w, b, match=match)


def test_seed_cnn_shape_error_matches_torch():
    """Seed 002's CNN feeds 12544 features into Linear(9216, 128): both libraries refuse with one message."""
    check_error(lambda lib, x, w: lib.nn.functional.linear(x, w), sample((100, 12544), F32),
                sample((128, 9216), F32), match=r"mat1 and mat2 shapes cannot be multiplied \(100x12544 and 9216x128\)")


def test_overflow_gives_inf_silently_like_torch():
    """Warnings are errors in this suite: NumPy's overflow warning would fail the call."""
    x, w = numpy.full((2, 3), 1e30, F32), numpy.full((4, 3), 1e30, F32)
    check(lambda lib, x, w: lib.nn.functional.linear(x, w), x, w, grad=False)
    check(lambda lib, x, w: x @ w.t(), x, w, grad=False)
    check(lambda lib, x, w: lib.nn.functional.conv1d(x, w), x[None, :1], w[None, :1, :2], grad=False)
