"""The pieces every detector shares: sampling positives and negatives, encoding boxes as regression targets
(``BoxCoder``, ``BoxLinearCoder``), matching predictions to ground truth (``Matcher``, ``SSDMatcher``)."""
import math
from collections import OrderedDict

import ember
from ember.nn import functional as F

from ...ops import complete_box_iou_loss, distance_box_iou_loss, generalized_box_iou_loss
from ...ops.misc import FrozenBatchNorm2d


class BalancedPositiveNegativeSampler:
    """Picks, per image, at most ``batch_size_per_image`` elements of which at most ``positive_fraction`` are
    positive (matched index >= 1), the rest negative (0); elements at -1 are ignored. Both draws are random
    permutations, positives first."""

    def __init__(self, batch_size_per_image, positive_fraction):
        self.batch_size_per_image = batch_size_per_image
        self.positive_fraction = positive_fraction

    def __call__(self, matched_idxs):
        """Two lists of uint8 masks (one per image): the sampled positives and the sampled negatives."""
        pos_idx, neg_idx = [], []
        for matched in matched_idxs:
            positive = ember.where(matched >= 1)[0]
            negative = ember.where(matched == 0)[0]
            num_pos = min(positive.numel(), int(self.batch_size_per_image * self.positive_fraction))
            num_neg = min(negative.numel(), self.batch_size_per_image - num_pos)
            pos_pick = positive[ember.randperm(positive.numel(), device=positive.device)[:num_pos]]
            neg_pick = negative[ember.randperm(negative.numel(), device=negative.device)[:num_neg]]
            pos_mask = ember.zeros_like(matched, dtype=ember.uint8)
            neg_mask = ember.zeros_like(matched, dtype=ember.uint8)
            pos_mask[pos_pick] = 1
            neg_mask[neg_pick] = 1
            pos_idx.append(pos_mask)
            neg_idx.append(neg_mask)
        return pos_idx, neg_idx


def _corners(boxes):
    """Columns ``x1, y1, x2, y2`` of ``[N, 4]`` boxes, each ``[N, 1]``."""
    return [boxes[:, i].unsqueeze(1) for i in range(4)]


def _centre_size(x1, y1, x2, y2):
    widths, heights = x2 - x1, y2 - y1
    return x1 + 0.5 * widths, y1 + 0.5 * heights, widths, heights


def encode_boxes(reference_boxes, proposals, weights):
    """The offsets ``(dx, dy, dw, dh)`` that take ``proposals`` to ``reference_boxes``, scaled by ``weights``
    (a tensor of 4): centre shifts relative to the proposal's size, log size ratios."""
    wx, wy, ww, wh = weights[0], weights[1], weights[2], weights[3]
    ex_x, ex_y, ex_w, ex_h = _centre_size(*_corners(proposals))
    gt_x, gt_y, gt_w, gt_h = _centre_size(*_corners(reference_boxes))
    return ember.cat((wx * (gt_x - ex_x) / ex_w, wy * (gt_y - ex_y) / ex_h,
                      ww * ember.log(gt_w / ex_w), wh * ember.log(gt_h / ex_h)), dim=1)


