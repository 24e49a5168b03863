"""Statistics of samples: cov and corrcoef (differentiable, built from other ops), histogram and histogramdd
(counts, not differentiable); dist and renorm, which measure and cap p-norms."""
import math
import numbers

import numpy

from .._warnings import warn
from .. import _dtype
from .._backend import xp_of
from .._tensor import Tensor, _make
from ..autograd.function import composite
from ._inplace import assign_inplace
from ._util import name_node, row_major_result, tensor_method, wrap_dim
from .creation import complex
from .ranges import linspace
from .deprecated_norms import frobenius_norm, nuclear_norm
from .linalg.norms import vector_norm
from .lowrank import pca_lowrank, svd_lowrank
from .reduction import return_type
from .tuple_out import write_tuple

# the low-rank SVD/PCA (ops/lowrank.py) and the deprecated norms (ops/deprecated_norms.py) are listed here so that
# ``torch``'s namespace has them
__all__ = ["cov", "corrcoef", "histogram", "histogramdd", "dist", "renorm", "svd_lowrank", "pca_lowrank",
           "frobenius_norm", "nuclear_norm"]


def _check_weights(weights, name, observations, integral):
    if weights.ndim > 1:
        raise RuntimeError(f"cov(): expected {name} to have one or fewer dimensions but got {name} with "
                           f"{weights.ndim} dimensions")
    if weights.numel() != observations:
        raise RuntimeError(f"cov(): expected {name} to have the same numel as there are observations in the input "
                           f"but got {weights.numel()} != {observations}")
    is_integral = not (weights.dtype.is_floating_point or weights.dtype.is_complex or weights.dtype is _dtype.bool_)
    if integral and not is_integral:
        raise RuntimeError(f"cov(): expected {name} to have integral dtype but got {name} with "
                           f"{_dtype.scalar_type_name(weights.dtype)} dtype")
    if not integral and not weights.dtype.is_floating_point:
        raise RuntimeError(f"cov(): expected {name} to have floating point dtype but got {name} with "
                           f"{_dtype.scalar_type_name(weights.dtype)} dtype")
    if weights.numel() and bool((weights._data < 0).any()):
        raise RuntimeError(f"cov(): {name} cannot be negative")


@tensor_method
def cov(input, *, correction=1, fweights=None, aweights=None):
    """Covariance matrix of the variables in ``input``'s rows (observations in columns; a 1-D input is one
    variable), with frequency weights ``fweights``, observation weights ``aweights`` and ``correction``."""
    if input.ndim > 2:
        raise RuntimeError(f"cov(): expected input to have two or fewer dimensions but got an input with "
                           f"{input.ndim} dimensions")
    if input.dtype is _dtype.bool_:
        raise RuntimeError("cov(): bool dtype is not supported for input")
    x = input if input.ndim == 2 else input.reshape(1, -1)
    observations = x.shape[1]
    weights = None
    if fweights is not None:
        _check_weights(fweights, "fweights", observations, True)
        weights = fweights
    if aweights is not None:
        _check_weights(aweights, "aweights", observations, False)
        weights = aweights if weights is None else weights * aweights
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(_dtype.get_default_dtype() if weights is None or not weights.dtype.is_floating_point
                 else _dtype.promote_types(_dtype.get_default_dtype(), weights.dtype))
    if weights is None:
        total = observations
        mean = x.mean(1, keepdim=True)
        norm_factor = total - correction
    else:
        total = weights.sum()
        mean = (x * weights).sum(1, keepdim=True) / total
        norm_factor = total - (correction if aweights is None or correction == 0
                               else correction * (weights * aweights).sum() / total)
    if float(norm_factor) <= 0:
        warn("cov(): degrees of freedom is <= 0. Correction should be strictly less than the number of "
             "observations.", UserWarning, stacklevel=2)
        norm_factor = norm_factor * 0 if isinstance(norm_factor, Tensor) else 0
    centered = x - mean
    weighted = centered if weights is None else centered * weights
    result = (weighted @ centered.transpose(0, 1).conj()) / norm_factor
    return result.squeeze()


@tensor_method
def corrcoef(input):
    """Pearson correlation coefficients of the variables in ``input``'s rows, clipped to [-1, 1]."""
    c = cov(input)
    if c.ndim == 0:
        return c / c
    d = c.diagonal()
    stddev = d.real.sqrt() if d.dtype.is_complex else d.sqrt()
    c = c / stddev.unsqueeze(1) / stddev.unsqueeze(0)
    if c.dtype.is_complex:
        return complex(c.real.clamp(-1, 1), c.imag.clamp(-1, 1))
    return c.clamp(-1, 1)


