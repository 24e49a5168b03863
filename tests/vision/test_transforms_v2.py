"""transforms.v2 on images: the same images as v1 for the same seed (v2 draws its parameters in v1's order and runs
v1's kernels), sample structures and torchvision's pure-tensor heuristic, containers, type conversion, the color ops
against Pillow, and the errors torchvision raises."""
import numpy
import pytest

import ember
from ember.vision import transforms as v1
from ember.vision import tv_tensors
from ember.vision.transforms import v2
from ember.vision.transforms.v2 import functional as F

PIL = pytest.importorskip("PIL.Image")

RNG = numpy.random.default_rng(0)
ARRAY = RNG.integers(0, 256, (3, 24, 31), dtype=numpy.uint8)


def images():
    """The same picture as a uint8 tensor, a float tensor, a PIL image and a tv_tensors.Image."""
    uint8 = ember.tensor(ARRAY)
    return {"uint8": uint8, "float": uint8.float() / 255, "pil": PIL.fromarray(ARRAY.transpose(1, 2, 0)),
            "Image": tv_tensors.Image(uint8)}


def assert_same(a, b):
    if isinstance(a, (tuple, list)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            assert_same(x, y)
    elif isinstance(a, ember.Tensor):
        assert tuple(a.shape) == tuple(b.shape) and a.dtype == b.dtype
        numpy.testing.assert_array_equal(a.numpy(), b.numpy())
    else:
        assert a.mode == b.mode and a.size == b.size
        numpy.testing.assert_array_equal(numpy.asarray(a), numpy.asarray(b))


BOTH = {
    "Resize": lambda m: m.Resize(17), "ResizeHW": lambda m: m.Resize((13, 40)),
    "CenterCrop": lambda m: m.CenterCrop(11), "CenterCropPads": lambda m: m.CenterCrop((30, 35)),
    "RandomCrop": lambda m: m.RandomCrop((10, 12), padding=2),
    "RandomCropPad": lambda m: m.RandomCrop(30, pad_if_needed=True),
    "RandomResizedCrop": lambda m: m.RandomResizedCrop(16), "HFlip": lambda m: m.RandomHorizontalFlip(),
    "VFlip": lambda m: m.RandomVerticalFlip(), "Pad": lambda m: m.Pad([1, 2, 3, 4], fill=7),
    "PadReflect": lambda m: m.Pad(3, padding_mode="reflect"), "Rotation": lambda m: m.RandomRotation(40),
    "RotationExpand": lambda m: m.RandomRotation(40, expand=True, fill=9),
    "Affine": lambda m: m.RandomAffine(30, translate=(0.1, 0.2), scale=(0.8, 1.2), shear=(-5, 5, -3, 3)),
    "AffineBilinear": lambda m: m.RandomAffine(15, interpolation=m.InterpolationMode.BILINEAR),
    "ColorJitter": lambda m: m.ColorJitter(0.4, 0.4, 0.4, 0.1), "Grayscale": lambda m: m.Grayscale(3),
    "RandomGrayscale": lambda m: m.RandomGrayscale(0.5), "GaussianBlur": lambda m: m.GaussianBlur(5),
    "FiveCrop": lambda m: m.FiveCrop(9), "TenCrop": lambda m: m.TenCrop(9, vertical_flip=True),
    "RandomApply": lambda m: m.RandomApply([m.RandomHorizontalFlip(1.0), m.CenterCrop(20)], p=0.5),
    "Compose": lambda m: m.Compose([m.RandomResizedCrop(20), m.RandomHorizontalFlip(), m.ColorJitter(0.3, 0.3)]),
}


# torchvision's v2 resizes uint8 tensors in PyTorch's fixed point, v1 through float (tests/vision/test_resize_uint8.py)
RESIZING = {"Resize", "ResizeHW", "RandomResizedCrop", "Compose"}
V1_CASES = [(name, kind) for name in sorted(BOTH) for kind in ("uint8", "float", "pil", "Image")
            if not (name in RESIZING and kind in ("uint8", "Image"))]


@pytest.mark.parametrize("name,kind", V1_CASES)
def test_same_output_as_v1_for_the_same_seed(name, kind):
    image = images()[kind]
    v1_input = image.as_subclass(ember.Tensor) if kind == "Image" else image
    for seed in range(3):
        ember.manual_seed(seed)
        expected = BOTH[name](v1)(v1_input)
        ember.manual_seed(seed)
        out = BOTH[name](v2)(image)
        assert_same(expected, out)
        if kind == "Image":
            parts = out if isinstance(out, tuple) else (out,)
            assert all(type(part) is tv_tensors.Image for part in parts)


@pytest.mark.parametrize("make", [lambda m: m.Normalize([0.5, 0.4, 0.3], [0.2, 0.3, 0.4]),
                                  lambda m: m.RandomErasing(1.0, value="random"),
                                  lambda m: m.RandomErasing(0.7, value=3), lambda m: m.ConvertImageDtype(ember.uint8)])
def test_tensor_only_transforms_match_v1(make):
    image = images()["float"]
    for seed in range(4):
        ember.manual_seed(seed)
        expected = make(v1)(image)
        ember.manual_seed(seed)
        assert_same(expected, make(v2)(image))


def test_v2_functional_matches_v1_functional():
    image = images()["uint8"]
    assert_same(v1.functional.rotate(image, 33.0, expand=True), F.rotate(image, 33.0, expand=True))
    assert_same(v1.functional.affine(image, 10.0, [2, 3], 1.1, [5.0, 0.0]),
                F.affine(image, 10.0, [2, 3], 1.1, [5.0, 0.0]))
    assert_same(v1.functional.resize(image.float(), [10, 20]),   # uint8: see RESIZING
                F.resize(image.float(), [10, 20], interpolation="bilinear"))
    assert_same(v1.functional.hflip(image), F.hflip(image))
    assert F.resize(image, None, max_size=12).shape == (3, 9, 12)


def test_structures_pass_other_leaves_through():
    image = tv_tensors.Image(images()["uint8"])
    sample = {"a": [image, ("label", 3)], "b": ember.arange(4), "c": None}
    out = v2.RandomHorizontalFlip(p=1.0)(sample)
    assert set(out) == {"a", "b", "c"} and out["a"][1] == ("label", 3) and out["c"] is None
    assert out["b"] is sample["b"]   # a pure tensor beside an Image is not an image
    assert_same(out["a"][0], F.hflip(image))
    first, second = v2.RandomVerticalFlip(p=1.0)(image, "text")
    assert second == "text" and type(first) is tv_tensors.Image


def test_the_first_pure_tensor_is_the_image_when_there_is_no_other():
    a, b = ember.rand(3, 4, 5), ember.rand(3, 4, 5)
    out_a, out_b = v2.RandomHorizontalFlip(p=1.0)(a, b)
    assert_same(out_a, a.flip(-1))
    assert out_b is b
    pil = images()["pil"]
    out_t, out_p = v2.RandomHorizontalFlip(p=1.0)(a, pil)
    assert out_t is a   # with a PIL image present, pure tensors pass through


def test_containers_draw_as_torchvision_v2():
    image = images()["uint8"]
    choice = v2.RandomChoice([v2.RandomHorizontalFlip(1.0), v2.RandomVerticalFlip(1.0)], p=[1, 3])
    assert choice.p == [0.25, 0.75]
    ember.manual_seed(5)
    index = int(ember.multinomial(ember.tensor([0.25, 0.75]), 1))
    ember.manual_seed(5)
    assert_same(choice(image), F.hflip(image) if index == 0 else F.vflip(image))
    order = v2.RandomOrder([v2.CenterCrop(20), v2.Resize(10)])
    ember.manual_seed(2)
    permutation = ember.randperm(2).tolist()
    ember.manual_seed(2)
    steps = [lambda x: F.center_crop(x, [20, 20]), lambda x: F.resize(x, 10)]
    expected = image
    for i in permutation:
        expected = steps[i](expected)
    assert_same(order(image), expected)
    pair = v2.Compose([v2.RandomHorizontalFlip(1.0)])(image, {"x": 1})
    assert pair[1] == {"x": 1}


def test_lambda_identity_and_custom_transform():
    image = images()["uint8"]
    assert v2.Identity()(image) is image
    assert v2.Lambda(lambda x: x + 1, int)((image, 1))[1] == 2

    class AddOne(v2.Transform):
        def make_params(self, flat_inputs):
            return {"n": len(flat_inputs)}

        def transform(self, inpt, params):
            return inpt + params["n"]
    assert AddOne()(ember.zeros(1, 2, 2)).sum().item() == 4.0


def test_type_conversions():
    pil, uint8 = images()["pil"], images()["uint8"]
    image = v2.ToImage()(pil)
    assert type(image) is tv_tensors.Image
    assert_same(image.as_subclass(ember.Tensor), uint8)
    assert_same(v2.ToImage()(ARRAY.transpose(1, 2, 0)).as_subclass(ember.Tensor), uint8)
    assert type(v2.ToPureTensor()(image)) is ember.Tensor
    assert_same(v2.PILToTensor()(pil), uint8)
    assert_same(v2.ToPILImage()(uint8), pil)
    scaled = v2.ToDtype(ember.float32, scale=True)(image)
    assert type(scaled) is tv_tensors.Image
    assert_same(scaled.as_subclass(ember.Tensor), uint8.float() / 255)
    with pytest.warns(UserWarning, match="ToTensor\\(\\)` is deprecated"):
        to_tensor = v2.ToTensor()
    assert_same(to_tensor(pil), v1.ToTensor()(pil))


def test_to_dtype_by_type():
    image, mask = tv_tensors.Image(images()["uint8"]), tv_tensors.Mask(ember.zeros(24, 31, dtype=ember.uint8))
    out_image, out_mask = v2.ToDtype(ember.float64)(image, mask)
    assert out_image.dtype == ember.float64 and out_mask.dtype == ember.uint8   # one dtype: images only
    out_image, out_mask = v2.ToDtype({tv_tensors.Image: ember.float32, "others": ember.int64}, scale=True)(image, mask)
    assert out_image.dtype == ember.float32 and float(out_image.max()) <= 1.0 and out_mask.dtype == ember.int64
    with pytest.raises(ValueError, match="No dtype was specified"):
        v2.ToDtype({tv_tensors.Mask: ember.int64})(image, mask)
    with pytest.raises(ValueError, match="dtype must be a dict or a torch.dtype"):
        v2.ToDtype("float32")


@pytest.mark.parametrize("name, args", [("posterize", (3,)), ("solarize", (100,)), ("adjust_sharpness", (1.7,)),
                                        ("adjust_sharpness", (0.3,)), ("autocontrast", ()), ("equalize", ()),
                                        ("invert", ())])
def test_color_ops_on_tensors_match_pillow(name, args):
    array = ARRAY.copy()
    array[:, :3] = 0
    pil = PIL.fromarray(array.transpose(1, 2, 0))
    from_pil = numpy.asarray(getattr(F, name)(pil, *args)).transpose(2, 0, 1).astype(int)
    from_tensor = getattr(F, name)(ember.tensor(array), *args).numpy().astype(int)
    assert numpy.abs(from_pil - from_tensor).max() <= 1   # Pillow's sharpness and autocontrast round at 0.5 differently
    as_float = getattr(F, name)(ember.tensor(array).float() / 255, *((args[0] / 255,) if name == "solarize" else args))
    assert numpy.abs(as_float.numpy() * 255 - from_tensor).max() <= 1.5   # uint8 kernels round, float ones do not


@pytest.mark.parametrize("make", [lambda: v2.RandomInvert(1.0), lambda: v2.RandomPosterize(4, 1.0),
                                  lambda: v2.RandomSolarize(128, 1.0), lambda: v2.RandomAutocontrast(1.0),
                                  lambda: v2.RandomEqualize(1.0), lambda: v2.RandomAdjustSharpness(2.0, 1.0)])
def test_random_color_transforms_keep_masks_and_boxes(make):
    image = tv_tensors.Image(images()["uint8"])
    mask = tv_tensors.Mask(ember.ones(24, 31, dtype=ember.uint8))
    out_image, out_mask = make()(image, mask)
    assert type(out_image) is tv_tensors.Image and out_mask is mask


@pytest.mark.parametrize("make", [lambda: v2.AutoAugment(), lambda: v2.AutoAugment(v2.AutoAugmentPolicy.SVHN),
                                  lambda: v2.RandAugment(), lambda: v2.TrivialAugmentWide(), lambda: v2.AugMix()])
@pytest.mark.parametrize("kind", ["uint8", "pil", "Image"])
def test_auto_augment_policies_run_on_each_kind(make, kind):
    image = images()[kind]
    for seed in range(6):
        ember.manual_seed(seed)
        out = make()(image)
        assert type(out) is type(image)
        size = (lambda x: x.size) if kind == "pil" else (lambda x: tuple(x.shape))
        assert size(out) == size(image)
    with pytest.raises(TypeError, match="not supported"):
        make()(image, tv_tensors.Mask(ember.zeros(24, 31)))


def test_auto_augment_policy_tables():
    assert len(v2.AutoAugment()._policies) == 25
    assert v2.AutoAugment(v2.AutoAugmentPolicy.CIFAR10)._policies[1] == (("Rotate", 0.7, 2), ("TranslateX", 0.3, 9))
    assert v2.AutoAugment(v2.AutoAugmentPolicy.SVHN)._policies[-1] == (("ShearX", 0.7, 2), ("Invert", 0.1, None))


def test_misuse_raises_as_torchvision():
    image = images()["uint8"]
    with pytest.raises(TypeError, match="does not support PIL images"):
        v2.Normalize([0.5] * 3, [0.5] * 3)(images()["pil"])
    with pytest.raises(ValueError, match="should be a floating point value"):
        v2.RandomHorizontalFlip(p=1.5)
    with pytest.raises(TypeError, match="sequence of callables"):
        v2.Compose(v2.Identity())
    with pytest.raises(ValueError, match="at least one transform"):
        v2.Compose([])
    with pytest.raises(ValueError, match="Required crop size"):
        v2.RandomCrop(40)(image)
    with pytest.raises(ValueError, match="Found multiple HxW"):
        v2.RandomCrop(5)(tv_tensors.Image(image), tv_tensors.Mask(ember.zeros(3, 3)))
    with pytest.raises(TypeError, match="supports inputs of type"):
        F.normalize(tv_tensors.Mask(ember.zeros(3, 3)), [0.5], [0.5])
    with pytest.raises(ValueError, match="Kernel size value should be an odd"):
        v2.GaussianBlur(4)
    with pytest.raises(ValueError, match="size can be an integer"):
        v2.Resize([1, 2, 3])
    with pytest.raises(ValueError, match="interpolation"):
        F.resize(image, [3, 3], interpolation=3.5)


def test_extra_repr():
    assert repr(v2.RandomHorizontalFlip(0.3)) == "RandomHorizontalFlip(p=0.3)"
    assert "size=[17]" in repr(v2.Resize(17))


def test_jpeg_noise_temporal_and_linear_transforms():
    uint8, pil = images()["uint8"], images()["pil"]
    ember.manual_seed(0)
    out = v2.JPEG((40, 60))(tv_tensors.Image(uint8))
    ember.manual_seed(0)
    quality = int(ember.randint(40, 61, ()).item())
    assert type(out) is tv_tensors.Image
    assert_same(out.as_subclass(ember.Tensor), ember.tensor(numpy.asarray(F.jpeg(pil, quality)).transpose(2, 0, 1)))
    with pytest.raises(ValueError, match="quality must be an integer"):
        v2.JPEG(0)
    ember.manual_seed(1)
    noisy = v2.GaussianNoise(sigma=0.2, clip=False)(images()["float"])
    ember.manual_seed(1)
    numpy.testing.assert_allclose(noisy.numpy(), (images()["float"] + ember.randn(3, 24, 31) * 0.2).numpy(), atol=1e-6)
    with pytest.raises(ValueError, match="not implemented for PIL"):
        v2.GaussianNoise()(pil)
    video = tv_tensors.Video(ember.arange(10.0)[:, None, None, None].expand(10, 1, 2, 2))
    assert v2.UniformTemporalSubsample(4)(video)[:, 0, 0, 0].tolist() == [0.0, 3.0, 6.0, 9.0]
    matrix, mean = ember.rand(12, 12), ember.rand(12)
    image = ember.rand(3, 2, 2)
    expected = ((image.reshape(1, 12) - mean) @ matrix).reshape(3, 2, 2)
    assert_same(v2.LinearTransformation(matrix, mean)(image), expected)
    with pytest.raises(ValueError, match="should be square"):
        v2.LinearTransformation(ember.rand(3, 4), ember.rand(3))


def test_register_kernel_for_a_custom_tv_tensor():
    class Heatmap(tv_tensors.TVTensor):
        def __new__(cls, data):
            return ember.as_tensor(data).as_subclass(cls)

    seen = []

    @F.register_kernel(F.horizontal_flip, Heatmap)
    def flip_heatmap(heatmap):
        seen.append(type(heatmap))
        return tv_tensors.wrap(heatmap.as_subclass(ember.Tensor).flip(-1), like=heatmap)

    heatmap = Heatmap(ember.arange(6.0).reshape(2, 3))
    out = v2.RandomHorizontalFlip(p=1.0)(tv_tensors.Image(ember.zeros(1, 2, 3)), heatmap)[1]
    assert seen == [Heatmap] and type(out) is Heatmap and out[0].tolist() == [2.0, 1.0, 0.0]
    assert v2.RandomVerticalFlip(p=1.0)(heatmap) is heatmap   # no kernel: passes through, never Tensor's kernel
    with pytest.raises(TypeError, match="supports inputs of type"):
        F.vertical_flip(heatmap)
    with pytest.raises(ValueError, match="builtin tv_tensor classes"):
        F.register_kernel(F.resize, tv_tensors.Image)
    with pytest.raises(ValueError, match="subclasses of torchvision.tv_tensors.TVTensor"):
        F.register_kernel(F.resize, ember.Tensor)
    with pytest.raises(ValueError, match="only be registered on functionals"):
        F.register_kernel(lambda x: x, Heatmap)
    F.register_kernel("vertical_flip", Heatmap)(lambda heatmap: heatmap)
    assert F.vertical_flip(heatmap) is heatmap


def test_v1_get_params_are_offered():
    image = images()["uint8"]
    ember.manual_seed(0)
    expected = v1.RandomResizedCrop.get_params(image, (0.08, 1.0), (0.75, 4 / 3))
    ember.manual_seed(0)
    assert v2.RandomResizedCrop.get_params(image, (0.08, 1.0), (0.75, 4 / 3)) == expected
    for name in ("RandomCrop", "ColorJitter", "RandomRotation", "RandomAffine", "GaussianBlur", "RandomErasing"):
        assert getattr(v2, name).get_params is getattr(v1, name).get_params