class BoxCoder:
    """Encodes boxes as offsets from reference boxes (R-CNN's parametrization) and decodes them back; ``weights``
    scale ``(x, y, w, h)``, and decoded log-sizes are clipped at ``bbox_xform_clip``."""

    def __init__(self, weights, bbox_xform_clip=math.log(1000.0 / 16)):
        self.weights = weights
        self.bbox_xform_clip = bbox_xform_clip

    def encode(self, reference_boxes, proposals):
        """Per-image lists in, per-image regression targets out."""
        boxes_per_image = [len(b) for b in reference_boxes]
        targets = self.encode_single(ember.cat(reference_boxes, dim=0), ember.cat(proposals, dim=0))
        return targets.split(boxes_per_image, 0)

    def encode_single(self, reference_boxes, proposals):
        """The targets that take ``proposals`` to ``reference_boxes`` (both ``[N, 4]``)."""
        weights = ember.as_tensor(self.weights, dtype=reference_boxes.dtype, device=reference_boxes.device)
        return encode_boxes(reference_boxes, proposals, weights)

    def decode(self, rel_codes, boxes):
        """``rel_codes`` applied to the per-image list ``boxes``: ``[total, classes, 4]``."""
        if not isinstance(boxes, (list, tuple)):
            raise AssertionError("This function expects boxes of type list or tuple.")
        if not isinstance(rel_codes, ember.Tensor):
            raise AssertionError("This function expects rel_codes of type torch.Tensor.")
        box_sum = sum(b.size(0) for b in boxes)
        if box_sum > 0:
            rel_codes = rel_codes.reshape(box_sum, -1)
        pred_boxes = self.decode_single(rel_codes, ember.cat(boxes, dim=0))
        if box_sum > 0:
            pred_boxes = pred_boxes.reshape(box_sum, -1, 4)
        return pred_boxes

    def decode_single(self, rel_codes, boxes):
        """Boxes ``[N, 4 * k]`` from offsets ``rel_codes`` (``k`` sets of 4 per row) on reference ``boxes``."""
        boxes = boxes.to(rel_codes.dtype)
        widths = boxes[:, 2] - boxes[:, 0]
        heights = boxes[:, 3] - boxes[:, 1]
        ctr_x = boxes[:, 0] + 0.5 * widths
        ctr_y = boxes[:, 1] + 0.5 * heights
        wx, wy, ww, wh = self.weights
        dx = rel_codes[:, 0::4] / wx
        dy = rel_codes[:, 1::4] / wy
        dw = ember.clamp(rel_codes[:, 2::4] / ww, max=self.bbox_xform_clip)
        dh = ember.clamp(rel_codes[:, 3::4] / wh, max=self.bbox_xform_clip)
        pred_ctr_x = dx * widths[:, None] + ctr_x[:, None]
        pred_ctr_y = dy * heights[:, None] + ctr_y[:, None]
        half_w = ember.tensor(0.5, dtype=pred_ctr_x.dtype, device=dw.device) * (ember.exp(dw) * widths[:, None])
        half_h = ember.tensor(0.5, dtype=pred_ctr_y.dtype, device=dh.device) * (ember.exp(dh) * heights[:, None])
        return ember.stack((pred_ctr_x - half_w, pred_ctr_y - half_h, pred_ctr_x + half_w, pred_ctr_y + half_h),
                           dim=2).flatten(1)


class BoxLinearCoder:
    """FCOS's box coding: the distances from a reference box's centre to the target's four edges, divided by the
    reference's size when ``normalize_by_size``."""

    def __init__(self, normalize_by_size=True):
        self.normalize_by_size = normalize_by_size

    def _sizes(self, boxes):
        w = boxes[..., 2] - boxes[..., 0]
        h = boxes[..., 3] - boxes[..., 1]
        return ember.stack((w, h, w, h), dim=-1)

    def encode(self, reference_boxes, proposals):
        """The edge distances of ``proposals`` from the centres of ``reference_boxes``."""
        ctr_x = 0.5 * (reference_boxes[..., 0] + reference_boxes[..., 2])
        ctr_y = 0.5 * (reference_boxes[..., 1] + reference_boxes[..., 3])
        targets = ember.stack((ctr_x - proposals[..., 0], ctr_y - proposals[..., 1], proposals[..., 2] - ctr_x,
                               proposals[..., 3] - ctr_y), dim=-1)
        if self.normalize_by_size:
            targets = targets / self._sizes(reference_boxes)
        return targets

    def decode(self, rel_codes, boxes):
        """Boxes from edge distances ``rel_codes`` around the centres of ``boxes`` (same length)."""
        boxes = boxes.to(dtype=rel_codes.dtype)
        ctr_x = 0.5 * (boxes[..., 0] + boxes[..., 2])
        ctr_y = 0.5 * (boxes[..., 1] + boxes[..., 3])
        if self.normalize_by_size:
            rel_codes = rel_codes * self._sizes(boxes)
        return ember.stack((ctr_x - rel_codes[..., 0], ctr_y - rel_codes[..., 1], ctr_x + rel_codes[..., 2],
                            ctr_y + rel_codes[..., 3]), dim=-1)


