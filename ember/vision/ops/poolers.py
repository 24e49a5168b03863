"""MultiScaleRoIAlign: RoIAlign over an FPN, each box pooled from the level that suits its size (FPN paper eq. 1)."""
import ember
from ember import nn

from ._utils import convert_boxes_to_roi_format
from .boxes import box_area
from .roi_align import roi_align


class LevelMapper:
    """Maps boxes to FPN levels: ``floor(canonical_level + log2(sqrt(area) / canonical_scale) + eps)`` clamped to
    ``[k_min, k_max]``, returned relative to ``k_min``."""

    def __init__(self, k_min, k_max, canonical_scale=224, canonical_level=4, eps=1e-6):
        self.k_min = k_min
        self.k_max = k_max
        self.s0 = canonical_scale
        self.lvl0 = canonical_level
        self.eps = eps

    def __call__(self, boxlists):
        """Level index (int64) of each box of the per-image ``boxlists``, in order."""
        s = ember.sqrt(ember.cat([box_area(boxlist) for boxlist in boxlists]))
        target = ember.floor(self.lvl0 + ember.log2(s / self.s0) + ember.tensor(self.eps, dtype=s.dtype))
        target = ember.clamp(target, min=self.k_min, max=self.k_max)
        return (target.to(ember.int64) - self.k_min).to(ember.int64)


def initLevelMapper(k_min, k_max, canonical_scale=224, canonical_level=4, eps=1e-6):
    """A :class:`LevelMapper` (torchvision's factory name)."""
    return LevelMapper(k_min, k_max, canonical_scale, canonical_level, eps)


def _infer_scale(feature, original_size):
    """The power of two nearest the feature map's size over the image's (from the height)."""
    approx = float(feature.shape[-2]) / float(original_size[0])
    return 2 ** float(ember.tensor(approx).log2().round())


def _setup_scales(features, image_shapes, canonical_scale, canonical_level):
    if not image_shapes:
        raise ValueError("images list should not be empty")
    original = (max(s[0] for s in image_shapes), max(s[1] for s in image_shapes))
    scales = [_infer_scale(feat, original) for feat in features]
    lvl_min = -ember.log2(ember.tensor(scales[0], dtype=ember.float32)).item()
    lvl_max = -ember.log2(ember.tensor(scales[-1], dtype=ember.float32)).item()
    return scales, initLevelMapper(int(lvl_min), int(lvl_max), canonical_scale=canonical_scale,
                                   canonical_level=canonical_level)


def _multiscale_roi_align(features, boxes, output_size, sampling_ratio, scales, mapper):
    if scales is None or mapper is None:
        raise ValueError("scales and mapper should not be None")
    rois = convert_boxes_to_roi_format(boxes)
    if len(features) == 1:
        return roi_align(features[0], rois, output_size=output_size, spatial_scale=scales[0],
                         sampling_ratio=sampling_ratio)
    levels = mapper(boxes)
    dtype = features[0].dtype
    pieces, positions = [], []
    for level, (feature, scale) in enumerate(zip(features, scales)):
        idx = ember.where(levels == level)[0]
        pieces.append(roi_align(feature, rois[idx], output_size=output_size, spatial_scale=scale,
                                sampling_ratio=sampling_ratio).to(dtype))
        positions.append(idx)
    return ember.cat(pieces)[ember.argsort(ember.cat(positions))]


class MultiScaleRoIAlign(nn.Module):
    """RoIAlign over the feature maps ``featmap_names`` of a dict, each box from the level its size maps to.

    ``forward(x, boxes, image_shapes)``: ``boxes`` is a list of per-image ``Tensor[L, 4]``; the levels' scales are
    inferred from the first call's feature and image sizes."""

    def __init__(self, featmap_names, output_size, sampling_ratio, *, canonical_scale=224, canonical_level=4):
        super().__init__()
        if isinstance(output_size, int):
            output_size = (output_size, output_size)
        self.featmap_names = featmap_names
        self.sampling_ratio = sampling_ratio
        self.output_size = tuple(output_size)
        self.scales = None
        self.map_levels = None
        self.canonical_scale = canonical_scale
        self.canonical_level = canonical_level

    def forward(self, x, boxes, image_shapes):
        """``[K, C, *output_size]`` features of all boxes, in order."""
        features = [v for k, v in x.items() if k in self.featmap_names]
        if self.scales is None or self.map_levels is None:
            self.scales, self.map_levels = _setup_scales(features, image_shapes, self.canonical_scale,
                                                         self.canonical_level)
        return _multiscale_roi_align(features, boxes, self.output_size, self.sampling_ratio, self.scales,
                                     self.map_levels)

    def __repr__(self):
        return (f"{self.__class__.__name__}(featmap_names={self.featmap_names}, "
                f"output_size={self.output_size}, sampling_ratio={self.sampling_ratio})")
