"""tv_tensors: construction, torchvision's type rules (ops return plain tensors except clone/to/detach/
requires_grad_/pin_memory), set_return_type, wrap, pickling and reprs."""
import copy
import pickle

import numpy
import pytest

import ember
from ember.vision import tv_tensors
from ember.vision.tv_tensors import BoundingBoxes, BoundingBoxFormat, Image, Mask, Video


def boxes(**kwargs):
    return BoundingBoxes([[1, 2, 5, 6], [0, 0, 3, 4]], format="XYXY", canvas_size=(10, 12), **kwargs)


def test_image_adds_a_channel_and_reads_pil():
    assert Image(ember.zeros(4, 5)).shape == (1, 4, 5)
    from PIL import Image as PILImage
    array = numpy.arange(2 * 3 * 3, dtype=numpy.uint8).reshape(2, 3, 3)
    image = Image(PILImage.fromarray(array))
    assert type(image) is Image and image.dtype == ember.uint8
    numpy.testing.assert_array_equal(image.numpy(), array.transpose(2, 0, 1))
    with pytest.raises(ValueError, match="2D or higher"):
        Image(ember.zeros(3))


def test_video_and_mask():
    assert type(Video(ember.zeros(2, 3, 4, 5))) is Video
    with pytest.raises(ValueError):
        Video(ember.zeros(3, 4, 5))
    mask = Mask(ember.zeros(4, 5, dtype=ember.bool))
    assert mask.shape == (4, 5) and mask.dtype == ember.bool


def test_bounding_boxes_metadata_and_checks():
    b = BoundingBoxes([1, 2, 3, 4], format="xywh", canvas_size=(10, 12))
    assert b.shape == (1, 4) and b.format is BoundingBoxFormat.XYWH and b.canvas_size == (10, 12)
    assert b.clamping_mode == "soft"
    with pytest.raises(ValueError, match="1D or 2D"):
        BoundingBoxes(ember.zeros(1, 1, 4), format="XYXY", canvas_size=(1, 1))
    with pytest.raises(ValueError, match="clamping_mode"):
        BoundingBoxes([0, 0, 1, 1], format="XYXY", canvas_size=(1, 1), clamping_mode="loose")
    with pytest.raises(ValueError, match="floating point"):
        BoundingBoxes([[0, 0, 1, 1, 0]], format="XYWHR", canvas_size=(1, 1))
    assert tv_tensors.is_rotated_bounding_format("CXCYWHR") and not tv_tensors.is_rotated_bounding_format("XYXY")


def test_dtype_device_and_requires_grad_arguments():
    data = ember.ones(3, 4, 4, requires_grad=True)
    assert Image(data).requires_grad
    assert not Image(data.detach(), requires_grad=False).requires_grad
    assert Image([[1, 2], [3, 4]], dtype=ember.float64).dtype == ember.float64


def test_ops_return_plain_tensors():
    image, b = Image(ember.rand(3, 4, 5)), boxes()
    for out in (image + 1, image * image, image[0], image.sum(), ember.cat([image, image]), image.double(),
                b.unsqueeze(0), ember.stack([b, b])):
        assert type(out) is ember.Tensor


@pytest.mark.parametrize("op", [lambda t: t.clone(), lambda t: t.to(ember.float64), lambda t: t.detach(),
                                lambda t: t.requires_grad_(False), lambda t: t.to("cpu"),
                                pytest.param(lambda t: t.pin_memory(), marks=pytest.mark.skipif(
                                    not ember.cuda.is_available(), reason="pinned memory needs a GPU"))])
def test_these_ops_keep_type_and_metadata(op):
    b = boxes(dtype=ember.float32)
    out = op(b)
    assert type(out) is BoundingBoxes
    assert (out.format, out.canvas_size, out.clamping_mode) == (b.format, b.canvas_size, b.clamping_mode)
    assert type(op(Image(ember.rand(3, 2, 2)))) is Image


def test_clone_is_a_copy():
    b = boxes()
    c = b.clone()
    c[0, 0] = 9
    assert b[0, 0].item() == 1


def test_set_return_type_globally_and_as_context():
    b = boxes()
    with tv_tensors.set_return_type("TVTensor"):
        out = b + 1
        assert type(out) is BoundingBoxes and out.canvas_size == (10, 12)
        assert type(Image(ember.rand(3, 2, 2)) * 2) is Image
        parts = b.unbind(0)
        assert all(type(p) is BoundingBoxes for p in parts)
    assert type(b + 1) is ember.Tensor
    tv_tensors.set_return_type("tvtensor")
    try:
        assert type(b.double()) is BoundingBoxes
    finally:
        tv_tensors.set_return_type("Tensor")
    assert type(b.double()) is ember.Tensor
    with pytest.raises(ValueError, match="return_type must be"):
        tv_tensors.set_return_type("image")


def test_wrap_copies_metadata_with_overrides():
    b = boxes()
    out = tv_tensors.wrap(ember.zeros(3, 4), like=b)
    assert type(out) is BoundingBoxes and out.format is BoundingBoxFormat.XYXY and out.canvas_size == (10, 12)
    out = tv_tensors.wrap(ember.zeros(3, 4), like=b, canvas_size=(5, 5), format="CXCYWH")
    assert out.canvas_size == (5, 5) and out.format is BoundingBoxFormat.CXCYWH
    assert type(tv_tensors.wrap(ember.zeros(1, 2, 2), like=Image(ember.zeros(1, 2, 2)))) is Image


def test_pickle_and_deepcopy_keep_type_and_metadata():
    b = boxes(clamping_mode="hard")
    for out in (pickle.loads(pickle.dumps(b)), copy.deepcopy(b)):
        assert type(out) is BoundingBoxes and out.clamping_mode == "hard" and out.canvas_size == (10, 12)
        assert out.tolist() == b.tolist()
    image = Image(ember.rand(3, 2, 2, requires_grad=True))
    copied = copy.deepcopy(image)
    assert type(copied) is Image and copied.requires_grad and copied.grad_fn is None


def test_reprs():
    assert repr(boxes()).startswith("BoundingBoxes([[1, 2, 5, 6],")
    assert repr(boxes()).endswith(", format=BoundingBoxFormat.XYXY, canvas_size=(10, 12), clamping_mode=soft)")
    assert repr(Image(ember.zeros(1, 1, 1))) == "Image([[[0.]]], )"
    assert repr(Mask(ember.zeros(1, 1))) == "Mask([[0.]])"


def test_gradients_flow_through_a_tv_tensor():
    data = ember.rand(3, 2, 2, requires_grad=True)
    (Image(data) * 2).sum().backward()
    numpy.testing.assert_array_equal(data.grad.numpy(), numpy.full((3, 2, 2), 2.0, numpy.float32))


def test_keypoints():
    points = tv_tensors.KeyPoints([3, 4], canvas_size=(10, 12))
    assert points.shape == (1, 2) and points.canvas_size == (10, 12)
    assert repr(points).endswith(", canvas_size=(10, 12))")
    with pytest.raises(ValueError, match="shape \\(..., 2\\)"):
        tv_tensors.KeyPoints(ember.zeros(2, 3), canvas_size=(1, 1))
    assert type(points + 1) is ember.Tensor and type(points.clone()) is tv_tensors.KeyPoints
    with tv_tensors.set_return_type("TVTensor"):
        assert (points * 2).canvas_size == (10, 12)
    assert pickle.loads(pickle.dumps(points)).canvas_size == (10, 12)
