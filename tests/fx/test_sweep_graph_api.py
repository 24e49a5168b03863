"""Graph, Node and GraphModule API beside torch.fx (found by a differential sweep): Tensor methods as call_function
targets, lint's target checks, call_module/get_attr checks against the owning module, node moves, argument
containers, ShapeProp on ops returning torch.return_types, print_readable's strides and devices, and the names of
copied modules."""
import copy
import operator
import pickle
import warnings

import numpy
import pytest
import torch

import ember
from ember import _alias


def both(make):
    """``make(torch)`` and ``make(ember)``: each the value returned or the exception raised."""
    results = []
    for lib in (torch, ember):
        try:
            results.append(make(lib))
        except Exception as error:   # noqa: BLE001  (compared below)
            results.append(error)
    return results


def assert_same_error(t_error, e_error):
    assert isinstance(t_error, Exception) and type(e_error) is type(t_error)
    assert str(e_error) == str(t_error)


def tensor_method_graph(lib):
    graph = lib.fx.Graph()
    x = graph.placeholder("x")
    added = graph.call_function(lib.Tensor.add, (x, 1))
    size = graph.call_function(lib.Tensor.size, (added, 1))
    parts = graph.call_function(lib.Tensor.split, (added, 1), {"dim": 0})   # torch writes this one in Python
    first = graph.call_function(operator.getitem, (parts, 0))
    graph.output((graph.call_function(lib.Tensor.__getitem__, (first, 0)), size))
    return lib.fx.GraphModule(lib.nn.Module(), graph)


def test_tensor_methods_as_call_function_targets(monkeypatch):
    monkeypatch.setattr(_alias, "installed", True)
    t_gm, e_gm = tensor_method_graph(torch), tensor_method_graph(ember)
    assert e_gm.code == t_gm.code and str(e_gm.graph) == str(t_gm.graph)
    x = numpy.arange(6.0, dtype=numpy.float32).reshape(2, 3)
    (t_first, t_size), (e_first, e_size) = t_gm(torch.from_numpy(x)), e_gm(ember.from_numpy(x))
    assert e_size == t_size == 3
    numpy.testing.assert_array_equal(e_first.numpy(), t_first.numpy())


