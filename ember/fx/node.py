"""``Node``: one operation of a ``Graph`` (torch.fx's ``Node``), and the helpers that walk its arguments."""
import types
import typing

from .. import return_types
from ._names import pretty_target, public_class_name, public_entry
from .immutable_collections import immutable_dict, immutable_list

__all__ = ["Node", "map_arg", "map_aggregate", "has_side_effect"]

_side_effectful_functions = set()
# Random functions change the generator's state, so dead-code elimination keeps them (torch's _RANDOM_FUNCTIONS).
_RANDOM_FUNCTIONS = {f"torch.{name}" for name in ("rand", "randn", "randint", "randperm", "rand_like", "randn_like",
                                                   "randint_like", "normal", "poisson", "bernoulli", "multinomial")}


def has_side_effect(fn):
    """Marks ``fn`` as having side effects, so dead-code elimination keeps its calls; returns ``fn``."""
    _side_effectful_functions.add(fn)
    return fn


def is_namedtuple(a):
    """True for a named tuple torch.fx rebuilds by type; not for ember's return types, which stand for torch's
    ``torch.return_types`` (structseqs, that torch.fx treats as plain tuples)."""
    return hasattr(a, "_fields") and getattr(return_types, type(a).__name__, None) is not type(a)


def map_aggregate(a, fn):
    """Applies ``fn`` to each leaf of ``a``, rebuilding tuples (named ones too), lists and dicts (as immutable
    ones) and slices."""
    if isinstance(a, tuple):
        values = tuple(map_aggregate(elem, fn) for elem in a)
        return type(a)(*values) if is_namedtuple(a) else values
    if isinstance(a, list):
        return immutable_list(map_aggregate(elem, fn) for elem in a)
    if isinstance(a, dict):
        return immutable_dict((k, map_aggregate(v, fn)) for k, v in a.items())
    if isinstance(a, slice):
        return slice(map_aggregate(a.start, fn), map_aggregate(a.stop, fn), map_aggregate(a.step, fn))
    return fn(a)


def map_arg(a, fn):
    """Applies ``fn`` to each ``Node`` inside the argument structure ``a``."""
    if not callable(fn):
        raise AssertionError("torch.fx.map_arg(a, fn): fn must be a callable")
    return map_aggregate(a, lambda x: fn(x) if isinstance(x, Node) else x)


def _type_repr(obj):
    """A type annotation as printouts show it: ``int``, ``torch.Tensor``, ``typing.Optional[torch.Tensor]``;
    other objects by ``repr``. ember's public classes print by their public name."""
    if isinstance(obj, type) and not isinstance(obj, types.GenericAlias):
        if obj.__module__ == "builtins":
            return obj.__qualname__
        public = public_class_name(obj)
        return public if public is not None else f"{obj.__module__}.{obj.__qualname__}"
    if obj is ...:
        return "..."
    if isinstance(obj, types.FunctionType):
        return obj.__name__
    text = repr(obj)
    for arg in _type_args(obj):
        public = public_class_name(arg)
        if public is not None:
            text = text.replace(f"{arg.__module__}.{arg.__qualname__}", public)
    return text


def _type_args(obj):
    for arg in typing.get_args(obj):
        yield arg
        yield from _type_args(arg)


def _typename(obj):
    """An object's type as torch.typename names it (``str``, ``len``, ``ember.nn.modules.linear.Linear``)."""
    module = getattr(obj, "__module__", "") or ""
    qualname = getattr(obj, "__qualname__", None) or getattr(obj, "__name__", None)
    if qualname is None:
        module, qualname = type(obj).__module__, type(obj).__qualname__
    return qualname if module in ("", "builtins") else f"{module}.{qualname}"


def _format_arg(arg):
    """An argument as the graph printout shows it: nodes as ``%name``, containers element by element."""
    if isinstance(arg, list):
        return "[" + ", ".join(_format_arg(a) for a in arg) + "]"
    if isinstance(arg, tuple):
        return "(" + ", ".join(_format_arg(a) for a in arg) + ("," if len(arg) == 1 else "") + ")"
    if isinstance(arg, dict):
        return "{" + ", ".join(f"{k}: {_format_arg(v)}" for k, v in arg.items()) + "}"
    return "%" + str(arg) if isinstance(arg, Node) else str(arg)


