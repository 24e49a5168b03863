"""Box utilities: non-maximum suppression, IoU variants, format conversion, clipping, masks to boxes."""
import math

import numpy as np

import ember

from ._box_iou_rotated import box_iou_rotated
from ._utils import _dtype_name, _upcast

_AXIS_ALIGNED = ("xyxy", "xywh", "cxcywh")
_ROTATED = ("cxcywhr", "xywhr", "xyxyxyxy")


def nms(boxes, scores, iou_threshold):
    """Indices of the boxes kept by greedy non-maximum suppression, by decreasing score.

    Scores are sorted stably (equal scores keep their input order, as torchvision's kernel); a box is dropped when its
    IoU with a kept box is above ``iou_threshold``."""
    if boxes.dim() != 2:
        raise RuntimeError(f"boxes should be a 2d tensor, got {boxes.dim()}D")
    if boxes.size(1) != 4:
        raise RuntimeError(f"boxes should have 4 elements in dimension 1, got {boxes.size(1)}")
    if scores.dim() != 1:
        raise RuntimeError(f"scores should be a 1d tensor, got {scores.dim()}D")
    if boxes.size(0) != scores.size(0):
        raise RuntimeError("boxes and scores should have same number of elements in dimension 0, "
                           f"got {boxes.size(0)} and {scores.size(0)}")
    if boxes.dtype not in (ember.float32, ember.float64):
        raise RuntimeError(f"\"nms_kernel\" not implemented for '{_dtype_name(boxes.dtype)}'")
    if boxes.dtype != scores.dtype:
        raise RuntimeError("dets should have the same type as scores")
    if boxes.numel() == 0:
        return ember.empty(0, dtype=ember.int64, device=boxes.device)
    order = ember.sort(scores.detach(), stable=True, descending=True).indices
    order_np = order.cpu().numpy()
    keep = _greedy(boxes.detach().cpu().numpy()[order_np], float(iou_threshold))
    return ember.as_tensor(order_np[keep], device=boxes.device)


def _greedy(boxes, threshold, block=512):
    """Positions kept among ``boxes`` already sorted by score: each kept box suppresses the later boxes it overlaps.

    A block of rows at a time, IoUs are computed against the boxes still alive (``block x alive``); the walk through
    a block is the only loop."""
    x1, y1, x2, y2 = boxes.T
    areas = (x2 - x1) * (y2 - y1)
    n = len(boxes)
    suppressed = np.zeros(n, dtype=bool)
    keep = []
    with np.errstate(invalid="ignore", divide="ignore"):
        for start in range(0, n, block):
            cols = start + np.flatnonzero(~suppressed[start:])
            rows = cols[:np.searchsorted(cols, start + block)]
            w = np.maximum(np.minimum(x2[rows, None], x2[cols]) - np.maximum(x1[rows, None], x1[cols]), 0)
            h = np.maximum(np.minimum(y2[rows, None], y2[cols]) - np.maximum(y1[rows, None], y1[cols]), 0)
            inter = w * h
            iou = inter / (areas[rows, None] + areas[cols] - inter)
            # compared in double, as the kernel's `ovr > iou_threshold`; a NaN IoU suppresses nothing
            over = iou.astype(np.float64) > threshold
            dead = np.zeros(len(cols), dtype=bool)
            for p in range(len(rows)):
                if not dead[p]:
                    keep.append(rows[p])
                    dead |= over[p]
            suppressed[cols[dead]] = True
    return np.asarray(keep, dtype=np.int64)


def batched_nms(boxes, scores, idxs, iou_threshold):
    """Non-maximum suppression within each category ``idxs``; indices of the kept boxes by decreasing score."""
    if boxes.numel() > (4000 if boxes.device.type == "cpu" else 20000):
        return _batched_nms_vanilla(boxes, scores, idxs, iou_threshold)
    return _batched_nms_coordinate_trick(boxes, scores, idxs, iou_threshold)


def _batched_nms_coordinate_trick(boxes, scores, idxs, iou_threshold):
    """One nms over boxes shifted apart by category, so boxes of different categories never overlap."""
    if boxes.numel() == 0:
        return ember.empty((0,), dtype=ember.int64, device=boxes.device)
    max_coordinate = boxes.max()
    offsets = idxs.to(boxes) * (max_coordinate + ember.tensor(1).to(boxes))
    return nms(boxes + offsets[:, None], scores, iou_threshold)


