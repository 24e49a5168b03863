"""SSD (arXiv:1512.02325): one-stage detection from a pyramid of feature maps with default boxes, hard negative
mining in the classification loss; the VGG-16 feature extractor and the ``ssd300_vgg16`` builder with torchvision's
COCO weights."""
import warnings
from collections import OrderedDict
from typing import Optional

import ember
from ember import nn
from ember.nn import functional as F

from ...ops import boxes as box_ops
from ...transforms._presets import ObjectDetection
from .._api import Weights, WeightsEnum, register_model
from .._meta import _COCO_CATEGORIES
from .._utils import handle_legacy_interface
from ..vgg import VGG16_Weights, vgg16
from . import _utils as det_utils
from .anchor_utils import DefaultBoxGenerator
from .backbone_utils import _validate_trainable_layers
from .faster_rcnn import _detection_setup, _load_detection_weights
from .generalized_rcnn import _check_degenerate_boxes, _check_targets
from .transform import GeneralizedRCNNTransform

__all__ = ["SSD300_VGG16_Weights", "ssd300_vgg16"]


class SSD300_VGG16_Weights(WeightsEnum):
    """COCO weights of ``ssd300_vgg16`` (torchvision's url and meta)."""

    COCO_V1 = Weights(
        url="https://download.pytorch.org/models/ssd300_vgg16_coco-b556d3b4.pth",
        transforms=ObjectDetection,
        meta={"num_params": 35641826, "categories": _COCO_CATEGORIES, "min_size": (1, 1),
              "recipe": "https://github.com/pytorch/vision/tree/main/references/detection#ssd300-vgg16",
              "_metrics": {"COCO-val2017": {"box_map": 25.1}}, "_ops": 34.858, "_file_size": 135.988,
              "_docs": "These weights were produced by following a similar training recipe as on the paper."})
    DEFAULT = COCO_V1


def _xavier_init(conv):
    for layer in conv.modules():
        if isinstance(layer, nn.Conv2d):
            nn.init.xavier_uniform_(layer.weight)
            if layer.bias is not None:
                nn.init.constant_(layer.bias, 0.0)


class SSDScoringHead(nn.Module):
    """One module per feature map (``module_list``), their outputs flattened to ``[N, locations * A,
    num_columns]`` and concatenated over maps."""

    def __init__(self, module_list, num_columns):
        super().__init__()
        self.module_list = module_list
        self.num_columns = num_columns

    def _get_result_from_module_list(self, x, idx):
        """``module_list[idx](x)`` (negative ``idx`` counts from the end)."""
        return self.module_list[idx](x)

    def forward(self, x):
        results = []
        for i, features in enumerate(x):
            out = self._get_result_from_module_list(features, i)
            N, _, H, W = out.shape
            results.append(out.view(N, -1, self.num_columns, H, W).permute(0, 3, 4, 1, 2)
                           .reshape(N, -1, self.num_columns))
        return ember.cat(results, dim=1)


class SSDClassificationHead(SSDScoringHead):
    """A 3x3 conv per map to ``num_classes`` logits per default box (Xavier-initialised)."""

    def __init__(self, in_channels, num_anchors, num_classes):
        cls_logits = nn.ModuleList([nn.Conv2d(channels, num_classes * anchors, kernel_size=3, padding=1)
                                    for channels, anchors in zip(in_channels, num_anchors)])
        _xavier_init(cls_logits)
        super().__init__(cls_logits, num_classes)


class SSDRegressionHead(SSDScoringHead):
    """A 3x3 conv per map to 4 box deltas per default box (Xavier-initialised)."""

    def __init__(self, in_channels, num_anchors):
        bbox_reg = nn.ModuleList([nn.Conv2d(channels, 4 * anchors, kernel_size=3, padding=1)
                                  for channels, anchors in zip(in_channels, num_anchors)])
        _xavier_init(bbox_reg)
        super().__init__(bbox_reg, 4)


class SSDHead(nn.Module):
    """The classification and regression heads over maps of ``in_channels``."""

    def __init__(self, in_channels, num_anchors, num_classes):
        super().__init__()
        self.classification_head = SSDClassificationHead(in_channels, num_anchors, num_classes)
        self.regression_head = SSDRegressionHead(in_channels, num_anchors)

    def forward(self, x):
        return {"bbox_regression": self.regression_head(x), "cls_logits": self.classification_head(x)}


