"""``SubgraphMatcher``: finds the subgraphs of a graph that match a pattern graph, as torch.fx's (what
``replace_pattern`` rewrites).

Matching walks backwards from the pattern's anchors (the nodes its output returns that nothing else uses) through
their arguments, pairing each pattern node with a graph node of the same op and target; pattern placeholders
match any value. A match must be self-contained (only the returned nodes are used outside it), must not form a
cycle if fused, and, by default, must not overlap an earlier match."""
import copy
from dataclasses import dataclass, field

from .... import Tensor
from ...graph import Graph
from ...node import Node

__all__ = ["InternalMatch", "SubgraphMatcher"]


@dataclass
class InternalMatch:
    """One match: the pattern's anchors, pattern node -> graph node, and the graph nodes standing for the
    pattern's placeholders and for what its output returns."""

    anchors: list
    nodes_map: dict = field(default_factory=dict)
    placeholder_nodes: list = field(default_factory=list)
    returning_nodes: list = field(default_factory=list)
    name_node_map: dict = field(default_factory=dict)

    def __copy__(self):
        return InternalMatch(anchors=self.anchors, nodes_map=self.nodes_map.copy(),
                             placeholder_nodes=self.placeholder_nodes.copy(),
                             returning_nodes=self.returning_nodes.copy())


def _fetch_attr(module, target):
    for atom in target.split("."):
        module = getattr(module, atom)
    return module


def _fusing_forms_cycle(nodes):
    """True when some path leaves ``nodes`` and comes back into them (fusing them would make a cycle)."""
    inside = set(nodes)
    queue = [user for node in inside for user in node.users if user not in inside]
    visited = set()
    while queue:
        current = queue.pop()
        visited.add(current)
        if current in inside:
            return True
        queue.extend(user for user in current.users if user not in visited)
    return False


