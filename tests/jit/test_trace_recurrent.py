"""Traced recurrent layers record one whole-sequence primitive per layer and direction, and replay it exactly."""
import numpy
import pytest

import ember
from ember import jit, nn


@pytest.mark.parametrize("kind,options", [("LSTM", {"num_layers": 2, "bidirectional": True}),
                                          ("GRU", {"batch_first": True}), ("RNN", {"nonlinearity": "relu"})])
def test_trace_records_the_layer_primitives_and_replays_them(kind, options):
    layer = getattr(nn, kind)(3, 4, **options)
    x = ember.randn(5, 2, 3)
    traced = jit.trace(layer, (x,))
    kinds = [node.kind for node in traced.graph.nodes]
    directions = 2 if options.get("bidirectional") else 1
    assert kinds.count(f"ember::{kind}Layer") == options.get("num_layers", 1) * directions
    expected, got = layer(x), traced(x)
    for e, g in zip(_flat(expected), _flat(got)):
        numpy.testing.assert_array_equal(g.detach().numpy(), e.detach().numpy())
    _flat(got)[0].sum().backward()
    assert layer.weight_hh_l0.grad is not None


def _flat(out):
    return [t for o in out for t in _flat(o)] if isinstance(out, (tuple, list)) else [out]
