"""``split_module``: splits a GraphModule into submodules (``submod_<partition>``) by a callback giving each node's
partition, with a top-level module calling them in dependency order, as torch.fx's.

(torch's handling of autocast and set_grad_enabled regions and of symbolic sizes, which only graphs captured by
torch.compile contain, has no counterpart here.)"""
import inspect

from ...nn import Module
from ..graph import Graph
from ..graph_module import GraphModule
from ..node import map_arg
from ..proxy import Proxy

__all__ = ["Partition", "split_module"]


class Partition:
    """One partition: its nodes' names, the values it reads from and gives to other partitions, the partitions
    it depends on and that depend on it, and the graph, environment and attributes of its submodule."""

    def __init__(self, name):
        self.name = name
        self.submod_name = f"submod_{name}"
        self.node_names = []
        self.inputs = {}
        self.outputs = {}
        self.dependencies = {}
        self.dependents = {}
        self.graph = Graph()
        self.environment = {}
        self.targets = {}

    def __repr__(self):
        return (f"name: {self.name},\n nodes: {self.node_names},\n inputs: {self.inputs},\n outputs: "
                f"{self.outputs},\n partitions depended on: {self.dependencies},\n partition dependents: "
                f"{self.dependents}")


def _get_attr_from_qualname(mod, qualname):
    value = mod
    for atom in qualname.split("."):
        if not hasattr(value, atom):
            raise AttributeError(f"Node target {qualname} not found!")
        value = getattr(value, atom)
    return value


def split_module(m, root_m, split_callback, qualname_map=None, keep_original_order=False,
                 keep_original_node_name=False, keep_original_input_name=True, *, partition_affix=None,
                 tuple_return=False):
    """``m`` split into one submodule per partition ``split_callback(node)`` names (placeholders, get_attr and
    output nodes stay in the top module), which calls them in dependency order (or in the original order of
    ``keep_original_order``) and computes what ``m`` does. ``qualname_map`` (a dict) receives new attribute
    paths -> original ones; ``root_m`` is not used."""
    partitions, orig_nodes = {}, {}

    def record_cross_partition_use(def_node, use_node):
        defined = getattr(def_node, "_fx_partition", None)
        used = getattr(use_node, "_fx_partition", None)
        if defined == used:
            return
        if defined is not None:
            partitions[defined].outputs.setdefault(def_node.name)
            if used is not None:
                partitions[defined].dependents.setdefault(used)
        if used is not None:
            partitions[used].inputs.setdefault(def_node.name)
            if defined is not None:
                partitions[used].dependencies.setdefault(defined)

    for node in m.graph.nodes:
        if node.op in ("placeholder", "get_attr", "output"):
            continue
        name = str(split_callback(node))
        if partition_affix is not None:
            name = f"{partition_affix}_{name}"
        partitions.setdefault(name, Partition(name)).node_names.append(node.name)
        node._fx_partition = name

    for node in m.graph.nodes:
        orig_nodes[node.name] = node
        if node.op in ("placeholder", "get_attr"):
            continue
        if node.op == "output":
            map_arg(node.args[0], lambda n: record_cross_partition_use(n, None))
            continue
        map_arg(node.args, lambda def_node, user=node: record_cross_partition_use(def_node, user))
        map_arg(node.kwargs, lambda def_node, user=node: record_cross_partition_use(def_node, user))

    original_partition_order = list(partitions)
    roots = [name for name, partition in partitions.items() if not partition.dependencies]
    sorted_partitions = []
    while roots:   # topological order, taking the last ready partition first as torch.fx does
        root = roots.pop()
        sorted_partitions.append(root)
        for dependent in partitions[root].dependents:
            partitions[dependent].dependencies.pop(root)
            if not partitions[dependent].dependencies:
                roots.append(dependent)
    if len(sorted_partitions) != len(partitions):
        raise RuntimeError("cycle exists between partitions!")

    for name in sorted_partitions:
        _add_partition_inputs(m, partitions[name], orig_nodes, keep_original_input_name)

    for node in m.graph.nodes:
        if not hasattr(node, "_fx_partition"):
            continue
        partition = partitions[node._fx_partition]
        env = partition.environment
        args = map_arg(node.args, env.__getitem__)
        kwargs = map_arg(node.kwargs, env.__getitem__)
        target = node.target
        if node.op in ("call_module", "get_attr"):
            target = node.target.replace(".", "_")
            partition.targets[target] = _get_attr_from_qualname(m, node.target)
            if qualname_map is not None:
                qualname_map[f"{partition.submod_name}.{target}"] = node.target
        new_node = partition.graph.create_node(node.op, target, args, kwargs, type_expr=node.type,
                                               name=node.name if keep_original_node_name else None)
        new_node.meta = node.meta.copy()
        partition.environment[node] = new_node

    return _build_top_module(m, partitions, sorted_partitions, original_partition_order, orig_nodes,
                             keep_original_order, keep_original_node_name, tuple_return)


