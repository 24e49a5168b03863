"""``optim.swap_in_optimizer_params_and_state`` against torch: a step inside the context updates the swapped-in
parameters and (in place) the swapped-in state with the swapped-in options, the live optimizer is untouched and
restored on exit (also after an error), and the errors carry torch's types and messages."""
import copy

import numpy
import pytest
import torch

import ember

SHAPES = [(3, 2), (2,), (4,)]


def _setup(lib, name):
    rng = numpy.random.default_rng(0)
    params = [lib.nn.Parameter(lib.tensor(rng.standard_normal(s).astype(numpy.float32))) for s in SHAPES]
    groups = [{"params": params[:2]}, {"params": params[2:], "lr": 0.05}]
    if name == "sgd":
        optimizer = lib.optim.SGD(groups, lr=0.1, momentum=0.9, weight_decay=0.01)
    else:
        optimizer = lib.optim.Adam(groups, lr=0.01, betas=(0.8, 0.95))
    for p in params:
        p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)).astype(numpy.float32))
    optimizer.step()   # the live state exists
    swap_params = {f"p{i}": lib.tensor(rng.standard_normal(s).astype(numpy.float32), requires_grad=True)
                   for i, s in enumerate(SHAPES)}
    for p in swap_params.values():
        p.grad = lib.tensor(rng.standard_normal(tuple(p.shape)).astype(numpy.float32))
    state = optimizer.state_dict()
    swap_state = {"state": {k: {n: v.clone() * 0.5 if n != "step" else v.clone() + 3 for n, v in s.items()}
                            for k, s in state["state"].items()},
                  "param_groups": copy.deepcopy(state["param_groups"])}
    swap_state["param_groups"][0]["lr"] = 0.2
    return params, optimizer, swap_params, swap_state


def _arrays(value):
    if isinstance(value, dict):
        return {k: _arrays(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return type(value)(_arrays(v) for v in value)
    if isinstance(value, (ember.Tensor, torch.Tensor)):
        return value.detach().numpy().copy()
    return value


def _assert_same(a, b):
    if isinstance(a, dict):
        assert list(a) == list(b)
        for k in a:
            _assert_same(a[k], b[k])
    elif isinstance(a, (list, tuple)):
        assert len(a) == len(b)
        for x, y in zip(a, b):
            _assert_same(x, y)
    elif isinstance(a, numpy.ndarray):
        numpy.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-7)
    else:
        assert a == b


@pytest.mark.parametrize("name", ["sgd", "adam"])
def test_step_inside_acts_on_swapped_in_values(name):
    results = []
    for lib in (ember, torch):
        params, optimizer, swap_params, swap_state = _setup(lib, name)
        live_params, live_state = _arrays(params), _arrays(optimizer.state_dict())
        state_object, lists = optimizer.state, [g["params"] for g in optimizer.param_groups]
        swap_before = _arrays(swap_params)["p2"], _arrays(swap_state)["state"][2]
        with lib.optim.swap_in_optimizer_params_and_state(optimizer, swap_params, swap_state):
            assert optimizer.param_groups[0]["lr"] == 0.2 and optimizer.param_groups[0]["params"][0] is \
                swap_params["p0"]
            inside = _arrays(optimizer.state_dict())
            optimizer.step()
        # the step moved the swapped-in parameters and wrote the swapped-in state in place
        assert not numpy.allclose(swap_params["p2"].detach().numpy(), swap_before[0])
        moved = "momentum_buffer" if name == "sgd" else "exp_avg"
        assert not numpy.allclose(swap_state["state"][2][moved].numpy(), swap_before[1][moved])
        # the live optimizer: untouched and restored, its params lists the same objects
        assert optimizer.state is state_object
        assert [g["params"] for g in optimizer.param_groups] == lists
        assert all(g["params"] is lst for g, lst in zip(optimizer.param_groups, lists))
        assert optimizer.param_groups[0]["lr"] == (0.1 if name == "sgd" else 0.01)
        _assert_same(_arrays(params), live_params)
        _assert_same(_arrays(optimizer.state_dict()), live_state)
        results.append((inside, _arrays(swap_params), _arrays(swap_state)))
    _assert_same(results[0], results[1])   # the swapped-in params and state, stepped in place, equal torch's


def test_restored_after_an_error_and_new_entries_stay_local():
    for lib in (ember, torch):
        params, optimizer, swap_params, swap_state = _setup(lib, "sgd")
        before = _arrays(optimizer.state_dict())
        with pytest.raises(KeyError):
            with lib.optim.swap_in_optimizer_params_and_state(optimizer, swap_params, swap_state):
                optimizer.state[swap_params["p0"]]["extra"] = 1
                optimizer.param_groups[1]["lr"] = 7.0
                raise KeyError("inside")
        _assert_same(_arrays(optimizer.state_dict()), before)
        assert "extra" not in swap_state["state"][0]


def _errors(lib):
    params, optimizer, swap_params, swap_state = _setup(lib, "adam")
    fresh = lib.optim.SGD([lib.nn.Parameter(lib.ones(2))], lr=0.1)

    def run(opt=optimizer, parameters=swap_params, state=swap_state):
        with lib.optim.swap_in_optimizer_params_and_state(opt, parameters, state):
            pass

    def edited(change):
        state = {"state": dict(swap_state["state"]), "param_groups": [dict(g) for g in swap_state["param_groups"]]}
        change(state)
        return state
    one = lib.ones(1)
    cases = [lambda: run(fresh), lambda: run(state=[1]), lambda: run(state={"param_groups": []}),
             lambda: run(state=edited(lambda s: s.update(state=[]))),
             lambda: run(state=edited(lambda s: s.update(state={one: {}}))),
             lambda: run(state=edited(lambda s: s["state"].update({0: 3}))),
             lambda: run(state=edited(lambda s: s.update(param_groups=(1,)))),
             lambda: run(state=edited(lambda s: s.update(param_groups=s["param_groups"][:1]))),
             lambda: run(state=edited(lambda s: s["param_groups"].__setitem__(0, 5))),
             lambda: run(state=edited(lambda s: s["param_groups"][0].update(params=[0, "1"]))),
             lambda: run(state=edited(lambda s: s["param_groups"][0].update(params=[0]))),
             lambda: run(state=edited(lambda s: s["param_groups"][0].update(extra=1))),
             lambda: run(state=edited(lambda s: s["param_groups"][1].pop("lr"))),
             lambda: run(parameters=dict(list(swap_params.items())[:2])),
             lambda: run(state=edited(lambda s: s["state"].update({9: {}}))),
             lambda: run(state=edited(lambda s: s["state"].update({"x": 1})))]
    found = []
    for case in cases:
        with pytest.raises(Exception) as error:
            case()
        found.append((type(error.value), str(error.value)))
    return found


def test_errors_match_torch():
    for mine, theirs in zip(_errors(ember), _errors(torch), strict=True):
        assert mine == theirs


def test_exported_as_torch():
    assert ember.optim.swap_in_optimizer_params_and_state.__module__ == "ember.optim"
    assert torch.optim.swap_in_optimizer_params_and_state.__module__ == "torch.optim"
    assert ember.optim.swap_in_optimizer_params_and_state.__doc__
