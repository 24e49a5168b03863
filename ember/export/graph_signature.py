"""``torch.export.graph_signature``: what each input and output of an exported graph is — a parameter, a buffer, a
lifted tensor constant or a user input; a user output or a write into a buffer or input — with PyTorch's names."""
import dataclasses
import enum

__all__ = ["ConstantArgument", "ExportGraphSignature", "InputKind", "InputSpec", "OutputKind", "OutputSpec",
           "TensorArgument"]


class InputKind(enum.Enum):
    """What a graph input stands for."""

    USER_INPUT = 1
    PARAMETER = 2
    BUFFER = 3
    CONSTANT_TENSOR = 4
    CUSTOM_OBJ = 5
    TOKEN = 6


class OutputKind(enum.Enum):
    """What a graph output stands for."""

    USER_OUTPUT = 1
    LOSS_OUTPUT = 2
    BUFFER_MUTATION = 3
    PARAMETER_MUTATION = 4
    GRADIENT_TO_PARAMETER = 5
    GRADIENT_TO_USER_INPUT = 6
    USER_INPUT_MUTATION = 7
    TOKEN = 8


@dataclasses.dataclass
class TensorArgument:
    """A tensor of the graph, by its value's name."""

    name: str


@dataclasses.dataclass
class ConstantArgument:
    """A non-tensor input or output, specialized to its example value."""

    name: str
    value: object


@dataclasses.dataclass
class InputSpec:
    """One graph input: its kind, argument, the state it reads (``fc.weight``) and whether a buffer is persistent."""

    kind: InputKind
    arg: object
    target: object
    persistent: object = None

    def __str__(self):
        target = "" if self.target is None else f" target='{self.target}'"
        persistent = "" if self.persistent is None else f" persistent={self.persistent}"
        return f"{self.arg.name}: {self.kind.name}{target}{persistent}"


@dataclasses.dataclass
class OutputSpec:
    """One graph output: its kind, argument, and the buffer or input a mutation writes."""

    kind: OutputKind
    arg: object
    target: object

    def __str__(self):
        target = "" if self.target is None else f" target='{self.target}'"
        return f"{self.arg.name}: {self.kind.name}{target}"


@dataclasses.dataclass
class ExportGraphSignature:
    """The input and output specs of an exported graph, in the graph's order: parameters, buffers, constants, then
    user inputs; user outputs, then mutations."""

    input_specs: list
    output_specs: list

    def _inputs(self, kind):
        return [s for s in self.input_specs if s.kind is kind]

    def _outputs(self, kind):
        return {s.arg.name: s.target for s in self.output_specs if s.kind is kind}

    @property
    def parameters(self):
        """The targets of the parameter inputs."""
        return tuple(s.target for s in self._inputs(InputKind.PARAMETER))

    @property
    def buffers(self):
        """The targets of the buffer inputs."""
        return tuple(s.target for s in self._inputs(InputKind.BUFFER))

    @property
    def non_persistent_buffers(self):
        """The targets of the buffers a state_dict leaves out."""
        return tuple(s.target for s in self._inputs(InputKind.BUFFER) if s.persistent is False)

    @property
    def lifted_tensor_constants(self):
        """The targets of the tensor attributes lifted to inputs."""
        return tuple(s.target for s in self._inputs(InputKind.CONSTANT_TENSOR))

    @property
    def lifted_custom_objs(self):
        """Always empty: ember exports no script objects."""
        return ()

    @property
    def user_inputs(self):
        """The user inputs' names (a constant input's value)."""
        return tuple(s.arg.value if isinstance(s.arg, ConstantArgument) else s.arg.name
                     for s in self._inputs(InputKind.USER_INPUT))

    @property
    def user_outputs(self):
        """The user outputs' names (a constant output's value)."""
        return tuple(s.arg.value if isinstance(s.arg, ConstantArgument) else s.arg.name
                     for s in self.output_specs if s.kind is OutputKind.USER_OUTPUT)

    @property
    def inputs_to_parameters(self):
        """Input name -> parameter target."""
        return {s.arg.name: s.target for s in self._inputs(InputKind.PARAMETER)}

    @property
    def inputs_to_buffers(self):
        """Input name -> buffer target."""
        return {s.arg.name: s.target for s in self._inputs(InputKind.BUFFER)}

    @property
    def inputs_to_lifted_tensor_constants(self):
        """Input name -> constant target."""
        return {s.arg.name: s.target for s in self._inputs(InputKind.CONSTANT_TENSOR)}

    @property
    def inputs_to_lifted_custom_objs(self):
        """Always empty: ember exports no script objects."""
        return {}

    @property
    def buffers_to_mutate(self):
        """Output name -> the buffer it is written into."""
        return self._outputs(OutputKind.BUFFER_MUTATION)

    @property
    def parameters_to_mutate(self):
        """Output name -> the parameter it is written into."""
        return self._outputs(OutputKind.PARAMETER_MUTATION)

    @property
    def user_inputs_to_mutate(self):
        """Output name -> the user input it is written into."""
        return self._outputs(OutputKind.USER_INPUT_MUTATION)

    @property
    def backward_signature(self):
        """None: exported graphs hold no backward."""
        return None

    def __str__(self):
        inputs = "\n".join(str(s) for s in self.input_specs)
        outputs = "\n".join(str(s) for s in self.output_specs)
        return f"\n# inputs\n{inputs}\n\n# outputs\n{outputs}\n"
