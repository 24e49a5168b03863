"""KeyPoints kernels: points move with the same parameters as the image, without clamping (``clamp_keypoints``
and ``sanitize_keypoints`` deal with points that leave the canvas)."""
import numpy

import ember

from ....tv_tensors import KeyPoints, wrap
from . import _geometry as G, _meta, _misc
from ._utils import _register_kernel_internal, is_pure_tensor

__all__ = ["horizontal_flip_keypoints", "vertical_flip_keypoints", "resize_keypoints", "crop_keypoints",
           "center_crop_keypoints", "resized_crop_keypoints", "pad_keypoints", "affine_keypoints", "rotate_keypoints",
           "perspective_keypoints", "elastic_keypoints", "get_size_keypoints", "clamp_keypoints",
           "sanitize_keypoints"]


def _float(points):
    return points if points.is_floating_point() else points.float()


def horizontal_flip_keypoints(keypoints, canvas_size):
    """Points flipped left to right: x becomes W - 1 - x (pixel indices)."""
    x, y = keypoints.unbind(-1)
    return ember.stack([canvas_size[1] - 1 - x, y], dim=-1)


def vertical_flip_keypoints(keypoints, canvas_size):
    """Points flipped upside down: y becomes H - 1 - y."""
    x, y = keypoints.unbind(-1)
    return ember.stack([x, canvas_size[0] - 1 - y], dim=-1)


def resize_keypoints(keypoints, size, canvas_size, max_size=None):
    """(points, canvas_size) scaled with the canvas."""
    height, width = G._output_size(canvas_size, size, max_size)
    if (height, width) == tuple(canvas_size):
        return keypoints, canvas_size
    ratios = ember.tensor([width / canvas_size[1], height / canvas_size[0]], device=keypoints.device)
    return keypoints.mul(ratios).to(keypoints.dtype), (height, width)


def crop_keypoints(keypoints, top, left, height, width):
    """(points, canvas_size) relative to the window at (top, left)."""
    return keypoints - ember.tensor([left, top], dtype=keypoints.dtype, device=keypoints.device), (height, width)


def center_crop_keypoints(inpt, canvas_size, output_size):
    """(points, canvas_size) relative to the central window."""
    return crop_keypoints(inpt, *G._center_crop_anchor(output_size, canvas_size))


def resized_crop_keypoints(keypoints, top, left, height, width, size):
    """(points, canvas_size) after a crop and a resize."""
    keypoints, canvas_size = crop_keypoints(keypoints, top, left, height, width)
    return resize_keypoints(keypoints, size=size, canvas_size=canvas_size)


def pad_keypoints(keypoints, canvas_size, padding, padding_mode="constant"):
    """(points, canvas_size) on the padded canvas."""
    if padding_mode != "constant":
        raise ValueError(f"Padding mode '{padding_mode}' is not supported with KeyPoints (supported modes are "
                         "constant)")
    left, top, right, bottom = G._ltrb(padding)
    return (keypoints + ember.tensor([left, top], dtype=keypoints.dtype, device=keypoints.device),
            (canvas_size[0] + top + bottom, canvas_size[1] + left + right))


def _mapped(map_points, keypoints, canvas_size, *args, **kwargs):
    if keypoints.numel() == 0:
        return keypoints, canvas_size
    points, canvas_size = map_points(_float(keypoints).reshape(-1, 2), canvas_size, *args, **kwargs)
    return points.reshape(keypoints.shape).to(keypoints.dtype), canvas_size


def affine_keypoints(keypoints, canvas_size, angle, translate, scale, shear, center=None):
    """(points, canvas_size) through the affine map."""
    return _mapped(G._affine_points, keypoints, canvas_size, angle, translate, scale, shear, center=center)


def rotate_keypoints(keypoints, canvas_size, angle, expand=False, center=None):
    """(points, canvas_size) rotated counter-clockwise (the canvas grows with ``expand``)."""
    return _mapped(G._affine_points, keypoints, canvas_size, -angle, [0.0, 0.0], 1.0, [0.0, 0.0], center=center,
                   expand=expand)


def perspective_keypoints(keypoints, canvas_size, startpoints, endpoints, coefficients=None):
    """Points through the perspective warp."""
    return _mapped(G._perspective_points, keypoints, canvas_size, startpoints, endpoints, coefficients)[0]


def elastic_keypoints(keypoints, canvas_size, displacement):
    """Each point moved by the inverse displacement found at its (truncated) pixel."""
    height, width = canvas_size
    shift = G._check_displacement(displacement, height, width).astype(numpy.float64)
    if keypoints.numel() == 0:
        return keypoints
    points = keypoints.reshape(-1, 2).detach().cpu().numpy()
    ix = numpy.clip(points[:, 0].astype(numpy.int64), 0, width - 1)
    iy = numpy.clip(points[:, 1].astype(numpy.int64), 0, height - 1)
    gx, gy = G._identity_grid(height, width, numpy.float64)
    moved = numpy.stack([(gx - shift[..., 0])[iy, ix], (gy - shift[..., 1])[iy, ix]], axis=-1)
    moved = (moved + 1) * 0.5 * numpy.asarray([width, height]) - 0.5
    dtype = keypoints.dtype if keypoints.is_floating_point() else ember.float32
    return ember.tensor(moved, dtype=dtype, device=keypoints.device).to(keypoints.dtype).reshape(keypoints.shape)