@tensor_method
@composite("dist", trace_inside=True)   # named for autocast's float32 list
def dist(input, other, p=2):
    """The ``p``-norm of ``input - other`` (broadcast)."""
    if not isinstance(other, Tensor):
        raise TypeError(f"dist(): argument 'other' (position 2) must be Tensor, not {type(other).__name__}")
    difference = input - other
    if not (difference.dtype.is_floating_point or difference.dtype.is_complex):
        raise RuntimeError("norm(): input dtype should be either floating point or complex. Got "
                           f"{_dtype.scalar_type_name(difference.dtype)} instead.")
    return name_node(vector_norm(difference, p), "DistBackward0", (input, other))


@tensor_method
@composite("renorm", trace_inside=True)   # named for autocast's float32 list
@row_major_result
def renorm(input, p, dim, maxnorm):
    """``input`` with each slice along ``dim`` whose ``p``-norm exceeds ``maxnorm`` scaled down to norm ``maxnorm``."""
    if input.ndim < 2:
        raise RuntimeError(f"renorm: input needs at least 2 dimensions, got {input.ndim} dimensions")
    dim = wrap_dim(dim, input.ndim)
    if not p > 0:
        raise RuntimeError("renorm: non-positive-norm not supported")
    if maxnorm < 0:
        raise RuntimeError(f"renorm: expected maxnorm to be >= 0 but got {maxnorm}")
    norms = vector_norm(input, p, [d for d in range(input.ndim) if d != dim], keepdim=True)
    factor = (maxnorm / (norms + 1e-7)).where(norms > maxnorm, 1.0)
    return name_node(input * factor.to(input.dtype), "RenormBackward0", (input,))


@tensor_method
def renorm_(self, p, dim, maxnorm):
    """In-place version of :func:`renorm`."""
    return assign_inplace(self, renorm(self.clone(), p, dim, maxnorm))   # the backward reads the values before


_histogram = return_type("histogram", ("hist", "bin_edges"))
_histogramdd_result = return_type("histogramdd", ("hist", "bin_edges"))


def _dims_range(data, dims, range, name):
    """(leftmost, rightmost) per dim: from ``range`` or the data, widened by 0.5 each way when they coincide."""
    xp = xp_of(data)
    if range is not None:
        if len(range) != 2 * dims:
            raise RuntimeError(f"{name}: for a {dims}-dimensional histogram, range should have {2 * dims} elements, "
                               f"but got {len(range)}")
        bounds = [(float(range[2 * d]), float(range[2 * d + 1])) for d in builtin_range(dims)]
    elif data.shape[0] == 0:
        bounds = [(0.0, 1.0)] * dims
    else:
        lows, highs = xp.min(data, axis=0), xp.max(data, axis=0)
        bounds = [(float(lows[d]), float(highs[d])) for d in builtin_range(dims)]
    checked = []
    for d, (low, high) in enumerate(bounds):
        if not (math.isfinite(low) and math.isfinite(high)):
            raise RuntimeError(f"torch.histogramdd: dimension {d}'s range [{_g(low)}, {_g(high)}] is not finite")
        if low > high:
            raise RuntimeError(f"torch.histogramdd: min should not exceed max, but got min {_g(low)} max {_g(high)} "
                               f"for dimension {d}")
        checked.append((low - 0.5, high + 0.5) if low == high else (low, high))
    return checked


builtin_range = range


def _g(value):
    return f"{value:g}"


