"""ember.vision.ops' box functions: nms and batched_nms against the greedy definition (NumPy, as torchvision's CPU
kernel runs it), the IoU family, conversions, clipping and masks_to_boxes against torchvision's Python code."""
import math

import numpy
import pytest
import torch

import ember
import ember.vision.ops as E
from tests.vision import tv_oracle

tv = tv_oracle.load()
T = tv.ops


def random_boxes(n, seed=0, dtype=numpy.float64, degenerate=False):
    rng = numpy.random.default_rng(seed)
    xy = rng.uniform(0, 20, (n, 2))
    wh = rng.uniform(0, 8, (n, 2))
    if degenerate and n:
        wh[::3, 0] = 0
    return numpy.concatenate([xy, xy + wh], 1).astype(dtype)


def greedy_nms(boxes, scores, threshold):
    """nms by its definition: visit boxes by decreasing score (stable), keep one unless a kept box overlaps it."""
    order = sorted(range(len(scores)), key=lambda i: -scores[i])
    keep = []
    area = numpy.prod(boxes[:, 2:] - boxes[:, :2], axis=1)
    for i in order:
        kept = boxes[keep]
        lt = numpy.maximum(boxes[i, :2], kept[:, :2])
        rb = numpy.minimum(boxes[i, 2:], kept[:, 2:])
        inter = numpy.prod(numpy.maximum(rb - lt, 0), axis=1)
        with numpy.errstate(invalid="ignore"):
            if not (inter / (area[i] + area[keep] - inter) > threshold).any():
                keep.append(i)
    return keep


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
@pytest.mark.parametrize("threshold", [0.0, 0.3, 0.5, 0.9])
def test_nms_matches_the_greedy_definition(dtype, threshold):
    for seed in range(4):
        boxes = random_boxes(60, seed, dtype)
        scores = numpy.random.default_rng(seed + 10).uniform(size=60).astype(dtype)
        keep = E.nms(ember.tensor(boxes), ember.tensor(scores), threshold)
        assert keep.dtype == ember.int64
        assert keep.tolist() == greedy_nms(boxes.astype(numpy.float64), scores, threshold)


def test_nms_across_blocks_of_rows():
    # the kernel works through the sorted boxes a block of rows at a time; suppression must carry across blocks
    from ember.vision.ops.boxes import _greedy
    boxes = random_boxes(80, 9)
    for block in (1, 7, 512):
        assert _greedy(boxes, 0.3, block=block).tolist() == greedy_nms(boxes, -numpy.arange(80.0), 0.3)
    many = random_boxes(1500, 11)
    many += numpy.tile(numpy.random.default_rng(13).uniform(0, 200, (1500, 2)), 2)
    scores = numpy.random.default_rng(12).uniform(size=1500)
    keep = E.nms(ember.tensor(many), ember.tensor(scores), 0.2).tolist()
    assert len(keep) > 512 and keep == greedy_nms(many, scores, 0.2)


def test_nms_ties_keep_input_order():
    # torchvision's kernel sorts scores stably: of equal scores the earlier box comes first and suppresses the later
    boxes = ember.tensor([[0., 0, 10, 10], [1, 1, 11, 11], [50, 50, 60, 60], [0, 0, 10, 10]])
    scores = ember.tensor([0.5, 0.5, 0.5, 0.9])
    assert E.nms(boxes, scores, 0.5).tolist() == [3, 2]
    assert E.nms(boxes, ember.full((4,), 0.7), 0.5).tolist() == [0, 2]
    assert E.nms(boxes, ember.full((4,), 0.7), 0.99).tolist() == [0, 1, 2]


def test_nms_empty_degenerate_and_threshold_edges():
    empty = E.nms(ember.zeros(0, 4), ember.zeros(0), 0.5)
    assert empty.shape == (0,) and empty.dtype == ember.int64
    # zero-area boxes have IoU 0/0 = NaN with each other: nothing is suppressed
    boxes = ember.tensor([[1., 1, 1, 1], [1, 1, 1, 1]])
    assert E.nms(boxes, ember.tensor([0.2, 0.1]), 0.0).tolist() == [0, 1]
    # IoU exactly at the threshold is kept (the kernel suppresses only `>`)...
    boxes = ember.tensor([[0., 0, 2, 1], [1, 0, 3, 1]], dtype=ember.float64)  # IoU 1/3
    assert E.nms(boxes, ember.tensor([0.9, 0.8], dtype=ember.float64), 1 / 3).tolist() == [0, 1]
    # ...compared in double: float32's 1/3 rounds up, above the double threshold
    assert E.nms(boxes.float(), ember.tensor([0.9, 0.8]), 1 / 3).tolist() == [0]
    assert E.nms(boxes, ember.tensor([0.9, 0.8], dtype=ember.float64), 0.333).tolist() == [0]


