"""``export``: traces the module once with the jit's tracer (``jit/_trace.run_traced``, the one IR) and lifts the
graph into PyTorch's exported form: parameters, buffers and tensor attributes become graph inputs (``p_fc_weight``,
``b_bn_running_mean``, ``c_t``) ahead of the user inputs, values are named after their ops (``linear``, ``relu_1``),
and writes into buffers or inputs (``self.count.add_(1)``) become extra outputs that the module copies back."""
import contextlib
import os
import re
import warnings

from .._tensor import Tensor
from ..autograd.grad_mode import no_grad
from ..nn.modules.module import Module
from ..ops.ranges import arange
from ..ops.random import fork_rng
from ..utils import _pytree
from ..jit._interpreter import Interpreter
from ..jit._ir import Graph, Node, TensorType, regions_of, value_type
from ..jit._trace import TracerWarning, eliminate_dead_code, run_traced
from . import _constraints
from ._inputs import flatten
from .dynamic_shapes import (AdditionalInputs, GuardOnDataDependentSymNode, ShapesCollection, combine_args, int_oo,
                             linear_name, read_dynamic_shapes)
from .graph_signature import (ConstantArgument, ExportGraphSignature, InputKind, InputSpec, OutputKind, OutputSpec,
                              TensorArgument)


def export(mod, args, kwargs=None, *, dynamic_shapes=None, strict=False, preserve_module_call_signature=()):
    """Traces ``mod(*args, **kwargs)`` into an ``ExportedProgram``: one graph of ember's ops over the module's state
    and the inputs, with the input sizes ``dynamic_shapes`` marks left dynamic and every other size guarded
    (``strict`` and ``preserve_module_call_signature`` are accepted; ember has one way of tracing)."""
    from .._dynamo.exc import UserError, UserErrorType
    from .exported_program import CallPlan, ExportedProgram
    if not isinstance(mod, Module):
        raise ValueError(f"Expected `mod` to be an instance of `torch.nn.Module`, got {type(mod)}.")
    if not isinstance(args, tuple):
        raise UserError(UserErrorType.INVALID_INPUT,
                        f"Expecting `args` to be a tuple of example positional inputs, got {type(args)}")
    kwargs = {} if kwargs is None else kwargs
    if isinstance(dynamic_shapes, (ShapesCollection, AdditionalInputs)):
        dynamic_shapes = dynamic_shapes.dynamic_shapes(mod, args, kwargs)
    marked = read_dynamic_shapes(combine_args(mod, args, kwargs), dynamic_shapes)
    in_spec, leaves = flatten(mod, args, kwargs)
    positions = {p: i for i, p in enumerate(p for p, leaf in enumerate(leaves) if isinstance(leaf.value, Tensor))}
    tensors = [leaves[p] for p in positions]
    symbols = _constraints.symbols_of(tensors, marked)
    state = _state(mod)
    graph, out_spec, output_constants, mutations = _trace(mod, in_spec, leaves, positions, state)
    lifted_specs = _lift(graph, state, tensors)
    _name_values(graph, {graph.output.node.inputs[index].name for _, index, _ in mutations})
    user_specs = [InputSpec(InputKind.USER_INPUT, TensorArgument(leaf.graph_name) if p in positions
                            else ConstantArgument(leaf.graph_name, leaf.value), None) for p, leaf in enumerate(leaves)]
    signature = ExportGraphSignature(lifted_specs + user_specs,
                                     _output_specs(graph, out_spec, output_constants, mutations, lifted_specs))
    interpreter = Interpreter(graph)
    lifted = [state[s.target][0] for s in lifted_specs]
    symbols = _constraints.decide(symbols, tensors, lambda sizes: _runs(interpreter, lifted, tensors, sizes))
    call = CallPlan(in_spec, out_spec, output_constants, [leaf.source for leaf in leaves],
                    _constraints.guards(leaves, positions, symbols), sorted(positions), mutations)
    tensors_of = {target: tensor for target, (tensor, _, _) in state.items()}
    return ExportedProgram(graph, signature, tensors_of, _ranges(symbols), (args, kwargs), call,
                           {s.name: [list(slot) for slot in s.slots] for s in symbols})


exporting = [False]
"""Whether ``export`` is tracing a module now (``compiler.is_exporting``)."""


@contextlib.contextmanager
def _exporting():
    outer, exporting[0] = exporting[0], True
    try:
        yield
    finally:
        exporting[0] = outer


def _ranges(symbols):
    """range_constraints: each symbol's range, and that of each derived size of it (``n + 1: VR[3, 21]``)."""
    ranges = {}
    for symbol in symbols:
        for _, _, scale, offset in symbol.slots:
            upper = int_oo if symbol.upper == int_oo else scale * symbol.upper + offset
            ranges[_constraints.SymbolName(linear_name(symbol.name, scale, offset))] = _constraints.ValueRanges(
                scale * symbol.lower + offset, upper)
        ranges.setdefault(_constraints.SymbolName(symbol.name), _constraints.ValueRanges(symbol.lower, symbol.upper))
    return ranges


