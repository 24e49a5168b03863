"""float16 and bfloat16 activations give PyTorch's CPU bits, forward and backward: its kernels take a scalar
parameter in float32 and round the result once (leaky_relu's slope * x; NumPy's 16-bit product rounded the slope to
16 bits first)."""
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
}


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("name", ACTIVATIONS)
def test_forward_and_gradient_bits(name, dtype):
    rng = numpy.random.default_rng(0)
    values, gradient = rng.standard_normal(5000) * 3, rng.standard_normal(5000)

    def run(L):
        x = L.tensor(values, dtype=getattr(L, dtype), requires_grad=True)
        y = ACTIVATIONS[name](L, x)
        y.backward(L.tensor(gradient, dtype=getattr(L, dtype)))
        return [y, x.grad]
    for a, b in zip(outcome(ember, run), outcome(torch, run)):
        numpy.testing.assert_array_equal(a, b)