def test_nms_errors():
    with pytest.raises(RuntimeError, match="boxes should be a 2d tensor, got 1D"):
        E.nms(ember.zeros(4), ember.zeros(1), 0.5)
    with pytest.raises(RuntimeError, match="boxes should have 4 elements in dimension 1, got 5"):
        E.nms(ember.zeros(2, 5), ember.zeros(2), 0.5)
    with pytest.raises(RuntimeError, match="scores should be a 1d tensor, got 2D"):
        E.nms(ember.zeros(2, 4), ember.zeros(2, 1), 0.5)
    with pytest.raises(RuntimeError, match="same number of elements in dimension 0, got 2 and 3"):
        E.nms(ember.zeros(2, 4), ember.zeros(3), 0.5)
    with pytest.raises(RuntimeError, match="dets should have the same type as scores"):
        E.nms(ember.zeros(2, 4), ember.zeros(2, dtype=ember.float64), 0.5)
    with pytest.raises(RuntimeError, match="not implemented for 'Long'"):
        E.nms(ember.zeros(2, 4, dtype=ember.int64), ember.zeros(2, dtype=ember.int64), 0.5)


def reference_batched(boxes, scores, idxs, threshold):
    keep = []
    for c in numpy.unique(idxs):
        members = numpy.flatnonzero(idxs == c)
        keep += [members[i] for i in greedy_nms(boxes[members], scores[members], threshold)]
    return sorted(keep, key=lambda i: -scores[i])


@pytest.mark.parametrize("n", [0, 1, 50, 1200])  # 1200 boxes take the per-category path (over 4000 numbers)
def test_batched_nms_is_nms_per_category(n):
    boxes = random_boxes(n, 3)
    rng = numpy.random.default_rng(4)
    scores = rng.uniform(size=n)
    idxs = rng.integers(0, 5, n)
    keep = E.batched_nms(ember.tensor(boxes), ember.tensor(scores), ember.tensor(idxs), 0.4)
    assert keep.dtype == ember.int64
    assert keep.tolist() == reference_batched(boxes, scores, idxs, 0.4)


def pair(a, b=None):
    return (ember.tensor(a), ember.tensor(b)) if b is not None else ember.tensor(a)


def close(ours, theirs):
    assert ours.dtype == getattr(ember, str(theirs.dtype).split(".")[-1])
    assert tuple(ours.shape) == tuple(theirs.shape)
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), rtol=1e-6, atol=1e-7, equal_nan=True)


IOUS = ["box_iou", "generalized_box_iou", "distance_box_iou", "complete_box_iou"]


@pytest.mark.parametrize("name", IOUS)
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64, numpy.int64])
@pytest.mark.parametrize("shapes", [(5, 7), (0, 3), (4, 0), (1, 1)])
def test_iou_family_matches_torchvision(name, dtype, shapes):
    a = random_boxes(shapes[0], 1, degenerate=True)
    b = random_boxes(shapes[1], 2)
    a, b = (x.round().astype(dtype) if dtype == numpy.int64 else x.astype(dtype) for x in (a, b))
    close(getattr(E, name)(ember.tensor(a), ember.tensor(b)), getattr(T, name)(torch.tensor(a), torch.tensor(b)))


@pytest.mark.parametrize("name", IOUS)
def test_iou_family_on_batches_of_box_sets(name):
    a = random_boxes(24, 1).reshape(2, 3, 4, 4)
    b = random_boxes(30, 2).reshape(2, 3, 5, 4)
    close(getattr(E, name)(ember.tensor(a), ember.tensor(b)), getattr(T, name)(torch.tensor(a), torch.tensor(b)))


@pytest.mark.parametrize("fmt", ["xyxy", "xywh", "cxcywh"])
def test_box_iou_and_area_formats(fmt):
    a, b = random_boxes(6, 1), random_boxes(4, 2)
    close(E.box_iou(ember.tensor(a), ember.tensor(b), fmt=fmt), T.box_iou(torch.tensor(a), torch.tensor(b), fmt=fmt))
    close(E.box_area(ember.tensor(a), fmt=fmt), T.box_area(torch.tensor(a), fmt=fmt))
    half = a.astype(numpy.float16)
    close(E.box_area(ember.tensor(half), fmt=fmt), T.box_area(torch.tensor(half), fmt=fmt))


def test_box_format_errors():
    boxes = ember.zeros(2, 4)
    with pytest.raises(ValueError, match="Unsupported Bounding Box area for given format abc"):
        E.box_area(boxes, fmt="abc")
    with pytest.raises(ValueError, match="Unsupported format 'abc'"):
        E.box_iou(boxes, boxes, fmt="abc")
    with pytest.raises(ValueError, match="Unsupported Bounding Box Conversions"):
        E.box_convert(boxes, "xyxy", "abc")
    with pytest.raises(NotImplementedError, match="Unsupported Bounding Box Conversions"):
        E.box_convert(boxes, "xyxy", "cxcywhr")