def _batched_nms_vanilla(boxes, scores, idxs, iou_threshold):
    """One nms per category, for many boxes (where shifted coordinates would lose precision)."""
    keep_mask = ember.zeros_like(scores, dtype=ember.bool)
    for class_id in ember.unique(idxs):
        curr = ember.where(idxs == class_id)[0]
        keep_mask[curr[nms(boxes[curr], scores[curr], iou_threshold)]] = True
    keep = ember.where(keep_mask)[0]
    return keep[ember.sort(scores[keep], stable=True, descending=True).indices]


def remove_small_boxes(boxes, min_size):
    """Indices of the boxes whose width and height are both at least ``min_size``."""
    ws, hs = boxes[..., 2] - boxes[..., 0], boxes[..., 3] - boxes[..., 1]
    return ember.where((ws >= min_size) & (hs >= min_size))[0]


def clip_boxes_to_image(boxes, size):
    """Boxes (xyxy) clipped to an image of ``size = (height, width)``."""
    height, width = size
    boxes_x = boxes[..., 0::2].clamp(min=0, max=width)
    boxes_y = boxes[..., 1::2].clamp(min=0, max=height)
    return ember.stack((boxes_x, boxes_y), dim=boxes.dim()).reshape(boxes.shape)


def box_convert(boxes, in_fmt, out_fmt):
    """Boxes converted between ``xyxy``, ``xywh``, ``cxcywh`` and the rotated ``xywhr``, ``cxcywhr``, ``xyxyxyxy``."""
    allowed = _AXIS_ALIGNED + ("xywhr", "cxcywhr", "xyxyxyxy")
    if in_fmt not in allowed or out_fmt not in allowed:
        raise ValueError(f"Unsupported Bounding Box Conversions for given in_fmt {in_fmt} and out_fmt {out_fmt}")
    if in_fmt == out_fmt:
        return boxes.clone()
    if (in_fmt in _AXIS_ALIGNED) != (out_fmt in _AXIS_ALIGNED):
        raise NotImplementedError(
            f"Unsupported Bounding Box Conversions for given in_fmt {in_fmt} and out_fmt {out_fmt}")
    if in_fmt in _AXIS_ALIGNED:
        return _FROM_XYXY[out_fmt](_TO_XYXY[in_fmt](boxes))
    return _ROTATED_PATHS[(in_fmt, out_fmt)](boxes)


def _xywh_to_xyxy(boxes):
    x, y, w, h = boxes.unbind(-1)
    return ember.stack([x, y, x + w, y + h], dim=-1)


def _cxcywh_to_xyxy(boxes):
    cx, cy, w, h = boxes.unbind(-1)
    return ember.stack([cx - 0.5 * w, cy - 0.5 * h, cx + 0.5 * w, cy + 0.5 * h], dim=-1)


def _xyxy_to_xywh(boxes):
    x1, y1, x2, y2 = boxes.unbind(-1)
    return ember.stack([x1, y1, x2 - x1, y2 - y1], dim=-1)


def _xyxy_to_cxcywh(boxes):
    x1, y1, x2, y2 = boxes.unbind(-1)
    return ember.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], dim=-1)


_TO_XYXY = {"xyxy": lambda b: b, "xywh": _xywh_to_xyxy, "cxcywh": _cxcywh_to_xyxy}
_FROM_XYXY = {"xyxy": lambda b: b, "xywh": _xyxy_to_xywh, "cxcywh": _xyxy_to_cxcywh}


def _rotated(columns, like):
    """Stacks converted rotated-box columns; integer boxes are rounded back to their dtype, as torchvision's."""
    boxes = ember.stack(columns, dim=-1)
    return boxes if like.is_floating_point() else boxes.round().to(like.dtype)


def _angle(r):
    rad = r * math.pi / 180.0
    return ember.cos(rad), ember.sin(rad)


def _cxcywhr_to_xywhr(boxes):
    """Centre to top-left corner of a box rotated counter-clockwise by r degrees."""
    cx, cy, w, h, r = boxes.unbind(-1)
    cos, sin = _angle(r)
    return _rotated([cx - w / 2 * cos - h / 2 * sin, cy - h / 2 * cos + w / 2 * sin, w, h, r], boxes)


