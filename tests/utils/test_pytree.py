"""ember.utils._pytree against torch.utils._pytree: leaves and printed specs of nested containers, rebuilding,
tree_map over several trees, the _only and all/any forms, custom nodes, and the errors for mismatched input."""
import collections

import pytest
import torch.utils._pytree as theirs

import ember.utils._pytree as ours

Point = collections.namedtuple("Point", ["x", "y"])

TREES = [
    1,
    None,
    (1, 2),
    [1, [2, (3, None)], {"b": 4, "a": 5}],
    {"z": [1, 2], "a": (3,), "m": {}},
    collections.OrderedDict([("q", 1), ("p", [2, 3])]),
    collections.deque([1, 2, 3], maxlen=5),
    [Point(1, [2, 3]), ()],
    ((), [], {}),
]


def _dd():
    tree = collections.defaultdict(list)
    tree["k"] = [1, 2]
    tree["j"] = 3
    return tree


@pytest.mark.parametrize("tree", TREES + [_dd()], ids=range(len(TREES) + 1))
def test_flatten_and_unflatten_match_torch(tree):
    leaves, spec = ours.tree_flatten(tree)
    torch_leaves, torch_spec = theirs.tree_flatten(tree)
    assert leaves == torch_leaves
    assert (spec.num_leaves, spec.num_nodes) == (torch_spec.num_leaves, torch_spec.num_nodes)
    if not isinstance(tree, (collections.defaultdict, collections.deque)):
        assert repr(spec) == repr(torch_spec)
    rebuilt = ours.tree_unflatten([leaf * 10 if isinstance(leaf, int) else leaf for leaf in leaves], spec)
    expected = theirs.tree_unflatten([leaf * 10 if isinstance(leaf, int) else leaf for leaf in leaves], torch_spec)
    assert rebuilt == expected and type(rebuilt) is type(expected)
    assert ours.tree_leaves(tree) == theirs.tree_leaves(tree)
    assert ours.tree_structure(tree) == spec


def test_namedtuple_spec_prints_its_class_like_torch():
    tree = Point(1, 2)
    assert repr(ours.tree_structure(tree)) == repr(theirs.tree_structure(tree))
    rebuilt = ours.tree_unflatten([5, 6], ours.tree_structure(tree))
    assert type(rebuilt) is Point and rebuilt == Point(5, 6)


def test_tree_map_over_several_trees_matches_torch():
    tree = {"a": [1, 2], "b": (3, Point(4, 5))}
    other = {"a": [10, 20], "b": (30, Point(40, 50))}
    prefix_rest = {"a": 7, "b": (8, 9)}
    assert ours.tree_map(lambda x, y: x + y, tree, other) == theirs.tree_map(lambda x, y: x + y, tree, other)
    prefix_tree = {"a": 1, "b": (2, 3)}
    deeper = {"a": [1, 2], "b": (3, Point(4, 5))}
    assert ours.tree_map(lambda x, y: (x, y), prefix_tree, deeper) == theirs.tree_map(
        lambda x, y: (x, y), prefix_tree, deeper)
    with pytest.raises(ValueError):
        theirs.tree_map(lambda x, y: x, tree, prefix_rest)
    with pytest.raises(ValueError):
        ours.tree_map(lambda x, y: x, tree, prefix_rest)


def test_map_only_and_all_any_match_torch():
    tree = [1, "s", (2.5, None, 3)]
    double = lambda x: x * 2  # noqa: E731
    assert ours.tree_map_only(int, double, tree) == theirs.tree_map_only(int, double, tree)
    assert ours.tree_map_only((int, float), double, tree) == theirs.tree_map_only((int, float), double, tree)
    seen_ours, seen_theirs = [], []
    assert ours.tree_map_only_(int, seen_ours.append, tree) is tree
    theirs.tree_map_only_(int, seen_theirs.append, tree)
    assert seen_ours == seen_theirs == [1, 3]
    for pred in (lambda x: x is not None, lambda x: isinstance(x, int), lambda x: x == "s"):
        assert ours.tree_all(pred, tree) == theirs.tree_all(pred, tree)
        assert ours.tree_any(pred, tree) == theirs.tree_any(pred, tree)
    positive = lambda x: x > 0  # noqa: E731
    assert ours.tree_all_only(int, positive, tree) == theirs.tree_all_only(int, positive, tree) is True
    assert ours.tree_any_only(float, lambda x: x > 3, tree) == theirs.tree_any_only(float, lambda x: x > 3, tree)


def test_is_leaf_stops_descent_like_torch():
    tree = [[1, 2], [3, [4]]]
    stop = lambda node: isinstance(node, list) and len(node) == 1  # noqa: E731
    assert ours.tree_leaves(tree, is_leaf=stop) == theirs.tree_leaves(tree, is_leaf=stop) == [1, 2, 3, [4]]


def test_registered_node_flattens_and_rebuilds():
    class Pair:
        def __init__(self, first, second):
            self.first, self.second = first, second

    ours.register_pytree_node(Pair, lambda p: ([p.first, p.second], "pair"), lambda children, _: Pair(*children))
    try:
        leaves, spec = ours.tree_flatten([Pair(1, (2, 3)), 4])
        assert leaves == [1, 2, 3, 4]
        rebuilt = spec.unflatten([5, 6, 7, 8])
        assert isinstance(rebuilt[0], Pair) and rebuilt[0].second == (6, 7) and rebuilt[1] == 8
        with pytest.raises(ValueError, match="already registered"):
            ours.register_pytree_node(Pair, lambda p: ([], None), lambda c, _: Pair(0, 0))
    finally:
        del ours.SUPPORTED_NODES[Pair]


