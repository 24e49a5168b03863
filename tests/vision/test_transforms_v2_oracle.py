"""transforms.v2 beside torchvision's own v2 (loaded through tv_oracle; skipped where it cannot be imported): box
kernels on every unrotated format and dtype, and seeded pipelines whose boxes, masks and labels must agree exactly
(ember's generator draws torch's numbers, and v2 draws its parameters in torchvision's order)."""
import numpy
import pytest

import ember
from ember.vision import tv_tensors
from ember.vision.transforms import v2
from ember.vision.transforms.v2 import functional as F

from . import tv_oracle

tv = tv_oracle.load()
torch = pytest.importorskip("torch")
from torchvision import tv_tensors as tv_tv_tensors  # noqa: E402
from torchvision.transforms import v2 as tv2  # noqa: E402
from torchvision.transforms.v2 import functional as TF  # noqa: E402

H, W = 16, 21
XYXY = numpy.array([[2, 3, 10, 12], [0, 0, 5, 5], [15, 1, 20, 9]], numpy.float32)
DISPLACEMENT = numpy.random.default_rng(0).uniform(-0.1, 0.1, (1, H, W, 2)).astype(numpy.float32)
START, END = [[0, 0], [20, 0], [20, 15], [0, 15]], [[2, 1], [19, 0], [18, 14], [1, 15]]

CALLS = {
    "hflip": lambda f, b, t: f.horizontal_flip(b), "vflip": lambda f, b, t: f.vertical_flip(b),
    "resize": lambda f, b, t: f.resize(b, [30, 11]), "resize_short": lambda f, b, t: f.resize(b, 9),
    "resize_max": lambda f, b, t: f.resize(b, None, max_size=9), "crop": lambda f, b, t: f.crop(b, 2, 3, 10, 12),
    "center_crop": lambda f, b, t: f.center_crop(b, [9, 8]),
    "resized_crop": lambda f, b, t: f.resized_crop(b, 2, 3, 10, 12, [7, 9]),
    "pad": lambda f, b, t: f.pad(b, [1, 2, 3, 4]),
    "affine": lambda f, b, t: f.affine(b, 30.0, [2, -1], 1.2, [10.0, 5.0]),
    "affine_center": lambda f, b, t: f.affine(b, -20.0, [0, 0], 0.9, [0.0, 0.0], center=[3, 4]),
    "rotate": lambda f, b, t: f.rotate(b, 33.0), "rotate_expand": lambda f, b, t: f.rotate(b, 33.0, expand=True),
    "perspective": lambda f, b, t: f.perspective(b, START, END),
    "elastic": lambda f, b, t: f.elastic(b, t(DISPLACEMENT)),
    "sanitize": lambda f, b, t: f.sanitize_bounding_boxes(f.pad(b, [0, 0, -4, -3]))[0],
}


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.int64])
@pytest.mark.parametrize("fmt", ["XYXY", "XYWH", "CXCYWH"])
@pytest.mark.parametrize("name", sorted(CALLS))
def test_box_kernels_match_torchvision(name, fmt, dtype):
    ours = F.convert_bounding_box_format(tv_tensors.BoundingBoxes(ember.tensor(XYXY.astype(dtype)), format="XYXY",
                                                                  canvas_size=(H, W)), new_format=fmt)
    theirs = TF.convert_bounding_box_format(tv_tv_tensors.BoundingBoxes(torch.tensor(XYXY.astype(dtype)),
                                                                        format="XYXY", canvas_size=(H, W)),
                                            new_format=fmt)
    out, expected = CALLS[name](F, ours, ember.tensor), CALLS[name](TF, theirs, torch.tensor)
    assert out.canvas_size == expected.canvas_size and out.format.name == expected.format.name
    assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-4)


