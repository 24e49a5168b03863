"""Interpreter, Transformer and ShapeProp beside torch.fx."""
import operator

import numpy
import pytest
import torch

import ember
from ember.fx.passes.shape_prop import ShapeProp, TensorMetadata

from .models import as_torch_text, pair


def inputs(*shape):
    x = numpy.random.randn(*shape).astype(numpy.float32)
    return torch.from_numpy(x), ember.from_numpy(x)


def test_interpreter_runs_the_graph_and_per_op_methods_can_be_overridden():
    def make(lib):
        class NegateSigmoid(lib.fx.Interpreter):
            def call_function(self, target, args, kwargs):
                if target is lib.relu:
                    return lib.sigmoid(*args)
                return super().call_function(target, args, kwargs)

            def call_method(self, target, args, kwargs):
                if target == "softmax":
                    return -super().call_method(target, args, kwargs)
                return super().call_method(target, args, kwargs)
        return NegateSigmoid
    (t_model, e_model), (tx, ex) = pair("MLP"), inputs(3, 8)
    t_gm, e_gm = torch.fx.symbolic_trace(t_model), ember.fx.symbolic_trace(e_model)
    numpy.testing.assert_allclose(ember.fx.Interpreter(e_gm).run(ex).detach().numpy(),
                                  t_model(tx).detach().numpy(), rtol=1e-5)
    t_out, e_out = make(torch)(t_gm).run(tx), make(ember)(e_gm).run(ex)
    numpy.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-5)
    assert (e_out < 0).all()
    interp, t_interp = ember.fx.Interpreter(e_gm), torch.fx.Interpreter(t_gm)
    interp.run(ex)
    t_interp.run(tx)
    assert [n.name for n in interp.env] == [n.name for n in t_interp.env] == ["output"]   # the rest is dropped
    keep = ember.fx.Interpreter(e_gm, garbage_collect_values=False)
    keep.run(ex)
    assert [n.name for n in keep.env] == [n.name for n in e_gm.graph.nodes]
    assert ember.fx.Interpreter(e_gm).boxed_run([ex]).shape == (3, 4)


def test_interpreter_errors_name_the_node():
    gm = ember.fx.symbolic_trace(pair("MLP")[1])
    with pytest.raises(RuntimeError, match="Expected positional argument for parameter x, but one was not passed in!"):
        ember.fx.Interpreter(gm).run()
    with pytest.raises(RuntimeError) as info:
        ember.fx.Interpreter(gm).run(ember.ones(2, 3))
    assert "While executing %fc1 : [num_users=1] = call_module[target=fc1](args = (%x,), kwargs = {})" in \
        str(info.value)


def test_transformer_rewrites_into_a_new_graph_module():
    def make(lib):
        class ReluToGelu(lib.fx.Transformer):
            def call_function(self, target, args, kwargs):
                if target == lib.relu:   # ember.relu is a recording stand-in here: compare with ==
                    target = lib.nn.functional.gelu
                return super().call_function(target, args, kwargs)

            def call_module(self, target, args, kwargs):
                out = super().call_module(target, args, kwargs)
                return out * 2 if target == "fc2" else out
        return ReluToGelu
    (t_model, e_model), (tx, ex) = pair("MLP"), inputs(3, 8)
    t_new = make(torch)(torch.fx.symbolic_trace(t_model)).transform()
    e_new = make(ember)(ember.fx.symbolic_trace(e_model)).transform()
    assert as_torch_text(str(e_new.graph)) == str(t_new.graph)
    assert as_torch_text(e_new.code) == t_new.code
    assert type(e_new).__name__ == type(t_new).__name__ == "GraphModule"
    numpy.testing.assert_allclose(e_new(ex).detach().numpy(), t_new(tx).detach().numpy(), rtol=1e-5)


def test_shape_prop_records_tensor_metadata():
    (t_model, e_model), (tx, ex) = pair("CNN"), inputs(2, 3, 8, 8)
    t_gm, e_gm = torch.fx.symbolic_trace(t_model), ember.fx.symbolic_trace(e_model)
    from torch.fx.passes.shape_prop import ShapeProp as TorchShapeProp
    TorchShapeProp(t_gm).propagate(tx)
    ShapeProp(e_gm).propagate(ex)
    for t_node, e_node in zip(t_gm.graph.nodes, e_gm.graph.nodes):
        assert ("tensor_meta" in e_node.meta) == ("tensor_meta" in t_node.meta), e_node.name
        assert e_node.meta["type"].__name__ == t_node.meta["type"].__name__
        if "tensor_meta" not in t_node.meta:
            continue
        t_meta, e_meta = t_node.meta["tensor_meta"], e_node.meta["tensor_meta"]
        if isinstance(t_meta, tuple) and not hasattr(t_meta, "shape"):
            t_meta, e_meta = t_meta[0], e_meta[0]
        assert isinstance(e_meta, TensorMetadata)
        assert tuple(e_meta.shape) == tuple(t_meta.shape) and str(e_meta.dtype) == str(t_meta.dtype).replace(
            "torch", "ember")
        assert e_meta.requires_grad == t_meta.requires_grad and tuple(e_meta.stride) == tuple(t_meta.stride)
    assert as_torch_text(e_gm.print_readable(print_output=False)) == t_gm.print_readable(print_output=False)


def test_graph_module_made_from_a_dict_root():
    graph = ember.fx.Graph()
    x = graph.placeholder("x")
    graph.output(graph.call_module("sub.lin", (graph.call_function(operator.mul, (x, graph.get_attr("scale"))),)))
    gm = ember.fx.GraphModule({"sub.lin": ember.nn.Linear(2, 2), "scale": ember.tensor(3.0)}, graph)
    assert sorted(gm.state_dict()) == ["scale", "sub.lin.bias", "sub.lin.weight"]
    assert gm(ember.ones(1, 2)).shape == (1, 2)
    with pytest.raises(RuntimeError, match="referenced target scale but that target was not provided"):
        ember.fx.GraphModule({"sub.lin": ember.nn.Linear(2, 2)}, graph)


def test_transformer_methods_may_call_library_functions_on_proxies():
    # torch.fx's documentation example: ember's functions on Proxies record nodes inside transform() too.
    def make(lib):
        class NegSigmSwap(lib.fx.Transformer):
            def call_function(self, target, args, kwargs):
                if target == lib.relu:   # ember.relu is a recording stand-in here: compare with ==
                    return lib.neg(*args, **kwargs)
                return super().call_function(target, args, kwargs)

            def call_method(self, target, args, kwargs):
                if target == "softmax":
                    return lib.sigmoid(args[0])
                return super().call_method(target, args, kwargs)
        return NegSigmSwap
    (t_model, e_model), (tx, ex) = pair("MLP"), inputs(3, 8)
    t_new = make(torch)(torch.fx.symbolic_trace(t_model)).transform()
    e_new = make(ember)(ember.fx.symbolic_trace(e_model)).transform()
    assert as_torch_text(e_new.code) == t_new.code
    numpy.testing.assert_allclose(e_new(ex).detach().numpy(), t_new(tx).detach().numpy(), rtol=1e-5)
