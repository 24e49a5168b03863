"""Editing graphs beside torch.fx: replacing, inserting and erasing nodes, dead-code elimination, lint, building a
graph by hand, copying, pickling and replace_pattern."""
import copy
import operator
import pickle

import numpy
import pytest
import torch

import ember

from .models import as_torch_text, pair


def traced_pair(name):
    t_model, e_model = pair(name)
    return torch.fx.symbolic_trace(t_model), ember.fx.symbolic_trace(e_model)


def run_both(t_gm, e_gm, shape):
    x = numpy.random.randn(*shape).astype(numpy.float32)
    t_out, e_out = t_gm(torch.from_numpy(x)), e_gm(ember.from_numpy(x))
    numpy.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-5, atol=1e-6)


def replace_relu_by_gelu(gm, lib):
    for node in gm.graph.nodes:
        if node.op == "call_function" and node.target is lib.relu:
            with gm.graph.inserting_after(node):
                new = gm.graph.call_function(lib.nn.functional.gelu, node.args, node.kwargs)
            node.replace_all_uses_with(new)
            gm.graph.erase_node(node)
    gm.graph.lint()
    gm.recompile()


def test_replace_relu_by_gelu():
    t_gm, e_gm = traced_pair("MLP")
    replace_relu_by_gelu(t_gm, torch)
    replace_relu_by_gelu(e_gm, ember)
    assert as_torch_text(str(e_gm.graph)) == str(t_gm.graph)
    assert as_torch_text(e_gm.code) == t_gm.code
    assert "gelu = torch._C._nn.gelu(fc1)" in as_torch_text(e_gm.code)
    run_both(t_gm, e_gm, (3, 8))


def insert_scale(gm):
    graph = gm.graph
    output = next(n for n in graph.nodes if n.op == "output")
    result = output.args[0]
    with graph.inserting_before(output):
        doubled = graph.call_function(operator.mul, (result, 2.0))
        shifted = graph.call_method("add", (doubled, 1.0), {"alpha": 3})
    output.args = (shifted,)
    first = next(iter(graph.nodes))
    with graph.inserting_after(first):
        unused = graph.call_method("sigmoid", (first,))
    with graph.inserting_after(unused):
        graph.call_function(operator.neg, (unused,))
    gm.recompile()


def test_insert_nodes_then_eliminate_dead_code():
    t_gm, e_gm = traced_pair("MLP")
    insert_scale(t_gm)
    insert_scale(e_gm)
    assert as_torch_text(str(e_gm.graph)) == str(t_gm.graph)
    assert as_torch_text(e_gm.code) == t_gm.code
    run_both(t_gm, e_gm, (3, 8))
    assert e_gm.graph.eliminate_dead_code() is t_gm.graph.eliminate_dead_code() is True
    assert e_gm.graph.eliminate_dead_code() is t_gm.graph.eliminate_dead_code() is False
    e_gm.recompile()
    t_gm.recompile()
    assert as_torch_text(e_gm.code) == t_gm.code
    assert [n.name for n in e_gm.graph.nodes] == [n.name for n in t_gm.graph.nodes]
    assert len(e_gm.graph.nodes) == len(t_gm.graph.nodes)
    run_both(t_gm, e_gm, (3, 8))


def test_erase_node_with_users_and_lint_errors():
    for lib in (torch, ember):
        gm = lib.fx.symbolic_trace(pair("MLP")[0 if lib is torch else 1])
        relu = next(n for n in gm.graph.nodes if n.name == "relu")
        with pytest.raises(RuntimeError) as info:
            gm.graph.erase_node(relu)
        if lib is torch:
            torch_message = str(info.value)
        else:
            assert str(info.value) == torch_message
        other = lib.fx.Graph()
        x = other.placeholder("x")
        with pytest.raises(AssertionError):
            with gm.graph.inserting_before(x):
                pass


