"""jit.script on functions that call Python's builtin ``abs`` on a tensor, which TorchScript compiles as torch.abs
(pytorch-tabular's Entmoid15 scripts such a function at import), against torch.jit.script on the same inputs."""
import warnings

import numpy
import pytest

import ember

torch = pytest.importorskip("torch")


def _entmoid(lib):
    F = lib.nn.functional

    def entmoid(input):
        input, is_pos = abs(input), input >= 0
        tau = (input + lib.sqrt(F.relu(8 - input ** 2))) / 2
        tau.masked_fill_(tau <= input, 2.0)
        y_neg = 0.25 * F.relu(tau - input, inplace=True) ** 2
        return lib.where(is_pos, 1 - y_neg, y_neg)
    return entmoid


def test_builtin_abs_on_a_tensor_scripts_as_torch_abs():
    x = numpy.linspace(-4, 4, 17, dtype=numpy.float32)
    ours = ember.jit.script(_entmoid(ember))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")   # torch 2.13 deprecates torch.jit.script
        theirs = torch.jit.script(_entmoid(torch))
    assert "abs" in str(ours.graph)
    numpy.testing.assert_allclose(ours(ember.from_numpy(x)).numpy(), theirs(torch.from_numpy(x)).numpy(), rtol=1e-6)
    numpy.testing.assert_array_equal(ours(ember.from_numpy(x)).numpy(), _entmoid(ember)(ember.from_numpy(x)).numpy())
