"""Image utilities in torchvision's shape: ``make_grid`` tiles a batch into one image, ``save_image`` writes it,
``flow_to_image`` colours an optical flow field, ``draw_bounding_boxes`` and ``draw_segmentation_masks`` draw
detections on an image."""
import functools
import math
import warnings

import numpy

import ember

__all__ = ["make_grid", "save_image", "flow_to_image", "draw_bounding_boxes", "draw_segmentation_masks"]


@functools.lru_cache(maxsize=None)   # a per-sample check (``to_tensor``) asks for it: skip the import machinery
def _pil_image():
    """PIL.Image, imported on first use: Pillow is an optional dependency of ember.vision."""
    try:
        from PIL import Image
    except ImportError as error:
        raise ImportError("ember.vision needs Pillow for PIL images: pip install Pillow") from error
    return Image


def _image_fromarray(array, mode):
    """A PIL image of ``mode`` read from the raw bytes of ``array``.

    Pillow 11.3 deprecated ``Image.fromarray(array, mode)``; ``frombuffer`` keeps its meaning (the bytes are read as
    ``mode``, not converted), which ToPILImage and the MNIST datasets rely on.
    """
    Image = _pil_image()
    array = numpy.ascontiguousarray(array)
    return Image.frombuffer(mode, (array.shape[1], array.shape[0]), array.tobytes(), "raw", mode, 0, 1)


def _check_tensor_list(tensor):
    if ember.is_tensor(tensor):
        return
    if not isinstance(tensor, list):
        raise TypeError(f"tensor or list of tensors expected, got {type(tensor)}")
    for t in tensor:
        if not ember.is_tensor(t):
            raise TypeError(f"tensor or list of tensors expected, got a list containing {type(t)}")


def _as_rgb_batch(tensor):
    """A (B, C, H, W) batch from a list, a 2-D or a 3-D image; one channel is repeated to three."""
    if isinstance(tensor, list):
        tensor = ember.stack(tensor, dim=0)
    if tensor.dim() == 2:
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 3:
        if tensor.size(0) == 1:
            tensor = ember.cat((tensor, tensor, tensor), 0)
        tensor = tensor.unsqueeze(0)
    if tensor.dim() == 4 and tensor.size(1) == 1:
        tensor = ember.cat((tensor, tensor, tensor), 1)
    return tensor


def _normalize_in_place(img, value_range):
    low, high = value_range if value_range is not None else (float(img.min()), float(img.max()))
    img.clamp_(min=low, max=high)
    img.sub_(low).div_(max(high - low, 1e-5))


@ember.no_grad()
def make_grid(tensor, nrow=8, padding=2, normalize=False, value_range=None, scale_each=False, pad_value=0.0):
    """Tiles a (B, C, H, W) batch (or a list of images) into one (C, H', W') image, ``nrow`` images per row."""
    _check_tensor_list(tensor)
    tensor = _as_rgb_batch(tensor)
    if normalize is True:
        tensor = tensor.clone()
        if value_range is not None and not isinstance(value_range, tuple):
            raise TypeError("value_range has to be a tuple (min, max) if specified. min and max are numbers")
        for img in (tensor if scale_each is True else [tensor]):
            _normalize_in_place(img, value_range)
    if tensor.size(0) == 1:
        return tensor.squeeze(0)
    nmaps = tensor.size(0)
    xmaps = min(nrow, nmaps)
    ymaps = int(math.ceil(float(nmaps) / xmaps))
    height, width = int(tensor.size(2) + padding), int(tensor.size(3) + padding)
    grid = tensor.new_full((tensor.size(1), height * ymaps + padding, width * xmaps + padding), pad_value)
    for k in range(nmaps):
        y, x = divmod(k, xmaps)
        cell = grid.narrow(1, y * height + padding, height - padding).narrow(2, x * width + padding, width - padding)
        cell.copy_(tensor[k])
    return grid


@ember.no_grad()
def save_image(tensor, fp, format=None, **kwargs):
    """Saves an image or a batch (tiled by ``make_grid`` with ``kwargs``) to ``fp`` with Pillow; values in [0, 1]."""
    grid = make_grid(tensor, **kwargs)
    # Adding 0.5 after scaling to [0, 255] rounds to the nearest integer.
    array = grid.mul(255).add_(0.5).clamp_(0, 255).permute(1, 2, 0).to("cpu", ember.uint8).numpy()
    _pil_image().fromarray(array).save(fp, format=format)


# Baker et al.'s flow colour wheel ("A Database and Evaluation Methodology for Optical Flow", ICCV 2007): six hue
# segments of (steps, the channel held at 255, the channel ramped, whether it ramps up)
_COLORWHEEL_SEGMENTS = [(15, 0, 1, True), (6, 1, 0, False), (4, 1, 2, True), (11, 2, 1, False), (13, 2, 0, True),
                        (6, 0, 2, False)]