def test_iou_gradients_match_torchvision():
    a, b = random_boxes(4, 1), random_boxes(3, 2)
    for name in IOUS:
        ea, eb = ember.tensor(a, requires_grad=True), ember.tensor(b, requires_grad=True)
        ta, tb = torch.tensor(a, requires_grad=True), torch.tensor(b, requires_grad=True)
        getattr(E, name)(ea, eb).sum().backward()
        getattr(T, name)(ta, tb).sum().backward()
        numpy.testing.assert_allclose(ea.grad.numpy(), ta.grad.numpy(), rtol=1e-9, atol=1e-12)
        numpy.testing.assert_allclose(eb.grad.numpy(), tb.grad.numpy(), rtol=1e-9, atol=1e-12)


AXIS = ["xyxy", "xywh", "cxcywh"]


@pytest.mark.parametrize("in_fmt", AXIS)
@pytest.mark.parametrize("out_fmt", AXIS)
@pytest.mark.parametrize("dtype", [numpy.float32, numpy.int64])
def test_box_convert_axis_aligned(in_fmt, out_fmt, dtype):
    boxes = random_boxes(5, 1).round().astype(dtype).reshape(5, 4)
    close(E.box_convert(ember.tensor(boxes), in_fmt, out_fmt), T.box_convert(torch.tensor(boxes), in_fmt, out_fmt))


ROTATED = [("xywhr", "cxcywhr"), ("cxcywhr", "xywhr"), ("xywhr", "xyxyxyxy"), ("xyxyxyxy", "xywhr"),
           ("cxcywhr", "xyxyxyxy"), ("xyxyxyxy", "cxcywhr")]


@pytest.mark.parametrize("in_fmt,out_fmt", ROTATED)
@pytest.mark.parametrize("dtype", [numpy.float64, numpy.int64])
def test_box_convert_rotated(in_fmt, out_fmt, dtype):
    rng = numpy.random.default_rng(5)
    five = numpy.concatenate([rng.uniform(0, 20, (6, 4)), rng.uniform(-180, 180, (6, 1))], 1)
    boxes = T.box_convert(torch.tensor(five), "xywhr", "xyxyxyxy").numpy() if in_fmt == "xyxyxyxy" else five
    boxes = boxes.round().astype(dtype) if dtype == numpy.int64 else boxes
    close(E.box_convert(ember.tensor(boxes), in_fmt, out_fmt), T.box_convert(torch.tensor(boxes), in_fmt, out_fmt))


def test_clip_and_remove_small_boxes():
    boxes = random_boxes(9, 6) - 5
    for size in [(10, 12), (3, 30)]:
        close(E.clip_boxes_to_image(ember.tensor(boxes), size), T.clip_boxes_to_image(torch.tensor(boxes), size))
    close(E.clip_boxes_to_image(ember.tensor(boxes.reshape(3, 3, 4)), (7, 8)),
          T.clip_boxes_to_image(torch.tensor(boxes.reshape(3, 3, 4)), (7, 8)))
    for min_size in [0.0, 2.0, 5.0]:
        close(E.remove_small_boxes(ember.tensor(boxes), min_size), T.remove_small_boxes(torch.tensor(boxes), min_size))


def test_masks_to_boxes():
    rng = numpy.random.default_rng(7)
    masks = rng.uniform(size=(4, 9, 11)) > 0.85
    masks[2] = False
    masks[3] = False
    masks[3, 4, 6] = True
    for m in [masks, masks.astype(numpy.uint8), masks.astype(numpy.float32)]:
        close(E.masks_to_boxes(ember.tensor(m)), T.masks_to_boxes(torch.tensor(m)))
    close(E.masks_to_boxes(ember.zeros(0, 5, 5)), T.masks_to_boxes(torch.zeros(0, 5, 5)))


def clip_polygon(subject, clipper):
    """Sutherland-Hodgman: the part of convex polygon ``subject`` inside convex ``clipper`` (both counter-clockwise
    in their own frame; orientation is fixed up by the caller)."""
    def side(p, a, b):
        return (b[0] - a[0]) * (p[1] - a[1]) - (b[1] - a[1]) * (p[0] - a[0])
    out = list(subject)
    for a, b in zip(clipper, clipper[1:] + clipper[:1]):
        points, out = out, []
        for p, q in zip(points, points[1:] + points[:1]):
            sp, sq = side(p, a, b), side(q, a, b)
            if sp >= 0:
                out.append(p)
            if sp * sq < 0:
                t = sp / (sp - sq)
                out.append((p[0] + t * (q[0] - p[0]), p[1] + t * (q[1] - p[1])))
        if not out:
            return []
    return out


