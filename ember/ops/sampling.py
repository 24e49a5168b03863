"""Resampling: interpolate, grid_sample, affine_grid, unfold/fold (im2col/col2im), pixel and channel shuffles.

Interpolation is separable: along each spatial axis the output is a weighted sum of a few ``index_select``s of the
input, with indices and weights computed once per axis from PyTorch's source-index formulas; antialiased resizing
applies a per-axis matrix of filter weights instead. grid_sample gathers
the corners around each sampling point and weights them with Tensor ops, so gradients reach both the input and the
grid (bilinear and nearest sampling of NumPy arrays runs as one primitive, ``_grid_sample``, whose double backward
is these ops'). Unfold and Fold are each other's adjoints, written as two primitives.
"""
import functools
import itertools
import math

import numpy

from .._warnings import warn
from .. import _dtype
from .._tensor import _make
from ..autograd.function import Primitive, composite, dispatch_hooks
from . import _grid_sample, _quantized
from ._kernel_dtypes import FLOATING, require_dtype
from ._util import int_arg, keeps_layout, name_node
from .conv import _pad, _tuple, _windows

__all__ = ["pixel_shuffle", "pixel_unshuffle", "channel_shuffle"]

_LINEAR_MODES = {"linear": 1, "bilinear": 2, "bicubic": 2, "trilinear": 3}


# --- interpolate --------------------------------------------------------------------------------------------------
@composite("interpolate")
@keeps_layout
def interpolate(input, size=None, scale_factor=None, mode="nearest", align_corners=None, recompute_scale_factor=None,
                antialias=False):
    """Resizes the spatial dims of (N, C, *spatial) ``input`` to ``size`` or by ``scale_factor``."""
    if getattr(input, "is_quantized", False):
        return _quantized.kernels["interpolate"](input, size, scale_factor, mode, align_corners,
                                                 recompute_scale_factor, antialias)
    if mode in ("nearest", "area", "nearest-exact"):
        if align_corners is not None:
            raise ValueError("align_corners option can only be set with the interpolating modes: linear | bilinear | "
                             "bicubic | trilinear")
    elif align_corners is None:
        align_corners = False
    dim = input.ndim - 2
    output_size, scales = _output_size(input, size, scale_factor, dim, recompute_scale_factor, mode)
    if antialias and not (mode in ("bilinear", "bicubic", "lanczos") and input.ndim == 4):
        raise ValueError("Anti-alias option is restricted to bilinear, bicubic, and lanczos modes and requires a 4-D "
                         "tensor as input")
    if mode == "lanczos" and input.ndim == 4:
        if align_corners:
            raise ValueError("Lanczos mode does not support align_corners=True")
        if not antialias:
            raise ValueError("Lanczos mode requires antialias=True")
    _check_mode_rank(input, mode)
    if mode == "area":
        from . import pooling
        return getattr(pooling, f"adaptive_avg_pool{dim}d")(input, output_size)
    kernel, dtypes = _interpolate_kernel(mode, dim, antialias)
    require_dtype(kernel, input, dtypes)
    if mode in ("nearest", "nearest-exact"):
        shortcuts = mode == "nearest" and dim == 2   # PyTorch's 2-d kernel keeps its old nearest_idx
        exact = mode == "nearest-exact"
        result = _resample(input, output_size, scales,
                           lambda xp, i, o, s: ([_nearest_index(xp, i, o, s, exact, shortcuts)], None))
        return _upsample_node(result, mode, dim, input, antialias)
    if not input.dtype.is_floating_point:   # uint8 (bilinear, bicubic): PyTorch's CPU kernels resample in fixed point
        if input.device.type != "cpu":
            raise RuntimeError(f"interpolate(): ember has no uint8 kernel for mode '{mode}' on {input.device.type} "
                               "(PyTorch's CUDA kernels round their own way); convert the input to a floating dtype "
                               "first")
        from ._interpolate_uint8 import resize_uint8
        result = resize_uint8(input, output_size, scales, align_corners, mode, antialias)
        return _upsample_node(result, mode, dim, input, antialias)
    # half types: positions, weights and sums in float32, rounded at the end, as PyTorch's opmath kernels (whose
    # half-precision weight buffers and separable passes still leave results an ulp or two apart at places)
    wide = input.float() if input.dtype in (_dtype.float16, _dtype.bfloat16) else input
    if antialias:
        result = _antialiased_resample(wide, output_size, scales, align_corners, mode)
    else:
        taps = _cubic_taps if mode == "bicubic" else _linear_taps
        result = _resample(wide, output_size, scales, lambda xp, i, o, s: taps(xp, i, o, s, align_corners, wide.dtype))
    return _upsample_node(result.to(input.dtype), mode, dim, input, antialias)


