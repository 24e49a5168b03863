"""Regions at run time: the nodes tracing recorded inside a composite call (``_ir.Region``) compiled into one step
that makes the call, which the interpreter runs while a dispatch hook keys on op names (autocast then casts
``linear``'s inputs where the graph holds ``ember::Linear``, as PyTorch's traced ``aten::linear`` is cast).

A region runs as its call only where the call computes what its nodes do: its arguments are computed before it, its
results are made by its nodes, and nothing after it reads any other value made inside it (a pass may have moved or
folded nodes). Otherwise the regions inside it are tried, and nodes in no usable region run as recorded. Nodes in a
region's span that read nothing made inside it (a parameter read, a size) run before the call, as recorded.
"""
from ..autograd.function import Composite, registry
from ._ir import leaves, map_values, regions_of
from ._trace import _used


class _Slot:
    """Where an argument's value lies in the interpreter's value list."""

    __slots__ = ("index",)

    def __init__(self, index):
        self.index = index


def _fill(obj, env):
    """``obj`` with each _Slot replaced by the value it points at (in nested lists, tuples and dicts)."""
    if type(obj) is _Slot:
        return env[obj.index]
    if isinstance(obj, (list, tuple)):
        return type(obj)(_fill(item, env) for item in obj)
    if isinstance(obj, dict):
        return {key: _fill(item, env) for key, item in obj.items()}
    return obj


def plan(graph, steps, slots):
    """The steps running ``graph`` (top-level nodes ``graph.nodes``, whose compiled steps are ``steps``) with each
    usable region as one call; None when no node names a region."""
    nodes = graph.nodes
    if all(node.region is None for node in nodes):
        return None
    chains = [regions_of(node) for node in nodes]
    defined = {v.name: -1 for v in graph.inputs}
    last_use, last = {}, {}
    for k, node in enumerate(nodes):
        for value in node.outputs:
            defined.setdefault(value.name, k)
        for name in _used(node):
            last_use[name] = k
        for region in chains[k]:
            last[id(region)] = k
    last_use[graph.output.name] = len(nodes)

    def call(region, start, end, level):
        """The steps making ``region``'s call in place of nodes ``start..end``, or None where it cannot stand."""
        op = registry.get(region.op)
        if not (isinstance(op, type) and issubclass(op, Composite)):
            return None
        made, before = set(), []
        for k in range(start, end + 1):
            chain = chains[k]
            if len(chain) > level and chain[level] is region or any(name in made for name in _used(nodes[k])):
                made.update(value.name for value in nodes[k].outputs)
            elif steps[k] is not None:
                before.append(steps[k])
        outputs = {value.name for value in leaves(region.outputs)}
        if not outputs <= made or any(last_use.get(name, -1) > end for name in made - outputs):
            return None
        if any(defined.get(value.name, end + 1) > end or value.name in made for value in region.values()):
            return None
        arguments = map_values((region.args, region.kwargs), lambda value: _Slot(slots[value.name]))
        targets = [slots[value.name] for value in leaves(region.outputs)]
        apply = op.apply

        def run_region(env):
            args, kwargs = _fill(arguments, env)
            for slot, result in zip(targets, leaves(apply(*args, **kwargs))):
                env[slot] = result
        return before + [(run_region, None, None, None)]

    def group(start, stop, level):
        planned, k = [], start
        while k < stop:
            chain = chains[k]
            if len(chain) <= level:
                if steps[k] is not None:
                    planned.append(steps[k])
                k += 1
                continue
            end = min(last[id(chain[level])], stop - 1)
            made = call(chain[level], k, end, level)
            planned.extend(group(k, end + 1, level + 1) if made is None else made)
            k = end + 1
        return planned
    return group(0, len(nodes), 0)
