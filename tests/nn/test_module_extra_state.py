"""Module.get_extra_state / set_extra_state: the "_extra_state" entry of state_dict, its strict-mode missing and
unexpected keys, and checkpoints carrying it between ember and torch."""
import io

import numpy
import pytest
import torch

import ember
from tests.oracle import as_numpy

LIBS = {"torch": torch, "ember": ember}


def _classes(lib):
    nn = lib.nn

    class Counter(nn.Module):
        def __init__(self):
            super().__init__()
            self.lin = nn.Linear(2, 2)
            self.count = 0
            self.table = lib.zeros(3)

        def get_extra_state(self):
            return {"count": self.count, "table": self.table}

        def set_extra_state(self, state):
            self.count, self.table = state["count"], state["table"]

    class GetOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lib.ones(1))

        def get_extra_state(self):
            return 5

    class SetOnly(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(lib.ones(1))
            self.seen = []

        def set_extra_state(self, state):
            self.seen.append(state)

    return Counter, GetOnly, SetOnly


def _outcome(call):
    try:
        return repr(call())
    except Exception as error:   # the type and message are what is compared
        return f"{type(error).__name__}: {error}"


def _model(lib):
    counter = _classes(lib)[0]
    return lib.nn.Sequential(counter(), lib.nn.Linear(2, 2))


@pytest.mark.parametrize("name", LIBS)
def test_state_dict_key_order_and_metadata(name):
    lib = LIBS[name]
    model = _model(lib)
    model[0].count = 7
    state = model.state_dict()
    assert list(state) == ["0._extra_state", "0.lin.weight", "0.lin.bias", "1.weight", "1.bias"]
    assert state["0._extra_state"]["count"] == 7
    assert list(state._metadata) == ["", "0", "0.lin", "1"]


def test_loading_matches_torch():
    results = {}
    for name, lib in LIBS.items():
        counter, get_only, set_only = _classes(lib)
        nn = lib.nn
        source = nn.Sequential(counter(), nn.Linear(2, 2))
        source[0].count = 7
        state = source.state_dict()
        target = nn.Sequential(counter(), nn.Linear(2, 2))
        out = [_outcome(lambda: target.load_state_dict(state)), target[0].count]
        del state["0._extra_state"]
        out += [_outcome(lambda: target.load_state_dict(state)),
                _outcome(lambda: target.load_state_dict(state, strict=False))]
        only_get = nn.Sequential(get_only())
        saved = only_get.state_dict()
        out += [list(saved), _outcome(lambda: only_get.load_state_dict(saved)),
                _outcome(lambda: only_get.load_state_dict(saved, strict=False))]
        only_set = nn.Sequential(set_only())
        out += [list(only_set.state_dict()), _outcome(lambda: only_set.load_state_dict({"0.w": lib.ones(1)})),
                _outcome(lambda: only_set.load_state_dict({"0.w": lib.ones(1), "0._extra_state": 3})),
                only_set[0].seen]
        plain = nn.Sequential(nn.Linear(1, 1))
        out.append(_outcome(lambda: plain.load_state_dict(
            {"0.weight": lib.ones(1, 1), "0.bias": lib.ones(1), "0.weight.x": lib.ones(1), "0": lib.ones(1),
             "0._extra_state": 1})))
        results[name] = out
    assert results["ember"] == results["torch"]


@pytest.mark.parametrize("method, args", [("get_extra_state", ()), ("set_extra_state", (1,))])
def test_base_methods_raise_torchs_error(method, args):
    expected = _outcome(lambda: getattr(torch.nn.Module(), method)(*args))
    assert _outcome(lambda: getattr(ember.nn.Module(), method)(*args)) == expected
    assert expected.startswith("RuntimeError: Reached a code path in Module.")


def test_hooks_see_the_extra_state():
    seen = {}
    for name, lib in LIBS.items():
        model = _model(lib)
        calls = []
        model[0].register_state_dict_post_hook(lambda m, sd, prefix, meta: calls.append(("post", sorted(sd))))
        model[0].register_load_state_dict_pre_hook(
            lambda m, sd, prefix, *rest: calls.append(("load", prefix + "_extra_state" in sd)))
        model.load_state_dict(model.state_dict())
        seen[name] = calls
    assert seen["ember"] == seen["torch"]


def _assert_loaded(model, state_source, table):
    assert model[0].count == 11
    numpy.testing.assert_array_equal(as_numpy(model[0].table), table)
    numpy.testing.assert_array_equal(as_numpy(model[1].weight), as_numpy(state_source[1].weight))


def test_round_trip_through_ember_save_and_load():
    model = _model(ember)
    model[0].count, model[0].table = 11, ember.tensor([1.0, 2.0, 3.0])
    buffer = io.BytesIO()
    ember.save(model.state_dict(), buffer)
    buffer.seek(0)
    target = _model(ember)
    assert repr(target.load_state_dict(ember.load(buffer))) == "<All keys matched successfully>"
    _assert_loaded(target, model, [1.0, 2.0, 3.0])


def test_torch_checkpoint_loads_into_ember_and_back(tmp_path):
    source = _model(torch)
    source[0].count, source[0].table = 11, torch.tensor([1.0, 2.0, 3.0])
    torch.save(source.state_dict(), tmp_path / "t.pt")
    model = _model(ember)
    model.load_state_dict(ember.load(tmp_path / "t.pt"))
    assert isinstance(model[0].table, ember.Tensor)
    _assert_loaded(model, source, [1.0, 2.0, 3.0])

    model[0].count = 12
    ember.save(model.state_dict(), tmp_path / "e.pt")
    back = _model(torch)
    back.load_state_dict(torch.load(tmp_path / "e.pt"))   # weights_only: the extra state holds an int and a tensor
    assert back[0].count == 12 and isinstance(back[0].table, torch.Tensor)
    numpy.testing.assert_array_equal(back[0].table.numpy(), [1.0, 2.0, 3.0])
    numpy.testing.assert_array_equal(back[1].weight.detach().numpy(), as_numpy(model[1].weight))
