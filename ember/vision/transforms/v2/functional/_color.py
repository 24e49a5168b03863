"""Color functionals: v1's kernels for the adjustments it has, and posterize, solarize, sharpness, autocontrast and
equalize for tensors (Pillow's ImageOps/ImageEnhance for PIL images). Masks and boxes have no color."""
import numpy

import ember

from ....tv_tensors import Image, Video
from ... import _functional_tensor as F_t, functional as F1
from ._utils import PIL_IMAGE, _dispatch, _register_kernel_internal

__all__ = ["adjust_brightness", "adjust_contrast", "adjust_saturation", "adjust_hue", "adjust_gamma",
           "rgb_to_grayscale", "to_grayscale", "grayscale_to_rgb", "invert", "posterize", "solarize",
           "adjust_sharpness", "autocontrast", "equalize", "permute_channels"]


def _register(functional, tensor_kernel, pil_kernel=None):
    for cls in (ember.Tensor, Image, Video):
        _register_kernel_internal(functional, cls)(tensor_kernel)
    _register_kernel_internal(functional, PIL_IMAGE)(pil_kernel or tensor_kernel)


def _functional(name, v1_kernel, doc):
    def functional(inpt, *args, **kwargs):
        return _dispatch(functional, inpt, *args, **kwargs)
    functional.__name__ = functional.__qualname__ = name
    functional.__doc__ = doc
    _register(functional, v1_kernel)
    return functional


adjust_brightness = _functional("adjust_brightness", F1.adjust_brightness, "Multiplies brightness by a factor.")
adjust_contrast = _functional("adjust_contrast", F1.adjust_contrast, "Blends with the mean gray level by a factor.")
adjust_saturation = _functional("adjust_saturation", F1.adjust_saturation, "Blends with the grayscale image.")
adjust_hue = _functional("adjust_hue", F1.adjust_hue, "Shifts the hue by a factor in [-0.5, 0.5].")
adjust_gamma = _functional("adjust_gamma", F1.adjust_gamma, "Gamma correction: gain * img ** gamma.")
invert = _functional("invert", F1.invert, "Inverts the colors: max - img.")
rgb_to_grayscale = _functional("rgb_to_grayscale", F1.rgb_to_grayscale,
                               "RGB to grayscale (ITU-R 601-2 luma), in 1 or 3 channels.")
to_grayscale = rgb_to_grayscale


def _grayscale_to_rgb_image(image):
    if isinstance(image, ember.Tensor):
        return image if image.shape[-3] == 3 else image.expand(*image.shape[:-3], 3, *image.shape[-2:])
    return image.convert("RGB")


grayscale_to_rgb = _functional("grayscale_to_rgb", _grayscale_to_rgb_image, "A grayscale image as three channels.")


def _permute_channels_image(image, permutation):
    if not isinstance(image, ember.Tensor):
        return F1.to_pil_image(_permute_channels_image(F1.pil_to_tensor(image), permutation), mode=image.mode)
    return image[..., list(permutation), :, :]


permute_channels = _functional("permute_channels", _permute_channels_image,
                               "The channels in the order ``permutation``.")


def _pil_ops():
    from PIL import ImageEnhance, ImageOps
    return ImageOps, ImageEnhance


def _posterize_image(image, bits):
    if not isinstance(image, ember.Tensor):
        return _pil_ops()[0].posterize(image, bits)
    if image.is_floating_point():
        levels = 1 << bits
        return image.mul(levels).floor().clamp(0, levels - 1).mul(1.0 / levels)
    if image.dtype != ember.uint8:
        raise TypeError(f"Only uint8 and floating point images are supported, got {image.dtype}")
    return image & (((1 << bits) - 1) << (8 - bits))


def _solarize_image(image, threshold):
    if not isinstance(image, ember.Tensor):
        return _pil_ops()[0].solarize(image, threshold)
    if threshold > F_t._max_value(image.dtype):
        raise TypeError("Threshold should be less or equal the maximum value of the dtype")
    return ember.where(image >= threshold, F1.invert(image), image)


