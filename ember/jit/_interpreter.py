"""The interpreter: compiles a Graph once into a flat list of steps and runs it on ember tensors.

Every op runs through its registry class's ``apply``, so autograd records the run as eager code would (a loaded
model can be fine-tuned) and dispatch hooks (autocast, tracing) see it. Only ops of the registry and the few
``prim``/``aten`` helpers below can run: a graph names code, it never carries any.
"""
from ..autograd.function import registry


def _size(tensor, dim):
    return tensor.shape[dim]


def _tuple(*items):
    return items


def _list(*items):
    return list(items)


_HELPERS = {"prim::TupleConstruct": _tuple, "prim::ListConstruct": _list, "aten::size": _size}


def resolve(kind):
    """The callable a node kind runs; RuntimeError naming the op when ember has none of that name."""
    if kind in _HELPERS:
        return _HELPERS[kind]
    if kind.startswith("ember::") and kind[7:] in registry:
        return registry[kind[7:]].apply
    raise RuntimeError(f"Unknown builtin op: {kind}. ember has no op of that name, so this program cannot run")


def _attribute_reader(path):
    """Reads a parameter or buffer by dotted path through submodules (never any other attribute)."""
    *modules, leaf = path.split(".")

    def read(module):
        for name in modules:
            module = module._modules[name]
        tensors = module._parameters if leaf in module._parameters else module._buffers
        return tensors[leaf]
    return read


class Interpreter:
    """A graph compiled to steps ``(function, input slots, keyword slots, output slot(s))`` over one value list."""

    def __init__(self, graph):
        slots = {}
        template = [None]                      # slot 0: the module the graph reads attributes from
        for value in graph.inputs:
            slots[value.name] = len(template)
            template.append(None)
        self.inputs = [slots[v.name] for v in graph.inputs]
        steps = []
        for node in graph.nodes:
            if node.kind == "prim::Constant":
                slots[node.outputs[0].name] = len(template)
                template.append(node.value)
                continue
            outs = []
            for value in node.outputs:
                slots[value.name] = len(template)
                template.append(None)
                outs.append(slots[value.name])
            if node.kind == "prim::GetAttr":
                steps.append((_attribute_reader(node.value), (0,), None, outs[0]))
                continue
            args = tuple(slots[v.name] for v in node.positional())
            kwargs = tuple((k, slots[v.name]) for k, v in node.named().items()) or None
            steps.append((resolve(node.kind), args, kwargs, tuple(outs) if node.unpack else outs[0]))
        self.template, self.steps, self.output = template, steps, slots[graph.output.name]

    def __call__(self, module, args):
        if len(args) != len(self.inputs):
            raise RuntimeError(f"forward() expected {len(self.inputs)} argument(s) but got {len(args)}")
        env = self.template[:]
        env[0] = module
        for slot, arg in zip(self.inputs, args):
            env[slot] = arg
        for function, ins, kwargs, out in self.steps:
            if kwargs is None:
                result = function(*[env[i] for i in ins])
            else:
                result = function(*[env[i] for i in ins], **{k: env[i] for k, i in kwargs})
            if type(out) is int:
                env[out] = result
            else:
                for i, r in zip(out, result):
                    env[i] = r
        return env[self.output]
