"""ember.vision.transforms against torchvision.transforms: functional forms on PIL images and tensors, the classes,
random transforms through their drawn parameters, and errors."""
import numpy
import pytest
import torch

import ember
import ember.utils.data
import ember.vision.transforms as ET
import ember.vision.transforms.functional as EF
from tests.vision import tv_oracle

Image = pytest.importorskip("PIL.Image")
tv = tv_oracle.load()
TT = pytest.importorskip("torchvision.transforms")
TF = pytest.importorskip("torchvision.transforms.functional")

LIBS = {"ember": EF, "torch": TF}


def make_inputs():
    rng = numpy.random.default_rng(7)
    rgb = rng.integers(0, 256, (13, 17, 3), dtype=numpy.uint8)
    return {
        "pil_rgb": Image.fromarray(rgb),
        "pil_gray": Image.fromarray(rgb[..., 0]),
        "float": rng.random((3, 13, 17), dtype=numpy.float32),
        "uint8": numpy.ascontiguousarray(rgb.transpose(2, 0, 1)),
        "batch": rng.random((2, 3, 11, 9), dtype=numpy.float32),
        "float_gray": rng.random((1, 13, 17), dtype=numpy.float32),
    }


INPUTS = make_inputs()
PIL_INPUTS = ["pil_rgb", "pil_gray"]
TENSOR_INPUTS = ["float", "uint8", "batch"]
ALL_INPUTS = PIL_INPUTS + TENSOR_INPUTS


def as_lib(x, lib):
    """The input for one library: PIL images are shared, arrays become that library's tensors."""
    if isinstance(x, numpy.ndarray):
        return ember.from_numpy(x.copy()) if lib == "ember" else torch.from_numpy(x.copy())
    return x.copy() if hasattr(x, "copy") else x


def assert_image_equal(ours, theirs, atol=0.0):
    if isinstance(theirs, (tuple, list)):
        assert isinstance(ours, (tuple, list)) and len(ours) == len(theirs)
        for o, t in zip(ours, theirs):
            assert_image_equal(o, t, atol)
        return
    if isinstance(theirs, torch.Tensor):
        assert isinstance(ours, ember.Tensor), type(ours)
        assert str(ours.dtype).split(".")[-1] == str(theirs.dtype).split(".")[-1]
        assert tuple(ours.shape) == tuple(theirs.shape)
        expected, actual = theirs.numpy().astype(numpy.float64), ours.numpy().astype(numpy.float64)
    else:
        assert isinstance(ours, Image.Image), type(ours)
        assert (ours.mode, ours.size) == (theirs.mode, theirs.size)
        expected, actual = numpy.asarray(theirs, numpy.float64), numpy.asarray(ours, numpy.float64)
    numpy.testing.assert_allclose(actual, expected, rtol=0, atol=atol)


def check(fn, name, atol=0.0, uint8_atol=None):
    """Runs ``fn(F, img)`` with ember's and torchvision's functional modules on input ``name`` and compares."""
    theirs = fn(TF, as_lib(INPUTS[name], "torch"))
    ours = fn(EF, as_lib(INPUTS[name], "ember"))
    tol = uint8_atol if uint8_atol is not None and name == "uint8" else atol
    assert_image_equal(ours, theirs, tol)


def fill_for(name):
    """A fill value of the right kind for the input: per channel for RGB, one number otherwise."""
    if name == "pil_rgb":
        return (10, 200, 30)
    if name in ("float", "batch"):
        return [0.1, 0.5, 0.9]
    return 77 if name in ("pil_gray", "uint8") else 0.25


