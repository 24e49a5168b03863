"""symbolic_trace beside torch.fx: the same models give the same graph printouts, node lists, generated code,
readable form and outputs."""
import pathlib

import numpy
import pytest
import torch

import ember
from ember import _alias
from ember.vision.models import resnet18

from . import models
from .models import as_torch_text, copy_weights, pair

INPUTS = {"MLP": (2, 8), "CNN": (2, 3, 8, 8), "Constants": (2, 3), "Wrapped": (2, 3), "TensorOperands": (2, 3),
          "Annotated": (2, 3), "Containers": (2, 3)}


def node_rows(gm):
    return [(n.op, n.name, n.target if isinstance(n.target, str) else str(n._pretty_print_target(n.target)),
             len(n.users)) for n in gm.graph.nodes]


def assert_same_trace(t_gm, e_gm):
    assert as_torch_text(str(e_gm.graph)) == str(t_gm.graph)
    assert as_torch_text(e_gm.code) == t_gm.code
    assert [(op, name, as_torch_text(target), users) for op, name, target, users in node_rows(e_gm)] == \
        node_rows(t_gm)
    assert as_torch_text(e_gm.print_readable(print_output=False)) == t_gm.print_readable(print_output=False)


def assert_same_values(t_out, e_out):
    if isinstance(t_out, torch.Tensor):
        numpy.testing.assert_allclose(e_out.detach().numpy(), t_out.detach().numpy(), rtol=1e-5, atol=1e-5)
    elif isinstance(t_out, (tuple, list)):
        assert len(t_out) == len(e_out)
        for t, e in zip(t_out, e_out):
            assert_same_values(t, e)
    elif isinstance(t_out, dict):
        assert list(t_out) == list(e_out)
        for k in t_out:
            assert_same_values(t_out[k], e_out[k])
    else:
        assert t_out == e_out


@pytest.mark.parametrize("name", sorted(INPUTS))
def test_models_trace_as_torch(name):
    t_model, e_model = pair(name)
    t_gm, e_gm = torch.fx.symbolic_trace(t_model), ember.fx.symbolic_trace(e_model)
    assert_same_trace(t_gm, e_gm)
    x = numpy.random.randn(*INPUTS[name]).astype(numpy.float32)
    t_out, e_out = t_gm(torch.from_numpy(x)), e_gm(ember.from_numpy(x))
    assert_same_values(t_out, e_out)
    assert_same_values(t_model(torch.from_numpy(x)), e_out)
    assert type(e_gm).__name__ == type(t_gm).__name__ == name
    assert isinstance(e_gm, ember.fx.GraphModule) and isinstance(e_gm, ember.nn.Module)
    assert sorted(e_gm.state_dict()) == sorted(t_gm.state_dict())
    assert [n for n, _ in e_gm.named_parameters()] == [n for n, _ in t_gm.named_parameters()]
    assert as_torch_text(str(e_gm)) == str(t_gm)


def test_code_prints_torch_under_the_alias(monkeypatch):
    t_model, e_model = pair("CNN")
    monkeypatch.setattr(_alias, "installed", True)
    e_gm = ember.fx.symbolic_trace(e_model)
    t_gm = torch.fx.symbolic_trace(t_model)
    assert e_gm.code == t_gm.code and str(e_gm.graph) == str(t_gm.graph)
    x = numpy.random.randn(2, 3, 8, 8).astype(numpy.float32)
    assert_same_values(t_gm(torch.from_numpy(x)), e_gm(ember.from_numpy(x)))


def test_resnet18_traces_as_torchvision_layout():
    torch.manual_seed(0)
    t_model = pair("ResNet")[0].eval()
    e_model = copy_weights(t_model, resnet18()).eval()
    t_gm, e_gm = torch.fx.symbolic_trace(t_model), ember.fx.symbolic_trace(e_model)
    assert_same_trace(t_gm, e_gm)
    x = numpy.random.randn(1, 3, 32, 32).astype(numpy.float32)
    numpy.testing.assert_allclose(e_gm(ember.from_numpy(x)).detach().numpy(),
                                  t_gm(torch.from_numpy(x)).detach().numpy(), rtol=1e-4, atol=1e-4)


@pytest.mark.parametrize("concrete", [{"flag": True}, {"flag": False, "scale": None}, {"flag": True, "scale": 2.0}])
def test_concrete_args_specialize_control_flow(concrete):
    t_model, e_model = pair("ControlFlow")
    t_gm = torch.fx.symbolic_trace(t_model, concrete_args=concrete)
    e_gm = ember.fx.symbolic_trace(e_model, concrete_args=concrete)
    assert_same_trace(t_gm, e_gm)
    x = numpy.random.randn(2, 4).astype(numpy.float32)
    rest = list(concrete.values())
    assert_same_values(t_gm(torch.from_numpy(x), *rest), e_gm(ember.from_numpy(x), *rest))
    if concrete.get("scale", 0) is None:
        with pytest.raises(AssertionError, match="scale has been specialized to have value None"):
            e_gm(ember.from_numpy(x), concrete["flag"], 1.0)
    with pytest.raises(AssertionError, match="flag has been specialized"):
        e_gm(ember.from_numpy(x), not concrete["flag"])


