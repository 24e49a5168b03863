"""Modules under CPU autocast against PyTorch 2.13: nn.LSTM and nn.RNN given inputs that are already 16-bit skip
their input-dtype check inside a region (the listed layer op casts input and weights), and keep it outside;
F.affine_grid's product runs in 16 bits."""
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


THETA = np.random.default_rng(1).standard_normal((2, 2, 3)).astype(np.float32)


@pytest.mark.parametrize("dtype_name", ["bfloat16", "float16"])
@pytest.mark.parametrize("align_corners", [False, True])
def test_affine_grid_runs_its_product_in_16_bits(dtype_name, align_corners):
    def run(T):   # PyTorch's affine_grid multiplies the base grid by theta with bmm, which CPU autocast lists
        theta = T.tensor(THETA, requires_grad=True)
        with T.autocast("cpu", dtype=getattr(T, dtype_name)):
            grid = T.nn.functional.affine_grid(theta, (2, 3, 5, 4), align_corners=align_corners)
        grid.float().sum().backward()
        return grid, theta.grad
    (grid, grad), (expected, expected_grad) = run(ember), run(torch)
    assert str(grid.dtype).split(".")[-1] == str(expected.dtype).split(".")[-1] == dtype_name
    assert grad.dtype is ember.float32
    np.testing.assert_allclose(grid.detach().float().numpy(), expected.detach().float().numpy(), rtol=1e-2, atol=1e-2)  # an ulp
    np.testing.assert_allclose(grad.numpy(), expected_grad.numpy(), rtol=1e-5)