def _state(mod):
    """The module's tensors by target: parameters, then buffers (in ``named_buffers`` order), then tensor
    attributes, each as (tensor, kind, persistent); a tensor reachable by two paths keeps its first."""
    state, seen = {}, set()
    for target, parameter in mod.named_parameters():
        state[target] = (parameter, InputKind.PARAMETER, None)
        seen.add(id(parameter))
    for prefix, module in mod.named_modules():
        for name, buffer in module._buffers.items():
            if buffer is not None and id(buffer) not in seen:
                seen.add(id(buffer))
                state[f"{prefix}.{name}" if prefix else name] = (buffer, InputKind.BUFFER,
                                                                 name not in module._non_persistent_buffers_set)
    for prefix, module in mod.named_modules():
        for name, value in vars(module).items():
            if isinstance(value, Tensor) and id(value) not in seen:
                seen.add(id(value))
                state[f"{prefix}.{name}" if prefix else name] = (value, InputKind.CONSTANT_TENSOR, None)
    return state


@contextlib.contextmanager
def _restored(tensors):
    """Puts back the values of ``tensors`` afterwards: export leaves the module's buffers and the inputs as they were
    (a traced run in train mode updates batch norm's statistics)."""
    saved = [tensor.detach().clone() for tensor in tensors]
    try:
        yield
    finally:
        with no_grad():
            for tensor, value in zip(tensors, saved):
                tensor.copy_(value)


def _trace(mod, in_spec, leaves, positions, state):
    """The traced graph (returning its tensor outputs, then the new values of the tensors it writes into), the
    output's TreeSpec, its non-tensor leaves by position and the writes as (target or user input name, output
    index, whether it is a user input)."""
    graph = Graph()
    attributes = {id(tensor): (tensor, target) for target, (tensor, _, _) in state.items()}

    def call(*tensors):
        values = [leaf.value for leaf in leaves]
        for position, tensor in zip(positions, tensors):
            values[position] = tensor
        args, kwargs = in_spec.unflatten(values)
        return mod(*args, **kwargs)

    # each input its own tensor object, so an input passed twice is two graph inputs
    example = tuple(leaves[p].value.detach().requires_grad_(leaves[p].value.requires_grad) for p in positions)
    written = [tensor for tensor, kind, _ in state.values() if kind is not InputKind.PARAMETER] + list(example)
    with _restored(written), fork_rng(), warnings.catch_warnings(record=True) as caught, _exporting():
        warnings.simplefilter("always")
        output, tracer = run_traced(call, example, graph, attributes, list(mod.named_modules()))
    _refuse_conversions(caught)
    out_leaves, out_spec = _pytree.tree_flatten(output)
    outputs = [tracer.input(leaf) for leaf in out_leaves if isinstance(leaf, Tensor)]
    constants = {i: leaf for i, leaf in enumerate(out_leaves) if not isinstance(leaf, Tensor)}
    read = {node.value: node.outputs[0] for node in graph.nodes if node.kind == "prim::GetAttr"}
    originals = [(target, tensor, read.get(target), False) for target, (tensor, _, _) in state.items()]
    originals += [(leaves[p].graph_name, tensor, value, True)
                  for p, tensor, value in zip(positions, example, graph.inputs)]
    mutations = []
    for target, tensor, original, is_input in originals:
        if original is not None and tracer.known(tensor) and tracer.values[id(tensor)][1] is not original:
            mutations.append((target, len(outputs), is_input))
            outputs.append(tracer.values[id(tensor)][1])
    node = Node("prim::TupleConstruct", outputs)
    graph.output, = graph.add_node(node, [value_type(tuple(out_leaves))], ["output"])
    eliminate_dead_code(graph)
    return graph, out_spec, constants, mutations


def _refuse_conversions(caught):
    """Raises where the program's own code took a Python value out of a tensor computed from the inputs (the jit's
    tracer warns and keeps the value; an exported program must not): a ``bool`` as PyTorch's data-dependent guard
    error, a number as ``Unsupported``. Other warnings, those of conversions inside ember's own functions (checks
    of their arguments, as the jit's traces keep them) included, are issued again."""
    from .._dynamo.exc import Unsupported
    library = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    for warning in caught:
        text = str(warning.message)
        if issubclass(warning.category, TracerWarning) and text.startswith("Converting a tensor to") \
                and not os.path.abspath(warning.filename).startswith(library):
            kind = text[len("Converting a tensor to "):].split(" might")[0]
            if kind == "a Python boolean":
                raise GuardOnDataDependentSymNode(
                    "Could not guard on data-dependent expression: the program branches on a tensor's value "
                    "computed from the inputs (bool() of a tensor), which ember's export cannot record; compute "
                    "both branches with tensor ops (torch.where) instead")
            raise Unsupported(f"ember.export cannot record converting a tensor computed from the inputs to {kind} "
                              "(.item(), int(), float(), .tolist()): the program would keep the example's value; "
                              "keep the computation in tensor ops")
        warnings.warn_explicit(warning.message, warning.category, warning.filename, warning.lineno)


