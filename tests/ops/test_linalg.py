"""Linear algebra against PyTorch: products, norms, inverses, solvers and decompositions (values, dtypes, shapes,
gradients), finite-difference gradients in float64, and error types and messages."""
import math

import numpy
import pytest
import torch

import ember
from ember.ops import _util
from tests import oracle
from tests.oracle import check, check_error, sample

F32, F64, C64, C128, I64, I32 = numpy.float32, numpy.float64, numpy.complex64, numpy.complex128, numpy.int64, numpy.int32
NC = oracle.noncontiguous


def spd(n, batch=(), dtype=F64, seed=0):
    """A well-conditioned Hermitian positive-definite matrix (or batch of them)."""
    a = sample(batch + (n, n), dtype, -1, 1, seed=seed)
    return (a @ a.conj().swapaxes(-1, -2) + n * numpy.eye(n)).astype(dtype)


def spread(m, n, batch=(), dtype=F64, seed=0):
    """A matrix with well-separated singular values (3, 2, 1, ... scaled), so its SVD is smooth."""
    rng = numpy.random.default_rng(seed)
    k = min(m, n)
    u = numpy.linalg.qr(rng.standard_normal(batch + (m, k)))[0]
    v = numpy.linalg.qr(rng.standard_normal(batch + (n, k)))[0]
    s = numpy.linspace(3, 1, k) if k else numpy.zeros(0)
    a = (u * s[..., None, :]) @ v.swapaxes(-1, -2)
    if numpy.dtype(dtype).kind == "c":
        a = a + 0.3j * sample(a.shape, F64, -1, 1, seed=seed + 1)
    return a.astype(dtype)


def triangular(n, upper, batch=(), dtype=F64, seed=0):
    a = sample(batch + (n, n), dtype, -1, 1, seed=seed) + 3 * numpy.eye(n)
    return (numpy.triu(a) if upper else numpy.tril(a)).astype(dtype)


def mat(*shape, dtype=F32, seed=0):
    return sample(shape, dtype, -2, 2, seed=seed)


