"""FCN (arXiv:1411.4038) over a dilated ResNet-50/101: torchvision's ``backbone``/``classifier``/``aux_classifier``
layout, so its COCO-with-VOC-labels checkpoints load."""
from functools import partial
from typing import Optional

from ember import nn

from ...transforms._presets import SemanticSegmentation
from .._api import Weights, WeightsEnum, register_model
from .._meta import _VOC_CATEGORIES
from .._utils import IntermediateLayerGetter, _load_weights, _ovewrite_value_param, handle_legacy_interface
from ..resnet import ResNet50_Weights, ResNet101_Weights, resnet50, resnet101
from ._utils import _SimpleSegmentationModel

__all__ = ["FCN", "FCN_ResNet50_Weights", "FCN_ResNet101_Weights", "fcn_resnet50", "fcn_resnet101"]


class FCN(_SimpleSegmentationModel):
    """Fully Convolutional Network: ``backbone`` returns ``"out"`` (and ``"aux"``) feature maps, ``classifier`` (and
    ``aux_classifier``) score them per pixel; the scores are upsampled to the input's size."""


class FCNHead(nn.Sequential):
    """3x3 conv to ``in_channels // 4``, BN, ReLU, dropout 0.1, 1x1 conv to ``channels``."""

    def __init__(self, in_channels, channels):
        inter_channels = in_channels // 4
        super().__init__(
            nn.Conv2d(in_channels, inter_channels, 3, padding=1, bias=False),
            nn.BatchNorm2d(inter_channels),
            nn.ReLU(),
            nn.Dropout(0.1),
            nn.Conv2d(inter_channels, channels, 1),
        )


def _resnet_features(backbone, aux):
    """The ResNet's stages as an IntermediateLayerGetter: ``layer4`` as ``"out"`` and, with ``aux``, ``layer3`` as
    ``"aux"``."""
    return_layers = {"layer4": "out"}
    if aux:
        return_layers["layer3"] = "aux"
    return IntermediateLayerGetter(backbone, return_layers=return_layers)


def _fcn_resnet(backbone, num_classes, aux):
    aux_classifier = FCNHead(1024, num_classes) if aux else None
    return FCN(_resnet_features(backbone, aux), FCNHead(2048, num_classes), aux_classifier)


def _segmentation_args(weights, num_classes, aux_loss):
    """``(num_classes, aux_loss)`` as the weights fix them (21 classes without weights)."""
    if weights is not None:
        num_classes = _ovewrite_value_param("num_classes", num_classes, len(weights.meta["categories"]))
        aux_loss = _ovewrite_value_param("aux_loss", aux_loss, True)
    elif num_classes is None:
        num_classes = 21
    return num_classes, aux_loss


_COMMON_META = {
    "categories": _VOC_CATEGORIES,
    "min_size": (1, 1),
    "_docs": """
        These weights were trained on a subset of COCO, using only the 20 categories that are present in the Pascal VOC
        dataset.
    """,
}


def _voc_weights(url, num_params, recipe, miou, pixel_acc, ops, file_size, meta=_COMMON_META):
    """A COCO-with-VOC-labels ``Weights`` entry (520-pixel resize preset)."""
    return Weights(url=url, transforms=partial(SemanticSegmentation, resize_size=520), meta={
        **meta, "num_params": num_params, "recipe": recipe,
        "_metrics": {"COCO-val2017-VOC-labels": {"miou": miou, "pixel_acc": pixel_acc}},
        "_ops": ops, "_file_size": file_size})


_RECIPES = "https://github.com/pytorch/vision/tree/main/references/segmentation"


class FCN_ResNet50_Weights(WeightsEnum):
    """Pretrained weights of ``fcn_resnet50``: the members' url, transforms and meta are torchvision's."""

    COCO_WITH_VOC_LABELS_V1 = _voc_weights("https://download.pytorch.org/models/fcn_resnet50_coco-1167a1af.pth",
                                           35322218, f"{_RECIPES}#fcn_resnet50", 60.5, 91.4, 152.717, 135.009)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


class FCN_ResNet101_Weights(WeightsEnum):
    """Pretrained weights of ``fcn_resnet101``: the members' url, transforms and meta are torchvision's."""

    # torchvision's recipe link points at deeplabv3_resnet101's section
    COCO_WITH_VOC_LABELS_V1 = _voc_weights("https://download.pytorch.org/models/fcn_resnet101_coco-7ecb50ca.pth",
                                           54314346, f"{_RECIPES}#deeplabv3_resnet101", 63.7, 91.9, 232.738, 207.711)
    DEFAULT = COCO_WITH_VOC_LABELS_V1


@register_model()
@handle_legacy_interface(weights=("pretrained", FCN_ResNet50_Weights.COCO_WITH_VOC_LABELS_V1),
                         weights_backbone=("pretrained_backbone", ResNet50_Weights.IMAGENET1K_V1))
def fcn_resnet50(*, weights: Optional[FCN_ResNet50_Weights] = None, progress: bool = True,
                 num_classes: Optional[int] = None, aux_loss: Optional[bool] = None,
                 weights_backbone: Optional[ResNet50_Weights] = ResNet50_Weights.IMAGENET1K_V1, **kwargs):
    """FCN with a ResNet-50 backbone (strides of layer3/4 replaced by dilation, output stride 8).

    ``weights`` (COCO with VOC labels) fix ``num_classes=21`` and ``aux_loss=True`` and skip ``weights_backbone``;
    without weights the backbone's ImageNet weights are loaded unless ``weights_backbone=None``."""
    weights = FCN_ResNet50_Weights.verify(weights)
    weights_backbone = ResNet50_Weights.verify(weights_backbone)
    if weights is not None:
        weights_backbone = None
    num_classes, aux_loss = _segmentation_args(weights, num_classes, aux_loss)
    backbone = resnet50(weights=weights_backbone, replace_stride_with_dilation=[False, True, True])
    return _load_weights(_fcn_resnet(backbone, num_classes, aux_loss), weights, progress)


@register_model()
@handle_legacy_interface(weights=("pretrained", FCN_ResNet101_Weights.COCO_WITH_VOC_LABELS_V1),
                         weights_backbone=("pretrained_backbone", ResNet101_Weights.IMAGENET1K_V1))
def fcn_resnet101(*, weights: Optional[FCN_ResNet101_Weights] = None, progress: bool = True,
                  num_classes: Optional[int] = None, aux_loss: Optional[bool] = None,
                  weights_backbone: Optional[ResNet101_Weights] = ResNet101_Weights.IMAGENET1K_V1, **kwargs):
    """FCN with a dilated ResNet-101 backbone; the arguments are :func:`fcn_resnet50`'s."""
    weights = FCN_ResNet101_Weights.verify(weights)
    weights_backbone = ResNet101_Weights.verify(weights_backbone)
    if weights is not None:
        weights_backbone = None
    num_classes, aux_loss = _segmentation_args(weights, num_classes, aux_loss)
    backbone = resnet101(weights=weights_backbone, replace_stride_with_dilation=[False, True, True])
    return _load_weights(_fcn_resnet(backbone, num_classes, aux_loss), weights, progress)
