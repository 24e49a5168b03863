"""RetinaNet (arXiv:1708.02002): a one-stage detector, a classification and a box-regression head shared over FPN
levels, trained with the focal loss; the ResNet-50 FPN builders with torchvision's COCO weights."""
import math
from collections import OrderedDict
from functools import partial
from typing import Optional

import ember
from ember import nn

from ...ops import boxes as box_ops
from ...ops import misc as misc_nn_ops
from ...ops import sigmoid_focal_loss
from ...ops.feature_pyramid_network import LastLevelP6P7
from .._api import WeightsEnum, register_model
from .._utils import handle_legacy_interface
from ..resnet import ResNet50_Weights, resnet50
from . import _utils as det_utils
from ._utils import _box_loss, overwrite_eps
from .anchor_utils import AnchorGenerator
from .backbone_utils import _resnet_fpn_extractor, _validate_trainable_layers
from .faster_rcnn import _coco_weights, _detection_setup, _load_detection_weights
from .generalized_rcnn import _check_degenerate_boxes
from .transform import GeneralizedRCNNTransform

__all__ = ["RetinaNet", "RetinaNet_ResNet50_FPN_Weights", "RetinaNet_ResNet50_FPN_V2_Weights",
           "retinanet_resnet50_fpn", "retinanet_resnet50_fpn_v2"]


def _sum(x):
    res = x[0]
    for i in x[1:]:
        res = res + i
    return res


def _v1_to_v2_weights(state_dict, prefix):
    # checkpoints before version 2 held bare convs between ReLUs: `conv.2.weight` is now `conv.1.0.weight`
    for i in range(4):
        for kind in ["weight", "bias"]:
            old_key = f"{prefix}conv.{2 * i}.{kind}"
            if old_key in state_dict:
                state_dict[f"{prefix}conv.{i}.0.{kind}"] = state_dict.pop(old_key)


def _default_anchorgen():
    anchor_sizes = tuple((x, int(x * 2 ** (1.0 / 3)), int(x * 2 ** (2.0 / 3))) for x in [32, 64, 128, 256, 512])
    return AnchorGenerator(anchor_sizes, ((0.5, 1.0, 2.0),) * len(anchor_sizes))


def _flatten_levels(outputs, width):
    """Per-level ``[N, A * width, H, W]`` maps as one ``[N, sum(H * W * A), width]`` tensor."""
    flat = []
    for out in outputs:
        N, _, H, W = out.shape
        flat.append(out.view(N, -1, width, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, width))
    return ember.cat(flat, dim=1)


class _ConvTower(nn.Module):
    """Four 3x3 conv-(norm)-ReLU blocks (``conv``), initialised N(0, 0.01), reading version-1 checkpoints."""

    _version = 2

    def _tower(self, in_channels, norm_layer):
        self.conv = nn.Sequential(*[misc_nn_ops.Conv2dNormActivation(in_channels, in_channels,
                                                                     norm_layer=norm_layer) for _ in range(4)])

    def _init_tower(self):
        for layer in self.conv.modules():
            if isinstance(layer, nn.Conv2d):
                nn.init.normal_(layer.weight, std=0.01)
                if layer.bias is not None:
                    nn.init.constant_(layer.bias, 0)

    def _load_from_state_dict(self, state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                              error_msgs):
        version = local_metadata.get("version", None)
        if version is None or version < 2:
            _v1_to_v2_weights(state_dict, prefix)
        super()._load_from_state_dict(state_dict, prefix, local_metadata, strict, missing_keys, unexpected_keys,
                                      error_msgs)


class RetinaNetClassificationHead(_ConvTower):
    """Class logits for every anchor (``cls_logits`` biased to ``prior_probability``); the sigmoid focal loss over
    the anchors not between the matching thresholds, per image divided by its foreground count."""

    def __init__(self, in_channels, num_anchors, num_classes, prior_probability=0.01, norm_layer=None):
        super().__init__()
        self._tower(in_channels, norm_layer)
        self._init_tower()
        self.cls_logits = nn.Conv2d(in_channels, num_anchors * num_classes, kernel_size=3, stride=1, padding=1)
        nn.init.normal_(self.cls_logits.weight, std=0.01)
        nn.init.constant_(self.cls_logits.bias, -math.log((1 - prior_probability) / prior_probability))
        self.num_classes = num_classes
        self.num_anchors = num_anchors
        self.BETWEEN_THRESHOLDS = det_utils.Matcher.BETWEEN_THRESHOLDS

    def compute_loss(self, targets, head_outputs, matched_idxs):
        """The mean over images of each image's focal loss."""
        losses = []
        for target, cls_logits, matched in zip(targets, head_outputs["cls_logits"], matched_idxs):
            foreground = matched >= 0
            num_foreground = foreground.sum()
            gt_classes_target = ember.zeros_like(cls_logits)
            gt_classes_target[foreground, target["labels"][matched[foreground]]] = 1.0
            valid = matched != self.BETWEEN_THRESHOLDS
            losses.append(sigmoid_focal_loss(cls_logits[valid], gt_classes_target[valid], reduction="sum")
                          / max(1, num_foreground))
        return _sum(losses) / len(targets)

    def forward(self, x):
        return _flatten_levels([self.cls_logits(self.conv(features)) for features in x], self.num_classes)


