"""DeepLabV3 (arXiv:1706.05587) over a dilated ResNet-50/101 or MobileNetV3-Large: atrous spatial pyramid pooling
(ASPP) in torchvision's layout, so its COCO-with-VOC-labels checkpoints load."""
from typing import Optional

import ember
from ember import nn

from .._api import WeightsEnum, register_model
from .._utils import IntermediateLayerGetter, _load_weights, handle_legacy_interface
from ..mobilenetv3 import MobileNet_V3_Large_Weights, mobilenet_v3_large
from ..resnet import ResNet50_Weights, ResNet101_Weights, resnet50, resnet101
from ._utils import _SimpleSegmentationModel, _upsample_to
from .fcn import _RECIPES, FCNHead, _resnet_features, _segmentation_args, _voc_weights

__all__ = ["DeepLabV3", "DeepLabV3_ResNet50_Weights", "DeepLabV3_ResNet101_Weights",
           "DeepLabV3_MobileNet_V3_Large_Weights", "deeplabv3_mobilenet_v3_large", "deeplabv3_resnet50",
           "deeplabv3_resnet101"]


class DeepLabV3(_SimpleSegmentationModel):
    """DeepLabV3: ``backbone`` returns ``"out"`` (and ``"aux"``) feature maps, ``classifier`` (a :class:`DeepLabHead`)
    and ``aux_classifier`` score them per pixel; the scores are upsampled to the input's size."""


def _conv_bn_relu(in_channels, out_channels, kernel_size=1, dilation=1):
    """Conv (no bias, "same" padding), BatchNorm, ReLU: the layers every ASPP branch is made of."""
    return [nn.Conv2d(in_channels, out_channels, kernel_size, padding=dilation if kernel_size == 3 else 0,
                      dilation=dilation, bias=False),
            nn.BatchNorm2d(out_channels), nn.ReLU()]


class ASPPConv(nn.Sequential):
    """An atrous branch: 3x3 conv dilated by ``dilation``, BN, ReLU."""

    def __init__(self, in_channels, out_channels, dilation):
        super().__init__(*_conv_bn_relu(in_channels, out_channels, 3, dilation))


class ASPPPooling(nn.Sequential):
    """The image-level branch: global average pool, 1x1 conv, BN, ReLU, upsampled back to the input's size."""

    def __init__(self, in_channels, out_channels):
        super().__init__(nn.AdaptiveAvgPool2d(1), *_conv_bn_relu(in_channels, out_channels))

    def forward(self, x):
        size = x.shape[-2:]
        for module in self:
            x = module(x)
        return _upsample_to(x, size)


class ASPP(nn.Module):
    """Atrous spatial pyramid pooling: a 1x1 branch, one :class:`ASPPConv` per rate and an :class:`ASPPPooling`
    (``convs``), concatenated and projected to ``out_channels`` (1x1 conv, BN, ReLU, dropout 0.5)."""

    def __init__(self, in_channels, atrous_rates, out_channels=256):
        super().__init__()
        branches = [nn.Sequential(*_conv_bn_relu(in_channels, out_channels))]
        branches += [ASPPConv(in_channels, out_channels, rate) for rate in tuple(atrous_rates)]
        branches.append(ASPPPooling(in_channels, out_channels))
        self.convs = nn.ModuleList(branches)
        self.project = nn.Sequential(*_conv_bn_relu(len(self.convs) * out_channels, out_channels), nn.Dropout(0.5))

    def forward(self, x):
        return self.project(ember.cat([conv(x) for conv in self.convs], dim=1))


class DeepLabHead(nn.Sequential):
    """ASPP (256 channels), 3x3 conv, BN, ReLU and a 1x1 conv to ``num_classes``."""

    def __init__(self, in_channels, num_classes, atrous_rates=(12, 24, 36)):
        super().__init__(ASPP(in_channels, atrous_rates), *_conv_bn_relu(256, 256, 3), nn.Conv2d(256, num_classes, 1))


def _deeplabv3_resnet(backbone, num_classes, aux):
    aux_classifier = FCNHead(1024, num_classes) if aux else None
    return DeepLabV3(_resnet_features(backbone, aux), DeepLabHead(2048, num_classes), aux_classifier)


def _mobilenet_stages(features):
    """The indices of MobileNetV3's ``features`` that end a stage: the stem, every strided block (``_is_cn``), the
    last layer."""
    return [0] + [i for i, b in enumerate(features) if getattr(b, "_is_cn", False)] + [len(features) - 1]


def _deeplabv3_mobilenetv3(backbone, num_classes, aux):
    features = backbone.features
    stages = _mobilenet_stages(features)
    out_pos, aux_pos = stages[-1], stages[-4]  # C5 (output stride 16 when dilated) and C2 (stride 8)
    return_layers = {str(out_pos): "out"}
    if aux:
        return_layers[str(aux_pos)] = "aux"
    aux_classifier = FCNHead(features[aux_pos].out_channels, num_classes) if aux else None
    classifier = DeepLabHead(features[out_pos].out_channels, num_classes)
    return DeepLabV3(IntermediateLayerGetter(features, return_layers=return_layers), classifier, aux_classifier)


class DeepLabV3_ResNet50_Weights(WeightsEnum):
    """Pretrained weights of ``deeplabv3_resnet50``: the members' url, transforms and meta are torchvision's."""

    COCO_WITH_VOC_LABELS_V1 = _voc_weights(
        "https://download.pytorch.org/models/deeplabv3_resnet50_coco-cd0a2569.pth", 42004074,
        f"{_RECIPES}#deeplabv3_resnet50", 66.4, 92.4, 178.722, 160.515)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


