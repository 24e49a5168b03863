"""F.linear (one primitive for x W^T + b) against torch: values, gradients, double backward and errors."""
import numpy
import pytest
import torch

import ember
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


MIXED_PRODUCTS = {   # operands of different dtypes: PyTorch's messages, by op and argument
    "linear_input": lambda L, o: L.nn.functional.linear(L.ones(2, 3, dtype=o), L.ones(4, 3), L.ones(4)),
    "linear_input_unbiased": lambda L, o: L.nn.functional.linear(L.ones(2, 3, dtype=o), L.ones(4, 3)),
    "linear_input_3d": lambda L, o: L.nn.functional.linear(L.ones(5, 2, 3, dtype=o), L.ones(4, 3), L.ones(4)),
    "linear_bias": lambda L, o: L.nn.functional.linear(L.ones(2, 3), L.ones(4, 3), L.ones(4, dtype=o)),
    "addmm_self": lambda L, o: L.addmm(L.ones(4, dtype=o), L.ones(2, 3), L.ones(3, 4)),
    "addmm_mat1": lambda L, o: L.addmm(L.ones(4), L.ones(2, 3, dtype=o), L.ones(3, 4)),
    "addmm_mat2": lambda L, o: L.addmm(L.ones(4), L.ones(2, 3), L.ones(3, 4, dtype=o)),
    "addmm_mat1_bad_shape": lambda L, o: L.addmm(L.ones(4), L.ones(2, 5, dtype=o), L.ones(3, 4)),
    "addbmm_batch1": lambda L, o: L.addbmm(L.ones(2, 4), L.ones(1, 2, 3, dtype=o), L.ones(1, 3, 4)),
    "addbmm_batch2": lambda L, o: L.addbmm(L.ones(2, 4), L.ones(1, 2, 3), L.ones(1, 3, 4, dtype=o)),
    "matmul_vector_matrix": lambda L, o: L.matmul(L.ones(3), L.ones(3, 4, dtype=o)),
    "bilinear_bias": lambda L, o: L.nn.functional.bilinear(L.ones(2, 3), L.ones(2, 3), L.ones(4, 3, 3),
                                                           L.ones(4, dtype=o)),
    "bilinear_input2": lambda L, o: L.bilinear(L.ones(2, 3), L.ones(2, 3, dtype=o), L.ones(4, 3, 3)),
}


@pytest.mark.parametrize("other", ["float64", "float16", "int64"])
@pytest.mark.parametrize("call", MIXED_PRODUCTS)
def test_mixed_dtype_products_raise_pytorchs_errors(call, other):
    messages = []
    for lib in (torch, ember):
        with pytest.raises(RuntimeError) as error:
            MIXED_PRODUCTS[call](lib, getattr(lib, other))
        messages.append(str(error.value))
    assert messages[1] == messages[0]
