"""float16 and bfloat16 activations give PyTorch's CPU bits, forward and backward: its kernels take a scalar
parameter in float32 and round the result once (leaky_relu's slope * x; NumPy's 16-bit product rounded the slope to
16 bits first). Functions of an exponential (elu, celu, selu) compute in float32 and round once too; PyTorch's
float32 expm1/exp (Sleef) differ from NumPy's in the last float32 bit, which flips a rare 16-bit rounding."""
import numpy
import pytest
import torch

import ember
from tests.oracle import outcome

ACTIVATIONS = {
    "leaky_relu 0.01": lambda L, x: L.nn.functional.leaky_relu(x),
    "leaky_relu 0.3333": lambda L, x: L.nn.functional.leaky_relu(x, 0.3333),
    "leaky_relu 1.7": lambda L, x: L.nn.functional.leaky_relu(x, 1.7),
    "LeakyReLU in place": lambda L, x: L.nn.LeakyReLU(0.2, inplace=True)(x * 1),
    "glu": lambda L, x: L.nn.functional.glu(x.reshape(50, 100)).flatten().repeat(2),
}


def _value_and_gradient(activation, dtype, seed):
    """(ember's, PyTorch's) value and input gradient of ``activation`` on 5,000 normal values, as float32 arrays."""
    rng = numpy.random.default_rng(seed)
    values, gradient = rng.standard_normal(5000) * 3, rng.standard_normal(5000)

    def run(L):
        x = L.tensor(values, dtype=getattr(L, dtype), requires_grad=True)
        y = activation(L, x)
        y.backward(L.tensor(gradient, dtype=getattr(L, dtype)))
        return [y, x.grad]
    return zip(outcome(ember, run), outcome(torch, run))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_and_gradient_bits(name, dtype):
    for a, b in _value_and_gradient(ACTIVATIONS[name], dtype, 0):
        numpy.testing.assert_array_equal(a, b)


EXPONENTIALS = {   # (and softshrink, whose gradient PyTorch masks against lambd in 16 bits: a rare boundary differs)
    "softshrink": lambda L, x: L.nn.functional.softshrink(x, 0.3),
    "elu": lambda L, x: L.nn.functional.elu(x, 0.7),
    "celu": lambda L, x: L.nn.functional.celu(x, 0.7),
    "selu": lambda L, x: L.nn.functional.selu(x),
}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", EXPONENTIALS)
def test_exponential_activations_round_once(name, dtype):
    for a, b in _value_and_gradient(EXPONENTIALS[name], dtype, 1):
        assert (a != b).sum() <= 5   # rounded in 16-bit steps, about 500 of them differed
        numpy.testing.assert_allclose(a, b, rtol=2 ** -7)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_softmax_gradient_rounds_once(dtype):
    """softmax's backward in float32 from the 16-bit output and gradient, rounded once (PyTorch's
    softmax_backward); it was four 16-bit ops (~30 % of the elements off). The forward was float32 already."""
    rng = numpy.random.default_rng(2)
    values, gradient = rng.standard_normal((50, 100)) * 3, rng.standard_normal((50, 100))

    def run(L):
        x = L.tensor(values, dtype=getattr(L, dtype), requires_grad=True)
        y = L.softmax(x, 1)
        y.backward(L.tensor(gradient, dtype=getattr(L, dtype)))
        return [y, x.grad]
    for a, b in zip(outcome(ember, run), outcome(torch, run)):
        assert (a != b).sum() <= 5   # float32 exp/sum rounding flips a rare element
        numpy.testing.assert_allclose(a, b, rtol=2 ** -7, atol=1e-6)


SOFTPLUS_FAMILY = {   # (name, dtype): most elements allowed off (Sleef's float32 exp/log1p/tanh against NumPy's)
    ("logsigmoid", "float16"): 3, ("logsigmoid", "bfloat16"): 3, ("mish", "float16"): 8, ("mish", "bfloat16"): 4,
    ("gelu", "float16"): 3,
}


@pytest.mark.parametrize("name, dtype", SOFTPLUS_FAMILY)
def test_softplus_family_rounds_as_pytorch(name, dtype):
    """logsigmoid's gradient reads PyTorch's buffer exp(-|x|) rounded to 16 bits (about 13 % of gradients were
    off); mish computes in float32 and rounds once (its 16-bit steps put 25 % off); float16 GELU takes PyTorch's
    polynomial erf, whose error shows below x ~ -3 (6 % were off)."""
    for a, b in _value_and_gradient(lambda L, x: getattr(L.nn.functional, name)(x), dtype, 2):
        assert (a != b).sum() <= SOFTPLUS_FAMILY[name, dtype]
        numpy.testing.assert_allclose(a, b, rtol=2 ** -7, atol=1e-6)


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_logsigmoid_gradients_as_pytorch(dtype):
    """PyTorch's formulas: the gradient (m - s z / (1 + z)) grad, its own gradient grad * g * (z - 1) z with
    z = sigmoid(x) (at 0 it is -1/4: a gradient through |x| there gave 0)."""
    values = [-100.0, -3.0, -0.5, -0.0, 0.0, 0.25, 2.0, 100.0, float("nan")]

    def run(L):
        x = L.tensor(values, dtype=getattr(L, dtype), requires_grad=True)
        y = L.nn.functional.logsigmoid(x)
        g, = L.autograd.grad(y.sum(), x, create_graph=True)
        gg, = L.autograd.grad((g * L.arange(9.0, dtype=x.dtype)).sum(), x)
        return [y, g, gg]
    for a, b in zip(outcome(ember, run), outcome(torch, run)):
        numpy.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-40)


def test_logsigmoid_node_names():
    x = ember.tensor([0.5, -1.0], requires_grad=True)
    y = ember.nn.functional.logsigmoid(x)
    g, = ember.autograd.grad(y.sum(), x, create_graph=True)
    assert (y.grad_fn.name(), g.grad_fn.name()) == ("LogSigmoidBackward0", "LogSigmoidBackwardBackward0")


@pytest.mark.parametrize("inplace", [False, True])
@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_hardtanh_gradient_takes_float_limits(dtype, inplace):
    """PyTorch's hardtanh_backward compares 16-bit values with the limits as floats: bfloat16 -0.69921875 lies
    inside -0.7 (the forward clamps to the limit rounded to 16 bits, -0.69921875 itself); ember compared in 16 bits.
    In place the test reads the input before the write, as PyTorch's kept copy of it."""
    values = [-0.7, -0.69921875, 0.69921875, 0.7, 0.703125, -0.703125, 0.5, -1.0, 0.25]

    def run(L):
        x = L.tensor(values * 3, dtype=getattr(L, dtype), requires_grad=True)
        y = L.nn.functional.hardtanh(x * 1, -0.7, 0.7, inplace=inplace)
        y.backward(L.ones_like(y))
        return [y, x.grad]
    for a, b in zip(outcome(ember, run), outcome(torch, run)):
        numpy.testing.assert_array_equal(a, b)