def _make_colorwheel():
    """The 55 x 3 wheel of colours (0-255 floats) that flow directions index."""
    wheel = ember.zeros((sum(seg[0] for seg in _COLORWHEEL_SEGMENTS), 3))
    start = 0
    for steps, held, ramped, up in _COLORWHEEL_SEGMENTS:
        ramp = ember.floor(255 * ember.arange(0, steps) / steps)
        wheel[start:start + steps, held] = 255
        wheel[start:start + steps, ramped] = ramp if up else 255 - ramp
        start += steps
    return wheel


def _normalized_flow_to_image(normalized_flow):
    """``(N, 2, H, W)`` flow of norm at most 1 as uint8 ``(N, 3, H, W)`` images: the direction picks a colour of the
    wheel (interpolated between its two nearest entries), the norm its saturation (0: white)."""
    with ember.no_grad():
        n, _, h, w = normalized_flow.shape
        flow_image = ember.zeros((n, 3, h, w), dtype=ember.uint8, device=normalized_flow.device)
        wheel = _make_colorwheel().to(normalized_flow.device)
        num_cols = wheel.shape[0]
        norm = ember.sum(normalized_flow.pow(2), dim=1).sqrt()
        angle = ember.atan2(-normalized_flow[:, 1, :, :], -normalized_flow[:, 0, :, :]) / ember.pi
        fk = (angle + 1) / 2 * (num_cols - 1)
        k0 = ember.floor(fk).to(ember.long)
        k1 = k0 + 1
        k1[k1 == num_cols] = 0
        f = fk - k0
        for c in range(wheel.shape[1]):
            col0, col1 = wheel[:, c][k0] / 255.0, wheel[:, c][k1] / 255.0
            col = (1 - f) * col0 + f * col1
            flow_image[:, c, :, :] = ember.floor(255 * (1 - norm * (1 - col)))
        return flow_image


def flow_to_image(flow):
    """An optical flow ``(N, 2, H, W)`` or ``(2, H, W)`` (float32) as uint8 RGB images ``(N, 3, H, W)`` or ``(3, H,
    W)``: hue from each vector's direction, saturation from its norm over the largest norm in the batch."""
    if flow.dtype != ember.float:
        raise ValueError(f"Flow should be of dtype torch.float, got {flow.dtype}.")
    orig_shape = flow.shape
    if flow.ndim == 3:
        flow = flow[None]
    if flow.ndim != 4 or flow.shape[1] != 2:
        raise ValueError(f"Input flow should have shape (2, H, W) or (N, 2, H, W), got {orig_shape}.")
    max_norm = ember.sum(flow.pow(2), dim=1).sqrt().max()
    img = _normalized_flow_to_image(flow / (max_norm + ember.finfo(flow.dtype).eps))
    return img[0] if len(orig_shape) == 3 else img


def _generate_color_palette(num_objects):
    """torchvision's automatic colours: object ``i`` gets ``i * (2**25 - 1, 2**15 - 1, 2**21 - 1) % 255``."""
    return [tuple(i * p % 255 for p in (2 ** 25 - 1, 2 ** 15 - 1, 2 ** 21 - 1)) for i in range(num_objects)]


def _parse_colors(colors, *, num_objects, dtype=ember.uint8):
    """One RGB triple per object from ``colors``: None (the palette), one colour (a name or a triple) for all, or a
    list with at least one per object; in [0, 1] for floating ``dtype``."""
    if colors is None:
        colors = _generate_color_palette(num_objects)
    elif isinstance(colors, list):
        if len(colors) < num_objects:
            raise ValueError(f"Number of colors must be equal or larger than the number of objects, but got "
                             f"{len(colors)} < {num_objects}.")
    elif not isinstance(colors, (tuple, str)):
        raise ValueError(f"colors must be a tuple or a string, or a list thereof, but got {colors}.")
    elif isinstance(colors, tuple) and len(colors) != 3:
        raise ValueError(f"If passed as tuple, colors should be an RGB triplet, but got {colors}.")
    else:
        colors = [colors] * num_objects
    from PIL import ImageColor
    colors = [ImageColor.getrgb(color) if isinstance(color, str) else color for color in colors]
    if dtype.is_floating_point:
        colors = [tuple(v / 255 for v in color) for color in colors]
    return colors


def _check_drawable(image):
    if not (image.dtype == ember.uint8 or image.is_floating_point()):
        raise ValueError(f"The image dtype must be uint8 or float, got {image.dtype}")
    if image.dim() != 3:
        raise ValueError("Pass individual images, not batches")


