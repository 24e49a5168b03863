"""vmap of ops whose results come from the data (counts, NaN-aware means, modes, medians, one_hot) and of the
logical and bitwise ops, against torch.func.vmap: each runs by a batching rule, never per example."""
import numpy
import pytest
import torch
import torch.func

import ember
from ember.func import _vmap, grad, vmap

rng = numpy.random.default_rng(5)
X = rng.standard_normal((4, 3, 5)).astype(numpy.float32)
X[0, 1, 2] = X[2, 0, 0] = numpy.nan
ROUNDED = rng.integers(0, 3, (4, 3, 5)).astype(numpy.float32)
CLASSES = rng.integers(0, 6, (4, 3))

CASES = [
    ("count_nonzero", X, lambda L, t: L.count_nonzero(t > 0, 1)),
    ("count_nonzero all", X, lambda L, t: L.count_nonzero(t)),
    ("nanmean", X, lambda L, t: L.nanmean(t, 1, keepdim=True)),
    ("nanmean all", X, lambda L, t: L.nanmean(t)),
    ("mode", ROUNDED, lambda L, t: tuple(L.mode(t, 1))),
    ("mode default dim", ROUNDED, lambda L, t: L.mode(t).indices),
    ("median all", X, lambda L, t: L.median(t)),
    ("nanmedian all", X, lambda L, t: L.nanmedian(t)),
    ("nanmedian dim", X, lambda L, t: tuple(L.nanmedian(t, 0))),
    ("one_hot", CLASSES, lambda L, t: L.nn.functional.one_hot(t, 6)),
    ("logical", X, lambda L, t: L.logical_and(t > 0, t < 1) | L.logical_not(t > 2) ^ L.logical_or(t < -1, t > 3)),
    ("value tests", X, lambda L, t: (t.isnan() | t.isinf() | L.isposinf(t) | L.isneginf(t) | ~t.isfinite()
                                     | L.signbit(t) | L.isreal(t))),
    ("bitwise", CLASSES, lambda L, t: (t & 3) | (t ^ 5) + (~t) + (t << 1) + L.bitwise_right_shift(t, 1)),
]


@pytest.mark.parametrize("name, array, fn", CASES, ids=[c[0] for c in CASES])
def test_vmap_matches_torch_by_batching_rules(name, array, fn):
    calls = dict(_vmap.fallback_calls)
    ours = vmap(lambda t: fn(ember, t))(ember.tensor(array))
    theirs = torch.func.vmap(lambda t: fn(torch, t))(torch.tensor(array))
    for a, b in zip(ours if isinstance(ours, tuple) else (ours,), theirs if isinstance(theirs, tuple) else (theirs,)):
        assert str(a.dtype)[6:] == str(b.dtype)[6:] and tuple(a.shape) == tuple(b.shape)
        numpy.testing.assert_allclose(a.numpy(), b.numpy(), rtol=1e-6, atol=1e-6)
    assert _vmap.fallback_calls == calls


@pytest.mark.parametrize("op", ["median", "nanmedian"])
def test_per_example_gradients_of_medians(op):
    ours = vmap(grad(lambda t: getattr(ember, op)(t)))(ember.tensor(X))
    theirs = torch.func.vmap(torch.func.grad(lambda t: getattr(torch, op)(t)))(torch.tensor(X))
    numpy.testing.assert_array_equal(ours.numpy(), theirs.numpy())


def test_one_hot_without_num_classes_is_refused_as_in_torch():
    classes = numpy.array([[0, 2], [1, 2]])
    with pytest.raises(RuntimeError, match="provide an explicit positive num_classes") as ours:
        vmap(lambda t: ember.nn.functional.one_hot(t))(ember.tensor(classes))
    with pytest.raises(RuntimeError) as theirs:
        torch.func.vmap(lambda t: torch.nn.functional.one_hot(t))(torch.tensor(classes))
    assert str(ours.value) == str(theirs.value)


@pytest.mark.parametrize("fn", [lambda L, t: t.nonzero(), lambda L, t: L.unique(t)], ids=["nonzero", "unique"])
def test_ops_with_data_sized_results_are_refused_as_in_torch(fn):
    with pytest.raises(RuntimeError, match="dynamic shape") as ours:
        vmap(lambda t: fn(ember, t))(ember.tensor(X))
    with pytest.raises(RuntimeError) as theirs:
        torch.func.vmap(lambda t: fn(torch, t))(torch.tensor(X))
    assert str(ours.value) == str(theirs.value)
