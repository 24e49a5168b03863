"""Complete IoU loss of paired boxes."""
import math

import ember

from ._utils import _reduce, _upcast_non_float
from .diou_loss import _diou_iou_loss


def complete_box_iou_loss(boxes1, boxes2, reduction="none", eps=1e-7):
    """Distance IoU loss plus an aspect-ratio consistency term, for boxes paired elementwise (``[..., 4]`` xyxy)."""
    boxes1 = _upcast_non_float(boxes1)
    boxes2 = _upcast_non_float(boxes2)
    # torchvision computes the distance part with the default eps whatever `eps` is
    diou_loss, iou = _diou_iou_loss(boxes1, boxes2)
    x1, y1, x2, y2 = boxes1.unbind(dim=-1)
    x1g, y1g, x2g, y2g = boxes2.unbind(dim=-1)
    v = (4 / (math.pi ** 2)) * ember.pow(ember.atan((x2g - x1g) / (y2g - y1g)) - ember.atan((x2 - x1) / (y2 - y1)), 2)
    with ember.no_grad():
        alpha = v / (1 - iou + v + eps)
    return _reduce(diou_loss + alpha * v, reduction)
