"""torch.fx.passes.split_module.split_module beside torch (found by a differential sweep): the same submodules,
generated code for the top module and each submodule, qualname map and outputs, with its options."""
import importlib
import itertools

import numpy
import pytest
import torch

import ember

from .models import as_torch_text


def build(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.param = lib.nn.Parameter(lib.linspace(-1.0, 1.0, 12).reshape(3, 4))
            self.linear = lib.nn.Linear(4, 5)
            self.inner = lib.nn.Sequential(lib.nn.ReLU())

        def forward(self, x, y):
            z = self.linear(x + self.param).clamp(min=0.0, max=1.0)
            w = self.inner(self.linear(y)).clamp(min=0.0, max=1.0)
            return z + w, z.sum()
    return Net()


def in_chunks(size):
    counter = itertools.count()
    return lambda node: next(counter) // size


def y_branch_first(node):
    """The y branch in partition 1, which the rest (partition 0) depends on: sorted order differs from the
    original one."""
    return 1 if node.name in ("linear_1", "inner_0", "clamp_1") else 0


OPTIONS = {
    "chunks": (lambda: in_chunks(3), {}),
    "y_branch_first": (lambda: y_branch_first, {}),
    "original_order_and_names": (lambda: in_chunks(2), {"keep_original_order": True,
                                                        "keep_original_node_name": True,
                                                        "keep_original_input_name": False}),
    "affix_and_tuples": (lambda: in_chunks(4), {"partition_affix": "p", "tuple_return": True}),
}


def split(lib, option):
    lib.manual_seed(0)
    model = build(lib)
    if lib is ember:   # the same weights as torch's
        torch.manual_seed(0)
        reference = build(torch)
        model.load_state_dict({k: ember.from_numpy(v.detach().numpy().copy())
                               for k, v in reference.state_dict().items()})
    else:
        torch.manual_seed(0)
        model = build(torch)
    traced = lib.fx.symbolic_trace(model)
    callback, kwargs = OPTIONS[option]
    qualname_map = {}
    splitter = importlib.import_module(f"{lib.__name__}.fx.passes.split_module")
    result = splitter.split_module(traced, model, callback(), qualname_map, **kwargs)
    codes = {name: as_torch_text(sub.code) for name, sub in result.named_children()}
    x = numpy.random.RandomState(0).randn(3, 4).astype(numpy.float32)
    y = numpy.random.RandomState(1).randn(3, 4).astype(numpy.float32)
    out = result(lib.from_numpy(x), lib.from_numpy(y))
    expected = traced(lib.from_numpy(x), lib.from_numpy(y))
    return (as_torch_text(result.code), codes, qualname_map, sorted(result.meta["partition_names"]),
            [o.detach().numpy() for o in out], [o.detach().numpy() for o in expected])


@pytest.mark.parametrize("option", sorted(OPTIONS))
def test_split_module_as_torch(option):
    t_code, t_codes, t_map, t_names, t_out, _ = split(torch, option)
    e_code, e_codes, e_map, e_names, e_out, e_expected = split(ember, option)
    assert e_code == t_code
    assert e_codes == t_codes
    assert (e_map, e_names) == (t_map, t_names)
    for e, t, reference in zip(e_out, t_out, e_expected):
        numpy.testing.assert_allclose(e, t, rtol=1e-5, atol=1e-6)
        numpy.testing.assert_allclose(e, reference, rtol=1e-6, atol=1e-6)


def test_partition_cycle_is_an_error():
    def make(lib):
        gm = lib.fx.symbolic_trace(lambda x: lib.relu(x + 1) * 2)
        parts = {"add": 0, "relu": 1, "mul": 0}
        splitter = importlib.import_module(f"{lib.__name__}.fx.passes.split_module")
        splitter.split_module(gm, None, lambda node: parts[node.name])
    for lib in (torch, ember):
        with pytest.raises(RuntimeError, match="cycle exists between partitions!"):
            make(lib)