def _sample(mod, tensor):
    rng = numpy.random.default_rng(1)
    image = rng.integers(0, 256, (3, 40, 50), dtype=numpy.uint8)
    masks = numpy.zeros((3, 40, 50), numpy.uint8)
    masks[0, 5:20, 5:25] = masks[1, 20:38, 30:48] = masks[2, 0:10, 40:50] = 1
    boxes = numpy.array([[5, 5, 25, 20], [30, 20, 48, 38], [40, 0, 50, 10]], numpy.float32)
    return {"image": mod.Image(tensor(image)), "boxes": mod.BoundingBoxes(tensor(boxes), format="XYXY",
                                                                           canvas_size=(40, 50)),
            "masks": mod.Mask(tensor(masks)), "labels": tensor(numpy.array([1, 2, 3])), "name": "x"}


PIPELINES = {
    "ssd": lambda m: m.Compose([m.RandomZoomOut(), m.RandomIoUCrop(), m.RandomHorizontalFlip(),
                                m.SanitizeBoundingBoxes()]),
    "affine": lambda m: m.Compose([m.RandomAffine(25, translate=(0.1, 0.1), scale=(0.7, 1.3), shear=10),
                                   m.SanitizeBoundingBoxes()]),
    "rotate": lambda m: m.RandomRotation(35, expand=True),
    "resized_crop": lambda m: m.Compose([m.RandomResizedCrop(32), m.SanitizeBoundingBoxes()]),
    "crop": lambda m: m.RandomCrop(30, padding=4),
    "crop_one_dim": lambda m: m.Compose([m.RandomCrop((40, 30)), m.RandomCrop((20, 30))]),   # one draw each
    "sizes": lambda m: m.Compose([m.RandomShortestSize([20, 30, 60], max_size=80), m.ScaleJitter((40, 40))]),
    "perspective": lambda m: m.RandomPerspective(0.4, p=1.0),
    "elastic": lambda m: m.ElasticTransform(alpha=20.0, sigma=3.0),
}


@pytest.mark.parametrize("name", sorted(PIPELINES))
def test_seeded_pipelines_move_boxes_masks_and_labels_as_torchvision(name):
    for seed in range(12):
        ember.manual_seed(seed)
        ours = PIPELINES[name](v2)(_sample(tv_tensors, ember.tensor))
        torch.manual_seed(seed)
        theirs = PIPELINES[name](tv2)(_sample(tv_tv_tensors, torch.tensor))
        assert ours["name"] == "x" and tuple(ours["image"].shape) == tuple(theirs["image"].shape)
        assert ours["boxes"].canvas_size == theirs["boxes"].canvas_size
        numpy.testing.assert_allclose(ours["boxes"].numpy(), theirs["boxes"].numpy(), atol=1e-3)
        numpy.testing.assert_array_equal(ours["labels"].numpy(), theirs["labels"].numpy())
        mismatch = (ours["masks"].numpy() != theirs["masks"].numpy()).mean()
        assert mismatch < 0.01   # nearest sampling on a pixel's edge may round the other way in rare pixels


@pytest.mark.parametrize("name", ["posterize", "solarize", "adjust_sharpness", "autocontrast", "equalize"])
def test_new_color_kernels_match_torchvision(name):
    image = numpy.random.default_rng(0).integers(0, 256, (3, 20, 23), dtype=numpy.uint8)
    image[:, :2] = 0
    args = {"posterize": (3,), "solarize": (100,), "adjust_sharpness": (0.3,)}.get(name, ())
    for ours, theirs, scale in ((ember.tensor(image), torch.tensor(image), 1),
                                (ember.tensor(image).float() / 255, torch.tensor(image).float() / 255, 255)):
        arguments = (args[0] / scale,) if name == "solarize" else args
        numpy.testing.assert_allclose(getattr(F, name)(ours, *arguments).numpy(),
                                      getattr(TF, name)(theirs, *arguments).numpy(), atol=1e-6)


@pytest.mark.parametrize("make", [lambda m: m.AutoAugment(), lambda m: m.RandAugment(),
                                  lambda m: m.TrivialAugmentWide()])
