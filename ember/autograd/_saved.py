"""What a node keeps for backward: its saved entries, packed with saved-tensor hooks and unpacked again, and the
errors for what was freed or changed in place since it was saved.

A saved entry is ``(kind, value, version)``: "tensor" an input, "output" one of the node's own outputs, "array" an
array a Primitive saved, "value" a non-tensor, "packed" what a pack hook returned (a ``_Packed``).
"""
import re
import threading

import numpy

from .._tensor import Tensor, _make
from .grad_mode import no_grad

_ndarray = numpy.ndarray


class _SavedTensorsHooks(threading.local):
    """Per thread, as PyTorch's: the stack of ``(pack_hook, unpack_hook)`` pairs ops pack what they save with
    (innermost last; ``None`` is a level without hooks, such as a checkpointed region's), the message
    ``disable_saved_tensors_hooks`` set, and the tensor an in-place method is about to overwrite."""
    stack = ()
    disabled = None
    overwriting = None


saved_tensors_hooks_state = _SavedTensorsHooks()


def _freed_error():
    return RuntimeError(
        "Trying to backward through the graph a second time (or directly access saved tensors after they have "
        "already been freed). Saved intermediate values of the graph are freed when you call .backward() or "
        "autograd.grad(). Specify retain_graph=True if you need to backward through the graph a second time or if "
        "you need to access saved tensors after calling backward.")


def _unpack(node, entry):
    if entry is None:
        return None
    kind, value, version = entry
    if kind == "tensor":
        if value._version_counter[0] != version:
            raise _modified_error(value, value._version_counter, version)
        return value
    if kind == "array":
        return _make(value)
    if kind == "value":
        return value
    if kind == "packed":
        return _unpack_packed(node, value)
    counter, array, nr = value   # an output of the node itself
    tensor = _make(array, requires_grad=True, grad_fn=node, output_nr=nr)
    if counter[0] != version:
        raise _modified_error(tensor, counter, version)
    return tensor


class _Packed:
    """A saved tensor as a pack hook packed it: what the hook returned, the hooks, and where the unpacked tensor's
    gradient goes (``how``: "node" an output ``nr`` of ``link``, "leaf" the leaf ``link``, "constant" nowhere);
    ``source`` is the id of the tensor packed when an in-place write into it may follow."""

    __slots__ = ("value", "hooks", "how", "link", "nr", "source")


def _pack_saved(ctx, outputs):
    """Packs what ``ctx`` saved with this thread's innermost saved-tensor hooks, as PyTorch packs every tensor an
    op saves for backward (Python numbers and other non-tensors stay as they are). A Primitive's arrays kept as
    ``ctx`` attributes (indices, statistics, masks) are what PyTorch's own ops save too: they are packed as well."""
    state = saved_tensors_hooks_state
    if not state.stack:
        return
    hooks = state.stack[-1]
    if hooks is None:
        return
    attributes = _array_attributes(ctx) if ctx._function._array_level else None
    if not ctx._saved and not attributes:
        return
    entries = list(ctx._saved or ())
    for i, entry in enumerate(entries):
        if entry is None:
            continue
        kind, value, _ = entry
        if kind == "tensor":
            if value is state.overwriting:
                copy = _make(value._data.copy(), value.requires_grad, value.grad_fn, value._output_nr)
                entries[i] = ("packed", _pack(hooks, copy, kind, ctx, None), 0)
            else:
                entries[i] = ("packed", _pack(hooks, value, kind, ctx, id(value)), 0)
        elif kind == "output":
            entries[i] = ("packed", _pack(hooks, outputs[value[2]], kind, ctx, None), 0)
        elif kind == "array":
            entries[i] = ("packed", _pack(hooks, _make(value), kind, ctx, None), 0)
    ctx._saved = entries
    ctx._backward_on_arrays = False   # the backward on tensors: an unpacked tensor may not be what was saved
    if attributes:
        ctx._packed_attributes = {name: _pack_arrays(hooks, ctx.__dict__.pop(name), ctx) for name in attributes}
        ctx.__class__ = _with_packed_attributes(type(ctx))


def _is_array(value):
    return isinstance(value, _ndarray) or hasattr(value, "__cuda_array_interface__")


def _holds_arrays(value):
    if isinstance(value, (tuple, list)):
        return any(_holds_arrays(v) for v in value)
    return _is_array(value)