def _xywhr_to_cxcywhr(boxes):
    """Top-left corner to centre of a box rotated counter-clockwise by r degrees."""
    x1, y1, w, h, r = boxes.unbind(-1)
    cos, sin = _angle(r)
    return _rotated([x1 + w / 2 * cos + h / 2 * sin, y1 - w / 2 * sin + h / 2 * cos, w, h, r], boxes)


def _xywhr_to_xyxyxyxy(boxes):
    """The four corners of a rotated box, from the top-left one."""
    x1, y1, w, h, r = boxes.unbind(-1)
    cos, sin = _angle(r)
    x2, y2 = x1 + w * cos, y1 - w * sin
    x3, y3 = x2 + h * sin, y2 + h * cos
    x4, y4 = x1 + h * sin, y1 + h * cos
    return _rotated([x1, y1, x2, y2, x3, y3, x4, y4], boxes)


def _xyxyxyxy_to_xywhr(boxes):
    """Corners back to top-left corner, width, height and angle in degrees."""
    x1, y1, x2, y2, x3, y3, x4, y4 = boxes.unbind(-1)
    r = ember.atan2(y1 - y2, x2 - x1) * 180 / math.pi
    w = ((x2 - x1) ** 2 + (y1 - y2) ** 2).sqrt()
    h = ((x3 - x2) ** 2 + (y3 - y2) ** 2).sqrt()
    return _rotated([x1, y1, w, h, r], boxes)


_ROTATED_PATHS = {
    ("cxcywhr", "xywhr"): _cxcywhr_to_xywhr,
    ("xywhr", "cxcywhr"): _xywhr_to_cxcywhr,
    ("xywhr", "xyxyxyxy"): _xywhr_to_xyxyxyxy,
    ("xyxyxyxy", "xywhr"): _xyxyxyxy_to_xywhr,
    ("cxcywhr", "xyxyxyxy"): lambda b: _xywhr_to_xyxyxyxy(_cxcywhr_to_xywhr(b).to(b.dtype)),
    ("xyxyxyxy", "cxcywhr"): lambda b: _xywhr_to_cxcywhr(_xyxyxyxy_to_xywhr(b).to(b.dtype)),
}


def box_area(boxes, fmt="xyxy"):
    """Areas of boxes ``[..., 4]`` in ``fmt`` (xyxy, xywh or cxcywh)."""
    if fmt not in _AXIS_ALIGNED:
        raise ValueError(f"Unsupported Bounding Box area for given format {fmt}")
    boxes = _upcast(boxes)
    if fmt == "xyxy":
        return (boxes[..., 2] - boxes[..., 0]) * (boxes[..., 3] - boxes[..., 1])
    return boxes[..., 2] * boxes[..., 3]


def _box_inter_union(boxes1, boxes2, fmt="xyxy"):
    """Pairwise intersection and union areas, ``[..., N, M]``."""
    area1 = box_area(boxes1, fmt=fmt)
    area2 = box_area(boxes2, fmt=fmt)
    a = _TO_XYXY[fmt](boxes1)[..., None, :]
    b = _TO_XYXY[fmt](boxes2)[..., None, :, :]
    lt = ember.max(a[..., :2], b[..., :2])
    rb = ember.min(a[..., 2:], b[..., 2:])
    wh = _upcast(rb - lt).clamp(min=0)
    inter = wh[..., 0] * wh[..., 1]
    return inter, area1[..., None] + area2[..., None, :] - inter


def box_iou(boxes1, boxes2, fmt="xyxy"):
    """Pairwise intersection-over-union, ``[..., N, M]``, of axis-aligned boxes (``xyxy``, ``xywh``, ``cxcywh``) or
    of rotated boxes ``[N, 5|8]`` (``cxcywhr``, ``xywhr``, ``xyxyxyxy``; float32 IoUs, no gradient)."""
    if fmt in _AXIS_ALIGNED:
        inter, union = _box_inter_union(boxes1, boxes2, fmt=fmt)
        return inter / union
    if fmt in _ROTATED:
        if fmt != "cxcywhr":
            boxes1 = box_convert(boxes1, in_fmt=fmt, out_fmt="cxcywhr")
            boxes2 = box_convert(boxes2, in_fmt=fmt, out_fmt="cxcywhr")
        return box_iou_rotated(boxes1, boxes2)
    raise ValueError(f"Unsupported format '{fmt}'. Supported axis-aligned formats: {_AXIS_ALIGNED}. "
                     f"Supported rotated formats: {_ROTATED}.")


