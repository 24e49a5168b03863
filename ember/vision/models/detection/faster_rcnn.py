"""Faster R-CNN (arXiv:1506.01497): ``FasterRCNN`` with its box head and predictor, and the builders over ResNet-50
and MobileNetV3 FPN backbones with torchvision's COCO weights."""
from typing import Optional, Union

from ember import nn
from ember.nn import functional as F

from ...ops import MultiScaleRoIAlign
from ...ops import misc as misc_nn_ops
from ...transforms._presets import ObjectDetection
from .._api import Weights, WeightsEnum, register_model
from .._meta import _COCO_CATEGORIES
from .._utils import _ovewrite_value_param, handle_legacy_interface
from ..mobilenetv3 import MobileNet_V3_Large_Weights, mobilenet_v3_large
from ..resnet import ResNet50_Weights, resnet50
from ._utils import overwrite_eps
from .anchor_utils import AnchorGenerator
from .backbone_utils import _mobilenet_extractor, _resnet_fpn_extractor, _validate_trainable_layers
from .generalized_rcnn import GeneralizedRCNN
from .roi_heads import RoIHeads
from .rpn import RegionProposalNetwork, RPNHead
from .transform import GeneralizedRCNNTransform

__all__ = ["FasterRCNN", "FasterRCNN_ResNet50_FPN_Weights", "FasterRCNN_ResNet50_FPN_V2_Weights",
           "FasterRCNN_MobileNet_V3_Large_FPN_Weights", "FasterRCNN_MobileNet_V3_Large_320_FPN_Weights",
           "fasterrcnn_resnet50_fpn", "fasterrcnn_resnet50_fpn_v2", "fasterrcnn_mobilenet_v3_large_fpn",
           "fasterrcnn_mobilenet_v3_large_320_fpn"]


def _default_anchorgen():
    anchor_sizes = ((32,), (64,), (128,), (256,), (512,))
    return AnchorGenerator(anchor_sizes, ((0.5, 1.0, 2.0),) * len(anchor_sizes))


