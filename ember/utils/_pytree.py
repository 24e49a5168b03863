"""Pytrees as ``torch.utils._pytree`` has them: nested tuples, lists, dicts, ordered and default dicts, deques and
named tuples flattened to their leaves and a ``TreeSpec`` that rebuilds them; other container types register a
flatten and an unflatten function (``register_pytree_node``). ``None`` is a leaf, as in PyTorch 2.13."""
import collections
import dataclasses
import functools
import typing

from .._tensor import Size

__all__ = ["GetAttrKey", "LeafSpec", "MappingKey", "SUPPORTED_NODES", "SequenceKey", "TreeSpec", "key_get",
           "keystr", "register_pytree_node", "tree_all", "tree_all_only", "tree_any", "tree_any_only",
           "tree_flatten", "tree_flatten_with_path", "tree_is_leaf", "tree_iter", "tree_leaves",
           "tree_leaves_with_path", "tree_map", "tree_map_", "tree_map_only", "tree_map_only_", "tree_map_with_path",
           "tree_structure", "tree_unflatten", "treespec_leaf", "treespec_pprint"]

Context = typing.Any   # a node's context (dict keys, a named tuple's class), as PyTorch's annotations name it
PyTree = typing.Any

NodeDef = collections.namedtuple("NodeDef", ["type", "flatten_fn", "unflatten_fn", "flatten_with_keys_fn"])
SUPPORTED_NODES = {}
"""Container type -> its ``NodeDef``: ``flatten_fn(node) -> (children, context)``,
``unflatten_fn(children, context) -> node`` and, for key paths, ``flatten_with_keys_fn(node) -> ([(key, child)],
context)`` (None where not given)."""


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None, to_dumpable_context=None,
                         from_dumpable_context=None, flatten_with_keys_fn=None):
    """Makes instances of ``cls`` pytree nodes, flattened by ``flatten_fn`` and rebuilt by ``unflatten_fn``;
    ``flatten_with_keys_fn`` also names each child (for ``tree_flatten_with_path``)."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn, flatten_with_keys_fn)


@dataclasses.dataclass(frozen=True, slots=True)
class MappingKey:
    """The key of a child in a mapping (printed ``['key']``)."""
    key: object

    def __str__(self):
        return f"[{self.key!r}]"

    def get(self, mapping):
        return mapping[self.key]


@dataclasses.dataclass(frozen=True, slots=True)
class SequenceKey:
    """The index of a child in a sequence (printed ``[0]``)."""
    idx: int

    def __str__(self):
        return f"[{self.idx!r}]"

    def get(self, sequence):
        return sequence[self.idx]


@dataclasses.dataclass(frozen=True, slots=True)
class GetAttrKey:
    """The attribute holding a child (a named tuple's field; printed ``.name``)."""
    name: str

    def __str__(self):
        return f".{self.name}"

    def get(self, obj):
        return getattr(obj, self.name)


def keystr(kp):
    """A key path printed: its keys one after another (``['a'][1].x``)."""
    return "".join(str(k) for k in kp)


def key_get(obj, kp):
    """The value at key path ``kp`` inside ``obj``."""
    for k in kp:
        obj = k.get(obj)
    return obj


def _is_namedtuple(node):
    return isinstance(node, tuple) and hasattr(type(node), "_fields")


def _node_type(node):
    """The registered type ``node`` is flattened as (named tuples as one kind), or None for a leaf."""
    if _is_namedtuple(node):
        return collections.namedtuple
    kind = type(node)
    return kind if kind in SUPPORTED_NODES else None


class TreeSpec:
    """The structure of a pytree: its node type, the context rebuilding it (dict keys, a named tuple's class) and
    one spec per child; ``unflatten(leaves)`` puts leaves back in it."""

    def __init__(self, type, context, children_specs):
        self.type, self._context, self._children = type, context, list(children_specs)
        self.num_nodes = 1 + sum(child.num_nodes for child in self._children)
        self.num_leaves = sum(child.num_leaves for child in self._children)
        self.num_children = len(self._children)

    @property
    def context(self):
        return self._context

    @property
    def children_specs(self):
        return self._children

    def is_leaf(self):
        """Whether this spec stands for one leaf."""
        return False

    def child(self, index):
        return self._children[index]

    def children(self):
        return list(self._children)

    def unflatten(self, leaves):
        """The pytree of this structure holding ``leaves`` in order."""
        leaves = list(leaves)
        if len(leaves) != self.num_leaves:
            raise ValueError(f"treespec.unflatten(leaves): `leaves` has length {len(leaves)} but the spec refers to "
                             f"a pytree that holds {self.num_leaves} items ({self}).")
        return self._build(iter(leaves))

    def _build(self, leaves):
        children = [child._build(leaves) for child in self._children]
        if self.type is collections.namedtuple:
            return self._context(*children)
        return SUPPORTED_NODES[self.type].unflatten_fn(children, self._context)

    def __repr__(self, indent=0):
        name = "namedtuple" if self.type is collections.namedtuple else self.type.__name__
        text = f"TreeSpec({name}, {self._context}, ["
        if self._children:
            indent += 2
            text += self._children[0].__repr__(indent) + ("," if len(self._children) > 1 else "")
            text += ",".join("\n" + " " * indent + child.__repr__(indent) for child in self._children[1:])
        return text + "])"

    def __eq__(self, other):
        if self is other:
            return True
        if not isinstance(other, TreeSpec) or self.is_leaf() != other.is_leaf():
            return False
        return (self.type is other.type and self._context == other._context
                and self._children == other._children)

    __hash__ = None


class LeafSpec(TreeSpec):
    """The spec of a leaf (printed ``*``)."""

    def __init__(self):
        self.type, self._context, self._children = None, None, []
        self.num_nodes, self.num_leaves, self.num_children = 1, 1, 0

    def is_leaf(self):
        return True

    def _build(self, leaves):
        return next(leaves)

    def __repr__(self, indent=0):
        return "*"

    def __eq__(self, other):
        return isinstance(other, TreeSpec) and other.is_leaf()

    __hash__ = None


_LEAF = LeafSpec()


def treespec_leaf():
    """The spec of a leaf."""
    return _LEAF


def tree_is_leaf(tree, is_leaf=None):
    """Whether ``tree`` is a leaf (no registered container type, or ``is_leaf(tree)``)."""
    return (is_leaf is not None and is_leaf(tree)) or _node_type(tree) is None


def _children(node):
    """(children, context) of a container node."""
    kind = _node_type(node)
    if kind is collections.namedtuple:
        return list(node), type(node)
    return SUPPORTED_NODES[kind].flatten_fn(node)


def _broadcast_to_and_flatten(tree, treespec, is_leaf=None):
    """The leaves of ``tree`` broadcast to ``treespec``'s structure (a leaf stands for a whole subtree), or None
    where the structures differ (vmap matches in_dims/out_dims to its arguments with it)."""
    if tree_is_leaf(tree, is_leaf):
        return [tree] * treespec.num_leaves
    if treespec.is_leaf() or _node_type(tree) is not treespec.type:
        return None
    children, context = _children(tree)
    if len(children) != treespec.num_children or context != treespec.context:
        return None
    result = []
    for child, child_spec in zip(children, treespec.children_specs):
        flat = _broadcast_to_and_flatten(child, child_spec, is_leaf)
        if flat is None:
            return None
        result += flat
    return result


def tree_flatten(tree, is_leaf=None):
    """(leaves in order, the ``TreeSpec`` rebuilding ``tree`` from them)."""
    leaves = []

    def spec(node):
        if tree_is_leaf(node, is_leaf):
            leaves.append(node)
            return _LEAF
        children, context = _children(node)
        return TreeSpec(_node_type(node), context, [spec(child) for child in children])
    return leaves, spec(tree)


def _generate_key_paths(key_path, tree, is_leaf=None):
    if is_leaf and is_leaf(tree):
        yield key_path, tree
        return
    kind = _node_type(tree)
    if kind is None:
        yield key_path, tree
        return
    if kind is collections.namedtuple:
        key_children = [(GetAttrKey(field), child) for field, child in zip(type(tree)._fields, tree)]
    elif SUPPORTED_NODES[kind].flatten_with_keys_fn is None:
        raise ValueError(f"Did not find a flatten_with_keys_fn for type: {kind}. Please pass a flatten_with_keys_fn "
                         "argument to register_pytree_node.")
    else:
        key_children = SUPPORTED_NODES[kind].flatten_with_keys_fn(tree)[0]
    for key, child in key_children:
        yield from _generate_key_paths((*key_path, key), child, is_leaf)


def tree_flatten_with_path(tree, is_leaf=None):
    """(a (key path, leaf) pair per leaf in order, the ``TreeSpec``), as ``tree_flatten`` with each leaf's path."""
    return list(_generate_key_paths((), tree, is_leaf)), tree_flatten(tree, is_leaf)[1]


def tree_leaves_with_path(tree, is_leaf=None):
    """A (key path, leaf) pair per leaf of ``tree``, in order."""
    return list(_generate_key_paths((), tree, is_leaf))


def tree_map_with_path(func, tree, *rests, is_leaf=None):
    """``tree_map`` whose ``func`` also takes each leaf's key path first: ``func(path, leaf, *rests' leaves)``."""
    keypath_leaves, spec = tree_flatten_with_path(tree, is_leaf)
    others = [_flatten_up_to(spec, rest) for rest in rests]
    return spec.unflatten(func(path, leaf, *values) for (path, leaf), *values in zip(keypath_leaves, *others))


def tree_unflatten(leaves, treespec):
    """The pytree ``treespec`` describes, holding ``leaves``."""
    if not isinstance(treespec, TreeSpec):
        raise TypeError(f"Expected `treespec` to be an instance of PyTreeSpec but got item of type {type(treespec)}.")
    return treespec.unflatten(leaves)


def tree_iter(tree, is_leaf=None):
    """The leaves of ``tree``, in order, one at a time."""
    if tree_is_leaf(tree, is_leaf):
        yield tree
        return
    for child in _children(tree)[0]:
        yield from tree_iter(child, is_leaf)


def tree_leaves(tree, is_leaf=None):
    """The leaves of ``tree`` in order."""
    return list(tree_iter(tree, is_leaf))


class _Asterisk(str):
    def __repr__(self):
        return "*"


def treespec_pprint(treespec):
    """The structure ``treespec`` describes, printed as its pytree with ``*`` for each leaf (``(*, [*, *])``)."""
    return repr(tree_unflatten([_Asterisk("*")] * treespec.num_leaves, treespec))


def tree_structure(tree, is_leaf=None):
    """The ``TreeSpec`` of ``tree``."""
    return tree_flatten(tree, is_leaf)[1]


def _flatten_up_to(spec, tree):
    """The subtrees of ``tree`` at the leaves of ``spec`` (``tree`` must have ``spec`` as a prefix)."""
    if spec.is_leaf():
        return [tree]
    if _node_type(tree) is not spec.type:
        raise ValueError(f"Node type mismatch; expected {spec.type!r}, but got {type(tree)!r}.")
    children, context = _children(tree)
    if len(children) != spec.num_children:
        raise ValueError(f"Node arity mismatch; expected {spec.num_children}, but got {len(children)}.")
    if context != spec.context and spec.type is not collections.namedtuple:
        raise ValueError(f"Node context mismatch for custom node type {spec.type!r}.")
    return [leaf for child_spec, child in zip(spec.children_specs, children)
            for leaf in _flatten_up_to(child_spec, child)]


def tree_map(func, tree, *rests, is_leaf=None):
    """A pytree of ``tree``'s structure holding ``func(leaf, *the leaves or subtrees of rests there)``."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_flatten_up_to(spec, rest) for rest in rests]
    return spec.unflatten(func(*values) for values in zip(leaves, *others))


def tree_map_(func, tree, *rests, is_leaf=None):
    """``func`` called on each leaf (and the matching parts of ``rests``) for its effect; returns ``tree``."""
    leaves, spec = tree_flatten(tree, is_leaf)
    others = [_flatten_up_to(spec, rest) for rest in rests]
    for values in zip(leaves, *others):
        func(*values)
    return tree


def _only(types, func):
    types = tuple(types) if isinstance(types, (list, tuple)) else types

    @functools.wraps(func)
    def apply(value):
        return func(value) if isinstance(value, types) else value
    return apply


def tree_map_only(type_or_types, func, tree, is_leaf=None):
    """``tree_map`` of ``func`` on the leaves that are instances of ``type_or_types``; other leaves kept."""
    return tree_map(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_map_only_(type_or_types, func, tree, is_leaf=None):
    """``tree_map_`` of ``func`` on the leaves that are instances of ``type_or_types``."""
    return tree_map_(_only(type_or_types, func), tree, is_leaf=is_leaf)


def tree_all(pred, tree, is_leaf=None):
    """Whether ``pred`` holds for every leaf."""
    return all(map(pred, tree_iter(tree, is_leaf)))


def tree_any(pred, tree, is_leaf=None):
    """Whether ``pred`` holds for some leaf."""
    return any(map(pred, tree_iter(tree, is_leaf)))


def tree_all_only(type_or_types, pred, tree, is_leaf=None):
    """Whether ``pred`` holds for every leaf that is an instance of ``type_or_types``."""
    types = tuple(type_or_types) if isinstance(type_or_types, list) else type_or_types
    return all(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, types))


def tree_any_only(type_or_types, pred, tree, is_leaf=None):
    """Whether ``pred`` holds for some leaf that is an instance of ``type_or_types``."""
    types = tuple(type_or_types) if isinstance(type_or_types, list) else type_or_types
    return any(pred(x) for x in tree_iter(tree, is_leaf) if isinstance(x, types))


def _tuple_flatten(node):
    return list(node), None


def _tuple_unflatten(values, context):
    return tuple(values)


def _tuple_flatten_with_keys(node):
    return [(SequenceKey(i), child) for i, child in enumerate(node)], None


_list_flatten, _list_flatten_with_keys = _tuple_flatten, _tuple_flatten_with_keys   # PyTorch's names for list's


def _list_unflatten(values, context):
    return list(values)


def _dict_flatten(d):
    return list(d.values()), list(d.keys())


def _dict_unflatten(values, context):
    return dict(zip(context, values, strict=True))


def _dict_flatten_with_keys(d):
    values, context = _dict_flatten(d)
    return [(MappingKey(k), v) for k, v in zip(context, values, strict=True)], context


def _defaultdict_flatten(d):
    return list(d.values()), [d.default_factory, list(d)]


def _defaultdict_flatten_with_keys(d):
    values, context = _defaultdict_flatten(d)
    return [(MappingKey(k), v) for k, v in zip(context[1], values, strict=True)], context


def _deque_flatten(d):
    return list(d), d.maxlen


def _deque_flatten_with_keys(d):
    return [(SequenceKey(i), child) for i, child in enumerate(d)], d.maxlen


register_pytree_node(tuple, _tuple_flatten, _tuple_unflatten, flatten_with_keys_fn=_tuple_flatten_with_keys)
register_pytree_node(list, _list_flatten, _list_unflatten, flatten_with_keys_fn=_list_flatten_with_keys)
register_pytree_node(dict, _dict_flatten, _dict_unflatten, flatten_with_keys_fn=_dict_flatten_with_keys)
register_pytree_node(collections.OrderedDict, _dict_flatten,
                     lambda children, keys: collections.OrderedDict(zip(keys, children)),
                     flatten_with_keys_fn=_dict_flatten_with_keys)
register_pytree_node(collections.defaultdict, _defaultdict_flatten,
                     lambda children, context: collections.defaultdict(context[0], zip(context[1], children)),
                     flatten_with_keys_fn=_defaultdict_flatten_with_keys)
register_pytree_node(collections.deque, _deque_flatten,
                     lambda children, maxlen: collections.deque(children, maxlen=maxlen),
                     flatten_with_keys_fn=_deque_flatten_with_keys)
# as torch.fx registers it on import torch: a Size is a node whose children are its ints, rebuilt as a plain tuple
register_pytree_node(Size, lambda xs: (list(xs), None), lambda xs, _: tuple(xs),
                     flatten_with_keys_fn=lambda xs: ([(SequenceKey(i), x) for i, x in enumerate(xs)], None),
                     serialized_type_name="torch.Size")
