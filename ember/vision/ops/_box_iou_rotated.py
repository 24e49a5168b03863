"""Pairwise IoU of rotated boxes (``cxcywhr``), vectorised over all pairs: the intersection is the convex polygon of
the edge crossings and of each box's corners inside the other, its area the shoelace sum around its centroid."""
import math

import ember

from ._utils import _dtype_name

_EPS = 1e-5  # torchvision's kernel relaxes its inside/crossing tests by this much


def _corners(centre, w, h, angle):
    """``[..., 4, 2]`` corners of boxes centred at ``centre [..., 2]``, in the kernel's order."""
    theta = angle * (math.pi / 180.0)
    cos, sin = ember.cos(theta) * 0.5, ember.sin(theta) * 0.5
    dx0, dy0 = sin * h + cos * w, cos * h - sin * w
    dx1, dy1 = -sin * h + cos * w, -cos * h - sin * w
    offsets = ember.stack([ember.stack([dx0, dy0], -1), ember.stack([dx1, dy1], -1),
                           ember.stack([-dx0, -dy0], -1), ember.stack([-dx1, -dy1], -1)], -2)
    return centre[..., None, :] + offsets


def _cross(a, b):
    return a[..., 0] * b[..., 1] - b[..., 0] * a[..., 1]


def _dot(a, b):
    return a[..., 0] * b[..., 0] + a[..., 1] * b[..., 1]


def _inside(points, rect):
    """Which of ``points [..., 4, 2]`` lie in the rectangle ``rect [..., 4, 2]`` (projections on two sides)."""
    ab = rect[..., 1, :] - rect[..., 0, :]
    ad = rect[..., 3, :] - rect[..., 0, :]
    ap = points - rect[..., None, 0, :]
    along_ab, along_ad = _dot(ap, ab[..., None, :]), _dot(ap, ad[..., None, :])
    return ((along_ab > -_EPS) & (along_ad > -_EPS) & (along_ab < _dot(ab, ab)[..., None] + _EPS)
            & (along_ad < _dot(ad, ad)[..., None] + _EPS))


def _intersection_area(p1, p2):
    """Areas ``[...]`` of the intersections of rectangles with corners ``p1``, ``p2`` (``[..., 4, 2]``)."""
    v1 = p1.roll(-1, dims=-2) - p1
    v2 = p2.roll(-1, dims=-2) - p2
    e1, d1 = p1[..., :, None, :], v1[..., :, None, :]   # edge i of box 1 against...
    e2, d2 = p2[..., None, :, :], v2[..., None, :, :]   # ...edge j of box 2
    det = _cross(d2, d1)
    safe = ember.where(det.abs() > 1e-14, det, ember.ones_like(det))
    t1 = _cross(d2, e2 - e1) / safe
    t2 = _cross(d1, e2 - e1) / safe
    crossing = (det.abs() > 1e-14) & (t1 > -_EPS) & (t1 < 1 + _EPS) & (t2 > -_EPS) & (t2 < 1 + _EPS)
    crossings = (e1 + d1 * t1[..., None]).flatten(-3, -2)
    points = ember.cat([crossings, p1, p2], dim=-2)
    valid = ember.cat([crossing.flatten(-2), _inside(p1, p2), _inside(p2, p1)], dim=-1)
    count = valid.sum(-1, keepdim=True)
    weights = valid.to(points.dtype)[..., None]
    centroid = (points * weights).sum(-2, keepdim=True) / count.clamp(min=1)[..., None].to(points.dtype)
    rel = points - centroid
    angle = ember.where(valid, ember.atan2(rel[..., 1], rel[..., 0]), ember.full_like(rel[..., 0], math.inf))
    order = angle.argsort(dim=-1)
    rel = ember.gather(rel, -2, order[..., None].expand(rel.shape))
    # invalid points sort last; standing on the first point they add nothing to the shoelace sum
    rel = ember.where(ember.gather(valid, -1, order)[..., None], rel, rel[..., :1, :])
    area = _cross(rel, rel.roll(-1, dims=-2)).sum(-1).abs() / 2
    return ember.where(count[..., 0] > 2, area, ember.zeros_like(area))


def box_iou_rotated(boxes1, boxes2):
    """``[N, M]`` float32 IoUs of rotated boxes ``(cx, cy, w, h, degrees)``; 0 where a box has no area."""
    for name, boxes, n in (("boxes1", boxes1, "N"), ("boxes2", boxes2, "M")):
        if boxes.dim() != 2 or boxes.size(1) != 5:
            raise RuntimeError(f"{name} should have shape ({n}, 5), got {list(boxes.shape)}")
    if boxes1.dtype != boxes2.dtype:
        raise RuntimeError("boxes1 and boxes2 must have the same dtype")
    if boxes1.dtype not in (ember.float32, ember.float64):
        raise RuntimeError(f"\"box_iou_rotated_cpu\" not implemented for '{_dtype_name(boxes1.dtype)}'")
    n, m = boxes1.shape[0], boxes2.shape[0]
    if n == 0 or m == 0:
        return ember.zeros(n, m, device=boxes1.device)
    with ember.no_grad():
        a = boxes1.detach()[:, None, :].expand(n, m, 5)
        b = boxes2.detach()[None, :, :].expand(n, m, 5)
        shift = (a[..., :2] + b[..., :2]) / 2  # centred between the pair, for precision (as the kernel)
        p1 = _corners(a[..., :2] - shift, a[..., 2], a[..., 3], a[..., 4])
        p2 = _corners(b[..., :2] - shift, b[..., 2], b[..., 3], b[..., 4])
        area1, area2 = a[..., 2] * a[..., 3], b[..., 2] * b[..., 3]
        inter = _intersection_area(p1, p2)
        iou = inter / (area1 + area2 - inter)
        iou = ember.where((area1 < 1e-14) | (area2 < 1e-14), ember.zeros_like(iou), iou)
    return iou.float()
