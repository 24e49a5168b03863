"""``torchvision.io.image`` on Pillow: files as 1-D uint8 tensors of their bytes, images as uint8 (C, H, W) tensors
(uint16 for 16-bit PNGs), decoding in torchvision's ``ImageReadMode``s, PNG and JPEG encoding.

Pillow is imported on first use. A JPEG read as GRAY is libjpeg's own luma decode, as torchvision's; other 8-bit colour
to grey conversions are Pillow's (ITU-R 601-2 luma), 16-bit ones libpng's (as torchvision's). Pillow decodes 16-bit
colour PNGs to 8 bits, so those are decoded twice by Pillow's own PNG decoder, once for each byte of a sample."""
import io
import os
from enum import Enum

import numpy

import ember

__all__ = ["ImageReadMode", "decode_gif", "decode_image", "decode_jpeg", "decode_png", "decode_webp", "encode_jpeg",
           "encode_png", "read_file", "read_image", "write_file", "write_jpeg", "write_png"]


class ImageReadMode(Enum):
    """The channels to decode to: UNCHANGED (as stored), GRAY, GRAY_ALPHA, RGB, RGB_ALPHA (alias RGBA)."""

    UNCHANGED = 0
    GRAY = 1
    GRAY_ALPHA = 2
    RGB = 3
    RGB_ALPHA = 4
    RGBA = RGB_ALPHA


_PIL_MODES = {ImageReadMode.GRAY: "L", ImageReadMode.GRAY_ALPHA: "LA", ImageReadMode.RGB: "RGB",
              ImageReadMode.RGB_ALPHA: "RGBA"}
# Pillow modes as stored -> the mode torchvision decodes them to unchanged (palettes and CMYK/YCbCr JPEGs expand).
_UNCHANGED = {"1": "L", "L": "L", "LA": "LA", "La": "LA", "RGB": "RGB", "RGBA": "RGBA", "RGBa": "RGBA", "PA": "RGBA",
              "CMYK": "RGB", "YCbCr": "RGB", "I": "I;16", "I;16": "I;16", "I;16B": "I;16", "I;16L": "I;16"}
_UNSUPPORTED = ("Unsupported image file. Only jpeg, png, webp and gif are currently supported. For avif and heic "
                "format, please rely on `decode_avif` and `decode_heic` directly.")


def _pil():
    try:
        from PIL import Image, ImageOps
    except ImportError as error:
        raise ImportError("ember.vision.io needs Pillow to decode and encode images: pip install Pillow "
                          "(or pip install ember[vision])") from error
    return Image, ImageOps


def _read_mode(mode):
    return ImageReadMode[mode.upper()] if isinstance(mode, str) else ImageReadMode(mode)


def read_file(path):
    """The bytes of the file at ``path`` as a 1-D uint8 tensor."""
    with open(os.fspath(path), "rb") as f:
        return ember.from_numpy(numpy.frombuffer(f.read(), dtype=numpy.uint8).copy())


def write_file(filename, data):
    """Writes the bytes of a 1-D uint8 tensor to ``filename``."""
    if data.dtype != ember.uint8 or data.ndim != 1:
        raise RuntimeError("Expected a 1-dimensional torch.uint8 tensor")
    with open(os.fspath(filename), "wb") as f:
        f.write(data.cpu().numpy().tobytes())


def _encoded_bytes(data):
    """The bytes of an encoded image tensor, with torchvision's checks."""
    if not ember.is_tensor(data):
        raise TypeError(f"Expected a tensor of encoded image bytes, got {type(data).__name__}")
    if data.device.type != "cpu":
        raise RuntimeError("Expected a CPU tensor")
    if data.dtype != ember.uint8:
        raise RuntimeError("Expected a torch.uint8 tensor")
    if data.ndim != 1 or data.numel() == 0:
        raise RuntimeError("Expected a non empty 1-dimensional tensor")
    return data.numpy().tobytes()


def _to_tensor(image, mode, apply_exif_orientation):
    """A decoded Pillow image as a (C, H, W) tensor in ``mode``."""
    Image, ImageOps = _pil()
    if apply_exif_orientation:
        image = ImageOps.exif_transpose(image)
    if mode is ImageReadMode.UNCHANGED:
        target = "RGBA" if image.mode == "P" and "transparency" in image.info else _UNCHANGED.get(image.mode, "RGB")
    else:
        target = _PIL_MODES[mode]
    if image.mode.startswith("I") and target in ("I;16", "L"):   # 16-bit PNG: torchvision keeps 16 bits (uint16)
        array = numpy.asarray(image).astype(numpy.uint16)
    else:
        array = numpy.asarray(image.convert(target) if image.mode != target else image)
    array = array[:, :, None] if array.ndim == 2 else array
    return ember.from_numpy(array.transpose(2, 0, 1).copy())   # a writable copy: Pillow's array is read-only


