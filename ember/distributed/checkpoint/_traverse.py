"""Walking a nested state_dict (dicts, lists) down to its leaves, and setting a leaf by its path, as PyTorch's
``torch.distributed.checkpoint._traverse``."""
from collections.abc import Mapping

from ..._tensor import Tensor

__all__ = ["traverse_state_dict", "traverse_state_dict_v_2_3", "set_element", "get_element"]


def _keep_visiting_tensors(value):
    return isinstance(value, Tensor)


def traverse_state_dict(state_dict, visitor, keep_traversing=_keep_visiting_tensors):
    """Calls ``visitor(path, value)`` on each leaf: mappings are walked by key (made a str), lists holding tensors or
    containers by index; any other value, and a list of plain values, is a leaf."""
    def is_terminal(value):
        if isinstance(value, Mapping):
            return False
        if not isinstance(value, list):
            return True
        for entry in value:
            if isinstance(entry, (Mapping, list)) and not is_terminal(entry):
                return False
            if keep_traversing is not None and keep_traversing(entry):
                return False
        return True

    def walk(path, value):
        if isinstance(value, Mapping):
            for k, v in value.items():
                walk(path + (str(k),), v)
        elif is_terminal(value):
            visitor(path, value)
        elif isinstance(value, (list, tuple)):
            for i, v in enumerate(value):
                walk(path + (i,), v)

    for key, value in state_dict.items():
        walk((str(key),), value)


def traverse_state_dict_v_2_3(state_dict, visitor, keep_traversing=_keep_visiting_tensors):
    """PyTorch 2.3's walk: a dict or list holding no tensor (at any depth) is one leaf."""
    def is_terminal(value):
        if isinstance(value, Mapping):
            values = value.values()
        elif isinstance(value, list):
            values = value
        else:
            return True
        for entry in values:
            if isinstance(entry, (Mapping, list)) and not is_terminal(entry):
                return False
            if keep_traversing is not None and keep_traversing(entry):
                return False
        return True

    def walk(path, value):
        if is_terminal(value):
            visitor(path, value)
        elif isinstance(value, Mapping):
            for k, v in value.items():
                walk(path + (str(k),), v)
        elif isinstance(value, list):
            for i, v in enumerate(value):
                walk(path + (i,), v)

    for key, value in state_dict.items():
        walk((str(key),), value)


def set_element(root_dict, path, value):
    """Set ``value`` in ``root_dict`` along the ``path`` object path, making dicts (str keys) and lists (int keys)."""
    container = root_dict

    def extend_list(lst, idx):
        while len(lst) <= idx:
            lst.append(None)

    for i in range(1, len(path)):
        prev_key, key = path[i - 1], path[i]
        default = {} if type(key) is str else []
        if isinstance(container, Mapping):
            container = container.setdefault(prev_key, default)
        else:
            extend_list(container, prev_key)
            if container[prev_key] is None:
                container[prev_key] = default
            container = container[prev_key]
    key = path[-1]
    if type(key) is int:
        extend_list(container, key)
    container[key] = value


def get_element(root_dict, path, default_value=None):
    """Retrieve the value at ``path`` from ``root_dict``, returning ``default_value`` if not found."""
    value = root_dict
    for part in path:
        if type(part) is int:
            if not isinstance(value, list) or len(value) < part:
                return default_value
        elif not isinstance(value, Mapping) or part not in value:
            return default_value
        value = value[part]
    return value