class RetinaNetRegressionHead(_ConvTower):
    """Box deltas for every anchor (``bbox_reg``); the L1 loss (``_loss_type``: "giou" in v2) of the foreground
    anchors, per image divided by their count."""

    def __init__(self, in_channels, num_anchors, norm_layer=None):
        super().__init__()
        self._tower(in_channels, norm_layer)
        self.bbox_reg = nn.Conv2d(in_channels, num_anchors * 4, kernel_size=3, stride=1, padding=1)
        nn.init.normal_(self.bbox_reg.weight, std=0.01)
        nn.init.zeros_(self.bbox_reg.bias)
        self._init_tower()  # after bbox_reg's, in torchvision's order of draws
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        self._loss_type = "l1"

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        """The mean over images of each image's box loss."""
        losses = []
        for target, bbox_regression, anchors_per_image, matched in zip(targets, head_outputs["bbox_regression"],
                                                                       anchors, matched_idxs):
            foreground = ember.where(matched >= 0)[0]
            matched_gt_boxes = target["boxes"][matched[foreground]]
            losses.append(_box_loss(self._loss_type, self.box_coder, anchors_per_image[foreground, :],
                                    matched_gt_boxes, bbox_regression[foreground, :]) / max(1, foreground.numel()))
        return _sum(losses) / max(1, len(targets))

    def forward(self, x):
        return _flatten_levels([self.bbox_reg(self.conv(features)) for features in x], 4)


class RetinaNetHead(nn.Module):
    """The classification and regression heads side by side."""

    def __init__(self, in_channels, num_anchors, num_classes, norm_layer=None):
        super().__init__()
        self.classification_head = RetinaNetClassificationHead(in_channels, num_anchors, num_classes,
                                                               norm_layer=norm_layer)
        self.regression_head = RetinaNetRegressionHead(in_channels, num_anchors, norm_layer=norm_layer)

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        """``classification`` and ``bbox_regression`` losses."""
        return {"classification": self.classification_head.compute_loss(targets, head_outputs, matched_idxs),
                "bbox_regression": self.regression_head.compute_loss(targets, head_outputs, anchors, matched_idxs)}

    def forward(self, x):
        return {"cls_logits": self.classification_head(x), "bbox_regression": self.regression_head(x)}


