"""Bilinear 2-D grid_sample with zeros or border padding as one primitive (``ops/_grid_sample_2d.py``): values and
both gradients against PyTorch (align_corners both ways, float32 and float64, points outside the map, on its edges,
NaN and infinite coordinates), double backward through the composed path, and the composed path it leaves."""
import numpy
import pytest
import torch

import ember


def _case(dtype, seed=0):
    rng = numpy.random.default_rng(seed)
    image = rng.standard_normal((3, 4, 9, 11)).astype(dtype)
    grid = rng.uniform(-1.3, 1.3, (3, 5, 7, 2)).astype(dtype)
    grid[0, 0, :4] = [[-1, -1], [1, 1], [-1, 1], [0.0, 0.0]]   # corners and the centre of the map
    return image, grid, rng.standard_normal((3, 4, 5, 7)).astype(dtype)


@pytest.mark.parametrize("padding_mode", ["zeros", "border"])
@pytest.mark.parametrize("align_corners", [False, True])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_values_and_gradients_match_torch(padding_mode, align_corners, dtype):
    image, grid, g = _case(dtype)
    results = []
    for lib in (ember, torch):
        a, b = lib.tensor(image, requires_grad=True), lib.tensor(grid, requires_grad=True)
        y = lib.nn.functional.grid_sample(a, b, padding_mode=padding_mode, align_corners=align_corners)
        y.backward(lib.tensor(g))
        results.append((y.grad_fn.name(), [y.detach().numpy(), a.grad.numpy(), b.grad.numpy()]))
    (e_name, e_values), (t_name, t_values) = results
    assert e_name == t_name == "GridSampler2DBackward0"
    tolerance = 3e-5 if dtype == "float32" else 1e-12
    for e, t in zip(e_values, t_values):
        numpy.testing.assert_allclose(e, t, rtol=tolerance, atol=tolerance)


def test_nan_and_infinite_coordinates_give_nan_as_torch():
    image, grid, _ = _case("float32", seed=1)
    grid[1, 2, :3] = [[0.0, numpy.nan], [numpy.nan, numpy.nan], [numpy.inf, 0.0]]
    got, want = (lib.nn.functional.grid_sample(lib.tensor(image), lib.tensor(grid), align_corners=False).numpy()
                 for lib in (ember, torch))
    numpy.testing.assert_array_equal(numpy.isnan(got), numpy.isnan(want))
    numpy.testing.assert_allclose(got, want, rtol=3e-5, atol=3e-5)


@pytest.mark.parametrize("wanted", ["both", "input", "grid"])
def test_one_side_and_double_backward_match_torch(wanted):
    image, grid, _ = _case("float64", seed=2)
    grid[0, 0, :4] = 0.25   # off the map's edges, where the composed path's clamp passes a gradient PyTorch does not
    results = []
    for lib in (ember, torch):
        a = lib.tensor(image, requires_grad=wanted in ("both", "input"))
        b = lib.tensor(grid, requires_grad=wanted in ("both", "grid"))
        inputs = [t for t in (a, b) if t.requires_grad]
        y = lib.nn.functional.grid_sample(a, b, padding_mode="border", align_corners=True)
        first = lib.autograd.grad((y * y).sum(), inputs, create_graph=True)
        second = lib.autograd.grad(sum((f * f).sum() for f in first), inputs)
        results.append([t.detach().numpy() for t in first + second])
    for e, t in zip(*results):
        numpy.testing.assert_allclose(e, t, rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("options", [dict(padding_mode="reflection"), dict(mode="nearest"), dict(mode="bicubic")])
def test_other_modes_keep_the_composed_path(options):
    image, grid, _ = _case("float64", seed=3)
    image = numpy.ascontiguousarray(image[:, :, ::-1])   # a copy: the composed path takes any layout too
    outputs = []
    for lib in (ember, torch):
        y = lib.nn.functional.grid_sample(lib.tensor(image).transpose(2, 3).transpose(2, 3), lib.tensor(grid),
                                          align_corners=False, **options)
        outputs.append(y.numpy())
    numpy.testing.assert_allclose(*outputs, rtol=1e-10, atol=1e-10)
