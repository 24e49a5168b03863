"""Activations against PyTorch: leaky_relu as one primitive (branch-free forward and gradient: values, gradients,
second derivatives, in-place forms, slopes outside [0, 1], signed zeros and NaN, node names and errors), and
softplus of 16-bit inputs computed in float32."""
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


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("beta,threshold", [(1, 20), (2, 5), (0.5, 20)])
def test_softplus_of_16_bit_inputs_is_computed_in_float32(dtype, beta, threshold):
    x = numpy.array([-20, -5, 0, 5, 10, 11.5, 12, 15, 19, 20, 21, 30, 1000], numpy.float32)

    def run(lib):
        t = lib.tensor(x).to(getattr(lib, dtype)).requires_grad_()
        y = lib.nn.functional.softplus(t, beta, threshold)
        y.backward(lib.ones_like(y))
        return y.detach().float().numpy(), t.grad.float().numpy(), str(y.dtype).split(".")[-1]
    got, want = run(ember), run(torch)
    assert got[2] == want[2]
    numpy.testing.assert_array_equal(got[0], want[0])
    numpy.testing.assert_allclose(got[1], want[1], rtol=1e-2, atol=1e-3)


@pytest.mark.parametrize("shape", [(5, 7), (2, 64, 48, 48), (0, 3)])
@pytest.mark.parametrize("dtype", [numpy.float16, numpy.float32, numpy.float64])
def test_relu_inplace_without_grad_writes_the_input_as_torch(shape, dtype):
    """relu_ with nothing recorded clamps in the tensor's own memory (small arrays, ones cut in parts on the
    intra-op threads, empty ones), with PyTorch's values (-0.0 and NaN kept), version bump and identity."""
    values = sample(shape, dtype, seed=4)
    if values.size:
        values.reshape(-1)[:SPECIAL.size] = SPECIAL[:values.size].astype(dtype)

    def run(lib, x):
        with lib.no_grad():
            y = x * 1
            version = y._version
            z = y.relu_()
            assert z is y and y._version == version + 1
            view = y.reshape(-1)[::3]   # a strided view writes through to its base
            assert lib.nn.ReLU(inplace=True)(view) is view
        return y
    check(run, values, grad=False)


def test_relu_inplace_records_while_grad_is_on_and_refuses_as_torch():
    """The recorded form is unchanged: relu_ on a non-leaf under autograd has ReluBackward0 and its gradient; on a
    leaf requiring grad it raises PyTorch's error; on an expanded tensor PyTorch's overlap error; under no_grad a
    leaf requiring grad may be written."""
    def run(lib, x):
        y = x * 2
        y.relu_()
        assert type(y.grad_fn).__name__ == "ReluBackward0"
        return y
    check(run, sample((4, 6), numpy.float32, seed=5))
    check_error(lambda lib, x: x.requires_grad_().relu_(), sample((3,), numpy.float32, seed=6))
    check_error(lambda lib, x: x.detach()[None].expand(2, 3).relu_(), sample((3,), numpy.float32, seed=6))

    def leaf(lib, x):
        with lib.no_grad():
            x.relu_()
        return x.detach()
    check(leaf, SPECIAL, grad=True)
