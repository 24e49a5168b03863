"""grid_sample as one primitive (``ops/_grid_sample.py``): bilinear and nearest, every padding, align_corners both
ways, 4-D and 5-D, float32 and float64: values and both gradients against PyTorch, points outside the map and on its
edges, NaN and infinite coordinates, maps of size 1, batch 1 and empty grids; double backward through the composed
path, and the composed path it leaves (bicubic)."""
import itertools

import numpy
import pytest
import torch

import ember

MODES = list(itertools.product(["bilinear", "nearest"], ["zeros", "border", "reflection"], [False, True]))


def _case(dtype, input_shape, points, seed=0):
    rng = numpy.random.default_rng(seed)
    image = rng.standard_normal(input_shape).astype(dtype)
    grid = rng.uniform(-1.3, 1.3, (input_shape[0],) + points + (len(input_shape) - 2,)).astype(dtype)
    flat = grid.reshape(-1, grid.shape[-1])
    flat[:4] = numpy.array([[-1.0], [1.0], [0.0], [0.5]])[:len(flat)]   # corners, centre, a point inside
    return image, grid, rng.standard_normal(input_shape[:2] + points).astype(dtype)


def _both(image, grid, g, **options):
    results = []
    for lib in (ember, torch):
        a, b = lib.tensor(image, requires_grad=True), lib.tensor(grid, requires_grad=True)
        y = lib.nn.functional.grid_sample(a, b, **options)
        y.backward(lib.tensor(g))
        results.append((y.grad_fn.name(), [y.detach().numpy(), a.grad.numpy(), b.grad.numpy()]))
    return results


@pytest.mark.parametrize("mode,padding_mode,align_corners", MODES)
@pytest.mark.parametrize("dtype", ["float32", "float64"])
@pytest.mark.parametrize("shapes", [((3, 4, 9, 11), (5, 7)), ((1, 1, 4, 3), (1, 1)), ((2, 3, 5, 6, 7), (4, 3, 5)),
                                    ((1, 2, 3, 1, 4), (2, 1, 3))])
def test_values_and_gradients_match_torch(mode, padding_mode, align_corners, dtype, shapes):
    image, grid, g = _case(dtype, *shapes)
    (e_name, e_values), (t_name, t_values) = _both(image, grid, g, mode=mode, padding_mode=padding_mode,
                                                   align_corners=align_corners)
    assert e_name == t_name == f"GridSampler{len(shapes[1])}DBackward0"
    tolerance = 3e-5 if dtype == "float32" else 1e-12
    for e, t in zip(e_values, t_values):
        numpy.testing.assert_allclose(e, t, rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("mode,padding_mode,align_corners", MODES)
def test_maps_of_size_one(mode, padding_mode, align_corners):
    image, grid, g = _case("float64", (2, 3, 1, 5), (3, 4), seed=4)
    (_, e_values), (_, t_values) = _both(image, grid, g, mode=mode, padding_mode=padding_mode,
                                         align_corners=align_corners)
    for e, t in zip(e_values, t_values):
        numpy.testing.assert_allclose(e, t, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("mode,padding_mode", [m[:2] for m in MODES[::2]])
@pytest.mark.parametrize("volume", [False, True])
def test_nan_and_infinite_coordinates_as_torch(mode, padding_mode, volume):
    # PyTorch's 2-D kernel is vectorised, its 3-D one scalar: they differ at NaN
    if volume:
        image, grid, _ = _case("float32", (2, 3, 5, 6, 7), (4, 3, 5), seed=1)
        grid[1, 2, 1, :3] = [[0.0, numpy.nan, 0.1], [numpy.nan, numpy.nan, numpy.nan], [numpy.inf, 0.0, -numpy.inf]]
    else:
        image, grid, _ = _case("float32", (3, 4, 9, 11), (5, 7), seed=1)
        grid[1, 2, :3] = [[0.0, numpy.nan], [numpy.nan, numpy.nan], [numpy.inf, 0.0]]
    got, want = (lib.nn.functional.grid_sample(lib.tensor(image), lib.tensor(grid), mode=mode,
                                               padding_mode=padding_mode, align_corners=False).numpy()
                 for lib in (ember, torch))
    numpy.testing.assert_array_equal(numpy.isnan(got), numpy.isnan(want))
    numpy.testing.assert_allclose(got, want, rtol=3e-5, atol=3e-5)


def test_empty_grid_and_non_contiguous_input():
    image, grid, _ = _case("float64", (2, 3, 6, 5), (4, 4), seed=5)
    for lib in (ember, torch):
        assert tuple(lib.nn.functional.grid_sample(lib.tensor(image), lib.tensor(grid[:, :0]),
                                                   align_corners=True).shape) == (2, 3, 0, 4)
    got, want = (lib.nn.functional.grid_sample(lib.tensor(image).transpose(2, 3), lib.tensor(grid[:, ::2]),
                                               align_corners=False).numpy() for lib in (ember, torch))
    numpy.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("wanted", ["both", "input", "grid"])
def test_one_side_and_double_backward_match_torch(wanted):
    image, grid, _ = _case("float64", (3, 4, 9, 11), (5, 7), seed=2)
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


@pytest.mark.parametrize("padding_mode", ["zeros", "border", "reflection"])
def test_bicubic_keeps_the_composed_path(padding_mode):
    image, grid, _ = _case("float64", (3, 4, 9, 11), (5, 7), seed=3)
    image = numpy.ascontiguousarray(image[:, :, ::-1])
    outputs = []
    for lib in (ember, torch):
        y = lib.nn.functional.grid_sample(lib.tensor(image).transpose(2, 3).transpose(2, 3), lib.tensor(grid),
                                          mode="bicubic", padding_mode=padding_mode, align_corners=False)
        outputs.append(y.numpy())
    numpy.testing.assert_allclose(*outputs, rtol=1e-10, atol=1e-10)