def polygon_area(points):
    return 0.5 * sum(p[0] * q[1] - q[0] * p[1] for p, q in zip(points, points[1:] + points[:1]))


def rotated_iou_reference(boxes1, boxes2):
    """IoUs of rotated boxes by clipping their corner polygons (corners from torchvision's box_convert)."""
    def polygons(boxes):
        corners = T.box_convert(torch.tensor(boxes, dtype=torch.float64), "cxcywhr", "xyxyxyxy").numpy()
        result = []
        for c in corners:
            poly = [(c[2 * k], c[2 * k + 1]) for k in range(4)]
            result.append(poly if polygon_area(poly) >= 0 else poly[::-1])
        return result
    out = numpy.zeros((len(boxes1), len(boxes2)))
    for i, p in enumerate(polygons(boxes1)):
        for j, q in enumerate(polygons(boxes2)):
            a1, a2 = boxes1[i, 2] * boxes1[i, 3], boxes2[j, 2] * boxes2[j, 3]
            if a1 < 1e-14 or a2 < 1e-14:
                continue
            inter = abs(polygon_area(clip_polygon(p, q)))
            out[i, j] = inter / (a1 + a2 - inter)
    return out


def random_rotated(n, seed):
    rng = numpy.random.default_rng(seed)
    boxes = numpy.concatenate([rng.uniform(0, 6, (n, 2)), rng.uniform(0.5, 5, (n, 2)), rng.uniform(-180, 180, (n, 1))],
                              1)
    if n > 4:
        boxes[1] = boxes[0]                                # identical
        boxes[2, :2], boxes[2, 2:4] = boxes[0, :2], 0.3    # small box near the middle of another
        boxes[3, 4] = boxes[0, 4] + 90                     # right angles
        boxes[4, 2] = 0                                    # no area
    return boxes


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64])
def test_box_iou_of_rotated_boxes(dtype):
    a, b = random_rotated(9, 1), numpy.concatenate([random_rotated(9, 1)[:3], random_rotated(8, 2)])
    ours = E.box_iou(ember.tensor(a.astype(dtype)), ember.tensor(b.astype(dtype)), fmt="cxcywhr")
    assert ours.dtype == ember.float32 and ours.shape == (9, 11)
    numpy.testing.assert_allclose(ours.numpy(), rotated_iou_reference(a, b), atol=2e-5 if dtype == numpy.float32 else
                                  1e-6)
    # the other rotated formats convert to cxcywhr first
    for fmt in ("xywhr", "xyxyxyxy"):
        ea = E.box_convert(ember.tensor(a), "cxcywhr", fmt)
        eb = E.box_convert(ember.tensor(b), "cxcywhr", fmt)
        numpy.testing.assert_allclose(E.box_iou(ea, eb, fmt=fmt).numpy(), ours.numpy(), atol=1e-5)


def test_box_iou_of_rotated_boxes_known_values_and_errors():
    square = [0.0, 0.0, 1.0, 1.0]
    boxes = ember.tensor([square + [0.0], square + [45.0], [0.0, 0.0, 2.0, 1.0, 90.0]])
    iou = E.box_iou(boxes, boxes, fmt="cxcywhr").numpy()
    numpy.testing.assert_allclose(iou[0, 1], math.sqrt(2) / 2, rtol=1e-6)  # the square and its 45 degree turn
    numpy.testing.assert_allclose(iou[0, 2], 0.5, rtol=1e-6)
    numpy.testing.assert_allclose(numpy.diag(iou), 1.0, rtol=1e-6)
    assert E.box_iou(ember.zeros(0, 5), boxes, fmt="cxcywhr").shape == (0, 3)
    with pytest.raises(RuntimeError, match=r"boxes1 should have shape \(N, 5\), got \[3, 4\]"):
        E.box_iou(ember.zeros(3, 4), boxes, fmt="cxcywhr")
    with pytest.raises(RuntimeError, match="boxes1 and boxes2 must have the same dtype"):
        E.box_iou(boxes.double(), boxes, fmt="cxcywhr")


def test_box_iou_of_many_rotated_pairs():
    a, b = random_rotated(40, 3), random_rotated(40, 4)
    b[5:10, 4] = a[5:10, 4] + 1e-7  # nearly parallel edges
    b[10:15] = a[10:15] + [0.5, 0, 0, 0, 0]  # shifted copies
    numpy.testing.assert_allclose(E.box_iou(ember.tensor(a), ember.tensor(b), fmt="cxcywhr").numpy(),
                                  rotated_iou_reference(a, b), atol=1e-6)