class FasterRCNN(GeneralizedRCNN):
    """Faster R-CNN over ``backbone`` (which must have ``out_channels``; a tensor or an ordered dict of maps out).

    The images are a list of ``[C, H, W]`` floats in ``[0, 1]``. In training the targets are one dict per image
    with ``boxes`` (``[N, 4]``, x1 y1 x2 y2) and ``labels`` (int64, 0 is the background) and the model returns its
    losses (``loss_classifier``, ``loss_box_reg``, ``loss_objectness``, ``loss_rpn_box_reg``); in eval it returns
    one dict per image of ``boxes``, ``labels``, ``scores``. Give ``num_classes`` or a ``box_predictor``; every
    other argument is a setting of the transform (``min_size``, ``max_size``, ``image_mean``, ``image_std``), the
    RPN (``rpn_*``) or the RoI heads (``box_*``, ``bbox_reg_weights``), defaulting to torchvision's."""

    def __init__(self, backbone, num_classes=None, min_size=800, max_size=1333, image_mean=None, image_std=None,
                 rpn_anchor_generator=None, rpn_head=None, rpn_pre_nms_top_n_train=2000, rpn_pre_nms_top_n_test=1000,
                 rpn_post_nms_top_n_train=2000, rpn_post_nms_top_n_test=1000, rpn_nms_thresh=0.7,
                 rpn_fg_iou_thresh=0.7, rpn_bg_iou_thresh=0.3, rpn_batch_size_per_image=256,
                 rpn_positive_fraction=0.5, rpn_score_thresh=0.0, box_roi_pool=None, box_head=None,
                 box_predictor=None, box_score_thresh=0.05, box_nms_thresh=0.5, box_detections_per_img=100,
                 box_fg_iou_thresh=0.5, box_bg_iou_thresh=0.5, box_batch_size_per_image=512,
                 box_positive_fraction=0.25, bbox_reg_weights=None, **kwargs):
        if not hasattr(backbone, "out_channels"):
            raise ValueError("backbone should contain an attribute out_channels specifying the number of output "
                             "channels (assumed to be the same for all the levels)")
        if not isinstance(rpn_anchor_generator, (AnchorGenerator, type(None))):
            raise TypeError(f"rpn_anchor_generator should be of type AnchorGenerator or None instead of "
                            f"{type(rpn_anchor_generator)}")
        if not isinstance(box_roi_pool, (MultiScaleRoIAlign, type(None))):
            raise TypeError(f"box_roi_pool should be of type MultiScaleRoIAlign or None instead of "
                            f"{type(box_roi_pool)}")
        if num_classes is not None:
            if box_predictor is not None:
                raise ValueError("num_classes should be None when box_predictor is specified")
        elif box_predictor is None:
            raise ValueError("num_classes should not be None when box_predictor is not specified")
        out_channels = backbone.out_channels
        if rpn_anchor_generator is None:
            rpn_anchor_generator = _default_anchorgen()
        if rpn_head is None:
            rpn_head = RPNHead(out_channels, rpn_anchor_generator.num_anchors_per_location()[0])
        rpn = RegionProposalNetwork(
            rpn_anchor_generator, rpn_head, rpn_fg_iou_thresh, rpn_bg_iou_thresh, rpn_batch_size_per_image,
            rpn_positive_fraction, dict(training=rpn_pre_nms_top_n_train, testing=rpn_pre_nms_top_n_test),
            dict(training=rpn_post_nms_top_n_train, testing=rpn_post_nms_top_n_test), rpn_nms_thresh,
            score_thresh=rpn_score_thresh)
        if box_roi_pool is None:
            box_roi_pool = MultiScaleRoIAlign(featmap_names=["0", "1", "2", "3"], output_size=7, sampling_ratio=2)
        if box_head is None:
            resolution = box_roi_pool.output_size[0]
            box_head = TwoMLPHead(out_channels * resolution**2, 1024)
        if box_predictor is None:
            box_predictor = FastRCNNPredictor(1024, num_classes)
        roi_heads = RoIHeads(box_roi_pool, box_head, box_predictor, box_fg_iou_thresh, box_bg_iou_thresh,
                             box_batch_size_per_image, box_positive_fraction, bbox_reg_weights, box_score_thresh,
                             box_nms_thresh, box_detections_per_img)
        if image_mean is None:
            image_mean = [0.485, 0.456, 0.406]
        if image_std is None:
            image_std = [0.229, 0.224, 0.225]
        transform = GeneralizedRCNNTransform(min_size, max_size, image_mean, image_std, **kwargs)
        super().__init__(backbone, rpn, roi_heads, transform)


class TwoMLPHead(nn.Module):
    """The box head of FPN models: flatten, then two Linear-ReLU layers (``fc6``, ``fc7``)."""

    def __init__(self, in_channels, representation_size):
        super().__init__()
        self.fc6 = nn.Linear(in_channels, representation_size)
        self.fc7 = nn.Linear(representation_size, representation_size)

    def forward(self, x):
        return F.relu(self.fc7(F.relu(self.fc6(x.flatten(start_dim=1)))))


class FastRCNNConvFCHead(nn.Sequential):
    """The v2 box head: 3x3 conv-norm-ReLU blocks (``conv_layers`` channels), flatten, Linear-ReLU layers
    (``fc_layers`` sizes) on pooled features of ``input_size`` (C, H, W)."""

    def __init__(self, input_size, conv_layers, fc_layers, norm_layer=None):
        in_channels, in_height, in_width = input_size
        blocks = []
        previous_channels = in_channels
        for current_channels in conv_layers:
            blocks.append(misc_nn_ops.Conv2dNormActivation(previous_channels, current_channels,
                                                           norm_layer=norm_layer))
            previous_channels = current_channels
        blocks.append(nn.Flatten())
        previous_channels = previous_channels * in_height * in_width
        for current_channels in fc_layers:
            blocks.append(nn.Linear(previous_channels, current_channels))
            blocks.append(nn.ReLU(inplace=True))
            previous_channels = current_channels
        super().__init__(*blocks)
        for layer in self.modules():
            if isinstance(layer, nn.Conv2d):
                nn.init.kaiming_normal_(layer.weight, mode="fan_out", nonlinearity="relu")
                if layer.bias is not None:
                    nn.init.zeros_(layer.bias)


