"""``torch.lobpcg``: the k largest (or smallest) eigenpairs of a symmetric positive definite generalized eigenproblem
A x = lambda B x by the Locally Optimal Block Preconditioned Conjugate Gradient method: ``method="ortho"`` (the
default, Duersch et al. 2018: the search basis kept B-orthonormal) or ``"basic"`` (Knyazev's, a Rayleigh-Ritz
transform of each basis). Differentiable in A (dense, real, B = I) as PyTorch's: the gradient of the eigenpairs
found, A symmetrized first."""
from . import _dtype
from .autograd.function import Function
from .autograd.grad_mode import no_grad

__all__ = ["lobpcg"]


def _torch():
    import ember
    return ember


def _mm(A, S):
    """A S, with None standing for the identity."""
    return S if A is None else A @ S


def _qform(A, S):
    return S.mT @ _mm(A, S)


def _symeig(M, largest=False):
    """Eigenvalues (ascending, or descending when ``largest``) and eigenvectors of the symmetric ``M``."""
    E, Z = _torch().linalg.eigh(M, UPLO="U")
    return (E.flip(-1), Z.flip(-1)) if largest else (E, Z)


class _Worker:
    """One LOBPCG run on a single matrix: ``X`` (m, n) the current eigenvector estimates, ``E`` their values."""

    def __init__(self, A, B, X, iK, iparams, fparams, bparams, method, tracker):
        self.A, self.B, self.iK, self.X, self.tracker = A, B, iK, X, tracker
        self.iparams, self.fparams, self.bparams, self.method = iparams, fparams, bparams, method
        m, n = iparams["m"], iparams["n"]
        self.E = X.new_zeros((n,))
        self.S = X.new_zeros((m, 3 * n))
        self.step = self.converged_count = self.converged_end = 0

    def run(self):
        self.update()
        while self.iterations_left and self.converged_count < self.iparams["k"]:
            self.update()

    def update(self):
        if self.step == 0:
            norm = float(self.X.norm())
            self.A_norm = float(_mm(self.A, self.X).norm()) / norm
            self.B_norm = float(_mm(self.B, self.X).norm()) / norm
            self.iterations_left = self.iparams["niter"]
        (self._update_ortho if self.method == "ortho" else self._update_basic)()
        self.iterations_left -= 1
        self.step += 1
        if self.tracker is not None:
            self.tracker(self)

    def _residual_and_count(self):
        """Updates the residuals and the count of leading eigenpairs whose relative residual is below ``tol``."""
        self.R = _mm(self.A, self.X) - _mm(self.B, self.X) * self.E
        error = self.R.norm(2, (0,)) / (self.X.norm(2, (0,)) * (self.A_norm + self.E[:self.X.shape[-1]].abs()
                                                                  * self.B_norm))
        count = 0
        for converged in (error < self.fparams["tol"]).tolist():
            if not converged:
                break
            count += 1
        if count < self.converged_count:
            raise AssertionError(f"the number of converged eigenpairs (was {self.converged_count}, got {count}) "
                                 "cannot decrease")
        self.converged_count = count
        return count

    def _extend(self, n, np, W):
        self.converged_end = n + np + W.shape[-1]
        self.S[:, n + np:self.converged_end] = W

    def _update_basic(self):
        n, nc, ns, largest = self.iparams["n"], self.converged_count, self.converged_end, self.bparams["largest"]
        if self.step == 0:
            Ri = self._rayleigh_ritz_transform(self.X)
            E, Z = _symeig(_qform(_qform(self.A, self.X), Ri), largest)
            self.X[:] = self.X @ (Ri @ Z)
            self.E[:] = E
            np = 0
            nc = self._residual_and_count()
            self.S[:, :n] = self.X
        else:
            S_ = self.S[:, nc:ns]
            Ri = self._rayleigh_ritz_transform(S_)
            E_, Z = _symeig(_qform(_qform(self.A, S_), Ri), largest)
            self.X[:, nc:] = S_ @ (Ri @ Z[:, :n - nc])
            self.E[nc:] = E_[:n - nc]
            P = S_ @ (Ri @ Z[:, n:2 * n - nc])
            np = P.shape[-1]
            nc = self._residual_and_count()
            self.S[:, :n] = self.X
            self.S[:, n:n + np] = P
        self._extend(n, np, _mm(self.iK, self.R[:, nc:] if self.step else self.R))

    def _update_ortho(self):
        n, nc, ns, largest = self.iparams["n"], self.converged_count, self.converged_end, self.bparams["largest"]
        if self.step == 0:
            Ri = self._rayleigh_ritz_transform(self.X)
            _, Z = _symeig(_qform(_qform(self.A, self.X), Ri), largest)
            self.X = self.X @ (Ri @ Z)
            self._residual_and_count()
            np = 0
            self.S[:, :n] = self.X
            W = self._ortho(self.R, self.X)
        else:
            S_ = self.S[:, nc:ns]
            E_, Z = _symeig(_qform(self.A, S_), largest)
            self.X[:, nc:] = S_ @ Z[:, :n - nc]
            self.E[nc:] = E_[:n - nc]
            P = S_ @ (Z[:, n - nc:] @ _torch().linalg.qr(Z[:n - nc, n - nc:].mT).Q)
            np = P.shape[-1]
            nc = self._residual_and_count()
            self.S[:, :n] = self.X
            self.S[:, n:n + np] = P
            W = self._ortho(self.R[:, nc:], self.S[:, :n + np])
        self._extend(n, np, W)

    def _rayleigh_ritz_transform(self, S):
        """Ri with Ri^T (S^T B S) Ri = I: the generalized problem on span(S) as a standard one."""
        SBS = _qform(self.B, S)
        d = SBS.diagonal(0, -2, -1) ** -0.5
        R = _torch().linalg.cholesky(SBS * d * d.reshape(-1, 1), upper=True)
        return _torch().linalg.solve_triangular(R, d.diag_embed(), upper=True, left=False)

    def _svqb(self, U, drop, tau):
        """U's columns made B-orthonormal through the eigenvectors of their scaled Gram matrix; eigenvalues below
        ``tau`` times the largest are dropped (``drop``) or raised to it."""
        if U.numel() == 0:
            return U
        UBU = _qform(self.B, U)
        d = UBU.diagonal(0, -2, -1)
        nonzero = (d != 0).nonzero().reshape(-1)
        if len(nonzero) < len(d):
            U = U[:, nonzero]
            if U.numel() == 0:
                return U
            UBU = _qform(self.B, U)
            d = UBU.diagonal(0, -2, -1)
        d_col = (d ** -0.5).reshape(-1, 1)
        E, Z = _symeig(UBU * d_col * d_col.mT)
        t = tau * E.abs().max()
        if drop:
            keep = (E > t).nonzero().reshape(-1)
            E, Z, d_col = E[keep], Z[:, keep], d_col[keep]
        else:
            E = E.where(E >= t, t)
        return (U * d_col.mT) @ (Z * E ** -0.5)

    def _ortho(self, U, V):
        """U's columns B-orthonormalized and made B-orthogonal to the B-orthonormal V (possibly fewer, or none)."""
        m, tau = self.iparams["m"], self.fparams["ortho_tol"]
        tau_drop, tau_replace = self.fparams["ortho_tol_drop"], self.fparams["ortho_tol_replace"]
        use_drop = self.bparams["ortho_use_drop"]
        BV_norm = _mm(self.B, V).norm()
        VBU = V.mT @ _mm(self.B, U)
        eye = _torch().eye
        for _ in range(self.iparams["ortho_i_max"]):
            U = U - V @ VBU
            drop, tau_svqb = False, tau_drop
            for _ in range(self.iparams["ortho_j_max"]):
                if use_drop:
                    U = self._svqb(U, drop, tau_svqb)
                    drop, tau_svqb = True, tau_replace
                else:
                    U = self._svqb(U, False, tau_replace)
                if U.numel() == 0:
                    return U
                BU = _mm(self.B, U)
                UBU = U.mT @ BU
                error = float((UBU - eye(UBU.shape[-1], dtype=UBU.dtype, device=UBU.device)).norm()) / \
                    float(BU.norm() * U.norm())
                if error < tau:
                    break
            VBU = V.mT @ BU
            if float(VBU.norm()) / float(BV_norm * U.norm()) < tau:
                break
            if m < U.shape[-1] + V.shape[-1]:
                raise ValueError(f"Overdetermined shape of U: #B-cols(={self.B.shape[-1]}) >= #U-cols(={U.shape[-1]}) "
                                 f"+ #V-cols(={V.shape[-1]}) must hold")
        return U


