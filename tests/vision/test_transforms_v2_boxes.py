"""transforms.v2 on boxes and masks: box kernels against explicit corner arithmetic, masks moved with nearest
interpolation and the image's parameters, SanitizeBoundingBoxes' removals, and a detection pipeline end to end."""
import math

import numpy
import pytest

import ember
from ember.vision import tv_tensors
from ember.vision.transforms import v2
from ember.vision.transforms.v2 import functional as F
from ember.vision.tv_tensors import BoundingBoxes, Mask

H, W = 16, 21
XYXY = numpy.array([[2, 3, 10, 12], [0, 0, 5, 5], [15, 1, 20, 9]], numpy.float32)


def boxes(array=XYXY, fmt="XYXY", **kwargs):
    return BoundingBoxes(ember.tensor(array), format=fmt, canvas_size=(H, W), **kwargs)


def assert_boxes(out, expected, canvas_size=(H, W)):
    assert type(out) is BoundingBoxes and out.canvas_size == canvas_size
    numpy.testing.assert_allclose(out.numpy(), numpy.asarray(expected, numpy.float64), atol=1e-4)


def enclosing(corners, canvas_size):
    """XYXY boxes around each box's mapped corners, clamped to the canvas."""
    x, y = corners[..., 0], corners[..., 1]
    out = numpy.stack([x.min(1), y.min(1), x.max(1), y.max(1)], axis=1)
    out[:, 0::2] = out[:, 0::2].clip(0, canvas_size[1])
    out[:, 1::2] = out[:, 1::2].clip(0, canvas_size[0])
    return out


def corners(xyxy):
    x1, y1, x2, y2 = xyxy.T
    return numpy.stack([numpy.stack([x1, y1], 1), numpy.stack([x2, y1], 1), numpy.stack([x2, y2], 1),
                        numpy.stack([x1, y2], 1)], axis=1).astype(numpy.float64)


def test_format_conversion_formulas():
    x1, y1, x2, y2 = XYXY.T
    xywh = numpy.stack([x1, y1, x2 - x1, y2 - y1], 1)
    cxcywh = numpy.stack([(x1 + x2) / 2, (y1 + y2) / 2, x2 - x1, y2 - y1], 1)
    assert_boxes(F.convert_bounding_box_format(boxes(), new_format="XYWH"), xywh)
    assert_boxes(F.convert_bounding_box_format(boxes(), new_format="CXCYWH"), cxcywh)
    assert_boxes(F.convert_bounding_box_format(boxes(cxcywh, "CXCYWH"), new_format="XYWH"), xywh)
    assert F.convert_bounding_box_format(boxes(), new_format="CXCYWH").format is tv_tensors.BoundingBoxFormat.CXCYWH
    plain = F.convert_bounding_box_format(ember.tensor(xywh), old_format="XYWH", new_format="XYXY")
    assert type(plain) is ember.Tensor and plain.tolist() == XYXY.tolist()
    integer = F.convert_bounding_box_format(boxes(XYXY.astype(numpy.int64)), new_format="CXCYWH")
    assert integer.dtype == ember.int64 and integer[:, 0].tolist() == [6, 2, 17]   # floor division
    v2.ConvertBoundingBoxFormat("XYWH")(boxes())
    with pytest.raises(ValueError, match="old_format"):
        F.convert_bounding_box_format(ember.tensor(XYXY), new_format="XYWH")
    with pytest.raises(ValueError, match="must not be passed"):
        F.convert_bounding_box_format(boxes(), old_format="XYXY", new_format="XYWH")
    with pytest.raises(ValueError, match="rotated and unrotated"):
        F.convert_bounding_box_format(boxes(), new_format="XYWHR")


@pytest.mark.parametrize("fmt", ["XYXY", "XYWH", "CXCYWH"])
def test_flips_crop_resize_pad_by_arithmetic(fmt):
    def check(out, expected_xyxy, canvas_size=(H, W)):
        assert_boxes(F.convert_bounding_box_format(out, new_format="XYXY"), expected_xyxy, canvas_size)
        assert out.format.name == fmt

    b = F.convert_bounding_box_format(boxes(), new_format=fmt)
    x1, y1, x2, y2 = XYXY.T
    check(F.horizontal_flip(b), numpy.stack([W - x2, y1, W - x1, y2], 1))
    check(F.vertical_flip(b), numpy.stack([x1, H - y2, x2, H - y1], 1))
    top, left, height, width = 2, 3, 10, 12
    cropped = numpy.stack([x1 - left, y1 - top, x2 - left, y2 - top], 1)
    cropped[:, 0::2] = cropped[:, 0::2].clip(0, width)
    cropped[:, 1::2] = cropped[:, 1::2].clip(0, height)
    check(F.crop(b, top, left, height, width), cropped, (height, width))
    check(F.resize(b, [32, 7]), XYXY * numpy.array([7 / W, 32 / H] * 2, numpy.float32), (32, 7))
    check(F.pad(b, [1, 2, 3, 4]), XYXY + numpy.array([1, 2, 1, 2]), (H + 6, W + 4))


