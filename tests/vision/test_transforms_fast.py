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


@pytest.mark.parametrize("mode", ["1", "L", "P", "LA", "PA", "La", "RGB", "RGBA", "RGBX", "RGBa", "CMYK", "YCbCr",
                                  "LAB", "HSV", "I", "F", "I;16", "I;16B"])
def test_to_tensor_every_pil_mode_matches_torchvision(mode):
    TF = pytest.importorskip("tests.vision.tv_oracle").load().transforms.functional
    rgba = numpy.random.default_rng(3).integers(0, 256, (5, 7, 4), dtype=numpy.uint8)
    image = Image.fromarray(rgba, "RGBA").convert(mode) if mode in ("RGBa", "La") else \
        Image.fromarray(rgba[..., :3]).convert(mode)
    if mode == "I;16B":
        image = Image.frombytes(mode, (7, 5), numpy.arange(35, dtype=">u2").tobytes())
    ours, theirs = F.to_tensor(image), TF.to_tensor(image)
    assert str(ours.dtype)[6:] == str(theirs.dtype)[6:] and ours.shape == theirs.shape and ours.is_contiguous()
    numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())


@pytest.mark.parametrize("dtype", [numpy.uint8, numpy.float32, numpy.int16])
def test_to_tensor_non_contiguous_ndarray(dtype):
    TF = pytest.importorskip("tests.vision.tv_oracle").load().transforms.functional
    array = (numpy.random.default_rng(4).random((9, 12, 4)) * 200).astype(dtype)[::2, 1::3, :3]
    ours, theirs = F.to_tensor(array), TF.to_tensor(array)
    assert str(ours.dtype)[6:] == str(theirs.dtype)[6:] and ours.is_contiguous()
    numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())
    array[0, 0, 0] = 7   # the tensor owns its memory
    assert ours.numpy()[0, 0, 0] == theirs.numpy()[0, 0, 0]


def test_normalize_number_constants_are_exact_per_value():
    """The per-values cache keeps -0.0 and 0.0 apart, follows a mutated list and each dtype, and is never written."""
    x = numpy.array([[[-0.0, 0.0, 1.5]]], numpy.float32)
    for mean in ([0.0], [-0.0], (0,), [0.0]):
        want = torch.from_numpy(x).sub(torch.tensor(mean, dtype=torch.float32).view(-1, 1, 1)).div(1.0)
        got = F.normalize(ember.from_numpy(x.copy()), mean, [1.0])
        numpy.testing.assert_array_equal(numpy.signbit(got.numpy()), numpy.signbit(want.numpy()))
    mean = [0.25, 0.5, 0.75]
    image = ember.ones(3, 2, 2, dtype=ember.float64)
    first = F.normalize(image, mean, [0.5] * 3)
    mean[0] = 1.0
    second = F.normalize(image, mean, [0.5] * 3, inplace=True)
    assert second is image and first.dtype == ember.float64
    numpy.testing.assert_array_equal(first.numpy()[:, 0, 0], [1.5, 1.0, 0.5])
    numpy.testing.assert_array_equal(second.numpy()[:, 0, 0], [0.0, 1.0, 0.5])
    again = F.normalize(ember.ones(3, 1, 1, dtype=ember.float64), [1.0, 0.5, 0.75], [0.5] * 3)
    numpy.testing.assert_array_equal(again.numpy().ravel(), [0.0, 1.0, 0.5])
    with pytest.raises(ValueError, match="std evaluated to zero after conversion to ember.float32"):
        F.normalize(ember.ones(1, 2, 2), [0.0], [1e-50])
    tiny = F.normalize(ember.ones(1, 2, 2, dtype=ember.float64), [0.0], [1e-50])
    assert float(tiny.numpy()[0, 0, 0]) == 1e50


def test_normalize_non_contiguous_and_view_inplace_match_torch():
    x = numpy.random.default_rng(5).standard_normal((4, 6, 3)).astype(numpy.float32)
    e, t = ember.from_numpy(x.copy()).permute(2, 0, 1), torch.from_numpy(x.copy()).permute(2, 0, 1)
    mean, std = (0.1, -0.2, 0.3), (0.5, 2.0, 4.0)
    tm, ts = torch.tensor(mean).view(-1, 1, 1), torch.tensor(std).view(-1, 1, 1)
    numpy.testing.assert_array_equal(F.normalize(e, mean, std).numpy(), t.sub(tm).div(ts).numpy())
    F.normalize(e[:, 1:, ::2], mean, std, inplace=True)
    t[:, 1:, ::2].sub_(tm).div_(ts)
    numpy.testing.assert_array_equal(e.numpy(), t.numpy())
    batch = ember.from_numpy(numpy.stack([x.transpose(2, 0, 1)] * 2))
    numpy.testing.assert_array_equal(F.normalize(batch, list(mean), list(std)).numpy(),
                                     torch.from_numpy(numpy.stack([x.transpose(2, 0, 1)] * 2)).sub(tm).div(ts).numpy())


def test_normalize_numpy_path_matches_the_op_path_and_leaves_hooks_their_ops():
    """An untracked CPU tensor is normalized in NumPy; a tensor needing a gradient, and any tensor while a dispatch
    hook (tracing, profiling) is active, goes through ember's ops: same values either way, as torch's."""
    x = numpy.random.default_rng(6).random((2, 3, 4, 5)).astype(numpy.float32)
    mean, std = (0.485, 0.456, 0.406), (0.229, 0.224, 0.225)
    want = torch.from_numpy(x).sub(torch.tensor(mean).view(-1, 1, 1)).div(torch.tensor(std).view(-1, 1, 1))
    plain = ember.from_numpy(x.copy())
    fast = F.normalize(plain, mean, std)
    numpy.testing.assert_array_equal(plain.numpy(), x)
    leaf = ember.from_numpy(x.copy()).requires_grad_()
    tracked = F.normalize(leaf, mean, std)
    assert tracked.grad_fn is not None and fast.grad_fn is None and fast.dtype == ember.float32
    for result in (fast, tracked):
        numpy.testing.assert_array_equal(result.detach().numpy(), want.numpy())
    traced = ember.jit.trace(lambda image: F.normalize(image, mean, std), (plain,))
    other = numpy.random.default_rng(7).random((2, 3, 4, 5)).astype(numpy.float32)
    numpy.testing.assert_array_equal(traced(ember.from_numpy(other)).numpy(),
                                     torch.from_numpy(other).sub(torch.tensor(mean).view(-1, 1, 1))
                                     .div(torch.tensor(std).view(-1, 1, 1)).numpy())
    with ember.inference_mode():
        assert F.normalize(plain, mean, std).is_inference()