def _run(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams, ortho_bparams):
    torch = _torch()
    if A.shape[-2] != A.shape[-1]:
        raise AssertionError(f"A must be square, got shape {A.shape}")
    if B is not None and A.shape != B.shape:
        raise AssertionError(f"A and B must have same shape, got {A.shape} vs {B.shape}")
    dtype = A.dtype if A.dtype in (_dtype.float16, _dtype.float32, _dtype.float64) else _dtype.float32
    if tol is None:
        tol = {_dtype.float32: 1.2e-07, _dtype.float64: 2.23e-16}[dtype] ** 0.5
    m = A.shape[-1]
    k = (1 if X is None else X.shape[-1]) if k is None else k
    n = (k if n is None else n) if X is None else X.shape[-1]
    if m < 3 * n:
        raise ValueError(f"LOBPCG algorithm is not applicable when the number of A rows (={m}) is smaller than 3 x "
                         f"the number of requested eigenpairs (={n})")
    method = "ortho" if method is None else method
    iparams = {"m": m, "n": n, "k": k, "niter": 1000 if niter is None else niter}
    fparams = {"tol": tol}
    bparams = {"largest": True if largest is None else largest}
    if method == "ortho":
        iparams.update(ortho_iparams or {})
        fparams.update(ortho_fparams or {})
        bparams.update(ortho_bparams or {})
        iparams.setdefault("ortho_i_max", 3)
        iparams.setdefault("ortho_j_max", 3)
        for name in ("ortho_tol", "ortho_tol_drop", "ortho_tol_replace"):
            fparams.setdefault(name, tol)
        bparams.setdefault("ortho_use_drop", False)
    batch = tuple(A.shape[:-2])
    count = 1
    for size in batch:
        count *= size
    As, Bs = A.reshape((count, m, m)), B.reshape((count, m, m)) if B is not None else None
    Xs = X if X is None or not batch else X.reshape((count,) + tuple(X.shape[-2:]))   # unbatched: X itself
    values, vectors = [], []
    for i in range(count):
        X_ = torch.randn((m, n), dtype=dtype, device=A.device) if Xs is None else Xs[i] if batch else Xs
        if not (X_.ndim == 2 and tuple(X_.shape) == (m, n)):
            raise AssertionError(f"X shape mismatch: got {X_.shape}, expected {(m, n)}")
        worker = _Worker(As[i], Bs[i] if Bs is not None else None, X_, iK, iparams, fparams, bparams, method,
                         tracker)
        worker.run()
        values.append(worker.E[:k])
        vectors.append(worker.X[:, :k])
    if not batch:
        return values[0], vectors[0]
    return torch.stack(values).reshape(batch + (k,)), torch.stack(vectors).reshape(batch + (m, k))


