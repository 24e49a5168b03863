"""Pooling differences found by the nn sweep, each compared with PyTorch in the test: argument errors of max and
average pooling in PyTorch's order (kernel, stride, dilation, padding, empty dims, divisor), max_unpool writing (not
summing) repeated indices and checking output_size, adaptive pooling of empty and negative sizes, MaxUnpool's repr."""
import numpy
import pytest
import torch

import ember
from tests.oracle import same_outcome


def same(fn):
    """``fn`` on ember and torch: the same error, or the same arrays within this file's tolerance."""
    same_outcome(fn)


def x(lib, shape):
    return lib.tensor(numpy.random.default_rng(0).uniform(-2, 2, shape))


POOL_ERRORS = {
    "k0": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, 0),
    "k0s1": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, 0, 1),
    "kneg": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, -1, 1),
    "s0": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, 2, 0),
    "sneg": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, 2, -1),
    "d0": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, 2, dilation=0),
    "pneg": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, 2, padding=-1),
    "pad-dilated": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, 3, padding=2, dilation=2),
    "indices-pneg": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, 2, padding=-1, return_indices=True),
    "indices-d0": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, 2, dilation=0, return_indices=True),
    "indices-k0": lambda F, n, t: getattr(F, f"max_pool{n}d")(t, 0, 1, return_indices=True),
    "avg-k0": lambda F, n, t: getattr(F, f"avg_pool{n}d")(t, 0, 1),
    "avg-s0": lambda F, n, t: getattr(F, f"avg_pool{n}d")(t, 2, 0),
    "avg-pneg": lambda F, n, t: getattr(F, f"avg_pool{n}d")(t, 2, 1, -1),
    "avg-divisor0": lambda F, n, t: getattr(F, f"avg_pool{n}d")(t, 2, divisor_override=0) if n > 1 else None,
    "empty-channels": lambda F, n, t: getattr(F, f"max_pool{n}d")(t[:, :0], 2),
    "empty-channels-indices": lambda F, n, t: getattr(F, f"max_pool{n}d")(t[:, :0], 2, return_indices=True),
    "avg-empty-channels": lambda F, n, t: getattr(F, f"avg_pool{n}d")(t[:, :0], 2),
    "empty-spatial": lambda F, n, t: getattr(F, f"max_pool{n}d")(t[..., :0], 1),
}


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("case", sorted(POOL_ERRORS))
def test_pool_argument_errors_match_torch(n, case):
    same(lambda lib: POOL_ERRORS[case](lib.nn.functional, n, x(lib, (2, 3) + (6,) * n)))


def test_max_pool1d_with_gradient_checks_both_ways_as_torch():
    same(lambda lib: lib.nn.functional.max_pool1d(x(lib, (2, 0, 6)).requires_grad_(), 2))
    same(lambda lib: lib.nn.functional.max_pool1d(x(lib, (2, 3, 6)).requires_grad_(), 2, padding=-1))


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("geometry", [(2, 1, 0), (3, 2, 1), (2, 2, 0)])
def test_max_unpool_writes_repeated_indices_as_torch(n, geometry):
    """Overlapping windows pick one element twice: max_unpool writes it once (ember summed the copies)."""
    k, s, p = geometry

    def run(lib):
        F = lib.nn.functional
        values, indices = getattr(F, f"max_pool{n}d")(x(lib, (2, 3) + (7,) * n), k, s, p, return_indices=True)
        values = values.detach().requires_grad_()
        out = getattr(F, f"max_unpool{n}d")(values, indices, k, s, p)
        (out * x(lib, tuple(out.shape))).sum().backward()
        return out, values.grad
    same(run)


@pytest.mark.parametrize("n", [1, 2, 3])
@pytest.mark.parametrize("size", ["full", "spatial", "short", "small", "large", "unbatched-full"])
def test_max_unpool_output_size_as_torch(n, size):
    def run(lib):
        F = lib.nn.functional
        shape = (3,) + (7,) * n if size == "unbatched-full" else (2, 3) + (7,) * n
        values, indices = getattr(F, f"max_pool{n}d")(x(lib, shape), 2, return_indices=True)
        given = {"full": list(shape), "unbatched-full": list(shape), "spatial": [7] * n, "short": [7] * (n - 1),
                 "small": [1] * n, "large": [9] * n}[size]
        return getattr(F, f"max_unpool{n}d")(values, indices, 2, output_size=given)
    same(run)


@pytest.mark.parametrize("n", [1, 2, 3])
def test_adaptive_max_pool_of_empty_input_as_torch(n):
    same(lambda lib: getattr(lib.nn.functional, f"adaptive_max_pool{n}d")(x(lib, (0,) + (7,) * n), 2,
                                                                          return_indices=True))
    same(lambda lib: getattr(lib.nn.functional, f"adaptive_max_pool{n}d")(x(lib, (0, 3) + (7,) * n), 2))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_adaptive_pool_size_errors_as_torch(n):
    same(lambda lib: getattr(lib.nn.functional, f"adaptive_avg_pool{n}d")(x(lib, (2, 3) + (7,) * n), -1))
    same(lambda lib: getattr(lib.nn.functional, f"adaptive_avg_pool{n}d")(x(lib, (3,) + (7,) * n), (2,) * (n + 1)))
    same(lambda lib: getattr(lib.nn.functional, f"adaptive_max_pool{n}d")(x(lib, (3,) + (7,) * n), (2,) * (n + 1)))


@pytest.mark.parametrize("n", [1, 2, 3])
def test_max_unpool_module_keeps_tuples_as_torch(n):
    assert repr(getattr(ember.nn, f"MaxUnpool{n}d")(3)) == repr(getattr(torch.nn, f"MaxUnpool{n}d")(3))
    assert repr(getattr(ember.nn, f"MaxUnpool{n}d")(2, 1, 1)) == repr(getattr(torch.nn, f"MaxUnpool{n}d")(2, 1, 1))