# --- products ---------------------------------------------------------------------------------------------
PRODUCTS = [
    ("matmul_2d", lambda L, a, b: L.matmul(a, b), (mat(3, 4), mat(4, 5, seed=1))),
    ("matmul_operator_nc", lambda L, a, b: a @ b, (NC(mat(4, 3)), NC(mat(3, 2, seed=1)))),
    ("matmul_1d_1d", lambda L, a, b: a @ b, (mat(4), mat(4, seed=1))),
    ("matmul_1d_2d", lambda L, a, b: a @ b, (mat(4), mat(4, 3, seed=1))),
    ("matmul_2d_1d", lambda L, a, b: a @ b, (mat(3, 4), mat(4, seed=1))),
    ("matmul_3d_2d", lambda L, a, b: a @ b, (mat(2, 3, 4), mat(4, 5, seed=1))),
    ("matmul_3d_1d", lambda L, a, b: a @ b, (mat(2, 3, 4), mat(4, seed=1))),
    ("matmul_1d_3d", lambda L, a, b: a @ b, (mat(4), mat(2, 4, 3, seed=1))),
    ("matmul_broadcast", lambda L, a, b: a @ b, (mat(2, 1, 3, 4), mat(5, 4, 2, seed=1))),
    ("matmul_2d_4d", lambda L, a, b: L.matmul(a, b), (mat(3, 4), mat(2, 2, 4, 2, seed=1))),
    ("matmul_f64", lambda L, a, b: a @ b, (mat(3, 4, dtype=F64), mat(2, 4, 2, dtype=F64, seed=1))),
    ("matmul_complex", lambda L, a, b: a @ b, (mat(3, 4, dtype=C128), mat(4, 2, dtype=C128, seed=1))),
    ("matmul_empty", lambda L, a, b: a @ b, (mat(0, 4), mat(4, 3, seed=1))),
    ("matmul_empty_inner", lambda L, a, b: a @ b, (mat(3, 0), mat(0, 2, seed=1))),
    ("matmul_empty_batch", lambda L, a, b: a @ b, (mat(0, 3, 4), mat(4, 2, seed=1))),
    ("matmul_int", lambda L, a, b: a @ b, (mat(3, 4, dtype=I64), mat(2, 4, 2, dtype=I64, seed=1))),
    ("matmul_int32_vec", lambda L, a, b: a @ b, (mat(4, dtype=I32), mat(4, 3, dtype=I32, seed=1))),
    ("mm", lambda L, a, b: [L.mm(a, b), a.mm(b)], (NC(mat(3, 4)), mat(4, 2, seed=1))),
    ("bmm", lambda L, a, b: [L.bmm(a, b), a.bmm(b)], (mat(2, 3, 4), NC(mat(2, 4, 5, seed=1)))),
    ("bmm_empty", lambda L, a, b: L.bmm(a, b), (mat(0, 3, 4), mat(0, 4, 5, seed=1))),
    ("mv", lambda L, a, b: [L.mv(a, b), a.mv(b)], (NC(mat(3, 4)), mat(4, seed=1))),
    ("dot", lambda L, a, b: [L.dot(a, b), a.dot(b)], (mat(5), NC(mat(5, seed=1)))),
    ("dot_int", lambda L, a, b: L.dot(a, b), (mat(5, dtype=I64), mat(5, dtype=I64, seed=1))),
    ("vdot_complex", lambda L, a, b: L.vdot(a, b), (mat(4, dtype=C128), mat(4, dtype=C128, seed=1))),
    ("inner", lambda L, a, b: [L.inner(a, b), a.inner(b)], (mat(2, 3, 4), mat(5, 4, seed=1))),
    ("inner_scalar", lambda L, a, b: L.inner(a, b), (mat(), mat(2, 3, seed=1))),
    ("outer", lambda L, a, b: [L.outer(a, b), a.outer(b), L.ger(a, b)], (mat(3), mat(4, seed=1))),
    ("addmm", lambda L, c, a, b: [L.addmm(c, a, b), L.addmm(c, a, b, beta=0.5, alpha=2), c.addmm(a, b, beta=0)],
     (mat(4), mat(3, 2, seed=1), mat(2, 4, seed=2))),
    ("addmv", lambda L, c, a, b: [L.addmv(c, a, b), L.addmv(c, a, b, beta=2, alpha=0.5)],
     (mat(3), mat(3, 4, seed=1), mat(4, seed=2))),
    ("addbmm", lambda L, c, a, b: [L.addbmm(c, a, b), c.addbmm(a, b, alpha=3)],
     (mat(3, 5), mat(2, 3, 4, seed=1), mat(2, 4, 5, seed=2))),
    ("baddbmm", lambda L, c, a, b: [L.baddbmm(c, a, b), c.baddbmm(a, b, beta=0.5)],
     (mat(1, 3, 5), mat(2, 3, 4, seed=1), mat(2, 4, 5, seed=2))),
    ("addr", lambda L, c, a, b: [L.addr(c, a, b), c.addr(a, b, beta=2, alpha=-1)],
     (mat(3, 4), mat(3, seed=1), mat(4, seed=2))),
    ("einsum_matmul", lambda L, a, b: L.einsum("ij,jk->ik", a, b), (mat(3, 4), mat(4, 2, seed=1))),
    ("einsum_batch_ellipsis", lambda L, a, b: L.einsum("...ij,...jk", a, b), (mat(2, 3, 4), mat(4, 2, seed=1))),
    ("einsum_trace_diag", lambda L, a: [L.einsum("ii", a), L.einsum("ii->i", a), L.einsum("ij->", a)],
     (mat(3, 3),)),
    ("einsum_outer_list", lambda L, a, b: L.einsum("i,j->ij", [a, b]), (mat(3), mat(4, seed=1))),
    ("einsum_three", lambda L, a, b, c: L.einsum("ab,bc,cd->ad", a, b, c),
     (mat(2, 3), mat(3, 4, seed=1), mat(4, 2, seed=2))),
    ("einsum_sublist", lambda L, a, b: L.einsum(a, [0, 1], b, [1, 2], [0, 2]), (mat(2, 3), mat(3, 4, seed=1))),
    ("einsum_broadcast_one", lambda L, a, b: L.einsum("bij,bjk->bik", a, b), (mat(1, 2, 3), mat(4, 3, 2, seed=1))),
    ("tensordot", lambda L, a, b: [L.tensordot(a, b), L.tensordot(a, b, dims=([1, 2], [0, 1]))],
     (mat(2, 3, 4), mat(3, 4, 5, seed=1))),
    ("tensordot_int_dims", lambda L, a, b: L.tensordot(a, b, dims=1), (mat(2, 3), mat(3, 4, seed=1))),
    ("multi_dot", lambda L, a, b, c, d: L.linalg.multi_dot([a, b, c, d]),
     (mat(4), mat(4, 3, seed=1), mat(3, 5, seed=2), mat(5, seed=3))),
    ("multi_dot_matrices", lambda L, a, b, c: L.linalg.multi_dot([a, b, c]),
     (mat(2, 6), mat(6, 3, seed=1), mat(3, 4, seed=2))),
    ("cdist", lambda L, a, b: [L.cdist(a, b), L.cdist(a, b, p=1)], (mat(2, 3, 4), mat(2, 5, 4, seed=1))),
    ("linalg_matmul", lambda L, a, b: L.linalg.matmul(a, b), (mat(2, 3, 4), mat(4, 2, seed=1))),
    ("vecdot", lambda L, a, b: [L.linalg.vecdot(a, b), L.linalg.vecdot(a, b, dim=0)], (mat(3, 4), mat(3, 4, seed=1))),
    ("cross", lambda L, a, b: L.linalg.cross(a, b), (mat(2, 3), mat(1, 3, seed=1))),
    ("diagonal", lambda L, a: [L.linalg.diagonal(a), L.linalg.diagonal(a, offset=1, dim1=0, dim2=2)],
     (mat(3, 4, 4),)),
]


@pytest.mark.parametrize("call,args", [row[1:] for row in PRODUCTS], ids=[row[0] for row in PRODUCTS])
def test_products(call, args):
    check(call, *args)


def test_rmatmul_and_outputs_in_place():
    a, b = mat(3, 4), mat(4, 2, seed=1)
    check(lambda L, a, b: a.mT.__rmatmul__(b.mT), a, b)
    c = mat(3, 2, seed=2)
    check(lambda L, c, a, b: c.clone().addmm_(a, b, alpha=2), c, a, b)
    check(lambda L, c, a, b: L.matmul(a, b, out=L.empty(3, 2)), c, a, b, grad=False)


