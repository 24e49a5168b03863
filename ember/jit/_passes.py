"""Graph passes: constant folding (used by ``freeze``, ONNX export's ``do_constant_folding``) and the
inference rewrites of ``optimize_for_inference`` (batch norm folded into the convolution before it, dropout dropped)."""
from ..autograd.grad_mode import no_grad
from ._interpreter import _attribute_reader, resolve
from ._ir import Node, value_type
from ._trace import eliminate_dead_code

_RANDOM = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"}


def fold_constants(graph, module=None):
    """Evaluates every node whose inputs are all constants (and, given ``module``, its parameters and buffers, which
    are then frozen into the graph) and replaces it by a ``prim::Constant``; returns the graph."""
    known = {}
    nodes = []
    for node in graph.nodes:
        if node.kind == "prim::Constant":
            known[node.outputs[0].name] = node.value
        elif node.kind == "prim::GetAttr":
            if module is not None:
                known[node.outputs[0].name] = _attribute_reader(node.value)(module).detach()
        elif all(v.name in known for v in node.inputs) and node.kind[7:] not in _RANDOM:
            args = [known[v.name] for v in node.positional()]
            kwargs = {k: known[v.name] for k, v in node.named().items()}
            with no_grad():
                result = resolve(node.kind)(*args, **kwargs)
            results = result if node.unpack else (result,)
            for value, obj in zip(node.outputs, results):
                constant = Node("prim::Constant", value=obj, scope=node.scope)
                constant.outputs.append(value)
                value.node, value.type = constant, value_type(obj)
                known[value.name] = obj
                nodes.append(constant)
            continue
        nodes.append(node)
    graph.nodes = nodes
    eliminate_dead_code(graph)
    return graph