def _array_attributes(ctx):
    """The names of a node's attributes set by its forward that hold arrays (also inside tuples and lists)."""
    names = []
    for name, value in ctx.__dict__.items():
        if name[0] != "_" and name not in ("needs_input_grad", "xp", "materialize_grads") and _holds_arrays(value):
            names.append(name)
    return names


def _pack_arrays(hooks, value, ctx):
    """``value`` with each array in it (in tuples and lists too) packed."""
    if isinstance(value, (tuple, list)):
        return type(value)(_pack_arrays(hooks, v, ctx) for v in value)
    if _is_array(value):
        return _pack(hooks, _make(value), "array", ctx, None)
    return value


def _unpack_arrays(node, value):
    if isinstance(value, (tuple, list)):
        return type(value)(_unpack_arrays(node, v) for v in value)
    if isinstance(value, _Packed):
        return _unpack_packed(node, value)._data
    return value


_hooked_node_classes = {}


def _with_packed_attributes(cls):
    """``cls`` (a node class) with its packed attributes unpacked when read; made once per class."""
    hooked = _hooked_node_classes.get(cls)
    if hooked is None:
        hooked = type(cls.__name__, (cls,), {"__getattr__": _packed_attribute, "_release": _release_packed,
                                             "__module__": cls.__module__, "__qualname__": cls.__qualname__})
        _hooked_node_classes[cls] = hooked
    return hooked


def _packed_attribute(node, name):
    """An attribute the forward set and a pack hook packed: unpacked on every read, as saved tensors are."""
    packed = node.__dict__.get("_packed_attributes")
    if packed is None or name not in packed:
        return _unhooked(node, "__getattr__", _packed_attribute)(node, name)
    if packed[name] is None:
        raise _freed_error()
    return _unpack_arrays(node, packed[name])


def _release_packed(node):
    """``Node._release`` for a node with packed attributes: they go too."""
    _unhooked(node, "_release", _release_packed)(node)
    node._freed = True
    node._packed_attributes = dict.fromkeys(node._packed_attributes)


def _unhooked(node, name, hooked):
    """The node class's own method ``name``, past the ``hooked`` one the packed-attribute classes put in front."""
    for cls in type(node).__mro__:
        method = cls.__dict__.get(name)
        if method is not None and method is not hooked:
            return method
    raise AttributeError(name)


def _pack(hooks, tensor, kind, node, source):
    """One saved tensor packed with ``hooks`` (the hook runs with grad recording off, as PyTorch's)."""
    packed = _Packed()
    packed.hooks, packed.source, packed.nr = hooks, source, tensor._output_nr
    if kind == "output":
        packed.how, packed.link = "node", node
    elif tensor.grad_fn is not None:
        packed.how, packed.link = "node", tensor.grad_fn
    elif tensor.requires_grad:
        packed.how, packed.link = "leaf", tensor
    else:
        packed.how, packed.link = "constant", None
    version = tensor._version_counter[0]
    with no_grad():
        packed.value = hooks[0](tensor)
    if tensor._version_counter[0] != version:
        raise RuntimeError("A saved tensor pack hook is modifying its input in place. Tensors provided as input to "
                           "pack hook cannot be modified by in-place operations as this can lead to unexpected "
                           "side-effects. Please open an issue if you need to perform in-place operations on the "
                           "input to a pack hook.")
    return packed


class SavedTensor:
    """One tensor a node saved for backward (PyTorch's ``grad_fn._raw_saved_<name>``): ``register_hooks`` packs it
    with ``pack_hook`` now and has backward read ``unpack_hook``'s result, as ``saved_tensors_hooks`` would have."""

    def __init__(self, node, index):
        self._node, self._index = node, index

    def register_hooks(self, pack_hook, unpack_hook):
        """Repacks the saved tensor with these hooks (one pair per saved tensor)."""
        if not callable(pack_hook) or not callable(unpack_hook):
            raise TypeError("register_hooks(): incompatible function arguments: pack_hook and unpack_hook must be "
                            "callables")
        node = self._node
        if node._freed:
            raise RuntimeError("Calling register_hooks on a saved tensor after it has been freed. Saved intermediate "
                               "values of the graph are freed when you call .backward() or autograd.grad(). Specify "
                               "retain_graph=True if you need to backward through the graph a second time or if you "
                               "need to access saved variables after calling backward.")
        entries = list(node._saved or ())
        entry = entries[self._index] if self._index < len(entries) else None
        if entry is None:
            raise RuntimeError("Calling register_hooks on a saved tensor with value None is forbidden")
        if entry[0] == "packed":
            raise RuntimeError("Calling register_hooks on a saved tensor whose hooks have already been set. Hint: only "
                               "one pair of hooks is allowed at a time.")
        tensor = _unpack(node, entry)
        entries[self._index] = ("packed", _pack((pack_hook, unpack_hook), tensor, "output" if entry[0] == "output"
                                                else entry[0], node, id(tensor) if entry[0] == "tensor" else None), 0)
        node._saved = entries
        node._backward_on_arrays = False   # backward reads the unpacked tensor


