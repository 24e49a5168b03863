"""Helpers the distributions share: broadcasting parameters, probabilities <-> logits, cached properties."""
import numbers

import numpy

from .._dtype import get_default_dtype
from .._tensor import Tensor

__all__ = ["broadcast_all", "logits_to_probs", "probs_to_logits", "clamp_probs", "lazy_property", "euler_constant",
           "tril_matrix_to_vec", "vec_to_tril_matrix"]

euler_constant = 0.57721566490153286060


def _finfo(dtype):
    return numpy.finfo(dtype.numpy)


def broadcast_all(*values):
    """Broadcasts tensors (and tensor-likes) and numbers together; numbers become tensors of the first tensor's
    dtype and device (or the default dtype). Broadcasts with the public ``broadcast_tensors``, so tensor subclasses
    and tensor-likes handle it through ``__torch_function__`` (Pyro's provenance tracking), as in PyTorch."""
    from .. import broadcast_tensors
    from ..overrides import is_tensor_like
    if not all(is_tensor_like(v) or isinstance(v, numbers.Number) for v in values):
        raise ValueError("Input arguments must all be instances of Number, torch.Tensor or objects implementing "
                         "__torch_function__.")
    if not all(is_tensor_like(v) for v in values):
        from ..ops.creation import tensor
        options = next((dict(dtype=v.dtype, device=v.device) for v in values if isinstance(v, Tensor)),
                       dict(dtype=get_default_dtype()))
        values = [v if is_tensor_like(v) else tensor(v, **options) for v in values]
    return broadcast_tensors(*values)


def _sum_rightmost(value, dim):
    """Sums the rightmost ``dim`` dimensions of ``value``."""
    if dim == 0:
        return value
    return value.reshape(value.shape[:value.dim() - dim] + (-1,)).sum(-1)


def logits_to_probs(logits, is_binary=False):
    """Probabilities from logits: a sigmoid for binary ones, a softmax over the last dim otherwise."""
    if is_binary:
        return logits.sigmoid()
    return logits.softmax(-1)


def clamp_probs(probs):
    """Clamps probabilities into [eps, 1 - eps] of their dtype."""
    eps = float(_finfo(probs.dtype).eps)
    return probs.clamp(min=eps, max=1 - eps)


def probs_to_logits(probs, is_binary=False):
    """Logits from probabilities: log-odds for binary ones, log-probabilities otherwise."""
    ps_clamped = clamp_probs(probs)
    if is_binary:
        return ps_clamped.log() - (-ps_clamped).log1p()
    return ps_clamped.log()


class lazy_property:
    """A property computed on first access and then stored on the instance (so parameters given as ``probs`` or
    ``logits`` compute the other only when asked)."""

    def __init__(self, wrapped):
        self.wrapped = wrapped
        self.__doc__ = wrapped.__doc__

    def __get__(self, instance, obj_type=None):
        if instance is None:
            return self
        from ..autograd.grad_mode import enable_grad
        with enable_grad():
            value = self.wrapped(instance)
        setattr(instance, self.wrapped.__name__, value)
        return value



def _expand(dist, cls, batch_shape, _instance, names):
    """The shared body of ``expand``: a new ``cls`` instance whose parameters ``names`` (those set on ``dist``) are
    broadcast views over ``batch_shape`` (keeping any trailing event-parameter dims)."""
    from .._tensor import Size
    from .distribution import Distribution
    new = dist._get_checked_instance(cls, _instance)
    batch_shape = Size(batch_shape)
    for name in names:
        if name in dist.__dict__:
            value = getattr(dist, name)
            setattr(new, name, value.expand(batch_shape + value.shape[len(dist.batch_shape):]))
    Distribution.__init__(new, batch_shape, dist.event_shape, validate_args=False)
    new._validate_args = dist._validate_args
    return new


def _standard_normal(shape, dtype, device):
    """Standard normal samples, drawn as PyTorch draws them (``empty(shape).normal_()``)."""
    from ..ops.creation import empty
    return empty(shape, dtype=dtype, device=device).normal_()


def _tril_mask(n, diag, device):
    from ..ops.ranges import arange
    index = arange(n, device=device)
    return index < index.view(-1, 1) + (diag + 1)


def vec_to_tril_matrix(vec, diag=0):
    """A (..., n, n) matrix holding ``vec``'s last dim, row by row, in its lower triangle from diagonal ``diag``."""
    size = vec.shape[-1]
    n = (-(1 + 2 * diag) + ((1 + 2 * diag) ** 2 + 8 * size + 4 * abs(diag) * (diag + 1)) ** 0.5) / 2
    if round(n) - n > float(numpy.finfo(vec.dtype.numpy).eps):
        raise ValueError(f"The size of last dimension is {size} which cannot be expressed as the lower triangular "
                         f"part of a square D x D matrix.")
    n = round(n)
    matrix = vec.new_zeros(tuple(vec.shape[:-1]) + (n, n))
    matrix[..., _tril_mask(n, diag, vec.device)] = vec
    return matrix


def tril_matrix_to_vec(mat, diag=0):
    """The lower triangle of ``mat`` from diagonal ``diag``, row by row, as its last dim."""
    n = mat.shape[-1]
    if diag < -n or diag >= n:
        raise ValueError(f"diag ({diag}) provided is outside [{-n}, {n - 1}].")
    return mat[..., _tril_mask(n, diag, mat.device)]
