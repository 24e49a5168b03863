"""v1's posterize, solarize, adjust_sharpness, autocontrast, equalize and perspective (functional and Random* classes)
and LinearTransformation, against torchvision's v1 transforms on the same inputs and seeds."""
import numpy
import pytest
import torch

import ember
from tests.vision.test_transforms import (ALL_INPUTS, EF, ET, INPUTS, PIL_INPUTS, TF, TT, as_lib, assert_image_equal,
                                          check, fill_for)

UINT8_INPUTS = PIL_INPUTS + ["uint8"]
CORNERS = [[0, 0], [16, 0], [16, 12], [0, 12]]
MOVED = [[2, 1], [15, 3], [13, 11], [1, 10]]


def threshold_for(name):
    return 0.6 if name in ("float", "batch") else 140


FUNCTIONAL = [
    ("posterize", lambda F, img, n: F.posterize(img, 3), UINT8_INPUTS, 0, None),
    ("posterize_0", lambda F, img, n: F.posterize(img, 0), ["uint8"], 0, None),
    ("solarize", lambda F, img, n: F.solarize(img, threshold_for(n)), ALL_INPUTS, 1e-6, None),
    ("sharpness_up", lambda F, img, n: F.adjust_sharpness(img, 1.8), ALL_INPUTS, 1e-5, 1),
    ("sharpness_down", lambda F, img, n: F.adjust_sharpness(img, 0.3), ALL_INPUTS, 1e-5, 1),
    ("autocontrast", lambda F, img, n: F.autocontrast(img), ALL_INPUTS, 1e-5, 1),
    ("equalize", lambda F, img, n: F.equalize(img), UINT8_INPUTS, 0, None),
    ("perspective", lambda F, img, n: F.perspective(img, CORNERS, MOVED), ALL_INPUTS, 1e-5, 1),
    ("perspective_nearest_fill", lambda F, img, n: F.perspective(img, CORNERS, MOVED, F.InterpolationMode.NEAREST,
                                                                  fill_for(n)), ALL_INPUTS, 0, None),
]


@pytest.mark.parametrize("fn,inputs,atol,uint8_atol", [row[1:] for row in FUNCTIONAL],
                         ids=[row[0] for row in FUNCTIONAL])
def test_functional_matches_torchvision(fn, inputs, atol, uint8_atol):
    for name in inputs:
        check(lambda F, img: fn(F, img, name), name, atol, uint8_atol)


ERRORS = [
    lambda F, lib: F.posterize(lib.zeros(3, 4, 4, dtype=lib.uint8), 9),
    lambda F, lib: F.posterize(lib.zeros(3, 4, 4), 2),
    lambda F, lib: F.equalize(lib.zeros(3, 4, 4)),
    lambda F, lib: F.solarize(lib.zeros(3, 4, 4, dtype=lib.uint8), 300),
    lambda F, lib: F.adjust_sharpness(lib.zeros(3, 4, 4), -1.0),
    lambda F, lib: F.autocontrast(lib.zeros(4, 4)),
]


@pytest.mark.parametrize("call", ERRORS)
def test_errors_match_torchvision(call):
    with pytest.raises(Exception) as theirs:
        call(TF, torch)
    with pytest.raises(type(theirs.value)) as ours:
        call(EF, ember)
    assert str(ours.value).replace("ember", "torch") == str(theirs.value)


RANDOM = [
    ("RandomInvert", lambda T: T.RandomInvert(0.6), ALL_INPUTS),
    ("RandomPosterize", lambda T: T.RandomPosterize(2, p=0.6), UINT8_INPUTS),
    ("RandomSolarize", lambda T: T.RandomSolarize(100, p=0.6), UINT8_INPUTS),
    ("RandomAdjustSharpness", lambda T: T.RandomAdjustSharpness(2.0, p=0.6), ALL_INPUTS),
    ("RandomAutocontrast", lambda T: T.RandomAutocontrast(p=0.6), ALL_INPUTS),
    ("RandomEqualize", lambda T: T.RandomEqualize(p=0.6), UINT8_INPUTS),
    ("RandomPerspective", lambda T: T.RandomPerspective(0.6, p=0.7), ALL_INPUTS),
    ("RandomPerspective_fill", lambda T: T.RandomPerspective(0.3, p=1.0, fill=9), ALL_INPUTS),
    ("RandomPerspective_nearest", lambda T: T.RandomPerspective(0.3, p=1.0, interpolation=0), PIL_INPUTS),
    ("Compose", lambda T: T.Compose([T.RandomPerspective(p=0.9), T.RandomAutocontrast(), T.RandomEqualize(),
                                     T.RandomPosterize(4)]), UINT8_INPUTS),
]


@pytest.mark.parametrize("make,inputs", [row[1:] for row in RANDOM], ids=[row[0] for row in RANDOM])
def test_random_classes_match_torchvision_seed_for_seed(make, inputs):
    ours_t, theirs_t = make(ET), make(TT)
    assert repr(ours_t).replace("ember", "torch") == repr(theirs_t)
    for seed in range(5):
        for name in inputs:
            ember.manual_seed(seed)
            ours = ours_t(as_lib(INPUTS[name], "ember"))
            torch.manual_seed(seed)
            theirs = theirs_t(as_lib(INPUTS[name], "torch"))
            assert_image_equal(ours, theirs, 1 if name == "uint8" else 1e-4)   # bilinear blends with fill=9
    ember.manual_seed(3)
    torch.manual_seed(3)
    assert ET.RandomPerspective.get_params(17, 13, 0.7) == TT.RandomPerspective.get_params(17, 13, 0.7)


def test_linear_transformation_matches_torchvision():
    rng = numpy.random.default_rng(3)
    matrix = rng.standard_normal((3 * 13 * 17,) * 2).astype(numpy.float32) / 30
    mean = rng.standard_normal(3 * 13 * 17).astype(numpy.float32)
    ours_t = ET.LinearTransformation(ember.from_numpy(matrix), ember.from_numpy(mean))
    theirs_t = TT.LinearTransformation(torch.from_numpy(matrix), torch.from_numpy(mean))
    assert_image_equal(ours_t(as_lib(INPUTS["float"], "ember")), theirs_t(as_lib(INPUTS["float"], "torch")), 1e-4)
    for make in (lambda lib: (lib.zeros(3, 4), lib.zeros(3)), lambda lib: (lib.zeros(3, 3), lib.zeros(4)),
                 lambda lib: (lib.zeros(3, 3), lib.zeros(3, dtype=lib.float64))):
        with pytest.raises(ValueError) as theirs:
            TT.LinearTransformation(*make(torch))
        with pytest.raises(ValueError) as ours:
            ET.LinearTransformation(*make(ember))
        assert str(ours.value).replace("ember", "torch") == str(theirs.value)
    with pytest.raises(ValueError, match="incompatible shape"):
        ours_t(ember.zeros(3, 4, 4))