class SSD(nn.Module):
    """SSD over ``backbone`` (its ``out_channels`` a list, or measured on an image of ``size``), with default
    boxes from ``anchor_generator``; images are resized to ``size`` (w, h). Boxes overlapping a ground truth by
    ``iou_thresh`` are positive (each ground truth also takes its best box); the classification loss keeps the
    hardest negatives, ``(1 - positive_fraction) / positive_fraction`` per positive. Eval: softmax scores, per
    class the ``topk_candidates`` best over ``score_thresh``, NMS per class at ``nms_thresh``,
    ``detections_per_img`` kept."""

    def __init__(self, backbone, anchor_generator, size, num_classes, image_mean=None, image_std=None, head=None,
                 score_thresh=0.01, nms_thresh=0.45, detections_per_img=200, iou_thresh=0.5, topk_candidates=400,
                 positive_fraction=0.25, **kwargs):
        super().__init__()
        self.backbone = backbone
        self.anchor_generator = anchor_generator
        self.box_coder = det_utils.BoxCoder(weights=(10.0, 10.0, 5.0, 5.0))
        if head is None:
            if hasattr(backbone, "out_channels"):
                out_channels = backbone.out_channels
            else:
                out_channels = det_utils.retrieve_out_channels(backbone, size)
            if len(out_channels) != len(anchor_generator.aspect_ratios):
                raise ValueError(f"The length of the output channels from the backbone ({len(out_channels)}) do not "
                                 f"match the length of the anchor generator aspect ratios "
                                 f"({len(anchor_generator.aspect_ratios)})")
            head = SSDHead(out_channels, self.anchor_generator.num_anchors_per_location(), num_classes)
        self.head = head
        self.proposal_matcher = det_utils.SSDMatcher(iou_thresh)
        if image_mean is None:
            image_mean = [0.485, 0.456, 0.406]
        if image_std is None:
            image_std = [0.229, 0.224, 0.225]
        self.transform = GeneralizedRCNNTransform(min(size), max(size), image_mean, image_std, size_divisible=1,
                                                  fixed_size=size, **kwargs)
        self.score_thresh = score_thresh
        self.nms_thresh = nms_thresh
        self.detections_per_img = detections_per_img
        self.topk_candidates = topk_candidates
        self.neg_to_pos_ratio = (1.0 - positive_fraction) / positive_fraction
        self._has_warned = False

    def eager_outputs(self, losses, detections):
        """The losses in training mode, the detections otherwise."""
        return losses if self.training else detections

    def compute_loss(self, targets, head_outputs, anchors, matched_idxs):
        """``bbox_regression`` (smooth L1 of the positives) and ``classification`` (cross entropy of the positives
        and the hardest negatives), both divided by the number of positives."""
        cls_logits = head_outputs["cls_logits"]
        num_foreground = 0
        bbox_loss, cls_targets = [], []
        for target, bbox_regression, logits, anchors_per_image, matched in zip(
                targets, head_outputs["bbox_regression"], cls_logits, anchors, matched_idxs):
            foreground = ember.where(matched >= 0)[0]
            foreground_matched = matched[foreground]
            num_foreground += foreground_matched.numel()
            target_regression = self.box_coder.encode_single(target["boxes"][foreground_matched],
                                                             anchors_per_image[foreground, :])
            bbox_loss.append(F.smooth_l1_loss(bbox_regression[foreground, :], target_regression, reduction="sum"))
            gt_classes = ember.zeros((logits.size(0),), dtype=target["labels"].dtype, device=target["labels"].device)
            gt_classes[foreground] = target["labels"][foreground_matched]
            cls_targets.append(gt_classes)
        bbox_loss = ember.stack(bbox_loss)
        cls_targets = ember.stack(cls_targets)
        num_classes = cls_logits.size(-1)
        cls_loss = F.cross_entropy(cls_logits.view(-1, num_classes), cls_targets.view(-1),
                                   reduction="none").view(cls_targets.size())
        # hard negative mining: the negatives of highest loss, neg_to_pos_ratio of them per positive
        foreground_idxs = cls_targets > 0
        num_negative = self.neg_to_pos_ratio * foreground_idxs.sum(1, keepdim=True)
        negative_loss = cls_loss.clone()
        negative_loss[foreground_idxs] = -float("inf")  # positives sort last
        _, idx = negative_loss.sort(1, descending=True)
        background_idxs = idx.sort(1)[1] < num_negative
        N = max(1, num_foreground)
        return {"bbox_regression": bbox_loss.sum() / N,
                "classification": (cls_loss[foreground_idxs].sum() + cls_loss[background_idxs].sum()) / N}

    def forward(self, images, targets=None):
        """Losses in training, one dict of detections per image in eval."""
        if self.training:
            _check_targets(targets)
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
            matched_idxs = []
            for anchors_per_image, target in zip(anchors, targets):
                if target["boxes"].numel() == 0:
                    matched_idxs.append(ember.full((anchors_per_image.size(0),), -1, dtype=ember.int64,
                                                   device=anchors_per_image.device))
                else:
                    matched_idxs.append(self.proposal_matcher(box_ops.box_iou(target["boxes"], anchors_per_image)))
            losses = self.compute_loss(targets, head_outputs, anchors, matched_idxs)
        else:
            detections = self.postprocess_detections(head_outputs, anchors, images.image_sizes)
            detections = self.transform.postprocess(detections, images.image_sizes, original_image_sizes)
        return self.eager_outputs(losses, detections)

    def postprocess_detections(self, head_outputs, image_anchors, image_shapes):
        """Per image: boxes, scores and labels of the kept detections (see the class)."""
        pred_scores = F.softmax(head_outputs["cls_logits"], dim=-1)
        num_classes = pred_scores.size(-1)
        device = pred_scores.device
        detections = []
        for boxes, scores, anchors, image_shape in zip(head_outputs["bbox_regression"], pred_scores, image_anchors,
                                                       image_shapes):
            boxes = box_ops.clip_boxes_to_image(self.box_coder.decode_single(boxes, anchors), image_shape)
            image_boxes, image_scores, image_labels = [], [], []
            for label in range(1, num_classes):
                score = scores[:, label]
                keep_idxs = score > self.score_thresh
                score, box = score[keep_idxs], boxes[keep_idxs]
                score, idxs = score.topk(det_utils._topk_min(score, self.topk_candidates, 0))
                image_boxes.append(box[idxs])
                image_scores.append(score)
                image_labels.append(ember.full_like(score, fill_value=label, dtype=ember.int64, device=device))
            image_boxes = ember.cat(image_boxes, dim=0)
            image_scores = ember.cat(image_scores, dim=0)
            image_labels = ember.cat(image_labels, dim=0)
            keep = box_ops.batched_nms(image_boxes, image_scores, image_labels, self.nms_thresh)
            keep = keep[: self.detections_per_img]
            detections.append({"boxes": image_boxes[keep], "scores": image_scores[keep],
                               "labels": image_labels[keep]})
        return detections


