"""uint8 images resized as PyTorch's CPU kernels do (int16 weights in fixed point): F.interpolate beside torch's on
random sizes, modes, antialiasing, align_corners, scale factors and layouts, and transforms.v2's resizing beside
torchvision 0.28's v2, which hands uint8 images to interpolate as they are (bicubic, lanczos; bilinear on
AVX2/AVX-512); and the lanczos mode (Lanczos-3, antialiased only) on every dtype beside torch's."""
import numpy
import pytest

import ember
from ember.vision import tv_tensors
from ember.vision.transforms import v2
from ember.vision.transforms.v2 import functional as F

torch = pytest.importorskip("torch")


def _cases(count, seed):
    rng = numpy.random.default_rng(seed)
    for trial in range(count):
        mode = ("bilinear", "bicubic")[trial % 2]
        antialias = bool(rng.integers(0, 2))
        align_corners = bool(rng.integers(0, 2)) and not antialias
        shape = (int(rng.integers(1, 3)), int(rng.choice([1, 2, 3, 4])), *rng.integers(1, 40, 2).tolist())
        out = rng.integers(1, 60, 2).tolist()
        size = {"scale_factor": (out[0] / shape[2] + 0.013, out[1] / shape[3] + 0.007)} if trial % 5 == 0 else \
            {"size": out}
        yield rng.integers(0, 256, shape, dtype=numpy.uint8), dict(mode=mode, antialias=antialias,
                                                                   align_corners=align_corners, **size)


@pytest.mark.parametrize("seed", range(4))
def test_interpolate_uint8_as_torch(seed):
    for pixels, kwargs in _cases(60, seed):
        expected = torch.nn.functional.interpolate(torch.from_numpy(pixels), **kwargs)
        out = ember.nn.functional.interpolate(ember.from_numpy(pixels), **kwargs)
        assert out.dtype == ember.uint8, kwargs
        numpy.testing.assert_array_equal(out.numpy(), expected.numpy(), err_msg=str((pixels.shape, kwargs)))


def test_interpolate_uint8_differs_from_the_float_path_and_keeps_the_layout():
    pixels = numpy.random.default_rng(5).integers(0, 256, (1, 3, 9, 11), dtype=numpy.uint8)
    x = ember.from_numpy(pixels).contiguous(memory_format=ember.channels_last)
    for mode in ("bilinear", "bicubic"):
        out = ember.nn.functional.interpolate(x, size=(5, 17), mode=mode, antialias=True)
        expected = torch.nn.functional.interpolate(
            torch.from_numpy(pixels).contiguous(memory_format=torch.channels_last), size=(5, 17), mode=mode,
            antialias=True)
        numpy.testing.assert_array_equal(out.numpy(), expected.numpy())
        assert out.is_contiguous(memory_format=ember.channels_last)
        through_float = ember.nn.functional.interpolate(x.float(), size=(5, 17), mode=mode, antialias=True)
        assert (through_float.round().clamp(0, 255).to(ember.uint8) != out).any()   # one unit apart at places
    assert out.grad_fn is None and ember.nn.functional.interpolate(x, size=(9, 11), mode="bilinear").equal(x)
    with pytest.raises(RuntimeError, match=r"but got input \(H: 9, W: 11\) output \(H: 5, W: 0\)"):
        ember.nn.functional.interpolate(x, scale_factor=(0.6, 0.05), mode="bilinear")
    with pytest.raises(RuntimeError):   # PyTorch has no uint8 linear/trilinear kernel either
        ember.nn.functional.interpolate(ember.from_numpy(pixels[0]), size=4, mode="linear")


def _tv():
    from tests.vision import tv_oracle
    tv_oracle.load()
    from torchvision import tv_tensors as tv_tv_tensors
    from torchvision.transforms import v2 as tv2
    return tv_tv_tensors, tv2


@pytest.mark.parametrize("shape", [(3, 17, 23), (1, 3, 9, 30), (2, 2, 4, 31, 7)])
@pytest.mark.parametrize("interpolation", ["bilinear", "bicubic", "nearest"])
@pytest.mark.parametrize("antialias", [True, False, None])
def test_v2_resize_of_uint8_images_as_torchvision(shape, interpolation, antialias):
    tv_tv_tensors, tv2 = _tv()
    if interpolation == "bilinear" and ember.backends.cpu.get_cpu_capability() not in ("AVX2", "AVX512"):
        pytest.skip("torchvision resizes uint8 through float on this CPU")
    pixels = numpy.random.default_rng(len(shape)).integers(0, 256, shape, dtype=numpy.uint8)
    for size in ([13, 40], 11, [5, 6]):
        out = F.resize(tv_tensors.Image(ember.from_numpy(pixels)), size, interpolation=v2.InterpolationMode(
            interpolation), antialias=antialias)
        expected = tv2.functional.resize(tv_tv_tensors.Image(torch.from_numpy(pixels)), size,
                                         interpolation=tv2.InterpolationMode(interpolation), antialias=antialias)
        assert type(out) is tv_tensors.Image and tuple(out.shape) == tuple(expected.shape)
        numpy.testing.assert_array_equal(out.numpy(), expected.numpy())


