"""Padding and interpolation differences found by the nn sweep, each compared with PyTorch in the test: reflect and
circular padding with negative widths (values and gradients), F.pad's checks of its non-constant modes and of
negative constant widths, and interpolate's copy of a dim that keeps its size whatever the scale factor."""
import numpy
import pytest

from tests.oracle import same_outcome


def same(fn):
    """``fn`` on ember and torch: the same error, or the same arrays within this file's tolerance."""
    same_outcome(fn, rtol=1e-6, atol=1e-6)


def t(lib, shape, grad=False):
    value = lib.tensor(numpy.random.default_rng(0).uniform(-2, 2, shape))
    return value.requires_grad_() if grad else value


def padded_with_grad(lib, shape, widths, mode):
    x = t(lib, shape, grad=True)
    out = lib.nn.functional.pad(x, widths, mode=mode)
    (out * lib.tensor(numpy.random.default_rng(1).uniform(-1, 1, tuple(out.shape)))).sum().backward()
    return out, x.grad


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("widths", [(-1, 2), (-2, 1), (2, -1), (-1, 2, -1, 2), (-1, 2, -1, 2, -1, 2), (-4, 4),
                                    (-4, 1), (-5, 1)])
def test_negative_widths_as_torch(mode, widths):
    """Reflect read a cropped dim's reflection from the crop (3-d (-1, 2) on a size-3 dim), and circular's gradient
    wrapped over the whole input while its values wrap over the crop."""
    if mode == "circular" and widths in ((-4, 4), (-5, 1)):
        pytest.skip("PyTorch copies overlapping or unset memory there")
    n = len(widths) // 2
    same(lambda lib: padded_with_grad(lib, (2, 3) + (5, 3, 4)[:n][::-1], widths, mode))


@pytest.mark.parametrize("mode", ["reflect", "replicate", "circular"])
@pytest.mark.parametrize("case", ["partial", "value", "zero-value", "1d-input", "6d", "too-many", "empty-channels",
                                  "empty-width", "cropped-away", "some-cropped", "wraps-twice"])
def test_non_constant_mode_checks_as_torch(mode, case):
    shapes_and_pads = {
        "partial": ((2, 3, 5, 4), (1, 1)), "value": ((2, 3, 5), (1, 1)), "zero-value": ((2, 3, 5), (1, 1)),
        "1d-input": ((5,), (1, 1)), "6d": ((1, 1, 2, 2, 2, 2), (1, 1)), "too-many": ((5, 4), (1, 1, 1, 1)),
        "empty-channels": ((2, 0, 5), (1, 1)), "empty-width": ((2, 3, 5, 0), (1, 1, 1, 1)),
        "cropped-away": ((2, 3, 5), (-3, -3)), "some-cropped": ((2, 3, 5, 4, 4), (0, 0, -3, -3, 0, 0)),
        "wraps-twice": ((1, 1, 5), (6, 0))}
    shape, widths = shapes_and_pads[case]
    value = {"value": 2.0, "zero-value": 0.0}.get(case)
    same(lambda lib: [lib.nn.functional.pad(t(lib, shape), widths, mode=mode, value=value)])


@pytest.mark.parametrize("widths", [(-3, -3), (-2, -3), (-6, 1), (-5, 0)])
def test_negative_constant_widths_as_torch(widths):
    same(lambda lib: [lib.nn.functional.pad(t(lib, (2, 3, 5)), widths)])


def test_empty_padding_of_a_scalar_as_torch():
    same(lambda lib: [lib.nn.functional.pad(t(lib, ()), ())])


@pytest.mark.parametrize("mode, antialias", [("linear", False), ("bilinear", False), ("trilinear", False),
                                             ("bilinear", True), ("bicubic", True), ("nearest", False),
                                             ("nearest-exact", False), ("bicubic", False)])
@pytest.mark.parametrize("size, scale", [(3, 1.3), (5, 1.1), (3, 2.3), (4, 2.2), (3, 0.9)])
def test_interpolate_copies_a_dim_that_keeps_its_size_as_torch(mode, antialias, size, scale):
    """PyTorch's linear kernels (and its 2-d nearest one, which also repeats for twice the size) ignore the scale of
    a dim whose size stays; its float antialiased kernels too, in their values. (PyTorch's antialiased backward
    keeps the scale there, and its bicubic backward copies a whole input of the output's size while the forward
    keeps the scale: those gradients are not compared.)"""
    n = {"linear": 1, "trilinear": 3}.get(mode, 2)
    gradients = not antialias and mode != "bicubic"

    def run(lib):
        x = t(lib, (1, 2) + (size,) * (n - 1) + (size + 2,), grad=True)
        out = lib.nn.functional.interpolate(x, scale_factor=scale, mode=mode, antialias=antialias)
        if not gradients:
            return [out]
        out.sum().backward()
        return out, x.grad
    same(run)
