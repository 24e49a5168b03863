"""replace_pattern, replace_pattern_with_filters and SubgraphMatcher beside torch.fx (found by a differential sweep):
where replacements go, patterns returning several values, filters, callbacks, literal wildcards, attributes of a
replacement module, and the matches returned."""
import numpy
import pytest
import torch

import ember

from .models import as_torch_text


def rewrite(lib, case):
    """Runs one rewrite case on ``lib``: the generated code, what the rewrite returned, and the outputs."""
    gm, matches = CASES[case](lib)
    gm.graph.lint()
    x = lib.from_numpy(numpy.linspace(-1.0, 1.0, 6, dtype=numpy.float32).reshape(2, 3))
    out = gm(x)
    out = out if isinstance(out, tuple) else (out,)
    summary = [(type(m).__name__, m.anchor.name, sorted((p.name, g.name if hasattr(g, "name") else repr(g))
                                                        for p, g in m.nodes_map.items()),
                [n.name for n in getattr(m, "replacements", [])]) for m in matches]
    return as_torch_text(gm.code), summary, [o.detach().numpy() for o in out]


def relu_twice(lib):
    gm = lib.fx.symbolic_trace(lambda x: lib.relu(x) + lib.relu(x * 2))
    return gm, lib.fx.replace_pattern(gm, lambda x: lib.relu(x), lambda x: lib.tanh(x))


def two_outputs(lib):
    def f(x):
        a = x + 1
        b = a * 2
        return a, b

    def pattern(x):
        a = x + 1
        return a, a * 2
    gm = lib.fx.symbolic_trace(f)
    return gm, lib.fx.replace_pattern(gm, pattern, lambda x: (x - 1, x / 2))


def chained(lib):
    def f(x):
        return lib.relu(lib.relu(x + 1) + 1).sum(0)
    gm = lib.fx.symbolic_trace(f)
    return gm, lib.fx.replace_pattern(gm, lambda x: lib.relu(x + 1), lambda x: lib.sigmoid(x - 1))


def filtered(lib):
    rewriter = __import__(f"{lib.__name__}.fx.subgraph_rewriter", fromlist=["replace_pattern_with_filters"])
    gm = lib.fx.symbolic_trace(lambda x: lib.relu(x) + lib.relu(x * 2))
    keep_inputs_only = [lambda match, graph, pattern: all(n.op == "placeholder" for n in match.placeholder_nodes)]
    return gm, rewriter.replace_pattern_with_filters(gm, lambda x: lib.relu(x), lambda x: lib.tanh(x),
                                                     match_filters=keep_inputs_only)


def literal_wildcards(lib):
    rewriter = __import__(f"{lib.__name__}.fx.subgraph_rewriter", fromlist=["replace_pattern_with_filters"])
    gm = lib.fx.symbolic_trace(lambda x: x * 3 + x * 2)
    return gm, rewriter.replace_pattern_with_filters(gm, lambda x: x * 2, lambda x: x + x, ignore_literals=True)


def callback(lib):
    rewriter = __import__(f"{lib.__name__}.fx.subgraph_rewriter", fromlist=["replace_pattern_with_filters"])
    gm = lib.fx.symbolic_trace(lambda x: lib.relu(x).neg())
    replacement = lib.fx.symbolic_trace(lambda x: lib.nn.functional.elu(x)).graph
    return gm, rewriter.replace_pattern_with_filters(gm, lambda x: lib.relu(x), None,
                                                     replacement_callback=lambda m, g, p: replacement)


def module_replacement(lib):
    class Scaled(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.register_buffer("scale", lib.full((3,), 0.5))

        def forward(self, x):
            return x * self.scale
    gm = lib.fx.symbolic_trace(lambda x: lib.relu(x) + 1)
    return gm, lib.fx.replace_pattern(gm, lambda x: lib.relu(x), lib.fx.symbolic_trace(Scaled()))


def constant_input(lib):
    def f(x):
        return lib.add(x, 2) * lib.add(x, 3)
    gm = lib.fx.symbolic_trace(f)
    return gm, lib.fx.replace_pattern(gm, lambda x, y: lib.add(x, y), lambda x, y: lib.sub(x, y))


CASES = {f.__name__: f for f in (relu_twice, two_outputs, chained, filtered, literal_wildcards, callback,
                                 module_replacement, constant_input)}


@pytest.mark.parametrize("case", sorted(CASES))
def test_rewrites_as_torch(case):
    t_code, t_matches, t_out = rewrite(torch, case)
    e_code, e_matches, e_out = rewrite(ember, case)
    assert e_code == t_code
    assert e_matches == t_matches
    assert len(e_out) == len(t_out)
    for e, t in zip(e_out, t_out):
        numpy.testing.assert_allclose(e, t, rtol=1e-6, atol=1e-6)


def test_subgraph_matcher_matches_as_torch():
    def matches(lib):
        matcher_utils = __import__(f"{lib.__name__}.fx.passes.utils.matcher_utils", fromlist=["SubgraphMatcher"])
        graph = lib.fx.symbolic_trace(lambda x: (lib.relu(x + 1), lib.relu(x + 1).sum())).graph
        pattern = lib.fx.symbolic_trace(lambda x: lib.relu(x + 1)).graph
        found = matcher_utils.SubgraphMatcher(pattern).match(graph)
        return [([n.name for n in m.anchors], [n.name for n in m.placeholder_nodes],
                 [n.name for n in m.returning_nodes]) for m in found]
    assert matches(ember) == matches(torch) and len(matches(torch)) == 2

    def dead_code(lib):
        matcher_utils = __import__(f"{lib.__name__}.fx.passes.utils.matcher_utils", fromlist=["SubgraphMatcher"])
        graph = lib.fx.Graph()
        x = graph.placeholder("x")
        graph.call_function(lib.relu, (x,))
        graph.output(x)
        matcher_utils.SubgraphMatcher(graph)
    for lib in (torch, ember):
        with pytest.raises(AssertionError, match="SubgraphMatcher cannot be initialized with an pattern with dead"):
            dead_code(lib)