class _LOBPCGBackward(Function):
    """The eigenpairs of a symmetric A, with the gradient of the eigenpairs found (PyTorch's derivative: A's other
    eigenvectors, from its full eigendecomposition, take none)."""

    @staticmethod
    def forward(ctx, A, B, options):
        with no_grad():
            E, X = _run(A, options[0], B, *options[1:])
        ctx.save_for_backward(A, E, X)
        ctx.has_B = B is not None
        return E, X

    @staticmethod
    def backward(ctx, E_grad, X_grad):
        A, E, X = ctx.saved_tensors
        if A.dtype.is_complex:
            raise ValueError("lobpcg.backward does not support complex input yet. Note that lobpcg.forward does "
                             "though.")
        if ctx.has_B:
            raise ValueError("lobpcg.backward does not support backward with B != I yet.")
        torch = _torch()
        E_grad = torch.zeros_like(E) if E_grad is None else E_grad
        X_grad = torch.zeros_like(X) if X_grad is None else X_grad
        D, U = torch.linalg.eigh(A)
        match = (U.mT @ X).abs().argmax(-2)   # which of A's eigenvectors each one found is (up to sign)
        found = U.gather(-1, match.unsqueeze(-2).expand(X.shape))
        sign = (found * X).sum(-2, keepdim=True).sign()
        D_grad = torch.zeros_like(D).scatter(-1, match, E_grad)
        U_grad = torch.zeros_like(U).scatter(-1, match.unsqueeze(-2).expand(X.shape), X_grad * sign)
        F = D.unsqueeze(-2) - D.unsqueeze(-1)
        F = torch.where(torch.eye(F.shape[-1], dtype=_dtype.bool_, device=F.device), torch.inf, F).reciprocal()
        return U @ ((D_grad.diag_embed() + (U.mT @ U_grad) * F) @ U.mT), None, None


def lobpcg(A, k=None, B=None, X=None, n=None, iK=None, niter=None, tol=None, largest=None, method=None, tracker=None,
           ortho_iparams=None, ortho_fparams=None, ortho_bparams=None):
    """The ``k`` largest (smallest with ``largest=False``) eigenvalues of the symmetric positive definite
    generalized problem A x = lambda B x and their eigenvectors (m, k), by LOBPCG from random (or ``X``'s) start
    vectors; ``iK`` preconditions, ``tol`` bounds each relative residual, ``niter`` the iterations (1000), and
    ``tracker(worker)`` sees each iteration (its ``E``, ``X``, ``R``, ``converged_count``)."""
    if A.requires_grad or B is not None and B.requires_grad:   # symmetrized, so a gradient step keeps A symmetric
        options = (k, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams, ortho_bparams)
        return _LOBPCGBackward.apply((A + A.mT) / 2, (B + B.mT) / 2 if B is not None else None, options)
    return _run(A, k, B, X, n, iK, niter, tol, largest, method, tracker, ortho_iparams, ortho_fparams, ortho_bparams)
