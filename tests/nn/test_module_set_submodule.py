"""Module.set_submodule, to_empty, call_super_init and dump_patches, checked against torch.nn."""
import numpy
import pytest
import torch

import ember

LIBS = {"torch": torch, "ember": ember}


def _outcome(call):
    try:
        return repr(call())
    except Exception as error:   # the type and message are what is compared
        return f"{type(error).__name__}: {error}"


def _set_submodule_story(lib):
    nn = lib.nn
    model = nn.Sequential(nn.Sequential(nn.Linear(1, 1)), nn.ReLU())
    model.x = 3
    model.p = nn.Parameter(lib.ones(1))
    model.register_module("empty", None)
    out = [_outcome(lambda: model.set_submodule("", nn.ReLU())),
           _outcome(lambda: model.set_submodule("0", 3)),
           _outcome(lambda: model.set_submodule("0.0", nn.Tanh())),
           _outcome(lambda: model.set_submodule("0.new", nn.Tanh(), strict=True)),
           _outcome(lambda: model.set_submodule("0.new", nn.Tanh())),
           list(model[0]._modules)]
    for target in ("x", "p", "empty", "zz.a", "x.a", "1.a.b"):
        out.append(_outcome(lambda: model.set_submodule(target, nn.Tanh())))
    out.append(_outcome(lambda: model.set_submodule("1", nn.Sigmoid(), strict=True)))
    out.append(_outcome(lambda: model.set_submodule(".a", nn.Tanh())))
    out.append(repr(model))
    return out


def test_set_submodule_matches_torch():
    assert _set_submodule_story(ember) == _set_submodule_story(torch)


@pytest.mark.parametrize("args, kwargs", [((3,), {}), ((3, 4), {}), ((), {"a": 3}), ((1,), {"b": 2})])
def test_init_arguments_error_as_torch(args, kwargs):
    expected = _outcome(lambda: torch.nn.Module(*args, **kwargs))
    assert _outcome(lambda: ember.nn.Module(*args, **kwargs)) == expected


def test_call_super_init_passes_arguments_on():
    seen = {}
    for name, lib in LIBS.items():
        calls = []

        class Mixin:
            def __init__(self, *args, **kwargs):
                calls.append((args, kwargs))

        class Cooperative(lib.nn.Module, Mixin):
            call_super_init = True

            def __init__(self):
                super().__init__(1, b=2)

        class Plain(lib.nn.Module):
            call_super_init = True

            def __init__(self):
                super().__init__(1)

        module = Cooperative()
        seen[name] = (calls, module.training, list(module.state_dict()), _outcome(Plain))
    assert seen["ember"] == seen["torch"]


def test_class_attributes():
    for attr in ("call_super_init", "dump_patches"):
        assert getattr(ember.nn.Module, attr) is getattr(torch.nn.Module, attr) is False


def _to_empty_story(lib):
    nn = lib.nn
    layer = nn.Linear(2, 3)
    layer.register_buffer("b", lib.ones(2))
    layer.register_buffer("nb", lib.ones(2, requires_grad=True), persistent=False)
    layer.register_buffer("ints", lib.zeros(2, dtype=lib.int64))
    layer.weight.grad = lib.ones(3, 2)
    layer.bias.requires_grad_(False)
    weight, buffer = layer.weight, layer.b
    result = layer.to_empty(device="cpu")
    out = [result is layer, layer.weight is weight, layer.b is buffer, type(layer.weight).__name__,
           layer.weight.requires_grad, layer.bias.requires_grad, layer.nb.requires_grad, layer.weight.is_leaf,
           tuple(layer.weight.grad.shape), str(layer.ints.dtype).split(".")[-1], str(layer.weight.device),
           [(n, tuple(t.shape), str(t.dtype).split(".")[-1]) for n, t in layer.state_dict().items()],
           _outcome(lambda: layer.to_empty()), _outcome(lambda: layer.to_empty("cpu"))]
    outer = nn.Sequential(nn.Linear(1, 1))
    outer.register_buffer("q", lib.zeros(1))
    inner, own = outer[0].weight, outer.q
    outer.to_empty(device="cpu", recurse=False)
    out += [outer[0].weight is inner, outer.q is own]
    return out


def test_to_empty_matches_torch():
    assert _to_empty_story(ember) == _to_empty_story(torch)


def test_to_empty_gives_fresh_memory():
    layer = ember.nn.Linear(4, 4)
    before = layer.weight.data_ptr()
    layer.to_empty(device="cpu")
    assert layer.weight.data_ptr() != before
    layer.weight.data.fill_(2.0)   # the memory is usable as ordinary storage
    numpy.testing.assert_array_equal(layer(ember.zeros(1, 4)).detach().numpy() - layer.bias.detach().numpy(), 0)