class FastRCNNPredictor(nn.Module):
    """Class logits (``cls_score``) and per-class box deltas (``bbox_pred``) from each RoI's representation."""

    def __init__(self, in_channels, num_classes):
        super().__init__()
        self.cls_score = nn.Linear(in_channels, num_classes)
        self.bbox_pred = nn.Linear(in_channels, num_classes * 4)

    def forward(self, x):
        if x.dim() == 4 and list(x.shape[2:]) != [1, 1]:
            raise AssertionError(f"x has the wrong shape, expecting the last two dimensions to be [1,1] instead of "
                                 f"{list(x.shape[2:])}")
        x = x.flatten(start_dim=1)
        return self.cls_score(x), self.bbox_pred(x)


_COMMON_META = {"categories": _COCO_CATEGORIES, "min_size": (1, 1)}
_PAPER_RECIPE = "These weights were produced by following a similar training recipe as on the paper."
_RECIPES = "https://github.com/pytorch/vision/tree/main/references/detection"


def _coco_weights(url, num_params, recipe, box_map, ops, file_size, docs=_PAPER_RECIPE, **metrics):
    """A COCO detection checkpoint's :class:`Weights` with torchvision's meta."""
    return Weights(url=url, transforms=ObjectDetection, meta={
        **_COMMON_META, "num_params": num_params, "recipe": recipe,
        "_metrics": {"COCO-val2017": {"box_map": box_map, **metrics}}, "_ops": ops, "_file_size": file_size,
        "_docs": docs})


class FasterRCNN_ResNet50_FPN_Weights(WeightsEnum):
    """COCO weights of ``fasterrcnn_resnet50_fpn`` (torchvision's url and meta)."""

    COCO_V1 = _coco_weights("https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_coco-258fb6c6.pth",
                            41755286, f"{_RECIPES}#faster-r-cnn-resnet-50-fpn", 37.0, 134.38, 159.743)
    DEFAULT = COCO_V1


class FasterRCNN_ResNet50_FPN_V2_Weights(WeightsEnum):
    """COCO weights of ``fasterrcnn_resnet50_fpn_v2`` (torchvision's url and meta)."""

    COCO_V1 = _coco_weights(
        "https://download.pytorch.org/models/fasterrcnn_resnet50_fpn_v2_coco-dd69338a.pth", 43712278,
        "https://github.com/pytorch/vision/pull/5763", 46.7, 280.371, 167.104,
        "These weights were produced using an enhanced training recipe to boost the model accuracy.")
    DEFAULT = COCO_V1


class FasterRCNN_MobileNet_V3_Large_FPN_Weights(WeightsEnum):
    """COCO weights of ``fasterrcnn_mobilenet_v3_large_fpn`` (torchvision's url and meta)."""

    COCO_V1 = _coco_weights("https://download.pytorch.org/models/fasterrcnn_mobilenet_v3_large_fpn-fb6a3cc7.pth",
                            19386354, f"{_RECIPES}#faster-r-cnn-mobilenetv3-large-fpn", 32.8, 4.494, 74.239)
    DEFAULT = COCO_V1


class FasterRCNN_MobileNet_V3_Large_320_FPN_Weights(WeightsEnum):
    """COCO weights of ``fasterrcnn_mobilenet_v3_large_320_fpn`` (torchvision's url and meta)."""

    COCO_V1 = _coco_weights(
        "https://download.pytorch.org/models/fasterrcnn_mobilenet_v3_large_320_fpn-907ea3f9.pth", 19386354,
        f"{_RECIPES}#faster-r-cnn-mobilenetv3-large-320-fpn", 22.8, 0.719, 74.239)
    DEFAULT = COCO_V1


