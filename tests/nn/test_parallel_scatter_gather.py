"""nn.parallel.scatter / scatter_kwargs / gather against torch's: the nested structures they return, their errors
for CPU devices and CPU tensors, and (on a GPU) the chunks, the gathered tensor and the gradient back through both."""
import collections
import importlib

import numpy
import pytest
import torch

import ember

P = collections.namedtuple("P", "a b")

CASES = {
    "tensor_to_cpu": lambda L, sg: sg.scatter(L.ones(4), ["cpu"]),
    "cpu_device": lambda L, sg: sg.scatter(L.ones(4), [L.device("cpu")]),
    "tuple_to_cpu": lambda L, sg: sg.scatter((L.ones(4), 3), ["cpu", "cpu"]),
    "object": lambda L, sg: sg.scatter(3, ["cpu"]),
    "empty_list": lambda L, sg: sg.scatter([], [0, 1]),
    "dict": lambda L, sg: sg.scatter({"a": 1}, [0, 1]),
    "empty_dict": lambda L, sg: sg.scatter({}, ["cpu"]),
    "namedtuple": lambda L, sg: sg.scatter(P(1, "x"), [0, 1]),
    "nested": lambda L, sg: sg.scatter([1, (2, 3)], [0, 1]),
    "kwargs": lambda L, sg: sg.scatter_kwargs((1,), {"k": 2}, [0, 1]),
    "kwargs_only": lambda L, sg: sg.scatter_kwargs((), {"k": 2}, [0, 1]),
    "gather_cpu_tensors": lambda L, sg: sg.gather([L.ones(2), L.ones(2)], "cpu"),
    "gather_cpu_tensors_to_gpu": lambda L, sg: sg.gather([L.ones(2), L.ones(2)], 0),
    "gather_none": lambda L, sg: sg.gather([None, None], 0),
    "gather_dicts_of_numbers": lambda L, sg: sg.gather([{"a": 1}, {"a": 2}], 0),
    "gather_uneven_dicts": lambda L, sg: sg.gather([{"a": None}, {}], 0),
    "gather_numbers": lambda L, sg: sg.gather([3, 4], 0),
    "gather_tuples_of_none": lambda L, sg: sg.gather([(None,), (None,)], 0),
}


def _run(lib, fn):
    module = importlib.import_module(f"{lib.__name__}.nn.parallel.scatter_gather")
    try:
        return repr(fn(lib, module))
    except Exception as error:   # the type and message are compared
        return f"{type(error).__name__}: {error}"


@pytest.mark.parametrize("name", CASES)
def test_structures_and_errors_as_torch(name):
    assert _run(ember, CASES[name]) == _run(torch, CASES[name])


def test_public_names():
    assert ember.nn.parallel.scatter is ember.nn.parallel.scatter_gather.scatter
    assert ember.nn.parallel.gather is ember.nn.parallel.scatter_gather.gather


@pytest.mark.skipif(not ember.cuda.is_available(), reason="needs a CUDA GPU and CuPy")
def test_chunks_gather_and_gradient_on_a_gpu():
    x = ember.arange(10.0, requires_grad=True)
    parts = ember.nn.parallel.scatter(x, [0, 0, 0])
    assert [p.shape[0] for p in parts] == [4, 4, 2] and all(p.device.type == "cuda" for p in parts)
    joined = ember.nn.parallel.gather([p * 2 for p in parts], "cpu")
    assert joined.device.type == "cpu" and joined.tolist() == [2.0 * i for i in range(10)]
    joined.sum().backward()
    numpy.testing.assert_array_equal(x.grad.numpy(), numpy.full(10, 2.0))
