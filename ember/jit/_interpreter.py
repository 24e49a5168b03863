"""The interpreter: compiles a Graph once into a flat list of steps and runs it on ember tensors.

Every op runs through its registry class's ``apply``, so autograd records the run as eager code would (a loaded
model can be fine-tuned) and dispatch hooks (autocast, tracing) see it. Only named ops can run — the registry,
the helpers below, the ``aten``/``prim`` table of ``_aten``, ember's public tensor functions and Tensor methods
(``_script``): a graph names code, it never carries any. While a dispatch hook that keys on op names is active
(autocast), the nodes of each region (a composite call that tracing recorded as its ops) run as that one call, so
the hook sees ``linear`` where the graph holds ``ember::Linear`` (``_regions``).
"""
from ..autograd.function import dispatch_hooks, registry
from . import _regions


def _size(tensor, dim=None):
    return tuple(tensor.shape) if dim is None else tensor.shape[dim]


def _tuple(*items):
    return items


def _list(*items):
    return list(items)


def _dict(*pairs):
    return dict(zip(pairs[::2], pairs[1::2]))


_HELPERS = {"prim::TupleConstruct": _tuple, "prim::ListConstruct": _list, "prim::DictConstruct": _dict,
            "aten::size": _size}


def resolve(kind):
    """The callable a node kind runs; RuntimeError naming the op when ember has none of that name."""
    if kind in _HELPERS:
        return _HELPERS[kind]
    if kind.startswith("ember::") and kind[7:] in registry:
        return registry[kind[7:]].apply
    from ._aten import lookup
    from ._script import function_named, tensor_method
    function = lookup(kind)
    if function is None and kind.startswith("fn::"):
        function = function_named(kind[4:])
    if function is None and kind.startswith("method::"):
        function = tensor_method(kind[8:])
    if function is not None:
        return function
    raise RuntimeError(f"Unknown builtin op: {kind}. ember has no op of that name, so this program cannot run")


def node_callable(node):
    """What a node runs: a traced autograd.Function's ``apply`` (``prim::PythonOp``), else its kind's op."""
    if node.kind == "prim::PythonOp":
        return node.value.apply
    return resolve(node.kind)


def _attribute_reader(path):
    """Reads a parameter, a buffer or the ``training`` flag by dotted path through submodules (never any other
    attribute): scripted code follows ``train()``/``eval()`` after scripting, as TorchScript's does."""
    *modules, leaf = path.split(".")

    def read(module):
        for name in modules:
            module = module._modules[name]
        if leaf == "training":
            return module.training
        tensors = module._parameters if leaf in module._parameters else module._buffers
        return tensors[leaf]
    return read


