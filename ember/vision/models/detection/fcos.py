"""FCOS (arXiv:1904.01355): an anchor-free one-stage detector (one point per location) with classification,
edge-distance regression and centerness heads over FPN levels; the ResNet-50 FPN builder with torchvision's COCO
weights."""
import math
from collections import OrderedDict
from functools import partial
from typing import Optional

import ember
from ember import nn
from ember.nn import functional as F

from ...ops import boxes as box_ops
from ...ops import generalized_box_iou_loss, sigmoid_focal_loss
from ...ops import misc as misc_nn_ops
from ...ops.feature_pyramid_network import LastLevelP6P7
from ...transforms._presets import ObjectDetection
from .._api import Weights, WeightsEnum, register_model
from .._meta import _COCO_CATEGORIES
from .._utils import handle_legacy_interface
from ..resnet import ResNet50_Weights, resnet50
from . import _utils as det_utils
from .anchor_utils import AnchorGenerator
from .backbone_utils import _resnet_fpn_extractor, _validate_trainable_layers
from .faster_rcnn import _detection_setup, _load_detection_weights
from .generalized_rcnn import _check_degenerate_boxes
from .transform import GeneralizedRCNNTransform

__all__ = ["FCOS", "FCOS_ResNet50_FPN_Weights", "fcos_resnet50_fpn"]


def _conv_tower(in_channels, num_convs, norm_layer):
    layers = []
    for _ in range(num_convs):
        layers += [nn.Conv2d(in_channels, in_channels, kernel_size=3, stride=1, padding=1), norm_layer(in_channels),
                   nn.ReLU()]
    return nn.Sequential(*layers)


def _init_tower(tower):
    for layer in tower.children():
        if isinstance(layer, nn.Conv2d):
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.constant_(layer.bias, 0)


def _flatten(out, width):
    N, _, H, W = out.shape
    return out.view(N, -1, width, H, W).permute(0, 3, 4, 1, 2).reshape(N, -1, width)


class FCOSClassificationHead(nn.Module):
    """``num_convs`` conv-norm-ReLU blocks (group norm by default), then class logits biased to
    ``prior_probability``."""

    def __init__(self, in_channels, num_anchors, num_classes, num_convs=4, prior_probability=0.01, norm_layer=None):
        super().__init__()
        self.num_classes = num_classes
        self.num_anchors = num_anchors
        self.conv = _conv_tower(in_channels, num_convs, norm_layer or partial(nn.GroupNorm, 32))
        _init_tower(self.conv)
        self.cls_logits = nn.Conv2d(in_channels, num_anchors * num_classes, kernel_size=3, stride=1, padding=1)
        nn.init.normal_(self.cls_logits.weight, std=0.01)
        nn.init.constant_(self.cls_logits.bias, -math.log((1 - prior_probability) / prior_probability))

    def forward(self, x):
        return ember.cat([_flatten(self.cls_logits(self.conv(f)), self.num_classes) for f in x], dim=1)


class FCOSRegressionHead(nn.Module):
    """``num_convs`` conv-norm-ReLU blocks, then edge distances (``bbox_reg``, through ReLU) and a centerness logit
    (``bbox_ctrness``) per location."""

    def __init__(self, in_channels, num_anchors, num_convs=4, norm_layer=None):
        super().__init__()
        self.conv = _conv_tower(in_channels, num_convs, norm_layer or partial(nn.GroupNorm, 32))
        self.bbox_reg = nn.Conv2d(in_channels, num_anchors * 4, kernel_size=3, stride=1, padding=1)
        self.bbox_ctrness = nn.Conv2d(in_channels, num_anchors * 1, kernel_size=3, stride=1, padding=1)
        for layer in [self.bbox_reg, self.bbox_ctrness]:
            nn.init.normal_(layer.weight, std=0.01)
            nn.init.zeros_(layer.bias)
        _init_tower(self.conv)

    def forward(self, x):
        regression, ctrness = [], []
        for features in x:
            feature = self.conv(features)
            regression.append(_flatten(F.relu(self.bbox_reg(feature)), 4))
            ctrness.append(_flatten(self.bbox_ctrness(feature), 1))
        return ember.cat(regression, dim=1), ember.cat(ctrness, dim=1)


