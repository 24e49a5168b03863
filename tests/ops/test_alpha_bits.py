"""float32 ops with a scale, in PyTorch's raw bits: ``add``/``sub`` with an alpha, ``addcmul`` and ``lerp`` round once
(ATen computes each lane, and each run's scalar tail, as one fused multiply-add); ``addcdiv`` rounds three times.
Sizes 1..300 cover the tails of every vector width; broadcast and strided operands cover runs shorter than the
tensor."""
import numpy
import pytest
import torch

import ember
from ember.backends.cpu import get_cpu_capability

SIZES = list(range(1, 300, 3)) + [1000, 4099]


def _same_bits(e, t):
    e, t = e.detach().numpy(), t.detach().numpy()
    assert e.dtype == t.dtype and e.shape == t.shape
    differing = numpy.count_nonzero(numpy.ascontiguousarray(e).view(numpy.uint32) !=
                                    numpy.ascontiguousarray(t).view(numpy.uint32))
    assert differing == 0, f"{differing} of {e.size} elements differ"


def _operands(size, count, seed):
    rng = numpy.random.default_rng(seed)
    return [rng.standard_normal(size).astype(numpy.float32) for _ in range(count)]


OPS = {
    "add": lambda lib, a, b, c, s: lib.add(a, b, alpha=s),
    "sub": lambda lib, a, b, c, s: lib.sub(a, b, alpha=s),
    "add_": lambda lib, a, b, c, s: a.clone().add_(b, alpha=s),
    "sub_": lambda lib, a, b, c, s: a.clone().sub_(b, alpha=-s),
    "add_scalar_other": lambda lib, a, b, c, s: lib.add(a, 0.7, alpha=s),
    "addcmul": lambda lib, a, b, c, s: lib.addcmul(a, b, c, value=s),
    "addcmul_": lambda lib, a, b, c, s: a.clone().addcmul_(b, c, value=s),
    "addcdiv": lambda lib, a, b, c, s: lib.addcdiv(a, b, c.abs() + 0.1, value=s),
    "lerp_low": lambda lib, a, b, c, s: lib.lerp(a, b, 0.3),
    "lerp_high": lambda lib, a, b, c, s: lib.lerp(a, b, 0.7),
    "lerp_": lambda lib, a, b, c, s: a.clone().lerp_(b, 0.1),
    "lerp_tensor": lambda lib, a, b, c, s: lib.lerp(a, b, c.abs() % 1),
}


# ops whose second operand is constant along each run: PyTorch's remainder loop then depends on the kernel's build
CONSTANT_OTHER = ("add_scalar_other",)
CONSTANT_LAYOUTS = ("broadcast_column",)


def _skip_unmeasured(op, layout=None):
    constant = op in CONSTANT_OTHER or layout in CONSTANT_LAYOUTS and op.startswith(("add", "sub"))
    if constant and get_cpu_capability() != "AVX512":
        pytest.skip("the remainder loop of PyTorch's AVX2 kernel is unmeasured")


@pytest.mark.parametrize("op", OPS)
def test_contiguous_sizes(op):
    _skip_unmeasured(op)
    for size in SIZES:
        a, b, c = _operands(size, 3, size)
        scale = float(numpy.random.default_rng(size).standard_normal())
        _same_bits(OPS[op](ember, *map(ember.from_numpy, (a, b, c)), scale),
                   OPS[op](torch, *map(torch.from_numpy, (a, b, c)), scale))


LAYOUTS = {   # views of three 37x24 tensors: runs of one row, one element, or every other element
    "broadcast_row": lambda a, b, c: (a, b[:1], c),
    "broadcast_column": lambda a, b, c: (a, b[:, :1], c),
    "strided": lambda a, b, c: (a[:, ::2], b[:, 1::2], c[:, ::2]),
    "transposed": lambda a, b, c: (a.t(), b.t(), c.t()),
}


@pytest.mark.parametrize("op", OPS)
@pytest.mark.parametrize("layout", LAYOUTS)
def test_broadcast_and_strided(op, layout):
    _skip_unmeasured(op, layout)
    arrays = [x.reshape(37, 24) for x in _operands(37 * 24, 3, 1)]
    _same_bits(OPS[op](ember, *LAYOUTS[layout](*map(ember.tensor, arrays)), -0.37),
               OPS[op](torch, *LAYOUTS[layout](*map(torch.tensor, arrays)), -0.37))
