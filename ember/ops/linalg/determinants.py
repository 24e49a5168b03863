"""Determinants: det, slogdet and logdet."""

from ... import return_types
from ..._tensor import _make
from ...autograd.function import Primitive
from .._util import name_node, tensor_method, write_out
from ..pointwise.rounding import where
from ._common import _check_matrix, _conj, _mH, _write_outs, _xp
from .decompositions import SVD
from .products import matmul
from .solvers import inv

__all__ = ["SlogdetResult", "Det", "det", "linalg_det", "Slogdet", "slogdet", "linalg_slogdet", "logdet"]


SlogdetResult = return_types.structseq("linalg_slogdet", ["sign", "logabsdet"])


class Det(Primitive):
    @staticmethod
    def forward(ctx, a):
        result = ctx.xp.asarray(ctx.xp.linalg.det(a))
        ctx.save_for_backward(a, result)
        return result

    @staticmethod
    def backward(ctx, grad):
        a, result = ctx.saved_tensors
        scale = (grad * _conj(result)).unsqueeze(-1).unsqueeze(-1)
        return scale * _mH(_cofactor_ratio(a, result))


Det._node_cls.__name__ = Det._node_cls.__qualname__ = "LinalgDetBackward0"   # PyTorch's name


def _cofactor_ratio(a, det_a):
    """inv(a), or for singular matrices the adjugate divided by nothing: adj(a) = det(a) inv(a) through the SVD."""
    if a.shape[-1] == 0 or bool(_xp(a).all(det_a._data != 0)):
        return inv(a)
    u, s, vh = SVD.apply(a, False)
    # adj(A) = det(U) det(V^H) V diag(prod_{j != i} s_j) U^H; it equals det(A) inv(A) where A is invertible.
    n = s.shape[-1]
    xp = _xp(a)
    others = _make(1 - xp.eye(n, dtype=s._data.dtype))
    products = _product_except(s, others)
    sign = _make(xp.asarray(xp.linalg.det(u._data) * xp.linalg.det(vh._data)))
    adjugate = sign.unsqueeze(-1).unsqueeze(-1) * matmul(_mH(vh) * products.unsqueeze(-2), _mH(u))
    zero = xp.asarray(det_a._data == 0)
    safe = det_a + _make(zero.astype(det_a._data.dtype))
    return adjugate / safe.unsqueeze(-1).unsqueeze(-1) * _make(xp.asarray(~zero[..., None, None] * 1.0)) + \
        adjugate * _make(xp.asarray(zero[..., None, None] * 1.0))


def _product_except(s, others):
    """prod_{j != i} s_j for each i, without dividing (s may hold zeros)."""
    n = s.shape[-1]
    result = None
    for j in range(n):
        column = (s.narrow(-1, j, 1)).squeeze(-1)
        factor = column.unsqueeze(-1) * others.narrow(0, j, 1).reshape(n) + \
            _make(_xp(s).eye(n, dtype=s._data.dtype)[j])
        result = factor if result is None else result * factor
    return result


@tensor_method
def det(input):
    """The determinant of each square matrix."""
    _check_matrix(input, "linalg.det", kernel="lu_cpu")
    return Det.apply(input)


def linalg_det(A, *, out=None):
    """``torch.linalg.det``: ``det`` with PyTorch's argument names (``A``, ``out``)."""
    return write_out(out, det(A), "linalg.det")


class Slogdet(Primitive):
    @staticmethod
    def forward(ctx, a):
        sign, logabsdet = ctx.xp.linalg.slogdet(a)
        sign, logabsdet = ctx.xp.asarray(sign), ctx.xp.asarray(logabsdet)
        ctx.save_for_backward(a, sign)
        ctx.set_materialize_grads(False)
        return sign, logabsdet

    @staticmethod
    def backward(ctx, grad_sign, grad_logabsdet):
        # (d slogdet)^*(g_sign, g_abs) = (g_abs - i Im(conj(g_sign) sign)) A^-H; a real sign is constant.
        a, sign = ctx.saved_tensors
        grad = grad_logabsdet
        if a.dtype.is_complex and grad_sign is not None:
            rotation = _conj(grad_sign) * sign
            grad = (rotation - _conj(rotation)) * -0.5 if grad is None else grad - (rotation - _conj(rotation)) * 0.5
        if grad is None:
            return None
        return grad.unsqueeze(-1).unsqueeze(-1) * _mH(inv(a))


Slogdet._node_cls.__name__ = Slogdet._node_cls.__qualname__ = "LinalgSlogdetBackward0"   # PyTorch's name


@tensor_method
def slogdet(input, *, out=None):
    """(sign, log|det|) of each square matrix, stable where det over- or underflows."""
    _check_matrix(input, "linalg.slogdet", low_precision="linalg.slogdet")
    return _write_outs(out, SlogdetResult(*Slogdet.apply(input)), "linalg.slogdet")


def linalg_slogdet(A, *, out=None):
    """``torch.linalg.slogdet``: ``slogdet`` of the matrix named ``A``, as PyTorch's."""
    return slogdet(A, out=out)


@tensor_method
def logdet(input):
    """log(det(input)): NaN for a negative determinant, -inf for a singular matrix."""
    _check_matrix(input, "logdet", low_precision="logdet")
    sign, logabsdet = Slogdet.apply(input)
    if input.dtype.is_complex:   # the phase too is differentiable: log(sign) is i arg(det)
        return logabsdet + sign.log()
    nan_where_negative = where(sign < 0, float("nan"), 0.0).to(logabsdet.dtype)   # per example, inside vmap
    return name_node(logabsdet + nan_where_negative, "WhereBackward0")   # PyTorch's where(sign < 0, nan, logabsdet)