class FCOSHead(nn.Module):
    """The classification and regression heads; the focal, GIoU and centerness losses."""

    def __init__(self, in_channels, num_anchors, num_classes, num_convs=4):
        super().__init__()
        self.box_coder = det_utils.BoxLinearCoder(normalize_by_size=True)
        self.classification_head = FCOSClassificationHead(in_channels, num_anchors, num_classes, num_convs)
        self.regression_head = FCOSRegressionHead(in_channels, num_anchors, num_convs)

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        """``classification``, ``bbox_regression`` and ``bbox_ctrness`` losses, each divided by the number of
        foreground locations."""
        cls_logits = head_outputs["cls_logits"]
        classes_targets, boxes_targets = [], []
        for target, matched in zip(targets, matched_idxs):
            if len(target["labels"]) == 0:
                gt_classes = target["labels"].new_zeros((len(matched),))
                gt_boxes = target["boxes"].new_zeros((len(matched), 4))
            else:
                gt_classes = target["labels"][matched.clip(min=0)]
                gt_boxes = target["boxes"][matched.clip(min=0)]
            gt_classes[matched < 0] = -1  # background
            classes_targets.append(gt_classes)
            boxes_targets.append(gt_boxes)
        boxes_targets, classes_targets = ember.stack(boxes_targets), ember.stack(classes_targets)
        anchors = ember.stack(anchors)
        foreground = classes_targets >= 0
        num_foreground = foreground.sum().item()
        gt_classes_targets = ember.zeros_like(cls_logits)
        gt_classes_targets[foreground, classes_targets[foreground]] = 1.0
        loss_cls = sigmoid_focal_loss(cls_logits, gt_classes_targets, reduction="sum")
        pred_boxes = self.box_coder.decode(head_outputs["bbox_regression"], anchors)
        loss_bbox_reg = generalized_box_iou_loss(pred_boxes[foreground], boxes_targets[foreground], reduction="sum")
        bbox_reg_targets = self.box_coder.encode(anchors, boxes_targets)
        if len(bbox_reg_targets) == 0:
            gt_ctrness_targets = bbox_reg_targets.new_zeros(bbox_reg_targets.size()[:-1])
        else:
            left_right = bbox_reg_targets[:, :, [0, 2]]
            top_bottom = bbox_reg_targets[:, :, [1, 3]]
            gt_ctrness_targets = ember.sqrt((left_right.min(dim=-1)[0] / left_right.max(dim=-1)[0])
                                            * (top_bottom.min(dim=-1)[0] / top_bottom.max(dim=-1)[0]))
        pred_centerness = head_outputs["bbox_ctrness"].squeeze(dim=2)
        loss_bbox_ctrness = F.binary_cross_entropy_with_logits(pred_centerness[foreground],
                                                               gt_ctrness_targets[foreground], reduction="sum")
        denominator = max(1, num_foreground)
        return {"classification": loss_cls / denominator, "bbox_regression": loss_bbox_reg / denominator,
                "bbox_ctrness": loss_bbox_ctrness / denominator}

    def forward(self, x):
        bbox_regression, bbox_ctrness = self.regression_head(x)
        return {"cls_logits": self.classification_head(x), "bbox_regression": bbox_regression,
                "bbox_ctrness": bbox_ctrness}


