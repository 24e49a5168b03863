"""Position-sensitive RoIPool (R-FCN): each output bin averages its own group of channels over whole pixels."""
import ember
from ember import nn

from ._sampling import box_weights, round_half_away, separable_pool
from ._utils import _pair, _rois
from .roi_align import _check_inputs


def _bin_bounds(start, end, pooled, size):
    """Integer bins ``[lo, hi)`` of the rounded RoI (at least one pixel), clipped to ``[0, size - 1]`` as
    torchvision's CPU kernel clips them."""
    start = round_half_away(start)
    length = (round_half_away(end) - start).clamp(min=1)
    bin_size = length / pooled
    p = ember.arange(pooled, device=start.device).to(start.dtype)
    lo = ember.floor(p[None, :] * bin_size[:, None]) + start[:, None]
    hi = ember.ceil((p[None, :] + 1) * bin_size[:, None]) + start[:, None]
    return lo.clamp(0, size - 1).long(), hi.clamp(0, size - 1).long()


def ps_roi_pool(input, boxes, output_size, spatial_scale=1.0):
    """``[K, C / (PH * PW), PH, PW]``: bin ``(ph, pw)`` of output channel ``c`` is the mean of input channel
    ``c * PH * PW + ph * PW + pw`` over the bin's pixels (0 for an empty bin)."""
    rois = _rois(boxes)
    ph, pw = _pair(output_size)
    _check_inputs("ps_roi_pool", input, rois, (ph, pw))
    with ember.no_grad():
        scaled = rois.detach() * spatial_scale
        ay = box_weights(*_bin_bounds(scaled[:, 2], scaled[:, 4], ph, input.shape[2]), input.shape[2], input.dtype)
        ax = box_weights(*_bin_bounds(scaled[:, 1], scaled[:, 3], pw, input.shape[3]), input.shape[3], input.dtype)
    return separable_pool(input, rois, ay, ax, position_sensitive=True)


class PSRoIPool(nn.Module):
    """Module form of :func:`ps_roi_pool`."""

    def __init__(self, output_size, spatial_scale):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale

    def forward(self, input, rois):
        """Position-sensitive RoIPool of ``input`` at ``rois``."""
        return ps_roi_pool(input, rois, self.output_size, self.spatial_scale)

    def __repr__(self):
        return f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale})"
