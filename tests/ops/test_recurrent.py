"""The fused LSTM and GRU step primitives: first and second derivatives by finite differences (float64), and the
layers built on them against torch when differentiated twice."""
import numpy
import pytest
import torch

import ember
from ember.autograd import gradcheck, gradgradcheck
from ember.ops import recurrent


def _leaves(rng, *shapes):
    return [ember.tensor(rng.standard_normal(s)).requires_grad_(True) for s in shapes]


@pytest.mark.parametrize("batch", [1, 3])
def test_lstm_step_gradients(batch):
    rng = numpy.random.default_rng(0)
    inputs = _leaves(rng, (batch, 8), (batch, 2), (batch, 2), (8, 2))   # gi, h, c, w_hh
    assert gradcheck(recurrent.lstm_step, inputs)
    assert gradgradcheck(recurrent.lstm_step, inputs)


@pytest.mark.parametrize("bias", [True, False])
def test_gru_step_gradients(bias):
    rng = numpy.random.default_rng(1)
    inputs = _leaves(rng, (3, 6), (3, 2), (6, 2), *([(6,)] if bias else []))   # gi, h, w_hh, b_hh
    assert gradcheck(recurrent.gru_step, inputs)
    assert gradgradcheck(recurrent.gru_step, inputs)


def test_lstm_step_partial_grads():
    """Only some inputs need grad; only one output is used."""
    rng = numpy.random.default_rng(2)
    gi, h, c, w_hh = _leaves(rng, (2, 8), (2, 2), (2, 2), (8, 2))
    c = c.detach()
    assert gradcheck(lambda gi, w: recurrent.lstm_step(gi, h.detach(), c, w)[1], [gi, w_hh])


@pytest.mark.parametrize("kind", ["LSTM", "GRU"])
def test_layer_double_backward_matches_torch(kind):
    """The gradient of a gradient norm through a 2-layer recurrent layer, as torch computes it."""
    rng = numpy.random.default_rng(3)
    torch.manual_seed(0)
    t_layer = getattr(torch.nn, kind)(3, 4, num_layers=2, batch_first=True).double()
    e_layer = getattr(ember.nn, kind)(3, 4, num_layers=2, batch_first=True).double()
    e_layer.load_state_dict({k: ember.tensor(v.detach().numpy()) for k, v in t_layer.state_dict().items()})
    x = rng.standard_normal((2, 5, 3))
    results = []
    for lib, layer in ((torch, t_layer), (ember, e_layer)):
        inp = lib.tensor(x).requires_grad_(True)
        out = layer(inp)[0]
        grad, = lib.autograd.grad(out.square().sum(), inp, create_graph=True)
        weight = layer.weight_hh_l0
        second, = lib.autograd.grad(grad.square().sum(), weight)
        results.append((grad.detach().numpy(), second.numpy()))
    for t_value, e_value in zip(*results):
        numpy.testing.assert_allclose(e_value, t_value, rtol=1e-9, atol=1e-12)