def add_bad_node(lib, op, target):
    class M(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(2, 2)

        def forward(self, x):
            return self.lin(x)
    gm = lib.fx.symbolic_trace(M())
    with gm.graph.inserting_before(gm.graph.output_node()):
        gm.graph.create_node(op, target)
    gm.graph.lint()


@pytest.mark.parametrize("op, target", [("call_module", "lin.weight"), ("get_attr", "lin.nothing"),
                                        ("get_attr", "nothing.deeper"), ("call_module", "nothing")])
def test_lint_checks_targets_as_torch(op, target):
    assert_same_error(*both(lambda lib: add_bad_node(lib, op, target)))


def test_call_module_and_get_attr_check_the_owning_module():
    def call_missing(lib):
        graph = lib.fx.Graph(owning_module=lib.nn.Module())
        graph.call_module("nothere", (graph.placeholder("x"),))
    assert_same_error(*both(call_missing))

    def get_attr_warnings(lib):
        root = lib.nn.Module()
        root.plain = lib.ones(2)            # neither parameter nor buffer
        root.register_buffer("buf", lib.ones(2))
        graph = lib.fx.Graph(owning_module=root)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            for name in ("plain", "buf", "missing.deeper"):
                graph.get_attr(name)
        return [str(w.message) for w in caught]
    t_messages, e_messages = both(get_attr_warnings)
    assert e_messages == t_messages and len(t_messages) == 3


def test_node_moves_arguments_and_output_node():
    def make(lib):
        gm = lib.fx.symbolic_trace(lambda x: (x + 1) * 2)
        _, add, mul, output = gm.graph.nodes
        add.append(mul)                     # already there: no change
        add.prepend(add)                    # itself: no change
        output.prepend(add)
        mul.args = [mul.args[0], 3]         # a list stays a list (immutable)
        mul.update_arg(1, 4)
        names = [n.name for n in gm.graph.nodes]
        return names, gm.graph.output_node().name, type(mul.args).__name__, str(mul.args)
    t_result, e_result = both(make)
    assert e_result == t_result

    def no_output(lib):
        graph = lib.fx.Graph()
        graph.placeholder("x")
        graph.output_node()
    assert_same_error(*both(no_output))


@pytest.mark.parametrize("args, kwargs", [(3, None), ((), [1])])
def test_create_node_argument_errors(args, kwargs):
    assert_same_error(*both(lambda lib: lib.fx.Graph().create_node("call_function", operator.add, args, kwargs)))


def test_shape_prop_records_return_types_as_plain_tuples():
    def make(lib):
        shape_prop = __import__(f"{lib.__name__}.fx.passes.shape_prop", fromlist=["ShapeProp"])
        gm = lib.fx.symbolic_trace(lambda x: (x.max(1), x.t()))
        shape_prop.ShapeProp(gm).propagate(lib.ones(2, 3))
        return [(n.name, type(n.meta["tensor_meta"]).__name__,
                 str(n.meta["tensor_meta"]).replace("ember.", "torch.")) for n in gm.graph.nodes]
    t_rows, e_rows = both(make)
    assert e_rows == t_rows and t_rows[1][1] == "tuple"


def test_print_readable_strides_devices_and_colors():
    def make(lib):
        gm = lib.fx.symbolic_trace(lambda x: x.t().relu())
        for node in gm.graph.nodes:
            if node.op != "output":
                node.meta["val"] = lib.ones(2, 3) if node.op == "placeholder" else lib.ones(2, 3).t()
        return [gm.print_readable(False, *flags).replace("ember.", "torch.")
                for flags in [(), (True,), (False, True), (True, True), (True, True, True), (False, False, True)]]
    t_texts, e_texts = both(make)
    assert e_texts == t_texts and "[1, 3]cpu" in t_texts[3] and "\033[" in t_texts[4]


@pytest.mark.parametrize("how", ["deepcopy", "copy", "pickle"])
def test_copies_are_named_graph_module(how):
    clone = {"deepcopy": copy.deepcopy, "copy": copy.copy, "pickle": lambda m: pickle.loads(pickle.dumps(m))}[how]

    def make(lib):
        class Net(lib.nn.Module):
            def forward(self, x):
                return x.relu()
        gm = lib.fx.symbolic_trace(Net())
        copied = clone(gm)
        return type(gm).__name__, type(copied).__name__, str(copied).splitlines()[0], copied.code
    t_result, e_result = both(make)
    assert e_result == t_result


def test_python_tensor_methods_table_is_torchs():
    import types

    from ember.fx._torch_names import TORCH_PYTHON_TENSOR_METHODS
    assert TORCH_PYTHON_TENSOR_METHODS == {n for n, v in vars(torch.Tensor).items()
                                           if isinstance(v, types.FunctionType)}


def test_to_folder_writes_an_importable_module(tmp_path):
    import importlib.util

    def write(lib):
        class Net(lib.nn.Module):
            def __init__(self):
                super().__init__()
                self.lin = lib.nn.Linear(3, 4)
                self.sub = lib.nn.Sequential(lib.nn.ReLU(), lib.nn.Linear(4, 2))
                self.register_buffer("buf", lib.ones(3))
                self.p = lib.nn.Parameter(lib.zeros(3))

            def forward(self, x):
                return lib.nn.functional.gelu(self.sub(self.lin(x + self.buf + self.p))).sum(-1)
        gm = lib.fx.symbolic_trace(Net())
        folder = tmp_path / lib.__name__
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            gm.to_folder(folder, "Foo")
        source = (folder / "module.py").read_text().replace(str(folder), "FOLDER")
        return gm, folder, sorted(p.name for p in folder.iterdir()), source, [str(w.message) for w in caught]
    _, _, t_files, t_source, t_warnings = write(torch)
    e_gm, folder, e_files, e_source, e_warnings = write(ember)
    assert e_files == t_files and e_warnings == t_warnings
    from ember.fx.graph_module import _ROOT_REBINDING
    assert e_source.replace(_ROOT_REBINDING.format(root="ember"), "").replace("ember", "torch") == t_source
    spec = importlib.util.spec_from_file_location("fx_folder_module", folder / "module.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    x = ember.randn(2, 3)
    numpy.testing.assert_allclose(module.Foo()(x).detach().numpy(), e_gm(x).detach().numpy(), rtol=1e-6)


@pytest.mark.parametrize("call", [
    lambda F, x: F.max_pool2d(x, 2, return_indices=True),
    lambda F, x: F.max_pool2d(x, 2, 2, 0, 1, False, True),
    lambda F, x: F.max_pool2d(x, 2, return_indices=False),
    lambda F, x: F.adaptive_max_pool2d(x, 1, True),
    lambda F, x: F.max_pool1d(x[0], 2, return_indices=True),
], ids=["keyword", "positional", "false", "adaptive", "1d"])
def test_flag_dispatched_functions_record_the_selected_function(call, monkeypatch):
    monkeypatch.setattr(_alias, "installed", True)
    t_gm = torch.fx.symbolic_trace(lambda x: call(torch.nn.functional, x))
    e_gm = ember.fx.symbolic_trace(lambda x: call(ember.nn.functional, x))
    assert e_gm.code == t_gm.code
    x = numpy.random.RandomState(0).randn(1, 2, 4, 4).astype(numpy.float32)
    t_out, e_out = t_gm(torch.from_numpy(x)), e_gm(ember.from_numpy(x))
    for t, e in zip(t_out if isinstance(t_out, tuple) else (t_out,), e_out if isinstance(e_out, tuple) else (e_out,)):
        numpy.testing.assert_array_equal(e.numpy(), t.numpy())


def test_boolean_dispatch_table_is_torchs():
    from ember.fx._torch_names import TORCH_BOOLEAN_DISPATCH
    found = {}
    for name in dir(torch.nn.functional):
        fn = getattr(torch.nn.functional, name)
        cells = dict(zip(getattr(getattr(fn, "__code__", None), "co_freevars", ()),
                         getattr(fn, "__closure__", None) or ()))
        if {"arg_name", "arg_index", "default", "if_true"} <= cells.keys():
            value = {k: c.cell_contents for k, c in cells.items()}
            found[f"torch.nn.functional.{name}"] = (value["arg_name"], value["arg_index"], value["default"],
                                                    f"torch.nn.functional.{value['if_true'].__name__}")
    assert TORCH_BOOLEAN_DISPATCH == found


def test_format_node_placeholder_names_and_rename():
    def make(lib):
        def f(x: lib.Tensor, y):
            return lib.relu(x) + y
        gm = lib.fx.symbolic_trace(f)
        x, y, relu = list(gm.graph.nodes)[:3]
        collected = ["first"]
        lines = [x.format_node([]), x.format_node(collected), y.format_node(collected), collected]
        relu._rename("add")     # taken: made unique
        relu._rename("add_1")   # its own name now: unchanged
        gm.recompile()
        return [str(v).replace("ember.", "torch.") for v in lines], relu.name, gm.code.replace("ember.", "torch.")
    t_result, e_result = both(make)
    assert e_result == t_result