# One row per functional op: (id, function of (F, img, input name), inputs, float tolerance, uint8 tolerance).
FUNCTIONAL = [
    ("hflip", lambda F, img, n: F.hflip(img), ALL_INPUTS, 0, None),
    ("vflip", lambda F, img, n: F.vflip(img), ALL_INPUTS, 0, None),
    ("crop", lambda F, img, n: F.crop(img, 2, 3, 5, 6), ALL_INPUTS, 0, None),
    ("crop_outside", lambda F, img, n: F.crop(img, -2, -3, 20, 25), ALL_INPUTS, 0, None),
    ("center_crop", lambda F, img, n: F.center_crop(img, 5), ALL_INPUTS, 0, None),
    ("center_crop_pad", lambda F, img, n: F.center_crop(img, [16, 22]), ALL_INPUTS, 0, None),
    ("pad_const", lambda F, img, n: F.pad(img, [1, 2], fill=3), ALL_INPUTS, 0, None),
    ("pad_const_rgb_fill", lambda F, img, n: F.pad(img, 2, fill=(1, 2, 3)), ["pil_rgb"], 0, None),
    ("pad_edge", lambda F, img, n: F.pad(img, [1, 2, 3, 4], padding_mode="edge"), ALL_INPUTS, 0, None),
    ("pad_reflect", lambda F, img, n: F.pad(img, 3, padding_mode="reflect"), ALL_INPUTS, 0, None),
    ("pad_symmetric", lambda F, img, n: F.pad(img, [2, 1, 0, 3], padding_mode="symmetric"), ALL_INPUTS, 0, None),
    ("pad_symmetric_negative", lambda F, img, n: F.pad(img, [-1, 2, 1, -2], padding_mode="symmetric"),
     ALL_INPUTS, 0, None),
    ("resize_short_edge", lambda F, img, n: F.resize(img, 8), ALL_INPUTS, 1e-5, 1),
    ("resize_up", lambda F, img, n: F.resize(img, [30, 21]), ALL_INPUTS, 1e-5, 1),
    ("resize_max_size", lambda F, img, n: F.resize(img, 6, max_size=7), ALL_INPUTS, 1e-5, 1),
    ("resize_bicubic", lambda F, img, n: F.resize(img, [7, 23], F.InterpolationMode.BICUBIC), ALL_INPUTS, 1e-5, 1),
    ("resize_nearest", lambda F, img, n: F.resize(img, [9, 25], F.InterpolationMode.NEAREST), ALL_INPUTS, 0, None),
    ("resize_nearest_exact", lambda F, img, n: F.resize(img, [9, 5], F.InterpolationMode.NEAREST_EXACT),
     TENSOR_INPUTS, 0, None),
    ("resize_no_antialias", lambda F, img, n: F.resize(img, [6, 7], antialias=False), TENSOR_INPUTS, 1e-5, 1),
    ("resize_bicubic_no_antialias", lambda F, img, n: F.resize(img, [20, 7], F.InterpolationMode.BICUBIC,
                                                               antialias=False), TENSOR_INPUTS, 1e-5, 1),
    ("resize_pil_int_mode", lambda F, img, n: F.resize(img, [8, 8], 4), PIL_INPUTS, 0, None),
    ("resized_crop", lambda F, img, n: F.resized_crop(img, 1, 2, 9, 10, [5, 6]), ALL_INPUTS, 1e-5, 1),
    ("rotate", lambda F, img, n: F.rotate(img, 30.0), ALL_INPUTS, 0, None),
    ("rotate_bilinear_expand", lambda F, img, n: F.rotate(img, 45.0, F.InterpolationMode.BILINEAR, expand=True),
     ALL_INPUTS, 1e-5, 1),
    ("rotate_center_fill", lambda F, img, n: F.rotate(img, -70, center=[3, 4], fill=fill_for(n)), ALL_INPUTS, 0,
     None),
    ("affine", lambda F, img, n: F.affine(img, 20.0, [2, -1], 1.2, [10.0, 5.0]), ALL_INPUTS, 0, None),
    ("affine_bilinear_fill", lambda F, img, n: F.affine(img, -35.0, [1, 3], 0.8, 12.0, F.InterpolationMode.BILINEAR,
                                                        fill=fill_for(n)), ALL_INPUTS, 1e-5, 1),
    ("affine_center", lambda F, img, n: F.affine(img, 90, [0, 0], 1.0, [0.0], center=[2, 5]), ALL_INPUTS, 0, None),
    ("brightness", lambda F, img, n: F.adjust_brightness(img, 1.3), ALL_INPUTS, 1e-6, None),
    ("contrast", lambda F, img, n: F.adjust_contrast(img, 0.6), ALL_INPUTS, 1e-6, None),
    ("saturation", lambda F, img, n: F.adjust_saturation(img, 1.7), ALL_INPUTS, 1e-6, None),
    ("hue", lambda F, img, n: F.adjust_hue(img, 0.2), ALL_INPUTS + ["float_gray"], 1e-5, 1),
    ("hue_negative", lambda F, img, n: F.adjust_hue(img, -0.45), ALL_INPUTS, 1e-5, 1),
    ("gamma", lambda F, img, n: F.adjust_gamma(img, 0.8, 1.1), ALL_INPUTS, 1e-6, None),
    ("grayscale", lambda F, img, n: F.rgb_to_grayscale(img), ["pil_rgb", "float", "uint8", "batch"], 1e-6, None),
    ("grayscale3", lambda F, img, n: F.rgb_to_grayscale(img, 3), ["pil_rgb", "float", "uint8"], 1e-6, None),
    ("to_grayscale", lambda F, img, n: F.to_grayscale(img, 3), PIL_INPUTS, 0, None),
    ("gaussian_blur", lambda F, img, n: F.gaussian_blur(img, [3, 5], [1.0, 2.0]), ALL_INPUTS, 1e-5, 1),
    ("gaussian_blur_default_sigma", lambda F, img, n: F.gaussian_blur(img, 5), ALL_INPUTS, 1e-5, 1),
    ("invert", lambda F, img, n: F.invert(img), ALL_INPUTS, 1e-6, None),
    ("five_crop", lambda F, img, n: F.five_crop(img, [4, 6]), ALL_INPUTS, 0, None),
    ("ten_crop", lambda F, img, n: F.ten_crop(img, 5, vertical_flip=True), ALL_INPUTS, 0, None),
    ("normalize", lambda F, img, n: F.normalize(img, [0.5, 0.4, 0.3], [0.2, 0.25, 0.5]), ["float", "batch"], 1e-6,
     None),
    ("erase", lambda F, img, n: F.erase(img, 1, 2, 3, 4, img.new_ones(()) * 0.5 if img.is_floating_point() else 9),
     TENSOR_INPUTS, 0, None),
    ("convert_to_float64", lambda F, img, n: F.convert_image_dtype(img, img.new_empty(0).double().dtype),
     TENSOR_INPUTS, 1e-7, None),
]


