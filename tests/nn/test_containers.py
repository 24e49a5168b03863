"""Containers beside PyTorch's: ParameterList and ParameterDict (what they hold: tensors become Parameters, other
objects kept, modules registered; their dict and list methods, printed form and errors), Sequential's arithmetic and
insert checks, ModuleList.extend's check; Modules keep their parameters, buffers and children in plain dicts as
PyTorch 2.x does."""
import re

import pytest
import torch

import ember
from tests.oracle import check_same_error


def _list_story(lib):
    params = lib.nn.ParameterList([lib.nn.Parameter(lib.ones(2)), lib.ones(2, dtype=lib.float64), 3,
                                   lib.nn.Linear(1, 1)])
    params.append(lib.zeros(1, 2))
    params[-1] = lib.zeros(2, 1)
    params += [lib.zeros(3)]
    sliced = params[1:5:2]
    return [repr(params), repr(lib.nn.Sequential(params)), len(params), type(params[1]).__name__,
            [type(p).__name__ for p in params], sorted(n for n, _ in params.named_parameters()),
            sorted(n for n, _ in params.named_modules()), type(sliced).__name__, repr(sliced),
            [key for key in dir(params) if key.isdigit()]]


def test_parameter_list_holds_what_pytorch_holds_and_prints_alike():
    assert _list_story(ember) == _list_story(torch)


@pytest.mark.parametrize("call", [lambda lib: lib.nn.ParameterList([lib.ones(1)])[1],
                                  lambda lib: lib.nn.ParameterList([lib.ones(1)])[-2],
                                  lambda lib: lib.nn.ParameterList().extend(lib.ones(2)),
                                  lambda lib: lib.nn.ParameterList().extend(3),
                                  lambda lib: lib.nn.ParameterList([lib.ones(1)])(lib.ones(1))])
def test_parameter_list_errors(call):
    check_same_error(call)


def _dict_story(lib):
    params = lib.nn.ParameterDict({"b": lib.ones(2), "a": lib.nn.Parameter(lib.zeros(3, dtype=lib.float64)),
                                   "c": "text"})
    first = list(params)
    params.update([("z", lib.ones(1)), ("y", lib.ones(1))])
    default = params.setdefault("w", lib.zeros(2))
    kept = params.setdefault("a", None)
    popped = params.popitem()
    merged = params | lib.nn.ParameterDict({"q": lib.ones(4)})
    reverse_merged = lib.nn.ParameterDict({"q": lib.ones(4)}).__ror__(params)
    params |= {"r": lib.ones(5)}
    copied = params.copy()
    fresh = params.fromkeys(["u", "v"], lib.ones(1))
    story = [first, list(params), list(reversed(params)), repr(params), type(default).__name__, kept.dtype is
             params["a"].dtype, popped[0], list(merged), list(reverse_merged), list(copied), copied["a"] is params["a"],
             repr(fresh), params.get("missing", 7), "b" in params, len(params)]
    del params["b"]
    params.pop("c")
    story += [list(params), sorted(n for n, _ in params.named_parameters())]
    params.clear()
    return story + [len(params), repr(params)]


def test_parameter_dict_methods_order_and_print_as_pytorch():
    assert _dict_story(ember) == _dict_story(torch)


@pytest.mark.parametrize("call", [lambda lib: lib.nn.ParameterDict({"a": lib.ones(1)})[3],
                                  lambda lib: lib.nn.ParameterDict({"a": lib.ones(1)})["b"],
                                  lambda lib: lib.nn.ParameterDict(5),
                                  lambda lib: lib.nn.ParameterDict([("a", lib.ones(1)), 4]),
                                  lambda lib: lib.nn.ParameterDict([("a", lib.ones(1), 2)]),
                                  lambda lib: lib.nn.ParameterDict()(lib.ones(1))])
def test_parameter_dict_errors(call):
    check_same_error(call)


def test_module_registries_are_plain_dicts():
    ours, theirs = ember.nn.BatchNorm1d(2), torch.nn.BatchNorm1d(2)
    for name in ("_parameters", "_buffers", "_modules", "_forward_hooks", "_forward_pre_hooks"):
        assert type(getattr(ours, name)) is type(getattr(theirs, name)), name


def _sequential_story(lib):
    relu, tanh = lib.nn.ReLU(), lib.nn.Tanh()
    seq = lib.nn.Sequential(relu, tanh)
    doubled, left = seq * 2, 3 * seq
    joined = seq + lib.nn.Sequential(lib.nn.ELU())
    same = seq
    seq *= 3
    seq.insert(-1, lib.nn.ELU()).insert(len(seq), lib.nn.GELU())
    return [repr(doubled), doubled[2] is relu, len(left), left[5] is tanh, repr(joined), same is seq, repr(seq),
            seq[4] is relu]


def test_sequential_arithmetic_and_insert_as_pytorch():
    assert _sequential_story(ember) == _sequential_story(torch)


@pytest.mark.parametrize("call", [lambda lib: lib.nn.Sequential(lib.nn.ReLU()) + lib.nn.ModuleList(),
                                  lambda lib: lib.nn.Sequential(lib.nn.ReLU()) * 1.5,
                                  lambda lib: 0 * lib.nn.Sequential(lib.nn.ReLU()),
                                  lambda lib: lib.nn.Sequential(lib.nn.ReLU()).__imul__(-1),
                                  lambda lib: lib.nn.Sequential(lib.nn.ReLU()).insert(0, 3),
                                  lambda lib: lib.nn.Sequential(lib.nn.ReLU()).insert(2, lib.nn.ReLU()),
                                  lambda lib: lib.nn.Sequential(lib.nn.ReLU()).insert(-2, lib.nn.ReLU()),
                                  lambda lib: lib.nn.ModuleList().extend(lib.nn.ReLU())])
def test_sequential_and_module_list_errors(call):
    _same_error_naming_ember(call)


def _same_error_naming_ember(call):
    """torch's exception type and message, with ember's package name where torch's names a class or tensor type."""
    with pytest.raises(Exception) as expected:
        call(torch)
    with pytest.raises(type(expected.value)) as raised:
        call(ember)
    assert str(raised.value) == re.sub(r"(<class '|')torch\.", r"\1ember.", str(expected.value))


@pytest.mark.parametrize("call", [lambda lib: lib.nn.Module().register_buffer("b", 3),
                                  lambda lib: lib.nn.Module().register_parameter("p", lib.ones(1)),
                                  lambda lib: setattr(lib.nn.Linear(1, 1), "weight", lib.ones(1, dtype=lib.int64)),
                                  lambda lib: setattr(lib.nn.Sequential(lib.nn.ReLU()), "0", lib.ones(1)),
                                  lambda lib: setattr(lib.nn.BatchNorm1d(1), "running_mean", "text")])
def test_wrong_attribute_values_are_named_by_torch_typename(call):
    _same_error_naming_ember(call)