def get_size_keypoints(keypoints):
    """[height, width] of the points' canvas."""
    return list(keypoints.canvas_size)


def _clamp_keypoints(keypoints, canvas_size):
    x, y = _float(keypoints).unbind(-1)
    return ember.stack([x.clamp(0, canvas_size[1] - 1), y.clamp(0, canvas_size[0] - 1)], dim=-1).to(keypoints.dtype)


def clamp_keypoints(inpt, canvas_size=None):
    """Points clamped to the canvas' pixel indices ([0, W - 1] x [0, H - 1])."""
    if is_pure_tensor(inpt):
        if canvas_size is None:
            raise ValueError("For pure tensor inputs, `canvas_size` has to be passed.")
        return _clamp_keypoints(inpt, canvas_size)
    if isinstance(inpt, KeyPoints):
        if canvas_size is not None:
            raise ValueError("For keypoints tv_tensor inputs, `canvas_size` must not be passed.")
        return wrap(_clamp_keypoints(inpt.as_subclass(ember.Tensor), inpt.canvas_size), like=inpt)
    raise TypeError(f"Input can either be a plain tensor or a keypoints tv_tensor, but got {type(inpt)} instead.")


def _valid_keypoints(keypoints, canvas_size):
    """Points (or groups of points along the first dimension) lying inside the canvas."""
    height, width = canvas_size
    x, y = keypoints[..., 0], keypoints[..., 1]
    valid = (x >= 0) & (x < width) & (y >= 0) & (y < height)
    return valid.flatten(start_dim=1).all(dim=1) if valid.ndim > 1 else valid


def sanitize_keypoints(key_points, canvas_size=None):
    """(points, valid): the points (or groups) inside the canvas, and the boolean mask choosing them."""
    if is_pure_tensor(key_points):
        if canvas_size is None:
            raise ValueError("canvas_size cannot be None if key_points is a pure tensor. Set it to an appropriate "
                             "value or pass key_points as a tv_tensors.KeyPoints object.")
        valid = _valid_keypoints(key_points, canvas_size)
        return key_points[valid], valid
    if not isinstance(key_points, KeyPoints):
        raise ValueError("key_points must be a tv_tensors.KeyPoints instance or a pure tensor.")
    if canvas_size is not None:
        raise ValueError("canvas_size must be None when key_points is a tv_tensors.KeyPoints instance. Got "
                         f"canvas_size={canvas_size}. Leave it to None or pass key_points as a pure tensor.")
    plain = key_points.as_subclass(ember.Tensor)
    valid = _valid_keypoints(plain, key_points.canvas_size)
    return wrap(plain[valid], like=key_points), valid


def _register(functional, kernel):
    """Registers ``kernel(points, canvas_size, *args, **kwargs) -> (points, canvas_size)`` for KeyPoints; the
    image-only arguments (interpolation, fill, antialias) are dropped."""
    def dispatch(inpt, *args, interpolation=None, fill=None, antialias=None, **kwargs):
        points, canvas_size = kernel(inpt.as_subclass(ember.Tensor), inpt.canvas_size, *args, **kwargs)
        return wrap(points, like=inpt, canvas_size=canvas_size)
    _register_kernel_internal(functional, KeyPoints, tv_tensor_wrapper=False)(dispatch)


_register(G.horizontal_flip, lambda p, c: (horizontal_flip_keypoints(p, c), c))
_register(G.vertical_flip, lambda p, c: (vertical_flip_keypoints(p, c), c))
_register(G.resize, lambda p, c, size, max_size=None: resize_keypoints(p, size, c, max_size))
_register(G.crop, lambda p, c, top, left, height, width: crop_keypoints(p, top, left, height, width))
_register(G.center_crop, lambda p, c, output_size: center_crop_keypoints(p, c, output_size))
_register(G.resized_crop, lambda p, c, top, left, height, width, size:
          resized_crop_keypoints(p, top, left, height, width, size))
_register(G.pad, lambda p, c, padding, padding_mode="constant": pad_keypoints(p, c, padding, padding_mode))
_register(G.affine, lambda p, c, angle, translate, scale, shear, center=None:
          affine_keypoints(p, c, angle, translate, scale, shear, center))
_register(G.rotate, lambda p, c, angle, expand=False, center=None: rotate_keypoints(p, c, angle, expand, center))
_register(G.perspective, lambda p, c, startpoints, endpoints, coefficients=None:
          (perspective_keypoints(p, c, startpoints, endpoints, coefficients), c))
_register(G.elastic, lambda p, c, displacement: (elastic_keypoints(p, c, displacement), c))
_register_kernel_internal(_meta.get_size, KeyPoints, tv_tensor_wrapper=False)(get_size_keypoints)
_register_kernel_internal(_misc.to_dtype, KeyPoints, tv_tensor_wrapper=False)(
    lambda points, dtype=ember.float32, scale=False: points.to(dtype))
