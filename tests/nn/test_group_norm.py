"""group_norm with a weight and bias of the input's dtype runs as layer norm over each group's row and the
channels' affine map: values, every gradient, double backward and PyTorch's node name against torch."""
import numpy
import pytest
import torch

import ember


@pytest.mark.parametrize("shape, groups", [((4, 32, 16, 16), 8), ((3, 6, 7), 3), ((2, 8, 3, 4, 5), 2),
                                           ((2, 4, 1, 1), 4), ((5, 12, 9, 9), 1)])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_group_norm_matches_torch(shape, groups, dtype):
    rng = numpy.random.default_rng(0)
    x = (rng.standard_normal(shape) * 3 + 1).astype(dtype)
    w, b = rng.standard_normal(shape[1]).astype(dtype), rng.standard_normal(shape[1]).astype(dtype)
    g = rng.standard_normal(shape).astype(dtype)
    results = []
    for lib in (ember, torch):
        tensors = [lib.tensor(v, requires_grad=True) for v in (x, w, b)]
        y = lib.nn.functional.group_norm(tensors[0], groups, tensors[1], tensors[2], eps=1e-4)
        first = lib.autograd.grad((y * lib.tensor(g)).sum(), tensors, create_graph=True)
        second = lib.autograd.grad(sum((f * f).sum() for f in first), tensors[:2])
        results.append((y.grad_fn.name(), [y] + list(first) + list(second)))
    (e_name, e_values), (t_name, t_values) = results
    assert e_name == t_name == "NativeGroupNormBackward0"
    tolerance = 2e-4 if dtype == "float32" else 1e-9
    for e, t in zip(e_values, t_values):
        t = t.detach().numpy()
        scale = max(1.0, float(numpy.abs(t).max()))
        numpy.testing.assert_allclose(e.detach().numpy(), t, rtol=tolerance, atol=tolerance * scale)


@pytest.mark.parametrize("shape, groups", [((1, 4, 1, 1), 4), ((1, 4), 4), ((3,), 1), ((2, 6, 3), 4)])
def test_group_norm_errors_match_torch(shape, groups):
    errors = []
    for lib in (ember, torch):
        with pytest.raises((ValueError, RuntimeError)) as caught:
            lib.nn.functional.group_norm(lib.ones(shape), groups)
        errors.append((caught.type, str(caught.value)))
    assert errors[0][0] is errors[1][0]
    assert errors[0][1].split(",")[0] == errors[1][1].split(",")[0]
