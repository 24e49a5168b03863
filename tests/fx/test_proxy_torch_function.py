"""A graph built by hand (``fx.Graph`` and ``fx.Proxy``, outside symbolic_trace), as e3nn's code generation builds
its tensor products: torch functions called on Proxies record ``call_function`` nodes through
``Proxy.__torch_function__``, as in PyTorch; the GraphModule then computes what torch's computes."""
import numpy
import pytest

import ember

torch = pytest.importorskip("torch")


def _build(lib):
    graph = lib.fx.Graph()
    tracer = lib.fx.proxy.GraphAppendingTracer(graph)   # one tracer for all, as e3nn's code generation makes
    x = lib.fx.Proxy(graph.placeholder("x"), tracer)
    y = lib.fx.Proxy(graph.placeholder("y"), tracer)
    shape = lib.broadcast_tensors(x[..., :1], y[..., :1])[0].shape[:-1]
    z = lib.einsum("bi,bj->bij", x, y).reshape(shape + (-1,))
    out = lib.nn.functional.relu(lib.cat([z, lib.sin(x)], dim=-1))
    graph.output(out.node)
    module = lib.fx.GraphModule(lib.nn.Module(), graph)
    targets = [getattr(n.target, "__name__", str(n.target)) for n in graph.nodes if n.op == "call_function"]
    return module, targets


def test_torch_functions_on_hand_built_proxies_record_nodes_as_torch():
    ours, our_targets = _build(ember)
    theirs, their_targets = _build(torch)
    assert our_targets == their_targets
    rng = numpy.random.default_rng(0)
    x, y = (rng.standard_normal((4, 3)).astype(numpy.float32) for _ in range(2))
    numpy.testing.assert_allclose(ours(ember.from_numpy(x), ember.from_numpy(y)).numpy(),
                                  theirs(torch.from_numpy(x), torch.from_numpy(y)).numpy(), rtol=1e-6)
