"""Pytrees as ``torch.utils._pytree`` has them: nested tuples, lists, dicts, ordered and default dicts, deques and
named tuples flattened to their leaves and a ``TreeSpec`` that rebuilds them; other container types register a
flatten and an unflatten function (``register_pytree_node``). ``None`` is a leaf, as in PyTorch 2.13."""
import collections
import functools

__all__ = ["LeafSpec", "SUPPORTED_NODES", "TreeSpec", "register_pytree_node", "tree_all", "tree_all_only",
           "tree_any", "tree_any_only", "tree_flatten", "tree_is_leaf", "tree_iter", "tree_leaves", "tree_map",
           "tree_map_", "tree_map_only", "tree_map_only_", "tree_structure", "tree_unflatten", "treespec_leaf"]

NodeDef = collections.namedtuple("NodeDef", ["type", "flatten_fn", "unflatten_fn"])
SUPPORTED_NODES = {}
"""Container type -> its ``NodeDef``: ``flatten_fn(node) -> (children, context)`` and
``unflatten_fn(children, context) -> node``."""


def register_pytree_node(cls, flatten_fn, unflatten_fn, *, serialized_type_name=None, to_dumpable_context=None,
                         from_dumpable_context=None, flatten_with_keys_fn=None):
    """Makes instances of ``cls`` pytree nodes, flattened by ``flatten_fn`` and rebuilt by ``unflatten_fn``."""
    if cls in SUPPORTED_NODES:
        raise ValueError(f"{cls} is already registered as pytree node.")
    SUPPORTED_NODES[cls] = NodeDef(cls, flatten_fn, unflatten_fn)


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


register_pytree_node(tuple, lambda node: (list(node), None), lambda children, _: tuple(children))
register_pytree_node(list, lambda node: (list(node), None), lambda children, _: list(children))
register_pytree_node(dict, lambda node: (list(node.values()), list(node)),
                     lambda children, keys: dict(zip(keys, children)))
register_pytree_node(collections.OrderedDict, lambda node: (list(node.values()), list(node)),
                     lambda children, keys: collections.OrderedDict(zip(keys, children)))
register_pytree_node(collections.defaultdict,
                     lambda node: (list(node.values()), [node.default_factory, list(node)]),
                     lambda children, context: collections.defaultdict(context[0], zip(context[1], children)))
register_pytree_node(collections.deque, lambda node: (list(node), node.maxlen),
                     lambda children, maxlen: collections.deque(children, maxlen=maxlen))
