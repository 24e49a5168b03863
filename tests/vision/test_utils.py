"""ember.vision.utils.make_grid, save_image and flow_to_image against torchvision.utils."""
import numpy
import pytest
import torch

import ember
import ember.vision.utils as EU
from tests.vision import tv_oracle

Image = pytest.importorskip("PIL.Image")
tv = tv_oracle.load()


def batch(shape, seed=0):
    return numpy.random.default_rng(seed).normal(size=shape).astype(numpy.float32)


GRIDS = [
    ((5, 3, 4, 6), {}),
    ((5, 3, 4, 6), {"nrow": 2, "padding": 1, "pad_value": 0.5}),
    ((7, 1, 3, 3), {"nrow": 3, "normalize": True}),
    ((4, 3, 5, 5), {"normalize": True, "value_range": (-1.0, 1.0)}),
    ((4, 3, 5, 5), {"normalize": True, "scale_each": True, "padding": 0}),
    ((1, 3, 5, 5), {"padding": 3}),
    ((3, 5, 5), {}),
    ((1, 5, 5), {"normalize": True}),
    ((5, 5), {}),
    ((2, 4, 3, 3), {"nrow": 8}),
]


@pytest.mark.parametrize("shape,kwargs", GRIDS)
def test_make_grid_matches_torchvision(shape, kwargs):
    x = batch(shape)
    ours = EU.make_grid(ember.from_numpy(x.copy()), **kwargs)
    theirs = tv.utils.make_grid(torch.from_numpy(x.copy()), **kwargs)
    assert tuple(ours.shape) == tuple(theirs.shape)
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)


def test_make_grid_list_and_input_untouched():
    images = [ember.from_numpy(batch((3, 4, 4), seed)) for seed in range(3)]
    before = [im.numpy().copy() for im in images]
    ours = EU.make_grid(images, nrow=2, normalize=True)
    theirs = tv.utils.make_grid([torch.from_numpy(b) for b in before], nrow=2, normalize=True)
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)
    for im, b in zip(images, before):
        numpy.testing.assert_array_equal(im.numpy(), b)


def test_make_grid_errors():
    with pytest.raises(TypeError, match="tensor or list of tensors expected, got <class 'numpy.ndarray'>"):
        EU.make_grid(numpy.zeros((2, 3, 4, 4)))
    with pytest.raises(TypeError, match="got a list containing <class 'int'>"):
        EU.make_grid([ember.zeros(3, 2, 2), 3])
    with pytest.raises(TypeError, match="value_range has to be a tuple"):
        EU.make_grid(ember.zeros(2, 3, 2, 2), normalize=True, value_range=[0, 1])


@pytest.mark.parametrize("shape", [(6, 3, 5, 4), (3, 7, 9), (2, 1, 4, 4)])
def test_save_image_matches_torchvision(tmp_path, shape):
    x = numpy.random.default_rng(1).random(shape, dtype=numpy.float32) * 1.2 - 0.1
    EU.save_image(ember.from_numpy(x.copy()), tmp_path / "ours.png", nrow=3)
    tv.utils.save_image(torch.from_numpy(x.copy()), tmp_path / "theirs.png", nrow=3)
    ours, theirs = Image.open(tmp_path / "ours.png"), Image.open(tmp_path / "theirs.png")
    assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
    numpy.testing.assert_array_equal(numpy.asarray(ours), numpy.asarray(theirs))


def test_save_image_to_file_object():
    import io
    buffer = io.BytesIO()
    EU.save_image(ember.ones(3, 2, 2), buffer, format="png")
    assert numpy.asarray(Image.open(io.BytesIO(buffer.getvalue()))).min() == 255


@pytest.mark.parametrize("shape", [(2, 2, 9, 11), (2, 30, 40)])
def test_flow_to_image_matches_torchvision(shape):
    flow = numpy.random.default_rng(3).normal(scale=4.0, size=shape).astype(numpy.float32)
    flow[..., 0, 0] = 0.0  # a still pixel: white
    ours = EU.flow_to_image(ember.from_numpy(flow))
    theirs = tv.utils.flow_to_image(torch.from_numpy(flow))
    assert ours.dtype == ember.uint8 and tuple(ours.shape) == tuple(theirs.shape)
    numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    numpy.testing.assert_array_equal(EU._make_colorwheel().numpy(), tv.utils._make_colorwheel().numpy())


def test_flow_to_image_errors_match_torchvision():
    for lib, utils in ((ember, EU), (torch, tv.utils)):
        with pytest.raises(ValueError, match=r"Flow should be of dtype torch.float, got (torch|ember).float64."):
            utils.flow_to_image(lib.zeros(2, 3, 3, dtype=lib.float64))
        with pytest.raises(ValueError, match=r"Input flow should have shape \(2, H, W\) or \(N, 2, H, W\), got"):
            utils.flow_to_image(lib.zeros(3, 3, 3))


