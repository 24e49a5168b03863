"""``save``/``load`` of an ExportedProgram: one ``ember.save`` checkpoint (PyTorch's zip layout) holding the program
as JSON text (the graph in the jit's archive form, the signature, the call's TreeSpecs and guards, the ranges) and
its tensors. Loading uses the weights-only unpickler and JSON, so no archive runs code: the graph can only name ops
ember has (the interpreter resolves every node when the program is built) and its inputs must match the signature.
It is ember's own archive, not PyTorch's ``.pt2``."""
import io
import json
import os

from .._tensor import Tensor
from ..nn.parameter import Parameter
from ..serialization import load as _load
from ..serialization import save as _save
from ..utils import _pytree
from ..jit._serialization import _decode, _encode, _graph_from_json, _graph_to_json
from ._constraints import SymbolName, ValueRanges
from .dynamic_shapes import int_oo
from .exported_program import CallPlan, ExportedProgram
from .graph_signature import (ConstantArgument, ExportGraphSignature, InputKind, InputSpec, OutputKind, OutputSpec,
                              TensorArgument)

_FORMAT = "ember.export/1"
_CONTAINERS = {tuple: "tuple", list: "list", dict: "dict"}


def save(ep, f, *, extra_files=None, opset_version=None, pickle_protocol=2):
    """Writes ``ep`` to a path or a binary file."""
    if not isinstance(ep, ExportedProgram):
        raise TypeError(f"The 'ep' parameter must be an instance of 'ExportedProgram', got '{type(ep).__name__}' "
                        "instead.")
    constants, call = [], ep._call
    example_leaves, example_spec = _pytree.tree_flatten(ep.example_inputs)
    program = {
        "format": _FORMAT, "graph": _graph_to_json(ep.graph, constants),
        "inputs": [[s.kind.name, _argument(s.arg, constants), s.target, s.persistent]
                   for s in ep.graph_signature.input_specs],
        "outputs": [[s.kind.name, _argument(s.arg, constants), s.target] for s in ep.graph_signature.output_specs],
        "in_spec": _spec_to_json(call.in_spec), "out_spec": _spec_to_json(call.out_spec),
        "output_constants": [[p, _encode(v, constants)] for p, v in call.output_constants.items()],
        "sources": call.sources, "checks": [_encode(c, constants) for c in call.checks],
        "tensor_positions": call.tensor_positions, "mutations": call.mutations,
        "ranges": [[name, vr.lower, None if vr.upper == int_oo else vr.upper]
                   for name, vr in ep.range_constraints.items()],
        "symbols": ep._symbols, "example_spec": _spec_to_json(example_spec),
        "example_leaves": [_encode(leaf, constants) for leaf in example_leaves]}
    archive = {"program": json.dumps(program), "state": {t: v.detach() for t, v in ep._state.items()},
               "constants": constants,
               "extra_files": {name: content if isinstance(content, str) else bytes(content).decode("latin-1")
                               for name, content in (extra_files or {}).items()}}
    if isinstance(f, (str, os.PathLike)):
        _save(archive, f)
    else:
        buffer = io.BytesIO()
        _save(archive, buffer)
        f.write(buffer.getvalue())


def load(f, *, extra_files=None, expected_opset_version=None):
    """Reads an ExportedProgram written by ``save``; refuses anything else without running any of it."""
    try:
        archive = _load(f, weights_only=True)
    except Exception as error:
        raise RuntimeError(f"ember.export.load: not a loadable archive: {error}") from error
    if not isinstance(archive, dict) or not isinstance(archive.get("program"), str):
        raise RuntimeError("ember.export.load: the archive holds no exported program")
    program = json.loads(archive["program"])
    if program.get("format") != _FORMAT:
        raise RuntimeError(f"ember.export.load: unknown program format {program.get('format')!r}")
    constants, state = archive.get("constants", []), archive.get("state", {})
    if not all(isinstance(c, Tensor) for c in constants) or not all(isinstance(t, Tensor) for t in state.values()):
        raise RuntimeError("ember.export.load: constants and state must be tensors")
    graph = _graph_from_json(program["graph"], constants)
    inputs = [InputSpec(_kind(InputKind, kind), _argument_from(arg, constants), target, persistent)
              for kind, arg, target, persistent in program["inputs"]]
    outputs = [OutputSpec(_kind(OutputKind, kind), _argument_from(arg, constants), target)
               for kind, arg, target in program["outputs"]]
    _check_inputs(graph, inputs, state)
    tensors = {s.target: Parameter(state[s.target], requires_grad=state[s.target].dtype.is_floating_point)
               if s.kind is InputKind.PARAMETER else state[s.target] for s in inputs if s.target is not None}
    call = CallPlan(_spec_from_json(program["in_spec"]), _spec_from_json(program["out_spec"]),
                    {p: _decode(v, constants) for p, v in program["output_constants"]}, program["sources"],
                    [_decode(c, constants) for c in program["checks"]], program["tensor_positions"],
                    program["mutations"])
    ranges = {SymbolName(name): ValueRanges(low, int_oo if high is None else high)
              for name, low, high in program["ranges"]}
    example = _spec_from_json(program["example_spec"]).unflatten([_decode(v, constants)
                                                                   for v in program["example_leaves"]])
    if extra_files is not None:
        for name in extra_files:
            extra_files[name] = archive.get("extra_files", {}).get(name, "")
    return ExportedProgram(graph, ExportGraphSignature(inputs, outputs), tensors, ranges, example, call,
                           program["symbols"])


def _argument(arg, constants):
    if isinstance(arg, TensorArgument):
        return {"tensor": arg.name}
    return {"constant": arg.name, "value": _encode(arg.value, constants)}


def _argument_from(data, constants):
    if "tensor" in data:
        return TensorArgument(str(data["tensor"]))
    return ConstantArgument(str(data["constant"]), _decode(data["value"], constants))


def _kind(enum, name):
    if name not in enum.__members__:
        raise RuntimeError(f"ember.export.load: unknown {enum.__name__} {name!r}")
    return enum[name]


def _check_inputs(graph, inputs, state):
    """The graph's inputs must be the signature's tensor inputs in order, each lifted one backed by a tensor."""
    names = [s.arg.name for s in inputs if isinstance(s.arg, TensorArgument)]
    if names != [v.name for v in graph.inputs]:
        raise RuntimeError("ember.export.load: the graph's inputs do not match its signature")
    for spec in inputs:
        if spec.kind is not InputKind.USER_INPUT and spec.target not in state:
            raise RuntimeError(f"ember.export.load: the archive lacks the tensor {spec.target!r}")


def _spec_to_json(spec):
    if spec.is_leaf():
        return "*"
    if spec.type not in _CONTAINERS:
        raise RuntimeError(f"ember.export.save: cannot save inputs or outputs held in a {spec.type.__name__}; use "
                           "tuples, lists or dicts")
    return {"type": _CONTAINERS[spec.type], "context": spec.context,
            "children": [_spec_to_json(child) for child in spec.children_specs]}


def _spec_from_json(data):
    if data == "*":
        return _pytree.treespec_leaf()
    kinds = {name: kind for kind, name in _CONTAINERS.items()}
    if not isinstance(data, dict) or data.get("type") not in kinds:
        raise RuntimeError(f"ember.export.load: malformed tree spec {data!r}")
    return _pytree.TreeSpec(kinds[data["type"]], data["context"], [_spec_from_json(c) for c in data["children"]])
