"""The fusion pass of FX graph mode quantization (``fuse_fx``): each backend pattern with a fuser method (conv-bn,
conv-bn-relu, linear-relu, ...) becomes one call of the fused module, put in place of the pattern's first module
and named as it."""
from ember import nn
from ember.fx import Graph, GraphModule
from ember.fx.node import map_arg

from .match_utils import find_matches, sorted_patterns
from .utils import _parent_name

__all__ = ["fuse"]


def fuse(model, is_qat, fuse_custom_config=None, backend_config=None):
    """``model`` (a GraphModule) with its fusable patterns fused."""
    from ..backend_config import get_native_backend_config
    if backend_config is None:
        backend_config = get_native_backend_config()
    named_modules = dict(model.named_modules())
    patterns = sorted_patterns([c for c in backend_config.configs if c.fuser_method is not None])
    matches = find_matches(model.graph, named_modules, patterns)
    fused_graph = Graph()
    env = {}

    def load_arg(a):
        return map_arg(a, lambda node: env[node.name])

    for node in model.graph.nodes:
        last_node, nodes, pattern, config = matches.get(node.name, (None, None, None, None))
        if last_node is node:
            root_getter = config._root_node_getter
            root_node = root_getter(nodes) if root_getter is not None else nodes[0]
            if root_node.op != "call_module":
                raise AssertionError("Expecting module node to be a call_module Node")
            root_module = named_modules[root_node.target]
            modules = []
            for n in nodes:
                if n.op == "call_module":
                    modules.append(named_modules[n.target])
                elif n.op == "call_function" and n.target is nn.functional.relu:
                    relu = nn.ReLU()
                    relu.training = root_module.training
                    modules.append(relu)
                else:
                    modules.append(n.target)
            fused_module = config.fuser_method(is_qat, *modules)
            parent_name, name = _parent_name(root_node.target)
            setattr(named_modules[parent_name], name, fused_module)
            extra = config._extra_inputs_getter(nodes) if config._extra_inputs_getter is not None else []
            new_node = fused_graph.node_copy(root_node, load_arg)
            new_node.args = tuple(new_node.args) + tuple(load_arg(x) for x in extra)
            env[node.name] = new_node
        elif last_node is None:
            env[node.name] = fused_graph.node_copy(node, load_arg)
    return GraphModule(model, fused_graph)
