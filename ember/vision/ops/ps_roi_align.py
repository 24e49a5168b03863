"""Position-sensitive RoIAlign (R-FCN): each output bin averages bilinear samples of its own group of channels."""
from ember import nn

from ._sampling import sampled_pool
from ._utils import _pair, _rois
from .roi_align import _check_inputs, bilinear_weights


def ps_roi_align(input, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1):
    """``[K, C / (PH * PW), PH, PW]``: bin ``(ph, pw)`` of output channel ``c`` is RoIAlign (half-pixel aligned) of
    input channel ``c * PH * PW + ph * PW + pw``."""
    rois = _rois(boxes)
    output_size = _pair(output_size)
    _check_inputs("ps_roi_align", input, rois, output_size, half=True)
    ys, xs = bilinear_weights(input, rois, output_size, spatial_scale, sampling_ratio, aligned=True)
    return sampled_pool(input, rois, ys, xs, position_sensitive=True)


class PSRoIAlign(nn.Module):
    """Module form of :func:`ps_roi_align`."""

    def __init__(self, output_size, spatial_scale, sampling_ratio):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio

    def forward(self, input, rois):
        """Position-sensitive RoIAlign of ``input`` at ``rois``."""
        return ps_roi_align(input, rois, self.output_size, self.spatial_scale, self.sampling_ratio)

    def __repr__(self):
        return (f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
                f"sampling_ratio={self.sampling_ratio})")