def _unpack_packed(node, packed):
    """The unpack hook's tensor, joined to the graph where the saved tensor was (as PyTorch's unpacked tensors):
    gradients through it reach the saved tensor's producer or leaf, not whatever the hook returned."""
    tensor = packed.hooks[1](packed.value)
    if not isinstance(tensor, Tensor):
        raise TypeError(f"Output of saved tensor unpack_hook expected to be a Tensor but got result of type "
                        f"{_type_name(tensor)}")
    if tensor.is_sparse:
        return tensor
    how = packed.how
    if how == "node":
        return _make(tensor._data, True, packed.link, packed.nr)
    if how == "leaf":
        leaf = packed.link
        edge = saved_leaf_node[0]()
        edge.needs_input_grad = (True,)
        edge._edges = ((leaf, 0),)
        edge._input_meta = ((leaf._data.shape, leaf._data.dtype),)
        return _make(tensor._data, True, edge, 0)
    return _make(tensor._data)


def _type_name(value):
    """A type's name as CPython's ``tp_name`` spells it in messages (``int``, ``numpy.ndarray``, ``MyClass``)."""
    kind = type(value)
    if kind.__flags__ & (1 << 9) or kind.__module__ == "builtins":   # Py_TPFLAGS_HEAPTYPE: a class defined in Python
        return kind.__name__
    return f"{kind.__module__}.{kind.__qualname__}"


anomaly_enabled = [False]
"""Whether anomaly detection is on (``anomaly_mode`` sets it)."""


def keep_versions(result, *tensors):
    """Has the backward of ``result``'s node refuse ``tensors`` once changed in place, as PyTorch's version check on
    what its nodes save: for ops whose node holds a tensor's array itself (index, mask and target inputs; index
    outputs) rather than saving the tensor. Arguments that are not tensors are skipped; returns ``result``."""
    node = result.grad_fn
    kept = tuple((t, t._version_counter[0]) for t in tensors if isinstance(t, Tensor))
    if node is not None and kept:
        node._kept_versions = node._kept_versions + kept
    return result


def check_kept_versions(node):
    """Raises PyTorch's error if a tensor ``keep_versions`` recorded for ``node`` was changed in place since."""
    for tensor, version in node._kept_versions:
        if tensor._version_counter[0] != version:
            mask_type = f"{tensor.device.type.upper()}BoolType" if tensor._data.dtype == numpy.bool_ else None
            raise _modified_error(tensor, tensor._version_counter, version, mask_type)


def _modified_error(tensor, counter, version, type_name=None):
    """PyTorch's error for a saved tensor changed in place since it was saved, naming it by type (``type_name``, or
    ``tensor.type()``) and size and, where it has one, by the op whose output it now is (``which is output 0 of
    Exp``)."""
    made_by = ""
    if tensor.grad_fn is not None:
        op = re.sub(r"Backward[0-9]*$", "", tensor.grad_fn.name())
        made_by = f", which is output {tensor._output_nr} of {op},"
    hint = ("the backtrace further above shows the operation that failed to compute its gradient. The variable in "
            "question was changed in there or anywhere later. Good luck!") if anomaly_enabled[0] else (
        "enable anomaly detection to find the operation that failed to compute its gradient, with "
        "torch.autograd.set_detect_anomaly(True, check_nan=False).")
    return RuntimeError(
        "one of the variables needed for gradient computation has been modified by an inplace operation: "
        f"[{type_name or tensor.type()} {list(tensor.shape)}]{made_by} is at version {counter[0]}; expected version "
        f"{version} instead. Hint: {hint}")


saved_leaf_node = [None]
"""The node class of ``function._SavedLeaf`` (registered there): where gradients through an unpacked leaf go."""
