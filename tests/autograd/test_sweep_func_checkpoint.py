"""torch.utils.checkpoint's determinism check (found by a differential sweep against PyTorch 2.13): a recomputation
whose ops see tensors of other shapes than the forward's raises CheckpointError on both; one that matches does not."""
import numpy as np
import pytest
import torch

import ember


def _run(L, changes_shape):
    x = L.tensor(np.linspace(-1.0, 1.0, 3), requires_grad=True)
    calls = []

    def function(a):
        calls.append(1)
        return a[:2].sin() if changes_shape and len(calls) > 1 else a[:3].sin()

    y = L.utils.checkpoint.checkpoint(function, x, use_reentrant=False)
    y.sum().backward()
    return x.grad


def test_recomputation_with_other_shapes_raises():
    with pytest.raises(torch.utils.checkpoint.CheckpointError) as expected:
        _run(torch, True)
    with pytest.raises(ember.utils.checkpoint.CheckpointError) as got:
        _run(ember, True)
    assert str(got.value).split("\n")[0] == str(expected.value).split("\n")[0]


def test_recomputation_alike_passes():
    np.testing.assert_allclose(_run(ember, False).numpy(), _run(torch, False).numpy(), rtol=1e-12)