# --- norms ----------------------------------------------------------------------------------------------
NORMS = [
    ("vector_norm", lambda L, x: [L.linalg.vector_norm(x), L.linalg.vector_norm(x, 1, -1),
                                  L.linalg.vector_norm(x, math.inf, (0, 1), keepdim=True),
                                  L.linalg.vector_norm(x, 3), L.linalg.vector_norm(x, 0.5, 0),
                                  L.linalg.vector_norm(x, -math.inf, -1)], (NC(mat(2, 3, 4)),)),
    ("vector_norm_dtype", lambda L, x: L.linalg.vector_norm(x, dtype=L.float64), (mat(3, 4),)),
    ("vector_norm_complex", lambda L, x: [L.linalg.vector_norm(x), L.linalg.vector_norm(x, 1, -1)],
     (mat(3, 4, dtype=C128),)),
    ("matrix_norm", lambda L, x: [L.linalg.matrix_norm(x), L.linalg.matrix_norm(x, 1), L.linalg.matrix_norm(x, -1),
                                  L.linalg.matrix_norm(x, math.inf, keepdim=True),
                                  L.linalg.matrix_norm(x, -math.inf, dim=(0, 2))], (mat(2, 3, 4),)),
    ("matrix_norm_spectral", lambda L, x: [L.linalg.matrix_norm(x, 2), L.linalg.matrix_norm(x, -2),
                                           L.linalg.matrix_norm(x, "nuc", keepdim=True)],
     (spread(4, 3, (2,)),)),
    ("norm", lambda L, x: [L.linalg.norm(x), L.linalg.norm(x, 3, 1), L.linalg.norm(x, "fro", (0, 1)),
                           L.linalg.norm(x, math.inf), L.linalg.norm(x, dim=(0, 1))], (mat(3, 4),)),
    ("norm_vector", lambda L, x: [L.linalg.norm(x), L.linalg.norm(x, 1)], (mat(5),)),
    ("cond", lambda L, x: [L.linalg.cond(x), L.linalg.cond(x, -2)], (spread(3, 3, (2,)),)),
    ("cond_rectangular", lambda L, x: L.linalg.cond(x), (spread(4, 2),)),
]


@pytest.mark.parametrize("call,args", [row[1:] for row in NORMS], ids=[row[0] for row in NORMS])
def test_norms(call, args):
    check(call, *args)


def test_cond_in_other_norms():
    # torch's own backward of these fails (it writes into an output of inv_ex in place), so values only.
    check(lambda L, x: [L.linalg.cond(x, p) for p in (1, -1, "fro", math.inf, -math.inf, "nuc")],
          spread(3, 3, (2,)), grad=False)


def test_cond_of_singular_matrix_is_inf():
    check(lambda L, x: [L.linalg.cond(x, 1), L.linalg.cond(x, "fro")], numpy.ones((3, 3), F32), grad=False)


# --- inverses, determinants, solvers, matrix functions ----------------------------------------------------
def well(n, batch=(), dtype=F64, seed=0):
    return (sample(batch + (n, n), dtype, -1, 1, seed=seed) + 2 * n * numpy.eye(n) / 3).astype(dtype)


SOLVERS = [
    ("inv", lambda L, a: [L.linalg.inv(a), L.inverse(a), a.inverse()], (well(3, (2,), F32),)),
    ("inv_complex", lambda L, a: L.linalg.inv(a), (well(3, dtype=C128),)),
    ("inv_ex", lambda L, a: L.linalg.inv_ex(a), (NC(well(3)),)),
    ("det", lambda L, a: [L.linalg.det(a), L.det(a), a.det()], (well(3, (2,)),)),
    ("slogdet", lambda L, a: [L.linalg.slogdet(a), L.slogdet(a), L.logdet(a)], (spd(3, (2,)),)),
    ("solve", lambda L, a, b: [L.linalg.solve(a, b), L.linalg.solve(a, b.mT, left=False)],
     (well(3, (2,), F32), mat(2, 3, 4, seed=1))),
    ("solve_vector", lambda L, a, b: L.linalg.solve(a, b), (well(3, (2,)), mat(2, 3, dtype=F64, seed=1))),
    ("solve_broadcast", lambda L, a, b: L.linalg.solve(a, b), (well(3), mat(2, 3, 2, dtype=F64, seed=1))),
    ("solve_triangular", lambda L, a, b: [L.linalg.solve_triangular(a, b, upper=False),
                                          L.linalg.solve_triangular(a, b, upper=False, unitriangular=True)],
     (triangular(3, False, (2,)), mat(2, 3, 4, dtype=F64, seed=1))),
    ("solve_triangular_right", lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True, left=False),
     (NC(triangular(3, True, dtype=F32)), mat(2, 4, 3, seed=1))),
    ("solve_triangular_mixed_dtypes", lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True),
     (triangular(3, True, dtype=F32), mat(3, 2, dtype=F64))),
    ("solve_triangular_full_input", lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True),
     (well(3, dtype=F64), mat(3, 2, dtype=F64, seed=1))),
    ("cholesky_solve", lambda L, b, f: [L.cholesky_solve(b, f), b.cholesky_solve(f.mT, upper=True)],
     (mat(2, 3, 2, dtype=F64), numpy.linalg.cholesky(spd(3)))),
    ("cholesky_inverse", lambda L, f: [L.cholesky_inverse(f), f.mT.cholesky_inverse(upper=True)],
     (numpy.linalg.cholesky(spd(3, (2,))),)),
    ("pinv", lambda L, a: [L.linalg.pinv(a), L.pinverse(a), a.pinverse()], (spread(4, 3, (2,), F32),)),
    ("pinv_wide_complex", lambda L, a: L.linalg.pinv(a), (spread(2, 4, dtype=C128),)),
    ("pinv_hermitian", lambda L, a: L.linalg.pinv(a, hermitian=True), (spd(3),)),
    ("pinv_tolerances", lambda L, a: [L.linalg.pinv(a, atol=1.5), L.linalg.pinv(a, rtol=0.5)],
     (spread(3, 3, dtype=F64),)),
    ("matrix_power", lambda L, a: [L.linalg.matrix_power(a, 3), L.matrix_power(a, 2), a.matrix_power(1),
                                   L.linalg.matrix_power(a, -2), a.matrix_power(0)], (well(3, (2,)),)),
    ("matrix_power_int", lambda L, a: [L.matrix_power(a, 3), L.matrix_power(a, 0)], (mat(3, 3, dtype=I64),)),
    ("matrix_exp", lambda L, a: [L.linalg.matrix_exp(a), L.matrix_exp(a), a.matrix_exp()],
     (mat(2, 3, 3, dtype=F64),)),
    ("matrix_exp_large_norm_f32", lambda L, a: L.linalg.matrix_exp(a), (numpy.stack([mat(3, 3) * 4, mat(3, 3) / 9]),)),
    ("matrix_exp_complex", lambda L, a: L.linalg.matrix_exp(a), (mat(3, 3, dtype=C128),)),
    ("lstsq_tall", lambda L, a, b: L.linalg.lstsq(a, b, driver="gelsd"), (spread(5, 3), mat(5, 2, dtype=F64))),
    ("lstsq_drivers", lambda L, a, b: [L.linalg.lstsq(a, b)[:3], L.linalg.lstsq(a, b, driver="gels")[:3],
                                       L.linalg.lstsq(a, b, driver="gelss")], (spread(5, 3, (2,)), mat(2, 5, dtype=F64))),
    ("lstsq_wide", lambda L, a, b: L.linalg.lstsq(a, b).solution, (spread(3, 5), mat(3, 2, dtype=F64))),
    ("matrix_rank", lambda L, a: [L.linalg.matrix_rank(a), L.linalg.matrix_rank(a, hermitian=True),
                                  L.linalg.matrix_rank(a, atol=1.0, rtol=0.0)],
     (numpy.stack([spd(3), numpy.diag([3.0, 1e-20, 0.5])]),)),
]


