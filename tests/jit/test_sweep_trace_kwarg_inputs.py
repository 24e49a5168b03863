"""jit.trace's example_kwarg_inputs and trace_module's example_inputs_is_kwarg beside torch.jit.trace: the given
keywords, in the order of the parameters, become the graph's inputs; calls by position or keyword replay them."""
import contextlib
import warnings

import numpy
import pytest
import torch

import ember
from tests.oracle import assert_same


def _subtract(x, y, z=None):
    return x - y if z is None else x - y + z


def _scaler(lib):
    class Scaler(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = lib.nn.Linear(2, 2)

        def forward(self, x, y=None, z=None):
            return self.lin(x) * 2 if z is None else self.lin(x) * z
    lib.manual_seed(0)
    return Scaler()


@contextlib.contextmanager
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)   # torch 2.13 deprecates torch.jit.trace
        yield


A, B = numpy.array([[5.0, 1.0]], numpy.float32), numpy.array([[1.0, -3.0]], numpy.float32)


def _t(lib, a):
    return lib.from_numpy(a.copy())


TRACES = {
    "function": lambda lib: lib.jit.trace(_subtract, example_kwarg_inputs={"y": _t(lib, B), "x": _t(lib, A)}),
    "function_with_optional": lambda lib: lib.jit.trace(
        _subtract, example_kwarg_inputs={"z": _t(lib, A), "x": _t(lib, B), "y": _t(lib, A)}),
    "module": lambda lib: lib.jit.trace(_scaler(lib), example_kwarg_inputs={"x": _t(lib, A), "z": _t(lib, B)}),
    "trace_module": lambda lib: lib.jit.trace_module(_scaler(lib), {"forward": {"z": _t(lib, B), "x": _t(lib, A)}},
                                                     example_inputs_is_kwarg=True),
    "check_inputs": lambda lib: lib.jit.trace(_subtract, example_kwarg_inputs={"x": _t(lib, A), "y": _t(lib, B)},
                                              check_inputs=[{"x": _t(lib, B), "y": _t(lib, A)}]),
}


@pytest.mark.parametrize("name", sorted(TRACES))
def test_kwarg_traces_match_torch(name):
    with _quiet():
        expected_traced = TRACES[name](torch)
    traced = TRACES[name](ember)
    arity = 3 if name == "function_with_optional" else 2
    inputs = [A * 0.5, B + 1, A - B][:arity]
    expected = expected_traced(*[_t(torch, a) for a in inputs])
    assert_same(traced(*[_t(ember, a) for a in inputs]), expected)
    # the inputs keep the parameters' names and order, so a call by keyword binds as torch's does
    expected_names = [n.debugName() for n in expected_traced.graph.inputs() if not n.debugName().startswith("self")]
    assert [v.name for v in traced.graph.inputs] == expected_names
    by_name = dict(zip(expected_names, inputs))
    assert_same(traced(**{k: _t(ember, v) for k, v in by_name.items()}),
                expected_traced(**{k: _t(torch, v) for k, v in by_name.items()}))


def test_kwarg_inputs_must_be_a_dict():
    with pytest.raises(TypeError, match="example_kwarg_inputs must be a dict"):
        ember.jit.trace(_subtract, example_kwarg_inputs=(ember.ones(1),))


def test_kwarg_inputs_missing_a_required_parameter_raise_the_functions_type_error():
    with _quiet(), pytest.raises(TypeError) as expected:
        torch.jit.trace(_subtract, example_kwarg_inputs={"x": torch.ones(1)})
    with pytest.raises(TypeError) as got:
        ember.jit.trace(_subtract, example_kwarg_inputs={"x": ember.ones(1)})
    assert str(got.value) == str(expected.value)