def build_by_hand(lib):
    graph = lib.fx.Graph()
    x = graph.placeholder("x")
    y = graph.placeholder("y", default_value=2)
    w = graph.get_attr("weight")
    add = graph.call_function(operator.add, (x, w))
    mm = graph.call_function(lib.matmul, (add, add), name="product")
    s = graph.call_method("sum", (mm,), {"dim": 0})
    graph.output((s, y))
    root = lib.nn.Module()
    root.weight = lib.nn.Parameter(lib.ones(2, 2))
    return lib.fx.GraphModule(root, graph, "Hand")


def test_graph_built_by_hand():
    t_gm, e_gm = build_by_hand(torch), build_by_hand(ember)
    assert as_torch_text(str(e_gm.graph)) == str(t_gm.graph)
    assert as_torch_text(e_gm.code) == t_gm.code
    assert type(e_gm).__name__ == "Hand"
    out = e_gm(ember.eye(2))
    assert out[0].tolist() == t_gm(torch.eye(2))[0].tolist() and out[1] == 2
    assert [n.name for n in e_gm.graph.find_nodes(op="placeholder")] == ["x", "y"]
    e_gm.graph.lint()


def test_deepcopy_and_pickle_keep_graph_code_and_values():
    e_model = pair("CNN")[1].eval()
    gm = ember.fx.symbolic_trace(e_model)
    x = ember.randn(2, 3, 8, 8)
    expected = gm(x)[0]
    for clone in (copy.deepcopy(gm), pickle.loads(pickle.dumps(gm))):
        assert clone.code == gm.code and str(clone.graph) == str(gm.graph)
        assert type(clone).__name__ == "GraphModule" and type(clone) is not type(gm)   # torch.fx renames copies
        assert clone.conv.weight is not gm.conv.weight
        numpy.testing.assert_allclose(clone(x)[0].detach().numpy(), expected.detach().numpy(), rtol=1e-6)
    clone = copy.deepcopy(gm)
    replace_relu_by_gelu(clone, ember)
    assert clone.code == gm.code   # no ember.relu node in CNN: F.relu is another function
    assert {k: v.shape for k, v in clone.state_dict().items()} == {k: v.shape for k, v in gm.state_dict().items()}


def test_replace_pattern():
    def make(lib):
        class M(lib.nn.Module):
            def forward(self, x, w):
                a = lib.sigmoid(x) * w
                b = lib.sigmoid(a) * 2.0
                return a + b

        def pattern(x, w):
            return lib.sigmoid(x) * w

        def replacement(x, w):
            return lib.tanh(x) + w
        gm = lib.fx.symbolic_trace(M())
        return gm, lib.fx.replace_pattern(gm, pattern, replacement)
    (t_gm, t_matches), (e_gm, e_matches) = make(torch), make(ember)
    assert len(e_matches) == len(t_matches) == 2
    assert [m.anchor.name for m in e_matches] == [m.anchor.name for m in t_matches]
    assert as_torch_text(e_gm.code) == t_gm.code
    x, w = numpy.random.randn(4).astype(numpy.float32), numpy.float32(0.5)
    numpy.testing.assert_allclose(e_gm(ember.from_numpy(x), ember.tensor(w)).numpy(),
                                  t_gm(torch.from_numpy(x), torch.tensor(w)).numpy(), rtol=1e-6)


def test_dead_code_elimination_keeps_side_effects_as_torch():
    def make(lib):
        class M(lib.nn.Module):
            def forward(self, x, flag):
                lib.randn(2)          # concrete: no node
                lib.rand_like(x)      # random: kept
                lib.sigmoid(x)        # pure and unused: removed
                return x + 1
        gm = lib.fx.symbolic_trace(M(), concrete_args={"flag": True})
        assert gm.graph.eliminate_dead_code()
        gm.recompile()
        return gm
    t_gm, e_gm = make(torch), make(ember)
    assert as_torch_text(e_gm.code) == t_gm.code
    assert [n.name for n in e_gm.graph.nodes] == ["x", "flag_1", "eq", "_assert", "rand_like", "add", "output"]
