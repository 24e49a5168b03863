"""Special functions at their edges, as a second differential sweep against PyTorch 2.13 found them: the Hurwitz zeta
(and polygamma of order 2 and up) of an infinite q no longer loops forever, and polygamma(1, x) is PyTorch's trigamma
kernel in the input's precision (its nan at -inf, 0 at +inf and finite values at the poles), the incomplete gamma
functions' special cases in PyTorch's precedence, entr in its input's dtype; each case run on both libraries and
compared."""
import math

import pytest
import torch

import ember

VALUES = [-math.inf, math.inf, math.nan, -2.5, -40.0, 0.0, 1e-30, 3.0, 0.49, 0.5, 1e10, -1e10 + 0.5, 7.25]


def values(lib, fn):
    return fn(lib).tolist()


@pytest.mark.parametrize("dtype", ["float32", "float64", "float16", "bfloat16"])
@pytest.mark.parametrize("n", [1, 2, 3])
def test_polygamma_edges(dtype, n):
    data = VALUES if n == 1 else VALUES[:-3]   # (the higher orders' sums of 1e10 terms: slow in both)
    fn = lambda L: L.special.polygamma(n, L.tensor(data, dtype=getattr(L, dtype)))   # noqa: E731
    expected, got = values(torch, fn), values(ember, fn)
    if n == 1:
        assert got == pytest.approx(expected, nan_ok=True, rel=0, abs=0)   # the kernel's own arithmetic: bit for bit
    else:
        assert got == pytest.approx(expected, nan_ok=True, rel=1e-5 if dtype in ("float32", "float64") else 1e-2)


@pytest.mark.parametrize("s", [2.0, 2.5, 1.0, 0.5])
def test_zeta_of_infinite_q(s):
    fn = lambda L: L.special.zeta(L.full((4,), s, dtype=L.float64),   # noqa: E731
                                  L.tensor([-math.inf, math.inf, math.nan, 3.0], dtype=L.float64))
    assert values(ember, fn) == pytest.approx(values(torch, fn), nan_ok=True, rel=1e-12)


def test_digamma_gradient_is_trigamma():
    grads = []
    for lib in (ember, torch):
        x = lib.tensor([0.25, 3.0, -2.5, 10.0], requires_grad=True)
        lib.digamma(x).sum().backward()
        grads.append(x.grad.tolist())
    assert grads[0] == pytest.approx(grads[1], rel=1e-6)


EDGES = [0.0, -0.0, 1.0, -1.0, 0.5, -2.5, 3.0, math.inf, -math.inf, math.nan, 40.0]


@pytest.mark.parametrize("name", ["gammainc", "gammaincc"])
@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_incomplete_gamma_edges(name, dtype):
    pairs = [(a, x) for a in EDGES for x in EDGES]

    def fn(L):
        a = L.tensor([p[0] for p in pairs], dtype=getattr(L, dtype))
        return getattr(L.special, name)(a, L.tensor([p[1] for p in pairs], dtype=getattr(L, dtype)))
    assert values(ember, fn) == pytest.approx(values(torch, fn), nan_ok=True, rel=1e-5, abs=1e-12)


@pytest.mark.parametrize("dtype", ["float16", "bfloat16", "float32", "float64"])
def test_entr_keeps_the_dtype(dtype):
    fn = lambda L: L.special.entr(L.tensor([0.5, 0.0, -1.0, math.nan], dtype=getattr(L, dtype)))   # noqa: E731
    assert str(fn(ember).dtype).split(".")[1] == str(fn(torch).dtype).split(".")[1]
    assert values(ember, fn) == pytest.approx(values(torch, fn), nan_ok=True, rel=1e-3)