class Node:
    """One operation in a ``Graph``: ``op`` is ``placeholder``, ``get_attr``, ``call_function``,
    ``call_method``, ``call_module`` or ``output``; ``target`` what it calls or fetches; ``args``/``kwargs``
    its inputs (other nodes among them); ``users`` the nodes that read its value."""

    def __init__(self, graph, name, op, target, args, kwargs, return_type=None):
        if op == "call_function":
            if not callable(target):
                raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has type "
                                 f"{_typename(target)} but a Callable is expected")
        else:
            if op not in ("placeholder", "call_method", "call_module", "get_attr", "output", "root"):
                raise AssertionError(f"op '{op}' is not in _legal_ops")
            if not isinstance(target, str):
                raise ValueError(f"Node [graph = {graph}, name = '{name}'] target {target} has type "
                                 f"{_typename(target)} but a str is expected")
        self.graph, self.name, self.op, self.target = graph, name, op, target
        self._input_nodes = {}
        self.users = {}
        self.type = return_type
        self._prev = self._next = self
        self._erased = False
        self.meta = {}
        self._args, self._kwargs = (), {}
        self._update_args_kwargs(args, kwargs)

    # --- the linked list the graph keeps its nodes in -------------------------------------------------------
    @property
    def next(self):
        """The node after this one in the graph."""
        return self._next

    @property
    def prev(self):
        """The node before this one in the graph."""
        return self._prev

    def prepend(self, x):
        """Moves node ``x`` to just before this node."""
        if self is x:
            return
        if self.graph is not x.graph:
            raise AssertionError("Attempting to move a Node into a different Graph")
        x._remove_from_list()
        p = self._prev
        p._next, x._prev = x, p
        x._next, self._prev = self, x

    def append(self, x):
        """Moves node ``x`` to just after this node."""
        self._next.prepend(x)

    def _remove_from_list(self):
        p, n = self._prev, self._next
        p._next, n._prev = n, p

    # --- arguments and uses ---------------------------------------------------------------------------------
    @property
    def args(self):
        """The positional arguments, a tuple; setting it updates the users of the nodes read."""
        return self._args

    @args.setter
    def args(self, a):
        self._update_args_kwargs(a, self._kwargs)

    @property
    def kwargs(self):
        """The keyword arguments, a dict; setting it updates the users of the nodes read."""
        return self._kwargs

    @kwargs.setter
    def kwargs(self, k):
        self._update_args_kwargs(self._args, k)

    @property
    def all_input_nodes(self):
        """The nodes this node reads, in order of first appearance."""
        return list(self._input_nodes)

    def update_arg(self, idx, arg):
        """Replaces positional argument ``idx``."""
        args = list(self.args)
        args[idx] = arg
        self.args = tuple(args)

    def insert_arg(self, idx, arg):
        """Inserts a positional argument at ``idx``."""
        args = list(self.args)
        args.insert(idx, arg)
        self.args = tuple(args)

    def update_kwarg(self, key, arg):
        """Sets keyword argument ``key``."""
        self.kwargs = {**self.kwargs, key: arg}

    def _update_args_kwargs(self, new_args, new_kwargs):
        self._args = map_aggregate(new_args, lambda x: x)
        self._kwargs = map_aggregate(dict(new_kwargs), lambda x: x)
        for old in self._input_nodes:
            old.users.pop(self, None)
        self._input_nodes = {}
        map_arg(self._args, self._input_nodes.setdefault)
        map_arg(self._kwargs, self._input_nodes.setdefault)
        for new in self._input_nodes:
            new.users.setdefault(self)

    def replace_all_uses_with(self, replace_with, delete_user_cb=lambda user: True, *, propagate_meta=False):
        """Makes every user of this node read ``replace_with`` instead (those ``delete_user_cb`` accepts);
        returns the users changed."""
        if propagate_meta:
            if replace_with.meta:
                raise AssertionError("Called node.replace_all_uses_with(replace_with, propagate_meta=True), "
                                     "but replace_with already has .meta keys")
            replace_with.meta.update(self.meta)
        changed = []
        for user in list(self.users):
            if delete_user_cb(user):
                user.replace_input_with(self, replace_with)
                changed.append(user)
        return changed

    def replace_input_with(self, old_input, new_input):
        """Makes this node read ``new_input`` wherever it read ``old_input``."""
        swap = lambda n: new_input if n is old_input else n  # noqa: E731
        self._update_args_kwargs(map_arg(self._args, swap), map_arg(self._kwargs, swap))

    def is_impure(self):
        """True for nodes dead-code elimination must keep: placeholders, the output, calls of random functions, of
        functions marked with ``has_side_effect`` and of modules whose ``_is_impure`` is true."""
        if self.op in ("placeholder", "output"):
            return True
        if self.op == "call_function":
            entry = public_entry(self.target)
            return self.target in _side_effectful_functions or (entry is not None and entry[1] in _RANDOM_FUNCTIONS)
        if self.op == "call_module":
            module = self.graph.owning_module
            if module is None:
                raise AssertionError("self.graph.owning_module not set for purity check")
            return getattr(module.get_submodule(self.target), "_is_impure", False)
        return False

    @property
    def stack_trace(self):
        """The Python stack trace recorded for this node, if any (``meta['stack_trace']``)."""
        return self.meta.get("stack_trace")

    @stack_trace.setter
    def stack_trace(self, trace):
        self.meta["stack_trace"] = trace

    def _rename(self, candidate):
        """Renames this node ``candidate``, made unique among its graph's names."""
        if candidate != self.name:
            self.name = self.graph._graph_namespace.create_name(candidate, None)

    # --- printing -------------------------------------------------------------------------------------------
    def __repr__(self):
        return self.name

    @staticmethod
    def _pretty_print_target(target):
        return pretty_target(target)

    def format_node(self, placeholder_names=None, maybe_return_typename=None):
        """This node as one line of the graph printout (None for a placeholder when collecting names)."""
        typename = f"{_type_repr(self.type)} " if self.type is not None else ""
        if self.op == "placeholder":
            if placeholder_names:   # torch.fx's test: an empty list collects nothing; and the target is doubled
                placeholder_names.append(self.target + (f"{self.target}: {_type_repr(self.type)}" if self.type
                                                        else ""))
                return None
            default = f"(default={self.args[0]})" if self.args else ""
            return f"%{self.name} : {typename}[num_users={len(self.users)}] = {self.op}[target={self.target}]{default}"
        if self.op == "get_attr":
            return (f"%{self.name} : {typename}[num_users={len(self.users)}] = "
                    f"{self.op}[target={pretty_target(self.target)}]")
        if self.op == "output":
            if self.type and maybe_return_typename is not None:
                maybe_return_typename[0] = f" -> {_type_repr(self.type)}"
            return f"return {self.args[0]}"
        return (f"%{self.name} : {typename}[num_users={len(self.users)}] = {self.op}[target="
                f"{pretty_target(self.target)}](args = {_format_arg(self.args)}, kwargs = {_format_arg(self.kwargs)})")