class Interpreter:
    """A graph compiled to steps ``(function, input slots, keyword slots, output slot(s))`` over one value list;
    ``prim::If``/``prim::Loop`` compile to steps whose function runs their blocks' steps on that list."""

    def __init__(self, graph):
        self.slots = {}
        self.template = [None]                 # slot 0: the module the graph reads attributes from
        for value in graph.inputs:
            self._slot(value)
        self.inputs = [self.slots[v.name] for v in graph.inputs]
        self.names = [v.name for v in graph.inputs]
        self.required = len(graph.inputs)   # trailing Optional inputs may be left out (they are None)
        while self.required and str(graph.inputs[self.required - 1].type).startswith("Optional["):
            self.required -= 1
        steps = self._node_steps(graph.nodes)
        self.steps = [step for step in steps if step is not None]
        self.output = self.slots[graph.output.name]
        self.regioned = _regions.plan(graph, steps, self.slots)   # None when the graph records no region

    def _slot(self, value):
        self.slots[value.name] = len(self.template)
        self.template.append(None)
        return self.slots[value.name]

    def _compile(self, nodes):
        return [step for step in self._node_steps(nodes) if step is not None]

    def _node_steps(self, nodes):
        """One step per node (None for a constant, which is a value of the template)."""
        steps = []
        for node in nodes:
            if node.kind == "prim::Constant":
                self._slot(node.outputs[0])
                self.template[-1] = node.value
                steps.append(None)
                continue
            outs = [self._slot(v) for v in node.outputs]
            if node.kind == "prim::GetAttr":
                steps.append((_attribute_reader(node.value), (0,), None, outs[0]))
            elif node.kind in ("prim::If", "prim::Loop"):
                steps.append((self._control(node, outs), None, None, None))
            else:
                args = tuple(self.slots[v.name] for v in node.positional())
                kwargs = tuple((k, self.slots[v.name]) for k, v in node.named().items()) or None
                steps.append((node_callable(node), args, kwargs, outs[0] if len(outs) == 1 and not node.unpack
                              else tuple(outs)))
        return steps

    def _control(self, node, outs):
        """The step running an If (one block per branch) or a Loop (trip count, condition, carried values)."""
        blocks = []
        for block in node.blocks:
            inputs = [self._slot(v) for v in block.inputs]
            blocks.append((inputs, self._compile(block.nodes), [self.slots[v.name] for v in block.outputs]))
        ins = [self.slots[v.name] for v in node.inputs]
        if node.kind == "prim::If":
            def run_if(env):
                _, steps, results = blocks[0] if env[ins[0]] else blocks[1]
                _run(steps, env)
                for slot, result in zip(outs, results):
                    env[slot] = env[result]
            return run_if
        (counter, *carried_in), steps, (condition, *carried_out) = blocks[0]

        def run_loop(env):
            values = [env[i] for i in ins[2:]]
            go, i, trips = env[ins[1]], 0, env[ins[0]]
            while go and i < trips:
                env[counter] = i
                for slot, value in zip(carried_in, values):
                    env[slot] = value
                _run(steps, env)
                values = [env[slot] for slot in carried_out]
                go, i = env[condition], i + 1
            for slot, value in zip(outs, values):
                env[slot] = value
        return run_loop

    def __call__(self, module, args, kwargs=None):
        if kwargs or len(args) != len(self.inputs):
            args = self._bind(args, kwargs or {})
        env = self.template[:]
        env[0] = module
        for slot, arg in zip(self.inputs, args):
            env[slot] = arg
        steps = self.steps
        if dispatch_hooks and self.regioned is not None and \
                any(getattr(hook, "keys_on_op_names", False) for hook in dispatch_hooks):
            steps = self.regioned
        _run(steps, env)
        return env[self.output]

    def _bind(self, args, kwargs):
        """``args`` followed by the ``kwargs`` placed at their inputs' positions (as PyTorch binds a call to a
        method's schema, counting ``self``); a left-out trailing Optional input stays None."""
        if len(args) + len(kwargs) > len(self.names):
            raise RuntimeError(f"forward() expected at most {len(self.names) + 1} argument(s) but received "
                               f"{len(args) + len(kwargs) + 1} argument(s)")
        bound = list(args) + [_MISSING] * (len(self.names) - len(args))
        for name, value in kwargs.items():
            if name in self.names[len(args):]:
                bound[self.names.index(name)] = value
        for position, value in enumerate(bound):
            if value is _MISSING:
                if position < self.required:
                    raise RuntimeError(f"forward() is missing value for argument '{self.names[position]}'")
                bound[position] = None
        for name in kwargs:
            if name in self.names[:len(args)]:
                raise RuntimeError(f"forward() got multiple values for argument '{name}'")
            if name not in self.names:
                raise RuntimeError(f"forward() got an unexpected keyword argument '{name}'")
        return tuple(bound)


_MISSING = object()


def _run(steps, env):
    for function, ins, kwargs, out in steps:
        if ins is None:
            function(env)
            continue
        if kwargs is None:
            result = function(*[env[i] for i in ins])
        else:
            result = function(*[env[i] for i in ins], **{k: env[i] for k, i in kwargs})
        if type(out) is int:
            env[out] = result
        elif out:
            for i, r in zip(out, result):
                env[i] = r
