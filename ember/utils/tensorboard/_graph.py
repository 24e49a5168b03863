"""A model's graph for TensorBoard's Graphs tab: ember.jit.trace's IR as a GraphDef (tensorboardX's protobuf classes),
named the way PyTorch's ``add_graph`` names it: ``input/<name>`` and ``output/output.N`` IO nodes, and each op's
outputs under its module scope (``Net/Sequential[seq]/Linear[1]/7``) with ``_output_shapes``."""


def graph_def(model, inputs, strict=True):
    """The GraphDef of ``model`` traced (in eval mode) on ``inputs``."""
    from tensorboardX.proto.attr_value_pb2 import AttrValue
    from tensorboardX.proto.graph_pb2 import GraphDef
    from tensorboardX.proto.node_def_pb2 import NodeDef
    from tensorboardX.proto.tensor_shape_pb2 import TensorShapeProto
    from tensorboardX.proto.versions_pb2 import VersionDef

    import ember

    was_training = model.training
    model.train(False)
    try:
        traced = ember.jit.trace(model, inputs, strict=strict, check_trace=False)
    finally:
        model.train(was_training)
    graph = traced.graph
    scopes = _scopes(model)
    base = type(model).__name__
    names = {value.name: f"input/{value.name}" for value in graph.inputs}

    def attributes(value, text):
        attr = {"attr": AttrValue(s=text.encode())}
        if hasattr(value.type, "shape"):
            shape = TensorShapeProto(dim=[TensorShapeProto.Dim(size=size) for size in value.type.shape])
            attr["_output_shapes"] = AttrValue(list=AttrValue.ListValue(shape=[shape]))
        return attr

    nodes = [NodeDef(name=names[value.name], op="IO Node", attr=attributes(value, "")) for value in graph.inputs]
    for node in graph.nodes:
        if node.kind == "prim::GetAttr":   # a parameter or buffer: under its module, then its own name
            module, _, attribute = node.value.rpartition(".")
            prefix = "/".join([base, *scopes.get(module, []), attribute])
        else:
            prefix = "/".join([base, *scopes.get(node.scope, [])])
        text = "" if node.value is None else f"{{ value : {node.value} }}"
        for value in node.outputs:
            names[value.name] = f"{prefix}/{value.name}"
            nodes.append(NodeDef(name=names[value.name], op=node.kind, input=[names[i.name] for i in node.inputs],
                                 attr=attributes(value, text)))
    outputs = graph.output if isinstance(graph.output, (list, tuple)) else [graph.output]
    for index, value in enumerate(outputs, 1):
        nodes.append(NodeDef(name=f"output/output.{index}", op="IO Node", input=[names[value.name]],
                             attr=attributes(value, "")))
    return GraphDef(node=nodes, versions=VersionDef(producer=22))


def _scopes(model):
    """Each submodule's dotted path -> its scope parts, ``Type[name]`` per level as PyTorch writes them."""
    scopes = {"": []}
    for path, module in model.named_modules():
        if path:
            parent, _, name = path.rpartition(".")
            scopes[path] = scopes[parent] + [f"{type(module).__name__}[{name}]"]
    return scopes
