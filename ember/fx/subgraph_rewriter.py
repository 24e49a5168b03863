"""``replace_pattern``: finds every occurrence of a pattern (a function, Graph or GraphModule, traced) in a
GraphModule's graph and replaces it with a replacement, as torch.fx's; ``replace_pattern_with_filters`` also takes
match filters, a per-match replacement callback, literal wildcards and node-name matching."""
import copy
from dataclasses import dataclass
from typing import NamedTuple

from ..nn import Module
from .graph import Graph
from .graph_module import GraphModule
from .node import Node

__all__ = ["Match", "ReplacedPatterns", "replace_pattern", "replace_pattern_with_filters"]


class Match(NamedTuple):
    """One replaced occurrence: the pattern's anchor node and pattern node -> graph node."""

    anchor: Node
    nodes_map: dict


@dataclass
class ReplacedPatterns:
    """One replaced occurrence: the pattern's anchor, pattern node -> graph node, and the nodes inserted."""

    anchor: Node
    nodes_map: dict
    replacements: list


def _as_graph(fn):
    if isinstance(fn, GraphModule):
        return fn.graph
    if isinstance(fn, Graph):
        return fn
    from ._symbolic_trace import symbolic_trace
    return symbolic_trace(fn).graph


def _attr_or_none(module, target):
    module_path, _, name = target.rpartition(".")
    try:
        owner = module.get_submodule(module_path)
    except AttributeError:
        return None
    return getattr(owner, name, None)


def _replace_attributes(gm, replacement):
    """Copies into ``gm`` the submodules and attributes its new nodes read from ``replacement``."""
    gm.delete_all_unused_submodules()
    if isinstance(replacement, GraphModule):
        replacement.graph.lint()
    for node in gm.graph.nodes:
        if node.op not in ("call_module", "get_attr") or _attr_or_none(gm, node.target) is not None:
            continue
        found = _attr_or_none(replacement, node.target)
        if found is None:
            raise RuntimeError('Attempted to create a "', node.op, f'" node during subgraph rewriting with target '
                               f"{node.target}, but the referenced attribute does not exist in the replacement "
                               "GraphModule")
        if isinstance(found, Module):
            gm.add_submodule(node.target, copy.deepcopy(found))
        else:
            setattr(gm, node.target, copy.deepcopy(found))
    gm.graph.lint()


def _insert_point(graph, returning_nodes):
    """Where a replacement goes: before the first user of what the match returns, else after the last of those."""
    users = {user for node in returning_nodes for user in node.users}
    if users:
        return next(n for n in graph.nodes if n in users)
    following = None
    for node in reversed(graph.nodes):
        if node in returning_nodes:
            return following
        following = node
    return None


def _replace_pattern(gm, pattern, replacement=None, match_filters=None, ignore_literals=False,
                     replacement_callback=None, node_name_match=""):
    from .passes.utils.matcher_utils import SubgraphMatcher
    graph = gm.graph
    pattern_graph = _as_graph(pattern)
    matcher = SubgraphMatcher(pattern_graph, match_output=False, match_placeholder=False,
                              remove_overlapping_matches=True, ignore_literals=ignore_literals)
    matches = [m for m in matcher.match(graph, node_name_match=node_name_match)
               if all(keep(m, graph, pattern_graph) for keep in match_filters or [])]
    if replacement is not None and (isinstance(replacement, Graph) or callable(replacement)):
        common_replacement = _as_graph(replacement)
    elif replacement_callback is None:
        raise AssertionError("Must provide either a replacement GraphModule or a replacement callback")
    else:
        common_replacement = None
    changed = {}   # a graph node an earlier replacement replaced -> what replaced it
    results = []
    for match in matches:
        replacement_graph = (replacement_callback(match, graph, pattern_graph) if replacement_callback is not None
                             else common_replacement)
        inputs = [n for n in replacement_graph.nodes if n.op == "placeholder"]
        if len(match.placeholder_nodes) != len(inputs):
            raise AssertionError(f"Placeholder count mismatch: {len(match.placeholder_nodes)} vs {len(inputs)}")
        val_map = {}
        for rn, gn in zip(inputs, match.placeholder_nodes):
            if isinstance(gn, Node) and gn in changed:
                new = changed[gn]
                match.placeholder_nodes[match.placeholder_nodes.index(gn)] = new
                key = next(pn for pn, value in match.nodes_map.items() if value is gn)
                match.nodes_map[key] = new
                gn = new
            val_map[rn] = gn
        insert_point = _insert_point(graph, match.returning_nodes)
        if insert_point is None:
            raise AssertionError("The insert point can't be None")
        with graph.inserting_before(insert_point):
            copied = graph.graph_copy(replacement_graph, val_map)
        copied = (copied,) if isinstance(copied, Node) else copied
        inserted = [v for v in val_map.values() if v not in match.placeholder_nodes]
        if len(match.returning_nodes) != len(copied):
            raise AssertionError(f"Returning nodes count mismatch: {len(match.returning_nodes)} vs {len(copied)}")
        for gn, new in zip(match.returning_nodes, copied):
            gn.replace_all_uses_with(new)
            changed[gn] = new
        for pn in reversed(pattern_graph.nodes):
            if pn.op not in ("placeholder", "output"):
                graph.erase_node(match.nodes_map[pn])
        results.append(ReplacedPatterns(anchor=match.anchors[0], nodes_map=match.nodes_map, replacements=inserted))
    gm.recompile()
    if isinstance(replacement, Module):
        _replace_attributes(gm, replacement)
    return results


def replace_pattern(gm, pattern, replacement):
    """Replaces each non-overlapping occurrence of ``pattern`` in ``gm``'s graph by ``replacement`` (functions or
    GraphModules, traced), recompiles ``gm`` and returns the ``Match``es. Pattern inputs match any value; other
    nodes match on op, target and arguments, and only the values the pattern returns may be used outside it."""
    return [Match(anchor=m.anchor, nodes_map=m.nodes_map) for m in _replace_pattern(gm, pattern, replacement)]


def replace_pattern_with_filters(gm, pattern, replacement=None, match_filters=None, ignore_literals=False,
                                 replacement_callback=None, node_name_match=""):
    """``replace_pattern`` keeping only the matches every ``match_filters`` function (``(match, graph,
    pattern_graph) -> bool``) accepts; ``replacement_callback(match, graph, pattern_graph)`` may give each match
    its replacement graph, ``ignore_literals`` lets constants match anything and ``node_name_match`` lets graph
    nodes whose name contains it match any pattern node. Returns ``ReplacedPatterns``."""
    return _replace_pattern(gm, pattern, replacement, match_filters, ignore_literals, replacement_callback,
                            node_name_match)
