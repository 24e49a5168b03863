"""Parametrizations to use with ``register_parametrization``: orthogonal, weight_norm and spectral_norm (PyTorch's
names and state_dict layout)."""
from ..._dtype_info import finfo
from ..._tensor import Tensor, _make
from ...autograd.grad_mode import no_grad
from ..modules.module import Module
from . import parametrize
from ._norms import as_matrix, default_spectral_dim, norm_except_dim, normalized, weight_norm_value

__all__ = ["orthogonal", "weight_norm", "spectral_norm"]

_ORTHOGONAL_MAPS = ("matrix_exp", "cayley", "householder")


def _is_orthogonal(Q):
    """Q^H Q == I to within a tolerance that grows with the matrix size."""
    from ... import allclose, eye
    n, k = Q.shape[-2], Q.shape[-1]
    eps = 10.0 * n * finfo(Q.dtype).eps   # (torch.finfo's refusal of other dtypes)
    return allclose(Q.mH @ Q, eye(k, dtype=Q.dtype, device=Q.device), atol=eps)


def _make_orthogonal(A):
    """The Q of A = QR (A tall, possibly complex) with diag(R) made real and non-negative."""
    from ...linalg import qr
    Q, R = qr(A)
    return Q * R.diagonal(dim1=-2, dim2=-1).sgn().unsqueeze(-2)


def _householder_product(A, tau):
    """The first k columns of H_1 ... H_k with H_i = I - tau_i v_i v_i^H, v_i the i-th column of A below the
    diagonal with a unit diagonal entry (LAPACK's orgqr), built from Tensor ops so it differentiates."""
    from ... import eye
    n, k = A.shape[-2], A.shape[-1]
    identity = eye(n, k, dtype=A.dtype, device=A.device)
    reflectors = A.tril(-1) + identity
    Q = identity.expand(*A.shape[:-2], n, k)
    for i in reversed(range(k)):
        v = reflectors[..., i:i + 1]
        Q = Q - tau[..., i, None, None] * (v @ (v.mH @ Q))
    return Q


def _geqrf(A):
    """LAPACK's geqrf of A: the reflectors below the diagonal with R on and above it, and the scalars tau."""
    from ..._backend import xp_of
    xp = xp_of(A._data)
    reflectors, tau = xp.linalg.qr(A._data, mode="raw")
    return _make(xp.ascontiguousarray(xp.swapaxes(reflectors, -1, -2))), _make(tau)


class _Orthogonal(Module):
    """An orthogonal (unitary) matrix from an unconstrained one: exp or Cayley map of a skew-Hermitian matrix, or a
    product of Householder reflectors; with ``use_trivialization`` it multiplies a stored orthogonal ``base``."""

    def __init__(self, weight, orthogonal_map, *, use_trivialization=True):
        super().__init__()
        if weight.is_complex() and orthogonal_map == "householder":
            raise ValueError("The householder parametrization does not support complex tensors.")
        self.shape = weight.shape
        self.orthogonal_map = orthogonal_map
        if use_trivialization:
            self.register_buffer("base", None)

    def forward(self, X):
        from ... import cat, eye, matrix_exp
        from ...linalg import solve
        n, k = X.shape[-2], X.shape[-1]
        transposed = n < k
        if transposed:
            X, n, k = X.mT, k, n
        if self.orthogonal_map in ("matrix_exp", "cayley"):
            X = X.tril()   # n k - k (k - 1) / 2 parameters
            if n != k:
                X = cat([X, X.new_zeros(n, n - k).expand(*X.shape[:-2], -1, -1)], dim=-1)
            A = X - X.mH   # skew-symmetric (skew-Hermitian)
            if self.orthogonal_map == "matrix_exp":
                Q = matrix_exp(A)
            else:   # the Cayley retraction (I + A/2)(I - A/2)^-1
                identity = eye(n, dtype=A.dtype, device=A.device)
                Q = solve(identity - 0.5 * A, identity + 0.5 * A)
            if n != k:
                Q = Q[..., :k]
        else:
            A = X.tril(-1)
            tau = 2.0 / (1.0 + (A * A).sum(dim=-2))
            # X's diagonal holds the reflections' signs (+-1), which are not trained
            Q = _householder_product(A, tau) * X.diagonal(dim1=-2, dim2=-1).int().unsqueeze(-2)
        if hasattr(self, "base"):
            Q = self.base @ Q
        return Q.mT if transposed else Q

    def right_inverse(self, Q):
        """The original that gives Q: with a base, Q (orthogonalised, completed to square) becomes the base and the
        original -I; without, Q's Householder reflectors (only the householder map can be inverted)."""
        from ... import cat, randn, zeros_like
        with no_grad():
            if Q.shape != self.shape:
                raise ValueError(f"Expected a matrix or batch of matrices of shape {self.shape}. Got a tensor of "
                                 f"shape {Q.shape}.")
            Q_init = Q
            n, k = Q.shape[-2], Q.shape[-1]
            transpose = n < k
            if transpose:
                Q, n, k = Q.mT, k, n
            if not hasattr(self, "base"):
                if self.orthogonal_map in ("matrix_exp", "cayley"):
                    raise NotImplementedError("It is not possible to assign to the matrix exponential or the Cayley "
                                              "parametrizations when use_trivialization=False.")
                A, tau = _geqrf(Q)
                # diag(R) > 0 makes the decomposition unique; tau == 0 marks a reflection LAPACK skipped
                signs = A.diagonal(dim1=-2, dim2=-1).sign()
                A.diagonal(dim1=-2, dim2=-1).copy_(signs.where(tau != 0.0, -signs))
                return A.mT if transpose else A
            if n == k:
                Q = Q.clone() if _is_orthogonal(Q) else _make_orthogonal(Q)
            else:   # complete Q to a square orthogonal matrix
                completion = randn(*(tuple(Q.shape[:-2]) + (n, n - k)), dtype=Q.dtype, device=Q.device)
                Q = _make_orthogonal(cat([Q, completion], dim=-1))
            self.base = Q
            # -I, so that householder(zeros) is the identity
            negative_identity = zeros_like(Q_init)
            negative_identity.diagonal(dim1=-2, dim2=-1).fill_(-1.0)
            return negative_identity


