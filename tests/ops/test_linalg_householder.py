"""Householder reflectors against PyTorch: geqrf, linalg.householder_product (orgqr) and ormqr; values (float32/64,
complex, batched, tall/square/wide, empty), gradients (against torch, finite differences in float64), errors (type
and message), out=, the Tensor methods and node names."""

import numpy
import pytest
import torch

import ember

from ..oracle import check, check_same_error, gradcheck, sample

DTYPES = [numpy.float32, numpy.float64, numpy.complex64, numpy.complex128]


def _tolerance(dtype):
    return 1e-4 if dtype in (numpy.float32, numpy.complex64) else 1e-10


@pytest.mark.parametrize("shape", [(4, 3), (3, 5), (2, 4, 4), (1, 1), (2, 3, 1), (2, 0, 3), (2, 3, 0), (0, 3, 2)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_geqrf_matches_torch(shape, dtype):
    tolerance = _tolerance(dtype)
    check(lambda L, A: tuple(L.geqrf(A)), sample(shape, dtype), grad=False, rtol=tolerance, atol=tolerance)
    check(lambda L, A: tuple(A.geqrf()), sample(shape, dtype), grad=False, rtol=tolerance, atol=tolerance)


def test_geqrf_result_type_out_and_no_derivative():
    A = sample((4, 3), numpy.float64)
    result = ember.geqrf(ember.tensor(A))
    assert type(result).__name__ == "geqrf" and result._fields == ("a", "tau")
    check(lambda L, A: tuple(L.geqrf(A, out=(L.empty(0, dtype=L.float64), L.empty(0, dtype=L.float64)))),
          A.astype(numpy.float32), grad=False, rtol=1e-5, atol=1e-5)
    x = ember.tensor(A, requires_grad=True)
    a, tau = ember.geqrf(x)
    assert a.grad_fn.name() == "GeqrfBackward0" and tau.grad_fn is a.grad_fn
    with pytest.raises(NotImplementedError, match=r"^the derivative for 'geqrf' is not implemented\.$"):
        (a.sum() + tau.sum()).backward()
    check_same_error(lambda L, A: L.geqrf(A.requires_grad_(), out=(L.empty(0, dtype=L.float64),
                                                                   L.empty(0, dtype=L.float64))), A)


@pytest.mark.parametrize("call", [lambda L, A: L.geqrf(A), lambda L, A: L.geqrf([[1.0]])])
@pytest.mark.parametrize("A", [numpy.ones(3), numpy.ones((3, 3), numpy.int64), numpy.ones((3, 3), numpy.float16),
                               numpy.ones((3, 3), bool), numpy.ones(3, numpy.int64)])
def test_geqrf_errors(call, A):
    check_same_error(call, A)


def _householder_inputs(batch, m, n, k, dtype, seed=0):
    """geqrf's (a, tau) of a random (batch, m, n) matrix, tau cut to its first k entries."""
    a, tau = (t.numpy() for t in torch.geqrf(torch.tensor(sample(batch + (m, n), dtype, seed=seed))))
    return a, numpy.ascontiguousarray(tau[..., :k])


@pytest.mark.parametrize("batch, m, n, k", [((), 5, 3, 3), ((), 5, 3, 2), ((), 4, 4, 4), ((), 4, 4, 3), ((2,), 6, 3, 3),
                                            ((2, 3), 4, 2, 1), ((), 1, 1, 1), ((), 3, 3, 0), ((), 0, 0, 0),
                                            ((), 3, 0, 0), ((0,), 3, 2, 2), ((2,), 3, 2, 0)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_householder_product_matches_torch(batch, m, n, k, dtype):
    A, tau = _householder_inputs(batch, m, n, k, dtype)
    tolerance = _tolerance(dtype)
    grad = dtype in (numpy.float64, numpy.complex128)
    check(lambda L, A, tau: L.linalg.householder_product(A, tau), A, tau, grad=grad, rtol=tolerance, atol=tolerance)
    check(lambda L, A, tau: L.orgqr(A, tau), A, tau, grad=grad, rtol=tolerance, atol=tolerance)
    check(lambda L, A, tau: A.orgqr(tau), A, tau, grad=grad, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", [numpy.float64, numpy.complex128])
def test_householder_product_of_arbitrary_reflectors(dtype):
    """Random (A, tau), not from geqrf (as PyTorch's documentation example), tau_i = 0 included."""
    A, tau = sample((3, 5, 3), dtype, seed=1), sample((3, 3), dtype, seed=2)
    tau[0, 1] = 0
    check(lambda L, A, tau: L.linalg.householder_product(A, tau), A, tau)


def test_householder_product_gradient_where_a_reflector_is_singular():
    """tau_i = 1 / |v_i|^2 makes H_i singular. PyTorch's documentation warns that its gradient is then undefined
    (NaN or wrong: here torch 2.13 fails its own gradcheck); ember's formula never inverts an H_i, so its gradient
    stays the derivative, checked by finite differences."""
    A, tau = sample((5, 3), numpy.float64, seed=1), sample((3,), numpy.float64, seed=2) / 3
    v = numpy.tril(A, -1)[:, 0] + numpy.eye(5)[:, 0]
    tau[0] = 1 / (v @ v)
    gradcheck(lambda L, A, tau: L.linalg.householder_product(A, tau), A, tau)


@pytest.mark.parametrize("m, n, k", [(5, 3, 3), (4, 4, 2), (3, 3, 3), (4, 1, 1)])
def test_householder_product_gradcheck(m, n, k):
    A, tau = sample((2, m, n), numpy.float64, seed=3), sample((2, k), numpy.float64, seed=4) / 3
    gradcheck(lambda L, A, tau: L.linalg.householder_product(A, tau), A, tau)


def test_householder_product_names_out_and_real_parts():
    A, tau = _householder_inputs((), 4, 3, 3, numpy.float64)
    x, t = ember.tensor(A, requires_grad=True), ember.tensor(tau, requires_grad=True)
    assert ember.linalg.householder_product(x, t).grad_fn.name() == "LinalgHouseholderProductBackward0"
    assert ember.orgqr(x, t).grad_fn.name() == "LinalgHouseholderProductBackward0"
    A32, tau32 = A.astype(numpy.float32), tau.astype(numpy.float32)
    for dtype in ("float64", "complex64"):   # out= of a dtype the result casts to safely
        check(lambda L, A, tau: L.linalg.householder_product(A, tau, out=L.empty(0, dtype=getattr(L, dtype))),
              A32, tau32, grad=False, rtol=1e-5, atol=1e-5)
    check(lambda L, A, tau: L.orgqr(A, tau, out=L.empty(0)), A32, tau32, grad=False)


_HOUSEHOLDER_ERRORS = [
    (numpy.ones(3), numpy.ones(1)),                                     # input 1-D
    (numpy.ones((2, 3)), numpy.ones(1)),                                # m < n
    (numpy.ones((4, 2)), numpy.ones(3)),                                # k > n
    (numpy.ones((4, 2)), numpy.array(1.0)),                             # tau 0-d
    (numpy.ones((2, 4, 2)), numpy.ones((3, 2))),                        # batch dims differ
    (numpy.ones((1, 4, 2)), numpy.ones((3, 2))),                        # no broadcasting
    (numpy.ones((2, 4, 2)), numpy.ones(2)),                             # tau ndim too small
    (numpy.ones((4, 2)), numpy.ones((3, 2))),                           # tau ndim too large
    (numpy.ones((4, 2), numpy.float32), numpy.ones(2)),                 # dtypes differ
    (numpy.ones((4, 2), numpy.complex64), numpy.ones(2, numpy.float32)),
    (numpy.ones((4, 2), numpy.int64), numpy.ones(2, numpy.int64)),      # the kernel's dtypes
    (numpy.ones((4, 2), numpy.int64), numpy.ones(2)),
    (numpy.ones((2, 3), numpy.int64), numpy.ones(1, numpy.int64)),      # shape before dtype
    (numpy.ones((4, 2), numpy.float16), numpy.ones(2, numpy.float16)),
    (numpy.ones((3, 0), numpy.int64), numpy.ones(0, numpy.int64)),
]


@pytest.mark.parametrize("A, tau", _HOUSEHOLDER_ERRORS)
def test_householder_product_errors(A, tau):
    check_same_error(lambda L, A, tau: L.linalg.householder_product(A, tau), A, tau)
    check_same_error(lambda L, A, tau: L.orgqr(A, tau), A, tau)
    check_same_error(lambda L, A, tau: A.orgqr(tau), A, tau)


def test_householder_product_argument_errors():
    A, tau = sample((4, 2)), sample((2,))
    check_same_error(lambda L, A: L.linalg.householder_product([[1.0]], A), tau)
    check_same_error(lambda L, A: L.linalg.householder_product(A, [1.0]), A)
    check_same_error(lambda L, A: L.orgqr([[1.0]], A), tau)
    check_same_error(lambda L, A: L.orgqr(A, [1.0]), A)
    check_same_error(lambda L, A, tau: L.linalg.householder_product(A, tau, out=L.empty(0, dtype=L.int64)), A, tau)
    check_same_error(lambda L, A, tau: L.linalg.householder_product(A.requires_grad_(), tau, out=L.empty(0)), A, tau)


def _ormqr_inputs(batch, mn, k, columns, left, dtype, seed=0):
    """(input, tau, other) for ormqr: geqrf of a random (batch, mn, k) matrix and a C that Q multiplies."""
    a, tau = (t.numpy() for t in torch.geqrf(torch.tensor(sample(batch + (mn, k), dtype, seed=seed))))
    other = sample(batch + ((mn, columns) if left else (columns, mn)), dtype, seed=seed + 1)
    return a, numpy.ascontiguousarray(tau[..., :min(mn, k)]), other


@pytest.mark.parametrize("left, transpose", [(True, False), (True, True), (False, False), (False, True)])
@pytest.mark.parametrize("batch, mn, k, columns", [((), 5, 3, 4), ((), 4, 4, 2), ((), 3, 5, 2), ((2,), 4, 2, 3),
                                                   ((2, 2), 3, 3, 1), ((), 1, 1, 1), ((), 0, 0, 3), ((), 4, 0, 2),
                                                   ((), 3, 2, 0), ((0,), 3, 2, 2)])
@pytest.mark.parametrize("dtype", DTYPES)
def test_ormqr_matches_torch(left, transpose, batch, mn, k, columns, dtype):
    arrays = _ormqr_inputs(batch, mn, k, columns, left, dtype)
    tolerance = _tolerance(dtype)
    grad = dtype in (numpy.float64, numpy.complex128)
    check(lambda L, A, tau, C: L.ormqr(A, tau, C, left, transpose), *arrays, grad=grad, rtol=tolerance,
          atol=tolerance)
    check(lambda L, A, tau, C: A.ormqr(tau, C, left=left, transpose=transpose), *arrays, grad=grad, rtol=tolerance,
          atol=tolerance)


@pytest.mark.parametrize("left, transpose", [(True, False), (True, True), (False, False), (False, True)])
def test_ormqr_gradcheck_and_agrees_with_the_explicit_q(left, transpose):
    A, tau, C = _ormqr_inputs((2,), 4, 3, 2, left, numpy.float64)
    gradcheck(lambda L, A, tau, C: L.ormqr(A, tau, C, left, transpose), A, tau / 2, C)
    a, t, c = (ember.tensor(x) for x in (A, tau, C))
    square = ember.cat([a, ember.zeros(2, 4, 1, dtype=ember.float64)], -1)
    Q = ember.linalg.householder_product(square, ember.cat([t, ember.zeros(2, 1, dtype=ember.float64)], -1))
    Q = Q.mT if transpose else Q
    expected = Q @ c if left else c @ Q
    numpy.testing.assert_allclose(ember.ormqr(a, t, c, left, transpose).numpy(), expected.numpy(), atol=1e-12)


def test_ormqr_node_name_and_out():
    A, tau, C = _ormqr_inputs((), 4, 3, 2, True, numpy.float64)
    x = ember.tensor(A, requires_grad=True)
    assert ember.ormqr(x, ember.tensor(tau), ember.tensor(C)).grad_fn.name() == "OrmqrBackward0"
    check(lambda L, A, tau, C: L.ormqr(A, tau, C, out=L.empty(0, dtype=L.float64)), A, tau, C, grad=False)


_ORMQR_ERRORS = [
    ((4, 3), (3,), (5, 5), {"left": False}),    # other.shape[-1] != input.shape[-2]
    ((5, 3), (3,), (4, 5), {}),                  # other.shape[-2] != input.shape[-2]
    ((5, 3), (2,), (4, 6), {}),                  # that before tau's length
    ((4, 6), (5,), (4, 5), {}),                  # tau != min(other.shape[-2], input.shape[-1])
    ((4, 3), (2,), (4, 5), {}),
    ((5, 5), (4,), (4, 5), {"left": False}),     # tau != min(other.shape[-1], input.shape[-1])
    ((3,), (2,), (4, 5), {}),                    # input 1-D
    ((4, 3), (2,), (4,), {}),                    # other 1-D
    ((4, 3), (), (4, 5), {}),                    # tau 0-d
    ((4, 3), (1, 3), (4, 5), {}),                # tau ndim
    ((4, 3), (3,), (1, 4, 5), {}),               # other ndim
    ((2, 4, 3), (2, 3), (4, 5), {}),
    ((4, 3), (1, 3), (1, 4, 5), {}),
    ((2, 4, 3), (3, 3), (2, 4, 5), {}),          # batch of tau
    ((1, 4, 3), (2, 3), (2, 4, 5), {}),
    ((2, 4, 3), (2, 3), (1, 4, 5), {}),          # batch of other (no broadcasting)
    ((2, 4, 3), (2, 3), (3, 4, 5), {}),
]


@pytest.mark.parametrize("shapes", _ORMQR_ERRORS)
def test_ormqr_shape_errors(shapes):
    a, t, c, options = shapes
    check_same_error(lambda L, A, tau, C: L.ormqr(A, tau, C, **options), sample(a), sample(t), sample(c))


@pytest.mark.parametrize("dtypes", [(numpy.float32, numpy.float64, numpy.float32),
                                    (numpy.float32, numpy.float32, numpy.float64),
                                    (numpy.float32, numpy.float64, numpy.float64),
                                    (numpy.int64, numpy.int64, numpy.int64), (numpy.int32, numpy.int32, numpy.int32),
                                    (numpy.float16, numpy.float16, numpy.float16),
                                    (numpy.complex64, numpy.complex64, numpy.float32)])
def test_ormqr_dtype_errors(dtypes):
    arrays = [numpy.ones(shape, dtype) for shape, dtype in zip(((4, 3), (3,), (4, 5)), dtypes)]
    check_same_error(lambda L, A, tau, C: L.ormqr(A, tau, C), *arrays)


def test_ormqr_argument_errors():
    A, tau, C = sample((4, 3)), sample((3,)), sample((4, 5))
    check_same_error(lambda L, tau, C: L.ormqr([[1.0]], tau, C), tau, C)
    check_same_error(lambda L, A, C: L.ormqr(A, [1.0], C), A, C)
    check_same_error(lambda L, A, tau: L.ormqr(A, tau, [1.0]), A, tau)
    check_same_error(lambda L, A, tau, C: L.ormqr(A, tau, C, left=1), A, tau, C)
    check_same_error(lambda L, A, tau, C: L.ormqr(A, tau, C, out=L.empty(0, dtype=L.float64)), A, tau, C)
    check_same_error(lambda L, A, tau, C: L.ormqr(A, tau, C, out=L.empty(0, dtype=L.complex64)), A, tau, C)
    check_same_error(lambda L, A, tau, C: L.ormqr(A, tau, C.requires_grad_(), out=L.empty(0)), A, tau, C)


def test_geqrf_householder_product_ormqr_reconstruct_a():
    """Q from (geqrf, householder_product) times R is A; ormqr(Q^H A) is R (batched, complex)."""
    A = sample((3, 6, 4), numpy.complex128)
    a, tau = ember.geqrf(ember.tensor(A))
    Q = ember.linalg.householder_product(a, tau)
    numpy.testing.assert_allclose((Q @ a.triu()[..., :4, :]).numpy(), A, atol=1e-12)
    R = ember.ormqr(a, tau, ember.tensor(A), transpose=True)
    numpy.testing.assert_allclose(R.numpy(), numpy.triu(a.numpy()) * (numpy.arange(6)[:, None] < 4), atol=1e-12)
