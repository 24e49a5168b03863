"""JPEG round trips, Gaussian noise and temporal subsampling."""
import io as _io

import ember

from ....tv_tensors import Image, Video
from ._utils import PIL_IMAGE, _dispatch, _register_kernel_internal

__all__ = ["jpeg", "gaussian_noise", "uniform_temporal_subsample"]


def jpeg(inpt, quality):
    """The image after a JPEG encode and decode at ``quality`` (1 to 100)."""
    return _dispatch(jpeg, inpt, quality=quality)


def jpeg_image(image, quality):
    """JPEG round trip of each (C, H, W) uint8 image in ``image`` (through ``vision.io``, Pillow's codec)."""
    from ....io import decode_jpeg, encode_jpeg
    batch = image.reshape((-1,) + tuple(image.shape[-3:]))
    if batch.shape[0] == 0:
        return image.clone()
    return ember.stack([decode_jpeg(encode_jpeg(frame, quality=quality)) for frame in batch]).reshape(image.shape)


def _jpeg_image_pil(image, quality):
    from ....utils import _pil_image
    buffer = _io.BytesIO()
    image.save(buffer, format="JPEG", quality=quality)
    return _pil_image().open(buffer).copy()


def gaussian_noise(inpt, mean=0.0, sigma=0.1, clip=True):
    """The image plus normal noise of ``mean`` and ``sigma`` (in [0, 1] units; uint8 images scale them by 255),
    clipped to the valid range with ``clip``."""
    return _dispatch(gaussian_noise, inpt, mean=mean, sigma=sigma, clip=clip)


def gaussian_noise_image(image, mean=0.0, sigma=0.1, clip=True):
    """``gaussian_noise`` of a float or uint8 tensor image."""
    if sigma < 0:
        raise ValueError(f"sigma shouldn't be negative. Got {sigma}")
    if image.is_floating_point():
        out = image + (mean + ember.randn_like(image) * sigma)
        return out.clamp(0, 1) if clip else out
    if image.dtype == ember.uint8:   # noise in int16, as torchvision adds it
        noise = (mean * 255 + ember.randn_like(image, dtype=ember.float32) * (sigma * 255)).to(ember.int16)
        out = image + noise
        return (out.clamp(0, 255) if clip else out).to(ember.uint8)
    raise ValueError(f"Input tensor is expected to be in uint8 or float dtype, got dtype={image.dtype}")


def _gaussian_noise_pil(image, mean=0.0, sigma=0.1, clip=True):
    raise ValueError("Gaussian Noise is not implemented for PIL images.")


def uniform_temporal_subsample(inpt, num_samples):
    """``num_samples`` frames evenly spaced over a video's time dimension (-4)."""
    return _dispatch(uniform_temporal_subsample, inpt, num_samples=num_samples)


def uniform_temporal_subsample_video(video, num_samples):
    """``uniform_temporal_subsample`` of a (..., T, C, H, W) tensor."""
    indices = ember.linspace(0, video.shape[-4] - 1, num_samples, device=video.device).long()
    return ember.index_select(video, -4, indices)


for _cls in (ember.Tensor, Image, Video):
    _register_kernel_internal(jpeg, _cls)(jpeg_image)
    _register_kernel_internal(gaussian_noise, _cls)(gaussian_noise_image)
_register_kernel_internal(jpeg, PIL_IMAGE)(_jpeg_image_pil)
_register_kernel_internal(gaussian_noise, PIL_IMAGE)(_gaussian_noise_pil)
for _cls in (ember.Tensor, Video):
    _register_kernel_internal(uniform_temporal_subsample, _cls)(uniform_temporal_subsample_video)