def orthogonal(module, name="weight", orthogonal_map=None, *, use_trivialization=True):
    """Keeps ``module.<name>`` (a matrix or batch of matrices) orthogonal or unitary: ``"matrix_exp"`` or
    ``"cayley"`` of a skew-Hermitian matrix, or ``"householder"`` reflectors (default: matrix_exp for square or
    complex weights, householder otherwise)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    if weight.ndim < 2:
        raise ValueError(f"Expected a matrix or batch of matrices. Got a tensor of {weight.ndim} dimensions.")
    if orthogonal_map is None:
        square = weight.shape[-2] == weight.shape[-1]
        orthogonal_map = "matrix_exp" if square or weight.is_complex() else "householder"
    if orthogonal_map not in _ORTHOGONAL_MAPS:
        raise ValueError('orthogonal_map has to be one of "matrix_exp", "cayley", "householder". '
                         f"Got: {orthogonal_map}")
    orth = _Orthogonal(weight, orthogonal_map, use_trivialization=use_trivialization)
    parametrize.register_parametrization(module, name, orth, unsafe=True)
    return module


class _WeightNorm(Module):
    """weight = g * v / ||v||, stored as original0 (g) and original1 (v)."""

    def __init__(self, dim=0):
        super().__init__()
        self.dim = -1 if dim is None else dim

    def forward(self, weight_g, weight_v):
        return weight_norm_value(weight_v, weight_g, self.dim)

    def right_inverse(self, weight):
        return norm_except_dim(weight, self.dim), weight


def weight_norm(module, name="weight", dim=0):
    """Reparametrizes ``module.<name>`` by its magnitude (original0) and direction (original1); checkpoints of the
    legacy ``nn.utils.weight_norm`` (``<name>_g``, ``<name>_v``) still load."""
    parametrize.register_parametrization(module, name, _WeightNorm(dim), unsafe=True)

    def _weight_norm_compat_hook(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                 error_msgs):
        g_key, v_key = f"{prefix}{name}_g", f"{prefix}{name}_v"
        if g_key in state_dict and v_key in state_dict:
            state_dict[f"{prefix}parametrizations.{name}.original0"] = state_dict.pop(g_key)
            state_dict[f"{prefix}parametrizations.{name}.original1"] = state_dict.pop(v_key)

    module._register_load_state_dict_pre_hook(_weight_norm_compat_hook)
    return module


class _SpectralNorm(Module):
    """weight / sigma, sigma the largest singular value estimated by power iteration on buffers ``_u`` and ``_v``."""

    def __init__(self, weight, n_power_iterations=1, dim=0, eps=1e-12):
        super().__init__()
        ndim = weight.ndim
        if dim >= ndim or dim < -ndim:
            raise IndexError(f"Dimension out of range (expected to be in range of [-{ndim}, {ndim - 1}] but got "
                             f"{dim})")
        if n_power_iterations <= 0:
            raise ValueError("Expected n_power_iterations to be positive, but got "
                             f"n_power_iterations={n_power_iterations}")
        self.dim = dim if dim >= 0 else dim + ndim
        self.eps = eps
        if ndim > 1:
            self.n_power_iterations = n_power_iterations
            matrix = as_matrix(weight, self.dim)
            h, w = matrix.shape
            self.register_buffer("_u", normalized(matrix.new_empty(h).normal_(0, 1), eps))
            self.register_buffer("_v", normalized(matrix.new_empty(w).normal_(0, 1), eps))
            self._power_method(matrix, 15)

    def _power_method(self, matrix, n_power_iterations):
        with no_grad():
            for _ in range(n_power_iterations):
                self._u.copy_(normalized(matrix.mv(self._v), self.eps))
                self._v.copy_(normalized(matrix.H.mv(self._u), self.eps))

    def forward(self, weight):
        if weight.ndim == 1:
            return normalized(weight, self.eps)
        matrix = as_matrix(weight, self.dim)
        if self.training:
            self._power_method(matrix, self.n_power_iterations)
        u, v = self._u.clone(), self._v.clone()
        return weight / u.vdot(matrix.mv(v))

    def right_inverse(self, value):
        return value


def spectral_norm(module, name="weight", n_power_iterations=1, eps=1e-12, dim=None):
    """Divides ``module.<name>`` by its spectral norm, estimated by power iteration (updated in training mode)."""
    weight = getattr(module, name, None)
    if not isinstance(weight, Tensor):
        raise ValueError(f"Module '{module}' has no parameter or buffer with name '{name}'")
    dim = default_spectral_dim(module) if dim is None else dim
    parametrize.register_parametrization(module, name, _SpectralNorm(weight, n_power_iterations, dim, eps))
    return module