def _histogramdd(input, bins, range, weight, density, name):
    """The counts (or weights) of the rows of ``input`` (..., D) in D-dimensional bins, and each dim's edges."""
    counted = isinstance(bins, numbers.Integral) or all(isinstance(b, numbers.Integral) for b in bins)
    # PyTorch's kernel takes float32 and float64; 16-bit floats only where no range is read from the data
    if input.dtype not in (_dtype.float32, _dtype.float64) and (
            input.dtype not in (_dtype.float16, _dtype.bfloat16) or counted and range is None):
        raise NotImplementedError(f"\"histogramdd\" not implemented for '{_dtype.scalar_type_name(input.dtype)}'")
    if input.ndim < 2:
        raise RuntimeError("torch.histogramdd: input tensor should have at least 2 dimensions")
    dims = input.shape[-1]
    data = input._data.reshape(-1, dims)
    xp = xp_of(data)
    if weight is not None:
        if weight.dtype is not input.dtype:
            raise RuntimeError("torch.histogramdd: if weight tensor is provided, input tensor and weight tensor should "
                               f"have the same dtype, but got input({_cpp(input)}), and weight({_cpp(weight)})")
        if tuple(weight.shape) != tuple(input.shape[:-1]):
            raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                               "input tensor excluding its innermost dimension, but got input with shape "
                               f"{list(input.shape)} and weight with shape {list(weight.shape)}")
    if isinstance(bins, numbers.Integral):
        bins = [int(bins)] * dims
    if len(bins) != dims:
        raise RuntimeError(f"{name}: expected {dims} sequences of bin edges for each of the {dims} input dimensions, "
                           f"but got {len(bins)} bin sequences")
    if all(isinstance(b, numbers.Integral) for b in bins):
        for d, count in enumerate(bins):
            if count <= 0:
                raise RuntimeError(f"{name}: bins must be > 0, but got {count} for dimension {d}")
        bounds = _dims_range(data, dims, range, name)
        edges = [linspace(low, high, count + 1, dtype=input.dtype, device=input.device)
                 for (low, high), count in zip(bounds, bins)]
    else:
        edges = list(bins)
        for d, e in enumerate(edges):
            if e.dtype is not input.dtype:
                raise RuntimeError(f"torch.histogramdd: input tensor and bins tensors should have the same dtype, but "
                                   f"got input with dtype {_cpp(input)} and bins for dimension {d} with dtype "
                                   f"{_cpp(e)}")
            if e.ndim != 1 or e.numel() < 1:
                raise RuntimeError(f"torch.histogramdd: bins tensor should have one dimension and at least 1 element, "
                                   f"but got {e.ndim} dimensions and {e.numel()} elements")
    shape = tuple(e.shape[0] - 1 for e in edges)
    flat = xp.zeros(data.shape[0], dtype=numpy.int64)
    inside = xp.ones(data.shape[0], dtype=bool)
    for d, e in enumerate(edges):
        column, e = data[:, d], e._data
        # bin i holds [edge i, edge i+1); the last bin also holds its right edge
        position = xp.searchsorted(e, column, side="right") - 1
        position = xp.where(column == e[-1], shape[d] - 1, position)
        inside &= (column >= e[0]) & (column <= e[-1])
        flat = flat * shape[d] + xp.clip(position, 0, max(shape[d] - 1, 0))
    weights = None if weight is None else weight._data.reshape(-1)[inside]
    size = int(numpy.prod(shape))
    counts = xp.bincount(flat[inside], weights=weights, minlength=size)[:size] if size else xp.zeros(0)
    hist = counts.astype(input._data.dtype).reshape(shape)
    if density:
        total = hist.sum()
        with numpy.errstate(invalid="ignore", divide="ignore"):   # no samples: NaN, as in PyTorch
            for d, e in enumerate(edges):
                hist = hist / xp.diff(e._data).reshape((-1,) + (1,) * (dims - d - 1))
            hist = hist / total
    return _make(hist.astype(input._data.dtype, copy=False)), edges


def _cpp(t):
    return {"float32": "float", "float64": "double"}.get(str(t.dtype).split(".")[-1], str(t.dtype).split(".")[-1])


@tensor_method
@composite("histogram")   # seen whole at dispatch: computed on the arrays
def histogram(input, bins=100, *, range=None, weight=None, density=False, out=None):
    """(hist, bin_edges): counts of ``input``'s values in ``bins`` equal bins over ``range`` (the data's range by
    default) or between the edges of a 1-D ``bins`` tensor; ``weight`` per value, ``density`` normalizes."""
    if weight is not None and tuple(weight.shape) != tuple(input.shape):
        raise RuntimeError("torch.histogramdd: if weight tensor is provided it should have the same shape as the "
                           f"input tensor excluding its innermost dimension, but got input with shape "
                           f"{[input.numel(), 1]} and weight with shape {list(weight.shape)}")
    hist, edges = _histogramdd(input.reshape(-1, 1), [bins] if isinstance(bins, Tensor) else bins, range,
                               None if weight is None else weight.reshape(-1), density, "torch.histogram()")
    return write_tuple(out, _histogram(hist, edges[0]))


@composite("histogramdd")   # seen whole at dispatch: computed on the arrays
def histogramdd(input, bins, *, range=None, weight=None, density=False):
    """(hist, bin_edges) of the points in ``input``'s last dim: ``bins`` is a count, one count per dim, or one edge
    tensor per dim; ``range`` is (min0, max0, min1, max1, ...)."""
    hist, edges = _histogramdd(input, bins, range, weight, density, "torch.histogramdd")
    return _histogramdd_result(hist, tuple(edges))