@pytest.mark.parametrize("op,fn,inputs,atol,uint8_atol", FUNCTIONAL, ids=[row[0] for row in FUNCTIONAL])
def test_functional_matches_torchvision(op, fn, inputs, atol, uint8_atol):
    for name in inputs:
        check(lambda F, img: fn(F, img, name), name, atol, uint8_atol)


def test_image_size_queries():
    for name in ALL_INPUTS:
        for query in ("get_dimensions", "get_image_size", "get_image_num_channels"):
            assert getattr(EF, query)(as_lib(INPUTS[name], "ember")) == getattr(TF, query)(
                as_lib(INPUTS[name], "torch"))


@pytest.mark.parametrize("source,target", [("uint8", "float32"), ("float32", "uint8"), ("uint8", "int16"),
                                           ("int32", "uint8"), ("float64", "int16"), ("uint8", "uint8")])
def test_convert_image_dtype(source, target):
    values = numpy.random.default_rng(1).random((2, 3, 4)) * (1 if source.startswith("float") else 250)
    array = values.astype(source)
    ours = EF.convert_image_dtype(ember.from_numpy(array), getattr(ember, target))
    theirs = TF.convert_image_dtype(torch.from_numpy(array), getattr(torch, target))
    assert_image_equal(ours, theirs, 1e-7)


def test_convert_image_dtype_unsafe_cast():
    with pytest.raises(RuntimeError, match="cannot be performed safely"):
        EF.convert_image_dtype(ember.rand(1, 2, 2), ember.int32)


@pytest.mark.parametrize("mode", ["RGB", "L", "RGBA", "LA", "1", "I", "F", "I;16", "P", "CMYK", "YCbCr"])
def test_to_tensor_and_pil_to_tensor(mode):
    image = INPUTS["pil_rgb"].convert(mode)
    assert_image_equal(EF.to_tensor(image), TF.to_tensor(image), 1e-7)
    if mode not in ("1", "I;16"):  # torch has no tensor for those bit depths' numpy views
        assert_image_equal(EF.pil_to_tensor(image), TF.pil_to_tensor(image))


@pytest.mark.parametrize("dtype", ["uint8", "float32", "float64", "int32"])
@pytest.mark.parametrize("shape", [(13, 17), (13, 17, 1), (13, 17, 3)])
def test_to_tensor_ndarray(dtype, shape):
    array = (numpy.random.default_rng(2).random(shape) * 200).astype(dtype)
    assert_image_equal(EF.to_tensor(array), TF.to_tensor(array), 1e-7)