def test_trace_a_function_and_math():
    import math

    def f(a, b):
        return ember.relu(a) * math.sqrt(b.shape[0]) + b.sum()

    def g(a, b):
        return torch.relu(a) * math.sqrt(b.shape[0]) + b.sum()
    g.__name__ = "f"
    e_gm, t_gm = ember.fx.symbolic_trace(f), torch.fx.symbolic_trace(g)
    assert as_torch_text(e_gm.code) == t_gm.code
    assert as_torch_text(str(e_gm.graph)) == str(t_gm.graph)
    a, b = numpy.random.randn(3).astype(numpy.float32), numpy.random.randn(4).astype(numpy.float32)
    assert_same_values(t_gm(torch.from_numpy(a), torch.from_numpy(b)), e_gm(ember.from_numpy(a), ember.from_numpy(b)))


def test_varargs_and_tuple_unpacking():
    class M(ember.nn.Module):
        def forward(self, *args, **kwargs):
            a, b = args[0].chunk(2)
            return a + b + kwargs["k"]

    gm = ember.fx.symbolic_trace(M())
    assert [n.target for n in gm.graph.nodes if n.op == "placeholder"] == ["*args", "**kwargs"]
    x = ember.arange(4.0)
    assert gm(x, k=ember.tensor(1.0)).tolist() == [3.0, 5.0]


def test_tracer_leaf_modules_and_scope():
    class Tracer(ember.fx.Tracer):
        def is_leaf_module(self, m, qualname):
            return qualname == "head" or super().is_leaf_module(m, qualname)
    e_model = pair("CNN")[1]
    graph = Tracer().trace(e_model)
    assert [n.target for n in graph.nodes if n.op == "call_module"] == ["conv", "bn", "head"]
    e_gm = ember.fx.GraphModule(e_model, graph)
    assert type(e_gm).__name__ == "GraphModule"
    head = graph.find_nodes(op="call_module", target="head")[0]
    assert head.meta["nn_module_stack"] == {"head": ("head", ember.nn.Sequential)}


def test_recorded_stack_traces_show_in_print_readable():
    e_model = pair("CNN")[1]
    tracer = ember.fx.Tracer()
    tracer.record_stack_traces = True
    gm = ember.fx.GraphModule(e_model, tracer.trace(e_model), "CNN")
    conv = gm.graph.find_nodes(op="call_module", target="conv")[0]
    assert conv.stack_trace.splitlines()[-1].strip() == "y = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)"
    source = pathlib.Path(models.__file__)
    line = next(i for i, text in enumerate(source.read_text().splitlines(), 1) if "y = F.max_pool2d" in text)
    readable = gm.print_readable(print_output=False).splitlines()
    assert readable[2] == (f"        # File: {source}:{line} in forward, code: "
                           "y = F.max_pool2d(F.relu(self.bn(self.conv(x))), 2)")
    assert readable[3] == "        conv = self.conv(x);  x = None"


def test_a_graph_module_traces_again_as_torch():
    t_model, e_model = pair("CNN")
    t_gm = torch.fx.symbolic_trace(torch.fx.symbolic_trace(t_model))
    e_gm = ember.fx.symbolic_trace(ember.fx.symbolic_trace(e_model))
    assert_same_trace(t_gm, e_gm)


def test_proxyable_classes_are_recorded_as_torch():
    def make(lib):
        class TensorPair(metaclass=lib.fx.ProxyableClassMeta):
            def __init__(self, left, right):
                self.left, self.right = left, right

            def add(self, other):
                return TensorPair(self.left + other.left, self.right + other.right)

        def use_pair(x, y):
            return TensorPair(x, y).add(TensorPair(x, y))
        use_pair.__name__ = "use_pair"
        return lib.fx.symbolic_trace(use_pair)
    t_gm, e_gm = make(torch), make(ember)
    assert [(n.op, n.name) for n in e_gm.graph.nodes] == [(n.op, n.name) for n in t_gm.graph.nodes]


@pytest.mark.parametrize("base, shape", [("Conv1d", (2, 3, 9)), ("Conv2d", (2, 3, 8, 8)), ("Conv3d", (1, 3, 4, 6, 6)),
                                         ("ConvTranspose2d", (2, 3, 5, 5))])