def _enclosing_wh(boxes1, boxes2):
    """Width and height of the smallest box enclosing each pair, ``[..., N, M, 2]``."""
    lti = ember.min(boxes1[..., None, :2], boxes2[..., None, :, :2])
    rbi = ember.max(boxes1[..., None, 2:], boxes2[..., None, :, 2:])
    return _upcast(rbi - lti).clamp(min=0)


def generalized_box_iou(boxes1, boxes2):
    """Pairwise generalized IoU (xyxy boxes): IoU minus the share of the enclosing box that the union leaves empty."""
    inter, union = _box_inter_union(boxes1, boxes2)
    iou = inter / union
    whi = _enclosing_wh(boxes1, boxes2)
    areai = whi[..., 0] * whi[..., 1]
    return iou - (areai - union) / areai


def distance_box_iou(boxes1, boxes2, eps=1e-7):
    """Pairwise distance IoU (xyxy boxes): IoU minus squared centre distance over squared enclosing diagonal."""
    diou, _ = _box_diou_iou(_upcast(boxes1), _upcast(boxes2), eps)
    return diou


def complete_box_iou(boxes1, boxes2, eps=1e-7):
    """Pairwise complete IoU (xyxy boxes): distance IoU minus an aspect-ratio consistency term."""
    boxes1 = _upcast(boxes1)
    boxes2 = _upcast(boxes2)
    diou, iou = _box_diou_iou(boxes1, boxes2, eps)
    w_pred = boxes1[..., None, 2] - boxes1[..., None, 0]
    h_pred = boxes1[..., None, 3] - boxes1[..., None, 1]
    w_gt = boxes2[..., None, :, 2] - boxes2[..., None, :, 0]
    h_gt = boxes2[..., None, :, 3] - boxes2[..., None, :, 1]
    v = (4 / (math.pi ** 2)) * ember.pow(ember.atan(w_pred / h_pred) - ember.atan(w_gt / h_gt), 2)
    with ember.no_grad():
        alpha = v / (1 - iou + v + eps)
    return diou - alpha * v


def _box_diou_iou(boxes1, boxes2, eps=1e-7):
    iou = box_iou(boxes1, boxes2)
    whi = _enclosing_wh(boxes1, boxes2)
    diagonal_squared = (whi[..., 0] ** 2) + (whi[..., 1] ** 2) + eps
    x_p = (boxes1[..., 0] + boxes1[..., 2]) / 2
    y_p = (boxes1[..., 1] + boxes1[..., 3]) / 2
    x_g = (boxes2[..., 0] + boxes2[..., 2]) / 2
    y_g = (boxes2[..., 1] + boxes2[..., 3]) / 2
    centers_squared = (_upcast(x_p[..., None] - x_g[..., None, :]) ** 2
                       + _upcast(y_p[..., None] - y_g[..., None, :]) ** 2)
    return iou - centers_squared / diagonal_squared, iou


def masks_to_boxes(masks):
    """The xyxy bounding box of each of ``N`` masks ``[N, H, W]`` (float32; zeros for an empty mask)."""
    if masks.numel() == 0:
        return ember.zeros((0, 4), device=masks.device, dtype=ember.float)
    n, h, w = masks.shape
    masks_bool = masks.bool()
    rows = ember.any(masks_bool, dim=2)
    cols = ember.any(masks_bool, dim=1)
    empty = ~ember.any(rows, dim=1)
    rows_f, cols_f = rows.float(), cols.float()
    y1 = rows_f.argmax(dim=1)
    x1 = cols_f.argmax(dim=1)
    y2 = (h - 1) - rows_f.flip(dims=[1]).argmax(dim=1)
    x2 = (w - 1) - cols_f.flip(dims=[1]).argmax(dim=1)
    boxes = ember.stack([x1, y1, x2, y2], dim=1).float()
    boxes[empty] = 0
    return boxes

