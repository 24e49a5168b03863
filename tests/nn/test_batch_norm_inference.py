"""Batch norm by running statistics when nothing is tracked (no_grad, or no input requiring grad): the array-level
affine pass against PyTorch and against the tracked path, over dtypes, layouts and edge shapes, and PyTorch's
errors for per-channel tensors of the wrong size."""
import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, check_error, noncontiguous, sample

F32, F64 = numpy.float32, numpy.float64
SHAPES = [(6, 4), (3, 4, 5), (2, 4, 3, 5), (2, 4, 2, 3, 2), (1, 4, 2, 2), (0, 4, 3), (5, 4, 1, 1)]


def _statistics(dtype, c=4):
    return sample((c,), dtype, seed=11), numpy.abs(sample((c,), dtype, seed=12)) + 0.1


def _run(lib, x, mean, var, w, b, grad):
    tensors = [None if a is None else lib.tensor(a) for a in (x, mean, var, w, b)]
    if grad:
        tensors[0].requires_grad_(True)
        return lib.nn.functional.batch_norm(*tensors, training=False, eps=1e-4).detach()
    with lib.no_grad():
        return lib.nn.functional.batch_norm(*tensors, training=False, eps=1e-4)


@pytest.mark.parametrize("dtype", [F32, F64], ids=["float32", "float64"])
@pytest.mark.parametrize("affine", ["both", "weight", "bias", "none"])
@pytest.mark.parametrize("shape", SHAPES, ids=str)
def test_untracked_batch_norm_matches_torch_and_the_tracked_path(shape, affine, dtype):
    mean, var = _statistics(dtype)
    w = sample((4,), dtype, seed=13) if affine in ("both", "weight") else None
    b = sample((4,), dtype, seed=14) if affine in ("both", "bias") else None
    tolerance = 1e-6 if dtype is F32 else 1e-13
    for x in (sample(shape, dtype, seed=15), noncontiguous(sample(shape, dtype, seed=16))):
        fast = _run(ember, x, mean, var, w, b, grad=False)
        assert_same(fast, _run(torch, x, mean, var, w, b, grad=False), rtol=tolerance, atol=tolerance)
        tracked = _run(ember, x, mean, var, w, b, grad=True)
        assert fast.dtype == tracked.dtype
        numpy.testing.assert_allclose(fast.numpy(), tracked.numpy(), rtol=tolerance, atol=tolerance)


@pytest.mark.parametrize("dtype", [numpy.float16, "bfloat16"])
def test_untracked_batch_norm_of_16_bit_inputs_matches_torch(dtype):
    x = sample((3, 4, 5), F32, seed=17)
    mean, var = _statistics(F32)
    results = []
    for lib in (ember, torch):
        kind = getattr(lib, dtype) if isinstance(dtype, str) else lib.float16
        with lib.no_grad():
            results.append(lib.nn.functional.batch_norm(lib.tensor(x).to(kind), lib.tensor(mean).to(kind),
                                                        lib.tensor(var).to(kind), training=False))
    assert_same(*results, rtol=1e-2, atol=1e-2)


@pytest.mark.parametrize("module, shape", [("BatchNorm1d", (5, 3)), ("BatchNorm1d", (5, 3, 7)),
                                           ("BatchNorm2d", (4, 3, 5, 6)), ("BatchNorm3d", (2, 3, 2, 3, 4))])
def test_eval_modules_under_no_grad_match_torch(module, shape):
    x = sample(shape, F32, seed=18)
    results = []
    for lib in (ember, torch):
        lib.manual_seed(0)
        layer = getattr(lib.nn, module)(3)
        with lib.no_grad():
            layer.weight.copy_(lib.tensor([0.5, -1.0, 2.0]))
            layer.bias.copy_(lib.tensor([0.1, 0.2, -0.3]))
        for i in range(3):   # running statistics from a few training batches
            layer(lib.tensor(x) * (i + 1))
        layer.eval()
        with lib.no_grad():
            results.append(layer(lib.tensor(x)))
    assert_same(*results, rtol=1e-5, atol=1e-5)


@pytest.mark.parametrize("training", [False, True])
@pytest.mark.parametrize("wrong", ["running_mean", "running_var", "weight", "bias"])
def test_per_channel_tensors_of_the_wrong_size_raise_as_torch(wrong, training):
    def run(lib, x):
        sizes = {name: 3 if name == wrong else 4 for name in ("running_mean", "running_var", "weight", "bias")}
        return lib.nn.functional.batch_norm(x, lib.zeros(sizes["running_mean"]), lib.ones(sizes["running_var"]),
                                            lib.ones(sizes["weight"]), lib.zeros(sizes["bias"]), training=training)
    check_error(run, sample((2, 4, 3), F32), match=f"{wrong} should contain 4 elements not 3")