class SubgraphMatcher:
    """Matches ``pattern`` (a Graph) against graphs. ``match_output``/``match_placeholder``: whether the pattern's
    output and placeholders must match nodes of the same op (else the output is ignored and placeholders match
    anything); ``remove_overlapping_matches`` keeps only the first of overlapping matches; ``ignore_literals``
    lets every non-node argument match."""

    def __init__(self, pattern: Graph, match_output=False, match_placeholder=False, remove_overlapping_matches=True,
                 ignore_literals=False):
        self.pattern = pattern
        self.match_output = match_output
        self.match_placeholder = match_placeholder
        self.remove_overlapping_matches = remove_overlapping_matches
        self.ignore_literals = ignore_literals
        if len(pattern.nodes) == 0:
            raise ValueError("SubgraphMatcher cannot be initialized with an empty pattern")
        for node in pattern.nodes:
            if node.op != "output" and not node.is_impure() and len(node.users) == 0:
                raise AssertionError("SubgraphMatcher cannot be initialized with an pattern with dead code")
        self.pattern_placeholder_nodes = [n for n in pattern.nodes if n.op == "placeholder"]
        output_node = next(iter(reversed(pattern.nodes)))
        self.pattern_returning_nodes = output_node.all_input_nodes
        if match_output:
            self.pattern_anchors = [output_node]
        else:
            self.pattern_anchors = [n for n in output_node.all_input_nodes if len(n.users) == 1]

    def _match_attributes(self, pn, gn):
        for node in (pn, gn):
            if node.graph.owning_module is None:
                raise AssertionError(f"{'pn' if node is pn else 'gn'}.graph.owning_module must not be None")
        pn_value = _fetch_attr(pn.graph.owning_module, pn.target)
        gn_value = _fetch_attr(gn.graph.owning_module, gn.target)
        if type(pn_value) is not type(gn_value):
            return False
        if isinstance(pn_value, Tensor):
            return True
        raise RuntimeError(f"Unsupported type {pn_value} when matching attributes")

    def _nodes_are_equal(self, pn, gn, node_name_match=""):
        if not self.match_placeholder and pn.op == "placeholder":
            return True
        if node_name_match and node_name_match in gn.name:
            return True
        if pn.op != gn.op:
            return False
        if pn.op in ("placeholder", "output"):
            return True
        if pn.op == "get_attr":
            return self._match_attributes(pn, gn)
        return pn.target == gn.target

    def _is_contained(self, nodes_map):
        inner = {gn: pn for pn, gn in nodes_map.items() if pn.op != "placeholder"}
        return all(user in inner for gn, pn in inner.items() if pn not in self.pattern_returning_nodes
                   for user in gn.users)

    def _remove_overlapping_matches(self, matches):
        kept, taken = [], set()
        for match in matches:
            computed = [gn for pn, gn in match.nodes_map.items() if pn.op not in ("placeholder", "output")]
            if not any(gn in taken for gn in computed):
                kept.append(match)
                taken.update(computed)
        return kept

    def _match_literals(self, pn, gn, match):
        if isinstance(pn, Node):
            if isinstance(gn, Node):
                raise AssertionError("pn and gn cannot both be Node")  # noqa: TRY004  (torch.fx's type)
            if pn.op != "placeholder":
                return False
            if pn in match.nodes_map:
                return match.nodes_map[pn] == gn
            match.nodes_map[pn] = gn
            return True
        if isinstance(gn, Node):
            return False
        return type(gn) is type(pn) and gn == pn

    def _match_args(self, pattern_args, graph_args, match):
        if len(pattern_args) != len(graph_args):
            return False
        for pa, ga in zip(pattern_args, graph_args):
            if isinstance(pa, Node) and isinstance(ga, Node):
                matched = self._match_nodes(pa, ga, match)
            elif isinstance(pa, (list, tuple)) and isinstance(ga, (list, tuple)):
                matched = self._match_args(pa, ga, match)
            else:
                matched = self._match_literals(pa, ga, match) or self.ignore_literals
            if not matched:
                return False
        return True

    def _match_nodes(self, pn, gn, match, node_name_match=""):
        if pn in match.nodes_map:
            return match.nodes_map[pn] == gn
        if gn in match.nodes_map.values() or not self._nodes_are_equal(pn, gn, node_name_match):
            return False
        match.nodes_map[pn] = gn
        if pn.op == "placeholder":
            return True
        # Keyword arguments match in order, after the positional ones, when both nodes name the same keywords.
        if len(pn.args) != len(gn.args) or list(pn.kwargs) != list(gn.kwargs):
            return False
        return self._match_args([*pn.args, *pn.kwargs.values()], [*gn.args, *gn.kwargs.values()], match)

    def match(self, graph, node_name_match=""):
        """The matches of the pattern in ``graph`` (a list of ``InternalMatch``), in the order their anchors'
        candidates appear in it."""
        candidates = [(anchor, [n for n in graph.nodes if self._nodes_are_equal(anchor, n, node_name_match)])
                      for anchor in self.pattern_anchors]
        candidates = [(anchor, nodes) for anchor, nodes in candidates if nodes]
        matches = []

        def backtrack(index, match):
            if index == len(candidates):
                match.placeholder_nodes = [match.nodes_map[pn] for pn in self.pattern_placeholder_nodes]
                match.returning_nodes = [match.nodes_map[pn] for pn in self.pattern_returning_nodes]
                matches.append(match)
                return
            anchor, nodes = candidates[index]
            for node in nodes:
                attempt = copy.copy(match)
                if self._match_nodes(anchor, node, attempt, node_name_match):
                    backtrack(index + 1, attempt)

        if candidates:
            backtrack(0, InternalMatch(anchors=self.pattern_anchors))
        matches = [m for m in matches if self._is_contained(m.nodes_map)]
        matches = [m for m in matches if not _fusing_forms_cycle(
            [gn for pn, gn in m.nodes_map.items() if pn.op not in ("placeholder", "output")])]
        if self.remove_overlapping_matches:
            matches = self._remove_overlapping_matches(matches)
        return matches

