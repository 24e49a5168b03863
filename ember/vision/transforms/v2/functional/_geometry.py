"""Geometric functionals: each moves images (through v1's kernels), masks (nearest) and boxes alike."""
import platform

import numpy

import ember

from ....tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, Mask, Video
from ....utils import _pil_image
from ... import _functional_pil as F_pil, _functional_tensor as F_t, functional as F1
from ...functional import InterpolationMode, _interpolation_mode
from ._meta import _check_unrotated, _clamp_bounding_boxes, _from_xyxy, _to_xyxy
from ._utils import PIL_IMAGE, _dispatch, _register_kernel_internal

__all__ = ["horizontal_flip", "hflip", "vertical_flip", "vflip", "resize", "crop", "center_crop", "resized_crop",
           "pad", "affine", "rotate", "perspective", "elastic", "elastic_transform", "five_crop", "ten_crop"]


def _check_interpolation(interpolation):
    """An InterpolationMode from one, its name ("bilinear") or a Pillow constant."""
    if isinstance(interpolation, InterpolationMode):
        return interpolation
    if isinstance(interpolation, str):
        return InterpolationMode(interpolation.lower())
    if isinstance(interpolation, int):
        return _interpolation_mode(interpolation)
    raise ValueError("Argument interpolation should be an `InterpolationMode` or a corresponding Pillow integer "
                     f"constant, but got {interpolation}.")


def _register(functional, image=None, mask=None, boxes=None):
    """Registers ``image`` for pure tensors, Image, Video and PIL images, ``mask`` for Mask and ``boxes`` for
    BoundingBoxes."""
    if image is not None:
        for cls in (ember.Tensor, Image, Video, PIL_IMAGE):
            _register_kernel_internal(functional, cls)(image)
    if mask is not None:
        _register_kernel_internal(functional, Mask)(mask)
    if boxes is not None:
        _register_kernel_internal(functional, BoundingBoxes)(boxes)


def _on_mask(kernel):
    """A mask kernel from an image one: masks ``[H, W]`` gain a channel dimension for it."""
    def mask_kernel(mask, *args, **kwargs):
        if mask.ndim < 3:
            return kernel(mask.unsqueeze(0), *args, **kwargs).squeeze(0)
        return kernel(mask, *args, **kwargs)
    return mask_kernel


def _corners_box_kernel(map_points, corners_in_own_dtype=False):
    """A box kernel that maps each XYXY box's four corners with ``map_points(points, canvas_size)`` (float (N, 2)
    points, returning them and the new canvas size) and takes their enclosing box, clamped. Integer boxes become
    float before their conversion to XYXY, or after it with ``corners_in_own_dtype`` (torchvision's kernels differ
    in this)."""
    def kernel(boxes, format, canvas_size, *args, clamping_mode="soft", **kwargs):
        _check_unrotated(format)
        if boxes.numel() == 0:
            return boxes, canvas_size
        if corners_in_own_dtype:
            xyxy = _to_xyxy(boxes, format).reshape(-1, 4)
            xyxy = xyxy if xyxy.is_floating_point() else xyxy.float()
        else:
            xyxy = _to_xyxy(boxes if boxes.is_floating_point() else boxes.float(), format).reshape(-1, 4)
        points = xyxy[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 2)
        points, canvas_size = map_points(points, canvas_size, *args, **kwargs)
        points = points.reshape(-1, 4, 2)
        out = ember.cat([points.amin(dim=1), points.amax(dim=1)], dim=1)
        out = _clamp_bounding_boxes(out, BoundingBoxFormat.XYXY, canvas_size, clamping_mode)
        return _from_xyxy(out, format).reshape(boxes.shape).to(boxes.dtype), canvas_size
    return kernel