def _vgg_extra_block(in_channels, mid_channels, out_channels, **conv):
    return nn.Sequential(nn.Conv2d(in_channels, mid_channels, kernel_size=1), nn.ReLU(inplace=True),
                         nn.Conv2d(mid_channels, out_channels, **conv), nn.ReLU(inplace=True))


class SSDFeatureExtractorVGG(nn.Module):
    """VGG's features up to conv4_3 (``features``, L2-normalized and scaled by ``scale_weight``), then ``extra``:
    conv5 with the atrous FC6/FC7, and the stride-2 and valid blocks of SSD300 (one more for SSD512,
    ``highres``)."""

    def __init__(self, backbone, highres):
        super().__init__()
        _, _, maxpool3_pos, maxpool4_pos, _ = (i for i, layer in enumerate(backbone)
                                               if isinstance(layer, nn.MaxPool2d))
        backbone[maxpool3_pos].ceil_mode = True  # 75 -> 38 at 300 pixels, as the paper
        self.scale_weight = nn.Parameter(ember.ones(512) * 20)
        self.features = nn.Sequential(*backbone[:maxpool4_pos])  # until conv4_3
        extra = nn.ModuleList([
            _vgg_extra_block(1024, 256, 512, kernel_size=3, padding=1, stride=2),  # conv8_2
            _vgg_extra_block(512, 128, 256, kernel_size=3, padding=1, stride=2),  # conv9_2
            _vgg_extra_block(256, 128, 256, kernel_size=3),  # conv10_2
            _vgg_extra_block(256, 128, 256, kernel_size=3),  # conv11_2
        ])
        if highres:
            extra.append(_vgg_extra_block(256, 128, 256, kernel_size=4))  # conv12_2
        _xavier_init(extra)
        fc = nn.Sequential(
            nn.MaxPool2d(kernel_size=3, stride=1, padding=1, ceil_mode=False),  # modified maxpool5
            nn.Conv2d(in_channels=512, out_channels=1024, kernel_size=3, padding=6, dilation=6),  # atrous FC6
            nn.ReLU(inplace=True),
            nn.Conv2d(in_channels=1024, out_channels=1024, kernel_size=1),  # FC7
            nn.ReLU(inplace=True),
        )
        _xavier_init(fc)
        extra.insert(0, nn.Sequential(*backbone[maxpool4_pos:-1], fc))  # conv5_3 (no maxpool5), FC6, FC7
        self.extra = extra

    def forward(self, x):
        x = self.features(x)
        output = [self.scale_weight.view(1, -1, 1, 1) * F.normalize(x)]
        for block in self.extra:
            x = block(x)
            output.append(x)
        return OrderedDict([(str(i), v) for i, v in enumerate(output)])


