"""Finite differences and integration along a dim: diff, gradient, trapezoid (trapz) and cumulative_trapezoid; and
the Vandermonde matrix vander. All are built from differentiable ops, so gradients come with them."""
import numbers

from .. import _dtype
from .._tensor import Tensor
from ._util import tensor_method, wrap_dim, wrap_dims, write_out
from .cumulative import cumsum
from .rearrange import cat
from .reduction import sum

__all__ = ["diff", "gradient", "trapezoid", "trapz", "cumulative_trapezoid", "vander"]


def _check_edge(input, edge, dim, name):
    if not isinstance(edge, Tensor):
        raise TypeError(f"diff(): argument '{name}' must be Tensor, not {type(edge).__name__}")
    if edge.ndim != input.ndim:
        raise RuntimeError("diff expects prepend or append to be the same dimension as input")
    for d in range(input.ndim):
        if d != dim and edge.shape[d] != input.shape[d]:
            raise RuntimeError("diff expects the shape of tensor to prepend or append to match that of input except "
                               f"along the differencing dimension; input.size({d}) = {input.shape[d]}, but got "
                               f"tensor.size({d}) = {edge.shape[d]}")


@tensor_method
def diff(input, n=1, dim=-1, prepend=None, append=None, *, out=None):
    """The ``n``-th forward difference along ``dim`` (``input[i + 1] - input[i]``, exclusive-or for bool), after
    concatenating ``prepend`` before and ``append`` after ``input`` along ``dim``."""
    if input.ndim == 0:
        raise RuntimeError("diff expects input to be at least one-dimensional")
    if n < 0:
        raise RuntimeError(f"order must be non-negative but got {n}")
    dim = wrap_dim(dim, input.ndim)
    pieces = []
    for edge, name in ((prepend, "prepend"), (input, None), (append, "append")):
        if edge is not None:
            if name is not None:
                _check_edge(input, edge, dim, name)
            pieces.append(edge)
    result = cat(pieces, dim) if len(pieces) > 1 else input
    for _ in range(n):
        length = result.shape[dim]
        if length == 0:
            break
        later, earlier = result.narrow(dim, 1, length - 1), result.narrow(dim, 0, length - 1)
        result = later.logical_xor(earlier) if result.dtype is _dtype.bool_ else later - earlier
    return write_out(out, result, "diff")


def _gradient_spacings(spacing, dims):
    if isinstance(spacing, numbers.Number) or isinstance(spacing, Tensor) and spacing.ndim == 0:
        return [float(spacing)] * len(dims)
    spacing = list(spacing)
    if len(spacing) != len(dims):
        raise RuntimeError("torch.gradient expected spacing to be unspecified, a scalar or it's spacing and dim "
                           f"arguments to have the same length, but got a spacing argument of length {len(spacing)} "
                           f"and a dim argument of length {len(dims)}.")
    return [float(h) if isinstance(h, numbers.Number) or h.ndim == 0 else h for h in spacing]


def _uniform_gradient(f, d, h, edge_order):
    n = f.shape[d]
    interior = (f.narrow(d, 2, n - 2) - f.narrow(d, 0, n - 2)) / (2 * h)
    if edge_order == 1:
        start = (f.narrow(d, 1, 1) - f.narrow(d, 0, 1)) / h
        end = (f.narrow(d, n - 1, 1) - f.narrow(d, n - 2, 1)) / h
    else:
        start = (-1.5 * f.narrow(d, 0, 1) + 2 * f.narrow(d, 1, 1) - 0.5 * f.narrow(d, 2, 1)) / h
        end = (0.5 * f.narrow(d, n - 3, 1) - 2 * f.narrow(d, n - 2, 1) + 1.5 * f.narrow(d, n - 1, 1)) / h
    return cat([start, interior, end], d)


def _coordinate_gradient(f, d, coordinates, edge_order):
    """Second-order accurate differences at uneven sample points (NumPy's formulas)."""
    n = f.shape[d]
    dx = diff(coordinates).reshape((-1,) + (1,) * (f.ndim - d - 1))
    before, after = dx.narrow(0, 0, n - 2), dx.narrow(0, 1, n - 2)
    interior = (-after / (before * (before + after)) * f.narrow(d, 0, n - 2)
                + (after - before) / (before * after) * f.narrow(d, 1, n - 2)
                + before / (after * (before + after)) * f.narrow(d, 2, n - 2))
    if edge_order == 1:
        start = (f.narrow(d, 1, 1) - f.narrow(d, 0, 1)) / dx.narrow(0, 0, 1)
        end = (f.narrow(d, n - 1, 1) - f.narrow(d, n - 2, 1)) / dx.narrow(0, n - 2, 1)
    else:
        h1, h2 = dx.narrow(0, 0, 1), dx.narrow(0, 1, 1)
        start = (-(2 * h1 + h2) / (h1 * (h1 + h2)) * f.narrow(d, 0, 1) + (h1 + h2) / (h1 * h2) * f.narrow(d, 1, 1)
                 - h1 / (h2 * (h1 + h2)) * f.narrow(d, 2, 1))
        h1, h2 = dx.narrow(0, n - 3, 1), dx.narrow(0, n - 2, 1)
        end = (h2 / (h1 * (h1 + h2)) * f.narrow(d, n - 3, 1) - (h1 + h2) / (h1 * h2) * f.narrow(d, n - 2, 1)
               + (2 * h2 + h1) / (h2 * (h1 + h2)) * f.narrow(d, n - 1, 1))
    return cat([start, interior, end], d)


