"""Modules under CPU autocast against PyTorch 2.13 where their inputs are already 16-bit: nn.LSTM and nn.RNN skip
their input-dtype check inside a region (the listed layer op casts input and weights), and keep it outside."""
import numpy as np
import pytest

import ember

torch = pytest.importorskip("torch")

LAYERS = [("LSTM", {}), ("LSTM", {"num_layers": 2, "batch_first": True, "bidirectional": True}), ("RNN", {}),
          ("RNN", {"nonlinearity": "relu", "num_layers": 2})]
X = np.random.default_rng(0).standard_normal((3, 2, 4)).astype(np.float32)


def _run(T, name, kwargs, enabled):
    T.manual_seed(0)
    layer = getattr(T.nn, name)(4, 5, **kwargs)
    x = T.tensor(X, dtype=T.bfloat16, requires_grad=True)
    try:
        with T.autocast("cpu", dtype=T.bfloat16, enabled=enabled):
            output, _ = layer(x)
    except ValueError as error:
        return str(error)
    output.float().sum().backward()
    return [output, x.grad, layer.weight_ih_l0.grad]


@pytest.mark.parametrize("name,kwargs", LAYERS, ids=[f"{n}-{k}" for n, k in LAYERS])
@pytest.mark.parametrize("enabled", [True, False])
def test_16_bit_inputs_to_float32_layers(name, kwargs, enabled):
    got, expected = _run(ember, name, kwargs, enabled), _run(torch, name, kwargs, enabled)
    if isinstance(expected, str):
        assert got == expected.replace("torch.", "ember.") or got == expected
        return
    for g, e in zip(got, expected):
        assert str(g.dtype).split(".")[-1] == str(e.dtype).split(".")[-1]
        np.testing.assert_allclose(g.detach().float().numpy(), e.detach().float().numpy(), rtol=3e-2, atol=3e-2)