def _vgg_extractor(backbone, highres, trainable_layers):
    backbone = backbone.features
    stage_indices = [0] + [i for i, b in enumerate(backbone) if isinstance(b, nn.MaxPool2d)][:-1]
    num_stages = len(stage_indices)
    if not 0 <= trainable_layers <= num_stages:
        raise AssertionError(f"trainable_layers should be in the range [0, {num_stages}]. Instead got "
                             f"{trainable_layers}")
    freeze_before = len(backbone) if trainable_layers == 0 else stage_indices[num_stages - trainable_layers]
    for b in backbone[:freeze_before]:
        for parameter in b.parameters():
            parameter.requires_grad_(False)
    return SSDFeatureExtractorVGG(backbone, highres)


@register_model()
@handle_legacy_interface(weights=("pretrained", SSD300_VGG16_Weights.COCO_V1),
                         weights_backbone=("pretrained_backbone", VGG16_Weights.IMAGENET1K_FEATURES))
def ssd300_vgg16(*, weights: Optional[SSD300_VGG16_Weights] = None, progress=True, num_classes=None,
                 weights_backbone: Optional[VGG16_Weights] = VGG16_Weights.IMAGENET1K_FEATURES,
                 trainable_backbone_layers=None, **kwargs):
    """SSD300 on VGG-16 (its 300x300 input is fixed: a ``size`` argument is ignored with a warning); ``kwargs`` go
    to :class:`SSD`."""
    weights = SSD300_VGG16_Weights.verify(weights)
    weights_backbone = VGG16_Weights.verify(weights_backbone)
    if "size" in kwargs:
        warnings.warn("The size of the model is already fixed; ignoring the parameter.")
    num_classes, weights_backbone, is_trained = _detection_setup(weights, num_classes, weights_backbone)
    trainable_backbone_layers = _validate_trainable_layers(is_trained, trainable_backbone_layers, 5, 4)
    backbone = _vgg_extractor(vgg16(weights=weights_backbone, progress=progress), False, trainable_backbone_layers)
    anchor_generator = DefaultBoxGenerator([[2], [2, 3], [2, 3], [2, 3], [2], [2]],
                                           scales=[0.07, 0.15, 0.33, 0.51, 0.69, 0.87, 1.05],
                                           steps=[8, 16, 32, 64, 100, 300])
    # the backbone's own input scaling: pixel values 0-255 less the mean
    defaults = {"image_mean": [0.48235, 0.45882, 0.40784], "image_std": [1.0 / 255.0, 1.0 / 255.0, 1.0 / 255.0]}
    model = SSD(backbone, anchor_generator, (300, 300), num_classes, **{**defaults, **kwargs})
    return _load_detection_weights(model, weights, progress)
