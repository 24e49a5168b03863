"""Lite R-ASPP (arXiv:1905.02244) over a dilated MobileNetV3-Large, in torchvision's layout so its
COCO-with-VOC-labels checkpoint loads."""
from collections import OrderedDict
from functools import partial
from typing import Optional

from ember import nn

from ...transforms._presets import SemanticSegmentation
from .._api import Weights, WeightsEnum, register_model
from .._meta import _VOC_CATEGORIES
from .._utils import IntermediateLayerGetter, _load_weights, _ovewrite_value_param, handle_legacy_interface
from ..mobilenetv3 import MobileNet_V3_Large_Weights, mobilenet_v3_large
from ._utils import _upsample_to
from .deeplabv3 import _mobilenet_stages
from .fcn import _RECIPES

__all__ = ["LRASPP", "LRASPP_MobileNet_V3_Large_Weights", "lraspp_mobilenet_v3_large"]


class LRASPP(nn.Module):
    """Lite R-ASPP: ``backbone`` returns ``"low"`` and ``"high"`` feature maps (``low_channels``, ``high_channels``),
    ``classifier`` (an :class:`LRASPPHead`) scores them; the forward returns ``{"out": scores}`` at the input's
    size."""

    def __init__(self, backbone, low_channels, high_channels, num_classes, inter_channels=128):
        super().__init__()
        self.backbone = backbone
        self.classifier = LRASPPHead(low_channels, high_channels, num_classes, inter_channels)

    def forward(self, input):
        scores = self.classifier(self.backbone(input))
        result = OrderedDict()
        result["out"] = _upsample_to(scores, input.shape[-2:])
        return result


class LRASPPHead(nn.Module):
    """The high features through 1x1 conv-BN-ReLU (``cbr``) gated by a pooled sigmoid attention (``scale``), upsampled
    to the low features' size and classified, plus a classifier on the low features."""

    def __init__(self, low_channels, high_channels, num_classes, inter_channels):
        super().__init__()
        self.cbr = nn.Sequential(nn.Conv2d(high_channels, inter_channels, 1, bias=False),
                                 nn.BatchNorm2d(inter_channels), nn.ReLU(inplace=True))
        self.scale = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Conv2d(high_channels, inter_channels, 1, bias=False),
                                   nn.Sigmoid())
        self.low_classifier = nn.Conv2d(low_channels, num_classes, 1)
        self.high_classifier = nn.Conv2d(inter_channels, num_classes, 1)

    def forward(self, input):
        low, high = input["low"], input["high"]
        x = _upsample_to(self.cbr(high) * self.scale(high), low.shape[-2:])
        return self.low_classifier(low) + self.high_classifier(x)


def _lraspp_mobilenetv3(backbone, num_classes):
    features = backbone.features
    stages = _mobilenet_stages(features)
    low_pos, high_pos = stages[-4], stages[-1]  # C2 (output stride 8) and C5 (16 when dilated)
    getter = IntermediateLayerGetter(features, return_layers={str(low_pos): "low", str(high_pos): "high"})
    return LRASPP(getter, features[low_pos].out_channels, features[high_pos].out_channels, num_classes)


class LRASPP_MobileNet_V3_Large_Weights(WeightsEnum):
    """Pretrained weights of ``lraspp_mobilenet_v3_large``: the members' url, transforms and meta are
    torchvision's."""

    COCO_WITH_VOC_LABELS_V1 = Weights(
        url="https://download.pytorch.org/models/lraspp_mobilenet_v3_large-d234d4ea.pth",
        transforms=partial(SemanticSegmentation, resize_size=520),
        meta={
            "num_params": 3221538,
            "categories": _VOC_CATEGORIES,
            "min_size": (1, 1),
            "recipe": f"{_RECIPES}#lraspp_mobilenet_v3_large",
            "_metrics": {"COCO-val2017-VOC-labels": {"miou": 57.9, "pixel_acc": 91.2}},
            "_ops": 2.086,
            "_file_size": 12.49,
            "_docs": """
                These weights were trained on a subset of COCO, using only the 20 categories that are present in the
                Pascal VOC dataset.
            """,
        },
    )
    DEFAULT = COCO_WITH_VOC_LABELS_V1


@register_model()
@handle_legacy_interface(weights=("pretrained", LRASPP_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1),
                         weights_backbone=("pretrained_backbone", MobileNet_V3_Large_Weights.IMAGENET1K_V1))
def lraspp_mobilenet_v3_large(
        *, weights: Optional[LRASPP_MobileNet_V3_Large_Weights] = None, progress: bool = True,
        num_classes: Optional[int] = None,
        weights_backbone: Optional[MobileNet_V3_Large_Weights] = MobileNet_V3_Large_Weights.IMAGENET1K_V1, **kwargs):
    """Lite R-ASPP with a dilated MobileNetV3-Large backbone. It has no auxiliary head (``aux_loss=True`` raises
    NotImplementedError); ``weights`` fix ``num_classes=21`` and skip ``weights_backbone``."""
    if kwargs.pop("aux_loss", False):
        raise NotImplementedError("This model does not use auxiliary loss")
    weights = LRASPP_MobileNet_V3_Large_Weights.verify(weights)
    weights_backbone = MobileNet_V3_Large_Weights.verify(weights_backbone)
    if weights is not None:
        weights_backbone = None
        num_classes = _ovewrite_value_param("num_classes", num_classes, len(weights.meta["categories"]))
    elif num_classes is None:
        num_classes = 21
    backbone = mobilenet_v3_large(weights=weights_backbone, dilated=True)
    return _load_weights(_lraspp_mobilenetv3(backbone, num_classes), weights, progress)