# --- flips ---------------------------------------------------------------------------------------------------------
def _flip_boxes(axis):
    def kernel(boxes, format, canvas_size, clamping_mode="soft"):
        _check_unrotated(format)
        size = canvas_size[1 - axis]
        parts = list(boxes.unbind(-1))
        if format is BoundingBoxFormat.XYXY:
            parts[axis], parts[axis + 2] = size - parts[axis + 2], size - parts[axis]
        elif format is BoundingBoxFormat.XYWH:
            parts[axis] = size - (parts[axis] + parts[axis + 2])
        else:
            parts[axis] = size - parts[axis]
        return ember.stack(parts, dim=-1), canvas_size
    return kernel


def horizontal_flip(inpt):
    """Flips left to right."""
    return _dispatch(horizontal_flip, inpt)


def vertical_flip(inpt):
    """Flips upside down."""
    return _dispatch(vertical_flip, inpt)


hflip, vflip = horizontal_flip, vertical_flip
_register(horizontal_flip, F1.hflip, F1.hflip, _flip_boxes(0))
_register(vertical_flip, F1.vflip, F1.vflip, _flip_boxes(1))


# --- resize --------------------------------------------------------------------------------------------------------
def _output_size(canvas_size, size, max_size):
    """[height, width] after resizing; v2 also takes ``size=None`` with ``max_size`` bounding the longer edge."""
    if isinstance(size, int):
        size = [size]
    elif size is not None and max_size is not None and len(size) != 1:
        raise ValueError("max_size should only be passed if size is None or specifies the length of the smaller "
                         "edge, i.e. size should be an int or a sequence of length 1 in torchscript mode.")
    if size is None:
        if not isinstance(max_size, int):
            raise ValueError(f"max_size must be an integer when size is None, but got {max_size} instead.")
        h, w = canvas_size
        short, long = (w, h) if w <= h else (h, w)
        new_short = int(max_size * short / long)
        return [max_size, new_short] if w <= h else [new_short, max_size]
    return F1._compute_resized_output_size(tuple(canvas_size), list(size), max_size)


def _native_uint8_resize(image, interpolation):
    """Whether torchvision 0.28's v2 resizes this uint8 CPU image without a float round trip: bicubic, and bilinear
    where PyTorch's fixed-point kernel is vectorised (AVX2, AVX-512, ARM)."""
    if not (isinstance(image, ember.Tensor) and image.dtype == ember.uint8 and image.device.type == "cpu"):
        return False
    if interpolation is InterpolationMode.BILINEAR:
        return (ember.backends.cpu.get_cpu_capability() in ("AVX2", "AVX512")
                or platform.machine() in ("aarch64", "arm64"))
    return interpolation in (InterpolationMode.BICUBIC, InterpolationMode.LANCZOS)


def _resize_lanczos(images, size, native):
    """torchvision's v2 lanczos resize of (N, C, H, W) tensors: floats and native uint8 as they are, other dtypes
    through float32 (clamped for uint8, rounded for integers)."""
    direct = native or images.dtype in (ember.float32, ember.float64)
    resized = ember.nn.functional.interpolate(images if direct else images.float(), size=list(size), mode="lanczos",
                                              antialias=True)
    if direct:
        return resized
    if images.dtype == ember.uint8:
        resized = resized.clamp_(min=0, max=255)
    if not images.dtype.is_floating_point:
        resized = resized.round_()
    return resized.to(images.dtype)


