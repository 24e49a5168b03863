"""The tensor side of the transforms: images are ember tensors of shape (..., C, H, W), written with ember ops.

Resampling weights and grid coordinates are computed on the host with NumPy (they depend only on sizes and
parameters); the pixels are then combined with ember ops (matmul, indexing, conv2d), so results follow the image's
device and dtype. Each function matches torchvision's ``_functional_tensor`` in values and errors.
"""
import collections
import functools
import math

import numpy

import ember
import ember.nn.functional as F
from ember.autograd import function as _function

_INT_MAX = {ember.uint8: 255, ember.int8: 127, ember.int16: 32767, ember.int32: 2147483647,
            ember.int64: 9223372036854775807}
_INTEGER_DTYPES = (ember.uint8, ember.int8, ember.int16, ember.int32, ember.int64)
_NUMPY_FLOATS = {ember.float16: numpy.float16, ember.float32: numpy.float32, ember.float64: numpy.float64}


def _assert_image_tensor(img):
    if img.ndim < 2:
        raise TypeError("Tensor is not a torch image.")


def get_dimensions(img):
    """[channels, height, width] of a (..., C, H, W) or (H, W) tensor."""
    _assert_image_tensor(img)
    channels = 1 if img.ndim == 2 else img.shape[-3]
    return [channels, img.shape[-2], img.shape[-1]]


def _max_value(dtype):
    # Float images live in [0, 1].
    return _INT_MAX.get(dtype, 1)


def _assert_channels(img, permitted):
    c = get_dimensions(img)[0]
    if c not in permitted:
        raise TypeError(f"Input image tensor permitted channel values are {permitted}, but found {c}")


