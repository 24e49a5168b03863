"""Functional forms of the transforms (torchvision.transforms.functional): each takes a PIL image or a tensor.

Tensors are (..., C, H, W) ember tensors; PIL images go through Pillow. Pillow is imported on first use.
"""
import math
import numbers
import sys
import warnings
from enum import Enum

import numpy

import ember

from ..utils import _image_fromarray
from . import _functional_pil as F_pil, _functional_tensor as F_t

__all__ = ["InterpolationMode", "get_dimensions", "get_image_size", "get_image_num_channels", "to_tensor",
           "pil_to_tensor", "convert_image_dtype", "to_pil_image", "normalize", "resize", "pad", "crop",
           "center_crop", "resized_crop", "hflip", "vflip", "five_crop", "ten_crop", "adjust_brightness",
           "adjust_contrast", "adjust_saturation", "adjust_hue", "adjust_gamma", "rotate", "affine", "to_grayscale",
           "rgb_to_grayscale", "erase", "gaussian_blur", "invert", "posterize", "solarize", "adjust_sharpness",
           "autocontrast", "equalize", "perspective"]


class InterpolationMode(Enum):
    """Resampling filters; tensors support NEAREST, NEAREST_EXACT, BILINEAR and BICUBIC."""

    NEAREST = "nearest"
    NEAREST_EXACT = "nearest-exact"
    BILINEAR = "bilinear"
    BICUBIC = "bicubic"
    BOX = "box"
    HAMMING = "hamming"
    LANCZOS = "lanczos"


# Pillow's integer resampling constants.
pil_modes_mapping = {InterpolationMode.NEAREST: 0, InterpolationMode.BILINEAR: 2, InterpolationMode.BICUBIC: 3,
                     InterpolationMode.NEAREST_EXACT: 0, InterpolationMode.BOX: 4, InterpolationMode.HAMMING: 5,
                     InterpolationMode.LANCZOS: 1}
_MODES_FROM_PIL = {0: InterpolationMode.NEAREST, 2: InterpolationMode.BILINEAR, 3: InterpolationMode.BICUBIC,
                   4: InterpolationMode.BOX, 5: InterpolationMode.HAMMING, 1: InterpolationMode.LANCZOS}


def _interpolation_mode(interpolation):
    if isinstance(interpolation, int):
        return _MODES_FROM_PIL[interpolation]
    if not isinstance(interpolation, InterpolationMode):
        raise TypeError("Argument interpolation should be a InterpolationMode or a corresponding Pillow integer "
                        "constant")
    return interpolation


def _is_tensor(img):
    return isinstance(img, ember.Tensor)


def get_dimensions(img):
    """[channels, height, width] of an image."""
    return F_t.get_dimensions(img) if _is_tensor(img) else F_pil.get_dimensions(img)


def get_image_size(img):
    """[width, height] of an image."""
    _, height, width = get_dimensions(img)
    return [width, height]


def get_image_num_channels(img):
    """The number of channels of an image."""
    return get_dimensions(img)[0]


# NumPy types torchvision reads PIL modes as (others: uint8), and the modes Pillow stores as one byte per band.
_PIL_DTYPES = {"I": numpy.int32, "I;16" if sys.byteorder == "little" else "I;16B": numpy.int16, "F": numpy.float32}
_BYTE_MODES = frozenset({"L", "P", "LA", "PA", "La", "RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr", "LAB", "HSV"})


def to_tensor(pic):
    """A PIL image or (H, W[, C]) ndarray as a (C, H, W) tensor; uint8 data becomes float in [0, 1]."""
    if isinstance(pic, numpy.ndarray):
        if pic.ndim not in (2, 3):
            raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
        array = pic[:, :, None] if pic.ndim == 2 else pic
    elif F_pil._is_pil_image(pic):
        array = _pil_array(pic)
    else:
        raise TypeError(f"pic should be PIL Image or ndarray. Got {type(pic)}")
    chw = array.transpose((2, 0, 1))
    dtype = ember.get_default_dtype()
    if array.dtype == numpy.uint8 and dtype in (ember.float32, ember.float64):
        # one pass: each byte converted and divided in the float type, as .to(dtype).div(255) computes it
        out = numpy.empty(chw.shape, dtype.numpy)
        return ember.from_numpy(numpy.divide(chw, dtype.numpy.type(255), out=out, dtype=dtype.numpy))
    img = ember.from_numpy(numpy.ascontiguousarray(chw))
    if img.dtype == ember.uint8:
        return img.to(dtype=dtype).div(255)
    return img


