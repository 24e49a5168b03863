"""The PIL side of the transforms: each function calls Pillow as torchvision does, so results match it exactly.

Pillow is imported when a function runs, never when the module loads.
"""
import numbers

import numpy

from ..utils import _image_fromarray, _pil_image


def _is_pil_image(img):
    return isinstance(img, _pil_image().Image)


def _check_pil(img):
    if not _is_pil_image(img):
        raise TypeError(f"img should be PIL Image. Got {type(img)}")


def get_dimensions(img):
    """[channels, height, width] of a PIL image."""
    if not _is_pil_image(img):
        raise TypeError(f"Unexpected type {type(img)}")
    width, height = img.size
    return [len(img.getbands()), height, width]


def get_image_num_channels(img):
    """The number of bands of a PIL image."""
    return get_dimensions(img)[0]


def hflip(img):
    """Flips left to right."""
    _check_pil(img)
    return img.transpose(_pil_image().Transpose.FLIP_LEFT_RIGHT)


def vflip(img):
    """Flips upside down."""
    _check_pil(img)
    return img.transpose(_pil_image().Transpose.FLIP_TOP_BOTTOM)


def _enhance(img, enhancer_name, factor):
    from PIL import ImageEnhance

    _check_pil(img)
    return getattr(ImageEnhance, enhancer_name)(img).enhance(factor)


def adjust_brightness(img, brightness_factor):
    """PIL's ImageEnhance.Brightness."""
    return _enhance(img, "Brightness", brightness_factor)


def adjust_contrast(img, contrast_factor):
    """PIL's ImageEnhance.Contrast."""
    return _enhance(img, "Contrast", contrast_factor)


def adjust_saturation(img, saturation_factor):
    """PIL's ImageEnhance.Color."""
    return _enhance(img, "Color", saturation_factor)


def adjust_hue(img, hue_factor):
    """Shifts the hue band of the HSV image by ``hue_factor * 255`` (wrapping); gray modes are unchanged."""
    if not -0.5 <= hue_factor <= 0.5:
        raise ValueError(f"hue_factor ({hue_factor}) is not in [-0.5, 0.5].")
    _check_pil(img)
    input_mode = img.mode
    if input_mode in {"L", "1", "I", "F"}:
        return img
    h, s, v = img.convert("HSV").split()
    np_h = numpy.array(h, dtype=numpy.uint8)
    np_h += numpy.int32(hue_factor * 255).astype(numpy.uint8)  # wraps around, as hue should
    h = _image_fromarray(np_h, "L")
    return _pil_image().merge("HSV", (h, s, v)).convert(input_mode)


def adjust_gamma(img, gamma, gain=1.0):
    """Maps each value through ``gain * (v / 255) ** gamma`` with a lookup table."""
    _check_pil(img)
    if gamma < 0:
        raise ValueError("Gamma should be a non-negative real number")
    input_mode = img.mode
    gamma_map = [int((255 + 1 - 1e-3) * gain * pow(ele / 255.0, gamma)) for ele in range(256)] * 3
    return img.convert("RGB").point(gamma_map).convert(input_mode)


def invert(img):
    """255 - img."""
    from PIL import ImageOps

    _check_pil(img)
    return ImageOps.invert(img)


def _parse_fill(fill, img, name="fillcolor"):
    """Pillow's keyword for the fill color: one value per band, ints unless the mode is 'F'."""
    num_channels = get_image_num_channels(img)
    fill = 0 if fill is None else fill
    if isinstance(fill, (int, float)) and num_channels > 1:
        fill = tuple([fill] * num_channels)
    if isinstance(fill, (list, tuple)):
        if len(fill) == 1:
            fill = fill * num_channels
        elif len(fill) != num_channels:
            raise ValueError("The number of elements in 'fill' does not match the number of channels of the image "
                             f"({len(fill)} != {num_channels})")
        fill = tuple(fill)
    if img.mode != "F":
        fill = tuple(int(x) for x in fill) if isinstance(fill, tuple) else int(fill)
    return {name: fill}


def _ltrb(padding):
    if isinstance(padding, int):
        return [padding] * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    return list(padding)


def pad(img, padding, fill=0, padding_mode="constant"):
    """Pads with ``fill`` (constant) or by numpy.pad's edge/reflect/symmetric modes."""
    from PIL import ImageOps

    _check_pil(img)
    if not isinstance(padding, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate padding arg")
    if fill is not None and not isinstance(fill, (numbers.Number, tuple, list)):
        raise TypeError("Got inappropriate fill arg")
    if not isinstance(padding_mode, str):
        raise TypeError("Got inappropriate padding_mode arg")
    padding = tuple(padding) if isinstance(padding, list) else padding
    if isinstance(padding, tuple) and len(padding) not in (1, 2, 4):
        raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")
    if isinstance(padding, tuple) and len(padding) == 1:
        padding = padding[0]
    if padding_mode not in ("constant", "edge", "reflect", "symmetric"):
        raise ValueError("Padding mode should be either constant, edge, reflect or symmetric")
    palette = img.getpalette() if img.mode == "P" else None
    if padding_mode == "constant":
        result = ImageOps.expand(img, border=padding, **_parse_fill(fill, img, name="fill"))
    else:
        left, top, right, bottom = _ltrb(padding)
        if min(left, top, right, bottom) < 0:  # negative padding crops
            img = img.crop((max(-left, 0), max(-top, 0), img.width - max(-right, 0), img.height - max(-bottom, 0)))
        left, top, right, bottom = (max(x, 0) for x in (left, top, right, bottom))
        array = numpy.asarray(img)
        widths = ((top, bottom), (left, right)) + ((0, 0),) * (array.ndim - 2)
        result = _pil_image().fromarray(numpy.pad(array, widths, mode=padding_mode))
    if palette is not None:
        result.putpalette(palette)
    return result


def crop(img, top, left, height, width):
    """The ``height`` x ``width`` box at (top, left); PIL fills the outside with zeros."""
    _check_pil(img)
    return img.crop((left, top, left + width, top + height))


def resize(img, size, interpolation):
    """PIL's resize to ``size`` = [height, width] with a PIL resampling filter."""
    _check_pil(img)
    if not (isinstance(size, list) and len(size) == 2):
        raise TypeError(f"Got inappropriate size arg: {size}")
    return img.resize(tuple(size[::-1]), interpolation)


def affine(img, matrix, interpolation, fill=None):
    """PIL's affine transform with the inverse ``matrix`` (output to input pixel coordinates)."""
    _check_pil(img)
    return img.transform(img.size, _pil_image().Transform.AFFINE, matrix, interpolation, **_parse_fill(fill, img))


def rotate(img, angle, interpolation, expand=False, center=None, fill=None):
    """PIL's rotate, counter-clockwise by ``angle`` degrees."""
    _check_pil(img)
    return img.rotate(angle, interpolation, expand, center, **_parse_fill(fill, img))


def to_grayscale(img, num_output_channels):
    """PIL's conversion to 'L', repeated to three bands when asked."""
    _check_pil(img)
    if num_output_channels not in (1, 3):
        raise ValueError("num_output_channels should be either 1 or 3")
    img = img.convert("L")
    if num_output_channels == 3:
        img = _pil_image().merge("RGB", [img, img, img])
    return img
