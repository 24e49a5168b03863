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