def _detection_setup(weights, num_classes, weights_backbone):
    """(num_classes, weights_backbone, is_trained) as torchvision's builders settle them: full weights fix the class
    count and drop the backbone weights; otherwise 91 classes by default."""
    if weights is not None:
        weights_backbone = None
        num_classes = _ovewrite_value_param("num_classes", num_classes, len(weights.meta["categories"]))
    elif num_classes is None:
        num_classes = 91
    return num_classes, weights_backbone, weights is not None or weights_backbone is not None


def _load_detection_weights(model, weights, progress):
    if weights is not None:
        model.load_state_dict(weights.get_state_dict(progress=progress, check_hash=True))
    return model


@register_model()
@handle_legacy_interface(weights=("pretrained", FasterRCNN_ResNet50_FPN_Weights.COCO_V1),
                         weights_backbone=("pretrained_backbone", ResNet50_Weights.IMAGENET1K_V1))
def fasterrcnn_resnet50_fpn(*, weights: Optional[FasterRCNN_ResNet50_FPN_Weights] = None, progress=True,
                            num_classes=None,
                            weights_backbone: Optional[ResNet50_Weights] = ResNet50_Weights.IMAGENET1K_V1,
                            trainable_backbone_layers=None, **kwargs):
    """Faster R-CNN with a ResNet-50 FPN backbone; frozen batch norm when any weights are loaded, otherwise batch
    norm and every layer trainable. ``kwargs`` go to :class:`FasterRCNN`."""
    weights = FasterRCNN_ResNet50_FPN_Weights.verify(weights)
    weights_backbone = ResNet50_Weights.verify(weights_backbone)
    num_classes, weights_backbone, is_trained = _detection_setup(weights, num_classes, weights_backbone)
    trainable_backbone_layers = _validate_trainable_layers(is_trained, trainable_backbone_layers, 5, 3)
    norm_layer = misc_nn_ops.FrozenBatchNorm2d if is_trained else nn.BatchNorm2d
    backbone = resnet50(weights=weights_backbone, progress=progress, norm_layer=norm_layer)
    backbone = _resnet_fpn_extractor(backbone, trainable_backbone_layers)
    model = _load_detection_weights(FasterRCNN(backbone, num_classes=num_classes, **kwargs), weights, progress)
    if weights == FasterRCNN_ResNet50_FPN_Weights.COCO_V1:
        overwrite_eps(model, 0.0)
    return model


@register_model()
@handle_legacy_interface(weights=("pretrained", FasterRCNN_ResNet50_FPN_V2_Weights.COCO_V1),
                         weights_backbone=("pretrained_backbone", ResNet50_Weights.IMAGENET1K_V1))
def fasterrcnn_resnet50_fpn_v2(*, weights: Optional[FasterRCNN_ResNet50_FPN_V2_Weights] = None, progress=True,
                               num_classes=None, weights_backbone: Optional[ResNet50_Weights] = None,
                               trainable_backbone_layers=None, **kwargs):
    """Faster R-CNN v2 (arXiv:2111.11429): batch-normed FPN, a two-conv RPN head and a four-conv box head."""
    weights = FasterRCNN_ResNet50_FPN_V2_Weights.verify(weights)
    weights_backbone = ResNet50_Weights.verify(weights_backbone)
    num_classes, weights_backbone, is_trained = _detection_setup(weights, num_classes, weights_backbone)
    trainable_backbone_layers = _validate_trainable_layers(is_trained, trainable_backbone_layers, 5, 3)
    backbone = resnet50(weights=weights_backbone, progress=progress)
    backbone = _resnet_fpn_extractor(backbone, trainable_backbone_layers, norm_layer=nn.BatchNorm2d)
    rpn_anchor_generator = _default_anchorgen()
    rpn_head = RPNHead(backbone.out_channels, rpn_anchor_generator.num_anchors_per_location()[0], conv_depth=2)
    box_head = FastRCNNConvFCHead((backbone.out_channels, 7, 7), [256, 256, 256, 256], [1024],
                                  norm_layer=nn.BatchNorm2d)
    model = FasterRCNN(backbone, num_classes=num_classes, rpn_anchor_generator=rpn_anchor_generator,
                       rpn_head=rpn_head, box_head=box_head, **kwargs)
    return _load_detection_weights(model, weights, progress)