@pytest.mark.parametrize("dtype,channels,mode", [("float32", 3, None), ("uint8", 1, None), ("uint8", 3, None),
                                                 ("uint8", 4, None), ("uint8", 2, None), ("float32", 1, "F"),
                                                 ("int16", 1, None), ("int32", 1, None), ("uint8", 3, "HSV"),
                                                 ("uint8", 4, "RGBX"), ("float64", 3, None)])
def test_to_pil_image(dtype, channels, mode):
    array = (numpy.random.default_rng(3).random((channels, 5, 6)) * (1 if dtype.startswith("float") else 250))
    array = array.astype(dtype)
    for source in (lambda lib: as_lib(array, lib), lambda lib: array.transpose(1, 2, 0).copy()):
        assert_image_equal(EF.to_pil_image(source("ember"), mode), TF.to_pil_image(source("torch"), mode))
    assert_image_equal(EF.to_pil_image(ember.from_numpy(array[0].copy())), TF.to_pil_image(torch.from_numpy(array[0])))


def test_normalize_inplace_and_autograd():
    x = ember.rand(3, 4, 5)
    out = EF.normalize(x, [0.1, 0.2, 0.3], [1.0, 2.0, 3.0], inplace=True)
    assert out is x
    y = ember.rand(2, 3, 4, 5, requires_grad=True)
    EF.normalize(y, [0.5] * 3, [2.0] * 3).sum().backward()
    numpy.testing.assert_allclose(y.grad.numpy(), numpy.full((2, 3, 4, 5), 0.5))


def error_of(fn):
    try:
        fn()
    except Exception as error:  # noqa: BLE001 - the type and message are what is compared
        return type(error), str(error)
    return None


ERRORS = [
    ("normalize_int", lambda F, lib: F.normalize(lib.zeros(3, 2, 2, dtype=lib.uint8), [0.0], [1.0])),
    ("normalize_2d", lambda F, lib: F.normalize(lib.zeros(2, 2), [0.0], [1.0])),
    ("normalize_std0", lambda F, lib: F.normalize(lib.zeros(3, 2, 2), [0.0], [0.0, 1.0, 1.0])),
    ("normalize_pil", lambda F, lib: F.normalize(INPUTS["pil_rgb"], [0.0], [1.0])),
    ("pad_mode", lambda F, lib: F.pad(lib.zeros(3, 4, 4), 1, padding_mode="wrap")),
    ("pad_len", lambda F, lib: F.pad(lib.zeros(3, 4, 4), [1, 2, 3])),
    ("pad_pil_fill", lambda F, lib: F.pad(INPUTS["pil_rgb"], 1, fill=(1, 2))),
    ("resize_len", lambda F, lib: F.resize(lib.zeros(3, 4, 4), [1, 2, 3])),
    ("resize_max_size", lambda F, lib: F.resize(lib.zeros(3, 4, 4), [2, 3], max_size=5)),
    ("resize_max_size_small", lambda F, lib: F.resize(lib.zeros(3, 4, 4), 5, max_size=5)),
    ("resize_interpolation", lambda F, lib: F.resize(lib.zeros(3, 4, 4), 2, interpolation="bilinear")),
    ("hue_range", lambda F, lib: F.adjust_hue(lib.zeros(3, 4, 4), 0.7)),
    ("brightness_negative", lambda F, lib: F.adjust_brightness(lib.zeros(3, 4, 4), -1)),
    ("contrast_channels", lambda F, lib: F.adjust_contrast(lib.zeros(2, 4, 4), 0.5)),
    ("grayscale_channels", lambda F, lib: F.rgb_to_grayscale(lib.zeros(3, 4, 4), 2)),
    ("grayscale_2d", lambda F, lib: F.rgb_to_grayscale(lib.zeros(4, 4))),
    ("rotate_angle", lambda F, lib: F.rotate(lib.zeros(3, 4, 4), "30")),
    ("rotate_fill", lambda F, lib: F.rotate(lib.zeros(3, 4, 4), 30, fill=[1.0, 2.0])),
    ("rotate_bicubic", lambda F, lib: F.rotate(lib.zeros(3, 4, 4), 30, F.InterpolationMode.BICUBIC)),
    ("affine_scale", lambda F, lib: F.affine(lib.zeros(3, 4, 4), 0, [0, 0], 0.0, 0)),
    ("affine_translate", lambda F, lib: F.affine(lib.zeros(3, 4, 4), 0, [0], 1.0, 0)),
    ("affine_shear", lambda F, lib: F.affine(lib.zeros(3, 4, 4), 0, [0, 0], 1.0, [1, 2, 3])),
    ("blur_even", lambda F, lib: F.gaussian_blur(lib.zeros(3, 4, 4), 4)),
    ("blur_sigma", lambda F, lib: F.gaussian_blur(lib.zeros(3, 4, 4), 3, -1.0)),
    ("to_tensor_type", lambda F, lib: F.to_tensor([1, 2])),
    ("to_tensor_ndim", lambda F, lib: F.to_tensor(numpy.zeros((1, 2, 3, 4)))),
    ("pil_to_tensor_type", lambda F, lib: F.pil_to_tensor(numpy.zeros((2, 2)))),
    ("to_pil_channels", lambda F, lib: F.to_pil_image(lib.zeros(5, 2, 2))),
    ("to_pil_ndim", lambda F, lib: F.to_pil_image(lib.zeros(1, 1, 2, 2))),
    ("to_pil_mode", lambda F, lib: F.to_pil_image(lib.zeros(3, 2, 2), mode="L")),
    ("to_pil_type", lambda F, lib: F.to_pil_image([1])),
    ("to_pil_dtype", lambda F, lib: F.to_pil_image(numpy.zeros((2, 2, 3), numpy.int64))),
    ("five_crop_big", lambda F, lib: F.five_crop(lib.zeros(3, 4, 4), 5)),
    ("erase_pil", lambda F, lib: F.erase(INPUTS["pil_rgb"], 0, 0, 1, 1, 0)),
    ("to_grayscale_tensor", lambda F, lib: F.to_grayscale(lib.zeros(3, 4, 4))),
    ("hflip_1d", lambda F, lib: F.hflip(lib.zeros(4))),
]


