"""``ExportedProgram``: an exported graph with its signature, the module's state, the range of each dynamic size and
the guards; ``module()`` gives back a callable module that runs it."""
import collections

from ..nn.modules.module import Module
from ..jit._interpreter import Interpreter
from .dynamic_shapes import linear_name
from .graph_signature import InputKind, TensorArgument

_SHORT_DTYPES = {"float32": "f32", "float64": "f64", "float16": "f16", "bfloat16": "bf16", "int64": "i64",
                 "int32": "i32", "int16": "i16", "int8": "i8", "uint8": "u8", "bool": "b8", "complex64": "c64",
                 "complex128": "c128"}

class CallPlan:
    """How a call maps to the graph and back: the inputs' and outputs' TreeSpecs, the outputs' non-tensor leaves by
    position, each input leaf's guard name, the guards, the positions of the tensor leaves, and the writes as
    (target or user input name, output index, whether it is a user input)."""

    def __init__(self, in_spec, out_spec, output_constants, sources, checks, tensor_positions, mutations):
        self.in_spec, self.out_spec, self.output_constants = in_spec, out_spec, dict(output_constants)
        self.sources, self.checks = list(sources), list(checks)
        self.tensor_positions, self.mutations = list(tensor_positions), [tuple(m) for m in mutations]


class GraphModule(Module):
    """The lifted graph as a module: ``forward`` takes every graph input (state, then user inputs) flat and returns
    the graph's outputs flat; ``graph``, ``code`` and ``print_readable`` show it."""

    def __init__(self, graph, interpreter=None):
        super().__init__()
        self.graph = graph
        self._interpreter = interpreter or Interpreter(graph)

    def forward(self, *inputs):
        """Runs the graph on its flat inputs."""
        return self._interpreter(None, inputs)

    @property
    def code(self):
        """The graph as Python-like source of ``forward``."""
        return self.graph.code()

    def print_readable(self, print_output=True, include_stride=False, include_device=False, colored=False,
                       shapes=None):
        """The graph as a class with its inputs' dtypes and shapes (``x: "f32[s0, 4]"``); printed unless
        ``print_output`` is False."""
        shapes = shapes or {}
        parameters = ", ".join(f'{v.name}: "{_annotation(v.type, shapes.get(v.name))}"' for v in self.graph.inputs)
        body = self.graph.code().splitlines()[1:]
        text = "\n".join([f"class {self._get_name()}(torch.nn.Module):", f"    def forward(self, {parameters}):"]
                         + [f"        {line[2:]}" for line in body]) + "\n"
        if print_output:
            print(text)
        return text

    def _get_name(self):
        return "GraphModule"


def _annotation(type, symbolic):
    if not hasattr(type, "shape"):
        return str(type)
    dims = [symbolic.get(i, size) if symbolic else size for i, size in enumerate(type.shape)]
    return f"{_SHORT_DTYPES.get(type.dtype.name, type.dtype.name)}[{', '.join(map(str, dims))}]"


class ExportedProgram:
    """A module traced by ``export``: ``graph``/``graph_module`` (state lifted to inputs), ``graph_signature``,
    ``state_dict``, ``constants``, ``range_constraints``, ``example_inputs``, and ``module()`` to run it."""

    def __init__(self, graph, graph_signature, state, range_constraints, example_inputs, call, symbols):
        self._graph_module = GraphModule(graph)
        self._graph_signature = graph_signature
        self._state = dict(state)
        self._range_constraints = dict(range_constraints)
        self._example_inputs = example_inputs
        self._call = call
        self._symbols = {name: [list(slot) for slot in slots] for name, slots in symbols.items()}

    @property
    def graph(self):
        """The lifted graph (ember's IR)."""
        return self._graph_module.graph

    @property
    def graph_module(self):
        """The lifted graph as a module taking every input flat."""
        return self._graph_module

    @property
    def graph_signature(self):
        """What each graph input and output is."""
        return self._graph_signature

    @property
    def state_dict(self):
        """Parameters and persistent buffers by target."""
        return {s.target: self._state[s.target] for s in self._graph_signature.input_specs
                if s.kind is InputKind.PARAMETER or s.kind is InputKind.BUFFER and s.persistent}

    @property
    def constants(self):
        """Non-persistent buffers and lifted tensor attributes by target."""
        return {s.target: self._state[s.target] for s in self._graph_signature.input_specs
                if s.kind is InputKind.CONSTANT_TENSOR or s.kind is InputKind.BUFFER and not s.persistent}

    tensor_constants = constants

    @property
    def range_constraints(self):
        """Each dynamic size's symbol -> its inclusive range."""
        return self._range_constraints

    @property
    def example_inputs(self):
        """The ``(args, kwargs)`` the program was exported with."""
        return self._example_inputs

    @property
    def call_spec(self):
        """The TreeSpecs of the inputs ``(args, kwargs)`` and of the output."""
        return collections.namedtuple("CallSpec", ["in_spec", "out_spec"])(self._call.in_spec, self._call.out_spec)

    @property
    def dialect(self):
        """The IR level: ember's ops, traced as the module ran (PyTorch's training IR)."""
        return "TRAINING"

    def named_parameters(self):
        """(target, parameter) pairs."""
        yield from ((s.target, self._state[s.target]) for s in self._graph_signature.input_specs
                    if s.kind is InputKind.PARAMETER)

    def parameters(self):
        """The parameters."""
        yield from (p for _, p in self.named_parameters())

    def named_buffers(self):
        """(target, buffer) pairs, non-persistent ones included."""
        yield from ((s.target, self._state[s.target]) for s in self._graph_signature.input_specs
                    if s.kind is InputKind.BUFFER)

    def buffers(self):
        """The buffers."""
        yield from (b for _, b in self.named_buffers())

    def module(self):
        """A new module running the graph on this program's parameters and buffers (shared, not copied), checking
        each call's inputs against the exported structure and shapes."""
        from ._unlift import unlift
        return unlift(self)

    def run_decompositions(self, decomp_table=None, decompose_custom_triton_ops=False):
        """The program at the level of ember's ops, which it already is: a new ExportedProgram with a copy of the
        same graph and the same state."""
        from ..jit._serialization import copy_graph
        return ExportedProgram(copy_graph(self.graph), self._graph_signature, self._state, self._range_constraints,
                               self._example_inputs, self._call, self._symbols)

    def _input_shapes(self):
        """Graph input name -> {dim: symbol} for the dynamic dims."""
        users = [s.arg.name for s in self._graph_signature.input_specs if s.kind is InputKind.USER_INPUT
                 and isinstance(s.arg, TensorArgument)]
        shapes = {}
        for symbol, slots in self._symbols.items():
            for index, dim, scale, offset in slots:
                shapes.setdefault(users[index], {})[dim] = linear_name(symbol, scale, offset)
        return shapes

    def __call__(self, *args, **kwargs):
        raise RuntimeError("Unable to call ExportedProgram directly. You should use `exported_program.module()` "
                           "instead.")

    def __str__(self):
        readable = self._graph_module.print_readable(False, shapes=self._input_shapes()).replace("\n", "\n    ")
        signature = str(self._graph_signature).replace("\n", "\n    ")
        ranges = "{" + ", ".join(f"{name}: {vr}" for name, vr in self._range_constraints.items()) + "}"
        return f"ExportedProgram:\n    {readable}\nGraph signature: {signature}\nRange constraints: {ranges}\n"