def _pil_array(pic):
    """The pixels of a PIL image as an (H, W, bands) array of the type torchvision reads its mode as."""
    width, height = pic.size
    mode = pic.mode
    if mode in _BYTE_MODES:   # the raw bytes are the pixels: what numpy.array(pic) reads, without its extra copy
        return numpy.frombuffer(pic.tobytes(), numpy.uint8).reshape(height, width, len(pic.getbands()))
    array = numpy.array(pic, _PIL_DTYPES.get(mode, numpy.uint8), copy=True)
    if mode == "1":
        array = 255 * array
    return array.reshape(height, width, len(pic.getbands()))


def pil_to_tensor(pic):
    """A PIL image as a (C, H, W) tensor of its own dtype (no scaling)."""
    if not F_pil._is_pil_image(pic):
        raise TypeError(f"pic should be PIL Image. Got {type(pic)}")
    array = numpy.array(pic, copy=True).reshape(pic.size[1], pic.size[0], len(pic.getbands()))
    return ember.from_numpy(numpy.ascontiguousarray(array.transpose((2, 0, 1))))


def convert_image_dtype(image, dtype=ember.float32):
    """Casts a tensor image to ``dtype``, rescaling values ([0, 1] for floats, [0, max] for integers)."""
    if not _is_tensor(image):
        raise TypeError("Input img should be Tensor Image")
    return F_t.convert_image_dtype(image, dtype)


_CHANNEL_MODES = {2: ["LA"], 3: ["RGB", "YCbCr", "HSV"], 4: ["RGBA", "CMYK", "RGBX"]}


def _single_channel_mode(dtype):
    return {numpy.dtype(numpy.uint8): "L", numpy.dtype(numpy.int16): "I;16" if sys.byteorder == "little" else "I;16B",
            numpy.dtype(numpy.int32): "I", numpy.dtype(numpy.float32): "F"}.get(dtype)


def to_pil_image(pic, mode=None):
    """A (C, H, W) tensor or (H, W, C) ndarray as a PIL image; floats are scaled by 255 unless ``mode`` is 'F'."""
    if _is_tensor(pic):
        if pic.ndim == 3:
            pic = pic.permute((1, 2, 0))
        pic = pic.detach().cpu().numpy()
    elif not isinstance(pic, numpy.ndarray):
        raise TypeError(f"pic should be Tensor or ndarray. Got {type(pic)}.")
    if pic.ndim == 2:
        pic = numpy.expand_dims(pic, 2)
    if pic.ndim != 3:
        raise ValueError(f"pic should be 2/3 dimensional. Got {pic.ndim} dimensions.")
    if pic.shape[-1] > 4:
        raise ValueError(f"pic should not have > 4 channels. Got {pic.shape[-1]} channels.")
    npimg = pic
    if numpy.issubdtype(npimg.dtype, numpy.floating) and mode != "F":
        npimg = (npimg * 255).astype(numpy.uint8)
    channels = npimg.shape[2]
    if channels == 1:
        npimg = npimg[:, :, 0]
        expected_mode = _single_channel_mode(npimg.dtype)
        if mode is not None and mode != expected_mode:
            raise ValueError(f"Incorrect mode ({mode}) supplied for input type {npimg.dtype}. Should be "
                             f"{expected_mode}")
        mode = expected_mode
    else:
        permitted = _CHANNEL_MODES[channels]
        if mode is not None and mode not in permitted:
            raise ValueError(f"Only modes {permitted} are supported for {channels}D inputs")
        if mode is None and npimg.dtype == numpy.uint8:
            mode = permitted[0]
    if mode is None:
        raise TypeError(f"Input type {npimg.dtype} is not supported")
    return _image_fromarray(npimg, mode=mode)