@pytest.mark.parametrize("call,args", [row[1:] for row in SOLVERS], ids=[row[0] for row in SOLVERS])
def test_solvers(call, args):
    check(call, *args, rtol=1e-4 if any(a.dtype == F32 for a in args) else None)


def test_empty_inverse_and_det():
    check(lambda L, a: [L.linalg.inv(a), L.linalg.det(a)], numpy.zeros((2, 0, 0), F64))
    check(lambda L, a: L.linalg.matrix_exp(a), numpy.zeros((0, 3, 3), F64))


def test_det_of_singular_matrix_has_torch_gradient():
    check(lambda L, a: L.linalg.det(a), numpy.array([[1.0, 2.0], [2.0, 4.0]]))


def test_solve_triangular_with_zero_pivot_gives_inf_and_nan():
    check(lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True), numpy.zeros((2, 2), F32),
          numpy.ones((2, 1), F32), grad=False)


# --- decompositions (compared through quantities that do not depend on sign or phase choices) ---------------
def svd_invariants(L, a):
    u, s, vh = L.linalg.svd(a, full_matrices=False)
    return [s, (u * s.unsqueeze(-2)) @ vh, u.abs(), vh.abs()]


def eigh_invariants(L, a, uplo="L"):
    values, vectors = L.linalg.eigh(a, UPLO=uplo)
    return [values, vectors.abs(), (vectors * values.unsqueeze(-2)) @ vectors.mH]


DECOMPOSITIONS = [
    ("cholesky", lambda L, a: [L.linalg.cholesky(a), L.linalg.cholesky(a, upper=True)], (spd(3, (2,), F32),)),
    ("cholesky_complex", lambda L, a: L.linalg.cholesky(a), (spd(3, dtype=C128),)),
    ("cholesky_nc", lambda L, a: L.linalg.cholesky(a), (NC(spd(4)),)),
    ("cholesky_empty", lambda L, a: L.linalg.cholesky(a), (numpy.zeros((2, 0, 0)),)),
    ("cholesky_ex", lambda L, a: L.linalg.cholesky_ex(a), (spd(3, (2,)),)),
    ("qr_tall", lambda L, a: [L.linalg.qr(a), L.linalg.qr(a.detach(), "r").R], (spread(4, 3, (2,), F32),)),
    ("qr_square_nc", lambda L, a: L.linalg.qr(a), (NC(spread(3, 3)),)),
    ("qr_wide", lambda L, a: L.linalg.qr(a), (spread(2, 4),)),
    ("qr_complete_wide", lambda L, a: L.linalg.qr(a, mode="complete"), (spread(2, 3),)),
    ("qr_complex", lambda L, a: L.linalg.qr(a), (spread(3, 2, dtype=C128),)),
    ("svd_tall", svd_invariants, (spread(4, 3, (2,), F32),)),
    ("svd_wide_nc", svd_invariants, (NC(spread(3, 5)),)),
    ("svd_square", svd_invariants, (spread(3, 3),)),
    ("svd_full_matrices", lambda L, a: [L.linalg.svd(a).S, L.linalg.svd(a).U.shape[-1], L.linalg.svd(a).Vh.shape],
     (spread(4, 2),)),
    ("svdvals", lambda L, a: [L.linalg.svdvals(a), L.linalg.svd(a)[1]], (spread(3, 4, (2,)),)),
    ("svd_legacy", lambda L, a: (lambda r: [r.S, (r.U * r.S.unsqueeze(-2)) @ r.V.mT])(L.svd(a)), (spread(4, 3),)),
    ("svd_legacy_no_uv", lambda L, a: L.svd(a, compute_uv=False), (spread(4, 3, (2,)),)),
    ("svd_empty", lambda L, a: L.linalg.svd(a, full_matrices=False), (numpy.zeros((3, 0)),)),
    ("eigh", eigh_invariants, (spd(3, (2,), F32),)),
    ("eigh_upper", lambda L, a: eigh_invariants(L, a, "U"), (NC(spd(4)),)),
    ("eigh_complex", lambda L, a: [L.linalg.eigh(a)[0], (lambda w, v: (v * w.unsqueeze(-2)) @ v.mH)(*L.linalg.eigh(a))],
     (spd(3, dtype=C128),)),
    ("eigvalsh", lambda L, a: [L.linalg.eigvalsh(a), L.linalg.eigvalsh(a, "U")], (spd(3, (2,)),)),
    ("eig", lambda L, a: (lambda w, v: [w, v.abs(), (v * w.unsqueeze(-2)) @ L.linalg.inv(v)])(*L.linalg.eig(a)),
     (spd(3) + numpy.triu(spd(3, seed=1), 1),)),
    ("eig_complex_values", lambda L, a: (lambda w, v: [w, (v * w.unsqueeze(-2)) @ L.linalg.inv(v)])(
        *L.linalg.eig(a)), (numpy.array([[1.0, -2.0, 0.5], [2.0, 1.0, 0.0], [0.3, 0.0, 3.0]]),)),
    ("eigvals", lambda L, a: L.linalg.eigvals(a), (spd(3, dtype=F32) + numpy.triu(spd(3, dtype=F32, seed=1), 1),)),
]


