"""``torch.lobpcg`` beside PyTorch's on symmetric positive definite matrices: the eigenvalues (both methods, largest
and smallest, float32 and float64, a B, a batch, start vectors given), the eigenvectors as eigenvectors, the
gradient through both, and PyTorch's errors."""
import numpy
import pytest
import torch

import ember

M = 24


def _spd(seed, m=M, low=1.0, high=10.0):
    rng = numpy.random.default_rng(seed)
    Q = numpy.linalg.qr(rng.standard_normal((m, m)))[0]
    return (Q * numpy.linspace(low, high, m)) @ Q.T


@pytest.mark.parametrize("method", ["ortho", "basic"])
@pytest.mark.parametrize("largest", [True, False])
@pytest.mark.parametrize("k", [1, 3])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_eigenpairs_match_torch_and_eigh(method, largest, k, dtype):
    A = _spd(k)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        a = lib.tensor(A, dtype=getattr(lib, dtype))
        E, X = lib.lobpcg(a, k=k, largest=largest, method=method)
        assert tuple(E.shape) == (k,) and tuple(X.shape) == (M, k) and str(E.dtype).endswith(dtype)
        results.append((E.double().numpy(), X.double().numpy()))
    (e, x), (t, _) = results
    exact = numpy.linalg.eigvalsh(A)
    exact = exact[::-1][:k] if largest else exact[:k]
    tolerance = 1e-9 if dtype == "float64" else 1e-4
    numpy.testing.assert_allclose(e, t, rtol=tolerance)
    numpy.testing.assert_allclose(e, exact, rtol=tolerance)
    numpy.testing.assert_allclose(A @ x, x * e, atol=1000 * tolerance)   # eigenvectors, of unit length
    numpy.testing.assert_allclose(numpy.linalg.norm(x, axis=0), 1.0, rtol=tolerance)


def test_generalized_problem_batch_and_start_vectors_match_torch():
    A = numpy.stack([_spd(1), _spd(2)])
    B = _spd(3, low=1.0, high=2.0)
    X0 = numpy.random.default_rng(4).standard_normal((M, 2))
    runs = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        batched = lib.lobpcg(lib.tensor(A), k=2)
        generalized = lib.lobpcg(lib.tensor(A[0]), k=2, B=lib.tensor(B), largest=False)
        started = lib.lobpcg(lib.tensor(A[1]), X=lib.tensor(X0), n=2, tol=1e-10, niter=500)
        runs.append([r.numpy() for pair in (batched, generalized, started) for r in pair])
    for e, t in zip(*runs[:2]):
        assert e.shape == t.shape
    for index in (0, 2, 4):   # the eigenvalues
        numpy.testing.assert_allclose(runs[0][index], runs[1][index], rtol=1e-9)
    E, X = runs[0][2], runs[0][3]
    numpy.testing.assert_allclose(A[0] @ X, B @ X * E, atol=1e-6)


def test_gradient_matches_torch():
    A = _spd(5)
    weights = numpy.random.default_rng(6).standard_normal(M)
    grads = []
    for lib in (ember, torch):
        lib.manual_seed(1)
        a = lib.tensor(A, requires_grad=True)
        E, X = lib.lobpcg(a, k=2, tol=1e-12)
        (E.sum() * 0.5 + (X.abs() * lib.tensor(weights)[:, None]).sum()).backward()
        grads.append(a.grad.numpy())
    numpy.testing.assert_allclose(grads[0], grads[1], atol=1e-7)
    numpy.testing.assert_allclose(grads[0], grads[0].T)   # of the symmetrized A


def test_tracker_sees_each_iteration():
    seen = []
    ember.manual_seed(0)
    E, _ = ember.lobpcg(ember.tensor(_spd(7)), k=2, tracker=lambda worker: seen.append(worker.converged_count))
    assert len(seen) > 1 and seen == sorted(seen) and seen[-1] >= 2


@pytest.mark.parametrize("call", [
    lambda lib: lib.lobpcg(lib.tensor(_spd(0, m=8)), k=3),   # fewer than 3 k rows
    lambda lib: lib.lobpcg(lib.ones(6, 5), k=1),
    lambda lib: lib.lobpcg(lib.tensor(_spd(0)), k=1, B=lib.eye(5, dtype=lib.float64)),
    lambda lib: lib.lobpcg(lib.tensor(_spd(0)), X=lib.ones(M, 2, dtype=lib.float64)[None, None]),
    lambda lib: lib.lobpcg(lib.tensor(_spd(0), requires_grad=True), k=1,
                           B=lib.tensor(_spd(1), requires_grad=True))[0].sum().backward(),
])
def test_errors_match_torch(call):
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as got:
        call(ember)
    assert str(got.value).replace("ember.Size", "torch.Size") == str(expected.value)
