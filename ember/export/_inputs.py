"""The user inputs of an export: ``(args, kwargs)`` flattened to leaves (tensors become graph inputs, other leaves are
specialized constants), each with PyTorch's names: ``xs_0`` in the graph, ``xs[0]`` in guards, ``L['xs'][0]`` in
export errors."""
import inspect
import re

from .._tensor import Tensor
from ..utils import _pytree
from .dynamic_shapes import keystr

_CONSTANT_TYPES = (int, float, bool, str, type(None))


class Leaf:
    """One leaf of the inputs: its value, the forward argument it belongs to and its key path inside it."""

    __slots__ = ("value", "argument", "keys")

    def __init__(self, value, argument, keys):
        self.value, self.argument, self.keys = value, argument, tuple(keys)

    @property
    def graph_name(self):
        """The name of its graph input (``xs_0``, ``d_a``): its path's keys, lowercase, joined by ``_``."""
        return "_".join(re.sub(r"[^a-zA-Z0-9]", "_", str(key)).lower() for key in (self.argument, *self.keys))

    @property
    def source(self):
        """How guards name it (``xs[0]``)."""
        return self.argument + keystr(self.keys)

    @property
    def local(self):
        """How export errors name it (``L['xs'][0]``)."""
        return f"L[{self.argument!r}]" + keystr(self.keys)


def argument_names(mod, count):
    """The forward parameter names of ``count`` positional arguments (extra ones of ``*args`` as ``args[i]``)."""
    names, star = [], None
    for parameter in inspect.signature(mod.forward).parameters.values():
        if parameter.kind in (parameter.POSITIONAL_ONLY, parameter.POSITIONAL_OR_KEYWORD):
            names.append((parameter.name, ()))
        elif parameter.kind is parameter.VAR_POSITIONAL:
            star = parameter.name
    while len(names) < count:
        names.append((star or "args", (len(names) - sum(1 for _, k in names if not k),)))
    return names[:count]


def flatten(mod, args, kwargs):
    """(the TreeSpec of ``(args, kwargs)``, its Leaf objects in order)."""
    _, spec = _pytree.tree_flatten((args, kwargs))
    leaves = []

    def walk(node, argument, keys):
        if _pytree.tree_is_leaf(node):
            if not isinstance(node, (Tensor,) + _CONSTANT_TYPES):
                from .._dynamo.exc import UserError, UserErrorType
                raise UserError(UserErrorType.INVALID_INPUT, f"ember.export: the input {argument + keystr(keys)} is "
                                f"a {type(node).__name__}; inputs must be tensors, numbers, strings, None or "
                                "tuples, lists and dicts of them")
            leaves.append(Leaf(node, argument, keys))
            return
        children, context = _pytree._children(node)
        for key, child in zip(context if isinstance(node, dict) else range(len(children)), children):
            walk(child, argument, keys + (key,))

    for arg, (name, keys) in zip(args, argument_names(mod, len(args))):
        walk(arg, name, keys)
    for name, value in kwargs.items():
        walk(value, name, ())
    return spec, leaves


def matched(spec, args, kwargs):
    """The leaves of a call's ``(args, kwargs)`` (keywords in the exported order) if it has the exported structure,
    else PyTorch's ValueError."""
    if isinstance(spec.children_specs[1].context, list) and set(kwargs) == set(spec.children_specs[1].context):
        kwargs = {key: kwargs[key] for key in spec.children_specs[1].context}
    leaves, got = _pytree.tree_flatten((tuple(args), kwargs))
    if got != spec:
        raise ValueError(f"Trying to flatten user inputs with exported input tree spec: \n{spec}\nbut actually got "
                         f"inputs with tree spec of: \n{got}.\nPlease check that the inputs have the same number and "
                         "type of args and kwargs as the ones you used when tracing.")
    return leaves