def test_unflatten_errors_match_torch():
    spec, torch_spec = ours.tree_structure([1, (2, 3)]), theirs.tree_structure([1, (2, 3)])
    with pytest.raises(ValueError) as ember_error:
        spec.unflatten([1, 2])
    with pytest.raises(ValueError) as torch_error:
        torch_spec.unflatten([1, 2])
    assert str(ember_error.value).split("(")[0] == str(torch_error.value).split("(")[0]
    with pytest.raises(TypeError, match="Expected `treespec` to be an instance of PyTreeSpec"):
        ours.tree_unflatten([1], [1])
    with pytest.raises(TypeError, match="Expected `treespec` to be an instance of PyTreeSpec"):
        theirs.tree_unflatten([1], [1])


def _paths(pairs):
    return [(ours.keystr(path), repr(path), leaf) for path, leaf in pairs]


def _torch_paths(pairs):
    return [(theirs.keystr(path), repr(path), leaf) for path, leaf in pairs]


@pytest.mark.parametrize("tree", TREES + [_dd()], ids=range(len(TREES) + 1))
def test_key_paths_match_torch(tree):
    pairs, spec = ours.tree_flatten_with_path(tree)
    torch_pairs, torch_spec = theirs.tree_flatten_with_path(tree)
    assert _paths(pairs) == _torch_paths(torch_pairs)
    assert _paths(ours.tree_leaves_with_path(tree)) == _torch_paths(theirs.tree_leaves_with_path(tree))
    for path, leaf in pairs:
        assert ours.key_get(tree, path) == leaf
    add = lambda path, x, y: (ours.keystr(path), x, y)  # noqa: E731
    assert ours.tree_map_with_path(add, tree, tree) == theirs.tree_map_with_path(
        lambda path, x, y: (theirs.keystr(path), x, y), tree, tree)


def test_dict_helpers_and_keyed_custom_nodes_match_torch():
    d = {"b": 1, "a": [2]}
    assert ours._dict_flatten(d) == theirs._dict_flatten(d)
    assert ours._dict_unflatten(*ours._dict_flatten(d)) == d
    assert repr(ours._dict_flatten_with_keys(d)) == repr(theirs._dict_flatten_with_keys(d))
    assert str(ours.MappingKey("x")) + str(ours.SequenceKey(2)) + str(ours.GetAttrKey("f")) == "['x'][2].f"

    class Box(dict):   # a dict subclass registered with the dict's keyed flattening (transformers' ModelOutput)
        pass

    for lib in (ours, theirs):
        lib.register_pytree_node(Box, lib._dict_flatten, lambda values, keys: Box(lib._dict_unflatten(values, keys)),
                                 flatten_with_keys_fn=lib._dict_flatten_with_keys)
    try:
        tree = [Box(x=1, y=(2, 3))]
        assert _paths(ours.tree_flatten_with_path(tree)[0]) == _torch_paths(theirs.tree_flatten_with_path(tree)[0])
    finally:
        del ours.SUPPORTED_NODES[Box]
        theirs._deregister_pytree_node(Box)

    class Bare:
        pass

    ours.register_pytree_node(Bare, lambda b: ([], None), lambda children, _: Bare())
    theirs.register_pytree_node(Bare, lambda b: ([], None), lambda children, _: Bare())
    try:
        messages = []
        for lib in (ours, theirs):
            with pytest.raises(ValueError) as error:
                lib.tree_flatten_with_path([Bare()])
            messages.append(str(error.value))
        assert messages[0] == messages[1]
    finally:
        del ours.SUPPORTED_NODES[Bare]
        theirs._deregister_pytree_node(Bare)


def test_treespec_pprint_as_torch():
    import torch.utils._pytree as tp
    import ember.utils._pytree as ep
    for tree in (1, (1, 2), [1], {"a": [1, (2, 3)]}, (None, [1, {"b": 2}])):
        assert ep.treespec_pprint(ep.tree_structure(tree)) == tp.treespec_pprint(tp.tree_structure(tree))


def test_size_is_a_node_rebuilt_as_a_tuple_like_torch():
    # torch registers torch.Size on import (torch.fx); Pyro's provenance tracking recursed forever on a leaf Size
    import ember
    import torch
    tree = [(ember.Size([2]), (-1, -1)), {}]
    torch_tree = [(torch.Size([2]), (-1, -1)), {}]
    leaves, spec = ours.tree_flatten(tree)
    torch_leaves, torch_spec = theirs.tree_flatten(torch_tree)
    assert leaves == torch_leaves == [2, -1, -1] and repr(spec) == repr(torch_spec)
    rebuilt = ours.tree_unflatten(leaves, spec)
    expected = theirs.tree_unflatten(torch_leaves, torch_spec)
    assert rebuilt == expected and type(rebuilt[0][0]) is type(expected[0][0]) is tuple
    paths = ours.tree_flatten_with_path(ember.Size([3, 4]))[0]
    assert repr(paths) == repr(theirs.tree_flatten_with_path(torch.Size([3, 4]))[0])