class FCOS(nn.Module):
    """FCOS over ``backbone`` (with ``out_channels``): one anchor per location (sizes 8-128, its level's stride),
    a location matches the smallest ground truth whose centre region (``center_sampling_radius`` strides) holds it
    and whose extent suits its level. Eval scores are ``sqrt(class * centerness)``; per level the
    ``topk_candidates`` best over ``score_thresh``, then NMS per class at ``nms_thresh``, ``detections_per_img``
    kept."""

    def __init__(self, backbone, num_classes, min_size=800, max_size=1333, image_mean=None, image_std=None,
                 anchor_generator=None, head=None, center_sampling_radius=1.5, score_thresh=0.2, nms_thresh=0.6,
                 detections_per_img=100, topk_candidates=1000, **kwargs):
        super().__init__()
        if not hasattr(backbone, "out_channels"):
            raise ValueError("backbone should contain an attribute out_channels specifying the number of output "
                             "channels (assumed to be the same for all the levels)")
        self.backbone = backbone
        if not isinstance(anchor_generator, (AnchorGenerator, type(None))):
            raise TypeError(f"anchor_generator should be of type AnchorGenerator or None, instead  got "
                            f"{type(anchor_generator)}")
        if anchor_generator is None:
            anchor_sizes = ((8,), (16,), (32,), (64,), (128,))  # the levels' strides
            anchor_generator = AnchorGenerator(anchor_sizes, ((1.0,),) * len(anchor_sizes))
        self.anchor_generator = anchor_generator
        if self.anchor_generator.num_anchors_per_location()[0] != 1:
            raise ValueError(f"anchor_generator.num_anchors_per_location()[0] should be 1 instead of "
                             f"{anchor_generator.num_anchors_per_location()[0]}")
        if head is None:
            head = FCOSHead(backbone.out_channels, anchor_generator.num_anchors_per_location()[0], num_classes)
        self.head = head
        self.box_coder = det_utils.BoxLinearCoder(normalize_by_size=True)
        if image_mean is None:
            image_mean = [0.485, 0.456, 0.406]
        if image_std is None:
            image_std = [0.229, 0.224, 0.225]
        self.transform = GeneralizedRCNNTransform(min_size, max_size, image_mean, image_std, **kwargs)
        self.center_sampling_radius = center_sampling_radius
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        """The losses in training mode, the detections otherwise."""
        return losses if self.training else detections

    def _match(self, anchors_per_image, gt_boxes, num_anchors_per_level):
        gt_centers = (gt_boxes[:, :2] + gt_boxes[:, 2:]) / 2
        anchor_centers = (anchors_per_image[:, :2] + anchors_per_image[:, 2:]) / 2
        anchor_sizes = anchors_per_image[:, 2] - anchors_per_image[:, 0]
        # inside the ground truth's centre region ...
        match = ((anchor_centers[:, None, :] - gt_centers[None, :, :]).abs_().max(dim=2).values
                 < self.center_sampling_radius * anchor_sizes[:, None])
        x, y = anchor_centers.unsqueeze(dim=2).unbind(dim=1)
        x0, y0, x1, y1 = gt_boxes.unsqueeze(dim=0).unbind(dim=2)
        distances = ember.stack([x - x0, y - y0, x1 - x, y1 - y], dim=2)
        match &= distances.min(dim=2).values > 0  # ... and inside the box itself
        # ... with the box's extent in the level's range
        lower_bound = anchor_sizes * 4
        lower_bound[: num_anchors_per_level[0]] = 0
        upper_bound = anchor_sizes * 8
        upper_bound[-num_anchors_per_level[-1]:] = float("inf")
        distances = distances.max(dim=2).values
        match &= (distances > lower_bound[:, None]) & (distances < upper_bound[:, None])
        # the smallest such box wins
        gt_areas = (gt_boxes[:, 2] - gt_boxes[:, 0]) * (gt_boxes[:, 3] - gt_boxes[:, 1])
        match = match.to(ember.float32) * (1e8 - gt_areas[None, :])
        min_values, matched_idx = match.max(dim=1)
        matched_idx[min_values < 1e-5] = -1
        return matched_idx

    def compute_loss(self, targets, head_outputs, anchors, num_anchors_per_level):
        """The head's losses with every location matched to a ground truth or -1."""
        matched_idxs = []
        for anchors_per_image, target in zip(anchors, targets):
            if target["boxes"].numel() == 0:
                matched_idxs.append(ember.full((anchors_per_image.size(0),), -1, dtype=ember.int64,
                                               device=anchors_per_image.device))
            else:
                matched_idxs.append(self._match(anchors_per_image, target["boxes"], num_anchors_per_level))
        return self.head.compute_loss(targets, head_outputs, anchors, matched_idxs)

    def postprocess_detections(self, head_outputs, anchors, image_shapes):
        """Per image: boxes, scores and labels of the kept detections (see the class); inputs split per level."""
        detections = []
        for index, image_shape in enumerate(image_shapes):
            image_boxes, image_scores, image_labels = [], [], []
            for box_regression, logits, ctrness, level_anchors in zip(
                    [br[index] for br in head_outputs["bbox_regression"]],
                    [cl[index] for cl in head_outputs["cls_logits"]],
                    [bc[index] for bc in head_outputs["bbox_ctrness"]], anchors[index]):
                num_classes = logits.shape[-1]
                scores = ember.sqrt(ember.sigmoid(logits) * ember.sigmoid(ctrness)).flatten()
                keep_idxs = scores > self.score_thresh
                scores = scores[keep_idxs]
                topk_idxs = ember.where(keep_idxs)[0]
                scores, idxs = scores.topk(det_utils._topk_min(topk_idxs, self.topk_candidates, 0))
                topk_idxs = topk_idxs[idxs]
                anchor_idxs = ember.div(topk_idxs, num_classes, rounding_mode="floor")
                boxes = self.box_coder.decode(box_regression[anchor_idxs], level_anchors[anchor_idxs])
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
        """Losses in training, one dict of detections per image in eval."""
        if self.training:
            if targets is None:
                raise AssertionError("targets should not be none when in training mode")
            for target in targets:
                boxes = target["boxes"]
                if not isinstance(boxes, ember.Tensor):
                    raise AssertionError("Expected target boxes to be of type Tensor.")
                if not (len(boxes.shape) == 2 and boxes.shape[-1] == 4):
                    raise AssertionError(f"Expected target boxes to be a tensor of shape [N, 4], got {boxes.shape}.")
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
        num_anchors_per_level = [x.size(2) * x.size(3) for x in features]
        losses, detections = {}, []
        if self.training:
            losses = self.compute_loss(targets, head_outputs, anchors, num_anchors_per_level)
        else:
            split_outputs = {k: list(v.split(num_anchors_per_level, dim=1)) for k, v in head_outputs.items()}
            split_anchors = [list(a.split(num_anchors_per_level)) for a in anchors]
            detections = self.postprocess_detections(split_outputs, split_anchors, images.image_sizes)
            detections = self.transform.postprocess(detections, images.image_sizes, original_image_sizes)
        return self.eager_outputs(losses, detections)