def _boxes_case():
    rng = numpy.random.default_rng(5)
    image = rng.integers(0, 256, (3, 40, 50), dtype=numpy.uint8)
    boxes = numpy.array([[2.7, 3.2, 20.9, 30.1], [10, 5, 45, 38], [30, 20, 31, 22]], numpy.float32)
    return image, boxes


@pytest.mark.parametrize("kwargs", [{}, {"labels": ["a", "person", "x"], "colors": "red", "width": 2},
                                    {"labels": ["a", "b", "c"], "fill": True,
                                     "colors": [(0, 255, 0), "blue", "#123456"]},
                                    {"labels": ["one", "two", "three"], "fill_labels": True,
                                     "label_background_colors": "white", "label_colors": "purple"}])
def test_draw_bounding_boxes_matches_torchvision(kwargs):
    image, boxes = _boxes_case()
    ours = EU.draw_bounding_boxes(ember.tensor(image), ember.tensor(boxes), **kwargs)
    theirs = tv.utils.draw_bounding_boxes(torch.tensor(image), torch.tensor(boxes), **kwargs)
    assert ours.dtype == ember.uint8
    numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    gray = image[:1].astype(numpy.float32) / 255  # one float channel: drawn in RGB, returned as float
    ours = EU.draw_bounding_boxes(ember.tensor(gray), ember.tensor(boxes), **kwargs)
    theirs = tv.utils.draw_bounding_boxes(torch.tensor(gray), torch.tensor(boxes), **kwargs)
    assert ours.dtype == ember.float32 and tuple(ours.shape) == (3, 40, 50)
    numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)


def test_draw_segmentation_masks_matches_torchvision():
    image, _ = _boxes_case()
    masks = numpy.zeros((3, 40, 50), bool)
    masks[0, 5:20, 5:30] = masks[1, 15:35, 20:45] = masks[2, 0:3, 0:3] = True
    for img in (image, image.astype(numpy.float32) / 255):
        for kwargs in ({}, {"alpha": 0.5, "colors": "blue"}, {"colors": ["red", (0, 10, 200), "green"]}):
            ours = EU.draw_segmentation_masks(ember.tensor(img), ember.tensor(masks), **kwargs)
            theirs = tv.utils.draw_segmentation_masks(torch.tensor(img), torch.tensor(masks), **kwargs)
            assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
            numpy.testing.assert_allclose(ours.numpy(), theirs.numpy(), atol=1e-6)
    out = EU.draw_segmentation_masks(ember.tensor(image), ember.tensor(masks[0]))
    numpy.testing.assert_array_equal(out.numpy(), tv.utils.draw_segmentation_masks(torch.tensor(image),
                                                                                   torch.tensor(masks[0])).numpy())


def test_draw_errors_and_warnings_match_torchvision():
    image, boxes = _boxes_case()
    calls = [
        lambda lib, u: u.draw_bounding_boxes(lib.tensor(image[None]), lib.tensor(boxes)),
        lambda lib, u: u.draw_bounding_boxes(lib.tensor(image).int(), lib.tensor(boxes)),
        lambda lib, u: u.draw_bounding_boxes(lib.tensor(image), lib.tensor(boxes[:, [2, 1, 0, 3]])),
        lambda lib, u: u.draw_bounding_boxes(lib.tensor(image), lib.tensor(boxes), labels=["a"]),
        lambda lib, u: u.draw_bounding_boxes(lib.tensor(image), lib.tensor(boxes), colors=["red"]),
        lambda lib, u: u.draw_bounding_boxes(lib.tensor(image), lib.tensor(boxes), colors=(1, 2)),
        lambda lib, u: u.draw_segmentation_masks(lib.tensor(image), lib.tensor(image[:1])),
        lambda lib, u: u.draw_segmentation_masks(lib.tensor(image), lib.zeros(3, 4, 5, dtype=lib.bool)),
        lambda lib, u: u.draw_segmentation_masks(lib.tensor(image[:1]), lib.zeros(1, 40, 50, dtype=lib.bool)),
    ]
    for call in calls:
        with pytest.raises(Exception) as theirs:
            call(torch, tv.utils)
        with pytest.raises(type(theirs.value)) as ours:
            call(ember, EU)
        assert str(ours.value).replace("ember.", "torch.") == str(theirs.value)
    for lib, u in ((ember, EU), (torch, tv.utils)):
        with pytest.warns(UserWarning, match="boxes doesn't contain any box. No box was drawn"):
            u.draw_bounding_boxes(lib.tensor(image), lib.zeros(0, 4))
        with pytest.warns(UserWarning, match="masks doesn't contain any mask. No mask was drawn"):
            u.draw_segmentation_masks(lib.tensor(image), lib.zeros(0, 40, 50, dtype=lib.bool))
        with pytest.warns(UserWarning, match="Argument 'font_size' will be ignored since 'font' is not set."):
            u.draw_bounding_boxes(lib.tensor(image), lib.tensor(boxes), font_size=5)
