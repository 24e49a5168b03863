"""Batch norm's running statistics written as arrays in training (``normalization._update_running``): the same bits
as the tensor ops' update it replaces, PyTorch's values and versions, and the cases that keep the tensor ops."""
import numpy
import pytest
import torch

import ember
from ember.ops import normalization
from tests.oracle import check, sample


def _tensor_ops_update(running_mean, running_var, mean, var, momentum, count):
    """The update as the tensor ops wrote it before (the reference for the array form's bits)."""
    with ember.no_grad():
        running_mean.mul_(1 - momentum).add_(mean * momentum)
        running_var.mul_(1 - momentum).add_(var * (momentum * count / (count - 1)))


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("momentum", [0.1, 0.37, 1.0, 0, 1], ids=str)
def test_array_update_has_the_tensor_ops_bits(dtype, momentum):
    stats = [ember.tensor(sample((7,), dtype, seed=s)) for s in range(4)]
    fast = [s.clone() for s in stats[:2]]
    slow = [s.clone() for s in stats[:2]]
    normalization._update_running(*fast, *stats[2:], momentum, 13)
    _tensor_ops_update(*slow, *stats[2:], momentum, 13)
    for a, b in zip(fast, slow):
        assert a.dtype == b.dtype and numpy.array_equal(a.numpy(), b.numpy())


@pytest.mark.parametrize("dtype", [numpy.float32, numpy.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("shape", [(2, 3), (1, 3, 5), (4, 3, 5, 7), (2, 3, 1, 2, 3)], ids=str)
def test_training_updates_running_statistics_as_torch(dtype, shape):
    name = {2: "BatchNorm1d", 3: "BatchNorm1d", 4: "BatchNorm2d", 5: "BatchNorm3d"}[len(shape)]

    def run(lib, x):
        bn = getattr(lib.nn, name)(3, momentum=0.3).to(getattr(lib, numpy.dtype(dtype).name))
        buffers = (bn.running_mean, bn.running_var, bn.num_batches_tracked)
        start, versions = [b._version for b in buffers], []
        for step in range(3):   # the versions' steps (PyTorch's constructor bumps them once more)
            y = bn(x * (step + 1))
            versions.append([b._version - v for b, v in zip(buffers, start)])
        return y, bn.running_mean, bn.running_var, bn.num_batches_tracked, versions
    check(run, sample(shape, dtype, seed=5))


def test_cumulative_average_and_functional_form_as_torch():
    def run(lib, x):
        bn = lib.nn.BatchNorm2d(3, momentum=None)
        for step in range(3):
            bn(x + step)
        mean, var = lib.zeros(3), lib.ones(3)
        lib.nn.functional.batch_norm(x, mean, var, training=True, momentum=0.25)
        return bn.running_mean, bn.running_var, mean, var
    check(run, sample((4, 3, 2, 2), seed=6), grad=False)


def test_buffers_the_array_form_cannot_write_take_the_tensor_ops():
    x = ember.tensor(sample((4, 3, 2, 2), seed=7))
    # a view of a larger tensor: written through to its base
    base_mean, base_var = ember.zeros(6), ember.ones(6)
    mean, var = base_mean[::2], base_var[::2]
    ember.nn.functional.batch_norm(x, mean, var, training=True)
    expected = torch.zeros(3), torch.ones(3)
    torch.nn.functional.batch_norm(torch.tensor(x.numpy()), *expected, training=True)
    numpy.testing.assert_allclose(base_mean.numpy()[::2], expected[0].numpy(), rtol=1e-6)
    numpy.testing.assert_allclose(base_var.numpy()[::2], expected[1].numpy(), rtol=1e-6)
    assert not base_mean.numpy()[1::2].any()
    # float64 statistics for a float32 input (refused as PyTorch refuses them) and half buffers of a half input
    for lib in (torch, ember):
        with pytest.raises(RuntimeError):
            lib.nn.functional.batch_norm(lib.ones(4, 3), lib.zeros(3, dtype=lib.float64), lib.ones(3, dtype=lib.float64),
                                         training=True)

    def half(lib, x):
        mean, var = lib.zeros(3, dtype=lib.float16), lib.ones(3, dtype=lib.float16)
        lib.nn.functional.batch_norm(x, mean, var, training=True, momentum=0.5)
        return mean, var
    check(half, sample((4, 3), numpy.float16, seed=8), grad=False)


def test_inference_tensor_buffers_are_updated_outside_inference_mode_as_torch():
    def run(lib, x):   # PyTorch's kernel writes them without the in-place check of a tensor op
        with lib.inference_mode():
            mean, var = lib.zeros(3), lib.ones(3)
        lib.nn.functional.batch_norm(x, mean, var, training=True)
        return mean, var
    check(run, sample((4, 3), seed=9), grad=False)
