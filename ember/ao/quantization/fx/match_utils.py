"""Pattern matching of FX graph mode quantization: which nodes form each backend pattern. Patterns are an op or a
tuple of ops in forward order; a match ends at its last node and walks back through first arguments, every node
before the last used once."""
from ember import nn
from ember.fx import Node

__all__ = ["sorted_patterns", "is_match", "find_matches"]


def _pattern_len(pattern):
    return len(pattern) if isinstance(pattern, tuple) else 1


def sorted_patterns(configs):
    """``(pattern, config)`` pairs, longer patterns first (then in the backend's order)."""
    return sorted(((c.pattern, c) for c in configs), key=lambda item: -_pattern_len(item[0]))


def _op_matches(node, op, modules):
    if isinstance(op, type) and issubclass(op, nn.Module):
        return node.op == "call_module" and type(modules.get(node.target)) is op
    if callable(op):
        return node.op == "call_function" and node.target is op
    return node.target == op


def is_match(modules, node, pattern):
    """The nodes (in forward order) of ``pattern`` ending at ``node``, or None."""
    ops = pattern if isinstance(pattern, tuple) else (pattern,)
    nodes = []
    current = node
    for i in range(len(ops) - 1, -1, -1):
        if not isinstance(current, Node) or (nodes and len(current.users) > 1):
            return None
        if not _op_matches(current, ops[i], modules):
            return None
        nodes.append(current)
        if i > 0:
            if len(current.args) != 1:
                return None
            current = current.args[0]
    return nodes[::-1]


def find_matches(graph, modules, patterns):
    """``{node name: (last node, matched nodes, pattern, config)}`` for every node some pattern covers, matching
    from the graph's end; a node belongs to the first match that takes it."""
    match_map = {}
    for node in reversed(graph.nodes):
        if node.name in match_map:
            continue
        for pattern, config in patterns:
            nodes = is_match(modules, node, pattern)
            if nodes is not None and not any(n.name in match_map for n in nodes):
                for n in nodes:
                    match_map[n.name] = (node, nodes, pattern, config)
                break
    return match_map