@pytest.mark.parametrize("fn", [row[1] for row in ERRORS], ids=[row[0] for row in ERRORS])
def test_functional_errors_match_torchvision(fn):
    theirs = error_of(lambda: fn(TF, torch))
    assert theirs is not None
    ours = error_of(lambda: fn(EF, ember))
    assert ours is not None and ours[0] is theirs[0], (ours, theirs)
    assert ours[1].replace("ember", "torch") == theirs[1]


# Deterministic transform classes, built the same way from either module.
CLASSES = [
    ("Resize", lambda T: T.Resize(7), ALL_INPUTS),
    ("Resize_seq", lambda T: T.Resize([9], interpolation=T.InterpolationMode.BICUBIC, max_size=15), ALL_INPUTS),
    ("CenterCrop", lambda T: T.CenterCrop((5, 8)), ALL_INPUTS),
    ("Pad", lambda T: T.Pad([1, 2, 3, 4], padding_mode="reflect"), ALL_INPUTS),
    ("Grayscale", lambda T: T.Grayscale(3), ["pil_rgb", "float", "uint8"]),
    ("FiveCrop", lambda T: T.FiveCrop(4), ALL_INPUTS),
    ("TenCrop", lambda T: T.TenCrop([4, 3]), ALL_INPUTS),
    ("Normalize", lambda T: T.Normalize((0.5, 0.5, 0.5), (0.1, 0.2, 0.3)), ["float", "batch"]),
    ("ConvertImageDtype", lambda T: T.ConvertImageDtype(getattr(T, "_dtype_float64")), ["uint8"]),
    ("Lambda", lambda T: T.Lambda(lambda x: x), ALL_INPUTS),
    ("Compose", lambda T: T.Compose([T.CenterCrop(10), T.Resize([6, 5]), T.Pad(1)]), ALL_INPUTS),
    ("Compose_pipeline", lambda T: T.Compose([T.Resize(8), T.ToTensor(), T.Normalize([0.5] * 3, [0.25] * 3)]),
     ["pil_rgb"]),
    ("PILToTensor", lambda T: T.Compose([T.PILToTensor(), T.ConvertImageDtype(getattr(T, "_dtype_float64"))]),
     PIL_INPUTS),
    ("ToPILImage", lambda T: T.Compose([T.ToTensor(), T.ToPILImage()]), PIL_INPUTS),
]


@pytest.fixture
def transform_modules(monkeypatch):
    monkeypatch.setattr(ET, "_dtype_float64", ember.float64, raising=False)
    monkeypatch.setattr(TT, "_dtype_float64", torch.float64, raising=False)
    return ET, TT


