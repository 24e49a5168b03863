"""``swap_in_optimizer_params_and_state``: run an optimizer on other parameters and another state for a while."""
import contextlib
from collections import defaultdict

from .._tensor import Tensor

__all__ = ["swap_in_optimizer_params_and_state"]

_NAME = "swap_in_optimizer_params_and_state"


def _checked_state(state):
    """The swap-in ``state``: a dict from packed parameter ids to per-parameter dicts."""
    if not isinstance(state, dict):
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['state'] to be a dict mapping packed parameter ids "
                           f"to per-param state dicts, got {type(state).__name__}.")
    if any(isinstance(key, Tensor) for key in state):
        raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style state keyed by packed parameter ids.")
    if any(isinstance(key, int) and not isinstance(value, dict) for key, value in state.items()):
        raise RuntimeError(f"{_NAME} requires per-parameter optimizer state entries to be dictionaries.")
    return state


def _checked_groups(optimizer, groups):
    """The swap-in ``param_groups``: a list as long as the optimizer's."""
    if not isinstance(groups, list):
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['param_groups'] to be a list of param-group dicts, "
                           f"got {type(groups).__name__}.")
    if len(optimizer.param_groups) != len(groups):
        raise RuntimeError("swapin_optim_state has a different number of parameter groups than the live optimizer.")
    return groups


def _checked_ids(index, live, swapin):
    """The packed parameter ids of swap-in group ``index``, after checking it against the live group."""
    if not isinstance(swapin, dict):
        raise RuntimeError(f"{_NAME} requires each optimizer param group to be a dictionary.")
    ids = swapin.get("params")
    if not isinstance(ids, list) or not all(isinstance(i, int) for i in ids):
        raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style param_groups[*]['params'] entries keyed "
                           "by packed parameter ids.")
    if len(live["params"]) != len(ids):
        raise RuntimeError(f"swapin_optim_state param group {index} has a different number of params than the live "
                           "optimizer param group.")
    only_swapin = [key for key in swapin if key not in live]
    only_live = [key for key in live if key not in swapin]
    if only_swapin or only_live:
        raise RuntimeError(f"{_NAME} requires optimizer.state_dict()-style param group keys to exactly match the live "
                           f"optimizer group keys for group {index}. Keys only in swap-in: {only_swapin}. Keys only "
                           f"in live: {only_live}.")
    return ids


def _plan(optimizer, swapin_parameters, swapin_optim_state):
    """The checked swap-in state and, per group, (live group, swap-in group, the tensors its ids stand for)."""
    if not optimizer.state:
        raise RuntimeError(f"{_NAME} requires initialized optimizer state.")
    if not isinstance(swapin_optim_state, dict):
        raise RuntimeError(f"{_NAME} requires a DCP-style optimizer state_dict.")
    state = _checked_state(swapin_optim_state.get("state"))
    groups = _checked_groups(optimizer, swapin_optim_state.get("param_groups"))
    tensors = list(swapin_parameters.values())   # in the order of optimizer.param_groups' parameters
    used, seen, plan = 0, set(), []
    for index, (live, swapin) in enumerate(zip(optimizer.param_groups, groups)):
        ids = _checked_ids(index, live, swapin)
        seen.update(ids)
        if used + len(ids) > len(tensors):
            raise RuntimeError(f"{_NAME} requires the explicit parameter state to match optimizer.param_groups "
                               "ordering.")
        plan.append((live, swapin, tensors[used:used + len(ids)]))
        used += len(ids)
    extra = [key for key in state if key not in seen]
    if extra:
        raise RuntimeError(f"{_NAME} requires swapin_optim_state['state'] to be keyed only by packed parameter ids "
                           f"from param_groups[*]['params']; got extra keys {extra!r}.")
    return state, plan


@contextlib.contextmanager
def swap_in_optimizer_params_and_state(optimizer, swapin_parameters, swapin_optim_state):
    """Context manager: the optimizer's groups hold ``swapin_parameters`` (in parameter order) with the options and
    state of ``swapin_optim_state`` (a ``state_dict()``); everything is restored on exit."""
    state, plan = _plan(optimizer, swapin_parameters, swapin_optim_state)
    live_state = optimizer.state
    snapshots = [dict(group) for group in optimizer.param_groups]   # the same params lists, restored as they were
    try:
        swapped = defaultdict(dict)
        for live, swapin, tensors in plan:
            live["params"] = tensors
            live.update((key, value) for key, value in swapin.items() if key != "params")
            for tensor, packed in zip(tensors, swapin["params"]):
                # a copy of each dict: in-place edits of its tensors reach the caller's state, new entries do not
                swapped[tensor] = dict(state.get(packed, {}))
        optimizer.state = swapped
        yield
    finally:
        for group, snapshot in zip(optimizer.param_groups, snapshots):
            group.clear()
            group.update(snapshot)
        optimizer.state = live_state
