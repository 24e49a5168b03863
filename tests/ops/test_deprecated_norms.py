"""frobenius_norm and nuclear_norm (PyTorch's deprecated ATen norms) against PyTorch: values, dtypes, gradients,
out=, errors, and the deprecation warning (torch's text, once per call site)."""
import subprocess
import sys
import warnings

import numpy
import pytest

import ember
from ember.ops import _util

from ..oracle import check, check_error, sample


def quiet(fn):
    """``fn`` with warnings ignored: PyTorch's own deprecation warning fires once per process, whichever test is
    first, and the test suite turns warnings into errors."""
    def run(*args, **kwargs):
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return fn(*args, **kwargs)
    return run


@pytest.fixture(autouse=True)
def fresh_sites():
    """Each test starts as a fresh process would: no site has warned yet."""
    saved = set(_util._warned)
    _util._warned.clear()
    yield
    _util._warned.clear()
    _util._warned.update(saved)


X = sample((2, 3, 4), numpy.float64)


@pytest.mark.parametrize("dim", [(1, 2), (0,), 1, -1, (-1, -3), [0, 2], (), []])
@pytest.mark.parametrize("keepdim", [False, True])
def test_frobenius_norm_matches_torch(dim, keepdim):
    check(quiet(lambda L, x: L.frobenius_norm(x, dim, keepdim)), X)
    check(quiet(lambda L, x: L.frobenius_norm(x, dim=dim, keepdim=keepdim)), X)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float16, numpy.complex64, numpy.complex128])
def test_frobenius_norm_dtypes_match_torch(dtype):
    check(quiet(lambda L, x: L.frobenius_norm(x, (0, 2))), sample((2, 3, 4), dtype))


def test_frobenius_norm_of_bfloat16_scalars_and_empty_tensors():
    check(quiet(lambda L, x: L.frobenius_norm(x.bfloat16(), (1,))), X, grad=False, rtol=1e-2, atol=1e-2)
    for dim in [(), 0, (-1,)]:
        for keepdim in [False, True]:
            check(quiet(lambda L, x: L.frobenius_norm(x, dim, keepdim)), numpy.array(-3.0))
    for dim in [(0, -1), (1,), (-2,)]:
        check_error(quiet(lambda L, x: L.frobenius_norm(x, dim)), numpy.array(-3.0))
    check(quiet(lambda L, x: L.frobenius_norm(x, (0,))), numpy.zeros((0, 3)))


@pytest.mark.parametrize("args, kwargs", [((), {}), ((True,), {}), ((), {"keepdim": True}), (((1, 2),), {}),
                                          (((0, 2), True), {}), ((), {"dim": (-1, 0)}), (([-2, -1],), {})])
def test_nuclear_norm_matches_torch(args, kwargs):
    check(quiet(lambda L, x: L.nuclear_norm(x, *args, **kwargs)), X)


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.complex64, numpy.complex128])
def test_nuclear_norm_dtypes_match_torch(dtype):
    check(quiet(lambda L, x: L.nuclear_norm(x)), sample((3, 5, 4), dtype), rtol=1e-4, atol=1e-4)
    check(quiet(lambda L, x: L.nuclear_norm(x, (0, 1))), sample((3, 5, 4), dtype), rtol=1e-4, atol=1e-4)


def test_nuclear_norm_of_an_empty_matrix():
    check(quiet(lambda L, x: L.nuclear_norm(x)), numpy.zeros((0, 3)), grad=False)


def test_out_matches_torch():
    def run(L, x):
        fro, nuc, nuc_dim = L.empty(0, dtype=L.float64), L.empty(5, dtype=L.float64), L.empty(0, dtype=L.float64)
        returned = L.frobenius_norm(x, (0, 1), out=fro)
        return returned is fro, fro, L.nuclear_norm(x, out=nuc) is nuc, nuc, L.nuclear_norm(x, (0, 2), out=nuc_dim)
    check(quiet(run), X, grad=False)


@pytest.mark.parametrize("dim, dtype", [((0, 1, 2), numpy.float64), ((0, 1, 2, 3), numpy.float64),
                                        ((0, 1, 2), numpy.int64), ((0, 7), numpy.float64), ((0, 7), numpy.int64),
                                        ((1, 1), numpy.float64), ((0,), numpy.int64), ((0,), numpy.bool_),
                                        ("a", numpy.float64), (1.5, numpy.float64), ((0, 1.5), numpy.float64),
                                        (None, numpy.float64), (True, numpy.float64), ((True,), numpy.float64)])
def test_frobenius_norm_errors_match_torch(dim, dtype):
    x = sample((2, 3, 4), dtype)
    error = check_error(quiet(lambda L, x: L.frobenius_norm(x, dim)), x)
    if dim == (0, 1, 2):
        assert str(error) == "Expected at most 2 dimensions, but got 3 dimensions instead."
    if dtype is numpy.int64 and dim == (0, 7):
        assert str(error) == "norm(): input dtype should be either floating point or complex. Got Long instead."


def test_frobenius_norm_needs_dim():
    check_error(quiet(lambda L, x: L.frobenius_norm(x)), X)