def test_auto_augment_draws_as_torchvision(make):
    image = numpy.random.default_rng(0).integers(0, 256, (3, 20, 23), dtype=numpy.uint8)
    for seed in range(10):
        ember.manual_seed(seed)
        ours = make(v2)(tv_tensors.Image(ember.tensor(image))).numpy().astype(int)
        torch.manual_seed(seed)
        theirs = make(tv2)(tv_tv_tensors.Image(torch.tensor(image))).numpy().astype(int)
        # same ops and magnitudes; v1's uint8 color kernels round a few pixels one or two levels apart from v2's
        assert numpy.abs(ours - theirs).max() <= 2


def test_noise_temporal_and_linear_transforms_match_torchvision():
    image = numpy.random.default_rng(2).integers(0, 256, (2, 3, 6, 7), dtype=numpy.uint8)
    for make, convert in ((lambda m: m.GaussianNoise(sigma=0.3), lambda a: a.astype(numpy.float32) / 255),
                          (lambda m: m.GaussianNoise(mean=0.1), lambda a: a),
                          (lambda m: m.UniformTemporalSubsample(3), lambda a: a.astype(numpy.float32))):
        ember.manual_seed(4)
        ours = make(v2)(tv_tensors.Video(ember.tensor(convert(image))))
        torch.manual_seed(4)
        theirs = make(tv2)(tv_tv_tensors.Video(torch.tensor(convert(image))))
        numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-5)
    matrix = numpy.random.default_rng(3).random((3 * 6 * 7, 3 * 6 * 7), numpy.float32)
    mean = numpy.random.default_rng(4).random(3 * 6 * 7, numpy.float32)
    flat = image[0].astype(numpy.float32)
    numpy.testing.assert_allclose(
        v2.LinearTransformation(ember.tensor(matrix), ember.tensor(mean))(ember.tensor(flat)).numpy(),
        tv2.LinearTransformation(torch.tensor(matrix), torch.tensor(mean))(torch.tensor(flat)).numpy(), rtol=1e-4)


KERNELS = {
    "horizontal_flip_bounding_boxes": lambda f, b, t, xyxy: f.horizontal_flip_bounding_boxes(b, xyxy, (H, W)),
    "vertical_flip_bounding_boxes": lambda f, b, t, xyxy: f.vertical_flip_bounding_boxes(b, xyxy, (H, W)),
    "resize_bounding_boxes": lambda f, b, t, xyxy: f.resize_bounding_boxes(b, (H, W), [8, 30]),
    "crop_bounding_boxes": lambda f, b, t, xyxy: f.crop_bounding_boxes(b, xyxy, 2, 3, 10, 12),
    "center_crop_bounding_boxes": lambda f, b, t, xyxy: f.center_crop_bounding_boxes(b, xyxy, (H, W), [9, 8]),
    "resized_crop_bounding_boxes":
        lambda f, b, t, xyxy: f.resized_crop_bounding_boxes(b, xyxy, 2, 3, 10, 12, [7, 9]),
    "pad_bounding_boxes": lambda f, b, t, xyxy: f.pad_bounding_boxes(b, xyxy, (H, W), [1, 2]),
    "affine_bounding_boxes":
        lambda f, b, t, xyxy: f.affine_bounding_boxes(b, xyxy, (H, W), 20.0, [1, 2], 1.1, [3.0, 0.0]),
    "rotate_bounding_boxes": lambda f, b, t, xyxy: f.rotate_bounding_boxes(b, xyxy, (H, W), 25.0, expand=True),
    "perspective_bounding_boxes": lambda f, b, t, xyxy: f.perspective_bounding_boxes(b, xyxy, (H, W), START, END),
    "elastic_bounding_boxes": lambda f, b, t, xyxy: f.elastic_bounding_boxes(b, xyxy, (H, W), t(DISPLACEMENT)),
    "affine_mask": lambda f, m, t, xyxy: f.affine_mask(m, 20.0, [1, 2], 1.1, [3.0, 0.0]),
    "rotate_mask": lambda f, m, t, xyxy: f.rotate_mask(m, 90.0, expand=True),
    "resize_mask": lambda f, m, t, xyxy: f.resize_mask(m, [7, 9]),
    "pad_mask": lambda f, m, t, xyxy: f.pad_mask(m, [1, 2], 3),
    "resized_crop_mask": lambda f, m, t, xyxy: f.resized_crop_mask(m, 2, 3, 10, 12, [7, 9]),
    "center_crop_mask": lambda f, m, t, xyxy: f.center_crop_mask(m, [20, 25]),
    "horizontal_flip_mask": lambda f, m, t, xyxy: f.horizontal_flip_mask(m),
}


