"""symbolic_trace with structured concrete_args beside torch.fx (found by a differential sweep): containers in
concrete_args become one placeholder per leaf (PH leaves stay inputs, others are checked), and the generated forward
keeps the function's arguments, flattening them by ``self._in_spec`` and rebuilding the output by
``self._out_spec``."""
import copy
import pickle
import warnings

import numpy
import pytest
import torch

import ember

from .models import as_torch_text


def nested_constants(lib):
    def f(x, d):
        return x + d["a"] * d["b"][0]
    return lib.fx.symbolic_trace(f, concrete_args={"d": {"a": 2, "b": [3]}}), {"a": 2, "b": [3]}


def placeholder_leaf(lib):
    def f(x, d):
        return x + d["a"]
    return lib.fx.symbolic_trace(f, concrete_args={"d": {"a": lib.fx.PH, "b": 1}}), {"a": None, "b": 1}


def module_with_structured_output(lib):
    class Net(lib.nn.Module):
        def forward(self, x, pair):
            return {"sum": x + pair[0], "both": [x * pair[1], pair[0]]}
    return lib.fx.symbolic_trace(Net(), concrete_args={"pair": (lib.fx.PH, 2.0)}), (None, 2.0)


CASES = {f.__name__: f for f in (nested_constants, placeholder_leaf, module_with_structured_output)}


def run_case(lib, name):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        gm, structure = CASES[name](lib)
    x = lib.from_numpy(numpy.arange(3.0, dtype=numpy.float32))
    leaf = lib.from_numpy(numpy.full(3, 0.5, dtype=numpy.float32))
    arg = ember_tree(structure, leaf)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FutureWarning)   # torch's deepcopy of a TreeSpec warns about LeafSpec
        outputs = [gm(x, arg), lib.fx.Interpreter(gm).run(x, arg), copy.deepcopy(gm)(x, arg),
                   pickle.loads(pickle.dumps(gm))(x, arg)]
    return as_torch_text(gm.code), as_torch_text(str(gm.graph)), repr(gm._in_spec), repr(gm._out_spec), outputs


def ember_tree(structure, leaf):
    """``structure`` with None leaves replaced by ``leaf`` (the PH inputs)."""
    if isinstance(structure, dict):
        return {k: ember_tree(v, leaf) for k, v in structure.items()}
    if isinstance(structure, (list, tuple)):
        return type(structure)(ember_tree(v, leaf) for v in structure)
    return leaf if structure is None else structure


def as_plain(value):
    if isinstance(value, dict):
        return {k: as_plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value).__name__, [as_plain(v) for v in value]
    return value.detach().numpy().tolist() if hasattr(value, "detach") else value


@pytest.mark.parametrize("name", sorted(CASES))
def test_structured_concrete_args_as_torch(name):
    t_code, t_graph, t_in, t_out, t_outputs = run_case(torch, name)
    e_code, e_graph, e_in, e_out, e_outputs = run_case(ember, name)
    assert (e_code, e_graph, e_in, e_out) == (t_code, t_graph, t_in, t_out)
    assert "fx_pytree.tree_flatten_spec" in t_code
    assert [as_plain(o) for o in e_outputs] == [as_plain(o) for o in t_outputs]


def test_specialized_value_is_checked():
    for lib in (torch, ember):
        gm, _ = nested_constants(lib)
        with pytest.raises(AssertionError, match="d has been specialized to have value 2 but got another value"):
            gm(lib.ones(3), {"a": 5, "b": [3]})
