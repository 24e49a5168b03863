"""``ExportedProgram.module()``: the graph back as a module holding the program's parameters and buffers at their
paths (shared with the program, as PyTorch's), which checks each call against the exported input structure and
guards, runs the graph, copies the writes back into the buffers and inputs, and rebuilds the output."""
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ._constraints import check
from ._inputs import matched
from .graph_signature import InputKind, TensorArgument


class _UnliftedModule(Module):
    """The exported program as a callable module (printed ``GraphModule``, as PyTorch's)."""

    def __init__(self, program):
        super().__init__()
        specs = program.graph_signature.input_specs
        for spec in specs:
            if spec.kind is not InputKind.USER_INPUT:
                _install(self, spec, program._state[spec.target])
        self._lifted = [spec.target for spec in specs if spec.kind is not InputKind.USER_INPUT]
        users = [spec.arg.name for spec in specs if spec.kind is InputKind.USER_INPUT
                 and isinstance(spec.arg, TensorArgument)]
        self._user_index = {name: i for i, name in enumerate(users)}   # the tensor inputs, in call order
        self._call = program._call
        object.__setattr__(self, "_graph_module", program.graph_module)   # run by forward, not a submodule

    @property
    def graph(self):
        """The lifted graph the module runs."""
        return self._graph_module.graph

    @property
    def code(self):
        """The graph as Python-like source."""
        return self._graph_module.code

    def forward(self, *args, **kwargs):
        """Checks the inputs against the exported structure and guards, then runs the graph on them."""
        call = self._call
        values = matched(call.in_spec, args, kwargs)
        check(call.checks, call.sources, values)
        tensors = [values[p] for p in call.tensor_positions]
        state = [_read(self, target) for target in self._lifted]
        results = self._graph_module(*state, *tensors)
        for target, index, is_input in call.mutations:
            written = tensors[self._user_index[target]] if is_input else _read(self, target)
            with no_grad():
                written.copy_(results[index])
        outputs, leaves = iter(results), []
        for position in range(call.out_spec.num_leaves):
            leaves.append(call.output_constants[position] if position in call.output_constants else next(outputs))
        return call.out_spec.unflatten(leaves)

    def train(self, mode=True):
        """Refused, as PyTorch refuses it: the program keeps the mode it was exported in."""
        raise NotImplementedError(f"Calling {'train' if mode else 'eval'}() is not supported yet.")

    def eval(self):
        """Refused, as PyTorch refuses it: the program keeps the mode it was exported in."""
        raise NotImplementedError("Calling eval() is not supported yet.")

    def _get_name(self):
        return "GraphModule"


def _owner(module, target):
    """The submodule holding ``target`` (made as a plain Module on the way), and the tensor's name in it."""
    *path, name = target.split(".")
    for part in path:
        if part not in module._modules:
            module._modules[part] = Module()
        module = module._modules[part]
    return module, name


def _install(module, spec, tensor):
    owner, name = _owner(module, spec.target)
    if spec.kind is InputKind.PARAMETER:
        owner._parameters[name] = tensor
    elif spec.kind is InputKind.BUFFER:
        owner.register_buffer(name, tensor, persistent=bool(spec.persistent))
    else:
        object.__setattr__(owner, name, tensor)


def _read(module, target):
    owner, name = _owner(module, target)
    if name in owner._parameters:
        return owner._parameters[name]
    if name in owner._buffers:
        return owner._buffers[name]
    return owner.__dict__[name]


def unlift(program):
    """A new module running ``program``."""
    return _UnliftedModule(program)