_UPSAMPLE_NODES = {"nearest": "UpsampleNearest{}D", "nearest-exact": "UpsampleNearestExact{}D",
                   "linear": "UpsampleLinear{}D", "bilinear": "UpsampleBilinear{}D", "bicubic": "UpsampleBicubic{}D",
                   "trilinear": "UpsampleTrilinear{}D", "lanczos": "UpsampleLanczos{}D"}


def _upsample_node(result, mode, dim, input, antialias):
    """``result`` shown as PyTorch's one upsampling node of ``input`` (``UpsampleBilinear2DBackward0``, ...)."""
    name = _UPSAMPLE_NODES[mode].format(dim) + ("Aa" if antialias else "") + "Backward0"
    return name_node(result, name, (input,))


def _interpolate_kernel(mode, dim, antialias):
    """The CPU kernel PyTorch's interpolate dispatches on for ``mode``, and the dtype letters it takes."""
    if antialias:
        return "compute_index_ranges_weights", "fu"   # float32, float64 and uint8: no half types
    if mode in ("nearest", "nearest-exact"):
        return "upsample_nearest2d_channels_last" if dim == 2 else "compute_indices_weights_nearest", FLOATING + "u"
    if mode == "bilinear":
        return "upsample_bilinear2d_channels_last", FLOATING + "u"
    if mode == "bicubic":
        return "compute_indices_weights_cubic", FLOATING + "u"
    return "compute_indices_weights_linear", FLOATING


def _output_size(input, size, scale_factor, dim, recompute_scale_factor, mode):
    """The output spatial size and the per-dim scale factors the kernels see (None: derived from sizes)."""
    if size is not None and scale_factor is not None:
        raise ValueError("only one of size or scale_factor should be defined")
    if size is not None:
        if isinstance(size, (list, tuple)):
            if len(size) != dim:
                raise ValueError("Input and output must have the same number of spatial dimensions, but got input "
                                 f"with spatial dimensions of {list(input.shape[2:])} and output size of {size}. "
                                 "Please provide input tensor in (N, C, d1, d2, ...,dK) format and output size in "
                                 "(o1, o2, ...,oK) format.")
            if not all(isinstance(s, (int, numpy.integer)) for s in size):
                raise TypeError("expected size to be one of int or Tuple[int] or Tuple[int, int] or "
                                f"Tuple[int, int, int], but got size with types {[type(s) for s in size]}")
            output_size = [int(s) for s in size]
        else:
            if not isinstance(size, (int, numpy.integer)):
                _refuse_size(input, [size] * dim, mode, dim)
            output_size = [int(size)] * dim
        if recompute_scale_factor:
            raise ValueError("recompute_scale_factor is not meaningful with an explicit size.")
        return output_size, [None] * dim
    if scale_factor is None:
        raise ValueError("either size or scale_factor should be defined")
    if isinstance(scale_factor, (list, tuple)):
        if len(scale_factor) != dim:
            raise ValueError("Input and scale_factor must have the same number of spatial dimensions, but got input "
                             f"with spatial dimensions of {list(input.shape[2:])} and scale_factor of shape "
                             f"{scale_factor}. Please provide input tensor in (N, C, d1, d2, ...,dK) format and "
                             "scale_factor in (s1, s2, ...,sK) format.")
        scales = [float(s) for s in scale_factor]
    else:
        scales = [float(scale_factor)] * dim
    output_size = [int(math.floor(float(input.shape[2 + i]) * scales[i])) for i in range(dim)]
    if mode == "area" or recompute_scale_factor:
        scales = [None] * dim
    return output_size, scales


def _refuse_size(input, output_size, mode, dim):
    """PyTorch's TypeError for an output size that is no int: its interpolate hands ``[size] * dim`` to the mode's
    kernel, whose argument parser refuses it."""
    from .. import _arg_parser
    if mode == "area":
        _arg_parser.raise_for(f"adaptive_avg_pool{dim}d", (input, output_size), {})
    elif mode in ("nearest", "nearest-exact"):
        prefix = "upsample_nearest" if mode == "nearest" else "_upsample_nearest_exact"
        _arg_parser.raise_for(f"{prefix}{dim}d", (input, output_size, None), {})
    else:
        _arg_parser.raise_for(f"upsample_{mode}{dim}d", (input, output_size, False, None), {})


def _check_mode_rank(input, mode):
    needed = _LINEAR_MODES.get(mode)
    if mode == "bicubic" and input.ndim != 4:
        raise NotImplementedError(f"Got {input.ndim}D input, but bicubic mode needs 4D input")
    if needed is not None and input.ndim in (3, 4, 5) and input.ndim != needed + 2:
        raise NotImplementedError(f"Got {input.ndim}D input, but {mode} mode needs {needed + 2}D input")
    lanczos = mode == "lanczos" and input.ndim == 4
    if input.ndim not in (3, 4, 5) or (mode not in ("nearest", "nearest-exact", "area", *_LINEAR_MODES)
                                       and not lanczos):
        raise NotImplementedError("Input Error: Only 3D, 4D and 5D input Tensors supported "
                                  f"(got {input.ndim}D) for the modes: nearest | linear | bilinear | bicubic | "
                                  f"trilinear | lanczos | area | nearest-exact (got {mode})")


