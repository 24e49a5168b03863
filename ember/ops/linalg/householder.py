"""Householder reflectors: geqrf's compact QR, linalg.householder_product (orgqr) and ormqr, with gradients."""

from ... import _dtype, return_types
from ..._tensor import Tensor, _make
from ...autograd.function import Primitive, composite
from .._kernel_dtypes import refuse_complex_autograd, require_dtype
from .._util import name_node, tensor_method, write_out
from ..rearrange import diag_embed
from ._common import _mH, _name, _write_outs, _xp
from .products import matmul
from .solvers import solve_triangular

__all__ = ["geqrf", "orgqr", "ormqr"]

GeqrfResult = return_types.structseq("geqrf", ["a", "tau"])


def _require_tensor(value, op, argument, position):
    if not isinstance(value, Tensor):
        raise TypeError(f"{op}(): argument '{argument}' (position {position}) must be Tensor, not "
                        f"{type(value).__name__}")


def _last(t):
    """``t.size(-1)``, with PyTorch's error for a 0-d tensor."""
    if t.ndim == 0:
        raise IndexError("Dimension specified as -1 but tensor has no dimensions")
    return t.shape[-1]


class Geqrf(Primitive):
    """LAPACK geqrf: R on and above the diagonal, the Householder vectors below it, and their scalars tau."""

    @staticmethod
    def forward(ctx, a):
        h, tau = ctx.xp.linalg.qr(a, mode="raw")   # h is the transposed (Fortran-order) matrix
        return ctx.xp.ascontiguousarray(h.swapaxes(-1, -2)).astype(a.dtype, copy=False), tau.astype(a.dtype,
                                                                                                     copy=False)

    @staticmethod
    def backward(ctx, grad_a, grad_tau):
        raise NotImplementedError("the derivative for 'geqrf' is not implemented.")


@tensor_method
@composite("geqrf", trace_inside=True)   # named for autocast's float32 list
def geqrf(input, *, out=None):
    """LAPACK's geqrf of each matrix, as a namedtuple (a, tau): R on and above the diagonal of ``a``, the
    Householder vectors (with an implicit unit first entry) below it, and their scalars ``tau`` (min(m, n) each)."""
    _require_tensor(input, "geqrf", "input", 1)
    if input.ndim < 2:
        raise RuntimeError("torch.geqrf: input must have at least 2 dimensions.")
    require_dtype("geqrf_cpu", input, "fc")
    refuse_complex_autograd("geqrf", input)
    return _write_outs(out, GeqrfResult(*Geqrf.apply(input)), "geqrf")


def _reflectors(A, tau):
    """(V, T) of the compact WY form H_1 ... H_k = I - V T V^H, k = tau.shape[-1]: V the unit lower-trapezoidal
    reflectors (A's first k columns below the diagonal, ones on it), T upper triangular. T = (I + diag(tau)
    striu(V^H V))^-1 diag(tau), a unit-triangular solve, so no tau_i is ever divided by (LAPACK larft's T)."""
    xp = _xp(A)
    m, k = A.shape[-2], tau.shape[-1]
    dtype = A._data.dtype
    V = A.narrow(-1, 0, k).tril(-1) + _make(xp.eye(m, k, dtype=dtype))
    scaled = tau.unsqueeze(-1) * matmul(_mH(V), V).triu(1)
    T = solve_triangular(scaled + _make(xp.eye(k, dtype=dtype)), diag_embed(tau), upper=True, unitriangular=True)
    return V, T


def _householder_product(input, tau, out, op):
    name = "torch.linalg.householder_product"
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if input.shape[-2] < input.shape[-1]:
        raise RuntimeError(f"{name}: input.shape[-2] must be greater than or equal to input.shape[-1]")
    if input.shape[-1] < _last(tau):
        raise RuntimeError(f"{name}: input.shape[-1] must be greater than or equal to tau.shape[-1]")
    if input.ndim - tau.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal to "
                           f"{tau.ndim} and input.ndim is equal to {input.ndim}")
    if input.ndim > 2 and tuple(tau.shape[:-1]) != tuple(input.shape[:-2]):
        raise RuntimeError(f"{name}: Expected batch dimensions of tau to be equal to input.shape[:-2], but got "
                           f"{list(tau.shape[:-1])}")
    if tau.dtype is not input.dtype:
        raise RuntimeError(f"{name}: tau dtype {_name(tau)} does not match input dtype {_name(input)}")
    if out is not None and not _dtype.can_cast(input.dtype, out.dtype):
        raise RuntimeError(f"{name}: Expected result to be safely castable from {_name(input)} dtype, but got result "
                           f"with dtype {_name(out)}")
    require_dtype("orgqr_cpu", input, "fc")
    m, n = input.shape[-2], input.shape[-1]
    V, T = _reflectors(input, tau)
    Q = _make(_xp(input).eye(m, n, dtype=input._data.dtype)) - matmul(matmul(V, T), _mH(V.narrow(-2, 0, n)))
    return write_out(out, name_node(Q, "LinalgHouseholderProductBackward0"), op)