class FCOS_ResNet50_FPN_Weights(WeightsEnum):
    """COCO weights of ``fcos_resnet50_fpn`` (torchvision's url and meta)."""

    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/fcos_resnet50_fpn_coco-99b0c9b7.pth",
        transforms=ObjectDetection,
        meta={"num_params": 32269600, "categories": _COCO_CATEGORIES, "min_size": (1, 1),
              "recipe": "https://github.com/pytorch/vision/tree/main/references/detection#fcos-resnet-50-fpn",
              "_metrics": {"COCO-val2017": {"box_map": 39.2}}, "_ops": 128.207, "_file_size": 123.608,
              "_docs": "These weights were produced by following a similar training recipe as on the paper."})
    DEFAULT = COCO_V1


@register_model()
@handle_legacy_interface(weights=("pretrained", FCOS_ResNet50_FPN_Weights.COCO_V1),
                         weights_backbone=("pretrained_backbone", ResNet50_Weights.IMAGENET1K_V1))
def fcos_resnet50_fpn(*, weights: Optional[FCOS_ResNet50_FPN_Weights] = None, progress=True, num_classes=None,
                      weights_backbone: Optional[ResNet50_Weights] = ResNet50_Weights.IMAGENET1K_V1,
                      trainable_backbone_layers=None, **kwargs):
    """FCOS with a ResNet-50 FPN backbone (P3-P7); ``kwargs`` go to :class:`FCOS`."""
    weights = FCOS_ResNet50_FPN_Weights.verify(weights)
    weights_backbone = ResNet50_Weights.verify(weights_backbone)
    num_classes, weights_backbone, is_trained = _detection_setup(weights, num_classes, weights_backbone)
    trainable_backbone_layers = _validate_trainable_layers(is_trained, trainable_backbone_layers, 5, 3)
    norm_layer = misc_nn_ops.FrozenBatchNorm2d if is_trained else nn.BatchNorm2d
    backbone = resnet50(weights=weights_backbone, progress=progress, norm_layer=norm_layer)
    backbone = _resnet_fpn_extractor(backbone, trainable_backbone_layers, returned_layers=[2, 3, 4],
                                     extra_blocks=LastLevelP6P7(256, 256))
    return _load_detection_weights(FCOS(backbone, num_classes, **kwargs), weights, progress)