def _resample(input, output_size, scales, taps):
    """Along each spatial axis, sum_k weight_k * input.index_select(axis, index_k), with (indices, weights) from
    ``taps(xp, in_size, out_size, scale)``."""
    from .._backend import xp_of
    xp = xp_of(input._data)
    for i, out_size in enumerate(output_size):
        axis = 2 + i
        if out_size <= 0:
            raise RuntimeError(f"Input and output sizes should be greater than 0, but got input "
                               f"(D: {input.shape[2:]}) output ({output_size})")
        indices, weights = taps(xp, input.shape[axis], out_size, scales[i])
        trailing = (1,) * (input.ndim - axis - 1)
        result = None
        for k, index in enumerate(indices):
            term = input.index_select(axis, _make(index))
            if weights is not None:
                term = term * _make(weights[k].reshape((-1,) + trailing))
            result = term if result is None else result + term
        input = result
    return input


def _scale(in_size, out_size, scale, align_corners, real):
    """PyTorch's area_pixel_compute_scale, in the kernel's arithmetic type ``real``."""
    if align_corners:
        return real((in_size - 1) / (out_size - 1)) if out_size > 1 else real(0)
    return real(1.0 / scale) if scale is not None and scale > 0 else real(real(in_size) / real(out_size))


def _nearest_index(xp, in_size, out_size, scale, exact, shortcuts=False):
    """Source index of each output position for nearest / nearest-exact (float32 arithmetic, as PyTorch's CPU
    kernels); ``shortcuts``: an output of the input's size copies it and one of twice its size repeats each element,
    whatever the scale, as PyTorch's 2-d nearest kernel."""
    if shortcuts and out_size in (in_size, 2 * in_size):
        return xp.arange(out_size) // (out_size // in_size)
    step = _scale(in_size, out_size, scale, False, numpy.float32)
    positions = xp.arange(out_size)
    if exact:
        source = ((positions + 0.5) * numpy.float64(step)).astype(numpy.float32)
    else:
        source = positions.astype(numpy.float32) * step
    return xp.minimum(xp.floor(source).astype(numpy.int64), in_size - 1)


def _source_position(xp, in_size, out_size, scale, align_corners, real, cubic):
    step = _scale(in_size, out_size, scale, align_corners, real)
    positions = xp.arange(out_size).astype(real)
    if align_corners:
        return step * positions
    # PyTorch's CPU kernels compute scale * (i + 0.5) - 0.5 as one fused multiply-add: the float32 product is exact
    # in float64, so one rounding of the float64 result gives the same source (two float32 roundings moved some
    # rows' weights by ~1e-6)
    source = (numpy.float64(step) * (positions.astype(numpy.float64) + 0.5) - 0.5).astype(real)
    return source if cubic else xp.maximum(source, real(0))


def _guarded(xp, source, in_size):
    """Integer part (at most in_size - 1) and fraction in [0, 1] of each source position."""
    index = xp.minimum(xp.floor(source).astype(numpy.int64), in_size - 1)
    return index, xp.clip(source - index, 0, 1).astype(source.dtype)


def _linear_taps(xp, in_size, out_size, scale, align_corners, dtype):
    if in_size == out_size:   # PyTorch's linear kernels copy a dim that keeps its size, whatever the scale
        return [xp.arange(out_size)], None
    real = dtype.numpy.type
    index, fraction = _guarded(xp, _source_position(xp, in_size, out_size, scale, align_corners, real, False), in_size)
    upper = index + (index < in_size - 1)
    return [index, upper], [1 - fraction, fraction]


def _cubic_taps(xp, in_size, out_size, scale, align_corners, dtype):
    real = dtype.numpy.type
    index, t = _guarded(xp, _source_position(xp, in_size, out_size, scale, align_corners, real, True), in_size)
    weights = _cubic_weights(t, real(-0.75))
    return [xp.clip(index - 1 + k, 0, in_size - 1) for k in range(4)], weights