@pytest.mark.parametrize("call,args", [row[1:] for row in DECOMPOSITIONS], ids=[row[0] for row in DECOMPOSITIONS])
def test_decompositions(call, args):
    check(call, *args, rtol=1e-4 if any(a.dtype == F32 for a in args) else 1e-8,
          atol=1e-4 if any(a.dtype == F32 for a in args) else 1e-8)


def test_qr_complete_of_tall_matrix():
    check(lambda L, a: L.linalg.qr(a, "complete"), spread(4, 2), grad=False)


@pytest.mark.filterwarnings("ignore:torch.qr is deprecated", "ignore:torch.chain_matmul is deprecated")
def test_deprecated_qr_and_chain_matmul():
    check(lambda L, a: [L.qr(a), a.qr(), L.qr(a, some=False)[1]], spread(3, 3))
    check(lambda L, a, b, c: L.chain_matmul(a, b, c), mat(2, 3), mat(3, 4, seed=1), mat(4, 2, seed=2))
    for site, call in (("qr", lambda: ember.qr(ember.eye(2))),
                       ("chain_matmul", lambda: ember.chain_matmul(ember.eye(2), ember.eye(2)))):
        _util._warned.discard(site)   # PyTorch warns once per process (TORCH_WARN_ONCE)
        with pytest.warns(UserWarning, match="is deprecated"):
            call()


def test_deprecated_cholesky_warns_like_torch():
    a = spd(3)
    _util._warned.discard("cholesky")   # PyTorch warns once per process (TORCH_WARN_ONCE)
    with pytest.warns(UserWarning, match="torch.cholesky is deprecated"):
        e = ember.cholesky(ember.tensor(a), upper=True)
    numpy.testing.assert_allclose(e.numpy(), numpy.linalg.cholesky(a).T)


def test_cholesky_ex_reports_the_failing_minor():
    import torch
    a = numpy.stack([numpy.eye(3), numpy.array([[1.0, 2, 0], [2, 1, 0], [0, 0, 1]])])
    e_info = ember.linalg.cholesky_ex(ember.tensor(a)).info
    assert e_info.tolist() == torch.linalg.cholesky_ex(torch.tensor(a)).info.tolist() == [0, 2]


# --- finite differences in float64 (first and second derivatives) ---------------------------------------------
def EIG_LOSS(L, a):
    return [L.linalg.eigvals(a).abs(), L.linalg.eig(a)[1].abs()]


