"""The frame FCN and DeepLabV3 share: a backbone returning named feature maps, a classifier on ``"out"`` and an
optional auxiliary classifier on ``"aux"``, both upsampled to the input's size."""
from collections import OrderedDict

from ember import nn
from ember.nn import functional as F


def _upsample_to(x, size):
    """``x`` resized bilinearly (corners not aligned) to the spatial ``size``."""
    return F.interpolate(x, size=size, mode="bilinear", align_corners=False)


class _SimpleSegmentationModel(nn.Module):
    """``backbone`` (returning a dict with ``"out"`` and, with an auxiliary head, ``"aux"``), ``classifier`` and
    ``aux_classifier`` (or None). The forward returns an OrderedDict of the heads' scores at the input's size."""

    __constants__ = ["aux_classifier"]

    def __init__(self, backbone, classifier, aux_classifier=None):
        super().__init__()
        self.backbone = backbone
        self.classifier = classifier
        self.aux_classifier = aux_classifier

    def forward(self, x):
        size = x.shape[-2:]
        features = self.backbone(x)
        result = OrderedDict()
        result["out"] = _upsample_to(self.classifier(features["out"]), size)
        if self.aux_classifier is not None:
            result["aux"] = _upsample_to(self.aux_classifier(features["aux"]), size)
        return result