def _antialiased_resample(input, output_size, scales, align_corners, mode):
    """PyTorch's antialiased bilinear / bicubic / lanczos resize of (N, C, H, W): per axis, a matrix of normalised
    filter weights (the filter stretched by the scale when downsampling) applied as a matmul."""
    from .._backend import xp_of
    xp = xp_of(input._data)
    real = input.dtype.numpy.type
    if min(output_size) <= 0:
        raise RuntimeError(f"Input and output sizes should be greater than 0, but got input (H: {input.shape[2]}, "
                           f"W: {input.shape[3]}) output (H: {output_size[0]}, W: {output_size[1]})")
    if tuple(output_size) == tuple(input.shape[2:]):
        return input.clone()
    for i, out_size in enumerate(output_size):
        if out_size == input.shape[2 + i]:   # PyTorch's float kernels copy a dim that keeps its size
            continue
        weights = _antialias_weights(input.shape[2 + i], out_size, scales[i], align_corners, mode, real)
        matrix = _make(xp.asarray(weights))
        input = matrix @ input if i == 0 else input @ matrix.mT
    return input


def _antialias_weights(in_size, out_size, scale, align_corners, mode, real):
    """The (out_size, in_size) weights of PyTorch's antialiased interpolation along one axis (host array)."""
    scale = _scale(in_size, out_size, scale, align_corners, real)
    interp_size = {"bilinear": 2, "bicubic": 4, "lanczos": 6}[mode]
    support = real(interp_size * 0.5) * (scale if scale >= 1 else real(1))
    max_taps = int(math.ceil(support)) * 2 + 1
    inverse = real(1) / scale if scale >= 1 else real(1)
    center = scale * (numpy.arange(out_size).astype(real) + real(0.5))
    first = numpy.maximum((center - support + real(0.5)).astype(numpy.int64), 0)   # truncation, as C++ casts
    count = numpy.clip(numpy.minimum((center + support + real(0.5)).astype(numpy.int64), in_size) - first, 0,
                       max_taps)
    offsets = numpy.arange(max_taps)
    index = first[:, None] + offsets
    distance = numpy.abs((index - center[:, None] + real(0.5)) * inverse).astype(real)
    if mode == "bicubic":   # PIL's cubic (a = -0.5), as PyTorch's antialiased bicubic
        weights = _cubic_filter(distance, real(-0.5))
    elif mode == "lanczos":
        weights = _lanczos_filter(distance, real)
    else:
        weights = numpy.maximum(real(1) - distance, real(0))
    used = offsets < count[:, None]
    weights = numpy.where(used, weights, real(0))
    total = weights.sum(axis=1, keepdims=True)
    weights = (weights / numpy.where(total != 0, total, real(1))).astype(real)
    matrix = numpy.zeros((out_size, in_size), real)
    rows = numpy.broadcast_to(numpy.arange(out_size)[:, None], index.shape)
    matrix[rows[used], index[used]] = weights[used]
    return matrix


def _cubic_filter(x, a):
    """Keys' cubic convolution kernel at distances ``x`` >= 0 (zero beyond 2)."""
    near = ((a + 2) * x - (a + 3)) * x * x + 1
    far = ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return numpy.where(x < 1, near, numpy.where(x < 2, far, 0)).astype(x.dtype)


def _sinc(x, real):
    """sin(pi x) / (pi x) in ``real`` arithmetic, with C's sin of that type (libm's, correctly rounded)."""
    scaled = (x * real(math.pi)).astype(real)
    sine = numpy.vectorize(math.sin, otypes=[numpy.float64])(scaled).astype(real)
    return numpy.where(x == 0, real(1), sine / numpy.where(x == 0, real(1), scaled)).astype(real)


def _lanczos_filter(x, real):
    """PIL's Lanczos-3, sinc(x) * sinc(x / 3) at distances ``x`` >= 0 (zero from 3), as PyTorch's aa_filter: its
    x / 3.0 is a double, so the second factor and the product are double, rounded to ``real`` at the end."""
    third = _sinc(x.astype(numpy.float64) / 3.0, numpy.float64)
    return numpy.where(x < 3, _sinc(x, real).astype(numpy.float64) * third, 0.0).astype(real)


def _cubic_weights(t, a):
    """Keys' cubic convolution weights of the four taps around fraction ``t``."""
    def near(x):
        return ((a + 2) * x - (a + 3)) * x * x + 1

    def far(x):
        return ((a * x - 5 * a) * x + 8 * a) * x - 4 * a
    return [far(t + 1), near(t), near(1 - t), far(2 - t)]


