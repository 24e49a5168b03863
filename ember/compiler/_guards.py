"""Guards: the key under which a capture is valid — each tensor input's shape, dtype, device and requires_grad,
the other arguments' values, grad mode, and for a module every submodule's plain attributes (``training``, ``p``)
and tensor attributes' identities, and the identity, requires_grad, shape and dtype of every parameter and buffer;
a function's global and closure tensors that the capture read are checked by identity. A call whose key has no
capture recompiles (up to ``ember._dynamo.config.recompile_limit`` captures, and as ``compiler.set_stance`` allows),
then runs eagerly."""
import functools
import operator

import numpy

from .._tensor import Tensor
from ..autograd.grad_mode import state


class Unguardable(Exception):
    """An argument whose value cannot key a cache (an unhashable non-tensor): the call runs eagerly."""


def flatten_arguments(args, kwargs):
    """(tensors, key of everything else) for the call's arguments; nested tuples/lists/dicts are walked."""
    tensors = []
    key = (_walk(args, tensors), _walk(kwargs, tensors) if kwargs else None)
    try:
        hash(key)
    except TypeError:
        raise Unguardable() from None
    return tensors, key


def _walk(obj, tensors):
    if isinstance(obj, Tensor):
        tensors.append(obj)
        return _tensor_key(obj)
    if type(obj) in (tuple, list) or is_named_tuple(obj):
        return (type(obj), tuple(_walk(o, tensors) for o in obj))
    if type(obj) is dict:
        return (dict, tuple((k, _walk(v, tensors)) for k, v in obj.items()))
    if isinstance(obj, numpy.ndarray):
        raise Unguardable()
    return (type(obj), obj)


def is_named_tuple(obj):
    """Whether ``obj`` is a named tuple (PyTorch's return types, PackedSequence): a container of its fields."""
    return isinstance(obj, tuple) and hasattr(type(obj), "_fields")


def _tensor_key(t):
    data = t._data
    return (type(t), type(data), data.shape, data.dtype, data.strides, t.requires_grad)


def modules_of(root):
    """``root`` and its submodules, each once."""
    seen, order, stack = set(), [], [root]
    while stack:
        module = stack.pop()
        if id(module) in seen:
            continue
        seen.add(id(module))
        order.append(module)
        stack.extend(m for m in reversed(module._modules.values()) if m is not None)
    return order


_SCALARS = (bool, int, float, str, type(None))


def module_state(modules):
    """(key, tensors): the modules' plain attributes (``training``, dropout's ``p``, ...: values a forward reads
    into the capture as constants), the identities of their other tensor attributes, and their parameters and
    buffers, in a fixed order."""
    tensors, key = [], []
    for module in modules:
        for name, value in module.__dict__.items():
            if type(value) in _SCALARS:
                key.append((name, value))
            elif isinstance(value, Tensor):
                key.append((name, id(value)))
        for group in (module._parameters, module._buffers):
            for name, t in group.items():
                if t is None:
                    key.append((name, None))
                    continue
                tensors.append(t)
                key.append((id(t), t.requires_grad, t._data.shape, t._data.dtype, type(t._data)))
    return tuple(key), tensors


def has_hooks(modules):
    """Whether any module has forward or backward hooks (Python code a replay would skip)."""
    return any(m._forward_pre_hooks or m._forward_hooks or m._backward_hooks or m._backward_pre_hooks
               for m in modules)


def grad_mode():
    return state.enabled


class ModuleGuard:
    """The module part of a call's guard key (its modules, their ``module_state`` and whether any has hooks), worked
    out again only when something it is made of may have changed: each call compares, by identity, a snapshot of
    every module's attributes, children, parameters and buffers (and their arrays and ``requires_grad``) and its
    hook counts with the last one (12 us a call for the seeds' MLP against 21 to work the key out; ResNet-18 118
    against 229)."""

    def __init__(self, root):
        self.root, self.last = root, None   # last: (snapshot, state), replaced whole (calls from several threads)
        self.tokens = {}   # module_state key -> a small int standing for it in the call's key (hashed at once)

    def state(self):
        """(modules, token, tensors, hooked): the root and its submodules, a number standing for ``module_state``'s
        key (equal keys, equal numbers), its tensors, and ``has_hooks``."""
        last = self.last
        if last is not None:
            before, state = last
            snapshot = _snapshot(state[0])
            if len(snapshot) == len(before) and all(map(operator.is_, snapshot, before)):
                return state
        modules = modules_of(self.root)
        key, tensors = module_state(modules)
        state = (modules, self.tokens.setdefault(key, len(self.tokens)), tensors, has_hooks(modules))
        self.last = (_snapshot(modules), state)
        return state


_DATA, _REQUIRES_GRAD = operator.attrgetter("_data"), operator.attrgetter("requires_grad")
_PRESENT = functools.partial(operator.is_not, None)


def _snapshot(modules):
    """The objects ``module_state``, ``modules_of`` and ``has_hooks`` read from ``modules``, flat, in a fixed order
    (gathered by C-level extends and maps: this runs at every call)."""
    items, tensors = [], []
    for m in modules:
        namespace = m.__dict__
        items += namespace
        items += namespace.values()
        items += m._modules.values()
        items += (len(m._forward_pre_hooks), len(m._forward_hooks), len(m._backward_hooks),
                  len(m._backward_pre_hooks))
        tensors += m._parameters.values()
        tensors += m._buffers.values()
    items += tensors
    present = list(filter(_PRESENT, tensors))
    items += map(_DATA, present)
    items += map(_REQUIRES_GRAD, present)
    return items
