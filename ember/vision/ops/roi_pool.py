"""RoIPool (Fast R-CNN): maximum over each output bin of each region of interest."""
import ember
from ember import nn

from ._sampling import group_by_image, pool_bounds
from ._utils import _pair, _rois
from .roi_align import _check_inputs

_FLT_MAX = 3.4028234663852886e38  # the kernel starts each bin's maximum at -FLT_MAX, in float and double alike


def _bin_argmax(image, hlo, hhi, wlo, whi):
    """Flat ``H*W`` positions ``[C, M, PH, PW]`` of each bin's first maximum in ``image [C, H, W]`` (-1 where no
    value beats -FLT_MAX, as in the kernel), stepping through the bins' pixels in row-major order."""
    c, height, width = image.shape
    flat_image = image.reshape(c, height * width)
    shape = (c, hlo.shape[0], hlo.shape[1], wlo.shape[1])
    best = ember.full(shape, -_FLT_MAX, dtype=image.dtype, device=image.device)
    where = ember.full(shape, -1, dtype=ember.int64, device=image.device)
    for dy in range(max(int((hhi - hlo).max().item()), 0)):
        ys = hlo + dy
        for dx in range(max(int((whi - wlo).max().item()), 0)):
            xs = wlo + dx
            inside = (ys < hhi)[:, :, None] & (xs < whi)[:, None, :]
            flat = ys.clamp(max=height - 1)[:, :, None] * width + xs.clamp(max=width - 1)[:, None, :]
            values = flat_image[:, flat]
            better = inside & (values > best)  # strictly greater: the first maximum keeps its place
            best = ember.where(better, values, best)
            where = ember.where(better, flat.expand(shape), where)
    return where


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
        index = ember.full((k, c, ph, pw), -1, dtype=ember.int64, device=input.device)
        groups, _ = group_by_image(rois[:, 0].detach().long(), n)
        channel_offset = (ember.arange(c, device=input.device) * (height * width))[:, None, None, None]
        for image, p in groups:
            best = _bin_argmax(input[image].detach(), hlo[p], hhi[p], wlo[p], whi[p])
            best = ember.where(best >= 0, best + channel_offset + image * c * height * width, best)
            index[p] = best.permute(1, 0, 2, 3)
        found = index >= 0
    values = input.reshape(-1)[index.clamp(min=0)]
    fill = ember.where(empty, ember.zeros_like(values), ember.full_like(values, -_FLT_MAX))
    return ember.where(found, values, fill)


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