def test_affine_and_rotate_corners_by_arithmetic():
    b = boxes()
    cx, cy = W / 2, H / 2
    angle = 30.0
    # F.rotate turns counter-clockwise on screen: with y down, a point moves by (cos, sin; -sin, cos) about the center
    c, s = math.cos(math.radians(angle)), math.sin(math.radians(angle))
    pts = corners(XYXY)
    dx, dy = pts[..., 0] - cx, pts[..., 1] - cy
    rotated = numpy.stack([cx + c * dx + s * dy, cy - s * dx + c * dy], -1)
    assert_boxes(F.rotate(b, angle), enclosing(rotated, (H, W)))
    # affine turns clockwise, then translates
    translated = numpy.stack([cx + c * dx - s * dy + 2, cy + s * dx + c * dy - 1], -1)
    assert_boxes(F.affine(b, angle, [2, -1], 1.0, [0.0, 0.0]), enclosing(translated, (H, W)))
    scaled = numpy.stack([cx + 1.5 * dx, cy + 1.5 * dy], -1)
    assert_boxes(F.affine(b, 0.0, [0, 0], 1.5, [0.0, 0.0]), enclosing(scaled, (H, W)))


def test_rotate_by_90_with_expand_swaps_the_canvas():
    out = F.rotate(boxes(), 90.0, expand=True)
    x1, y1, x2, y2 = XYXY.T
    # counter-clockwise by 90 degrees: (x, y) -> (y, W - x) on the (W, H) canvas
    assert_boxes(out, numpy.stack([y1, W - x2, y2, W - x1], 1), (W, H))
    image = tv_tensors.Image(ember.arange(H * W).reshape(1, H, W))
    turned = F.rotate(image, 90.0, expand=True)
    assert turned.shape == (1, W, H) and turned[0, W - 1, 0].item() == 0   # the top-left pixel goes bottom-left


def test_clamping_modes():
    outside = boxes(numpy.array([[-3, -2, 30, 8]], numpy.float32))
    assert_boxes(F.clamp_bounding_boxes(outside), [[0, 0, W, 8]])
    assert_boxes(v2.ClampBoundingBoxes()(outside), [[0, 0, W, 8]])
    unclamped = boxes(numpy.array([[2, 2, 8, 8]], numpy.float32), clamping_mode=None)
    assert_boxes(F.pad(unclamped, [-4, 0, 0, 0]), [[-2, 2, 4, 8]], (H, W - 4))
    with pytest.raises(ValueError, match="have to be passed"):
        F.clamp_bounding_boxes(ember.tensor(XYXY))


def test_masks_follow_the_image_with_nearest_interpolation():
    mask = numpy.zeros((H, W), numpy.uint8)
    mask[3:12, 2:10] = 1
    mask[1:9, 15:20] = 2
    for transform in (v2.RandomRotation(35), v2.RandomAffine(20, scale=(0.8, 1.2)), v2.RandomResizedCrop(12),
                      v2.Resize(30), v2.RandomPerspective(p=1.0), v2.ElasticTransform(alpha=10.0, sigma=2.0)):
        ember.manual_seed(0)
        image_out, mask_out = transform(tv_tensors.Image(ember.tensor(mask)[None].float()), Mask(ember.tensor(mask)))
        assert type(mask_out) is Mask and mask_out.ndim == 2 and mask_out.dtype == ember.uint8
        assert set(numpy.unique(mask_out.numpy())) <= {0, 1, 2}   # nearest: no new labels
        assert tuple(mask_out.shape) == tuple(image_out.shape[-2:])
    ember.manual_seed(3)
    rotation = v2.RandomRotation(50)
    _, mask_out = rotation(tv_tensors.Image(ember.zeros(1, H, W)), Mask(ember.tensor(mask)))
    ember.manual_seed(3)
    angle = rotation.make_params([])["angle"]
    expected = F.rotate(ember.tensor(mask)[None], angle, interpolation=v2.InterpolationMode.NEAREST)[0]
    numpy.testing.assert_array_equal(mask_out.numpy(), expected.numpy())
    resized = F.resize(Mask(ember.tensor(mask)), [8, 10], interpolation=v2.InterpolationMode.BILINEAR)
    assert set(numpy.unique(resized.numpy())) <= {0, 1, 2}


