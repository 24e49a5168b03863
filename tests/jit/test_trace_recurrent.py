"""A traced recurrent layer is one node named as PyTorch names it (``aten::lstm``, ...), and replays exactly through
the whole-sequence primitives."""
import numpy
import pytest

import ember
from ember import jit, nn


@pytest.mark.parametrize("kind,options", [("LSTM", {"num_layers": 2, "bidirectional": True}),
                                          ("GRU", {"batch_first": True}), ("RNN", {"nonlinearity": "relu"})])
def test_trace_records_the_layer_as_one_node_and_replays_it(kind, options):
    layer = getattr(nn, kind)(3, 4, **options)
    x = ember.randn(5, 2, 3)
    traced = jit.trace(layer, (x,))
    kinds = [node.kind for node in traced.graph.nodes]
    aten = {"LSTM": "aten::lstm", "GRU": "aten::gru", "RNN": f"aten::rnn_{options.get('nonlinearity', 'tanh')}"}
    assert kinds.count(aten[kind]) == 1
    expected, got = layer(x), traced(x)
    for e, g in zip(_flat(expected), _flat(got)):
        numpy.testing.assert_array_equal(g.detach().numpy(), e.detach().numpy())
    _flat(got)[0].sum().backward()
    assert layer.weight_hh_l0.grad is not None


def _flat(out):
    return [t for o in out for t in _flat(o)] if isinstance(out, (tuple, list)) else [out]