# --- grid_sample and affine_grid ------------------------------------------------------------------------------------
@composite("grid_sampler", trace_inside=True)
def grid_sample(input, grid, mode="bilinear", padding_mode="zeros", align_corners=None):
    """Samples (N, C, *in) ``input`` at the normalized [-1, 1] coordinates of (N, *out, d) ``grid``."""
    if mode not in ("bilinear", "nearest", "bicubic"):
        raise ValueError("nn.functional.grid_sample(): expected mode to be 'bilinear', 'nearest' or 'bicubic', but "
                         f"got: '{mode}'")
    if padding_mode not in ("zeros", "border", "reflection"):
        raise ValueError("nn.functional.grid_sample(): expected padding_mode to be 'zeros', 'border', or "
                         f"'reflection', but got: '{padding_mode}'")
    if align_corners is None:
        warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
             "Please specify align_corners=True if the old behavior is desired. See the documentation of "
             "grid_sample for details.", stacklevel=2)
        align_corners = False
    _check_grid_sample(input, grid, mode)
    if not dispatch_hooks and _grid_sample.applies(input, grid, mode, padding_mode):
        composed = functools.partial(_composed_grid_sample, mode=mode, padding_mode=padding_mode,
                                     align_corners=align_corners)
        primitive = _grid_sample.GridSampler2D if input.ndim == 4 else _grid_sample.GridSampler3D
        return primitive.apply(input, grid, mode, padding_mode, align_corners, composed)
    return _composed_grid_sample(input, grid, mode, padding_mode, align_corners)


def _composed_grid_sample(input, grid, mode, padding_mode, align_corners):
    """grid_sample from differentiable ops: every mode, padding and rank (the fused primitive's
    definition and its double backward)."""
    spatial = input.shape[2:]
    d = len(spatial)
    # grid's last dim lists (x, y[, z]): x indexes the last spatial dim. Bicubic pads each tap, not the point.
    point_padding = "zeros" if mode == "bicubic" else padding_mode
    coords = [_unnormalize(grid[..., d - 1 - axis], spatial[axis], align_corners, point_padding)
              for axis in range(d)]
    flat = input.reshape(input.shape[0], input.shape[1], -1)
    if mode == "nearest":
        return _gather(flat, [c.round() for c in coords], spatial, grid.shape[1:-1], padding_mode, align_corners)
    if mode == "bilinear":
        floors = [c.floor() for c in coords]
        offsets = [[(f, 1 - (c - f)), (f + 1, c - f)] for c, f in zip(coords, floors)]
    else:
        floors = [c.floor() for c in coords]
        offsets = [list(zip([f - 1, f, f + 1, f + 2], _cubic_weights(c - f, -0.75))) for c, f in zip(coords, floors)]
    output = None
    for corner in itertools.product(*offsets):
        weight = corner[0][1]
        for _, w in corner[1:]:
            weight = weight * w
        values = _gather(flat, [position for position, _ in corner], spatial, grid.shape[1:-1],
                         padding_mode if mode == "bilinear" else "bicubic-" + padding_mode, align_corners)
        term = values * weight.unsqueeze(1)
        output = term if output is None else output + term
    return output


