"""Turning a list of samples into a batch (``default_collate``) and samples into tensors (``default_convert``)."""
import collections.abc
import copy
import re

import numpy

import ember

__all__ = ["default_collate", "default_convert", "collate", "default_collate_fn_map", "collate_tensor_fn",
           "collate_numpy_array_fn", "collate_numpy_scalar_fn", "collate_float_fn", "collate_int_fn", "collate_str_fn"]

# NumPy dtype codes of bytes, strings and objects, which have no tensor counterpart (PyTorch's public names).
np_str_obj_array_pattern = re.compile(r"[SaUO]")
default_collate_err_msg_format = ("default_collate: batch must contain tensors, numpy arrays, numbers, dicts or lists; "
                                  "found {}")


def default_convert(data):
    """Converts NumPy arrays and scalars (also inside dicts, lists and tuples) into tensors; leaves the rest."""
    if isinstance(data, ember.Tensor):
        return data
    # Only NumPy's str_ is passed over (as PyTorch's): a bytes_ scalar meets as_tensor's TypeError.
    if type(data).__module__ == "numpy" and not isinstance(data, numpy.str_):
        if isinstance(data, numpy.ndarray) and np_str_obj_array_pattern.search(data.dtype.str):
            return data
        return ember.as_tensor(data)
    return _map_container(data, default_convert, lambda: data)


def _map_container(data, convert, otherwise):
    """Applies ``convert`` to each element of a mapping, namedtuple, tuple or sequence, keeping its type if it can."""
    if isinstance(data, collections.abc.Mapping):
        return _rebuild_mapping(data, {key: convert(data[key]) for key in data})
    if isinstance(data, tuple) and hasattr(data, "_fields"):
        return type(data)(*(convert(item) for item in data))
    if isinstance(data, tuple):
        return [convert(item) for item in data]
    if isinstance(data, collections.abc.Sequence) and not isinstance(data, (str, bytes)):
        return _rebuild_sequence(data, [convert(item) for item in data])
    return otherwise()


def _rebuild_mapping(like, items):
    """A mapping of ``like``'s type holding ``items`` (a plain dict when that type can't be built so)."""
    try:
        if isinstance(like, collections.abc.MutableMapping):
            clone = copy.copy(like)
            clone.update(items)
            return clone
        return type(like)(items)
    except TypeError:
        return items


def _rebuild_sequence(like, items):
    """A sequence of ``like``'s type holding ``items`` (a plain list when that type can't be built so)."""
    try:
        if isinstance(like, collections.abc.MutableSequence):
            clone = copy.copy(like)
            for i, item in enumerate(items):
                clone[i] = item
            return clone
        return type(like)(items)
    except TypeError:
        return items


def collate(batch, *, collate_fn_map=None):
    """Collates ``batch`` by the type of its first element: ``collate_fn_map`` for leaves, recursion for containers."""
    elem = batch[0]
    if collate_fn_map is not None:
        if type(elem) in collate_fn_map:
            return collate_fn_map[type(elem)](batch, collate_fn_map=collate_fn_map)
        for collate_type, collate_fn in collate_fn_map.items():
            if isinstance(elem, collate_type):
                return collate_fn(batch, collate_fn_map=collate_fn_map)
    if isinstance(elem, collections.abc.Mapping):
        return _rebuild_mapping(elem, {key: collate([d[key] for d in batch], collate_fn_map=collate_fn_map)
                                       for key in elem})
    if isinstance(elem, tuple) and hasattr(elem, "_fields"):
        return type(elem)(*(collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)))
    if isinstance(elem, collections.abc.Sequence):
        size = len(elem)
        if not all(len(item) == size for item in batch):
            raise RuntimeError("each element in list of batch should be of equal size")
        columns = [collate(samples, collate_fn_map=collate_fn_map) for samples in zip(*batch)]
        return columns if isinstance(elem, tuple) else _rebuild_sequence(elem, columns)
    raise TypeError(default_collate_err_msg_format.format(type(elem)))


def collate_tensor_fn(batch, *, collate_fn_map=None):
    """Stacks tensors along a new leading dimension."""
    return ember.stack(batch, 0)


def collate_numpy_array_fn(batch, *, collate_fn_map=None):
    """Stacks NumPy arrays of numbers into one tensor."""
    if np_str_obj_array_pattern.search(batch[0].dtype.str):
        raise TypeError(default_collate_err_msg_format.format(batch[0].dtype))
    return collate([ember.as_tensor(array) for array in batch], collate_fn_map=collate_fn_map)


def collate_numpy_scalar_fn(batch, *, collate_fn_map=None):
    """Gathers NumPy scalars into a 1-d tensor."""
    return ember.as_tensor(numpy.array(batch))


def collate_float_fn(batch, *, collate_fn_map=None):
    """Gathers Python floats into a float64 tensor."""
    return ember.tensor(batch, dtype=ember.float64)


def collate_int_fn(batch, *, collate_fn_map=None):
    """Gathers Python ints into an int64 tensor."""
    return ember.tensor(batch)


def collate_str_fn(batch, *, collate_fn_map=None):
    """Leaves strings and bytes as a list."""
    return batch


default_collate_fn_map = {
    ember.Tensor: collate_tensor_fn,
    numpy.ndarray: collate_numpy_array_fn,
    (numpy.bool_, numpy.number, numpy.object_): collate_numpy_scalar_fn,
    float: collate_float_fn,
    int: collate_int_fn,
    str: collate_str_fn,
    bytes: collate_str_fn,
}


def default_collate(batch):
    """Stacks a list of samples into a batch: tensors, arrays and numbers gain a leading batch dimension, containers
    (dicts, lists, tuples, namedtuples) are collated element by element, and strings stay lists."""
    return collate(batch, collate_fn_map=default_collate_fn_map)