def _open(data, formats, error, draft=None):
    """The decoded Pillow image; ``draft`` asks the JPEG decoder for that mode itself (libjpeg's own conversion)."""
    Image, _ = _pil()
    try:
        image = Image.open(io.BytesIO(data))
        if draft is not None and image.format == "JPEG":
            image.draft(draft, image.size)
        image.load()
    except Exception as failure:   # Pillow raises many types for corrupt data; torchvision raises RuntimeError
        raise RuntimeError(f"{error}: {failure}") from failure
    if image.format not in formats:
        raise RuntimeError(error)
    return image


def decode_png(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decodes PNG bytes (a 1-D uint8 tensor) to a (C, H, W) uint8 tensor (uint16 for 16-bit PNGs)."""
    data = _encoded_bytes(input)
    image = _open(data, ("PNG",), "Content is not png")
    if data[24] != 16:   # the IHDR bit depth
        return _to_tensor(image, _read_mode(mode), apply_exif_orientation)
    array = _png16_convert(_png16_samples(data, image), _read_mode(mode))
    if apply_exif_orientation:
        array = _orient(array, image.getexif().get(0x0112, 1))
    return ember.from_numpy(numpy.ascontiguousarray(array.transpose(2, 0, 1)))


def _decode_as(data, rawmode):
    """Pillow's PNG decode of ``data`` with each pixel's bytes (unfiltered as stored) unpacked as ``rawmode``."""
    Image, _ = _pil()
    image = Image.open(io.BytesIO(data))
    image.tile = [tile[:3] + (rawmode,) for tile in image.tile]
    image.load()
    return numpy.asarray(image)


def _png16_samples(data, image):
    """The (H, W, C) uint16 samples of a 16-bit PNG as stored: grey, grey+alpha, RGB or RGBA."""
    color_type = data[25]
    if color_type == 0:
        return numpy.asarray(image).astype(numpy.uint16)[:, :, None]
    if color_type == 4:   # 4 bytes a pixel: unpacked as 8-bit RGBA, they are the two samples' high and low bytes
        raw = _decode_as(data, "RGBA").astype(numpy.uint16)
        return raw[:, :, 0::2] << 8 | raw[:, :, 1::2]
    high = numpy.asarray(image).astype(numpy.uint16)   # Pillow keeps each sample's high byte
    low = _decode_as(data, ("RGB" if color_type == 2 else "RGBA") + ";16L")   # read little-endian: the low byte
    return high << 8 | low


# libpng's rgb_to_gray weights for torchvision's (0.2989, 0.587): 15-bit fixed point, truncated, blue the rest.
_GRAY_WEIGHTS = numpy.array([9794, 19234, 3740], dtype=numpy.uint64)


def _png16_convert(samples, mode):
    """16-bit samples in ``mode`` as libpng converts them for torchvision: alpha stripped or added opaque, grey
    repeated to RGB, RGB to grey by libpng's weights (rounded)."""
    if mode is ImageReadMode.UNCHANGED:
        return samples
    stored = samples.shape[2]
    colour = samples[:, :, :3 if stored >= 3 else 1]
    alpha = samples[:, :, -1:] if stored % 2 == 0 else numpy.full(colour.shape[:2] + (1,), 65535, numpy.uint16)
    if mode in (ImageReadMode.GRAY, ImageReadMode.GRAY_ALPHA) and colour.shape[2] == 3:
        colour = ((colour @ _GRAY_WEIGHTS + 16384) >> 15).astype(numpy.uint16)[:, :, None]
    elif mode in (ImageReadMode.RGB, ImageReadMode.RGB_ALPHA) and colour.shape[2] == 1:
        colour = numpy.repeat(colour, 3, axis=2)
    return numpy.concatenate([colour, alpha], 2) if mode in (ImageReadMode.GRAY_ALPHA, ImageReadMode.RGB_ALPHA) \
        else colour


def _orient(array, orientation):
    """An (H, W, C) array turned as Pillow's ``ImageOps.exif_transpose`` turns an image of that EXIF orientation."""
    if orientation in (5, 6, 7, 8):   # the four that swap height and width
        array = array.transpose(1, 0, 2)
    flips = {2: (1,), 3: (0, 1), 4: (0,), 6: (1,), 7: (0, 1), 8: (0,)}.get(orientation, ())
    return numpy.flip(array, flips) if flips else array


def decode_jpeg(input, mode=ImageReadMode.UNCHANGED, device="cpu", apply_exif_orientation=False):
    """Decodes JPEG bytes (a 1-D uint8 tensor, or a list of them) to (C, H, W) uint8 tensor(s) on ``device``."""
    device = ember.device(device)
    if isinstance(input, list):
        if not input:
            raise ValueError("Input list must contain at least one element")
        if not all(ember.is_tensor(t) for t in input):
            raise ValueError("All elements of the input list must be tensors.")
        if not all(t.device.type == "cpu" for t in input):
            raise ValueError("Input list must contain tensors on CPU.")
        return [decode_jpeg(t, mode, device, apply_exif_orientation) for t in input]
    if ember.is_tensor(input) and input.device.type != "cpu":
        raise ValueError("Input tensor must be a CPU tensor")
    data = _encoded_bytes(input)
    if data[:2] != b"\xff\xd8":
        first, second = (data + bytes(1))[:2]
        raise RuntimeError(f"Not a JPEG file: starts with 0x{first:02x} 0x{second:02x}")
    mode = _read_mode(mode)
    draft = "L" if mode in (ImageReadMode.GRAY, ImageReadMode.GRAY_ALPHA) else None   # decode Y alone, as libjpeg
    image = _open(data, ("JPEG", "MPO"), "Error while decoding the JPEG image", draft)
    return _to_tensor(image, mode, apply_exif_orientation).to(device)


def decode_gif(input):
    """Decodes GIF bytes to an RGB uint8 tensor: (C, H, W) for one frame, (N, C, H, W) for N frames."""
    Image, _ = _pil()
    image = _open(_encoded_bytes(input), ("GIF",), "Content is not gif")
    frames = []
    for index in range(getattr(image, "n_frames", 1)):
        image.seek(index)
        frames.append(_to_tensor(image.convert("RGB"), ImageReadMode.RGB, False))
    return frames[0] if len(frames) == 1 else ember.stack(frames)


def decode_webp(input, mode=ImageReadMode.UNCHANGED):
    """Decodes WEBP bytes to an RGB or RGBA (C, H, W) uint8 tensor."""
    mode = _read_mode(mode)
    if mode not in (ImageReadMode.UNCHANGED, ImageReadMode.RGB, ImageReadMode.RGB_ALPHA):
        raise RuntimeError(f"Unsupported mode for webp: {mode.name}; use UNCHANGED, RGB or RGB_ALPHA")
    image = _open(_encoded_bytes(input), ("WEBP",), "Content is not webp")
    return _to_tensor(image, mode, False)


def decode_image(input, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Decodes a JPEG, PNG, GIF or WEBP image, from a path or its bytes, to a uint8 (C, H, W) tensor."""
    if not ember.is_tensor(input):
        input = read_file(input)
    data = _encoded_bytes(input)
    if data[:3] == b"\xff\xd8\xff":
        return decode_jpeg(input, mode, apply_exif_orientation=apply_exif_orientation)
    if data[:4] == b"\x89PNG":
        return decode_png(input, mode, apply_exif_orientation)
    if data[:6] in (b"GIF89a", b"GIF87a"):
        return decode_gif(input)
    if data[:4] == b"RIFF" and data[8:12] == b"WEBP":
        return decode_webp(input, mode)
    raise RuntimeError(_UNSUPPORTED)


def read_image(path, mode=ImageReadMode.UNCHANGED, apply_exif_orientation=False):
    """Reads and decodes the image file at ``path`` (torchvision now suggests ``decode_image``, which takes paths)."""
    return decode_image(read_file(path), mode, apply_exif_orientation)


def _image_array(input):
    """A (C, H, W) uint8 tensor of 1 or 3 channels as the (H, W) or (H, W, 3) array Pillow encodes."""
    if input.device.type != "cpu":
        raise RuntimeError("Input tensor should be on CPU")
    if input.dtype != ember.uint8:
        raise RuntimeError("Input tensor dtype should be uint8")
    if input.ndim != 3:
        raise RuntimeError("Input data should be a 3-dimensional tensor")
    if input.shape[0] not in (1, 3):
        raise RuntimeError(f"The number of channels should be 1 or 3, got: {input.shape[0]}")
    array = numpy.ascontiguousarray(input.numpy().transpose(1, 2, 0))
    return array[:, :, 0] if array.shape[2] == 1 else array


def _encode(array, format, **options):
    Image, _ = _pil()
    buffer = io.BytesIO()
    Image.fromarray(array).save(buffer, format=format, **options)
    return ember.from_numpy(numpy.frombuffer(buffer.getvalue(), dtype=numpy.uint8).copy())


def encode_png(input, compression_level=6):
    """Encodes a uint8 (C, H, W) tensor of 1 or 3 channels as PNG bytes (a 1-D uint8 tensor)."""
    if not 0 <= compression_level <= 9:
        raise RuntimeError("Compression level should be between 0 and 9")
    return _encode(_image_array(input), "PNG", compress_level=int(compression_level))


def encode_jpeg(input, quality=75):
    """Encodes a uint8 (C, H, W) tensor of 1 or 3 channels (or a list of them) as JPEG bytes."""
    if quality < 1 or quality > 100:
        raise ValueError("Image quality should be a positive number between 1 and 100")
    if isinstance(input, list):
        if not input:
            raise ValueError("encode_jpeg requires at least one input tensor when a list is passed")
        return [encode_jpeg(image, quality) for image in input]
    return _encode(_image_array(input), "JPEG", quality=int(quality))


def write_png(input, filename, compression_level=6):
    """Encodes a uint8 (C, H, W) tensor as PNG and writes it to ``filename``."""
    write_file(filename, encode_png(input, compression_level))


def write_jpeg(input, filename, quality=75):
    """Encodes a uint8 (C, H, W) tensor as JPEG and writes it to ``filename``."""
    write_file(filename, encode_jpeg(input, quality))