class RetinaNet(nn.Module):
    """RetinaNet over ``backbone`` (with ``out_channels``). Anchors matching a ground truth by ``fg_iou_thresh`` are
    foreground, under ``bg_iou_thresh`` background (each ground truth keeps its best anchors). Training returns the
    ``classification`` and ``bbox_regression`` losses; eval keeps, per level, the ``topk_candidates`` best
    (anchor, class) scores over ``score_thresh``, then NMS per class at ``nms_thresh`` and the
    ``detections_per_img`` best."""

    def __init__(self, backbone, num_classes, min_size=800, max_size=1333, image_mean=None, image_std=None,
                 anchor_generator=None, head=None, proposal_matcher=None, score_thresh=0.05, nms_thresh=0.5,
                 detections_per_img=300, fg_iou_thresh=0.5, bg_iou_thresh=0.4, topk_candidates=1000, **kwargs):
        super().__init__()
        if not hasattr(backbone, "out_channels"):
            raise ValueError("backbone should contain an attribute out_channels specifying the number of output "
                             "channels (assumed to be the same for all the levels)")
        self.backbone = backbone
        if not isinstance(anchor_generator, (AnchorGenerator, type(None))):
            raise TypeError(f"anchor_generator should be of type AnchorGenerator or None instead of "
                            f"{type(anchor_generator)}")
        if anchor_generator is None:
            anchor_generator = _default_anchorgen()
        self.anchor_generator = anchor_generator
        if head is None:
            head = RetinaNetHead(backbone.out_channels, anchor_generator.num_anchors_per_location()[0], num_classes)
        self.head = head
        if proposal_matcher is None:
            proposal_matcher = det_utils.Matcher(fg_iou_thresh, bg_iou_thresh, allow_low_quality_matches=True)
        self.proposal_matcher = proposal_matcher
        self.box_coder = det_utils.BoxCoder(weights=(1.0, 1.0, 1.0, 1.0))
        if image_mean is None:
            image_mean = [0.485, 0.456, 0.406]
        if image_std is None:
            image_std = [0.229, 0.224, 0.225]
        self.transform = GeneralizedRCNNTransform(min_size, max_size, image_mean, image_std, **kwargs)
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        """The losses in training mode, the detections otherwise."""
        return losses if self.training else detections

    def compute_loss(self, targets, head_outputs, anchors):
        """The head's losses with every image's anchors matched to its boxes (-1 everywhere without boxes)."""
        matched_idxs = []
        for anchors_per_image, target in zip(anchors, targets):
            if target["boxes"].numel() == 0:
                matched_idxs.append(ember.full((anchors_per_image.size(0),), -1, dtype=ember.int64,
                                               device=anchors_per_image.device))
            else:
                matched_idxs.append(self.proposal_matcher(box_ops.box_iou(target["boxes"], anchors_per_image)))
        return self.head.compute_loss(targets, head_outputs, anchors, matched_idxs)

    def postprocess_detections(self, head_outputs, anchors, image_shapes):
        """Per image: boxes, scores and labels of the kept detections (see the class); inputs split per level."""
        detections = []
        for index, image_shape in enumerate(image_shapes):
            image_boxes, image_scores, image_labels = [], [], []
            for box_regression, logits, level_anchors in zip(
                    [br[index] for br in head_outputs["bbox_regression"]],
                    [cl[index] for cl in head_outputs["cls_logits"]], anchors[index]):
                num_classes = logits.shape[-1]
                scores = ember.sigmoid(logits).flatten()
                keep_idxs = scores > self.score_thresh
                scores = scores[keep_idxs]
                topk_idxs = ember.where(keep_idxs)[0]
                scores, idxs = scores.topk(det_utils._topk_min(topk_idxs, self.topk_candidates, 0))
                topk_idxs = topk_idxs[idxs]
                anchor_idxs = ember.div(topk_idxs, num_classes, rounding_mode="floor")
                boxes = self.box_coder.decode_single(box_regression[anchor_idxs], level_anchors[anchor_idxs])
                image_boxes.append(box_ops.clip_boxes_to_image(boxes, image_shape))
                image_scores.append(scores)
                image_labels.append(topk_idxs % num_classes)
            image_boxes = ember.cat(image_boxes, dim=0)
            image_scores = ember.cat(image_scores, dim=0)
            image_labels = ember.cat(image_labels, dim=0)
            keep = box_ops.batched_nms(image_boxes, image_scores, image_labels, self.nms_thresh)
            keep = keep[: self.detections_per_img]
            detections.append({"boxes": image_boxes[keep], "scores": image_scores[keep],
                               "labels": image_labels[keep]})
        return detections

    def forward(self, images, targets=None):
        """Losses in training (``targets`` as for :class:`FasterRCNN`), one dict of detections per image in eval."""
        if self.training:
            if targets is None:
                raise AssertionError("targets should not be none when in training mode")
            for target in targets:
                boxes = target["boxes"]
                if not isinstance(boxes, ember.Tensor):
                    raise AssertionError("Expected target boxes to be of type Tensor.")
                if not (len(boxes.shape) == 2 and boxes.shape[-1] == 4):
                    raise AssertionError("Expected target boxes to be a tensor of shape [N, 4].")
        original_image_sizes = [(img.shape[-2], img.shape[-1]) for img in images]
        images, targets = self.transform(images, targets)
        if targets is not None:
            _check_degenerate_boxes(targets)
        features = self.backbone(images.tensors)
        if isinstance(features, ember.Tensor):
            features = OrderedDict([("0", features)])
        features = list(features.values())
        head_outputs = self.head(features)
        anchors = self.anchor_generator(images, features)
        losses, detections = {}, []
        if self.training:
            losses = self.compute_loss(targets, head_outputs, anchors)
        else:
            # split the outputs and anchors back into levels
            hw_per_level = [x.size(2) * x.size(3) for x in features]
            A = head_outputs["cls_logits"].size(1) // sum(hw_per_level)
            per_level = [hw * A for hw in hw_per_level]
            split_outputs = {k: list(v.split(per_level, dim=1)) for k, v in head_outputs.items()}
            split_anchors = [list(a.split(per_level)) for a in anchors]
            detections = self.postprocess_detections(split_outputs, split_anchors, images.image_sizes)
            detections = self.transform.postprocess(detections, images.image_sizes, original_image_sizes)
        return self.eager_outputs(losses, detections)