def test_sanitize_removes_degenerate_small_and_outside_boxes():
    array = numpy.array([[1, 1, 5, 5], [3, 3, 3, 8], [0, 0, 0.5, 9], [2, 2, 30, 6], [-1, 0, 4, 4], [4, 4, 9, 9]],
                        numpy.float32)
    labels = ember.arange(6)
    masks = Mask(ember.arange(6)[:, None, None].expand(6, H, W))
    other = ember.arange(6)
    out = v2.SanitizeBoundingBoxes()({"boxes": boxes(array), "labels": labels, "masks": masks, "other": other})
    assert out["boxes"].tolist() == [[1, 1, 5, 5], [4, 4, 9, 9]]
    assert out["labels"].tolist() == [0, 5] and out["masks"][:, 0, 0].tolist() == [0, 5]
    assert out["other"] is other   # only the labels the getter finds are filtered
    big = v2.SanitizeBoundingBoxes(min_size=5)(boxes(array), {"labels": labels})
    assert big[0].tolist() == [[4, 4, 9, 9]] and big[1]["labels"].tolist() == [5]
    valid_boxes, valid = F.sanitize_bounding_boxes(ember.tensor(array), format="XYXY", canvas_size=(H, W), min_area=20)
    assert valid.tolist() == [False, False, False, False, False, True] and valid_boxes.shape == (1, 4)
    with pytest.raises(ValueError, match="must match the number of labels"):
        v2.SanitizeBoundingBoxes()({"boxes": boxes(array), "labels": ember.arange(5)})
    with pytest.raises(ValueError, match="Could not infer where the labels are"):
        v2.SanitizeBoundingBoxes()({"boxes": boxes(array)})
    assert v2.SanitizeBoundingBoxes(labels_getter=None)({"boxes": boxes(array)})["boxes"].shape == (2, 4)
    with pytest.raises(ValueError, match="min_size must be >= 1"):
        v2.SanitizeBoundingBoxes(min_size=0.5)


def test_random_iou_crop_zeroes_boxes_outside_then_sanitize_drops_them():
    image = tv_tensors.Image(ember.zeros(3, 60, 80))
    b = BoundingBoxes([[5, 5, 20, 20], [50, 30, 75, 55], [30, 10, 45, 25]], format="XYXY", canvas_size=(60, 80))
    pipeline = v2.Compose([v2.RandomIoUCrop(), v2.SanitizeBoundingBoxes()])
    for seed in range(10):
        ember.manual_seed(seed)
        out = pipeline({"image": image, "boxes": b, "labels": ember.tensor([1, 2, 3])})
        assert out["boxes"].canvas_size == tuple(out["image"].shape[-2:])
        assert out["boxes"].shape[0] == out["labels"].shape[0] >= 1
    with pytest.raises(TypeError, match="requires input sample to contain"):
        v2.RandomIoUCrop()(image)


def test_detection_pipeline_end_to_end():
    pipeline = v2.Compose([
        v2.ToImage(), v2.RandomPhotometricDistort(p=1.0), v2.RandomZoomOut(fill={tv_tensors.Image: 127, "others": 0}),
        v2.RandomIoUCrop(), v2.RandomHorizontalFlip(p=1.0), v2.RandomShortestSize([40, 48], max_size=90),
        v2.SanitizeBoundingBoxes(), v2.ToDtype(ember.float32, scale=True), v2.ToPureTensor()])
    from PIL import Image as PILImage
    rng = numpy.random.default_rng(0)
    picture = PILImage.fromarray(rng.integers(0, 256, (50, 70, 3), dtype=numpy.uint8))
    mask = numpy.zeros((2, 50, 70), numpy.uint8)
    mask[0, 10:30, 5:25] = 1
    mask[1, 20:45, 40:65] = 1
    target = {"boxes": BoundingBoxes([[5, 10, 25, 30], [40, 20, 65, 45]], format="XYXY", canvas_size=(50, 70)),
              "masks": Mask(ember.tensor(mask)), "labels": ember.tensor([3, 7])}
    for seed in range(8):
        ember.manual_seed(seed)
        image, out = pipeline(picture, target)
        assert type(image) is ember.Tensor and image.dtype == ember.float32 and image.shape[0] == 3
        assert type(out["boxes"]) is ember.Tensor and out["boxes"].shape[0] == out["labels"].shape[0]
        assert min(image.shape[-2:]) <= 48 and max(image.shape[-2:]) <= 90
        assert tuple(out["masks"].shape[-2:]) == tuple(image.shape[-2:])
        for box, m in zip(out["boxes"].tolist(), out["masks"]):
            x1, y1, x2, y2 = box
            assert 0 <= x1 < x2 <= image.shape[-1] and 0 <= y1 < y2 <= image.shape[-2]
            ys, xs = numpy.nonzero(m.numpy())   # the box still encloses its (nearest-resized) mask
            if len(xs):
                assert x1 - 1 <= xs.min() and xs.max() <= x2 + 1 and y1 - 1 <= ys.min() and ys.max() <= y2 + 1