@pytest.mark.parametrize("make,inputs", [row[1:] for row in CLASSES], ids=[row[0] for row in CLASSES])
def test_transform_classes_match_torchvision(make, inputs, transform_modules):
    ours_t, theirs_t = make(ET), make(TT)
    assert repr(ours_t).replace("ember", "torch") == repr(theirs_t)
    for name in inputs:
        assert_image_equal(ours_t(as_lib(INPUTS[name], "ember")), theirs_t(as_lib(INPUTS[name], "torch")), 1e-5)


# Random transforms: (our transform, how torchvision's functional applies the parameters it drew).
# Each draws with ember's generator; re-seeding and calling get_params must give the parameters it used.
def replay_random_crop(img, t):
    i, j, h, w = t.get_params(EF.pad(img, t.padding, t.fill, t.padding_mode), t.size)
    return lambda timg: TF.crop(TF.pad(timg, t.padding, t.fill, t.padding_mode), i, j, h, w)


def replay_resized_crop(img, t):
    i, j, h, w = t.get_params(img, t.scale, t.ratio)
    return lambda timg: TF.resized_crop(timg, i, j, h, w, list(t.size), getattr(TF.InterpolationMode,
                                                                                 t.interpolation.name))


def replay_rotation(img, t):
    angle = t.get_params(t.degrees)
    return lambda timg: TF.rotate(timg, angle, getattr(TF.InterpolationMode, t.interpolation.name), t.expand, t.center,
                                  t.fill if not isinstance(timg, torch.Tensor) else [float(t.fill)] * 3)


def replay_affine(img, t):
    _, height, width = EF.get_dimensions(img)
    angle, translate, scale, shear = t.get_params(t.degrees, t.translate, t.scale, t.shear, [width, height])
    return lambda timg: TF.affine(timg, angle, list(translate), scale, list(shear), fill=(
        t.fill if not isinstance(timg, torch.Tensor) else [float(t.fill)] * 3))


def replay_color_jitter(img, t):
    order, *factors = t.get_params(t.brightness, t.contrast, t.saturation, t.hue)
    adjust = (TF.adjust_brightness, TF.adjust_contrast, TF.adjust_saturation, TF.adjust_hue)

    def apply(timg):
        for k in order.tolist():
            if factors[k] is not None:
                timg = adjust[k](timg, factors[k])
        return timg
    return apply


def replay_blur(img, t):
    sigma = t.get_params(*t.sigma)
    return lambda timg: TF.gaussian_blur(timg, list(t.kernel_size), [sigma, sigma])


def replay_coin(apply):
    def replay(img, t):
        hit = bool(ember.rand(1) < t.p)
        return (lambda timg: apply(timg)) if hit else (lambda timg: timg)
    return replay


RANDOM = [
    ("RandomCrop", lambda: ET.RandomCrop(8, padding=[1, 2], fill=5, padding_mode="constant"), replay_random_crop),
    ("RandomCrop_reflect", lambda: ET.RandomCrop([10, 12], padding=2, padding_mode="reflect"), replay_random_crop),
    ("RandomResizedCrop", lambda: ET.RandomResizedCrop([6, 7]), replay_resized_crop),
    ("RandomResizedCrop_nearest", lambda: ET.RandomResizedCrop(5, scale=(0.5, 0.9), ratio=(0.5, 2.0),
                                                               interpolation=ET.InterpolationMode.NEAREST),
     replay_resized_crop),
    ("RandomRotation", lambda: ET.RandomRotation(40, ET.InterpolationMode.BILINEAR, expand=True, fill=1),
     replay_rotation),
    ("RandomAffine", lambda: ET.RandomAffine(25, translate=(0.2, 0.1), scale=(0.8, 1.2), shear=(-5, 5, -10, 10),
                                             fill=0), replay_affine),
    ("ColorJitter", lambda: ET.ColorJitter(0.4, 0.4, 0.4, 0.2), replay_color_jitter),
    ("ColorJitter_partial", lambda: ET.ColorJitter(brightness=(0.5, 0.9), hue=0.1), replay_color_jitter),
    ("GaussianBlur", lambda: ET.GaussianBlur(5, sigma=(0.5, 1.5)), replay_blur),
    ("RandomHorizontalFlip", lambda: ET.RandomHorizontalFlip(), replay_coin(TF.hflip)),
    ("RandomVerticalFlip", lambda: ET.RandomVerticalFlip(0.7), replay_coin(TF.vflip)),
    ("RandomGrayscale", lambda: ET.RandomGrayscale(0.5), replay_coin(lambda timg: TF.rgb_to_grayscale(
        timg, TF.get_dimensions(timg)[0]))),
]