def _check_grid_sample(input, grid, mode):
    if input.ndim not in (4, 5) or input.ndim != grid.ndim:
        raise RuntimeError(f"grid_sampler(): expected 4D or 5D input and grid with same number of dimensions, but "
                           f"got input with sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if input.shape[0] != grid.shape[0]:
        raise RuntimeError(f"grid_sampler(): expected grid and input to have same batch size, but got input with "
                           f"sizes {list(input.shape)} and grid with sizes {list(grid.shape)}")
    if grid.shape[-1] != input.ndim - 2:
        raise RuntimeError(f"grid_sampler(): expected grid to have size {input.ndim - 2} in last dimension, but got "
                           f"grid with sizes {list(grid.shape)}")
    if mode == "bicubic" and input.ndim != 4:
        raise RuntimeError("grid_sampler(): bicubic interpolation only supports 4D input")
    # PyTorch checks shapes, then dispatches on the input's dtype, then its CPU kernel reads the grid as that type
    require_dtype("grid_sampler3d_cpu" if input.ndim == 5 else "grid_sampler_2d_cpu_kernel_impl", input)
    if input.dtype is not grid.dtype:
        raise RuntimeError(f"expected scalar type {_dtype.scalar_type_name(input.dtype)} but found "
                           f"{_dtype.scalar_type_name(grid.dtype)}")


def _unnormalize(coord, size, align_corners, padding_mode):
    """[-1, 1] coordinates to pixel positions, with border/reflection padding applied to the positions."""
    if align_corners:
        coord = (coord + 1) / 2 * (size - 1)
    else:
        coord = ((coord + 1) * size - 1) / 2
    if padding_mode == "border":
        return coord.clamp(0, size - 1)
    if padding_mode == "reflection":
        low, high = (0, size - 1) if align_corners else (-0.5, size - 0.5)
        return _reflect(coord, low, high).clamp(0, size - 1)
    return coord


def _reflect(coord, low, high):
    """Reflects positions into [low, high] by folding at both ends repeatedly."""
    span = high - low
    if span <= 0:
        return coord * 0
    distance = (coord - low).abs()
    flips = (distance / span).floor()
    extra = distance - flips * span
    from .pointwise import where
    return where(flips.remainder(2) == 0, extra + low, span - extra + low)


def _gather(flat, positions, spatial, out_shape, padding_mode, align_corners):
    """Values of flat (N, C, prod(spatial)) at integer-valued float ``positions`` (one per axis, each (N, *out)),
    zero where outside (zeros padding); bicubic taps are padded per tap as PyTorch does."""
    valid = None
    indices = []
    for position, size in zip(positions, spatial):
        position = position.detach()
        if padding_mode == "bicubic-border":
            position = position.clamp(0, size - 1)
        elif padding_mode == "bicubic-reflection":
            low, high = (0, size - 1) if align_corners else (-0.5, size - 0.5)
            position = _reflect(position, low, high).clamp(0, size - 1)
        inside = (position >= 0).logical_and(position <= size - 1)
        valid = inside if valid is None else valid.logical_and(inside)
        indices.append(position.nan_to_num(0.0).clamp(0, size - 1).to(_dtype.int64))
    flat_index = indices[0]
    for index, size in zip(indices[1:], spatial[1:]):
        flat_index = flat_index * size + index
    n, c = flat.shape[:2]
    gathered = flat.gather(2, flat_index.reshape(n, 1, -1).expand(n, c, -1)).reshape((n, c) + tuple(out_shape))
    return gathered.masked_fill(valid.logical_not().unsqueeze(1), 0.0)


def affine_grid(theta, size, align_corners=None):
    """The (N, H, W, 2) (or (N, D, H, W, 3)) sampling grid of the affine maps ``theta`` over an output of ``size``."""
    if align_corners is None:
        warn("Default grid_sample and affine_grid behavior has changed to align_corners=False since 1.3.0. "
             "Please specify align_corners=True if the old behavior is desired. See the documentation of "
             "grid_sample for details.", stacklevel=2)
        align_corners = False
    if not theta.dtype.is_floating_point:
        raise ValueError(f"Expected theta to have floating point type, but got {theta.dtype}")
    size = [int(s) for s in size]
    if len(size) in (4, 5):
        rows = len(size) - 2
        if theta.ndim != 3 or tuple(theta.shape[-2:]) != (rows, rows + 1):
            raise ValueError(f"Expected a batch of {rows}D affine matrices of shape Nx{rows}x{rows + 1} for size "
                             f"{size}. Got {tuple(theta.shape)}.")
    else:
        raise NotImplementedError("affine_grid only supports 4D and 5D sizes, for 2D and 3D affine transforms, "
                                  f"respectively. Got size {size}.")
    if min(size) <= 0:
        raise ValueError(f"Expected non-zero, positive output size. Got {size}")
    if align_corners and min(size[2:]) == 1:
        warn("Since version 1.3.0, affine_grid behavior has changed for unit-size grids when "
             "align_corners=True. This is not an intended use case of affine_grid. See the documentation of "
             "affine_grid for details.", stacklevel=2)
    return affine_grid_generator(theta, size, align_corners)


@composite("affine_grid_generator", trace_inside=True)   # autocast: PyTorch's builds the grid with bmm
def affine_grid_generator(theta, size, align_corners):
    """``torch.affine_grid_generator``, what ``affine_grid`` computes once it has checked its arguments: the
    normalized grid of an output of ``size`` mapped by each affine matrix of ``theta``."""
    size = [int_arg(s) for s in size]
    if theta.shape[0] != size[0] or theta.shape[-1] != len(size) - 1:   # PyTorch's batched product says so
        raise RuntimeError(f"Expected size for first two dimensions of batch2 tensor to be: [{size[0]}, "
                           f"{len(size) - 1}] but got: [{theta.shape[0]}, {theta.shape[-1]}].")
    from .creation import tensor
    from .ranges import linspace
    from .rearrange import meshgrid
    spatial = size[2:]
    axes = []
    for steps in spatial:
        if steps <= 1:
            axis = tensor([0.0] * steps, dtype=theta.dtype, device=theta.device)
        else:
            axis = linspace(-1, 1, steps, dtype=theta.dtype, device=theta.device)
            if not align_corners:   # two roundings, as PyTorch's (a grid point off by an ulp moves its gradient)
                axis = axis * (steps - 1) / steps
        axes.append(axis)
    # x * theta[:, :, 0] + y * theta[:, :, 1] (+ z * ...) + theta[:, :, -1], summed in this order with a rounding
    # after each step, as PyTorch's product of the base grid and theta computes it: bit for bit the same grid.
    rows = len(spatial)
    columns = theta.transpose(1, 2).reshape([theta.shape[0]] + [1] * rows + [rows + 1, rows])
    grid = None
    for k, coordinate in enumerate(reversed(meshgrid(*axes, indexing="ij"))):
        term = coordinate.unsqueeze(-1) * columns[..., k, :]
        grid = term if grid is None else grid + term
    return grid + columns[..., rows, :]


# --- unfold / fold ----------------------------------------------------------------------------------------------
class Unfold(Primitive):
    """im2col: (N, C, H, W) -> (N, C * kh * kw, L) sliding blocks."""

    @staticmethod
    def forward(ctx, x, kernel, dilation, padding, stride):
        ctx.options = kernel, dilation, padding, stride
        ctx.spatial = x.shape[2:]
        padded = _pad(ctx.xp, x, padding)
        out = _blocks(padded.shape[2:], kernel, dilation, stride)
        windows = _windows(ctx.xp, padded, kernel, stride, dilation, out)          # (N, C, oh, ow, kh, kw)
        columns = windows.transpose(0, 1, 4, 5, 2, 3)
        return ctx.xp.ascontiguousarray(columns).reshape(x.shape[0], x.shape[1] * kernel[0] * kernel[1],
                                                         out[0] * out[1])

    @staticmethod
    def backward(ctx, grad):
        return Fold.apply(grad, ctx.spatial, *ctx.options)


class Fold(Primitive):
    """col2im: sums (N, C * kh * kw, L) sliding blocks back into (N, C, H, W)."""

    @staticmethod
    def forward(ctx, columns, output_size, kernel, dilation, padding, stride):
        ctx.options = kernel, dilation, padding, stride
        xp = ctx.xp
        n = columns.shape[0]
        c = columns.shape[1] // (kernel[0] * kernel[1])
        padded = tuple(s + 2 * p for s, p in zip(output_size, padding))
        out = _blocks(padded, kernel, dilation, stride)
        blocks = columns.reshape(n, c, kernel[0], kernel[1], out[0], out[1])
        result = xp.zeros((n, c) + padded, dtype=columns.dtype)
        for i, j in itertools.product(range(kernel[0]), range(kernel[1])):
            rows = slice(i * dilation[0], i * dilation[0] + stride[0] * (out[0] - 1) + 1, stride[0])
            cols = slice(j * dilation[1], j * dilation[1] + stride[1] * (out[1] - 1) + 1, stride[1])
            result[:, :, rows, cols] += blocks[:, :, i, j]
        return xp.ascontiguousarray(result[:, :, padding[0]:padding[0] + output_size[0],
                                           padding[1]:padding[1] + output_size[1]])

    @staticmethod
    def backward(ctx, grad):
        return Unfold.apply(grad, *ctx.options), None


def _blocks(padded, kernel, dilation, stride):
    return [(padded[i] - dilation[i] * (kernel[i] - 1) - 1) // stride[i] + 1 for i in range(2)]


def _fold_options(kernel_size, dilation, padding, stride):
    options = tuple(_tuple(v, 2, name) for v, name in ((kernel_size, "kernel_size"), (dilation, "dilation"),
                                                        (padding, "padding"), (stride, "stride")))
    kernel, dilation, padding, stride = options
    if min(kernel) <= 0:
        raise RuntimeError(f"kernel size should be greater than zero, but got kernel_height: {kernel[0]} "
                           f"kernel_width: {kernel[1]}")
    if min(dilation) <= 0:
        raise RuntimeError(f"dilation should be greater than zero, but got dilation_height: {dilation[0]} "
                           f"dilation_width: {dilation[1]}")
    if min(padding) < 0:
        raise RuntimeError(f"padding should be non-negative, but got pad_height: {padding[0]} pad_width: "
                           f"{padding[1]}")
    if min(stride) <= 0:
        raise RuntimeError(f"stride should be greater than zero, but got stride_height: {stride[0]} stride_width: "
                           f"{stride[1]}")
    return options


def unfold(input, kernel_size, dilation=1, padding=0, stride=1):
    """Extracts sliding local blocks: (N, C, H, W) -> (N, C * prod(kernel_size), L)."""
    kernel, dilation, padding, stride = _fold_options(kernel_size, dilation, padding, stride)
    if input.ndim not in (3, 4) or 0 in input.shape[1:]:
        raise RuntimeError("Expected 3D or 4D (batch mode) tensor with optional 0 dim batch size for input, but got:"
                           f" {list(input.shape)}")
    unbatched = input.ndim == 3
    x = input.unsqueeze(0) if unbatched else input
    out = _blocks([s + 2 * p for s, p in zip(x.shape[2:], padding)], kernel, dilation, stride)
    if min(out) < 1:
        raise RuntimeError(f"Given input with spatial size ({x.shape[2]}, {x.shape[3]}), kernel_size=({kernel[0]}, "
                           f"{kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, "
                           f"{padding[1]}), calculated shape of the array of sliding blocks as ({out[0]}, {out[1]}), "
                           "but its components must be at least one.")
    require_dtype("im2col_out_cpu", input, FLOATING + "bc")
    columns = Unfold.apply(x, kernel, dilation, padding, stride)
    return columns.squeeze(0) if unbatched else name_node(columns, "Im2ColBackward0")


def fold(input, output_size, kernel_size, dilation=1, padding=0, stride=1):
    """Sums sliding local blocks into a tensor: (N, C * prod(kernel_size), L) -> (N, C, *output_size)."""
    output_size = _tuple(output_size, 2, "output_size")
    kernel, dilation, padding, stride = _fold_options(kernel_size, dilation, padding, stride)
    if input.ndim not in (2, 3) or 0 in input.shape[1:]:
        raise RuntimeError("Expected 2D or 3D (batch mode) tensor with optional 0 dim batch size for input, but got:"
                           f" {list(input.shape)}")
    unbatched = input.ndim == 2
    columns = input.unsqueeze(0) if unbatched else input
    block = kernel[0] * kernel[1]
    if columns.shape[1] % block:
        raise RuntimeError(f"Expected size of input's dimension 1 to be divisible by the product of kernel_size, but "
                           f"got input.size(1)={columns.shape[1]} and kernel_size=({kernel[0]}, {kernel[1]})")
    out = _blocks([s + 2 * p for s, p in zip(output_size, padding)], kernel, dilation, stride)
    if out[0] * out[1] != columns.shape[2]:
        raise RuntimeError(f"Given output_size=({output_size[0]}, {output_size[1]}), kernel_size=({kernel[0]}, "
                           f"{kernel[1]}), dilation=({dilation[0]}, {dilation[1]}), padding=({padding[0]}, "
                           f"{padding[1]}), stride=({stride[0]}, {stride[1]}), expected size of input's dimension 2 "
                           f"to match the calculated number of sliding blocks {out[0]} * {out[1]} = "
                           f"{out[0] * out[1]}, but got input.size(2)={columns.shape[2]}.")
    require_dtype("col2im_out_cpu", input, FLOATING + "bc")
    output = Fold.apply(columns, output_size, kernel, dilation, padding, stride)
    return output.squeeze(0) if unbatched else name_node(output, "Col2ImBackward0")


# --- shuffles ---------------------------------------------------------------------------------------------------
def pixel_shuffle(input, upscale_factor):
    """(*, C * r^2, H, W) -> (*, C, H * r, W * r)."""
    r = int_arg(upscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_shuffle expects a positive upscale_factor, but got {r}")
    c, h, w = input.shape[-3:]
    if c % (r * r):
        raise RuntimeError("pixel_shuffle expects its input's 'channel' dimension to be divisible by the square of "
                           f"upscale_factor, but input.size(-3)={c} is not divisible by {r * r}")
    batch = tuple(input.shape[:-3])
    n = len(batch)
    x = input.reshape(batch + (c // (r * r), r, r, h, w))
    x = x.permute(*range(n), n, n + 3, n + 1, n + 4, n + 2)
    return name_node(x.reshape(batch + (c // (r * r), h * r, w * r)), "PixelShuffleBackward0", (input,))


def pixel_unshuffle(input, downscale_factor):
    """(*, C, H * r, W * r) -> (*, C * r^2, H, W)."""
    r = int_arg(downscale_factor)
    if input.ndim < 3:
        raise RuntimeError(f"pixel_unshuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if r <= 0:
        raise RuntimeError(f"pixel_unshuffle expects a positive downscale_factor, but got {r}")
    c, h, w = input.shape[-3:]
    if h % r:
        raise RuntimeError("pixel_unshuffle expects height to be divisible by downscale_factor, but input.size(-2)="
                           f"{h} is not divisible by {r}")
    if w % r:
        raise RuntimeError("pixel_unshuffle expects width to be divisible by downscale_factor, but input.size(-1)="
                           f"{w} is not divisible by {r}")
    batch = tuple(input.shape[:-3])
    n = len(batch)
    x = input.reshape(batch + (c, h // r, r, w // r, r))
    x = x.permute(*range(n), n, n + 2, n + 4, n + 1, n + 3)
    return name_node(x.reshape(batch + (c * r * r, h // r, w // r)), "PixelUnshuffleBackward0", (input,))


def channel_shuffle(input, groups):
    """Splits the channels (dim 1) into ``groups`` and interleaves them."""
    groups = int_arg(groups)
    if input.ndim <= 2:
        raise RuntimeError(f"channel_shuffle expects input to have at least 3 dimensions, but got input with "
                           f"{input.ndim} dimension(s)")
    if groups <= 0:
        raise RuntimeError(f"Number of groups to divide channels in must be positive. Value of groups:{groups}")
    c = input.shape[1]
    if c % groups:
        raise RuntimeError(f"Number of channels must be divisible by groups. Got {c} channels and {groups} groups.")
    rest = tuple(input.shape[2:])
    x = input.reshape((input.shape[0], groups, c // groups) + rest).transpose(1, 2)
    return x.reshape(input.shape)
