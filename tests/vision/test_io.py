"""ember.vision.io against Pillow and NumPy (torchvision's image ops need its CUDA build here) and torchvision's
documented behaviour: (C, H, W) uint8 layout, ImageReadMode conversions, 16-bit PNGs, EXIF orientation, errors."""
import io
import sys

import numpy
import pytest
from PIL import Image

import ember
from ember.vision import io as vio
from tests.vision import tv_oracle

rng = numpy.random.default_rng(0)


def _bytes_tensor(data):
    return ember.tensor(list(data), dtype=ember.uint8)


def _pil_bytes(image, format, **options):
    buffer = io.BytesIO()
    image.save(buffer, format=format, **options)
    return buffer.getvalue()


def _chw(array):
    array = array[:, :, None] if array.ndim == 2 else array
    return array.transpose(2, 0, 1)


RGBA = rng.integers(0, 256, (5, 7, 4), dtype=numpy.uint8)
STORED = {"L": Image.fromarray(RGBA[:, :, 0]),
          "LA": Image.merge("LA", [Image.fromarray(RGBA[:, :, 0]), Image.fromarray(RGBA[:, :, 3])]),
          "RGB": Image.fromarray(RGBA[:, :, :3].copy()), "RGBA": Image.fromarray(RGBA),
          "P": Image.fromarray(RGBA[:, :, :3].copy()).quantize(16), "1": Image.fromarray(RGBA[:, :, 0] > 127)}
CHANNELS = {"L": 1, "LA": 2, "RGB": 3, "RGBA": 4, "P": 3, "1": 1}


@pytest.mark.parametrize("stored", list(STORED))
def test_decode_png_unchanged_keeps_channels_and_modes_convert_as_pillow(stored):
    image = STORED[stored]
    data = _bytes_tensor(_pil_bytes(image, "PNG"))
    unchanged = vio.decode_png(data)
    assert unchanged.dtype == ember.uint8 and unchanged.shape[0] == CHANNELS[stored]
    expected = {"L": "L", "LA": "LA", "RGB": "RGB", "RGBA": "RGBA", "P": "RGB", "1": "L"}[stored]
    numpy.testing.assert_array_equal(unchanged.numpy(), _chw(numpy.asarray(image.convert(expected))))
    for mode, pil_mode in [("GRAY", "L"), ("GRAY_ALPHA", "LA"), ("RGB", "RGB"), ("RGB_ALPHA", "RGBA")]:
        for spelled in (getattr(vio.ImageReadMode, mode), mode.lower()):
            decoded = vio.decode_png(data, mode=spelled)
            numpy.testing.assert_array_equal(decoded.numpy(), _chw(numpy.asarray(image.convert(pil_mode))))
    assert vio.decode_image(data, vio.ImageReadMode.RGBA).shape == (4, 5, 7)


def test_palette_with_transparency_decodes_to_rgba_and_16_bit_png_to_uint16():
    palette = STORED["P"].copy()
    palette.info["transparency"] = 0
    data = _bytes_tensor(_pil_bytes(palette, "PNG", transparency=0))
    assert vio.decode_png(data).shape == (4, 5, 7)
    deep = (rng.integers(0, 65536, (4, 6))).astype(numpy.uint16)
    decoded = vio.decode_png(_bytes_tensor(_pil_bytes(Image.fromarray(deep), "PNG")))
    assert decoded.dtype == ember.uint16 and decoded.shape == (1, 4, 6)
    numpy.testing.assert_array_equal(decoded.numpy()[0], deep)


@pytest.mark.parametrize("channels", [1, 3])
def test_encode_png_round_trips_and_is_a_png_pillow_reads(channels, tmp_path):
    image = ember.from_numpy(RGBA[:, :, :channels].transpose(2, 0, 1).copy())
    for level in (0, 6, 9):
        data = vio.encode_png(image, compression_level=level)
        assert data.dtype == ember.uint8 and data.ndim == 1
        numpy.testing.assert_array_equal(_chw(numpy.asarray(Image.open(io.BytesIO(data.numpy().tobytes())))),
                                          image.numpy())
    assert vio.encode_png(image, 9).numel() <= vio.encode_png(image, 0).numel()
    path = tmp_path / "x.png"
    vio.write_png(image, str(path))
    numpy.testing.assert_array_equal(vio.read_image(path).numpy(), image.numpy())
    numpy.testing.assert_array_equal(vio.decode_image(str(path)).numpy(), image.numpy())


@pytest.mark.parametrize("channels", [1, 3])
def test_jpeg_encoding_and_decoding_match_pillows_libjpeg(channels, tmp_path):
    array = RGBA[:, :, :channels].copy()
    image = ember.from_numpy(array.transpose(2, 0, 1).copy())
    pil = Image.fromarray(array[:, :, 0] if channels == 1 else array)
    for quality in (10, 75, 100):
        data = vio.encode_jpeg(image, quality=quality)
        assert data.numpy().tobytes() == _pil_bytes(pil, "JPEG", quality=quality)
    decoded = vio.decode_jpeg(data)
    numpy.testing.assert_array_equal(decoded.numpy(), _chw(numpy.asarray(Image.open(io.BytesIO(bytes(data.numpy()))))))
    assert vio.decode_jpeg(data, mode="RGB").shape == (3, 5, 7)
    gray = Image.open(io.BytesIO(bytes(data.numpy())))
    gray.draft("L", gray.size)   # libjpeg decodes the luma channel alone, as torchvision's GRAY does
    numpy.testing.assert_array_equal(vio.decode_jpeg(data, mode=vio.ImageReadMode.GRAY).numpy()[0], numpy.asarray(gray))
    pair = vio.decode_jpeg([data, data])
    assert isinstance(pair, list) and len(pair) == 2
    assert [t.shape for t in vio.encode_jpeg([image, image], quality=100)] == [data.shape, data.shape]
    path = tmp_path / "x.jpg"
    vio.write_jpeg(image, path, quality=100)
    numpy.testing.assert_array_equal(vio.read_file(path).numpy(), vio.encode_jpeg(image, 100).numpy())
    assert vio.read_image(path, vio.ImageReadMode.RGB).shape == (3, 5, 7)