@pytest.mark.parametrize("make,replay", [row[1:] for row in RANDOM], ids=[row[0] for row in RANDOM])
def test_random_transforms_apply_their_drawn_parameters(make, replay):
    transform = make()
    for seed in range(4):
        for name in ("pil_rgb", "float", "uint8"):
            ember.manual_seed(seed)
            ours = transform(as_lib(INPUTS[name], "ember"))
            ember.manual_seed(seed)
            theirs = replay(as_lib(INPUTS[name], "ember"), transform)(as_lib(INPUTS[name], "torch"))
            assert_image_equal(ours, theirs, 1e-5 if name != "uint8" else 1)


def test_random_transforms_are_reproducible_and_vary_with_seed():
    pipeline = ET.Compose([ET.RandomResizedCrop(8), ET.RandomHorizontalFlip(), ET.ColorJitter(0.3, 0.3, 0.3, 0.1),
                           ET.ToTensor(), ET.RandomErasing(p=1.0, value="random")])
    outputs = []
    for seed in (0, 0, 1):
        ember.manual_seed(seed)
        outputs.append(pipeline(INPUTS["pil_rgb"]).numpy())
    numpy.testing.assert_array_equal(outputs[0], outputs[1])
    assert not numpy.array_equal(outputs[0], outputs[2])


def test_random_flip_probability():
    ember.manual_seed(0)
    flip = ET.RandomHorizontalFlip(p=0.3)
    image = ember.arange(4.0).view(1, 1, 4)
    flips = sum(bool(flip(image)[0, 0, 0] == 3.0) for _ in range(400))
    assert 90 <= flips <= 150  # 120 expected; ~4.8 standard deviations either side


def test_random_resized_crop_params_follow_scale_and_ratio():
    ember.manual_seed(0)
    image = ember.zeros(3, 100, 120)
    for _ in range(50):
        i, j, h, w = ET.RandomResizedCrop.get_params(image, (0.2, 0.6), (0.5, 2.0))
        assert 0 <= i <= 100 - h and 0 <= j <= 120 - w
        assert 0.2 * 12000 * 0.85 <= h * w <= 0.6 * 12000 * 1.15
        assert 0.5 * 0.8 <= w / h <= 2.0 * 1.25


def test_random_resized_crop_falls_back_to_center_crop():
    # A 1-pixel-high image can never hold a box of ratio <= 2, so every draw fails.
    assert ET.RandomResizedCrop.get_params(ember.zeros(1, 1, 50), (0.5, 1.0), (0.5, 2.0)) == (0, 24, 1, 2)


@pytest.mark.parametrize("value", [0, 0.5, (0.1, 0.2, 0.3), "random"])
def test_random_erasing(value):
    image = ember.rand(3, 20, 24)
    ember.manual_seed(3)
    ours = ET.RandomErasing(p=1.0, value=value)(image)
    ember.manual_seed(3)
    assert bool(ember.rand(1) < 1.0)
    values = None if value == "random" else [float(v) for v in (value if isinstance(value, tuple) else [value])]
    i, j, h, w, v = ET.RandomErasing.get_params(image, (0.02, 0.33), (0.3, 3.3), values)
    expected = TF.erase(torch.from_numpy(image.numpy()), i, j, h, w, torch.from_numpy(v.numpy()))
    assert_image_equal(ours, expected)
    assert not numpy.array_equal(ours.numpy(), image.numpy())


def test_random_erasing_inplace_and_errors():
    image = ember.rand(3, 20, 24)
    assert ET.RandomErasing(p=1.0, inplace=True)(image) is image
    with pytest.raises(ValueError, match="single value or 3"):
        ET.RandomErasing(p=1.0, value=(0.1, 0.2))(image)
    for bad, error in (({"value": "noise"}, ValueError), ({"value": None}, TypeError), ({"scale": (0.1, 2)},
                       ValueError), ({"p": 1.5}, ValueError), ({"scale": 0.1}, TypeError)):
        with pytest.raises(error):
            ET.RandomErasing(**bad)