def test_convolution_subclasses_trace_through_as_torch(base, shape):
    """A subclass of a convolution is no fx leaf (torchvision's Conv3DSimple): its forward's functional call is
    recorded, as torch records F.conv3d."""
    def model(lib):
        lib.manual_seed(0)
        cls = type("Sub" + base, (getattr(lib.nn, base),), {})
        return lib.nn.Sequential(cls(3, 4, 3, padding=1), lib.nn.ReLU())
    t_model, e_model = model(torch), model(ember)
    copy_weights(t_model, e_model)
    t_gm, e_gm = torch.fx.symbolic_trace(t_model), ember.fx.symbolic_trace(e_model)
    assert_same_trace(t_gm, e_gm)
    x = numpy.random.randn(*shape).astype(numpy.float32)
    assert_same_values(t_gm(torch.from_numpy(x)), e_gm(ember.from_numpy(x)))


def _library_tracer(lib):
    """A Tracer whose ``trace`` is written on torch.fx's internals, as PyTorch Geometric's ``symbolic_trace``
    writes it (``_Patcher`` as a context, ``_patch_wrapped_functions``, ``_autowrap_check``, the original
    ``Module.__call__``/``__getattr__``, ``compatibility``), with every submodule but Sequential a leaf."""
    import importlib
    st = importlib.import_module(f"{lib.__name__}.fx._symbolic_trace")

    class Tracer(lib.fx.Tracer):
        def is_leaf_module(self, module, *args, **kwargs):
            return not isinstance(module, lib.nn.Sequential)

        @st.compatibility(is_backward_compatible=True)
        def trace(self, root, concrete_args=None):
            self.root = root
            fn = type(root).forward
            self.submodule_paths = {mod: name for name, mod in root.named_modules()}
            self.graph = lib.fx.Graph(tracer_cls=getattr(self, "__class__", None))
            self.tensor_attrs = {}
            for k, v in root.__dict__.items():
                if isinstance(v, (lib.Tensor, st.ScriptObject)):
                    self.tensor_attrs[v] = k
            assert isinstance(fn, st.FunctionType)
            fn_globals = fn.__globals__
            fn, args = self.create_args_for_root(fn, True, concrete_args)
            cache = {}

            @st.functools.wraps(st._orig_module_getattr)
            def module_getattr_wrapper(mod, attr):
                return self.getattr(attr, st._orig_module_getattr(mod, attr), cache)

            @st.functools.wraps(st._orig_module_call)
            def module_call_wrapper(mod, *args, **kwargs):
                def forward(*args, **kwargs):
                    return st._orig_module_call(mod, *args, **kwargs)
                st._autowrap_check(patcher, getattr(getattr(mod, "forward", mod), "__globals__", {}),
                                   self._autowrap_function_ids)
                return self.call_module(mod, forward, args, kwargs)

            with st._Patcher() as patcher:
                patcher.patch_method(lib.nn.Module, "__getattr__", module_getattr_wrapper, deduplicate=False)
                patcher.patch_method(lib.nn.Module, "__call__", module_call_wrapper, deduplicate=False)
                st._patch_wrapped_functions(patcher)
                st._autowrap_check(patcher, fn_globals, self._autowrap_function_ids)
                for module in self._autowrap_search:
                    st._autowrap_check(patcher, module.__dict__, self._autowrap_function_ids)
                self.create_node("output", "output", (self.create_arg(fn(*args)),), {},
                                 type_expr=fn.__annotations__.get("return", None))
            self.submodule_paths = None
            return self.graph
    return Tracer


@pytest.mark.parametrize("name", ["MLP", "CNN", "Wrapped", "TensorOperands"])
def test_tracer_written_on_fx_internals(name):
    """A library's own ``Tracer.trace`` on torch.fx's private helpers (PyG's ``to_hetero`` traces this way) records
    the same graph as torch's, and the patches are gone afterwards."""
    t_model, e_model = pair(name)
    graphs = [_library_tracer(lib)().trace(model) for lib, model in ((torch, t_model), (ember, e_model))]
    gms = [lib.fx.GraphModule(model, graph) for lib, model, graph in
           ((torch, t_model, graphs[0]), (ember, e_model, graphs[1]))]
    assert_same_trace(*gms)
    x = numpy.random.default_rng(0).standard_normal(INPUTS[name]).astype(numpy.float32)
    assert_same_values(gms[0](torch.tensor(x)), gms[1](ember.tensor(x)))
    assert ember.nn.Module.__call__ is ember.fx._symbolic_trace._orig_module_call
    assert "__call__" not in vars(ember.nn.Sequential) and ember.relu.__class__.__name__ == "function"