GRADCHECKS = [
    ("matmul", lambda L, a, b: a @ b, (mat(2, 3, 4, dtype=F64), mat(4, 2, dtype=F64, seed=1))),
    ("addmm", lambda L, c, a, b: L.addmm(c, a, b, beta=0.5, alpha=2), (mat(2, dtype=F64), mat(3, 4, dtype=F64),
                                                                        mat(4, 2, dtype=F64, seed=1))),
    ("einsum", lambda L, a, b: L.einsum("bij,jk->bik", a, b), (mat(2, 2, 3, dtype=F64), mat(3, 2, dtype=F64))),
    ("matrix_norm_2", lambda L, a: L.linalg.matrix_norm(a, 2), (spread(3, 2),)),
    ("inv", lambda L, a: L.linalg.inv(a), (well(3),)),
    ("det", lambda L, a: L.linalg.det(a), (well(3),)),
    ("slogdet", lambda L, a: L.linalg.slogdet(a)[1], (spd(3),)),
    ("solve", lambda L, a, b: L.linalg.solve(a, b), (well(3), mat(3, 2, dtype=F64))),
    ("solve_triangular", lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True, left=False),
     (triangular(3, True), mat(2, 3, dtype=F64))),
    ("cholesky", lambda L, a: L.linalg.cholesky(hermitian(a)), (spd(3),)),
    ("cholesky_upper", lambda L, a: L.linalg.cholesky(hermitian(a), upper=True), (spd(3),)),
    ("cholesky_solve", lambda L, b, a: L.cholesky_solve(b, L.linalg.cholesky(hermitian(a))),
     (mat(3, 2, dtype=F64), spd(3))),
    ("qr_tall", lambda L, a: L.linalg.qr(a), (spread(4, 3),)),
    ("qr_wide", lambda L, a: L.linalg.qr(a), (spread(2, 3),)),
    ("svd", lambda L, a: svd_invariants(L, a)[:2], (spread(4, 3),)),
    ("svd_wide_vectors", lambda L, a: [t * t for t in L.linalg.svd(a, full_matrices=False)], (spread(2, 3),)),
    ("svdvals", lambda L, a: L.linalg.svdvals(a), (spread(3, 3),)),
    ("eigh", lambda L, a: [L.linalg.eigh(hermitian(a))[0], L.linalg.eigh(hermitian(a))[1] ** 2], (spd(3),)),
    ("eig", EIG_LOSS, (spd(3) + numpy.triu(spd(3, seed=1), 1),)),
    ("pinv", lambda L, a: L.linalg.pinv(a), (spread(3, 2),)),
    ("pinv_wide", lambda L, a: L.linalg.pinv(a), (spread(2, 3),)),
    ("matrix_exp", lambda L, a: L.linalg.matrix_exp(a), (mat(3, 3, dtype=F64) / 2,)),
    ("matrix_power", lambda L, a: L.linalg.matrix_power(a, -3), (well(3),)),
    ("lstsq", lambda L, a, b: L.linalg.lstsq(a, b).solution, (spread(4, 2), mat(4, 2, dtype=F64))),
]


def hermitian(a):
    """The Hermitian part: decompositions that read one triangle are smooth functions of it."""
    return (a + a.mH) * 0.5


@pytest.mark.parametrize("call,args", [row[1:] for row in GRADCHECKS], ids=[row[0] for row in GRADCHECKS])
def test_gradcheck(call, args):
    if not hasattr(ember.autograd, "gradcheck"):
        pytest.skip("ember.autograd.gradcheck is not available yet")
    # eig's second derivatives go through abs of complex tensors, whose double backward is not right yet.
    gradgrad = args[0].size <= 12 and call is not EIG_LOSS
    oracle.gradcheck(call, *args, gradgrad=gradgrad)


def test_complex_gradients_match_torch_for_gauge_invariant_losses():
    a = spread(3, 3, dtype=C128)
    check(lambda L, a: [(lambda u, s, vh: [s, (u * s.unsqueeze(-2)) @ vh])(*L.linalg.svd(a))], a)
    check(lambda L, a: L.linalg.eigh(a)[1].abs(), spd(3, dtype=C128))