def _adjust_sharpness_image(image, sharpness_factor):
    if not isinstance(image, ember.Tensor):
        return _pil_ops()[1].Sharpness(image).enhance(sharpness_factor)
    num_channels, height, width = F_t.get_dimensions(image)
    if num_channels not in (1, 3):
        raise TypeError(f"Input image tensor can have 1 or 3 channels, but found {num_channels}")
    if sharpness_factor < 0:
        raise ValueError("sharpness_factor is not non-negative.")
    if image.numel() == 0 or height <= 2 or width <= 2:
        return image
    shape = image.shape
    batch = image.reshape(-1, num_channels, height, width)
    floats = batch if batch.is_floating_point() else batch.float()
    a, b = 1.0 / 13.0, 5.0 / 13.0   # ones around a five, normalized
    kernel = ember.tensor([[a, a, a], [a, b, a], [a, a, a]], dtype=floats.dtype, device=floats.device)
    kernel = kernel.expand(num_channels, 1, 3, 3)
    blurred = ember.nn.functional.conv2d(floats, kernel, groups=num_channels)
    if not batch.is_floating_point():
        blurred = blurred.round()
    out = floats.clone()   # the border keeps its pixels; the interior moves toward the smoothed image
    interior = floats[..., 1:-1, 1:-1]
    out[..., 1:-1, 1:-1] = interior + (1.0 - sharpness_factor) * (blurred - interior)
    out = out.clamp(0, F_t._max_value(image.dtype))
    return out.to(image.dtype).reshape(shape)


def _autocontrast_image(image):
    if not isinstance(image, ember.Tensor):
        return _pil_ops()[0].autocontrast(image)
    bound = F_t._max_value(image.dtype)
    floats = image if image.is_floating_point() else image.float()
    minimum = floats.amin(dim=(-2, -1), keepdim=True)
    maximum = floats.amax(dim=(-2, -1), keepdim=True)
    flat = maximum == minimum
    scale = ember.where(flat, ember.ones_like(maximum), (maximum - minimum) * (1.0 / bound))
    minimum = ember.where(flat, ember.zeros_like(minimum), minimum)
    return ((floats - minimum) / scale).clamp(0, bound).to(image.dtype)


def _equalize_channel(channel):
    """PIL's equalization of one uint8 channel: a lookup table from the cumulative histogram."""
    histogram = numpy.bincount(channel.ravel(), minlength=256)
    nonzero = histogram[histogram != 0]
    step = nonzero[:-1].sum() // 255
    if step == 0:
        return channel
    lut = (numpy.cumsum(histogram) + step // 2) // step
    lut = numpy.clip(numpy.concatenate([[0], lut[:-1]]), 0, 255).astype(numpy.uint8)
    return lut[channel]


def _equalize_image(image):
    if not isinstance(image, ember.Tensor):
        return _pil_ops()[0].equalize(image)
    if image.is_floating_point():
        return F1.convert_image_dtype(_equalize_image(F1.convert_image_dtype(image, ember.uint8)), image.dtype)
    if image.dtype != ember.uint8:
        raise TypeError(f"Only uint8 and floating point images are supported, got {image.dtype}")
    array = image.detach().cpu().numpy()
    flat = array.reshape(-1, *array.shape[-2:])
    out = numpy.stack([_equalize_channel(channel) for channel in flat]).reshape(array.shape)
    return ember.from_numpy(out).to(image.device)


posterize = _functional("posterize", _posterize_image, "Keeps the top ``bits`` bits of each channel.")
solarize = _functional("solarize", _solarize_image, "Inverts the pixels at or above ``threshold``.")
adjust_sharpness = _functional("adjust_sharpness", _adjust_sharpness_image,
                               "Blends with a smoothed image: 0 blurs, 1 keeps, 2 sharpens.")
autocontrast = _functional("autocontrast", _autocontrast_image,
                           "Stretches each channel so its darkest pixel is black and its lightest white.")
equalize = _functional("equalize", _equalize_image, "Equalizes each channel's histogram (Pillow's algorithm).")