@pytest.mark.parametrize("name", sorted(KERNELS))
def test_per_type_kernels_match_torchvision(name):
    if name.endswith("_mask"):
        array = numpy.zeros((H, W), numpy.uint8)
        array[3:12, 2:10], array[1:9, 15:20] = 1, 2
    else:
        array = XYXY
    ours = KERNELS[name](F, ember.tensor(array), ember.tensor, tv_tensors.BoundingBoxFormat.XYXY)
    theirs = KERNELS[name](TF, torch.tensor(array), torch.tensor, tv_tv_tensors.BoundingBoxFormat.XYXY)
    if isinstance(theirs, tuple):
        assert tuple(ours[1]) == tuple(theirs[1])
        ours, theirs = ours[0], theirs[0]
    assert type(ours) is ember.Tensor and tuple(ours.shape) == tuple(theirs.shape)
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-4)


POINTS = numpy.array([[[2.0, 3.0], [10.5, 12.0]], [[0.0, 0.0], [20.0, 15.0]], [[15.2, 1.0], [5.0, 9.7]]],
                     numpy.float32)
POINT_CALLS = {
    "hflip": lambda f, p, t: f.horizontal_flip(p), "vflip": lambda f, p, t: f.vertical_flip(p),
    "resize": lambda f, p, t: f.resize(p, [30, 11]), "resize_short": lambda f, p, t: f.resize(p, 9),
    "crop": lambda f, p, t: f.crop(p, 2, 3, 10, 12), "center_crop": lambda f, p, t: f.center_crop(p, [9, 8]),
    "resized_crop": lambda f, p, t: f.resized_crop(p, 2, 3, 10, 12, [7, 9]),
    "pad": lambda f, p, t: f.pad(p, [1, 2, 3, 4]),
    "affine": lambda f, p, t: f.affine(p, 30.0, [2, -1], 1.2, [10.0, 5.0]),
    "rotate": lambda f, p, t: f.rotate(p, 33.0), "rotate_expand": lambda f, p, t: f.rotate(p, 33.0, expand=True),
    "perspective": lambda f, p, t: f.perspective(p, START, END),
    "elastic": lambda f, p, t: f.elastic(p, t(DISPLACEMENT)),
    "clamp": lambda f, p, t: f.clamp_keypoints(f.pad(p, [-4, -3, 0, 0])),
    "sanitize": lambda f, p, t: f.sanitize_keypoints(f.pad(p, [-4, -3, 0, 0]))[0],
}


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.int64])
@pytest.mark.parametrize("name", sorted(POINT_CALLS))
def test_keypoint_kernels_match_torchvision(name, dtype):
    ours = tv_tensors.KeyPoints(ember.tensor(POINTS.astype(dtype)), canvas_size=(H, W))
    theirs = tv_tv_tensors.KeyPoints(torch.tensor(POINTS.astype(dtype)), canvas_size=(H, W))
    out, expected = POINT_CALLS[name](F, ours, ember.tensor), POINT_CALLS[name](TF, theirs, torch.tensor)
    assert type(out) is tv_tensors.KeyPoints and out.canvas_size == expected.canvas_size
    assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-4)


