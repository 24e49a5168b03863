"""Graph passes: constant folding (used by ``freeze``, ONNX export's ``do_constant_folding``) and the
inference rewrites of ``optimize_for_inference`` (batch norm folded into the convolution before it, dropout dropped)."""
from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ._interpreter import _attribute_reader, node_callable
from ._ir import Node, drop_regions, regions_of, value_type
from ._trace import eliminate_dead_code, is_draw

_RANDOM = {"dropout", "dropout1d", "dropout2d", "dropout3d", "alpha_dropout", "feature_alpha_dropout"}


def fold_constants(graph, module=None):
    """Evaluates every node whose inputs are all constants (and, given ``module``, its parameters, buffers and
    ``training`` flags, which are then frozen into the graph), replaces it by a ``prim::Constant`` and inlines the
    taken branch of each ``prim::If`` whose condition is known; returns the graph."""
    known, replaced = {}, {}
    graph.nodes = _fold(graph.nodes, known, replaced, module)
    _substitute(graph.nodes, replaced)
    graph.output = replaced.get(graph.output.name, graph.output)
    eliminate_dead_code(graph)
    return graph


def _fold(nodes, known, replaced, module):
    kept = []
    for node in nodes:
        node.inputs = [replaced.get(v.name, v) for v in node.inputs]
        if node.kind == "prim::Constant":
            known[node.outputs[0].name] = node.value
        elif node.kind == "prim::GetAttr":
            if module is not None:
                obj = _attribute_reader(node.value)(module)
                known[node.outputs[0].name] = obj.detach() if isinstance(obj, Tensor) else obj
                if not isinstance(obj, Tensor):   # a training flag: a constant from now on
                    node.kind, node.value = "prim::Constant", obj
        elif node.kind == "prim::If" and node.inputs[0].name in known:
            block = node.blocks[0 if known[node.inputs[0].name] else 1]
            kept.extend(_fold(block.nodes, known, replaced, module))
            for value, result in zip(node.outputs, block.outputs):
                replaced[value.name] = replaced.get(result.name, result)
            continue
        elif all(v.name in known for v in node.inputs) and not _effectful(node):
            args = [known[v.name] for v in node.positional()]
            kwargs = {k: known[v.name] for k, v in node.named().items()}
            with no_grad():
                result = node_callable(node)(*args, **kwargs)
            results = result if node.unpack else (result,)
            for value, obj in zip(node.outputs, results):
                constant = Node("prim::Constant", value=obj, scope=node.scope)
                constant.outputs.append(value)
                value.node, value.type = constant, value_type(obj)
                known[value.name] = obj
                kept.append(constant)
            continue
        kept.append(node)
    return kept


def _effectful(node):
    """Whether running ``node`` at compile time would do more than compute its outputs (random draws, in-place
    writes, raising, control flow)."""
    return (node.kind[7:] in _RANDOM or is_draw(node.kind) or not node.outputs or node.blocks
            or node.kind.endswith("_") or node.kind == "prim::RaiseException")


def _substitute(nodes, replaced):
    """Points every use of a replaced value (in blocks and regions too) at its replacement."""
    for node in nodes:
        node.inputs = [replaced.get(v.name, v) for v in node.inputs]
        for region in regions_of(node):
            region.substitute(replaced)
        for block in node.blocks:
            _substitute(block.nodes, replaced)
            block.outputs = [replaced.get(v.name, v) for v in block.outputs]


def inline_attributes(graph, module):
    """Turns every ``prim::GetAttr`` (in blocks too) into a ``prim::Constant`` holding the (detached) tensor or the
    flag it reads."""
    def inline(nodes):
        for node in nodes:
            for block in node.blocks:
                inline(block.nodes)
            if node.kind == "prim::GetAttr":
                obj = _attribute_reader(node.value)(module)
                node.kind, node.value = "prim::Constant", obj.detach() if isinstance(obj, Tensor) else obj
    inline(graph.nodes)
    return graph


