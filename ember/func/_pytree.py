"""The function transforms' pytrees: PyTorch's (``ember.utils._pytree``) as (leaves, rebuild) pairs."""
from ..utils._pytree import tree_flatten


def _flatten(tree):
    """(leaves, rebuild) of ``tree``: ``rebuild(values)`` is the tree of the same structure holding ``values``."""
    leaves, spec = tree_flatten(tree)
    return leaves, spec.unflatten
