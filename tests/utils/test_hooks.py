"""utils.hooks against torch.utils.hooks: RemovableHandle is what every register_*_hook returns, and behaves as
PyTorch's (ids, removal from its dicts, context manager, weak references, pickling); unserializable_hook and
warn_if_has_hooks."""
import pickle
import warnings
from collections import OrderedDict

import pytest
import torch

import ember

LIBS = {"torch": torch, "ember": ember}


def _registrations(lib):
    """Every kind of hook registration, each as a zero-argument call returning its handle."""
    module = lib.nn.Linear(2, 2)
    tensor = lib.ones(2, requires_grad=True)
    node = (tensor * 2).grad_fn
    optimizer = lib.optim.SGD(module.parameters(), lr=0.1)
    noop = lambda *args, **kwargs: None   # noqa: E731
    return {
        "Module.register_forward_pre_hook": lambda: module.register_forward_pre_hook(noop),
        "Module.register_forward_hook": lambda: module.register_forward_hook(noop),
        "Module.register_full_backward_hook": lambda: module.register_full_backward_hook(noop),
        "Module.register_full_backward_pre_hook": lambda: module.register_full_backward_pre_hook(noop),
        "Module.register_state_dict_pre_hook": lambda: module.register_state_dict_pre_hook(noop),
        "Module.register_state_dict_post_hook": lambda: module.register_state_dict_post_hook(noop),
        "Module.register_load_state_dict_pre_hook": lambda: module.register_load_state_dict_pre_hook(noop),
        "Module.register_load_state_dict_post_hook": lambda: module.register_load_state_dict_post_hook(noop),
        "Tensor.register_hook": lambda: tensor.register_hook(noop),
        "Tensor.register_post_accumulate_grad_hook": lambda: tensor.register_post_accumulate_grad_hook(noop),
        "Node.register_hook": lambda: node.register_hook(noop),
        "Node.register_prehook": lambda: node.register_prehook(noop),
        "Optimizer.register_step_pre_hook": lambda: optimizer.register_step_pre_hook(noop),
        "Optimizer.register_step_post_hook": lambda: optimizer.register_step_post_hook(noop),
        "Optimizer.register_state_dict_pre_hook": lambda: optimizer.register_state_dict_pre_hook(noop),
        "Optimizer.register_state_dict_post_hook": lambda: optimizer.register_state_dict_post_hook(noop),
        "Optimizer.register_load_state_dict_pre_hook": lambda: optimizer.register_load_state_dict_pre_hook(noop),
        "Optimizer.register_load_state_dict_post_hook": lambda: optimizer.register_load_state_dict_post_hook(noop),
    }


@pytest.mark.parametrize("name", LIBS)
def test_every_registration_returns_utils_hooks_removable_handle(name):
    lib = LIBS[name]
    for kind, register in _registrations(lib).items():
        assert type(register()) is lib.utils.hooks.RemovableHandle, kind


def test_one_class_under_torchs_names():
    assert ember.utils.hooks.RemovableHandle.__name__ == "RemovableHandle"
    assert ember.utils.hooks.RemovableHandle.__module__ == "ember.utils.hooks"
    assert sorted(ember.utils.hooks.__all__) == sorted(n for n in torch.utils.hooks.__all__ if n != "BackwardHook")


def _handle_story(lib):
    handle_cls = lib.utils.hooks.RemovableHandle
    hooks, extra, more = OrderedDict(), OrderedDict(), OrderedDict()
    first = handle_cls(hooks)
    second = handle_cls(hooks, extra_dict=extra)
    third = handle_cls(hooks, extra_dict=[extra, more])
    for h in (first, second, third):
        hooks[h.id] = f"hook {h.id - first.id}"
        extra[h.id] = more[h.id] = True
    out = [second.id - first.id, third.id - second.id, handle_cls.next_id == third.id + 1]
    third.remove()
    third.remove()
    out.append((list(hooks.values()), len(extra), len(more)))
    with second as same:
        out.append(same is second)
    out.append((list(hooks.values()), len(extra), len(more)))
    out.append(_describe_error(lambda: handle_cls({})))
    gone = OrderedDict()
    dead = handle_cls(gone)
    del gone
    dead.remove()   # its dict no longer exists
    out.append(dead.hooks_dict_ref() is None)
    clone = pickle.loads(pickle.dumps(first))
    out += [clone.id == first.id, clone.hooks_dict_ref() is None, handle_cls.next_id > first.id]
    state = (hooks, first.id + 10**6, (extra,))
    revived = handle_cls.__new__(handle_cls)
    revived.__setstate__(state)
    out += [revived.hooks_dict_ref() is hooks, handle_cls.next_id == first.id + 10**6 + 1]
    first.remove()
    out.append(list(hooks.values()))
    return out


def _describe_error(call):
    try:
        call()
        return "ok"
    except Exception as error:   # the type and message are what is compared
        return f"{type(error).__name__}: {error}"


def test_handle_behaves_as_torchs():
    assert _handle_story(ember) == _handle_story(torch)


def test_removal_through_the_handle_stops_the_hook():
    seen = {}
    for name, lib in LIBS.items():
        calls = []
        x = lib.ones(2, requires_grad=True)
        handle = x.register_hook(lambda g: calls.append("tensor"))
        y = x * 2
        node_handle = y.grad_fn.register_prehook(lambda g: calls.append("node"))
        with x.register_post_accumulate_grad_hook(lambda t: calls.append("accumulated")):
            y.sum().backward(retain_graph=True)
        handle.remove()
        node_handle.remove()
        y.sum().backward()
        seen[name] = calls
    assert seen["ember"] == seen["torch"] == ["node", "tensor", "accumulated"]


def test_unserializable_hook_and_warn_if_has_hooks():
    seen = {}
    for name, lib in LIBS.items():
        x = lib.ones(2, requires_grad=True)
        marked = lib.utils.hooks.unserializable_hook(lambda g: None)
        assert marked.__torch_unserializable__ is True
        x.register_hook(marked)
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            lib.utils.hooks.warn_if_has_hooks(x)
            x.register_hook(print)
            lib.utils.hooks.warn_if_has_hooks(x)
        seen[name] = [str(w.message).replace("torch", "ember") for w in caught]
    assert seen["ember"] == seen["torch"] and len(seen["ember"]) == 1