def drop_dropout(graph):
    """Removes dropout nodes that run in eval mode (they return their input)."""
    replaced = {}
    kept = []
    for node in graph.nodes:
        node.inputs = [replaced.get(v.name, v) for v in node.inputs]
        if node.kind[7:] in _RANDOM and len(node.inputs) > 2 and node.inputs[2].node is not None \
                and node.inputs[2].node.kind == "prim::Constant" and node.inputs[2].node.value is False:
            replaced[node.outputs[0].name] = node.inputs[0]
            continue
        kept.append(node)
    graph.nodes = kept
    _substitute(kept, replaced)
    if graph.output.name in replaced:
        graph.output = replaced[graph.output.name]
    return graph


def fold_batch_norm(graph):
    """Folds an eval-mode ``batch_norm`` of constant statistics into the convolution (with constant weight and,
    optionally, a constant bias, its own or added after it) that feeds it alone."""
    uses = {}
    for node in graph.nodes:
        for v in node.inputs:
            uses[v.name] = uses.get(v.name, 0) + 1
    uses[graph.output.name] = uses.get(graph.output.name, 0) + 1

    def constant(value):
        node = value.node
        return node.value if node is not None and node.kind == "prim::Constant" else None

    rewritten, replaced, dropped = set(), {}, set()
    for node in list(graph.nodes):
        if node.kind != "ember::batch_norm" or node.keywords or len(node.inputs) != 8:
            continue
        x, mean, var, weight, bias, training, _, eps = node.inputs
        stats = [constant(v) for v in (mean, var)]
        if constant(training) is not False or any(s is None for s in stats) or uses[x.name] != 1:
            continue
        producer, conv_bias = x.node, None
        if producer.kind == "ember::Add" and constant(producer.inputs[1]) is not None:
            conv_bias, producer = constant(producer.inputs[1]), producer.inputs[0].node
            if uses[producer.outputs[0].name] != 1:
                continue
        if producer is None or producer.kind != "ember::Convolution" or constant(producer.inputs[1]) is None:
            continue
        fused = len(producer.inputs) > 6   # the convolution adds its own bias (its seventh input)
        if fused and (conv_bias is not None or constant(producer.inputs[6]) is None):
            continue
        if fused:
            conv_bias = constant(producer.inputs[6])
        w = constant(producer.inputs[1])
        scale = (stats[1] + constant(eps)).rsqrt()
        if constant(weight) is not None:
            scale = scale * constant(weight)
        shift = -stats[0] * scale if conv_bias is None else (conv_bias.reshape(-1) - stats[0]) * scale
        if constant(bias) is not None:
            shift = shift + constant(bias)
        producer.inputs[1] = _constant_value(graph, w * scale.reshape((-1,) + (1,) * (w.ndim - 1)))
        if fused:   # the shift becomes the convolution's bias; the batch norm's uses read the convolution
            producer.inputs[6] = _constant_value(graph, shift)
            replaced[node.outputs[0].name] = x
            dropped.add(id(node))
        else:
            shaped = shift.reshape((-1,) + (1,) * (len(x.type.shape) - 2))
            node.kind, node.inputs, node.keywords = "ember::Add", [x if conv_bias is None else x.node.inputs[0],
                                                                   _constant_value(graph, shaped)], ()
        rewritten.update(regions_of(producer) + regions_of(node))
    if replaced:
        graph.nodes = [node for node in graph.nodes if id(node) not in dropped]
        _substitute(graph.nodes, replaced)
        graph.output = replaced.get(graph.output.name, graph.output)
    drop_regions(graph.nodes, rewritten)   # their calls would compute what the graph no longer does
    eliminate_dead_code(graph)
    return graph


def _constant_value(graph, obj):
    node = Node("prim::Constant", value=obj)
    value = graph.fresh(value_type(obj))
    value.node = node
    node.outputs.append(value)
    graph.nodes.insert(0, node)
    return value
