"""``replace_pattern``: finds every occurrence of a traced pattern in a GraphModule's graph and replaces it with a
traced replacement."""
from typing import NamedTuple

from .graph_module import GraphModule
from .node import Node

__all__ = ["Match", "replace_pattern"]


class Match(NamedTuple):
    """One occurrence: the pattern node it was found from (the one the pattern returns), and pattern node ->
    graph node."""

    anchor: Node
    nodes_map: dict


def _as_graph(fn):
    from ._symbolic_trace import symbolic_trace
    return (fn if isinstance(fn, GraphModule) else symbolic_trace(fn)).graph


def _match_arg(pattern_arg, graph_arg, nodes_map):
    if isinstance(pattern_arg, Node) and pattern_arg.op == "placeholder" and not isinstance(graph_arg, Node):
        if pattern_arg in nodes_map:   # a pattern input may stand for a constant argument too
            return type(nodes_map[pattern_arg]) is type(graph_arg) and nodes_map[pattern_arg] == graph_arg
        nodes_map[pattern_arg] = graph_arg
        return True
    if isinstance(pattern_arg, Node):
        return isinstance(graph_arg, Node) and _match_node(pattern_arg, graph_arg, nodes_map)
    if isinstance(pattern_arg, (list, tuple)):
        return (isinstance(graph_arg, (list, tuple)) and len(pattern_arg) == len(graph_arg)
                and all(_match_arg(p, g, nodes_map) for p, g in zip(pattern_arg, graph_arg)))
    if isinstance(pattern_arg, dict):
        return (isinstance(graph_arg, dict) and pattern_arg.keys() == graph_arg.keys()
                and all(_match_arg(pattern_arg[k], graph_arg[k], nodes_map) for k in pattern_arg))
    return type(pattern_arg) is type(graph_arg) and pattern_arg == graph_arg


def _match_node(pn, gn, nodes_map):
    if pn in nodes_map:
        return nodes_map[pn] is gn
    if pn.op == "placeholder":
        if any(value is gn for value in nodes_map.values()):
            return False
        nodes_map[pn] = gn
        return True
    if pn.op != gn.op or pn.target != gn.target or len(pn.args) != len(gn.args):
        return False
    nodes_map[pn] = gn
    if _match_arg(pn.args, gn.args, nodes_map) and _match_arg(pn.kwargs, gn.kwargs, nodes_map):
        return True
    del nodes_map[pn]
    return False


def _find_matches(graph, pattern):
    output = next(n for n in reversed(pattern.nodes) if n.op == "output")
    returned = output.args[0]
    if not isinstance(returned, Node):
        raise ValueError("replace_pattern supports patterns that return a single value")
    matches, taken = [], set()
    for node in graph.nodes:
        nodes_map = {}
        if node.op in ("placeholder", "output") or not _match_node(returned, node, nodes_map):
            continue
        inner = [gn for pn, gn in nodes_map.items() if pn.op != "placeholder" and isinstance(gn, Node)]
        # Nodes computed inside the match may be used only inside it (the returned one excepted).
        inside = set(inner)
        if any(user not in inside for gn in inner if gn is not node for user in gn.users):
            continue
        if inside & taken:
            continue
        taken |= inside
        matches.append(Match(anchor=returned, nodes_map=nodes_map))
    return matches


def replace_pattern(gm, pattern, replacement):
    """Replaces each non-overlapping occurrence of ``pattern`` (a function or GraphModule, traced) in ``gm``'s
    graph by ``replacement``, recompiles ``gm`` and returns the ``Match``es. Pattern inputs match any value; other
    nodes match on op, target and arguments."""
    graph = gm.graph
    pattern_graph, replacement_graph = _as_graph(pattern), _as_graph(replacement)
    matches = _find_matches(graph, pattern_graph)
    pattern_inputs = [n for n in pattern_graph.nodes if n.op == "placeholder"]
    replacement_inputs = [n for n in replacement_graph.nodes if n.op == "placeholder"]
    replaced = {}   # a replaced anchor -> what replaced it, for later matches that read it
    for match in matches:
        for pn, gn in match.nodes_map.items():
            if pn.op == "placeholder" and isinstance(gn, Node):
                while gn in replaced:
                    gn = replaced[gn]
                match.nodes_map[pn] = gn
        val_map = {r: match.nodes_map[p] for r, p in zip(replacement_inputs, pattern_inputs)}
        anchor = match.nodes_map[match.anchor]
        with graph.inserting_before(anchor):
            result = graph.graph_copy(replacement_graph, val_map)
        if isinstance(result, Node):
            anchor.replace_all_uses_with(result)
            replaced[anchor] = result
        matched = [gn for pn, gn in match.nodes_map.items() if pn.op != "placeholder"]
        for node in reversed(list(graph.nodes)):
            if node in matched and not node.users:
                graph.erase_node(node)
    gm.recompile()
    return matches