class RetinaNet_ResNet50_FPN_Weights(WeightsEnum):
    """COCO weights of ``retinanet_resnet50_fpn`` (torchvision's url and meta)."""

    COCO_V1 = _coco_weights("https://download.pytorch.org/models/retinanet_resnet50_fpn_coco-eeacb38b.pth",
                            34014999, "https://github.com/pytorch/vision/tree/main/references/detection#retinanet",
                            36.4, 151.54, 130.267)
    DEFAULT = COCO_V1


class RetinaNet_ResNet50_FPN_V2_Weights(WeightsEnum):
    """COCO weights of ``retinanet_resnet50_fpn_v2`` (torchvision's url and meta)."""

    COCO_V1 = _coco_weights(
        "https://download.pytorch.org/models/retinanet_resnet50_fpn_v2_coco-5905b1c5.pth", 38198935,
        "https://github.com/pytorch/vision/pull/5756", 41.5, 152.238, 146.037,
        "These weights were produced using an enhanced training recipe to boost the model accuracy.")
    DEFAULT = COCO_V1


@register_model()
@handle_legacy_interface(weights=("pretrained", RetinaNet_ResNet50_FPN_Weights.COCO_V1),
                         weights_backbone=("pretrained_backbone", ResNet50_Weights.IMAGENET1K_V1))
def retinanet_resnet50_fpn(*, weights: Optional[RetinaNet_ResNet50_FPN_Weights] = None, progress=True,
                           num_classes=None,
                           weights_backbone: Optional[ResNet50_Weights] = ResNet50_Weights.IMAGENET1K_V1,
                           trainable_backbone_layers=None, **kwargs):
    """RetinaNet with a ResNet-50 FPN backbone (P3-P7); ``kwargs`` go to :class:`RetinaNet`."""
    weights = RetinaNet_ResNet50_FPN_Weights.verify(weights)
    weights_backbone = ResNet50_Weights.verify(weights_backbone)
    num_classes, weights_backbone, is_trained = _detection_setup(weights, num_classes, weights_backbone)
    trainable_backbone_layers = _validate_trainable_layers(is_trained, trainable_backbone_layers, 5, 3)
    norm_layer = misc_nn_ops.FrozenBatchNorm2d if is_trained else nn.BatchNorm2d
    backbone = resnet50(weights=weights_backbone, progress=progress, norm_layer=norm_layer)
    backbone = _resnet_fpn_extractor(backbone, trainable_backbone_layers, returned_layers=[2, 3, 4],
                                     extra_blocks=LastLevelP6P7(256, 256))
    model = _load_detection_weights(RetinaNet(backbone, num_classes, **kwargs), weights, progress)
    if weights == RetinaNet_ResNet50_FPN_Weights.COCO_V1:
        overwrite_eps(model, 0.0)
    return model


@register_model()
@handle_legacy_interface(weights=("pretrained", RetinaNet_ResNet50_FPN_V2_Weights.COCO_V1),
                         weights_backbone=("pretrained_backbone", ResNet50_Weights.IMAGENET1K_V1))
def retinanet_resnet50_fpn_v2(*, weights: Optional[RetinaNet_ResNet50_FPN_V2_Weights] = None, progress=True,
                              num_classes=None, weights_backbone: Optional[ResNet50_Weights] = None,
                              trainable_backbone_layers=None, **kwargs):
    """RetinaNet v2 (arXiv:1912.02424): P6 from C5, group-normed heads, GIoU box loss."""
    weights = RetinaNet_ResNet50_FPN_V2_Weights.verify(weights)
    weights_backbone = ResNet50_Weights.verify(weights_backbone)
    num_classes, weights_backbone, is_trained = _detection_setup(weights, num_classes, weights_backbone)
    trainable_backbone_layers = _validate_trainable_layers(is_trained, trainable_backbone_layers, 5, 3)
    backbone = resnet50(weights=weights_backbone, progress=progress)
    backbone = _resnet_fpn_extractor(backbone, trainable_backbone_layers, returned_layers=[2, 3, 4],
                                     extra_blocks=LastLevelP6P7(2048, 256))
    anchor_generator = _default_anchorgen()
    head = RetinaNetHead(backbone.out_channels, anchor_generator.num_anchors_per_location()[0], num_classes,
                         norm_layer=partial(nn.GroupNorm, 32))
    head.regression_head._loss_type = "giou"
    model = RetinaNet(backbone, num_classes, anchor_generator=anchor_generator, head=head, **kwargs)
    return _load_detection_weights(model, weights, progress)