def normalize(tensor, mean, std, inplace=False):
    """(tensor - mean) / std for each channel of a float tensor image."""
    if not _is_tensor(tensor):
        raise TypeError(f"img should be Tensor Image. Got {type(tensor)}")
    return F_t.normalize(tensor, mean=mean, std=std, inplace=inplace)


def _compute_resized_output_size(image_size, size, max_size=None):
    """[height, width] after resizing: ``size`` of one element sets the shorter edge, keeping the aspect ratio."""
    h, w = image_size
    if len(size) == 2:
        return [size[0], size[1]]
    short, long = (w, h) if w <= h else (h, w)
    requested_new_short = size[0]
    new_short, new_long = requested_new_short, int(requested_new_short * long / short)
    if max_size is not None:
        if max_size <= requested_new_short:
            raise ValueError(f"max_size = {max_size} must be strictly greater than the requested size for the "
                             f"smaller edge size = {size}")
        if new_long > max_size:
            new_short, new_long = int(max_size * new_short / new_long), max_size
    new_w, new_h = (new_short, new_long) if w <= h else (new_long, new_short)
    return [new_h, new_w]


def resize(img, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resizes to ``size`` = (h, w), or makes the shorter edge ``size`` (an int or 1-element sequence)."""
    interpolation = _interpolation_mode(interpolation)
    if isinstance(size, (list, tuple)):
        if len(size) not in (1, 2):
            raise ValueError(f"Size must be an int or a 1 or 2 element tuple/list, not a {len(size)} element "
                             "tuple/list")
        if max_size is not None and len(size) != 1:
            raise ValueError("max_size should only be passed if size specifies the length of the smaller edge, i.e. "
                             "size should be an int or a sequence of length 1 in torchscript mode.")
    _, image_height, image_width = get_dimensions(img)
    output_size = _compute_resized_output_size((image_height, image_width), [size] if isinstance(size, int) else size,
                                               max_size)
    if [image_height, image_width] == output_size:
        return img
    if not _is_tensor(img):
        if antialias is False:
            warnings.warn("Anti-alias option is always applied for PIL Image input. Argument antialias is ignored.")
        return F_pil.resize(img, size=output_size, interpolation=pil_modes_mapping[interpolation])
    return F_t.resize(img, size=output_size, interpolation=interpolation.value, antialias=antialias)


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pads every border: ``padding`` is an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    if not _is_tensor(img):
        return F_pil.pad(img, padding=padding, fill=fill, padding_mode=padding_mode)
    return F_t.pad(img, padding=padding, fill=fill, padding_mode=padding_mode)


def crop(img, top, left, height, width):
    """The ``height`` x ``width`` window whose top-left corner is (top, left); outside the image is zero."""
    if not _is_tensor(img):
        return F_pil.crop(img, top, left, height, width)
    return F_t.crop(img, top, left, height, width)


def _pair(size):
    if isinstance(size, numbers.Number):
        return (int(size), int(size))
    if isinstance(size, (tuple, list)) and len(size) == 1:
        return (size[0], size[0])
    return size


def center_crop(img, output_size):
    """The central ``output_size`` (int or (h, w)) window, zero-padding images that are smaller."""
    crop_height, crop_width = _pair(output_size)
    _, image_height, image_width = get_dimensions(img)
    if crop_width > image_width or crop_height > image_height:
        padding_ltrb = [(crop_width - image_width) // 2 if crop_width > image_width else 0,
                        (crop_height - image_height) // 2 if crop_height > image_height else 0,
                        (crop_width - image_width + 1) // 2 if crop_width > image_width else 0,
                        (crop_height - image_height + 1) // 2 if crop_height > image_height else 0]
        img = pad(img, padding_ltrb, fill=0)
        _, image_height, image_width = get_dimensions(img)
        if crop_width == image_width and crop_height == image_height:
            return img
    crop_top = int(round((image_height - crop_height) / 2.0))
    crop_left = int(round((image_width - crop_width) / 2.0))
    return crop(img, crop_top, crop_left, crop_height, crop_width)


def resized_crop(img, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """Crops, then resizes to ``size``."""
    return resize(crop(img, top, left, height, width), size, interpolation, antialias=antialias)


def hflip(img):
    """Flips left to right."""
    return F_t.hflip(img) if _is_tensor(img) else F_pil.hflip(img)


def vflip(img):
    """Flips upside down."""
    return F_t.vflip(img) if _is_tensor(img) else F_pil.vflip(img)


def five_crop(img, size):
    """The four corner crops and the center crop: (tl, tr, bl, br, center)."""
    size = _pair(size)
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    _, image_height, image_width = get_dimensions(img)
    crop_height, crop_width = size
    if crop_width > image_width or crop_height > image_height:
        raise ValueError(f"Requested crop size {size} is bigger than input size {(image_height, image_width)}")
    tl = crop(img, 0, 0, crop_height, crop_width)
    tr = crop(img, 0, image_width - crop_width, crop_height, crop_width)
    bl = crop(img, image_height - crop_height, 0, crop_height, crop_width)
    br = crop(img, image_height - crop_height, image_width - crop_width, crop_height, crop_width)
    return tl, tr, bl, br, center_crop(img, [crop_height, crop_width])


def ten_crop(img, size, vertical_flip=False):
    """``five_crop`` of the image and of its horizontal (or vertical) flip."""
    size = _pair(size)
    if len(size) != 2:
        raise ValueError("Please provide only two dimensions (h, w) for size.")
    flipped = vflip(img) if vertical_flip else hflip(img)
    return five_crop(img, size) + five_crop(flipped, size)


def adjust_brightness(img, brightness_factor):
    """Multiplies brightness by ``brightness_factor`` (0 gives black, 1 the original)."""
    if not _is_tensor(img):
        return F_pil.adjust_brightness(img, brightness_factor)
    return F_t.adjust_brightness(img, brightness_factor)


def adjust_contrast(img, contrast_factor):
    """Blends with the mean gray (0 gives solid gray, 1 the original)."""
    if not _is_tensor(img):
        return F_pil.adjust_contrast(img, contrast_factor)
    return F_t.adjust_contrast(img, contrast_factor)


def adjust_saturation(img, saturation_factor):
    """Blends with the grayscale image (0 gives gray, 1 the original)."""
    if not _is_tensor(img):
        return F_pil.adjust_saturation(img, saturation_factor)
    return F_t.adjust_saturation(img, saturation_factor)


def adjust_hue(img, hue_factor):
    """Shifts hue by ``hue_factor`` in [-0.5, 0.5] turns of the color wheel."""
    if not _is_tensor(img):
        return F_pil.adjust_hue(img, hue_factor)
    return F_t.adjust_hue(img, hue_factor)


def adjust_gamma(img, gamma, gain=1):
    """Gamma correction: ``gain * img ** gamma`` on the [0, 1] scale."""
    if not _is_tensor(img):
        return F_pil.adjust_gamma(img, gamma, gain)
    return F_t.adjust_gamma(img, gamma, gain)


def _get_inverse_affine_matrix(center, angle, translate, scale, shear, inverted=True):
    """The 2x3 matrix (flattened) of rotation/scale/shear about ``center`` then translation, or its inverse.

    Angles are in degrees; the inverse maps output pixels to input pixels, as PIL and grid sampling need.
    """
    rot = math.radians(angle)
    sx, sy = math.radians(shear[0]), math.radians(shear[1])
    cx, cy = center
    tx, ty = translate
    a = math.cos(rot - sy) / math.cos(sy)
    b = -math.cos(rot - sy) * math.tan(sx) / math.cos(sy) - math.sin(rot)
    c = math.sin(rot - sy) / math.cos(sy)
    d = -math.sin(rot - sy) * math.tan(sx) / math.cos(sy) + math.cos(rot)
    if inverted:
        matrix = [x / scale for x in (d, -b, 0.0, -c, a, 0.0)]
        matrix[2] += matrix[0] * (-cx - tx) + matrix[1] * (-cy - ty) + cx
        matrix[5] += matrix[3] * (-cx - tx) + matrix[4] * (-cy - ty) + cy
    else:
        matrix = [x * scale for x in (a, b, 0.0, c, d, 0.0)]
        matrix[2] += matrix[0] * (-cx) + matrix[1] * (-cy) + (cx + tx)
        matrix[5] += matrix[3] * (-cx) + matrix[4] * (-cy) + (cy + ty)
    return matrix


def _check_center(center):
    if center is not None and not isinstance(center, (list, tuple)):
        raise TypeError("Argument center should be a sequence")


def _tensor_center(img, center):
    """``center`` relative to the image center, the origin of tensor grid coordinates."""
    if center is None:
        return [0.0, 0.0]
    _, height, width = get_dimensions(img)
    return [1.0 * (c - s * 0.5) for c, s in zip(center, [width, height])]


def rotate(img, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotates counter-clockwise by ``angle`` degrees about ``center`` (default: the image center)."""
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    _check_center(center)
    if not _is_tensor(img):
        return F_pil.rotate(img, angle=angle, interpolation=pil_modes_mapping[interpolation], expand=expand,
                            center=center, fill=fill)
    matrix = _get_inverse_affine_matrix(_tensor_center(img, center), -angle, [0.0, 0.0], 1.0, [0.0, 0.0])
    return F_t.rotate(img, matrix=matrix, interpolation=interpolation.value, expand=expand, fill=fill)


def _shear_pair(shear):
    if not isinstance(shear, (numbers.Number, list, tuple)):
        raise TypeError("Shear should be either a single value or a sequence of two values")
    if isinstance(shear, numbers.Number):
        return [shear, 0.0]
    shear = list(shear)
    if len(shear) == 1:
        shear = [shear[0], shear[0]]
    if len(shear) != 2:
        raise ValueError(f"Shear should be a sequence containing two values. Got {shear}")
    return shear


def affine(img, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotates (clockwise, degrees), scales, shears about the center, then translates by ``translate`` pixels."""
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(angle, (int, float)):
        raise TypeError("Argument angle should be int or float")
    if not isinstance(translate, (list, tuple)):
        raise TypeError("Argument translate should be a sequence")
    if len(translate) != 2:
        raise ValueError("Argument translate should be a sequence of length 2")
    if scale <= 0.0:
        raise ValueError("Argument scale should be positive")
    shear = _shear_pair(shear)
    _check_center(center)
    angle = float(angle)
    if not _is_tensor(img):
        _, height, width = get_dimensions(img)
        center = [width * 0.5, height * 0.5] if center is None else center
        matrix = _get_inverse_affine_matrix(center, angle, list(translate), scale, shear)
        return F_pil.affine(img, matrix=matrix, interpolation=pil_modes_mapping[interpolation], fill=fill)
    translate_f = [1.0 * t for t in translate]
    matrix = _get_inverse_affine_matrix(_tensor_center(img, center), angle, translate_f, scale, shear)
    return F_t.affine(img, matrix=matrix, interpolation=interpolation.value, fill=fill)


def to_grayscale(img, num_output_channels=1):
    """A PIL image of any mode as grayscale, in 1 or 3 channels."""
    if F_pil._is_pil_image(img):
        return F_pil.to_grayscale(img, num_output_channels)
    raise TypeError("Input should be PIL Image")


def rgb_to_grayscale(img, num_output_channels=1):
    """An RGB image as grayscale (luma), in 1 or 3 channels."""
    if not _is_tensor(img):
        return F_pil.to_grayscale(img, num_output_channels)
    return F_t.rgb_to_grayscale(img, num_output_channels)


def erase(img, i, j, h, w, v, inplace=False):
    """Overwrites the ``h`` x ``w`` window at (i, j) of a tensor image with ``v``."""
    if not _is_tensor(img):
        raise TypeError(f"img should be Tensor Image. Got {type(img)}")
    return F_t.erase(img, i, j, h, w, v, inplace=inplace)


def _blur_arguments(kernel_size, sigma):
    if not isinstance(kernel_size, (int, list, tuple)):
        raise TypeError(f"kernel_size should be int or a sequence of integers. Got {type(kernel_size)}")
    kernel_size = [kernel_size, kernel_size] if isinstance(kernel_size, int) else list(kernel_size)
    if len(kernel_size) != 2:
        raise ValueError(f"If kernel_size is a sequence its length should be 2. Got {len(kernel_size)}")
    for ksize in kernel_size:
        if ksize % 2 == 0 or ksize < 0:
            raise ValueError(f"kernel_size should have odd and positive integers. Got {kernel_size}")
    if sigma is None:
        sigma = [ksize * 0.15 + 0.35 for ksize in kernel_size]
    if not isinstance(sigma, (int, float, list, tuple)):
        raise TypeError(f"sigma should be either float or sequence of floats. Got {type(sigma)}")
    if isinstance(sigma, (int, float)):
        sigma = [float(sigma), float(sigma)]
    if len(sigma) == 1:
        sigma = [sigma[0], sigma[0]]
    if len(sigma) != 2:
        raise ValueError(f"If sigma is a sequence, its length should be 2. Got {len(sigma)}")
    if any(s <= 0.0 for s in sigma):
        raise ValueError(f"sigma should have positive values. Got {sigma}")
    return kernel_size, sigma


def gaussian_blur(img, kernel_size, sigma=None):
    """Gaussian blur with reflect padding; ``sigma`` defaults to ``0.15 * kernel_size + 0.35``."""
    kernel_size, sigma = _blur_arguments(kernel_size, sigma)
    if _is_tensor(img):
        return F_t.gaussian_blur(img, kernel_size, sigma)
    if not F_pil._is_pil_image(img):
        raise TypeError(f"img should be PIL Image or Tensor. Got {type(img)}")
    return to_pil_image(F_t.gaussian_blur(pil_to_tensor(img), kernel_size, sigma), mode=img.mode)


def invert(img):
    """Inverts the colors: ``max - img``."""
    return F_t.invert(img) if _is_tensor(img) else F_pil.invert(img)


def _v2(module):
    """v2's functional ``_color`` or ``_geometry``, whose image kernels (tensor and PIL) v1 shares; v2 imports this
    module, so they load on first use."""
    from .v2.functional import _color, _geometry
    return {"_color": _color, "_geometry": _geometry}[module]


def _check_uint8_image(img):
    """v1's checks for the ops it runs on uint8 tensors only."""
    F_t._assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    if img.dtype != ember.uint8:
        raise TypeError(f"Only torch.uint8 image tensors are supported, but found {img.dtype}")
    F_t._assert_channels(img, [1, 3])


def _check_color_image(img):
    F_t._assert_image_tensor(img)
    if img.ndim < 3:
        raise TypeError(f"Input image tensor should have at least 3 dimensions, but found {img.ndim}")
    F_t._assert_channels(img, [1, 3])


def posterize(img, bits):
    """Keeps the top ``bits`` bits of each channel (uint8 tensors or PIL images)."""
    if not 0 <= bits <= 8:
        raise ValueError(f"The number if bits should be between 0 and 8. Got {bits}")
    if _is_tensor(img):
        _check_uint8_image(img)
    return _v2("_color")._posterize_image(img, bits)


def solarize(img, threshold):
    """Inverts the pixels at or above ``threshold``."""
    if _is_tensor(img):
        _check_color_image(img)
        if threshold > F_t._max_value(img.dtype):
            raise TypeError("Threshold should be less than bound of img.")
    return _v2("_color")._solarize_image(img, threshold)


def adjust_sharpness(img, sharpness_factor):
    """Blends with a smoothed copy: 0 blurs, 1 keeps the image, 2 sharpens."""
    if _is_tensor(img):
        if sharpness_factor < 0:
            raise ValueError(f"sharpness_factor ({sharpness_factor}) is not non-negative.")
        F_t._assert_image_tensor(img)
    return _v2("_color")._adjust_sharpness_image(img, sharpness_factor)


def autocontrast(img):
    """Stretches each channel so its darkest pixel is black and its lightest white."""
    if _is_tensor(img):
        _check_color_image(img)
    return _v2("_color")._autocontrast_image(img)


def equalize(img):
    """Equalizes each channel's histogram (uint8 tensors or PIL images)."""
    if _is_tensor(img):
        _check_uint8_image(img)
    return _v2("_color")._equalize_image(img)


def perspective(img, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None):
    """The perspective warp taking the four ``startpoints`` (corners, [x, y]) to ``endpoints``."""
    return _v2("_geometry")._perspective_image(img, startpoints, endpoints, _interpolation_mode(interpolation), fill)
