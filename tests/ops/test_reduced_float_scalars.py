"""16-bit float tensors (float16, bfloat16) times or over a Python number, bit for bit against PyTorch: its CPU
kernels compute such a product or quotient in float32 with the number in float32 and round once (NumPy and ml_dtypes
round the number to 16 bits first); a sum or difference takes the number rounded to the tensor's dtype."""
import numpy
import pytest
import torch

import ember

NUMBERS = [0.35355339, 2.828, 1e-3, 3, -0.125, 1e-8]
OPS = {"mul": lambda x, s: x * s, "rmul": lambda x, s: s * x, "div": lambda x, s: x / s,
       "rdiv": lambda x, s: s / x, "add": lambda x, s: x + s, "sub": lambda x, s: x - s, "rsub": lambda x, s: s - x,
       "mul_": lambda x, s: x.clone().mul_(s), "div_": lambda x, s: x.clone().div_(s),
       "torch.mul": None}


def _bits(t):
    return t.view(ember.int16 if isinstance(t, ember.Tensor) else torch.int16).tolist()


def _pair(dtype):
    values = numpy.random.default_rng(0).standard_normal(4096).astype(numpy.float32)
    return ember.tensor(values).to(getattr(ember, dtype)), torch.tensor(values).to(getattr(torch, dtype))


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
@pytest.mark.parametrize("op", sorted(OPS))
def test_scalar_operand_rounds_as_torch(dtype, op):
    e, t = _pair(dtype)
    for number in NUMBERS:
        if op == "torch.mul":
            got, expected = ember.mul(e, number), torch.mul(t, number)
        else:
            got, expected = OPS[op](e, number), OPS[op](t, number)
        assert str(got.dtype).split(".")[1] == dtype
        assert _bits(got) == _bits(expected), (op, number)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16"])
def test_scalar_product_and_quotient_gradients_as_torch(dtype):
    e, t = _pair(dtype)
    grad = numpy.random.default_rng(1).standard_normal(4096).astype(numpy.float32)
    results = []
    for lib, x in ((ember, e), (torch, t)):
        x = x.detach().requires_grad_()
        ((x * 0.35355339) + (x / 2.828)).backward(lib.tensor(grad).to(x.dtype))
        results.append(x.grad)
    assert _bits(results[0]) == _bits(results[1])