class DeepLabV3_ResNet101_Weights(WeightsEnum):
    """Pretrained weights of ``deeplabv3_resnet101``: the members' url, transforms and meta are torchvision's."""

    # torchvision's recipe link points at fcn_resnet101's section
    COCO_WITH_VOC_LABELS_V1 = _voc_weights(
        "https://download.pytorch.org/models/deeplabv3_resnet101_coco-586e9e4e.pth", 60996202,
        f"{_RECIPES}#fcn_resnet101", 67.4, 92.4, 258.743, 233.217)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


class DeepLabV3_MobileNet_V3_Large_Weights(WeightsEnum):
    """Pretrained weights of ``deeplabv3_mobilenet_v3_large``: the members' url, transforms and meta are
    torchvision's."""

    COCO_WITH_VOC_LABELS_V1 = _voc_weights(
        "https://download.pytorch.org/models/deeplabv3_mobilenet_v3_large-fc3c493d.pth", 11029328,
        f"{_RECIPES}#deeplabv3_mobilenet_v3_large", 60.3, 91.2, 10.452, 42.301)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


def _deeplabv3_resnet_builder(resnet, backbone_enum, weights, progress, num_classes, aux_loss, weights_backbone):
    weights_backbone = backbone_enum.verify(weights_backbone)
    if weights is not None:
        weights_backbone = None
    num_classes, aux_loss = _segmentation_args(weights, num_classes, aux_loss)
    backbone = resnet(weights=weights_backbone, replace_stride_with_dilation=[False, True, True])
    return _load_weights(_deeplabv3_resnet(backbone, num_classes, aux_loss), weights, progress)


@register_model()
@handle_legacy_interface(weights=("pretrained", DeepLabV3_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1),
                         weights_backbone=("pretrained_backbone", ResNet50_Weights.IMAGENET1K_V1))
def deeplabv3_resnet50(*, weights: Optional[DeepLabV3_ResNet50_Weights] = None, progress: bool = True,
                       num_classes: Optional[int] = None, aux_loss: Optional[bool] = None,
                       weights_backbone: Optional[ResNet50_Weights] = ResNet50_Weights.IMAGENET1K_V1, **kwargs):
    """DeepLabV3 with a ResNet-50 backbone (strides of layer3/4 replaced by dilation).

    ``weights`` (COCO with VOC labels) fix ``num_classes=21`` and ``aux_loss=True`` and skip ``weights_backbone``;
    without weights the backbone's ImageNet weights are loaded unless ``weights_backbone=None``. ``kwargs`` are
    unused."""
    weights = DeepLabV3_ResNet50_Weights.verify(weights)
    return _deeplabv3_resnet_builder(resnet50, ResNet50_Weights, weights, progress, num_classes, aux_loss,
                                     weights_backbone)


@register_model()
@handle_legacy_interface(weights=("pretrained", DeepLabV3_ResNet101_Weights.COCO_WITH_VOC_LABELS_V1),
                         weights_backbone=("pretrained_backbone", ResNet101_Weights.IMAGENET1K_V1))
def deeplabv3_resnet101(*, weights: Optional[DeepLabV3_ResNet101_Weights] = None, progress: bool = True,
                        num_classes: Optional[int] = None, aux_loss: Optional[bool] = None,
                        weights_backbone: Optional[ResNet101_Weights] = ResNet101_Weights.IMAGENET1K_V1, **kwargs):
    """DeepLabV3 with a dilated ResNet-101 backbone; the arguments are :func:`deeplabv3_resnet50`'s."""
    weights = DeepLabV3_ResNet101_Weights.verify(weights)
    return _deeplabv3_resnet_builder(resnet101, ResNet101_Weights, weights, progress, num_classes, aux_loss,
                                     weights_backbone)


@register_model()
@handle_legacy_interface(weights=("pretrained", DeepLabV3_MobileNet_V3_Large_Weights.COCO_WITH_VOC_LABELS_V1),
                         weights_backbone=("pretrained_backbone", MobileNet_V3_Large_Weights.IMAGENET1K_V1))
def deeplabv3_mobilenet_v3_large(
        *, weights: Optional[DeepLabV3_MobileNet_V3_Large_Weights] = None, progress: bool = True,
        num_classes: Optional[int] = None, aux_loss: Optional[bool] = None,
        weights_backbone: Optional[MobileNet_V3_Large_Weights] = MobileNet_V3_Large_Weights.IMAGENET1K_V1, **kwargs):
    """DeepLabV3 with a dilated MobileNetV3-Large backbone: the head reads the last layer, the auxiliary head the
    output-stride-8 stage; the arguments are :func:`deeplabv3_resnet50`'s."""
    weights = DeepLabV3_MobileNet_V3_Large_Weights.verify(weights)
    weights_backbone = MobileNet_V3_Large_Weights.verify(weights_backbone)
    if weights is not None:
        weights_backbone = None
    num_classes, aux_loss = _segmentation_args(weights, num_classes, aux_loss)
    backbone = mobilenet_v3_large(weights=weights_backbone, dilated=True)
    return _load_weights(_deeplabv3_mobilenetv3(backbone, num_classes, aux_loss), weights, progress)