def convert_image_dtype(image, dtype=ember.float32):
    """Casts ``image`` to ``dtype``, rescaling between [0, 1] floats and [0, max] integers."""
    if image.dtype == dtype:
        return image
    if image.is_floating_point():
        if dtype.is_floating_point:
            return image.to(dtype)
        if (image.dtype == ember.float32 and dtype in (ember.int32, ember.int64)) or (
                image.dtype == ember.float64 and dtype == ember.int64):
            raise RuntimeError(f"The cast from {image.dtype} to {dtype} cannot be performed safely.")
        # max + 1 - eps spreads [0, 1] evenly over the integers; only exactly 1.0 maps to max.
        return image.mul(float(_max_value(dtype)) + 1.0 - 1e-3).to(dtype)
    input_max = float(_max_value(image.dtype))
    if dtype.is_floating_point:
        return image.to(dtype) / input_max
    output_max = float(_max_value(dtype))
    if input_max > output_max:
        return ember.div(image, int((input_max + 1) // (output_max + 1)), rounding_mode="floor").to(dtype)
    return image.to(dtype) * int((output_max + 1) // (input_max + 1))


def vflip(img):
    """Flips upside down."""
    _assert_image_tensor(img)
    return img.flip(-2)


def hflip(img):
    """Flips left to right."""
    _assert_image_tensor(img)
    return img.flip(-1)


def crop(img, top, left, height, width):
    """The ``height`` x ``width`` window at (top, left); parts outside the image are zero."""
    _assert_image_tensor(img)
    _, h, w = get_dimensions(img)
    right, bottom = left + width, top + height
    if left < 0 or top < 0 or right > w or bottom > h:
        padding_ltrb = [max(-left + min(0, right), 0), max(-top + min(0, bottom), 0), max(right - max(w, left), 0),
                        max(bottom - max(h, top), 0)]
        return pad(img[..., max(top, 0):bottom, max(left, 0):right], padding_ltrb, fill=0)
    return img[..., top:bottom, left:right]


def rgb_to_grayscale(img, num_output_channels=1):
    """Luma 0.2989 R + 0.587 G + 0.114 B (truncated for integer images), in 1 or 3 channels."""
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    _assert_channels(img, [1, 3])
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    if img.shape[-3] == 3:
        r, g, b = img.unbind(dim=-3)
        l_img = (0.2989 * r + 0.587 * g + 0.114 * b).to(img.dtype).unsqueeze(dim=-3)
    else:
        l_img = img.clone()
    if num_output_channels == 3:
        return l_img.expand(img.shape)
    return l_img


def _blend(img1, img2, ratio):
    ratio = float(ratio)
    return (ratio * img1 + (1.0 - ratio) * img2).clamp(0, _max_value(img1.dtype)).to(img1.dtype)


def adjust_brightness(img, brightness_factor):
    """Scales the pixel values by ``brightness_factor``."""
    if brightness_factor < 0:
        raise ValueError(f"brightness_factor ({brightness_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    return _blend(img, ember.zeros_like(img), brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Blends with the mean gray level of each image."""
    if contrast_factor < 0:
        raise ValueError(f"contrast_factor ({contrast_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [3, 1])
    dtype = img.dtype if img.is_floating_point() else ember.float32
    gray = rgb_to_grayscale(img) if get_dimensions(img)[0] == 3 else img
    mean = ember.mean(gray.to(dtype), dim=(-3, -2, -1), keepdim=True)
    return _blend(img, mean, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Blends with the grayscale image; one-channel images are returned as they are."""
    if saturation_factor < 0:
        raise ValueError(f"saturation_factor ({saturation_factor}) is not non-negative.")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    return _blend(img, rgb_to_grayscale(img), saturation_factor)


def _rgb2hsv(img):
    r, g, b = img.unbind(dim=-3)
    maxc = ember.max(img, dim=-3).values
    minc = ember.min(img, dim=-3).values
    # Where maxc == minc, hue and saturation are 0; divide by 1 there instead of 0 so no NaN ever appears.
    eqc = maxc == minc
    cr = maxc - minc
    ones = ember.ones_like(maxc)
    s = cr / ember.where(eqc, ones, maxc)
    cr_divisor = ember.where(eqc, ones, cr)
    rc, gc, bc = (maxc - r) / cr_divisor, (maxc - g) / cr_divisor, (maxc - b) / cr_divisor
    hr = (maxc == r) * (bc - gc)
    hg = ((maxc == g) & (maxc != r)) * (2.0 + rc - bc)
    hb = ((maxc != g) & (maxc != r)) * (4.0 + gc - rc)
    h = ember.fmod((hr + hg + hb) / 6.0 + 1.0, 1.0)
    return ember.stack((h, s, maxc), dim=-3)


def _hsv2rgb(img):
    h, s, v = img.unbind(dim=-3)
    i = ember.floor(h * 6.0)
    f = h * 6.0 - i
    i = i.to(dtype=ember.int32) % 6
    p = ember.clamp(v * (1.0 - s), 0.0, 1.0)
    q = ember.clamp(v * (1.0 - s * f), 0.0, 1.0)
    t = ember.clamp(v * (1.0 - s * (1.0 - f)), 0.0, 1.0)
    mask = i.unsqueeze(dim=-3) == ember.arange(6, device=i.device).view(-1, 1, 1)
    a1 = ember.stack((v, q, p, p, t, v), dim=-3)
    a2 = ember.stack((t, v, v, q, p, p), dim=-3)
    a3 = ember.stack((p, p, t, v, v, q), dim=-3)
    a4 = ember.stack((a1, a2, a3), dim=-4)
    return ember.einsum("...ijk, ...xijk -> ...xjk", mask.to(dtype=img.dtype), a4)


def adjust_hue(img, hue_factor):
    """Rotates the hue by ``hue_factor`` turns (in [-0.5, 0.5]) through HSV."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _assert_image_tensor(img)
    _assert_channels(img, [1, 3])
    if get_dimensions(img)[0] == 1:
        return img
    orig_dtype = img.dtype
    h, s, v = _rgb2hsv(convert_image_dtype(img, ember.float32)).unbind(dim=-3)
    rgb = _hsv2rgb(ember.stack(((h + hue_factor) % 1.0, s, v), dim=-3))
    return convert_image_dtype(rgb, orig_dtype)


def adjust_gamma(img, gamma, gain=1):
    """``gain * img ** gamma`` on the [0, 1] scale, clamped."""
    _assert_channels(img, [1, 3])
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    result = img if img.is_floating_point() else convert_image_dtype(img, ember.float32)
    return convert_image_dtype((gain * result.pow(gamma)).clamp(0, 1), img.dtype)


def invert(img):
    """``max - img``."""
    _assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    _assert_channels(img, [1, 3])
    return _max_value(img.dtype) - img


def _parse_pad_padding(padding):
    """[left, right, top, bottom] from an int or a 1, 2 or 4 element sequence (left, top, right, bottom)."""
    if isinstance(padding, int):
        return [padding] * 4
    if len(padding) == 1:
        return [padding[0]] * 4
    if len(padding) == 2:
        return [padding[0], padding[0], padding[1], padding[1]]
    return [padding[0], padding[2], padding[1], padding[3]]


def _pad_symmetric(img, padding):
    left, right, top, bottom = padding
    if min(padding) < 0:  # negative padding crops
        img = img[..., max(-top, 0):img.shape[-2] - max(-bottom, 0), max(-left, 0):img.shape[-1] - max(-right, 0)]
        left, right, top, bottom = (max(x, 0) for x in padding)
    if img.ndim not in (3, 4):
        raise RuntimeError("Symmetric padding of N-D tensors are not supported yet")
    height, width = img.shape[-2:]
    x_index = list(range(left - 1, -1, -1)) + list(range(width)) + [width - 1 - i for i in range(right)]
    y_index = list(range(top - 1, -1, -1)) + list(range(height)) + [height - 1 - i for i in range(bottom)]
    x_index = ember.tensor(x_index, device=img.device)
    y_index = ember.tensor(y_index, device=img.device)
    return img[..., y_index[:, None], x_index[None, :]]


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pads the last two dimensions; ``padding`` is an int or (left/right, top/bottom) or (l, t, r, b)."""
    _assert_image_tensor(img)
    fill = 0 if fill is None else fill
    if not isinstance(padding, (int, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if not isinstance(fill, (int, float)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    if isinstance(padding, (tuple, list)) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    p = _parse_pad_padding(list(padding) if isinstance(padding, tuple) else padding)
    if padding_mode == "symmetric":
        return _pad_symmetric(img, p)
    squeeze = img.ndim < 4
    batch = img.unsqueeze(dim=0) if squeeze else img
    out_dtype = batch.dtype
    if padding_mode == "constant":
        batch = F.pad(batch, p, mode="constant", value=float(fill))
    else:
        # Reflect and replicate padding compute in float, as in torchvision.
        mode = "replicate" if padding_mode == "edge" else "reflect"
        cast = out_dtype not in (ember.float32, ember.float64)
        batch = F.pad(batch.to(ember.float32) if cast else batch, p, mode=mode).to(out_dtype)
    return batch.squeeze(dim=0) if squeeze else batch


def _cast_squeeze_in(img, req_dtypes):
    """A (N, C, H, W) tensor of one of ``req_dtypes``, plus what ``_cast_squeeze_out`` needs to undo it."""
    need_squeeze = img.ndim < 4
    if need_squeeze:
        img = img.unsqueeze(dim=0)
    out_dtype = img.dtype
    need_cast = out_dtype not in req_dtypes
    if need_cast:
        img = img.to(req_dtypes[0])
    return img, need_cast, need_squeeze, out_dtype


def _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype):
    if need_squeeze:
        img = img.squeeze(dim=0)
    if need_cast:
        if out_dtype in _INTEGER_DTYPES:
            img = ember.round(img)
        img = img.to(out_dtype)
    return img


def resize(img, size, interpolation="bilinear", antialias=True):
    """Resamples the last two dimensions to ``size`` = [height, width] like ``interpolate``."""
    _assert_image_tensor(img)
    if interpolation not in ("nearest", "nearest-exact", "bilinear", "bicubic"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")
    antialias = bool(antialias) and interpolation in ("bilinear", "bicubic")
    img, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [ember.float32, ember.float64])
    align_corners = False if interpolation in ("bilinear", "bicubic") else None
    img = ember.nn.functional.interpolate(img, size=list(size), mode=interpolation, align_corners=align_corners,
                                          antialias=antialias)
    if interpolation == "bicubic" and out_dtype == ember.uint8:
        img = img.clamp(min=0, max=255)
    return _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype)


def _assert_grid_transform_inputs(img, matrix, interpolation, fill):
    _assert_image_tensor(img)
    if not isinstance(matrix, list):
        raise TypeError("Argument matrix should be a list")
    if len(matrix) != 6:
        raise ValueError("Argument matrix should have 6 float values")
    num_channels = get_dimensions(img)[0]
    if isinstance(fill, (tuple, list)) and len(fill) > 1 and len(fill) != num_channels:
        raise ValueError("The number of elements in 'fill' cannot broadcast to match the number of channels of the "
                         f"image ({len(fill)} != {num_channels})")
    if interpolation not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{interpolation}' is unsupported with Tensor input")


def _source_coordinates(matrix, w, h, ow, oh, np_dtype):
    """Input pixel coordinates (x, y) sampled by each output pixel, as grid_sample(align_corners=False) reads them.

    ``matrix`` maps output to input coordinates relative to the image centers.
    """
    theta = numpy.asarray(matrix, dtype=np_dtype).reshape(2, 3)
    xs = numpy.linspace(-ow * 0.5 + 0.5, ow * 0.5 - 0.5, ow, dtype=np_dtype)
    ys = numpy.linspace(-oh * 0.5 + 0.5, oh * 0.5 - 0.5, oh, dtype=np_dtype)
    base = numpy.stack(numpy.broadcast_arrays(xs[None, :], ys[:, None], numpy.ones((), np_dtype)), axis=-1)
    grid = base @ (theta.T / numpy.asarray([0.5 * w, 0.5 * h], dtype=np_dtype))
    return ((grid[..., 0] + 1) * w - 1) / 2, ((grid[..., 1] + 1) * h - 1) / 2


def _gather(img, x, y):
    """img[..., y, x] at integer coordinate arrays, zero where they fall outside the image."""
    h, w = img.shape[-2:]
    inside = (x >= 0) & (x < w) & (y >= 0) & (y < h)
    ix = ember.tensor(numpy.clip(x, 0, w - 1).astype(numpy.int64), device=img.device)
    iy = ember.tensor(numpy.clip(y, 0, h - 1).astype(numpy.int64), device=img.device)
    return img[..., iy, ix], inside


def _grid_sample(img, x, y, mode):
    """grid_sample with zero padding at pixel coordinates (x, y) of shape (oh, ow)."""
    def weighted(x_index, y_index, weight):
        values, inside = _gather(img, x_index, y_index)
        return values * ember.tensor(numpy.where(inside, weight, 0.0), dtype=img.dtype, device=img.device)

    if mode == "nearest":
        return weighted(numpy.rint(x), numpy.rint(y), 1.0)  # rint rounds half to even, as nearbyint does
    x0, y0 = numpy.floor(x), numpy.floor(y)
    x1, y1 = x0 + 1, y0 + 1
    return (weighted(x0, y0, (x1 - x) * (y1 - y)) + weighted(x1, y0, (x - x0) * (y1 - y))
            + weighted(x0, y1, (x1 - x) * (y - y0)) + weighted(x1, y1, (x - x0) * (y - y0)))


def _apply_grid_transform(img, matrix, ow, oh, mode, fill):
    return sample_at(img, lambda w, h, np_dtype: _source_coordinates(matrix, w, h, ow, oh, np_dtype), mode, fill)


def sample_at(img, coordinates, mode, fill):
    """``img`` sampled at the input pixel coordinates (x, y) that ``coordinates(w, h, numpy dtype)`` returns (each
    of the output's shape), ``fill`` (or zero where None) outside the image; shared by affine, rotate, perspective
    and elastic."""
    dtype = img.dtype if img.is_floating_point() else ember.float32
    img, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [dtype])
    x, y = coordinates(img.shape[-1], img.shape[-2], _NUMPY_FLOATS.get(dtype, numpy.float32))
    if fill is not None:
        # A channel of ones, sampled alongside, tells how much of each output pixel came from inside the image.
        img = ember.cat((img, ember.ones_like(img[:, :1])), dim=1)
    img = _grid_sample(img, x, y, mode)
    if fill is not None:
        mask, img = img[:, -1:].expand_as(img[:, :-1]), img[:, :-1]
        fill_list = list(fill) if isinstance(fill, (tuple, list)) else [float(fill)]
        fill_img = ember.tensor(fill_list, dtype=img.dtype, device=img.device).view(1, -1, 1, 1).expand_as(img)
        if mode == "nearest":
            img = ember.where(mask < 0.5, fill_img, img)
        else:
            img = img * mask + (1.0 - mask) * fill_img
    return _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype)


def affine(img, matrix, interpolation="nearest", fill=None):
    """Samples ``img`` through the inverse affine ``matrix`` (centered coordinates), keeping its size."""
    _assert_grid_transform_inputs(img, matrix, interpolation, fill)
    return _apply_grid_transform(img, matrix, img.shape[-1], img.shape[-2], interpolation, fill)


def _compute_affine_output_size(matrix, w, h):
    """(width, height) of the box holding the image's corners mapped by ``matrix``, as PIL computes it."""
    pts = numpy.array([[-0.5 * w, -0.5 * h, 1.0], [-0.5 * w, 0.5 * h, 1.0], [0.5 * w, 0.5 * h, 1.0],
                       [0.5 * w, -0.5 * h, 1.0]], dtype=numpy.float32)
    new_pts = pts @ numpy.asarray(matrix, dtype=numpy.float32).reshape(2, 3).T
    shift = numpy.array([w * 0.5, h * 0.5], dtype=numpy.float32)
    tol = 1e-4  # truncating to 1e-4 keeps a rounding error of 1e-15 from adding a pixel
    cmax = numpy.ceil(numpy.trunc((new_pts.max(axis=0) + shift) / tol) * tol)
    cmin = numpy.floor(numpy.trunc((new_pts.min(axis=0) + shift) / tol) * tol)
    size = cmax - cmin
    return int(size[0]), int(size[1])


def rotate(img, matrix, interpolation="nearest", expand=False, fill=None):
    """Samples ``img`` through the inverse rotation ``matrix``; ``expand`` grows the output to hold it all."""
    _assert_grid_transform_inputs(img, matrix, interpolation, fill)
    w, h = img.shape[-1], img.shape[-2]
    ow, oh = _compute_affine_output_size(matrix, w, h) if expand else (w, h)
    return _apply_grid_transform(img, matrix, ow, oh, interpolation, fill)


def _gaussian_kernel1d(kernel_size, sigma, dtype, device):
    half = (kernel_size - 1) * 0.5
    x = ember.linspace(-half, half, steps=kernel_size, dtype=dtype, device=device)
    pdf = ember.exp(-0.5 * (x / sigma).pow(2))
    return pdf / pdf.sum()


def gaussian_blur(img, kernel_size, sigma):
    """Convolves each channel with a Gaussian kernel ([kx, ky], [sx, sy]) after reflect padding."""
    _assert_image_tensor(img)
    dtype = img.dtype if img.is_floating_point() else ember.float32
    kernel_x = _gaussian_kernel1d(kernel_size[0], sigma[0], dtype, img.device)
    kernel_y = _gaussian_kernel1d(kernel_size[1], sigma[1], dtype, img.device)
    kernel = ember.mm(kernel_y[:, None], kernel_x[None, :])
    kernel = kernel.expand(img.shape[-3], 1, kernel.shape[0], kernel.shape[1])
    img, need_cast, need_squeeze, out_dtype = _cast_squeeze_in(img, [dtype])
    padding = [kernel_size[0] // 2, kernel_size[0] // 2, kernel_size[1] // 2, kernel_size[1] // 2]
    img = F.conv2d(F.pad(img, padding, mode="reflect"), kernel, groups=img.shape[-3])
    return _cast_squeeze_out(img, need_cast, need_squeeze, out_dtype)


def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean) / std per channel of a float (..., C, H, W) tensor."""
    _assert_image_tensor(tensor)
    if not tensor.is_floating_point():
        raise TypeError(f"Input tensor should be a float tensor. Got {tensor.dtype}.")
    if tensor.ndim < 3:
        raise ValueError("Expected tensor to be a tensor image of size (..., C, H, W). Got tensor.size() = "
                         f"{tensor.size()}")
    mean_key, std_key = _number_key(mean), _number_key(std)
    if mean_key is not None and std_key is not None and tensor.dtype in (ember.float32, ember.float64):
        constants = _number_constants(mean_key, std_key, tensor.dtype, tensor.device)
        array = None if inplace else _untracked_array(tensor)
        if array is not None:   # two NumPy passes into one new array, as sub then div compute it
            out = numpy.subtract(array, constants.mean_array)
            return ember.from_numpy(numpy.divide(out, constants.std_array, out=out))
        mean, std = constants.mean, constants.std
    else:
        mean, std = _tensor_constants(mean, std, tensor)
    if inplace:
        return tensor.sub_(mean).div_(std)
    return tensor.sub(mean).div(std)


def _untracked_array(tensor):
    """The NumPy array of a plain CPU tensor an op on which nothing records (no gradient, no tracing, profiling or
    other dispatch hook, no subclass); None otherwise."""
    if type(tensor) is not ember.Tensor or tensor.requires_grad or _function.dispatch_hooks:
        return None
    array = tensor.numpy(force=True) if tensor.is_cpu else None
    return array if isinstance(array, numpy.ndarray) else None


def _number_key(values):
    """A list or tuple of Python floats and ints as a cache key that tells -0.0 from 0.0 (they compare equal, but
    x - 0.0 and x - -0.0 differ); None for anything else."""
    if not isinstance(values, (list, tuple)) or not _NUMBER_TYPES.issuperset(map(type, values)):
        return None
    key = tuple(values)
    return tuple((v, math.copysign(1.0, v)) if type(v) is float else v for v in key) if 0 in key else key


_NUMBER_TYPES = frozenset({float, int})


_Constants = collections.namedtuple("_Constants", "mean std mean_array std_array")


@functools.lru_cache(maxsize=32)
def _number_constants(mean, std, dtype, device):
    """Normalize's mean and std given as numbers, as (C, 1, 1) tensors of the image's dtype and device and as NumPy
    arrays; made once per set of values (a transform applies the same ones to every sample). Never written to."""
    mean, std = (numpy.array([v[0] if type(v) is tuple else v for v in key], dtype.numpy).reshape(-1, 1, 1)
                 for key in (mean, std))
    _check_std(std, dtype)
    return _Constants(ember.from_numpy(mean).to(device=device), ember.from_numpy(std).to(device=device), mean, std)


def _tensor_constants(mean, std, tensor):
    """``as_tensor(mean / std, dtype=tensor.dtype, device=tensor.device)``, as (C, 1, 1) when one-dimensional."""
    mean = ember.as_tensor(mean, dtype=tensor.dtype, device=tensor.device)
    std = ember.as_tensor(std, dtype=tensor.dtype, device=tensor.device)
    _check_std(std, tensor.dtype)
    return tuple(v.reshape(-1, 1, 1) if v.ndim == 1 else v for v in (mean, std))


def _check_std(std, dtype):
    if bool((std == 0).any()):
        raise ValueError(f"std evaluated to zero after conversion to {dtype}, leading to division by zero.")


def erase(img, i, j, h, w, v, inplace=False):
    """Writes ``v`` into the ``h`` x ``w`` window at (i, j)."""
    _assert_image_tensor(img)
    if not inplace:
        img = img.clone()
    img[..., i:i + h, j:j + w] = v
    return img
