"""torch.fx.traceback beside torch (found by a differential sweep): the metadata Transformer carries from each node
to the node it makes (stack trace, the copied fields, from_node provenance), preserve_node_meta, set_stack_trace,
annotate, format_stack and NodeSource.

torch also records ``meta["seq_nr"]`` (autograd's per-thread sequence counter) on nodes made under
preserve_node_meta; ember has no such counter, so the comparisons leave that field out."""
import importlib

import pytest
import torch

import ember


def traceback_of(lib):
    return importlib.import_module(f"{lib.__name__}.fx.traceback")


def transformed_meta(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x).relu() + 1
    gm = lib.fx.symbolic_trace(Net())
    for node in gm.graph.nodes:
        if node.op == "call_method":
            node.meta.update(custom={"k": 1}, other=3, stack_trace="File x")
        if node.op == "output":
            node.meta["out"] = 1
    new = lib.fx.Transformer(gm).transform()
    rows = []
    for node in new.graph.nodes:
        meta = {k: v for k, v in node.meta.items() if k != "seq_nr"}
        if "from_node" in meta:
            meta["from_node"] = [(s.name, s.target, s.pass_name, s.graph_id == id(gm.graph), len(s.from_node),
                                  s.print_readable().replace(str(s.graph_id), "G"), s.to_dict()["action"])
                                 for s in meta["from_node"]]
        if "nn_module_stack" in meta:
            meta["nn_module_stack"] = [(k, path, cls.__name__) for k, (path, cls) in meta["nn_module_stack"].items()]
        rows.append((node.name, meta, node.stack_trace))
    return rows, new.code.replace("ember.", "torch.")


def test_transformer_carries_node_meta_as_torch():
    t_rows, t_code = transformed_meta(torch)
    e_rows, e_code = transformed_meta(ember)
    assert e_code == t_code
    assert e_rows == t_rows
    relu_meta = next(meta for name, meta, _ in t_rows if name == "relu")
    assert relu_meta["custom"] == {"k": 1} and "other" not in relu_meta


def context_states(lib):
    tb = traceback_of(lib)
    states = [tb.has_preserved_node_meta()]
    with tb.preserve_node_meta():
        states += [tb.has_preserved_node_meta(), tb.format_stack()]
        tb.set_stack_trace(["a\n", "b"])
        states += [tb.format_stack(), dict(tb.get_current_meta())]
        with tb.annotate({"x": 1}):
            states.append(dict(tb.get_current_meta()))
        states.append(dict(tb.get_current_meta()))
        tb.set_stack_trace([])
        states.append(dict(tb.get_current_meta()))
    states += [tb.has_preserved_node_meta(), dict(tb.get_current_meta())]
    source = tb.NodeSource(None, "p", tb.NodeSourceAction.REPLACE)
    same = tb.NodeSource(None, "p", [tb.NodeSourceAction.REPLACE])
    states += [source.to_dict(), repr(source), source == same, hash(source) == hash(same)]
    return states


def test_traceback_context_and_node_source_as_torch():
    assert context_states(ember) == context_states(torch)
    for lib in (torch, ember):
        with pytest.raises(AssertionError, match="Expected NodeSourceAction, got <class 'str'>"):
            traceback_of(lib).NodeSource(None, "p", "create")