_PREFIX = {InputKind.PARAMETER: "p_", InputKind.BUFFER: "b_", InputKind.CONSTANT_TENSOR: "c_"}


def _lift(graph, state, tensors):
    """Turns each ``prim::GetAttr`` into a graph input named as PyTorch names it and puts every parameter and buffer
    (read or not) and every tensor attribute read ahead of the user inputs, which take their PyTorch names; returns
    the lifted inputs' specs."""
    read = {node.value: node.outputs[0] for node in graph.nodes if node.kind == "prim::GetAttr"}
    graph.nodes = [node for node in graph.nodes if node.kind != "prim::GetAttr"]
    for leaf, value in zip(tensors, graph.inputs):
        value.name = leaf.graph_name
    taken = {value.name for value in graph.inputs}   # user inputs keep their names; state takes a suffix
    inputs, specs = [], []
    for target, (tensor, kind, persistent) in state.items():
        if kind is InputKind.CONSTANT_TENSOR and target not in read:
            continue
        value = read.get(target) or graph.fresh(TensorType.of(tensor))
        value.node, value.name = None, _unique(_PREFIX[kind] + _placeholder_name(target), taken)
        inputs.append(value)
        specs.append(InputSpec(kind, TensorArgument(value.name), target, persistent))
    graph.inputs = inputs + graph.inputs
    return specs


def _placeholder_name(target):
    """PyTorch's name for the state at ``target``: a leading ``self_`` dropped, other characters than letters and
    digits as ``_``, lowercase (``self_attn.in_proj_weight`` -> ``attn_in_proj_weight``)."""
    name = target[len("self_"):] if target.startswith("self_") else target
    return re.sub(r"[^a-zA-Z0-9]", "_", name).lower()


def _unique(base, taken):
    """``base``, or ``base_1``, ``base_2``, ... whichever is free first; marks it taken."""
    name, k = base, 0
    while name in taken:
        k += 1
        name = f"{base}_{k}"
    taken.add(name)
    return name


def _output_specs(graph, out_spec, constants, mutations, lifted_specs):
    """User outputs (tensor values, and constants in their places), then one spec per write."""
    items = graph.output.node.inputs
    specs, tensor_index = [], 0
    for position in range(out_spec.num_leaves):
        if position in constants:
            specs.append(OutputSpec(OutputKind.USER_OUTPUT, ConstantArgument("", constants[position]), None))
        else:
            specs.append(OutputSpec(OutputKind.USER_OUTPUT, TensorArgument(items[tensor_index].name), None))
            tensor_index += 1
    kinds = {s.target: s.kind for s in lifted_specs}
    for target, index, is_input in mutations:
        kind = OutputKind.USER_INPUT_MUTATION if is_input else OutputKind.PARAMETER_MUTATION \
            if kinds[target] is InputKind.PARAMETER else OutputKind.BUFFER_MUTATION
        specs.append(OutputSpec(kind, TensorArgument(items[index].name), target))
    return specs


def _base_name(node, index):
    """PyTorch's name for a node's output: the op in snake case (a composite traced as its ops names the node making
    its result), ``getitem`` for the items of a tuple."""
    if node.unpack and node.kind.startswith(("aten::", "ember::")) and len(node.outputs) > 1:
        return "getitem"
    value = node.outputs[index]
    for region in regions_of(node):
        if region.outputs is value:
            return region.op
    op = node.kind.split("::", 1)[1]
    if node.kind == "aten::size":
        return "sym_size_int"
    return re.sub(r"(?<=[a-z0-9])(?=[A-Z])", "_", op).lower()


def _name_values(graph, written):
    """Names every value as PyTorch's exported graphs do: inputs as lifted, ops after themselves with ``_1``, ``_2``
    for repeats (a value ``written`` into a buffer or input after its in-place op: ``add_``), the returned tuple
    ``output``; constants and containers keep their numbers."""
    taken = {v.name for v in graph.inputs}
    for node in graph.nodes:
        for i, value in enumerate(node.outputs):
            if node is graph.output.node:
                base = "output"
            elif node.kind.startswith(("ember::", "aten::")):
                base = _base_name(node, i) + ("_" if value.name in written else "")
            else:
                base = value.name
            value.name = _unique(base, taken)
    graph._names = taken


def _resized(tensor, sizes):
    """``tensor`` with each dim in ``sizes`` cut or cycled to its new size (its values stay valid indices)."""
    for dim, size in sizes.items():
        tensor = tensor.index_select(dim, arange(size, device=tensor.device) % tensor.shape[dim])
    return tensor


def _runs(interpreter, lifted, tensors, sizes):
    """Whether the graph runs on inputs with the dims in ``sizes`` resized (on copies of the state, with the random
    streams restored): how a symbol's dynamism is probed."""
    inputs = [_resized(leaf.value, {d: n for (i, d), n in sizes.items() if i == k}) for k, leaf in enumerate(tensors)]
    try:
        with no_grad(), fork_rng(), warnings.catch_warnings():
            warnings.simplefilter("ignore")
            interpreter(None, [t.clone() for t in lifted] + inputs)
    except Exception:   # any failure means the program fixed this size
        return False
    return True