def resize_image(image, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """v1's resize, to the v2 output size, of images folded to (N, C, H, W) as torchvision's v2 does; uint8 images
    resampled in PyTorch's fixed point where torchvision's v2 hands them to interpolate as they are."""
    interpolation = _interpolation_mode(interpolation)
    if isinstance(image, ember.Tensor) and interpolation is InterpolationMode.LANCZOS and not antialias:
        raise ValueError("InterpolationMode.LANCZOS requires antialias=True")
    size = _output_size(F1.get_dimensions(image)[1:], size, max_size)
    if not isinstance(image, ember.Tensor) or image.ndim < 3 or image.numel() == 0:
        return F1.resize(image, size, interpolation, antialias=antialias)
    channels, height, width = image.shape[-3:]
    folded = image.reshape(-1, channels, height, width)
    if [height, width] == list(size):
        return image
    if interpolation is InterpolationMode.LANCZOS:
        resized = _resize_lanczos(folded, size, _native_uint8_resize(image, interpolation))
    elif _native_uint8_resize(image, interpolation):
        resized = ember.nn.functional.interpolate(folded, size=list(size), mode=interpolation.value,
                                                  align_corners=False, antialias=bool(antialias))
    else:
        resized = F1.resize(folded, size, interpolation, antialias=antialias)
    return resized.reshape(image.shape[:-3] + resized.shape[-3:])


def resize_mask(mask, size, interpolation=InterpolationMode.NEAREST, max_size=None, antialias=True):
    """Resizes a mask with nearest (or nearest-exact) interpolation whatever is asked."""
    interpolation = _interpolation_mode(interpolation)
    if interpolation is not InterpolationMode.NEAREST_EXACT:
        interpolation = InterpolationMode.NEAREST
    return _on_mask(resize_image)(mask, size, interpolation, max_size)


def _resize_boxes(boxes, format, canvas_size, size, interpolation=None, max_size=None, antialias=True,
                  clamping_mode="soft"):
    _check_unrotated(format)
    height, width = _output_size(canvas_size, size, max_size)
    if (height, width) == tuple(canvas_size):
        return boxes, canvas_size
    ratios = ember.tensor([width / canvas_size[1], height / canvas_size[0]] * 2, device=boxes.device)
    return boxes.mul(ratios).to(boxes.dtype), (height, width)


def resize(inpt, size, interpolation=InterpolationMode.BILINEAR, max_size=None, antialias=True):
    """Resizes to ``size`` (h, w), or the shorter edge to ``size`` (an int), or the longer to ``max_size``."""
    interpolation = _check_interpolation(interpolation)
    return _dispatch(resize, inpt, size, interpolation=interpolation, max_size=max_size, antialias=antialias)


_register(resize, resize_image, resize_mask, _resize_boxes)


# --- crops and pads ------------------------------------------------------------------------------------------------
def _crop_boxes(boxes, format, canvas_size, top, left, height, width, clamping_mode="soft"):
    _check_unrotated(format)
    shift = [left, top, left, top] if format is BoundingBoxFormat.XYXY else [left, top, 0, 0]
    boxes = boxes - ember.tensor(shift, dtype=boxes.dtype, device=boxes.device)
    return _clamp_bounding_boxes(boxes, format, (height, width), clamping_mode), (height, width)


def crop(inpt, top, left, height, width):
    """The ``height`` x ``width`` window at (top, left); outside the input is zero."""
    return _dispatch(crop, inpt, top, left, height, width)


_register(crop, F1.crop, _on_mask(F1.crop), _crop_boxes)


def _center_crop_anchor(output_size, canvas_size):
    crop_height, crop_width = F1._pair(output_size)
    return (int(round((canvas_size[0] - crop_height) / 2.0)), int(round((canvas_size[1] - crop_width) / 2.0)),
            crop_height, crop_width)


def _center_crop_boxes(boxes, format, canvas_size, output_size, clamping_mode="soft"):
    return _crop_boxes(boxes, format, canvas_size, *_center_crop_anchor(output_size, canvas_size),
                       clamping_mode=clamping_mode)


def center_crop(inpt, output_size):
    """The central ``output_size`` window, zero-padding inputs that are smaller."""
    return _dispatch(center_crop, inpt, output_size)


_register(center_crop, F1.center_crop, _on_mask(F1.center_crop), _center_crop_boxes)


def _resized_crop_image(image, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR,
                        antialias=True):
    return resize_image(F1.crop(image, top, left, height, width), size, interpolation, antialias=antialias)


def _resized_crop_mask(mask, top, left, height, width, size, interpolation=None, antialias=True):
    return resize_mask(_on_mask(F1.crop)(mask, top, left, height, width), size)


def _resized_crop_boxes(boxes, format, canvas_size, top, left, height, width, size, interpolation=None,
                        antialias=True, clamping_mode="soft"):
    boxes, canvas_size = _crop_boxes(boxes, format, canvas_size, top, left, height, width, clamping_mode)
    return _resize_boxes(boxes, format, canvas_size, size)


def resized_crop(inpt, top, left, height, width, size, interpolation=InterpolationMode.BILINEAR, antialias=True):
    """Crops, then resizes to ``size``."""
    interpolation = _check_interpolation(interpolation)
    return _dispatch(resized_crop, inpt, top, left, height, width, size, interpolation=interpolation,
                     antialias=antialias)


_register(resized_crop, _resized_crop_image, _resized_crop_mask, _resized_crop_boxes)


def _ltrb(padding):
    if isinstance(padding, int):
        return [padding] * 4
    padding = list(padding)
    if len(padding) == 1:
        return padding * 4
    if len(padding) == 2:
        return [padding[0], padding[1], padding[0], padding[1]]
    if len(padding) == 4:
        return padding
    raise ValueError(f"Padding must be an int or a 1, 2, or 4 element tuple, not a {len(padding)} element tuple")


def _pad_image(image, padding, fill=None, padding_mode="constant"):
    return F1.pad(image, padding, 0 if fill is None else fill, padding_mode)


def _pad_boxes(boxes, format, canvas_size, padding, fill=None, padding_mode="constant", clamping_mode="soft"):
    if padding_mode != "constant":
        raise ValueError(f"Padding mode '{padding_mode}' is not supported with bounding boxes")
    _check_unrotated(format)
    left, top, right, bottom = _ltrb(padding)
    shift = [left, top, left, top] if format is BoundingBoxFormat.XYXY else [left, top, 0, 0]
    boxes = boxes + ember.tensor(shift, dtype=boxes.dtype, device=boxes.device)
    canvas_size = (canvas_size[0] + top + bottom, canvas_size[1] + left + right)
    return _clamp_bounding_boxes(boxes, format, canvas_size, clamping_mode), canvas_size


def pad(inpt, padding, fill=None, padding_mode="constant"):
    """Pads each border: ``padding`` is an int, (left/right, top/bottom) or (left, top, right, bottom)."""
    return _dispatch(pad, inpt, padding, fill=fill, padding_mode=padding_mode)


_register(pad, _pad_image, _on_mask(_pad_image), _pad_boxes)


def five_crop(inpt, size):
    """The four corner crops and the center crop of an image or video."""
    return _dispatch(five_crop, inpt, size)


def ten_crop(inpt, size, vertical_flip=False):
    """``five_crop`` of the input and of its flip."""
    return _dispatch(ten_crop, inpt, size, vertical_flip=vertical_flip)


_register(five_crop, F1.five_crop)
_register(ten_crop, F1.ten_crop)


# --- affine and rotate ---------------------------------------------------------------------------------------------
def _affine_points(points, canvas_size, angle, translate, scale, shear, center=None, expand=False):
    height, width = canvas_size
    center = [width * 0.5, height * 0.5] if center is None else list(center)
    shear = F1._shear_pair(shear)
    forward = F1._get_inverse_affine_matrix(center, angle, list(translate), scale, shear, inverted=False)
    matrix = ember.tensor(forward, dtype=points.dtype, device=points.device).reshape(2, 3)
    points = points @ matrix[:, :2].T + matrix[:, 2]
    if expand:
        frame = ember.tensor([[0.0, 0.0], [0.0, height], [width, height], [width, 0.0]], dtype=points.dtype,
                             device=points.device)
        points = points - (frame @ matrix[:, :2].T + matrix[:, 2]).amin(dim=0)
        inverse = F1._get_inverse_affine_matrix(center, angle, list(translate), scale, shear)
        new_width, new_height = F_t._compute_affine_output_size(inverse, width, height)
        canvas_size = (new_height, new_width)
    return points, canvas_size


_affine_boxes_with_expand = _corners_box_kernel(_affine_points)


def _affine_image(image, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None,
                  center=None):
    return F1.affine(image, angle, translate, scale, shear, interpolation=interpolation, fill=fill, center=center)


def _affine_mask(mask, angle, translate, scale, shear, interpolation=None, fill=None, center=None):
    return _on_mask(_affine_image)(mask, angle, translate, scale, shear, InterpolationMode.NEAREST, fill, center)


def _affine_boxes(boxes, format, canvas_size, angle, translate, scale, shear, interpolation=None, fill=None,
                  center=None, clamping_mode="soft"):
    return _affine_boxes_with_expand(boxes, format, canvas_size, angle, translate, scale, shear, center=center,
                                     clamping_mode=clamping_mode)


def affine(inpt, angle, translate, scale, shear, interpolation=InterpolationMode.NEAREST, fill=None, center=None):
    """Rotates (clockwise, degrees), scales and shears about ``center``, then translates by ``translate`` pixels."""
    interpolation = _check_interpolation(interpolation)
    return _dispatch(affine, inpt, angle, translate, scale, shear, interpolation=interpolation, fill=fill,
                     center=center)


_register(affine, _affine_image, _affine_mask, _affine_boxes)


def _rotate_image(image, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    if isinstance(image, ember.Tensor) and center is None:
        # Quarter turns about the center are exact transposes (torchvision v2's fast path); v1's grid sampling would
        # also grow an expanded canvas by a pixel of float error, away from the boxes' canvas.
        turn = angle % 360
        if turn == 0:
            return image.clone()
        if turn == 180 or (turn in (90, 270) and (expand or image.shape[-1] == image.shape[-2])):
            return ember.rot90(image, int(turn) // 90, dims=(-2, -1))
    return F1.rotate(image, angle, interpolation, expand, center, fill)


def _rotate_mask(mask, angle, interpolation=None, expand=False, center=None, fill=None):
    return _on_mask(_rotate_image)(mask, angle, InterpolationMode.NEAREST, expand, center, fill)


def _rotate_boxes(boxes, format, canvas_size, angle, interpolation=None, expand=False, center=None, fill=None,
                  clamping_mode="soft"):
    return _affine_boxes_with_expand(boxes, format, canvas_size, -angle, [0.0, 0.0], 1.0, [0.0, 0.0],
                                     center=center, expand=expand, clamping_mode=clamping_mode)


def rotate(inpt, angle, interpolation=InterpolationMode.NEAREST, expand=False, center=None, fill=None):
    """Rotates counter-clockwise by ``angle`` degrees about ``center``; ``expand`` grows the canvas to hold it."""
    interpolation = _check_interpolation(interpolation)
    return _dispatch(rotate, inpt, angle, interpolation=interpolation, expand=expand, center=center, fill=fill)


_register(rotate, _rotate_image, _rotate_mask, _rotate_boxes)


# --- perspective ---------------------------------------------------------------------------------------------------
def _get_perspective_coeffs(startpoints, endpoints):
    """The 8 coefficients of the homography taking output (``endpoints``) to input (``startpoints``) coordinates,
    solved in float64 and rounded to float32 (as torchvision's)."""
    rows, targets = [], []
    for (x, y), (u, v) in zip(endpoints, startpoints):
        rows += [[x, y, 1, 0, 0, 0, -u * x, -u * y], [0, 0, 0, x, y, 1, -v * x, -v * y]]
        targets += [u, v]
    solution = numpy.linalg.lstsq(numpy.asarray(rows, numpy.float64), numpy.asarray(targets, numpy.float64),
                                  rcond=None)[0]
    return solution.astype(numpy.float32).tolist()


def _perspective_coefficients(startpoints, endpoints, coefficients):
    if coefficients is not None:
        if startpoints is not None and endpoints is not None:
            raise ValueError("The startpoints/endpoints and the coefficients shouldn't be defined concurrently.")
        if len(coefficients) != 8:
            raise ValueError("Argument coefficients should have 8 float values")
        return list(coefficients)
    if startpoints is not None and endpoints is not None:
        return _get_perspective_coeffs(startpoints, endpoints)
    raise ValueError("Either the startpoints/endpoints or the coefficients must have non `None` values.")


def _perspective_image(image, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None,
                       coefficients=None):
    a, b, c, d, e, f, g, h = _perspective_coefficients(startpoints, endpoints, coefficients)
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(image, ember.Tensor):
        return image.transform(image.size, _pil_image().Transform.PERSPECTIVE, [a, b, c, d, e, f, g, h],
                               F1.pil_modes_mapping[interpolation], **F_pil._parse_fill(fill, image))
    if interpolation.value not in ("nearest", "bilinear"):
        raise ValueError(f"Interpolation mode '{interpolation.value}' is unsupported with Tensor input")

    def coordinates(w, height, np_dtype):
        x = numpy.arange(w, dtype=np_dtype)[None, :] + np_dtype(0.5)
        y = numpy.arange(height, dtype=np_dtype)[:, None] + np_dtype(0.5)
        denominator = g * x + h * y + 1
        return (a * x + b * y + c) / denominator - 0.5, (d * x + e * y + f) / denominator - 0.5
    return F_t.sample_at(image, coordinates, interpolation.value, fill)


def _perspective_points(points, canvas_size, startpoints, endpoints, coefficients=None):
    coeffs = _perspective_coefficients(startpoints, endpoints, coefficients)
    if coeffs[0] * coeffs[4] - coeffs[1] * coeffs[3] == 0:
        raise RuntimeError(f"Provided perspective_coeffs {coeffs} can not be inverted to transform bounding boxes.")
    homography = numpy.linalg.inv(numpy.asarray(coeffs + [1.0], numpy.float64).reshape(3, 3))
    homography = ember.tensor((homography / homography[2, 2]).astype(numpy.float32), dtype=points.dtype,
                              device=points.device)
    mapped = points @ homography[:, :2].T + homography[:, 2]
    return mapped[:, :2] / mapped[:, 2:], canvas_size


_perspective_boxes_kernel = _corners_box_kernel(_perspective_points, corners_in_own_dtype=True)


def _perspective_boxes(boxes, format, canvas_size, startpoints, endpoints, interpolation=None, fill=None,
                       coefficients=None, clamping_mode="soft"):
    return _perspective_boxes_kernel(boxes, format, canvas_size, startpoints, endpoints, coefficients=coefficients,
                                     clamping_mode=clamping_mode)


def _perspective_mask(mask, startpoints, endpoints, interpolation=None, fill=None, coefficients=None):
    return _on_mask(_perspective_image)(mask, startpoints, endpoints, InterpolationMode.NEAREST, fill, coefficients)


def perspective(inpt, startpoints, endpoints, interpolation=InterpolationMode.BILINEAR, fill=None,
                coefficients=None):
    """A perspective warp taking ``startpoints`` to ``endpoints`` (or given by its 8 ``coefficients``)."""
    interpolation = _check_interpolation(interpolation)
    return _dispatch(perspective, inpt, startpoints, endpoints, interpolation=interpolation, fill=fill,
                     coefficients=coefficients)


_register(perspective, _perspective_image, _perspective_mask, _perspective_boxes)


# --- elastic -------------------------------------------------------------------------------------------------------
def _check_displacement(displacement, height, width):
    if not isinstance(displacement, ember.Tensor):
        raise TypeError("Argument displacement should be a Tensor")
    if tuple(displacement.shape) != (1, height, width, 2):
        raise ValueError(f"Argument displacement shape should be {(1, height, width, 2)}, "
                         f"but given {tuple(displacement.shape)}")
    return displacement.detach().cpu().numpy()[0]


def _identity_grid(height, width, np_dtype):
    """Normalized (x, y) of each pixel center, as grid_sample(align_corners=False) reads them."""
    xs = numpy.linspace(-1 + 1 / width, 1 - 1 / width, width, dtype=np_dtype)
    ys = numpy.linspace(-1 + 1 / height, 1 - 1 / height, height, dtype=np_dtype)
    return numpy.broadcast_to(xs[None, :], (height, width)), numpy.broadcast_to(ys[:, None], (height, width))


def _elastic_image(image, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    interpolation = _interpolation_mode(interpolation)
    if not isinstance(image, ember.Tensor):   # PIL images go through a tensor, as torchvision's
        return F1.to_pil_image(_elastic_image(F1.pil_to_tensor(image), displacement, interpolation, fill),
                               mode=image.mode)
    height, width = image.shape[-2:]
    shift = _check_displacement(displacement, height, width)

    def coordinates(w, h, np_dtype):
        gx, gy = _identity_grid(h, w, np_dtype)
        gx, gy = gx + shift[..., 0].astype(np_dtype), gy + shift[..., 1].astype(np_dtype)
        return ((gx + 1) * w - 1) / 2, ((gy + 1) * h - 1) / 2
    return F_t.sample_at(image, coordinates, interpolation.value, fill)


def _elastic_mask(mask, displacement, interpolation=None, fill=None):
    return _on_mask(_elastic_image)(mask, displacement, InterpolationMode.NEAREST, fill)


def _elastic_boxes(boxes, format, canvas_size, displacement, interpolation=None, fill=None, clamping_mode="soft"):
    """Each corner moves by the inverse displacement found at its (ceil'd) pixel, as torchvision's."""
    _check_unrotated(format)
    height, width = canvas_size
    shift = _check_displacement(displacement, height, width).astype(numpy.float64)
    if boxes.numel() == 0:
        return boxes, canvas_size
    xyxy = _to_xyxy(boxes, format).reshape(-1, 4)
    points = xyxy[:, [0, 1, 2, 1, 2, 3, 0, 3]].reshape(-1, 2).detach().cpu().numpy().astype(numpy.float64)
    ix = numpy.clip(numpy.ceil(points[:, 0]).astype(numpy.int64), 0, width - 1)
    iy = numpy.clip(numpy.ceil(points[:, 1]).astype(numpy.int64), 0, height - 1)
    gx, gy = _identity_grid(height, width, numpy.float64)
    moved = numpy.stack([(gx - shift[..., 0])[iy, ix], (gy - shift[..., 1])[iy, ix]], axis=-1)
    moved = (moved + 1) * 0.5 * numpy.asarray([width, height]) - 0.5
    moved = ember.tensor(moved.reshape(-1, 4, 2), dtype=boxes.dtype if boxes.is_floating_point() else ember.float32,
                         device=boxes.device)
    out = ember.cat([moved.amin(dim=1), moved.amax(dim=1)], dim=1).to(boxes.dtype)
    out = _clamp_bounding_boxes(out, BoundingBoxFormat.XYXY, canvas_size, clamping_mode)
    return _from_xyxy(out, format).reshape(boxes.shape), canvas_size


def elastic(inpt, displacement, interpolation=InterpolationMode.BILINEAR, fill=None):
    """Moves each pixel by ``displacement`` (1, H, W, 2), in grid_sample's normalized coordinates."""
    interpolation = _check_interpolation(interpolation)
    return _dispatch(elastic, inpt, displacement, interpolation=interpolation, fill=fill)


_register(elastic, _elastic_image, _elastic_mask, _elastic_boxes)
elastic_transform = elastic