def test_multi_crops_refuse_boxes_and_masks():
    with pytest.raises(TypeError, match="not supported by FiveCrop"):
        v2.FiveCrop(4)(tv_tensors.Image(ember.zeros(1, 8, 8)), boxes())


def test_pad_modes_other_than_constant_refuse_boxes():
    with pytest.raises(ValueError, match="not supported with bounding boxes"):
        F.pad(boxes(), 2, padding_mode="reflect")


def test_keypoints_move_with_the_image():
    points = tv_tensors.KeyPoints([[2.0, 3.0], [20.0, 15.0]], canvas_size=(H, W))
    flipped = F.horizontal_flip(points)
    assert flipped.tolist() == [[W - 1 - 2.0, 3.0], [W - 1 - 20.0, 15.0]]   # pixel indices: W - 1 - x
    moved = F.pad(points, [1, 2])
    assert moved.canvas_size == (H + 4, W + 2) and moved.tolist() == [[3.0, 5.0], [21.0, 17.0]]
    turned = F.rotate(points, 90.0, expand=True)
    assert turned.canvas_size == (W, H)
    numpy.testing.assert_allclose(turned.numpy(), [[3.0, W - 2.0], [15.0, W - 20.0]], atol=1e-5)
    clamped = v2.ClampKeyPoints()(F.crop(points, 0, 5, H, 10))
    assert clamped.tolist() == [[0.0, 3.0], [9.0, 15.0]]
    groups = tv_tensors.KeyPoints([[[1, 1], [2, 2]], [[1, 1], [30, 2]], [[0, 0], [5, 5]]], canvas_size=(H, W))
    out = v2.SanitizeKeyPoints(labels_getter="default")({"points": groups, "labels": ember.tensor([7, 8, 9])})
    assert out["points"].shape == (2, 2, 2) and out["labels"].tolist() == [7, 9]   # whole groups go
    with pytest.raises(ValueError, match="No keypoints were found"):
        v2.SanitizeKeyPoints()(boxes())


@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a GPU")
def test_boxes_masks_and_keypoints_on_the_gpu_match_the_cpu():
    def sample(device):
        mask = ember.zeros(H, W, dtype=ember.uint8)
        mask[3:12, 2:10] = 1
        return {"image": tv_tensors.Image(ember.rand(3, H, W, generator=ember.Generator().manual_seed(0))).to(device),
                "boxes": boxes().to(device), "masks": Mask(mask).to(device),
                "points": tv_tensors.KeyPoints([[2.0, 3.0], [10.0, 12.0]], canvas_size=(H, W)).to(device)}
    pipeline = v2.Compose([v2.RandomZoomOut(p=1.0), v2.RandomAffine(20, translate=(0.1, 0.1), shear=5),
                           v2.RandomRotation(30, expand=True), v2.RandomResizedCrop(24), v2.RandomPerspective(p=1.0),
                           v2.ElasticTransform(alpha=10.0, sigma=2.0), v2.ColorJitter(0.3, 0.3, 0.3, 0.05),
                           v2.RandomErasing(1.0), v2.SanitizeBoundingBoxes(labels_getter=None)])
    ember.manual_seed(0)
    on_cpu = pipeline(sample("cpu"))
    ember.manual_seed(0)
    on_gpu = pipeline(sample("cuda"))
    for key in ("image", "boxes", "masks", "points"):
        assert on_gpu[key].device.type == "cuda" and type(on_gpu[key]) is type(on_cpu[key])
        numpy.testing.assert_allclose(on_gpu[key].cpu().numpy(), on_cpu[key].numpy(), atol=1e-3)
