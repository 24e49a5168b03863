"""Pytrees of tensors for the function transforms: nested tuples, lists and dicts flattened to their leaves."""


# ----------------------------------------------------------------------
def _flatten(tree):
    """(leaves, rebuild) of a nested tuple/list/dict structure."""
    if isinstance(tree, (tuple, list)):
        parts = [_flatten(t) for t in tree]
        leaves = [leaf for part in parts for leaf in part[0]]
        sizes = [len(part[0]) for part in parts]

        def rebuild(values):
            out, start = [], 0
            for (_, sub), size in zip(parts, sizes):
                out.append(sub(values[start:start + size]))
                start += size
            return type(tree)(*out) if hasattr(type(tree), "_fields") else type(tree)(out)   # a named tuple
        return leaves, rebuild
    if isinstance(tree, dict):
        keys = list(tree)
        leaves, rebuild_values = _flatten([tree[k] for k in keys])
        return leaves, lambda values: dict(zip(keys, rebuild_values(values)))
    return [tree], lambda values: values[0]