def test_seeded_keypoint_pipeline_as_torchvision():
    def sample(mod, tensor):
        return {"image": mod.Image(tensor(numpy.zeros((3, H, W), numpy.uint8))),
                "points": mod.KeyPoints(tensor(POINTS), canvas_size=(H, W)), "labels": tensor(numpy.arange(3))}

    def pipeline(m):
        return m.Compose([m.RandomAffine(20, translate=(0.1, 0.1)), m.RandomHorizontalFlip(),
                          m.RandomResizedCrop(12), m.SanitizeKeyPoints(labels_getter="default")])
    for seed in range(10):
        ember.manual_seed(seed)
        ours = pipeline(v2)(sample(tv_tensors, ember.tensor))
        torch.manual_seed(seed)
        theirs = pipeline(tv2)(sample(tv_tv_tensors, torch.tensor))
        numpy.testing.assert_allclose(ours["points"].numpy(), theirs["points"].numpy(), atol=1e-4)
        numpy.testing.assert_array_equal(ours["labels"].numpy(), theirs["labels"].numpy())


def test_seeded_pil_detection_pipeline_as_torchvision():
    from PIL import Image as PILImage
    picture = PILImage.fromarray(numpy.random.default_rng(0).integers(0, 256, (40, 50, 3), dtype=numpy.uint8))
    boxes = numpy.array([[5, 5, 25, 20], [30, 20, 48, 38]], numpy.float32)

    def pipeline(m, float32):
        return m.Compose([m.RandomPhotometricDistort(p=1.0), m.RandomZoomOut(fill=(123, 117, 104)), m.RandomIoUCrop(),
                          m.RandomHorizontalFlip(), m.Resize(30), m.RandomRotation(20), m.RandomAffine(10, shear=5),
                          m.RandomPerspective(p=0.5), m.SanitizeBoundingBoxes(), m.PILToTensor(),
                          m.ToDtype(float32, scale=True)])
    for seed in range(10):
        ember.manual_seed(seed)
        image, target = pipeline(v2, ember.float32)(picture, {"boxes": tv_tensors.BoundingBoxes(
            ember.tensor(boxes), format="XYXY", canvas_size=(40, 50)), "labels": ember.tensor([1, 2])})
        torch.manual_seed(seed)
        expected_image, expected = pipeline(tv2, torch.float32)(picture, {"boxes": tv_tv_tensors.BoundingBoxes(
            torch.tensor(boxes), format="XYXY", canvas_size=(40, 50)), "labels": torch.tensor([1, 2])})
        numpy.testing.assert_allclose(target["boxes"].numpy(), expected["boxes"].numpy(), atol=1e-3)
        numpy.testing.assert_array_equal(target["labels"].numpy(), expected["labels"].numpy())
        # PIL kernels on both sides; the photometric steps are v1's (a uint8 level apart at most)
        numpy.testing.assert_allclose(image.numpy(), expected_image.numpy(), atol=0.02)


@pytest.mark.parametrize("old", ["XYWHR", "CXCYWHR", "XYXYXYXY"])
@pytest.mark.parametrize("new", ["XYWHR", "CXCYWHR", "XYXYXYXY"])
def test_rotated_format_conversions_match_torchvision(old, new):
    centered = numpy.array([[10, 8, 6, 4, 30.0], [5, 5, 2, 7, -45.0], [12, 3, 5, 5, 120.0]], numpy.float32)
    ours = F.convert_bounding_box_format(tv_tensors.BoundingBoxes(ember.tensor(centered), format="CXCYWHR",
                                                                  canvas_size=(20, 30)), new_format=old)
    theirs = TF.convert_bounding_box_format(tv_tv_tensors.BoundingBoxes(torch.tensor(centered), format="CXCYWHR",
                                                                        canvas_size=(20, 30)), new_format=old)
    out, expected = F.convert_bounding_box_format(ours, new_format=new), TF.convert_bounding_box_format(
        theirs, new_format=new)
    assert out.format.name == new and out.shape == tuple(expected.shape)
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), atol=1e-4)
    with pytest.raises(ValueError, match="unrotated bounding boxes only"):
        F.horizontal_flip(out)