def test_exif_orientation_is_applied_only_when_asked():
    pil = Image.fromarray(RGBA[:, :, :3].copy())
    exif = Image.Exif()
    exif[0x0112] = 6   # rotate 90 degrees clockwise to display
    data = _bytes_tensor(_pil_bytes(pil, "JPEG", exif=exif.tobytes()))
    assert vio.decode_jpeg(data).shape == (3, 5, 7)
    assert vio.decode_image(data, apply_exif_orientation=True).shape == (3, 7, 5)
    data = _bytes_tensor(_pil_bytes(pil, "PNG", exif=exif.tobytes()))
    assert vio.decode_png(data, apply_exif_orientation=True).shape == (3, 7, 5)


def test_gif_frames_and_webp():
    frames = [Image.fromarray(RGBA[:, :, :3].copy()).quantize(8), Image.fromarray(RGBA[:, :, 1:].copy()).quantize(8)]
    data = _bytes_tensor(_pil_bytes(frames[0], "GIF", save_all=True, append_images=frames[1:]))
    decoded = vio.decode_image(data)
    assert decoded.shape == (2, 3, 5, 7) and decoded.dtype == ember.uint8
    reference = Image.open(io.BytesIO(bytes(data.numpy())))
    reference.seek(1)
    numpy.testing.assert_array_equal(decoded[1].numpy(), _chw(numpy.asarray(reference.convert("RGB"))))
    assert vio.decode_gif(_bytes_tensor(_pil_bytes(frames[0], "GIF"))).shape == (3, 5, 7)
    webp = _bytes_tensor(_pil_bytes(Image.fromarray(RGBA), "WEBP", lossless=True, exact=True))
    numpy.testing.assert_array_equal(vio.decode_image(webp).numpy(), _chw(RGBA))
    assert vio.decode_webp(webp, mode="RGB").shape == (3, 5, 7)


def test_errors_are_torchvisions():
    image = ember.zeros(3, 4, 4, dtype=ember.uint8)
    with pytest.raises(RuntimeError, match="Input tensor dtype should be uint8"):
        vio.encode_png(ember.zeros(3, 4, 4))
    with pytest.raises(RuntimeError, match="Compression level should be between 0 and 9"):
        vio.encode_png(image, compression_level=10)
    with pytest.raises(RuntimeError, match="The number of channels should be 1 or 3, got: 5"):
        vio.encode_png(ember.zeros(5, 4, 4, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="Input data should be a 3-dimensional tensor"):
        vio.encode_jpeg(ember.zeros(4, 4, dtype=ember.uint8))
    with pytest.raises(ValueError, match="Image quality should be a positive number between 1 and 100"):
        vio.encode_jpeg(image, quality=0)
    with pytest.raises(RuntimeError, match="Expected a torch.uint8 tensor"):
        vio.decode_image(ember.zeros(10, dtype=ember.int64))
    with pytest.raises(RuntimeError, match="Expected a non empty 1-dimensional tensor"):
        vio.decode_png(ember.zeros(0, dtype=ember.uint8))
    with pytest.raises(RuntimeError, match="Unsupported image file. Only jpeg, png, webp and gif"):
        vio.decode_image(_bytes_tensor(b"BM not an image at all"))
    with pytest.raises(RuntimeError, match="Not a JPEG file: starts with 0x89 0x50"):
        vio.decode_jpeg(vio.encode_png(image))
    with pytest.raises(RuntimeError, match="Content is not png"):
        vio.decode_png(vio.encode_jpeg(image))
    with pytest.raises(ValueError, match="at least one element"):
        vio.decode_jpeg([])
    with pytest.raises(KeyError):
        vio.decode_png(vio.encode_png(image), mode="CMYK")


def test_names_and_modes_are_torchvisions():
    tv = tv_oracle.load()
    import torchvision.io as tio
    assert [(m.name, m.value) for m in vio.ImageReadMode] == [(m.name, m.value) for m in tio.ImageReadMode]
    assert vio.ImageReadMode.RGBA is vio.ImageReadMode.RGB_ALPHA
    missing = set(tio.__all__) - set(vio.__all__) - {"decode_avif", "decode_heic"}
    assert missing == set() and tv is not None


def test_clear_error_without_pillow(monkeypatch):
    monkeypatch.setitem(sys.modules, "PIL", None)
    with pytest.raises(ImportError, match="needs Pillow"):
        vio.encode_png(ember.zeros(1, 2, 2, dtype=ember.uint8))