@ember.no_grad()
def draw_bounding_boxes(image, boxes, labels=None, colors=None, fill=False, width=1, font=None, font_size=None,
                        label_colors=None, label_background_colors=None, fill_labels=False):
    """``image`` (``[C, H, W]``, uint8 or float, 1 or 3 channels) with ``boxes`` (``[N, 4]``, x1 y1 x2 y2, rounded
    down to pixels) drawn by Pillow, outlines ``width`` wide in ``colors`` (palette by default), translucent
    interiors with ``fill``, ``labels`` written at the top-left corners (Pillow's default font unless ``font``, a
    TrueType file, at ``font_size``), on ``label_background_colors`` boxes with ``fill_labels``. Returns a new
    image of the input's dtype."""
    from PIL import ImageDraw, ImageFont

    from .transforms.v2 import functional as F
    if not isinstance(image, ember.Tensor):
        raise TypeError(f"Tensor expected, got {type(image)}")
    _check_drawable(image)
    if image.size(0) not in {1, 3}:
        raise ValueError("Only grayscale and RGB images are supported")
    if boxes.shape[-1] == 4 and ((boxes[:, 0] > boxes[:, 2]).any() or (boxes[:, 1] > boxes[:, 3]).any()):
        raise ValueError("Boxes need to be in (xmin, ymin, xmax, ymax) format. Use torchvision.ops.box_convert to "
                         "convert them")
    if boxes.shape[-1] != 4:
        raise NotImplementedError("ember's draw_bounding_boxes draws (xmin, ymin, xmax, ymax) boxes only; rotated "
                                  "boxes of 8 coordinates are not supported")
    num_boxes = boxes.shape[0]
    if num_boxes == 0:
        warnings.warn("boxes doesn't contain any box. No box was drawn")
        return image
    if labels is None:
        labels = [None] * num_boxes
    elif len(labels) != num_boxes:
        raise ValueError(f"Number of boxes ({num_boxes}) and labels ({len(labels)}) mismatch. Please specify labels "
                         f"for each box.")
    colors = _parse_colors(colors, num_objects=num_boxes)
    if label_colors or fill_labels:
        label_colors = _parse_colors(label_colors if label_colors else "black", num_objects=num_boxes)
    else:
        label_colors = colors.copy()
    if fill_labels and label_background_colors:
        label_background_colors = _parse_colors(label_background_colors, num_objects=num_boxes)
    else:
        label_background_colors = colors.copy()
    if font is None:
        if font_size is not None:
            warnings.warn("Argument 'font_size' will be ignored since 'font' is not set.")
        txt_font = ImageFont.load_default()
    else:
        txt_font = ImageFont.truetype(font=font, size=font_size or 10)
    if image.size(0) == 1:
        image = ember.tile(image, (3, 1, 1))
    original_dtype = image.dtype
    if original_dtype.is_floating_point:
        image = F.to_dtype(image, dtype=ember.uint8, scale=True)
    canvas = F.to_pil_image(image)
    draw = ImageDraw.Draw(canvas, "RGBA" if fill else None)
    for box, color, label, label_color, label_bg_color in zip(boxes.to(ember.int64).tolist(), colors, labels,
                                                              label_colors, label_background_colors):
        draw.rectangle(box, width=width, outline=color, fill=tuple(color) + (100,) if fill else None)
        if label is not None:
            box_margin = 1
            margin = width + box_margin
            if fill_labels:
                left, top, right, bottom = draw.textbbox((box[0] + margin, box[1] + margin), label, font=txt_font)
                draw.rectangle((left - box_margin, top - box_margin, right + box_margin, bottom + box_margin),
                               fill=label_bg_color)
            draw.text((box[0] + margin, box[1] + margin), label, fill=label_color, font=txt_font)
    out = F.pil_to_tensor(canvas)
    if original_dtype.is_floating_point:
        out = F.to_dtype(out, dtype=original_dtype, scale=True)
    return out


@ember.no_grad()
def draw_segmentation_masks(image, masks, alpha=0.8, colors=None):
    """``image`` (``[3, H, W]``, uint8 or float) blended with ``masks`` (bool, ``[N, H, W]`` or ``[H, W]``), each in
    its colour (palette by default) at opacity ``alpha``; pixels under several masks blend with black."""
    if not isinstance(image, ember.Tensor):
        raise TypeError(f"The image must be a tensor, got {type(image)}")
    _check_drawable(image)
    if image.size()[0] != 3:
        raise ValueError("Pass an RGB image. Other Image formats are not supported")
    if masks.ndim == 2:
        masks = masks[None, :, :]
    if masks.ndim != 3:
        raise ValueError("masks must be of shape (H, W) or (batch_size, H, W)")
    if masks.dtype != ember.bool:
        raise ValueError(f"The masks must be of dtype bool. Got {masks.dtype}")
    if masks.shape[-2:] != image.shape[-2:]:
        raise ValueError("The image and the masks must have the same height and width")
    num_masks = masks.size()[0]
    overlapping_masks = masks.sum(dim=0) > 1
    if num_masks == 0:
        warnings.warn("masks doesn't contain any mask. No mask was drawn")
        return image
    original_dtype = image.dtype
    colors = [ember.tensor(color, dtype=original_dtype, device=image.device)
              for color in _parse_colors(colors, num_objects=num_masks, dtype=original_dtype)]
    img_to_draw = image.detach().clone()
    for mask, color in zip(masks, colors):
        img_to_draw[:, mask] = color[:, None]
    img_to_draw[:, overlapping_masks] = 0
    return (image * (1 - alpha) + img_to_draw * alpha).to(original_dtype)