def _fasterrcnn_mobilenet_v3_large_fpn(*, weights: Optional[Union[FasterRCNN_MobileNet_V3_Large_FPN_Weights,
                                                                  FasterRCNN_MobileNet_V3_Large_320_FPN_Weights]],
                                       progress, num_classes, weights_backbone, trainable_backbone_layers, **kwargs):
    num_classes, weights_backbone, is_trained = _detection_setup(weights, num_classes, weights_backbone)
    trainable_backbone_layers = _validate_trainable_layers(is_trained, trainable_backbone_layers, 6, 3)
    norm_layer = misc_nn_ops.FrozenBatchNorm2d if is_trained else nn.BatchNorm2d
    backbone = mobilenet_v3_large(weights=weights_backbone, progress=progress, norm_layer=norm_layer)
    backbone = _mobilenet_extractor(backbone, True, trainable_backbone_layers)
    anchor_sizes = ((32, 64, 128, 256, 512),) * 3
    aspect_ratios = ((0.5, 1.0, 2.0),) * len(anchor_sizes)
    model = FasterRCNN(backbone, num_classes, rpn_anchor_generator=AnchorGenerator(anchor_sizes, aspect_ratios),
                       **kwargs)
    return _load_detection_weights(model, weights, progress)


@register_model()
@handle_legacy_interface(weights=("pretrained", FasterRCNN_MobileNet_V3_Large_320_FPN_Weights.COCO_V1),
                         weights_backbone=("pretrained_backbone", MobileNet_V3_Large_Weights.IMAGENET1K_V1))
def fasterrcnn_mobilenet_v3_large_320_fpn(
        *, weights: Optional[FasterRCNN_MobileNet_V3_Large_320_FPN_Weights] = None, progress=True, num_classes=None,
        weights_backbone: Optional[MobileNet_V3_Large_Weights] = MobileNet_V3_Large_Weights.IMAGENET1K_V1,
        trainable_backbone_layers=None, **kwargs):
    """Faster R-CNN with a MobileNetV3-Large FPN backbone tuned for 320-pixel images (fewer proposals)."""
    weights = FasterRCNN_MobileNet_V3_Large_320_FPN_Weights.verify(weights)
    weights_backbone = MobileNet_V3_Large_Weights.verify(weights_backbone)
    defaults = {"min_size": 320, "max_size": 640, "rpn_pre_nms_top_n_test": 150, "rpn_post_nms_top_n_test": 150,
                "rpn_score_thresh": 0.05}
    return _fasterrcnn_mobilenet_v3_large_fpn(weights=weights, progress=progress, num_classes=num_classes,
                                              weights_backbone=weights_backbone,
                                              trainable_backbone_layers=trainable_backbone_layers,
                                              **{**defaults, **kwargs})


@register_model()
@handle_legacy_interface(weights=("pretrained", FasterRCNN_MobileNet_V3_Large_FPN_Weights.COCO_V1),
                         weights_backbone=("pretrained_backbone", MobileNet_V3_Large_Weights.IMAGENET1K_V1))
def fasterrcnn_mobilenet_v3_large_fpn(
        *, weights: Optional[FasterRCNN_MobileNet_V3_Large_FPN_Weights] = None, progress=True, num_classes=None,
        weights_backbone: Optional[MobileNet_V3_Large_Weights] = MobileNet_V3_Large_Weights.IMAGENET1K_V1,
        trainable_backbone_layers=None, **kwargs):
    """Faster R-CNN with a MobileNetV3-Large FPN backbone (high resolution)."""
    weights = FasterRCNN_MobileNet_V3_Large_FPN_Weights.verify(weights)
    weights_backbone = MobileNet_V3_Large_Weights.verify(weights_backbone)
    return _fasterrcnn_mobilenet_v3_large_fpn(weights=weights, progress=progress, num_classes=num_classes,
                                              weights_backbone=weights_backbone,
                                              trainable_backbone_layers=trainable_backbone_layers,
                                              **{"rpn_score_thresh": 0.05, **kwargs})