@pytest.mark.parametrize("shape, dtype, args", [
    ((4,), numpy.float64, ()), ((2, 3, 4), numpy.int64, ()), ((4,), numpy.int64, ()), ((2, 3, 4), numpy.float16, ()),
    ((2, 3, 4), numpy.float64, ((0,),)), ((2, 3, 4), numpy.float64, ((0, 1, 2),)), ((2, 3, 4), numpy.float64, ((),)),
    ((2, 3, 4), numpy.float64, ((1, 1),)), ((2, 3, 4), numpy.float64, ((-2, 1),)), ((2, 3, 4), numpy.float64, (1,)),
    ((2, 3, 4), numpy.float64, ((0, 5),)), ((2, 3, 4), numpy.float16, ((0, 5, 6),)),
    ((2, 3, 4), numpy.float64, ((0, 1.5),)), ((2, 3, 4), numpy.float64, ("a",))])
def test_nuclear_norm_errors_match_torch(shape, dtype, args):
    error = check_error(quiet(lambda L, x: L.nuclear_norm(x, *args)), sample(shape, dtype))
    expected = {((4,), ()): "linalg.matrix_norm: The input tensor A must have at least 2 dimensions.",
                ((2, 3, 4), ((0, 1, 2),)): "linalg.matrix_norm: dim must be a 2-tuple. Got 0 1 2",
                ((2, 3, 4), ((),)): "linalg.matrix_norm: dim must be a 2-tuple. Got ",
                ((2, 3, 4), ((-2, 1),)): "linalg.matrix_norm: dims must be different. Got (1, 1)",
                ((2, 3, 4), (1,)): "linalg.matrix_norm: dims must be different. Got (1, 1)"}.get((shape, args))
    if dtype is numpy.float16:
        expected = "linalg.matrix_norm: Low precision dtypes not supported. Got Half"
    elif dtype is numpy.int64 and len(shape) > 1:
        expected = "linalg.matrix_norm: Expected a floating point or complex tensor as input. Got Long"
    if expected is not None:
        assert str(error) == expected


def test_nuclear_norm_rejects_bfloat16():
    error = check_error(quiet(lambda L, x: L.nuclear_norm(x.bfloat16())), X)
    assert str(error) == "linalg.matrix_norm: Low precision dtypes not supported. Got BFloat16"


@pytest.mark.parametrize("out_dtype", ["float32", "int64", "complex128"])
def test_out_dtype_errors_match_torch(out_dtype):
    def fro(L, x):
        return L.frobenius_norm(x, (0, 1), out=L.empty(4, dtype=getattr(L, out_dtype)))

    def nuc(L, x):
        return L.nuclear_norm(x, out=L.empty(2, dtype=getattr(L, out_dtype)))
    error = check_error(quiet(fro), X)
    expected = {"float32": "float", "int64": "long int", "complex128": "c10::complex<double>"}[out_dtype]
    assert str(error) == f"Expected out tensor to have dtype double, but got {expected} instead"
    error = check_error(quiet(nuc), X)
    expected = {"float32": "Float", "int64": "Long", "complex128": "ComplexDouble"}[out_dtype]
    assert str(error) == f"linalg.matrix_norm expected out tensor dtype Double but got: {expected}"


def _torch_warnings():
    """PyTorch's warning texts, from a fresh interpreter (its warnings fire once per process)."""
    code = """
import warnings, torch
warnings.simplefilter("always")
x = torch.randn(2, 3)
for call in (lambda: torch.frobenius_norm(x, (0,)), lambda: torch.nuclear_norm(x)):
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        call()
    print(str(caught[0].message).split(" (Triggered internally")[0])
"""
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert result.returncode == 0, result.stderr
    return result.stdout.splitlines()


def test_warnings_are_torchs_once_per_site():
    frobenius, nuclear = _torch_warnings()
    x = ember.tensor(X)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.frobenius_norm(x, (0,))
        ember.frobenius_norm(x, (1,))          # the same site: silent
        ember.nuclear_norm(x)
        ember.nuclear_norm(x, (0, 1))          # both overloads share a site
        ember.nuclear_norm(x, True)
    assert [str(w.message) for w in caught] == [frobenius, nuclear]
    assert all(w.category is UserWarning and w.filename == __file__ for w in caught)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        ember.frobenius_norm(x, (0,), out=ember.empty(0, dtype=ember.float64))   # each out= form has its own
        ember.nuclear_norm(x, out=ember.empty(0, dtype=ember.float64))
        ember.nuclear_norm(x, (0, 1), out=ember.empty(0, dtype=ember.float64))
        ember.nuclear_norm(x, (0, 1), out=ember.empty(0, dtype=ember.float64))
    assert [str(w.message) for w in caught] == [frobenius, nuclear, nuclear]


def test_warns_before_checking_the_arguments():
    with pytest.warns(UserWarning, match="frobenius_norm is deprecated"), pytest.raises(RuntimeError):
        ember.frobenius_norm(ember.tensor(X), (0, 1, 2))
    with pytest.warns(UserWarning, match="nuclear_norm is deprecated"), pytest.raises(RuntimeError):
        ember.nuclear_norm(ember.ones(3))


def test_functions_only():
    """As PyTorch's, these are functions of the top-level namespace, not Tensor methods."""
    assert not hasattr(ember.Tensor, "frobenius_norm") and not hasattr(ember.Tensor, "nuclear_norm")
