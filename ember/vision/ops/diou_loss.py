"""Distance IoU loss of paired boxes."""
import ember

from ._utils import _loss_inter_union, _reduce, _upcast_non_float


def distance_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    """``1 - IoU`` plus squared centre distance over squared enclosing diagonal, for boxes paired elementwise."""
    loss, _ = _diou_iou_loss(_upcast_non_float(boxes1), _upcast_non_float(boxes2), eps)
    return _reduce(loss, reduction)


def _diou_iou_loss(boxes1, boxes2, eps=1e-7):
    inter, union = _loss_inter_union(boxes1, boxes2)
    iou = inter / (union + eps)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    diagonal_squared = ((ember.max(x2, x2g) - ember.min(x1, x1g)) ** 2
                        + (ember.max(y2, y2g) - ember.min(y1, y1g)) ** 2 + eps)
    centers_squared = ((x2 + x1) / 2 - (x1g + x2g) / 2) ** 2 + ((y2 + y1) / 2 - (y1g + y2g) / 2) ** 2
    return 1 - iou + centers_squared / diagonal_squared, iou
