"""``torch.fx._pytree``: flattening a pytree by a given ``TreeSpec`` (what a GraphModule traced with structured
``concrete_args`` does to its inputs)."""
import collections

from ..utils import _pytree as pytree

__all__ = ["tree_flatten_spec"]

_INDEXED = (list, tuple, collections.namedtuple)


def tree_flatten_spec(tree, spec):
    """The leaves of ``tree`` read in the structure of ``spec``: dict entries by the spec's keys, list and tuple
    items by position; other containers must flatten to exactly ``spec``."""
    if spec.is_leaf():
        return [tree]
    if spec.type is dict or spec.type in _INDEXED:
        children = [tree[k] for k in spec.context] if spec.type is dict else [tree[i] for i in range(spec.num_children)]
        return [leaf for child, child_spec in zip(children, spec.children_specs)
                for leaf in tree_flatten_spec(child, child_spec)]
    leaves, real_spec = pytree.tree_flatten(tree)
    if real_spec != spec:
        raise RuntimeError(f"Real spec {real_spec} of object {tree} is different from expected spec {spec}. Please "
                           "file an issue at https://github.com/pytorch/pytorch/issues/new?template=bug-report.yml")
    return leaves
