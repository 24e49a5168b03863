"""RoIPool (Fast R-CNN): maximum over each output bin of each region of interest."""
import ember
from ember import nn

from ._sampling import chunks, group_by_image, pool_bounds
from ._utils import _pair, _rois
from .roi_align import _check_inputs


def _bin_argmax(image, hlo, hhi, wlo, whi):
    """Flat ``H*W`` positions ``[C, M, PH, PW]`` of each bin's first maximum in ``image [C, H, W]`` (no grad)."""
    c, height, width = image.shape
    m = hlo.shape[0]
    span_h = max(int((hhi - hlo).max().item()), 1)
    span_w = max(int((whi - wlo).max().item()), 1)
    ys = hlo[:, :, None] + ember.arange(span_h, device=image.device)
    xs = wlo[:, :, None] + ember.arange(span_w, device=image.device)
    inside = (ys < hhi[:, :, None])[:, :, None, :, None] & (xs < whi[:, :, None])[:, None, :, None, :]
    flat = ys.clamp(max=height - 1)[:, :, None, :, None] * width + xs.clamp(max=width - 1)[:, None, :, None, :]
    flat = flat.reshape(m, hlo.shape[1], wlo.shape[1], span_h * span_w)
    inside = inside.reshape(flat.shape)
    values = image.reshape(c, height * width)[:, flat]
    values = ember.where(inside, values, ember.full_like(values, -float("inf")))
    best = values.argmax(dim=-1, keepdim=True)
    return ember.gather(flat.expand(c, *flat.shape), -1, best).squeeze(-1)


def roi_pool(input, boxes, output_size, spatial_scale=1.0):
    """RoIPool: ``[K, C, PH, PW]`` maxima over bins of each box rounded to whole pixels; empty bins give 0.

    ``boxes`` is a ``Tensor[K, 5]`` (image index, x1, y1, x2, y2) or a list of per-image ``Tensor[L, 4]``; the
    gradient goes to each bin's first maximum."""
    rois = _rois(boxes)
    _check_inputs("roi_pool", input, rois)
    ph, pw = _pair(output_size)
    n, c, height, width = input.shape
    k = rois.shape[0]
    if k == 0:
        return input.reshape(-1)[:0].reshape(0, c, ph, pw)
    with ember.no_grad():
        boxes = rois.detach() * spatial_scale
        hlo, hhi = pool_bounds(boxes[:, 2], boxes[:, 4], ph, height)
        wlo, whi = pool_bounds(boxes[:, 1], boxes[:, 3], pw, width)
        empty = ((hhi <= hlo)[:, :, None] | (whi <= wlo)[:, None, :])[:, None]
        index = ember.zeros(k, c, ph, pw, dtype=ember.int64, device=input.device)
        groups, _ = group_by_image(rois[:, 0].detach().long(), n)
        image_stride = c * height * width
        channel_offset = (ember.arange(c, device=input.device) * (height * width))[:, None, None, None]
        per_roi = c * ph * pw * int((hhi - hlo).max().item() + 1) * int((whi - wlo).max().item() + 1)
        for image, positions in groups:
            data = input[image].detach()
            for a, b in chunks(positions.shape[0], per_roi):
                p = positions[a:b]
                best = _bin_argmax(data, hlo[p], hhi[p], wlo[p], whi[p]) + channel_offset + image * image_stride
                index[p] = best.permute(1, 0, 2, 3)
        index = ember.where(empty, ember.zeros_like(index), index)
    values = input.reshape(-1)[index]
    return ember.where(empty, ember.zeros_like(values), values)


class RoIPool(nn.Module):
    """Module form of :func:`roi_pool`."""

    def __init__(self, output_size, spatial_scale):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input, rois):
        """RoIPool of ``input`` at ``rois``."""
        return roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self):
        return f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale})"
