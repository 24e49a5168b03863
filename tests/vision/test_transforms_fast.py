"""ToTensor's one-pass conversion and Normalize's NumPy constants, against the same steps written in PyTorch."""
import numpy
import pytest
import torch
from PIL import Image

import ember
from ember.vision import transforms
from ember.vision.transforms import functional as F


def _torch_steps(array, mean, std, dtype):
    """torchvision's ToTensor + Normalize, written out on torch (torchvision is not installed here)."""
    chw = torch.from_numpy(numpy.ascontiguousarray(array.transpose(2, 0, 1)))
    scaled = chw.to(dtype).div(255)
    mean = torch.as_tensor(mean, dtype=dtype).view(-1, 1, 1)
    std = torch.as_tensor(std, dtype=dtype).view(-1, 1, 1)
    return scaled, scaled.clone().sub_(mean).div_(std)


@pytest.mark.parametrize("mode,shape", [("RGB", (5, 7, 3)), ("L", (4, 6)), ("RGBA", (1, 1, 4)), ("RGB", (0, 3, 3))])
@pytest.mark.parametrize("default", ["float32", "float64"])
def test_to_tensor_and_normalize_match_torch(mode, shape, default):
    array = numpy.random.default_rng(0).integers(0, 256, shape, dtype=numpy.uint8)
    channels = 1 if len(shape) == 2 else shape[2]
    mean, std = [0.485, 0.456, 0.406, 0.5][:channels], [0.229, 0.224, 0.225, 3][:channels]
    previous = ember.get_default_dtype()
    ember.set_default_dtype(getattr(ember, default))
    try:
        image = Image.fromarray(array, mode) if shape[0] else Image.new(mode, (shape[1], 0))
        tensor = F.to_tensor(image)
        normalized = transforms.Normalize(mean, std)(tensor)
    finally:
        ember.set_default_dtype(previous)
    hwc = array.reshape(shape[0], shape[1], channels)
    scaled, expected = _torch_steps(hwc, mean, std, getattr(torch, default))
    for got, want in ((tensor, scaled), (normalized, expected)):
        assert got.dtype == getattr(ember, default) and tuple(got.shape) == tuple(want.shape)
        assert got.is_contiguous()
        numpy.testing.assert_array_equal(got.numpy(), want.numpy())


def test_normalize_inplace_tensor_constants_gradients_and_errors():
    x = numpy.random.default_rng(1).standard_normal((2, 3, 4, 5)).astype(numpy.float32)
    e, t = ember.tensor(x), torch.tensor(x)
    # tensor mean/std take the general path; the numbers path must agree with it
    by_numbers = F.normalize(e, (0.1, 0.2, 0.3), (1.0, 2.0, 3.0))
    by_tensors = F.normalize(e, ember.tensor([0.1, 0.2, 0.3]), ember.tensor([1.0, 2.0, 3.0]))
    numpy.testing.assert_array_equal(by_numbers.numpy(), by_tensors.numpy())
    numpy.testing.assert_array_equal(e.numpy(), x)   # not in place
    F.normalize(e, (0.1, 0.2, 0.3), (1.0, 2.0, 3.0), inplace=True)
    t.sub_(torch.tensor([0.1, 0.2, 0.3]).view(-1, 1, 1)).div_(torch.tensor([1.0, 2.0, 3.0]).view(-1, 1, 1))
    numpy.testing.assert_array_equal(e.numpy(), t.numpy())
    g = ember.tensor(x, requires_grad=True)
    F.normalize(g, [0.5, 0.5, 0.5], [2, 4, 8]).sum().backward()
    numpy.testing.assert_allclose(g.grad.numpy(), numpy.broadcast_to(numpy.array([0.5, 0.25, 0.125], numpy.float32)
                                                                     .reshape(3, 1, 1), x.shape))
    with pytest.raises(ValueError, match="std evaluated to zero"):
        F.normalize(ember.tensor(x), (0.0, 0.0, 0.0), (1.0, 0, 1.0))
    with pytest.raises(TypeError, match="float tensor"):
        F.normalize(ember.zeros(3, 2, 2, dtype=ember.uint8), (0.0,), (1.0,))