def _add_partition_inputs(m, partition, orig_nodes, keep_original_input_name):
    """Placeholders for what ``partition`` reads from outside (modules read by get_attr stay get_attr nodes)."""
    def is_module_attr(name):
        node = orig_nodes[name]
        return (node.op == "get_attr" and isinstance(node.target, str)
                and isinstance(_get_attr_from_qualname(m, node.target), Module))
    new_inputs, counter = {}, 0
    ordered = ([n for n in partition.inputs if not is_module_attr(n)]
               + [n for n in partition.inputs if is_module_attr(n)])
    for inp in ordered:
        orig_node = orig_nodes[inp]
        if is_module_attr(inp):
            placeholder = partition.graph.get_attr(orig_node.target)
            partition.targets[orig_node.target] = _get_attr_from_qualname(m, orig_node.target)
        else:
            if keep_original_input_name:
                name = inp
            else:
                name, counter = f"arg_{counter}", counter + 1
            placeholder = partition.graph.placeholder(name, type_expr=orig_node.type)
            new_inputs[inp] = None
        placeholder.meta = orig_node.meta.copy()
        partition.environment[orig_node] = placeholder
    partition.inputs = new_inputs


def _build_top_module(m, partitions, sorted_partitions, original_partition_order, orig_nodes, keep_original_order,
                      keep_original_node_name, tuple_return):
    base_graph, base_env, base_attrs, orig_env = Graph(), {}, {}, {}

    def copy_input(node):
        """Copies a placeholder or get_attr node of ``m`` into the top graph."""
        if node.op == "placeholder":
            default = node.args[0] if node.args else inspect.Signature.empty
            if keep_original_node_name:
                args = () if default is inspect.Signature.empty else (default,)
                base_env[node.name] = base_graph.create_node("placeholder", node.name, args=args,
                                                             type_expr=node.type)
            else:
                base_env[node.name] = base_graph.placeholder(node.target, type_expr=node.type,
                                                             default_value=default)
            base_env[node.name].meta = node.meta.copy()
        elif node.op == "get_attr":
            base_env[node.name] = base_graph.get_attr(node.target)
            base_env[node.name].meta = node.meta.copy()
            base_attrs[node.target] = _get_attr_from_qualname(m, node.target)

    if keep_original_order:
        orig_env = {node.name: node for node in m.graph.nodes}
    else:
        for node in m.graph.nodes:
            copy_input(node)
    placeholders = [node for node in m.graph.nodes if node.op == "placeholder"]
    constructed = set()
    for name in original_partition_order if keep_original_order else sorted_partitions:
        partition = partitions[name]
        outputs = tuple(partition.environment[orig_nodes[n]] for n in partition.outputs)
        partition.graph.output(outputs[0] if len(outputs) == 1 and not tuple_return else outputs)
        if keep_original_order:
            attr_nodes = [orig_env[key] for key in partition.inputs if key not in placeholders]
            for node in placeholders + attr_nodes:
                if node not in constructed:
                    copy_input(node)
                    constructed.add(node)
        base_attrs[partition.submod_name] = GraphModule(partition.targets, partition.graph)
        output = base_graph.call_module(partition.submod_name, tuple(base_env[n] for n in partition.inputs))
        if len(partition.outputs) > 1 or (len(partition.outputs) == 1 and tuple_return):
            proxy = Proxy(output)
            for i, output_name in enumerate(partition.outputs):
                base_env[output_name] = proxy[i].node
        elif len(partition.outputs) == 1:
            base_env[next(iter(partition.outputs))] = output
    if keep_original_order and not base_env:
        for node in m.graph.nodes:
            copy_input(node)
    for node in m.graph.nodes:
        if node.op == "output":
            base_graph.output(map_arg(node.args[0], lambda n: base_env[n.name]))
    result = GraphModule(base_attrs, base_graph)
    result.meta["partition_names"] = {p.submod_name for p in partitions.values()}
    return result
