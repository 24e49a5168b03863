"""Optimizer state_dict / load_state_dict hooks against torch.optim: when they run, what they receive, what their
return values do, prepend, and removal through their handles."""
import copy
import pickle

import pytest
import torch

import ember

LIBS = {"torch": torch, "ember": ember}


def _optimizer(lib, lr=0.1):
    params = [lib.nn.Parameter(lib.ones(2, 2)), lib.nn.Parameter(lib.ones(3))]
    optimizer = lib.optim.SGD(params, lr=lr, momentum=0.9)
    for p in params:
        p.grad = lib.ones_like(p)
    optimizer.step()
    return optimizer


def _summary(state_dict):
    """What a state dict holds, in a form both libraries print alike."""
    return {"state": {k: sorted(v) for k, v in state_dict["state"].items()},
            "param_groups": [(g["lr"], g["params"]) for g in state_dict["param_groups"]],
            "extra": sorted(k for k in state_dict if k not in ("state", "param_groups"))}


def _hook_order_story(lib):
    optimizer = _optimizer(lib)
    log = []
    handles = [
        optimizer.register_state_dict_pre_hook(lambda o: log.append(("pre1", o is optimizer))),
        optimizer.register_state_dict_pre_hook(lambda o: log.append(("pre0", len(o.state))), prepend=True),
        optimizer.register_state_dict_post_hook(lambda o, sd: log.append(("post1", _summary(sd)))),
        optimizer.register_state_dict_post_hook(lambda o, sd: sd.update(tag=1), prepend=True),
        optimizer.register_load_state_dict_pre_hook(lambda o, sd: log.append(("lpre1", _summary(sd)))),
        optimizer.register_load_state_dict_pre_hook(lambda o, sd: log.append(("lpre0", o.param_groups[0]["lr"])),
                                                    prepend=True),
        optimizer.register_load_state_dict_post_hook(lambda o: log.append(("lpost1", o.param_groups[0]["lr"]))),
        optimizer.register_load_state_dict_post_hook(lambda o: log.append(("lpost0", len(o.state))), prepend=True),
    ]
    state = optimizer.state_dict()
    log.append(("result", _summary(state)))
    state["param_groups"][0]["lr"] = 0.5
    optimizer.load_state_dict(state)
    log.append(("loaded lr", optimizer.param_groups[0]["lr"]))
    for handle in handles[::2]:
        handle.remove()
    handles[0].remove()   # a second removal does nothing
    optimizer.load_state_dict(optimizer.state_dict())
    log.append([type(h) is lib.utils.hooks.RemovableHandle for h in handles])
    return log


def test_hooks_run_in_torchs_order_with_torchs_arguments():
    assert _hook_order_story(ember) == _hook_order_story(torch)


def _return_value_story(lib):
    optimizer = _optimizer(lib)
    log = []
    replacement = {"replaced": True}
    optimizer.register_state_dict_post_hook(lambda o, sd: None)
    optimizer.register_state_dict_post_hook(lambda o, sd: replacement)
    optimizer.register_state_dict_post_hook(lambda o, sd: log.append(("sees replacement", sd is replacement)))
    out = [optimizer.state_dict() is replacement]

    other = _optimizer(lib)
    given = other.state_dict()
    loaded = copy.deepcopy(given)
    loaded["param_groups"][0]["lr"] = 0.25

    def first(o, sd):
        log.append(("copy", sd is given, sd["state"] is given["state"]))
        sd["ignored"] = 1
        return loaded

    other.register_load_state_dict_pre_hook(first)
    other.register_load_state_dict_pre_hook(lambda o, sd: log.append(("sees returned", sd is loaded)))
    other.load_state_dict(given)
    out += ["ignored" in given, other.param_groups[0]["lr"], log]
    return out


def test_return_values_replace_the_state_dict_as_in_torch():
    assert _return_value_story(ember) == _return_value_story(torch)


def _edit_in_place_story(lib):
    optimizer = _optimizer(lib)

    def halve(o, sd):
        for group in sd["param_groups"]:
            group["lr"] /= 2

    optimizer.register_load_state_dict_pre_hook(halve)
    optimizer.register_load_state_dict_post_hook(lambda o: o.param_groups[0].update(lr=o.param_groups[0]["lr"] * 3))
    given = optimizer.state_dict()
    optimizer.load_state_dict(given)
    return [optimizer.param_groups[0]["lr"], given["param_groups"][0]["lr"]]


def test_pre_hook_edits_in_place():
    result = _edit_in_place_story(ember)
    assert result == _edit_in_place_story(torch)
    assert result[0] == pytest.approx(0.15)


@pytest.mark.parametrize("name", LIBS)
def test_handles_work_as_context_managers(name):
    lib = LIBS[name]
    optimizer = _optimizer(lib)
    calls = []
    with optimizer.register_state_dict_pre_hook(lambda o: calls.append(1)) as handle:
        optimizer.state_dict()
    optimizer.state_dict()
    assert calls == [1] and isinstance(handle, lib.utils.hooks.RemovableHandle)


@pytest.mark.parametrize("name", LIBS)
def test_hooks_are_not_pickled(name):
    lib = LIBS[name]
    optimizer = _optimizer(lib)
    optimizer.register_state_dict_pre_hook(print)
    optimizer.register_load_state_dict_post_hook(print)
    clone = pickle.loads(pickle.dumps(optimizer))
    for attr in ("_optimizer_state_dict_pre_hooks", "_optimizer_state_dict_post_hooks",
                 "_optimizer_load_state_dict_pre_hooks", "_optimizer_load_state_dict_post_hooks"):
        assert getattr(clone, attr) == {}
    clone.load_state_dict(clone.state_dict())


@pytest.mark.parametrize("name", LIBS)
def test_profile_hook_step_runs_the_step_hooks(name):
    lib = LIBS[name]
    optimizer = _optimizer(lib)
    calls = []
    optimizer.register_step_pre_hook(lambda o, args, kwargs: calls.append(("pre", len(args))))
    optimizer.register_step_post_hook(lambda o, args, kwargs: calls.append(("post", len(args))))

    def step(self, scale):
        calls.append(("step", scale))
        return scale

    assert lib.optim.Optimizer.profile_hook_step(step)(optimizer, 3) == 3
    assert calls == [("pre", 2), ("step", 3), ("post", 2)]