# --- errors ---------------------------------------------------------------------------------------------------
ERRORS = [
    ("mm_shapes", lambda L, a, b: L.mm(a, b), (mat(64, 784), mat(256, 10)),
     r"mat1 and mat2 shapes cannot be multiplied \(64x784 and 256x10\)"),
    ("matmul_shapes", lambda L, a, b: a @ b, (mat(3, 4), mat(5, 2)),
     r"mat1 and mat2 shapes cannot be multiplied \(3x4 and 5x2\)"),
    ("matmul_batched_shapes", lambda L, a, b: a @ b, (mat(2, 3, 4), mat(2, 5, 2)),
     r"Expected size for first two dimensions of batch2 tensor to be: \[2, 4\] but got: \[2, 5\]."),
    ("matmul_0d", lambda L, a, b: L.matmul(a, b), (mat(), mat(3)),
     "both arguments to matmul need to be at least 1D, but they are 0D and 1D"),
    ("mm_dtypes", lambda L, a, b: L.mm(a, b), (mat(2, 3), mat(3, 2, dtype=F64)),
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    ("matmul_dtypes", lambda L, a, b: a @ b, (mat(2, 3), mat(3, 2, dtype=F64)),
     "expected m1 and m2 to have the same dtype, but got: float != double"),
    ("addmm_shapes", lambda L, c, a, b: L.addmm(c, a, b), (mat(3), mat(2, 3), mat(4, 3)),
     r"mat1 and mat2 shapes cannot be multiplied \(2x3 and 4x3\)"),
    ("mm_not_matrix", lambda L, a, b: L.mm(a, b), (mat(3), mat(3, 2)), "self must be a matrix"),
    ("bmm_not_3d", lambda L, a, b: L.bmm(a, b), (mat(3, 2), mat(2, 3, 2)), "batch1 must be a 3D tensor"),
    ("dot_sizes", lambda L, a, b: L.dot(a, b), (mat(3), mat(4)), "inconsistent tensor size"),
    ("dot_2d", lambda L, a, b: L.dot(a, b), (mat(3, 1), mat(3)), "1D tensors expected, but got 2D and 1D tensors"),
    ("einsum_operands", lambda L, a: L.einsum("ij,jk", a), (mat(2, 2),),
     "einsum\\(\\): fewer operands were provided than specified in the equation"),
    ("inv_not_square", lambda L, a: L.linalg.inv(a), (mat(2, 3),),
     "linalg.inv: A must be batches of square matrices, but they are 2 by 3 matrices"),
    ("cholesky_int", lambda L, a: L.linalg.cholesky(a), (numpy.eye(2, dtype=I64),),
     "linalg.cholesky: Expected a floating point or complex tensor as input. Got Long"),
    ("cholesky_1d", lambda L, a: L.linalg.cholesky(a), (mat(3),),
     "linalg.cholesky: The input tensor A must have at least 2 dimensions."),
    ("qr_mode", lambda L, a: L.linalg.qr(a, mode="x"), (mat(2, 2),), "qr received unrecognized mode 'x'"),
    ("svd_driver", lambda L, a: L.linalg.svd(a, driver="gesvd"), (mat(2, 2),), "only supported on CUDA"),
    ("svd_int", lambda L, a: L.linalg.svd(a), (numpy.eye(2, dtype=I32),), "Expected a floating point"),
    ("eigh_uplo", lambda L, a: L.linalg.eigh(a, UPLO="X"), (mat(2, 2),),
     "Expected UPLO argument to be 'L' or 'U', but got X"),
    ("eigh_not_square", lambda L, a: L.linalg.eigh(a), (mat(3, 2),), "A must be batches of square matrices"),
    ("eig_nan", lambda L, a: L.linalg.eig(a), (numpy.array([[math.nan, 0], [0, 1]]),),
     "torch.linalg.eig: input tensor should not contain infs or NaNs."),
    ("solve_triangular_shapes", lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True), (mat(3, 3), mat(2, 3)),
     r"Incompatible shapes of A and B for the equation AX = B \(3x3 and 2x3\)"),
    ("solve_triangular_int", lambda L, a, b: L.linalg.solve_triangular(a, b, upper=True),
     (mat(3, 3, dtype=I64), mat(3, 2, dtype=I64)), "\"triangular_solve_cpu\" not implemented for 'Long'"),
    ("pinv_int", lambda L, a: L.linalg.pinv(a), (numpy.eye(3, dtype=I64),),
     r"linalg.pinv\(Long\{\[3, 3\]\}\): expected a tensor with 2 or more dimensions"),
    ("matrix_exp_int", lambda L, a: L.linalg.matrix_exp(a), (numpy.eye(2, dtype=I64),),
     "linalg.matrix_exp: Expected a floating point or complex tensor as input. Got Long"),
    ("matrix_rank_1d", lambda L, a: L.linalg.matrix_rank(a), (mat(3),), "must have at least 2 dimensions"),
    ("cond_norm", lambda L, a: L.linalg.cond(a, 3), (mat(3, 3),), "linalg.cond got an invalid norm type: 3"),
    ("cond_rectangular", lambda L, a: L.linalg.cond(a, 1), (mat(3, 2),),
     r"linalg.cond\(ord=1\): A must be batches of square matrices, but they are 3 by 2 matrices"),
    ("cholesky_solve_1d", lambda L, b, f: L.cholesky_solve(b, f), (mat(3), mat(3, 3)),
     "b should have at least 2 dimensions, but has 1 dimensions instead"),
    ("lstsq_driver", lambda L, a, b: L.linalg.lstsq(a, b, driver="x"), (mat(3, 2), mat(3, 1)),
     "parameter `driver` should be one of"),
]

LINALG_ERRORS = [
    ("matrix_power_singular", lambda L, a: L.linalg.matrix_power(a, -1), (numpy.zeros((2, 2), F32),),
     "linalg.inv: The diagonal element 1 is zero"),
    ("svd_nan", lambda L, a: L.linalg.svd(a), (numpy.array([[math.nan, 0], [0, 1]]),), "non-finite values"),
    ("cholesky_ex_check", lambda L, a: L.linalg.cholesky_ex(a, check_errors=True), (-numpy.eye(2),),
     "leading minor of order 1"),
    ("cholesky_batch_nan", lambda L, a: L.linalg.cholesky(a), (numpy.stack([numpy.eye(2), [[math.nan, 0], [0, 1]]]),),
     r"linalg.cholesky: \(Batch element 1\): .*leading minor of order 1 is not"),
    ("cholesky_not_pd", lambda L, a: L.linalg.cholesky(a), (numpy.array([[1.0, 2.0], [2.0, 1.0]]),),
     r"linalg.cholesky: The factorization could not be completed because the input is not positive-definite "
     r"\(the leading minor of order 2 is not positive-definite\)."),
    ("solve_singular", lambda L, a, b: L.linalg.solve(a, b), (numpy.ones((3, 3), F32), mat(3, 2)),
     "torch.linalg.solve: The solver failed because the input matrix is singular."),
    ("inv_singular", lambda L, a: L.linalg.inv(a), (numpy.ones((2, 3, 3), F32),),
     r"linalg.inv: \(Batch element 0\): The diagonal element 2 is zero"),
]


@pytest.mark.parametrize("call,args,match", [row[1:] for row in ERRORS], ids=[row[0] for row in ERRORS])
def test_errors(call, args, match):
    check_error(call, *args, match=match)


@pytest.mark.parametrize("call,args,match", [row[1:] for row in LINALG_ERRORS],
                         ids=[row[0] for row in LINALG_ERRORS])
def test_linalg_errors(call, args, match):
    import torch
    with pytest.raises(torch.linalg.LinAlgError):
        call(torch, *oracle.to_torch(args))
    with pytest.raises(ember.linalg.LinAlgError, match=match):
        call(ember, *oracle.to_ember(args))


def test_linalg_error_is_a_runtime_error():
    assert issubclass(ember.linalg.LinAlgError, RuntimeError)
    with pytest.raises(ember.linalg.LinAlgError):
        ember.linalg.inv(ember.zeros(2, 2))


