"""``DataLoader(pin_memory=True)``: batches copied into page-locked host memory, so ``.cuda(non_blocking=True)``
copies them asynchronously."""
import collections.abc

import ember


def pin_memory(data):
    """``data`` with every CPU tensor in it (through dicts, lists, tuples and named tuples) pinned, as PyTorch's."""
    if isinstance(data, ember.Tensor):
        return data.pin_memory()
    if isinstance(data, (str, bytes)):
        return data
    if isinstance(data, collections.abc.Mapping):
        pinned = {key: pin_memory(value) for key, value in data.items()}
        try:
            return type(data)(pinned)
        except TypeError:
            return pinned
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(pin_memory(value) for value in data))
    if isinstance(data, tuple):
        return tuple(pin_memory(value) for value in data)
    if isinstance(data, collections.abc.Sequence):
        try:
            return type(data)([pin_memory(value) for value in data])
        except TypeError:
            return [pin_memory(value) for value in data]
    if hasattr(data, "pin_memory"):
        return data.pin_memory()
    return data
