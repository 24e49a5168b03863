"""RoIAlign (Mask R-CNN): average of bilinear samples over each output bin of each region of interest."""
import ember
from ember import nn

from ._sampling import axis_weights, sampled_pool
from ._utils import _dtype_name, _pair, _rois


def _check_inputs(name, input, rois, pooled=None, half=False):
    """The kernels' argument checks (RuntimeError, as torchvision's TORCH_CHECKs); ``pooled``: position-sensitive
    ops' ``(PH, PW)``, which must divide the channels; ``half``: the op's CPU kernel also takes float16."""
    if input.dim() != 4:
        raise RuntimeError(f"{name}: input should be a 4d tensor (N, C, H, W), got {input.dim()}D")
    if input.dtype != rois.dtype:
        raise RuntimeError("input and rois must have the same dtype")
    if input.dtype not in (ember.float32, ember.float64) + ((ember.float16,) if half else ()):
        if half:
            raise RuntimeError(f"\"{name}_forward_kernel\" not implemented for '{_dtype_name(input.dtype)}'")
        raise RuntimeError(f"{name} only supports float and double types")
    if pooled is not None and input.shape[1] % (pooled[0] * pooled[1]):
        raise RuntimeError("input channels must be a multiple of pooling height * pooling width")


def roi_align(input, boxes, output_size, spatial_scale=1.0, sampling_ratio=-1, aligned=False):
    """RoIAlign: ``[K, C, PH, PW]`` features of each box, each bin the mean of bilinearly sampled points.

    ``boxes`` is a ``Tensor[K, 5]`` (image index, x1, y1, x2, y2) or a list of per-image ``Tensor[L, 4]``;
    ``sampling_ratio <= 0`` samples ``ceil(bin size)`` points per bin axis; ``aligned`` shifts boxes by -0.5 pixel."""
    rois = _rois(boxes)
    _check_inputs("roi_align", input, rois, half=True)
    ys, xs = bilinear_weights(input, rois, _pair(output_size), spatial_scale, sampling_ratio, aligned)
    return sampled_pool(input, rois, ys, xs)


def bilinear_weights(input, rois, output_size, spatial_scale, sampling_ratio, aligned):
    """RoIAlign's sparse per-axis weights, rows then columns (no grad: RoIs get no gradient)."""
    with ember.no_grad():
        boxes = rois.detach() * spatial_scale
        ys = axis_weights(boxes[:, 2], boxes[:, 4], output_size[0], input.shape[2], sampling_ratio, aligned)
        xs = axis_weights(boxes[:, 1], boxes[:, 3], output_size[1], input.shape[3], sampling_ratio, aligned)
    return ys, xs


class RoIAlign(nn.Module):
    """Module form of :func:`roi_align`."""

    def __init__(self, output_size, spatial_scale, sampling_ratio, aligned=False):
        super().__init__()
        self.output_size = output_size
        self.spatial_scale = spatial_scale
        self.sampling_ratio = sampling_ratio
        self.aligned = aligned

    def forward(self, input, rois):
        """RoIAlign of ``input`` at ``rois``."""
        return roi_align(input, rois, self.output_size, self.spatial_scale, self.sampling_ratio, self.aligned)

    def __repr__(self):
        return (f"{self.__class__.__name__}(output_size={self.output_size}, spatial_scale={self.spatial_scale}, "
                f"sampling_ratio={self.sampling_ratio}, aligned={self.aligned})")