BACKWARD_ERRORS = [
    ("qr_r_mode", lambda L, a: L.linalg.qr(a, mode="r").R.sum(), spread(3, 2), "which is not computed when mode='r'"),
    ("qr_complete_tall", lambda L, a: L.linalg.qr(a, mode="complete").Q.sum(), spread(3, 2),
     "not differentiable when mode='complete' and nrows > ncols"),
    ("svd_phase", lambda L, a: L.linalg.svd(a)[0].sum().abs(), spread(3, 3, dtype=C128),
     "svd_backward: The singular vectors in the complex case are specified up to multiplication by e\\^{i phi}"),
    ("eig_phase", lambda L, a: L.linalg.eig(a)[1].sum().abs(), spread(3, 3),
     "linalg_eig_backward: The eigenvectors in the complex case are specified up to multiplication by e\\^{i phi}"),
]


@pytest.mark.parametrize("call,array,match", [row[1:] for row in BACKWARD_ERRORS], ids=[row[0] for row in BACKWARD_ERRORS])
def test_backward_errors(call, array, match):
    check_error(lambda L, a: call(L, a.requires_grad_()).backward(), array, match=match)


def test_top_level_and_linalg_namespaces():
    for name in ("matmul", "mm", "bmm", "mv", "dot", "outer", "addmm", "einsum", "tensordot", "inverse", "det", "logdet",
                 "slogdet", "cholesky", "cholesky_solve", "cholesky_inverse", "qr", "svd", "pinverse", "matrix_power",
                 "matrix_exp", "chain_matmul", "cdist"):
        assert callable(getattr(ember, name)), name
    import torch
    for name in ("norm", "vector_norm", "matrix_norm", "inv", "inv_ex", "det", "slogdet", "solve", "lstsq", "cholesky",
                 "cholesky_ex", "qr", "svd", "svdvals", "eigh", "eigvalsh", "eig", "eigvals", "pinv", "matrix_power",
                 "matrix_exp", "matrix_rank", "cond", "solve_triangular", "cross", "vecdot", "multi_dot", "diagonal",
                 "matmul", "LinAlgError"):
        assert hasattr(torch.linalg, name) and hasattr(ember.linalg, name), name


@pytest.mark.parametrize("dtype", [F32, F64])
@pytest.mark.parametrize("shapes,kwargs", [
    (((40, 6), (30, 6)), {}),   # more than 25 rows: a matrix product, as PyTorch's default mode
    (((2, 1, 30, 3), (4, 20, 3)), {}),   # broadcast batches
    (((5, 4), (7, 4)), {"compute_mode": "use_mm_for_euclid_dist"}),
    (((40, 4), (7, 4)), {"compute_mode": "donot_use_mm_for_euclid_dist"}),
    (((40, 4), (30, 4)), {"p": 1.0}),
    (((0, 4), (30, 4)), {}), (((30, 0), (26, 0)), {}),
])
def test_cdist_by_matrix_product_matches_torch(dtype, shapes, kwargs):
    args = [mat(*shape, dtype=dtype, seed=i) for i, shape in enumerate(shapes)]
    check(lambda L, a, b: L.cdist(a, b, **kwargs), *args)
    t_out = torch.cdist(*(torch.tensor(a, requires_grad=True) for a in args), **kwargs)
    e_out = ember.cdist(*(ember.tensor(a, requires_grad=True) for a in args), **kwargs)
    if type(t_out.grad_fn).__name__ != "CdistBackward0":   # ember's direct path is a vector norm
        assert type(e_out.grad_fn).__name__ == type(t_out.grad_fn).__name__


def test_cdist_by_matrix_product_gives_zero_distances_a_zero_gradient():
    a = mat(30, 3)
    a[0] = 0
    b = numpy.concatenate([a[:5], mat(5, 3, seed=1)])   # exact duplicates: clamped at 0, subgradient 0
    for lib in (torch, ember):
        x1, x2 = lib.tensor(a, requires_grad=True), lib.tensor(b, requires_grad=True)
        distance = lib.cdist(x1, x2)
        distance[0, 0].backward()
        assert float(distance[0, 0].detach()) == 0.0
        assert not x1.grad.numpy().any() and not x2.grad.numpy().any()
    # away from duplicates (whose distances are rounding noise, ~sqrt(eps) apart) values and gradients match
    check(lambda L, x1, x2: L.cdist(x1, x2)[:, 5:], a, b, atol=1e-5)


@pytest.mark.parametrize("equation, shapes", [
    ("bcwd,bcdh->bcwh", [(3, 4, 5, 6), (3, 4, 6, 7)]), ("ij,jk->ik", [(5, 6), (6, 7)]),
    ("bij,bjk->bik", [(4, 5, 6), (4, 6, 7)]), ("bhqd,bhkd->bhqk", [(2, 3, 5, 4), (2, 3, 6, 4)]),
    ("ij,kj->ik", [(5, 6), (7, 6)]), ("bi,bj->bij", [(5, 6), (5, 7)]), ("ab,bc,cd->ad", [(2, 3), (3, 4), (4, 5)])])
def test_einsum_products_are_row_major_as_torch(equation, shapes):
    """Code views einsum's product (Longformer: context.view(batch, heads, seq, dim)); PyTorch's is row-major in
    these orders."""
    arrays = [sample(shape, seed=i) for i, shape in enumerate(shapes)]
    ours = ember.einsum(equation, *[ember.tensor(a) for a in arrays])
    theirs = torch.einsum(equation, *[torch.tensor(a) for a in arrays])
    assert ours.stride() == theirs.stride() and ours.is_contiguous()
    numpy.testing.assert_allclose(ours.view(-1).numpy(), theirs.view(-1).numpy(), rtol=1e-5, atol=1e-6)
