"""A layer's output or input changed in place before backward: allowed or refused exactly where PyTorch allows or
refuses it, by what each node saves (hardtanh/ReLU6 save their input, as PyTorch's; GRU and RNN layers keep their
own copy of the hidden states, so their returned output may be changed)."""
import itertools

import pytest
import torch

import ember
from tests.oracle import outcome


def _layer(make, change, shape=(4, 6)):
    def run(L):
        L.manual_seed(0)
        x = L.randn(*shape, requires_grad=True)
        h = x * 1
        out = make(L)(h)
        out = out[0] if isinstance(out, tuple) else out
        (out if change == "output" else h).add_(1)
        (out * out).sum().backward()
        return x.grad
    return run


CASES = {f"{name}, {change} changed": (make, change, shape) for (name, make, shape), change in itertools.product([
    ("ReLU6", lambda L: L.nn.ReLU6(), (4, 6)),
    ("Hardtanh", lambda L: L.nn.Hardtanh(-0.5, 0.5), (4, 6)),
    ("ReLU", lambda L: L.nn.ReLU(), (4, 6)),
    ("GRU", lambda L: L.nn.GRU(6, 3, num_layers=2), (5, 2, 6)),
    ("GRU, batch_first", lambda L: L.nn.GRU(6, 3, batch_first=True), (2, 5, 6)),
    ("RNN", lambda L: L.nn.RNN(6, 3), (5, 2, 6)),
    ("RNN relu, batch_first", lambda L: L.nn.RNN(6, 3, nonlinearity="relu", batch_first=True), (2, 5, 6)),
    ("LSTM", lambda L: L.nn.LSTM(6, 3), (5, 2, 6)),
], ["output", "input"])}


@pytest.mark.parametrize("name", CASES)
def test_change_in_place_after_layer(name):
    make, change, shape = CASES[name]
    mine, theirs = outcome(ember, _layer(make, change, shape)), outcome(torch, _layer(make, change, shape))
    if isinstance(theirs, tuple):   # ("error", type, message)
        assert mine[:2] == theirs[:2]
    else:
        assert isinstance(mine, list), mine
        assert abs(mine[0] - theirs[0]).max() < 1e-5