def gradient(input, *, spacing=1, dim=None, edge_order=1):
    """Estimated derivatives of ``input`` along each of ``dim`` (all dims by default) by central differences, with
    one- or two-sided ``edge_order`` differences at the ends; ``spacing`` is a step, a step per dim or sample
    coordinates per dim. Returns one tensor per dim."""
    if edge_order not in (1, 2):
        raise RuntimeError("torch.gradient only supports edge_order=1 and edge_order=2.")
    if input.ndim == 0:
        return ()
    dims = wrap_dims(dim, input.ndim)
    spacings = _gradient_spacings(spacing, dims)
    if any(input.shape[d] < edge_order + 1 for d in dims):
        raise RuntimeError("torch.gradient expected each dimension size to be at least edge_order+1")
    f = _as_float(input, "gradient")
    return tuple(_uniform_gradient(f, d, h, edge_order) if isinstance(h, float) else
                 _coordinate_gradient(f, d, h, edge_order) for d, h in zip(dims, spacings))


def _as_float(y, name):
    if y.dtype is _dtype.bool_:
        raise RuntimeError(f"{name}: received a bool input for `y`, but bool is not supported")
    return y if y.dtype.is_floating_point or y.dtype.is_complex else y.to(_dtype.get_default_dtype())


def _spacing(y, x, dx, dim, name):
    """The widths between neighbouring samples along ``dim``, broadcastable against ``y``'s neighbour pairs."""
    if x is not None and dx is not None:
        raise TypeError(f"{name}() received an invalid combination of arguments: pass either `x` or `dx`, not both")
    if x is None:
        return 1 if dx is None else dx
    if not isinstance(x, Tensor):
        raise TypeError(f"{name}(): argument 'x' must be Tensor, not {type(x).__name__}")
    if x.ndim == 1:
        if x.shape[0] != y.shape[dim]:
            raise RuntimeError(f"{name}: There must be one `x` value for each sample point")
        return diff(x).reshape((-1,) + (1,) * (y.ndim - dim - 1))
    return diff(x, dim=dim - y.ndim)


def _pairs(y, dim):
    length = y.shape[dim]
    return y.narrow(dim, 1, length - 1) + y.narrow(dim, 0, length - 1)


def trapezoid(y, x=None, *, dx=None, dim=-1):
    """Integral of ``y`` along ``dim`` by the trapezoidal rule, at sample points ``x`` or spaced ``dx`` (default 1)."""
    dim = wrap_dim(dim, y.ndim)
    y = _as_float(y, "trapezoid")
    spacing = _spacing(y, x, dx, dim, "trapezoid")
    if y.shape[dim] == 0:   # a constant, outside the graph, as in PyTorch
        return y.new_zeros(y.shape[:dim] + y.shape[dim + 1:])
    if isinstance(spacing, numbers.Number):
        return (sum(y, dim) - (y.select(dim, 0) + y.select(dim, -1)) / 2) * spacing
    return sum(spacing * _pairs(y, dim), dim) / 2


def trapz(y, x=None, *, dx=None, dim=-1):
    """Alias of :func:`trapezoid`."""
    return trapezoid(y, x, dx=dx, dim=dim)


def cumulative_trapezoid(y, x=None, *, dx=None, dim=-1):
    """Running integral of ``y`` along ``dim`` by the trapezoidal rule: one value fewer than ``y`` along ``dim``."""
    dim = wrap_dim(dim, y.ndim)
    y = _as_float(y, "cumulative_trapezoid")
    spacing = _spacing(y, x, dx, dim, "cumulative_trapezoid")
    if y.shape[dim] == 0:
        return y.narrow(dim, 0, 0)
    return cumsum(spacing * _pairs(y, dim) / 2, dim)


def vander(x, N=None, increasing=False):
    """The Vandermonde matrix of a 1-D ``x``: columns ``x ** (N - 1), ..., x, 1`` (ascending with
    ``increasing=True``); integer and bool inputs give int64."""
    if x.ndim != 1:
        raise RuntimeError("x must be a one-dimensional tensor.")
    N = x.shape[0] if N is None else N
    if N < 0:
        raise RuntimeError("N must be non-negative.")
    if not (x.dtype.is_floating_point or x.dtype.is_complex):
        x = x.to(_dtype.int64)
    if N == 0:
        return x.new_empty((x.shape[0], 0))
    columns = x.unsqueeze(1).expand(x.shape[0], N - 1).cumprod(1)   # exact gradients also where x is 0
    result = cat([x.new_ones((x.shape[0], 1)), columns], 1)
    return result if increasing else result.flip(1)