class Matcher:
    """Assigns each prediction (column of an ``M x N`` quality matrix) the ground truth it overlaps best: its index
    when the quality is at least ``high_threshold``, ``BETWEEN_THRESHOLDS`` (-2) from ``low_threshold`` up,
    ``BELOW_LOW_THRESHOLD`` (-1) below. ``allow_low_quality_matches`` also keeps, for each ground truth, the
    predictions that overlap it best (ties included)."""

    BELOW_LOW_THRESHOLD = -1
    BETWEEN_THRESHOLDS = -2

    def __init__(self, high_threshold, low_threshold, allow_low_quality_matches=False):
        self.BELOW_LOW_THRESHOLD = -1
        self.BETWEEN_THRESHOLDS = -2
        if not low_threshold <= high_threshold:
            raise AssertionError("low_threshold should be <= high_threshold")
        self.high_threshold = high_threshold
        self.low_threshold = low_threshold
        self.allow_low_quality_matches = allow_low_quality_matches

    def __call__(self, match_quality_matrix):
        """An int64 tensor of N: the matched ground-truth index of each prediction, or a negative code."""
        if match_quality_matrix.numel() == 0:
            if match_quality_matrix.shape[0] == 0:
                raise ValueError("No ground-truth boxes available for one of the images during training")
            raise ValueError("No proposal boxes available for one of the images during training")
        matched_vals, matches = match_quality_matrix.max(dim=0)
        all_matches = matches.clone() if self.allow_low_quality_matches else None
        below_low_threshold = matched_vals < self.low_threshold
        between_thresholds = (matched_vals >= self.low_threshold) & (matched_vals < self.high_threshold)
        matches[below_low_threshold] = self.BELOW_LOW_THRESHOLD
        matches[between_thresholds] = self.BETWEEN_THRESHOLDS
        if self.allow_low_quality_matches:
            self.set_low_quality_matches_(matches, all_matches, match_quality_matrix)
        return matches

    def set_low_quality_matches_(self, matches, all_matches, match_quality_matrix):
        """Restores, in place, the match of every prediction that is some ground truth's best (ties included)."""
        highest_quality_foreach_gt, _ = match_quality_matrix.max(dim=1)
        pairs = ember.where(match_quality_matrix == highest_quality_foreach_gt[:, None])
        pred_inds_to_update = pairs[1]
        matches[pred_inds_to_update] = all_matches[pred_inds_to_update]


class SSDMatcher(Matcher):
    """SSD's matching: one threshold, and every ground truth also takes the prediction that overlaps it best."""

    def __init__(self, threshold):
        super().__init__(threshold, threshold, allow_low_quality_matches=False)

    def __call__(self, match_quality_matrix):
        matches = super().__call__(match_quality_matrix)
        _, best_pred_foreach_gt = match_quality_matrix.max(dim=1)
        matches[best_pred_foreach_gt] = ember.arange(best_pred_foreach_gt.size(0), dtype=ember.int64,
                                                     device=best_pred_foreach_gt.device)
        return matches


def overwrite_eps(model, eps):
    """Sets ``eps`` on every FrozenBatchNorm2d of ``model`` (pretrained detection weights expect 0.0)."""
    for module in model.modules():
        if isinstance(module, FrozenBatchNorm2d):
            module.eps = eps


def retrieve_out_channels(model, size):
    """The channel counts of ``model``'s feature maps for a zero image of ``size`` (w, h), run in eval mode."""
    in_training = model.training
    model.eval()
    with ember.no_grad():
        device = next(model.parameters()).device
        features = model(ember.zeros((1, 3, size[1], size[0]), device=device))
        if isinstance(features, ember.Tensor):
            features = OrderedDict([("0", features)])
        out_channels = [x.size(1) for x in features.values()]
    if in_training:
        model.train()
    return out_channels


def _topk_min(input, orig_kval, axis):
    """``orig_kval`` capped at ``input``'s size along ``axis``."""
    return min(orig_kval, input.size(axis))


def _box_loss(type, box_coder, anchors_per_image, matched_gt_boxes_per_image, bbox_regression_per_image, cnf=None):
    """The summed box regression loss of one image: ``"l1"``/``"smooth_l1"`` on encoded targets, ``"ciou"``,
    ``"diou"``, ``"giou"`` on decoded boxes."""
    if type not in ["l1", "smooth_l1", "ciou", "diou", "giou"]:
        raise AssertionError(f"Unsupported loss: {type}")
    if type in ("l1", "smooth_l1"):
        target_regression = box_coder.encode_single(matched_gt_boxes_per_image, anchors_per_image)
        if type == "l1":
            return F.l1_loss(bbox_regression_per_image, target_regression, reduction="sum")
        beta = cnf["beta"] if cnf is not None and "beta" in cnf else 1.0
        return F.smooth_l1_loss(bbox_regression_per_image, target_regression, reduction="sum", beta=beta)
    bbox_per_image = box_coder.decode_single(bbox_regression_per_image, anchors_per_image)
    eps = cnf["eps"] if cnf is not None and "eps" in cnf else 1e-7
    loss = {"ciou": complete_box_iou_loss, "diou": distance_box_iou_loss, "giou": generalized_box_iou_loss}[type]
    return loss(bbox_per_image, matched_gt_boxes_per_image, reduction="sum", eps=eps)

