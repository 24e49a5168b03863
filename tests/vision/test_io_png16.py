"""16-bit PNGs as torchvision's decode_png reads them (uint16 samples, libpng's mode conversions), on PNGs written
here by a small encoder that uses every row filter and Adam7 interlacing, so Pillow's unfiltering is exercised for
2-, 4-, 6- and 8-byte pixels."""
import io
import struct
import zlib

import numpy
import pytest

import ember
from ember.vision import io as vio

Image = pytest.importorskip("PIL.Image")

_COLOR_TYPES = {1: 0, 2: 4, 3: 2, 4: 6}   # channels -> PNG colour type
_ADAM7 = [(0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2)]


def _chunk(kind, body):
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def _filtered(rows, bpp, first_filter):
    """Scanlines of (n, bytes) uint8 rows, row i filtered with type (first_filter + i) % 5, as the PNG spec defines."""
    out, prior = [], numpy.zeros(rows.shape[1], numpy.int32)
    for i, row in enumerate(rows.astype(numpy.int32)):
        kind = (first_filter + i) % 5
        left = numpy.concatenate([numpy.zeros(bpp, numpy.int32), row[:-bpp]])
        up_left = numpy.concatenate([numpy.zeros(bpp, numpy.int32), prior[:-bpp]])
        p = left + prior - up_left
        pa, pb, pc = numpy.abs(p - left), numpy.abs(p - prior), numpy.abs(p - up_left)
        paeth = numpy.where((pa <= pb) & (pa <= pc), left, numpy.where(pb <= pc, prior, up_left))
        predictor = [0, left, prior, (left + prior) // 2, paeth][kind]
        out.append(bytes([kind]) + ((row - predictor) % 256).astype(numpy.uint8).tobytes())
        prior = row
    return b"".join(out)


def png16(array, interlace=False, orientation=None):
    """PNG bytes of an (H, W, C) uint16 array (C = 1 grey, 2 grey+alpha, 3 RGB, 4 RGBA)."""
    h, w, c = array.shape
    stored = array.astype(">u2")
    passes = [stored[y::dy, x::dx] for x, y, dx, dy in _ADAM7] if interlace else [stored]
    raw = b"".join(_filtered(numpy.ascontiguousarray(p).reshape(p.shape[0], -1).view(numpy.uint8), 2 * c, i)
                   for i, p in enumerate(passes) if p.size)
    header = _chunk(b"IHDR", struct.pack(">IIBBBBB", w, h, 16, _COLOR_TYPES[c], 0, 0, int(interlace)))
    exif = b"" if orientation is None else _chunk(b"eXIf", b"MM\x00\x2a\x00\x00\x00\x08\x00\x01\x01\x12\x00\x03"
                                                  + struct.pack(">IH", 1, orientation) + b"\x00\x00" + bytes(4))
    return b"\x89PNG\r\n\x1a\n" + header + exif + _chunk(b"IDAT", zlib.compress(raw)) + _chunk(b"IEND", b"")


def _tensor(data):
    return ember.from_numpy(numpy.frombuffer(data, numpy.uint8).copy())


def _samples(channels, seed=0, shape=(9, 11)):
    return numpy.random.default_rng(seed).integers(0, 65536, shape + (channels,)).astype(numpy.uint16)


@pytest.mark.parametrize("interlace", [False, True])
@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_16_bit_png_decodes_to_its_uint16_samples(channels, interlace):
    samples = _samples(channels, channels)
    decoded = vio.decode_png(_tensor(png16(samples, interlace)))
    assert decoded.dtype == ember.uint16 and decoded.shape == (channels, 9, 11)
    numpy.testing.assert_array_equal(decoded.numpy(), samples.transpose(2, 0, 1))
    assert vio.decode_image(_tensor(png16(samples, interlace))).dtype == ember.uint16


def _libpng_gray(rgb):
    """libpng's png_set_rgb_to_gray(png, 1, 0.2989, 0.587) on 16-bit samples (no gAMA chunk: linear)."""
    red, green = 29890 * 32768 // 100000, 58700 * 32768 // 100000   # png_fixed, then libpng's truncating scale
    weights = numpy.array([red, green, 32768 - red - green], numpy.uint64)
    return ((rgb.astype(numpy.uint64) @ weights + 16384) >> 15).astype(numpy.uint16)


@pytest.mark.parametrize("channels", [1, 2, 3, 4])
def test_16_bit_png_modes_convert_as_libpng_keeping_16_bits(channels):
    samples = _samples(channels, 10 + channels)
    colour = samples[:, :, :3 if channels >= 3 else 1]
    alpha = samples[:, :, -1] if channels % 2 == 0 else numpy.full(samples.shape[:2], 65535, numpy.uint16)
    grey = colour[:, :, 0] if colour.shape[2] == 1 else _libpng_gray(colour)
    rgb = colour if colour.shape[2] == 3 else numpy.repeat(colour, 3, axis=2)
    expected = {"GRAY": grey[:, :, None], "GRAY_ALPHA": numpy.stack([grey, alpha], 2),
                "RGB": rgb, "RGB_ALPHA": numpy.concatenate([rgb, alpha[:, :, None]], 2), "UNCHANGED": samples}
    data = _tensor(png16(samples))
    for mode, want in expected.items():
        decoded = vio.decode_png(data, mode=getattr(vio.ImageReadMode, mode))
        assert decoded.dtype == ember.uint16, mode
        numpy.testing.assert_array_equal(decoded.numpy(), want.transpose(2, 0, 1), err_msg=mode)


def test_grey_from_equal_rgb_samples_is_that_sample():
    samples = numpy.repeat(_samples(1, 3), 3, axis=2)
    decoded = vio.decode_png(_tensor(png16(samples)), mode=vio.ImageReadMode.GRAY)
    numpy.testing.assert_array_equal(decoded.numpy()[0], samples[:, :, 0])


@pytest.mark.parametrize("orientation", range(1, 9))
def test_16_bit_exif_orientation_turns_as_pillow_turns_the_8_bit_image(orientation):
    samples = _samples(3, orientation, (5, 7))
    high = (samples >> 8).astype(numpy.uint8)
    exif = Image.Exif()
    exif[0x0112] = orientation
    buffer = io.BytesIO()
    Image.fromarray(high).save(buffer, format="PNG", exif=exif)
    expected = vio.decode_png(_tensor(buffer.getvalue()), apply_exif_orientation=True).numpy()
    decoded = vio.decode_png(_tensor(png16(samples, orientation=orientation)), apply_exif_orientation=True).numpy()
    numpy.testing.assert_array_equal((decoded >> 8).astype(numpy.uint8), expected)
    unturned = vio.decode_png(_tensor(png16(samples, orientation=orientation))).numpy()
    numpy.testing.assert_array_equal(unturned, samples.transpose(2, 0, 1))
