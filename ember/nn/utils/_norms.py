"""Shared pieces of weight normalisation and spectral normalisation."""
from ..modules.conv import ConvTranspose1d, ConvTranspose2d, ConvTranspose3d


def norm_except_dim(v, dim):
    """The 2-norm of ``v`` over every dim but ``dim``, kept as size-1 dims; dim=-1 means the norm of all of ``v``."""
    if dim == -1:
        return (v * v).sum().sqrt()
    if not -v.ndim <= dim < v.ndim:
        raise IndexError(f"Dimension out of range (expected to be in range of [{-v.ndim}, {v.ndim - 1}], but got "
                         f"{dim})")
    dim = dim % v.ndim
    others = tuple(d for d in range(v.ndim) if d != dim)
    return (v * v).sum(others, keepdim=True).sqrt() if others else v.abs()


def weight_norm_value(v, g, dim):
    """v scaled to norm g along ``dim`` (PyTorch's _weight_norm)."""
    return v * (g / norm_except_dim(v, dim))


def default_spectral_dim(module):
    """Spectral norm works on dim 1 (output channels) of transposed convolutions and on dim 0 otherwise."""
    return 1 if isinstance(module, (ConvTranspose1d, ConvTranspose2d, ConvTranspose3d)) else 0


def as_matrix(weight, dim):
    """``weight`` with ``dim`` moved first and the rest flattened: (weight.shape[dim], -1)."""
    if dim != 0:
        weight = weight.permute(dim, *(d for d in range(weight.ndim) if d != dim))
    return weight.reshape(weight.shape[0], -1)


def normalized(x, eps):
    """x / max(||x||, eps) for a vector."""
    return x / (x * x).sum().sqrt().clamp(min=eps)