def test_v2_seeded_resizing_pipelines_of_uint8_images_as_torchvision():
    tv_tv_tensors, tv2 = _tv()
    pixels = numpy.random.default_rng(1).integers(0, 256, (3, 24, 31), dtype=numpy.uint8)

    def pipeline(m):
        return m.Compose([m.RandomResizedCrop(20), m.RandomHorizontalFlip(), m.Resize(17),
                          m.Resize((13, 40), interpolation=m.InterpolationMode.BICUBIC)])
    for seed in range(4):
        ember.manual_seed(seed)
        out = pipeline(v2)(tv_tensors.Image(ember.from_numpy(pixels)))
        torch.manual_seed(seed)
        expected = pipeline(tv2)(tv_tv_tensors.Image(torch.from_numpy(pixels)))
        numpy.testing.assert_array_equal(out.numpy(), expected.numpy())


@pytest.mark.parametrize("dtype", ["uint8", "float32", "float64"])
def test_interpolate_lanczos_as_torch(dtype):
    rng = numpy.random.default_rng(7)
    for trial in range(40):
        shape = (1, int(rng.choice([1, 3])), *rng.integers(1, 40, 2).tolist())
        size = rng.integers(2, 60, 2).tolist()   # a width of 1: PyTorch's vertical pass then leaves the separable sum
        pixels = rng.integers(0, 256, shape).astype(dtype) / (1 if dtype == "uint8" else 255)
        expected = torch.nn.functional.interpolate(torch.from_numpy(pixels.astype(dtype)), size=size, mode="lanczos",
                                                   antialias=True).numpy()
        out = ember.nn.functional.interpolate(ember.from_numpy(pixels.astype(dtype)), size=size, mode="lanczos",
                                              antialias=True).numpy()
        if dtype == "uint8":
            numpy.testing.assert_array_equal(out, expected)
        else:
            numpy.testing.assert_allclose(out, expected, rtol=0, atol=2e-6 if dtype == "float32" else 1e-14)
    x = torch.rand(1, 2, 9, 11, requires_grad=True)
    ours = ember.from_numpy(x.detach().numpy()).requires_grad_()
    grad = numpy.random.default_rng(0).random((1, 2, 5, 17)).astype("float32")
    torch.nn.functional.interpolate(x, size=(5, 17), mode="lanczos", antialias=True).backward(torch.from_numpy(grad))
    out = ember.nn.functional.interpolate(ours, size=(5, 17), mode="lanczos", antialias=True)
    out.backward(ember.from_numpy(grad))
    assert out.grad_fn.name() == "UpsampleLanczos2DAaBackward0"
    numpy.testing.assert_allclose(ours.grad.numpy(), x.grad.numpy(), atol=1e-6)


def test_lanczos_errors_as_torch():
    for lib in (torch, ember):
        x = lib.rand(1, 2, 5, 6)
        with pytest.raises(ValueError, match="^Lanczos mode does not support align_corners=True$"):
            lib.nn.functional.interpolate(x, size=(3, 4), mode="lanczos", antialias=True, align_corners=True)
        with pytest.raises(ValueError, match="^Lanczos mode requires antialias=True$"):
            lib.nn.functional.interpolate(x, size=(3, 4), mode="lanczos")
        with pytest.raises(NotImplementedError, match="not implemented for 'Half'"):
            lib.nn.functional.interpolate(x.half(), size=(3, 4), mode="lanczos", antialias=True)
        with pytest.raises(NotImplementedError, match="Only 3D, 4D and 5D input Tensors supported"):
            lib.nn.functional.interpolate(lib.rand(1, 2, 5), size=3, mode="lanczos")


@pytest.mark.parametrize("dtype", ["uint8", "float32", "int16"])
def test_v2_lanczos_resize_as_torchvision(dtype):
    tv_tv_tensors, tv2 = _tv()
    pixels = numpy.random.default_rng(2).integers(0, 256, (2, 3, 19, 23)).astype(dtype)
    if dtype == "float32":
        pixels /= 255
    out = F.resize(ember.from_numpy(pixels), [11, 30], interpolation=v2.InterpolationMode.LANCZOS)
    expected = tv2.functional.resize(torch.from_numpy(pixels), [11, 30], interpolation=tv2.InterpolationMode.LANCZOS)
    assert str(out.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1]
    numpy.testing.assert_allclose(out.numpy(), expected.numpy(), rtol=0, atol=2e-6 if dtype == "float32" else 0)
    for module, functional, data in ((v2, F, ember.from_numpy(pixels)),
                                     (tv2, tv2.functional, torch.from_numpy(pixels))):
        with pytest.raises(ValueError, match="^InterpolationMode.LANCZOS requires antialias=True$"):
            functional.resize(data, [11, 30], interpolation=module.InterpolationMode.LANCZOS, antialias=False)