@composite("linalg_householder_product", trace_inside=True)   # named for autocast's float32 list
def householder_product(input, tau, *, out=None):
    """The first n columns of H_1 ... H_k (m x m, each H_i = I - tau_i v_i v_i^H with v_i the i-th column of
    ``input`` below the diagonal and 1 on it), for ``input`` (*, m, n) with m >= n >= k = tau.shape[-1]:
    LAPACK's orgqr. Differentiable in ``input`` and ``tau``."""
    _require_tensor(input, "linalg_householder_product", "input", 1)
    _require_tensor(tau, "linalg_householder_product", "tau", 2)
    return _householder_product(input, tau, out, "linalg_householder_product")


@tensor_method
@composite("orgqr", trace_inside=True)   # named for autocast's float32 list
def orgqr(input, input2, *, out=None):
    """Alias of ``linalg.householder_product(input, tau=input2)``."""
    _require_tensor(input, "orgqr", "input", 1)
    _require_tensor(input2, "orgqr", "input2", 2)
    return _householder_product(input, input2, out, "orgqr")


def _check_ormqr(input, tau, other, left, out):
    name = "torch.ormqr"
    if input.ndim < 2:
        raise RuntimeError(f"{name}: input must have at least 2 dimensions.")
    if other.ndim < 2:
        raise RuntimeError(f"{name}: other must have at least 2 dimensions.")
    side = -2 if left else -1
    if other.shape[side] != input.shape[-2]:
        raise RuntimeError(f"{name}: other.shape[{side}] must be equal to input.shape[-2]")
    if _last(tau) != min(other.shape[side], input.shape[-1]):
        raise RuntimeError(f"{name}: tau.shape[-1] must be equal to min(other.shape[{side}], input.shape[-1])")
    if input.ndim - tau.ndim != 1:
        raise RuntimeError(f"{name}: Expected tau to have one dimension less than input, but got tau.ndim equal to "
                           f"{tau.ndim} and input.ndim is equal to {input.ndim}")
    if input.ndim != other.ndim:
        raise RuntimeError(f"{name}: Expected other to have the same number of dimensions as input, but got "
                           f"other.ndim equal to {other.ndim} and input.ndim is equal to {input.ndim}")
    if input.ndim > 2:
        for label, t in (("tau", tau), ("other", other)):
            batch = tuple(t.shape[:-1] if t is tau else t.shape[:-2])
            if batch != tuple(input.shape[:-2]):
                raise RuntimeError(f"{name}: Expected batch dimensions of {label} to be equal to input.shape[:-2], "
                                   f"but got {list(batch)}")
    for label, t in (("tau", tau), ("other", other), ("result", out)):
        if t is not None and t.dtype is not input.dtype:
            raise RuntimeError(f"{name}: Expected input and {label} to have the same dtype, but input has dtype"
                               f"{_name(input)} and {label} has dtype {_name(t)}")
    require_dtype("ormqr_cpu", input, "fc")


@tensor_method
@composite("ormqr", trace_inside=True)   # named for autocast's float32 list
def ormqr(input, input2, input3, left=True, transpose=False, *, out=None):
    """Q C, Q^H C (``transpose``), C Q or C Q^H (``left=False``) for C = ``input3`` and Q = H_1 ... H_k given as
    Householder reflectors (``input``, tau = ``input2``) in geqrf's form, without forming Q (LAPACK's ormqr).
    Differentiable in all three tensors."""
    _require_tensor(input, "ormqr", "input", 1)
    _require_tensor(input2, "ormqr", "input2", 2)
    _require_tensor(input3, "ormqr", "input3", 3)
    for label, flag in (("left", left), ("transpose", transpose)):
        if not isinstance(flag, bool):
            raise TypeError(f"ormqr(): argument '{label}' must be bool, not {type(flag).__name__}")
    tau, other = input2, input3
    _check_ormqr(input, tau, other, left, out)
    V, T = _reflectors(input, tau)
    T = _mH(T) if transpose else T
    if left:   # (I - V T V^H) C
        result = other - matmul(V, matmul(T, matmul(_mH(V), other)))
    else:      # C (I - V T V^H)
        result = other - matmul(matmul(matmul(other, V), T), _mH(V))
    return write_out(out, name_node(result, "OrmqrBackward0"), "ormqr")

