"""Generalized IoU loss of paired boxes."""
import ember

from ._utils import _loss_inter_union, _reduce, _upcast_non_float


def generalized_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    """``1 - GIoU`` of boxes paired elementwise (``[..., 4]`` xyxy); ``eps`` guards the divisions."""
    boxes1 = _upcast_non_float(boxes1)
    boxes2 = _upcast_non_float(boxes2)
    inter, union = _loss_inter_union(boxes1, boxes2)
    iou = inter / (union + eps)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    area_c = (ember.max(x2, x2g) - ember.min(x1, x1g)) * (ember.max(y2, y2g) - ember.min(y1, y1g))
    loss = 1 - (iou - (area_c - union) / (area_c + eps))
    return _reduce(loss, reduction)
