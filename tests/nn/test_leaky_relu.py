"""leaky_relu as one primitive (branch-free forward and gradient) against PyTorch: values, gradients, second
derivatives, in-place forms, slopes outside [0, 1], signed zeros and NaN, node names and errors."""
import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same, check, check_error, gradcheck, sample

SPECIAL = numpy.array([numpy.nan, -0.0, 0.0, 1.0, -1.0, numpy.inf, -numpy.inf, 1e-30, -1e-30], numpy.float32)


@pytest.mark.parametrize("slope", [0.01, 0.2, 0.0, 1.0, 1.5, -0.3])
@pytest.mark.parametrize("dtype", [numpy.float16, numpy.float32, numpy.float64])
def test_matches_torch(slope, dtype):
    check(lambda lib, x: lib.nn.functional.leaky_relu(x, slope), sample((3, 5, 7), dtype, seed=1))
    check(lambda lib, x: lib.nn.functional.leaky_relu(x, slope), SPECIAL.astype(dtype))


@pytest.mark.parametrize("slope", [0.2, 0.0, 1.5])
def test_inplace_matches_torch(slope):
    def run(lib, x):
        y = x * 1
        out = lib.nn.functional.leaky_relu(y, slope, inplace=True)
        assert out is y
        return y
    check(run, sample((4, 6), numpy.float32, seed=2))
    check(run, SPECIAL)


def test_inplace_on_a_view_matches_torch():
    def run(lib, x):
        y = x * 1
        lib.nn.functional.leaky_relu(y[:, 1:], 0.1, inplace=True)
        return y
    check(run, sample((4, 6), numpy.float32, seed=3))


def test_large_and_noncontiguous_inputs_match_torch():
    x = sample((64, 33, 40), numpy.float32, seed=4)
    check(lambda lib, x: lib.nn.functional.leaky_relu(x.transpose(0, 2), 0.2), x)


@pytest.mark.parametrize("slope", [0.2, 1.5, -0.3])
def test_second_derivatives(slope):
    gradcheck(lambda lib, x: lib.nn.functional.leaky_relu(x, slope) ** 2, sample((3, 4), numpy.float64, seed=5))


def test_module_and_node_names():
    for lib in (ember, torch):
        x = lib.tensor([1.0, -2.0], requires_grad=True)
        assert type(lib.nn.LeakyReLU(0.2)(x).grad_fn).__name__ == "LeakyReluBackward0"
        assert type(lib.nn.LeakyReLU(0.2, inplace=True)(x * 1).grad_fn).__name__ == "LeakyReluBackward1"


def test_inplace_negative_slope_backward_raises_as_torch():
    def run(lib, x):
        y = lib.nn.functional.leaky_relu(x * 1, -0.1, inplace=True)
        y.sum().backward()
    check_error(run, sample((3,), numpy.float32, seed=6))


def test_integer_input_raises_as_torch():
    check_error(lambda lib, x: lib.nn.functional.leaky_relu(x, 0.2), numpy.array([1, -2, 3]))


def test_inplace_without_grad_writes_input():
    x = sample((5, 5), numpy.float32, seed=7)
    e, t = ember.tensor(x), torch.tensor(x)
    ember.nn.functional.leaky_relu(e, 0.3, inplace=True)
    torch.nn.functional.leaky_relu(t, 0.3, inplace=True)
    assert_same(e, t)