def test_random_apply_choice_order():
    ember.manual_seed(0)
    add_one = ET.Lambda(lambda x: x + 1)
    applied = [float(ET.RandomApply([add_one, add_one], p=0.25)(ember.zeros(()))) for _ in range(200)]
    assert set(applied) == {0.0, 2.0} and 25 <= applied.count(2.0) <= 75
    import random
    random.seed(0)
    picks = {float(ET.RandomChoice([add_one, ET.Lambda(lambda x: x - 1)], p=[0.5, 0.5])(ember.zeros(())))
             for _ in range(50)}
    assert picks == {1.0, -1.0}
    double = ET.Lambda(lambda x: x * 2)
    orders = {float(ET.RandomOrder([add_one, double])(ember.ones(()))) for _ in range(50)}
    assert orders == {3.0, 4.0}


def test_random_transform_constructor_errors_match_torchvision():
    cases = [
        lambda T: T.ColorJitter(brightness=-1),
        lambda T: T.ColorJitter(hue=0.7),
        lambda T: T.ColorJitter(contrast=[1, 2, 3]),
        lambda T: T.RandomRotation(-5),
        lambda T: T.RandomRotation([1, 2, 3]),
        lambda T: T.RandomRotation(5, fill=object()),
        lambda T: T.RandomAffine(5, translate=(0.5, 2)),
        lambda T: T.RandomAffine(5, scale=(0, 1)),
        lambda T: T.RandomAffine(5, shear=(1, 2, 3)),
        lambda T: T.RandomCrop([1, 2, 3]),
        lambda T: T.GaussianBlur(4),
        lambda T: T.GaussianBlur(3, sigma=(2.0, 1.0)),
        lambda T: T.Resize("big"),
        lambda T: T.Pad(1, padding_mode="wrap"),
        lambda T: T.RandomResizedCrop(5, scale=0.5),
        lambda T: T.RandomCrop(30)(INPUTS["pil_rgb"]),
        lambda T: T.Lambda(3),
    ]
    for make in cases:
        ours, theirs = error_of(lambda: make(ET)), error_of(lambda: make(TT))
        assert theirs is not None and ours == theirs, (ours, theirs)


def test_pad_if_needed():
    ember.manual_seed(0)
    out = ET.RandomCrop((20, 25), pad_if_needed=True, fill=9)(INPUTS["pil_rgb"])
    assert out.size == (25, 20)
    torch_out = TT.RandomCrop((20, 25), pad_if_needed=True, fill=9)(INPUTS["pil_rgb"])
    assert torch_out.size == out.size


def test_reprs_match_torchvision():
    makers = [lambda T: T.RandomCrop(5, padding=2), lambda T: T.RandomHorizontalFlip(0.3),
              lambda T: T.RandomResizedCrop(7), lambda T: T.ColorJitter(0.1, 0.2), lambda T: T.Grayscale(),
              lambda T: T.RandomGrayscale(), lambda T: T.RandomErasing(), lambda T: T.RandomAffine(5, shear=3),
              lambda T: T.ToTensor(), lambda T: T.PILToTensor(), lambda T: T.ToPILImage("RGB"),
              lambda T: T.RandomApply([T.ToTensor()], p=0.2), lambda T: T.RandomChoice([T.ToTensor()]),
              lambda T: T.RandomRotation((10, 20), center=(1, 2)), lambda T: T.GaussianBlur(3),
              lambda T: T.RandomVerticalFlip(), lambda T: T.RandomAffine(0, (0.1, 0.1), (0.9, 1.1), fill=3,
                                                                         interpolation=T.InterpolationMode.BILINEAR)]
    for make in makers:
        assert repr(make(ET)) == repr(make(TT))


class RandomCrops(ember.utils.data.Dataset):
    """The same image each time, randomly cropped: only the generator tells samples apart."""

    def __len__(self):
        return 8

    def __getitem__(self, index):
        return ET.RandomCrop(3)(ember.arange(100.0).view(1, 10, 10))


@pytest.mark.timeout(300)
def test_random_transforms_in_dataloader_workers():
    def crops(seed):
        ember.manual_seed(seed)
        loader = ember.utils.data.DataLoader(RandomCrops(), batch_size=1, num_workers=2)
        return numpy.stack([batch.numpy() for batch in loader])

    first = crops(5)
    numpy.testing.assert_array_equal(first, crops(5))  # the workers' seeds derive from ember's generator
    assert not numpy.array_equal(first[0::2], first[1::2])  # worker 0 has the even samples, worker 1 the odd
    assert not numpy.array_equal(first, crops(6))


def test_import_does_not_load_pil():
    import subprocess
    import sys
    code = "import sys, ember.vision; assert not any(m == 'PIL' or m.startswith('PIL.') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], check=True, timeout=60)
